"""Searching, filtering and paging lists of engineers: the one helper every lead
list uses (the release page's table, the skill matrix, the experts page, the
assign form).

The caller passes a queryset already narrowed to what the viewer may see
(training.selectors.access); this narrows it further and never widens it. The
search matches every word of `q` against the username, first name or last name,
case-insensitively and literally (`icontains` escapes `%` and `_` on SQLite and
PostgreSQL alike). Paging is by number; a number past the end shows the last page,
so a link kept from a longer list still lands somewhere.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Q, QuerySet

from training.models import Engineer

T = TypeVar("T")

SEARCH_MAX_LENGTH = 100
# At most this many words of a search are used: each is one more LIKE per field.
SEARCH_MAX_WORDS = 5
PAGE_SIZE = 50
# No list has this many pages; a larger number asks for the last page.
MAX_PAGE = 10**9


@dataclass(frozen=True, slots=True)
class EngineerFilter:
    """What a lead asked for: words to search, a team (id, already checked against
    the viewer's teams), a region and a tier; empty means "any"."""

    q: str = ""
    team_id: int | None = None
    region: str = ""
    tier: str = ""

    def __bool__(self) -> bool:
        return bool(self.q or self.team_id or self.region or self.tier)


def search_words(q: str) -> list[str]:
    return q.split()[:SEARCH_MAX_WORDS]


def engineers_matching(
    engineers: QuerySet[Engineer], wanted: EngineerFilter, *, prefix: str = ""
) -> QuerySet[Engineer]:
    """`engineers` narrowed to `wanted`. `prefix` names the engineer from another
    model (e.g. "engineer__" on skill records) so the same filter applies there."""
    conditions = Q()
    for word in search_words(wanted.q):
        conditions &= (
            Q(**{f"{prefix}user__username__icontains": word})
            | Q(**{f"{prefix}user__first_name__icontains": word})
            | Q(**{f"{prefix}user__last_name__icontains": word})
        )
    if wanted.team_id is not None:
        conditions &= Q(**{f"{prefix}team_id": wanted.team_id})
    if wanted.region:
        conditions &= Q(**{f"{prefix}region": wanted.region})
    if wanted.tier:
        conditions &= Q(**{f"{prefix}tier": wanted.tier})
    return engineers.filter(conditions) if conditions else engineers


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, its number (from 1), and the list's size."""

    items: Sequence[T]
    number: int
    per_page: int
    total: int

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        """1-based position of the first item (0 on an empty list)."""
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.items)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


def clamp_page(number: int, *, per_page: int, total: int) -> int:
    """`number` within 1 … the last page of `total` items."""
    last = max(1, -(-total // per_page))
    return min(max(1, number), last)


def paginate(
    items: QuerySet[Any, Any] | Sequence[Any], *, number: int, per_page: int = PAGE_SIZE
) -> Page[Any]:
    """Page `number` of `items` (a queryset: a COUNT, then one slice of the rows;
    a list: sliced as it is). Past the end: the last page."""
    per_page = max(1, min(per_page, 500))
    total = items.count() if isinstance(items, QuerySet) else len(items)
    number = clamp_page(number, per_page=per_page, total=total)
    offset = (number - 1) * per_page
    window = list(items[offset : offset + per_page]) if total else []
    return Page(items=window, number=number, per_page=per_page, total=total)

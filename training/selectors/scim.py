"""What SCIM lists and reads: provisioned engineers as Users, teams as Groups,
joined for the page that shows them (one query per page, whatever its size)."""

from typing import Any, TypeVar

from django.db.models import Model, Prefetch, QuerySet

from training.models import Engineer, Team

M = TypeVar("M", bound=Model)


def scim_engineers() -> QuerySet[Engineer]:
    """Engineers an identity provider sees: every one not deprovisioned, oldest first
    (a stable order for startIndex paging)."""
    return (
        Engineer.objects.filter(deprovisioned_at=None)
        .select_related("user", "team")
        .order_by("user_id")
    )


def scim_teams() -> QuerySet[Team]:
    members = Engineer.objects.filter(deprovisioned_at=None).select_related("user")
    return Team.objects.prefetch_related(
        Prefetch("engineers", queryset=members.order_by("user_id"), to_attr="scim_members")
    ).order_by("pk")


def scim_page(queryset: QuerySet[M], *, offset: int, limit: int) -> tuple[int, list[M]]:
    """How many rows `queryset` has, and `limit` of them from `offset` on, in its order.

    An identity provider reads every user page by page (startIndex, count), deep
    into the list. The page's keys come first, from the list's own table alone;
    then only those rows are read with their joins. OFFSET over the joined query
    joined every skipped row to its user and team: a page near the end of 118,000
    users took 180 ms, most of it joining rows it then skipped (bench/findings.md).
    """
    total = queryset.count()
    if not limit or offset >= total:
        return total, []
    if offset == 0:  # nothing to skip (and a filter's lookup, one row): one query
        return total, list(queryset[:limit])
    keys: list[Any] = [
        key
        for key, *_ in queryset.values_list("pk", *_order_columns(queryset))[
            offset : offset + limit
        ]
    ]
    rows = {row.pk: row for row in queryset.filter(pk__in=keys)}
    return total, [rows[key] for key in keys if key in rows]


def _order_columns(queryset: QuerySet) -> list[str]:
    # A DISTINCT query (a filter across a join) must select what it orders by.
    if not queryset.query.distinct:
        return []
    return [field.lstrip("-") for field in queryset.query.order_by if isinstance(field, str)]

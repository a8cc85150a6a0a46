"""Reading playbooks: search (ranked, with highlights), one playbook, and the
playbooks a release's features touch.

Search has three paths, chosen by the database and the query:

- PostgreSQL, a query without Chinese characters: full-text search with the
  `english` configuration over `search_vector` (title weighted A, body B; kept by a
  trigger, GIN-indexed — migration 0006), ranked by `ts_rank`, highlighted by
  `ts_headline`.
- PostgreSQL, a query with Chinese characters: the English parser keeps a run of
  Chinese characters as one word, and pg_trgm's trigrams cannot serve a query of
  two characters, so the trigger also indexes every two-character sequence of
  Chinese ("推送"); the query's bigrams must all be there (the index), and each word
  of the query must occur in the title or body as written (`LIKE '%…%'`, or `ILIKE`
  for a word with letters, e.g. "iOS", served by `gin_trgm_ops` indexes). Ranked: a
  title match above a body match, then pg_trgm's word similarity of the query to
  the title. A single Chinese character is matched by the scan alone.
- SQLite (development): the same substring match with `icontains`, title first.
"""

import html
import re
from dataclasses import dataclass

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramWordSimilarity,
)
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    F,
    FloatField,
    Func,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext

from core.errors import NotFound
from courses.models import Feature, Playbook, PlaybookStaleMark, Scenario
from courses.playbooks import cjk_bigrams, has_cjk, query_terms, snippet

# ts_headline's markers: control characters, which a playbook never contains (the
# document validator refuses them), so after HTML-escaping the headline they are
# the only places a <mark> may go.
_START, _STOP = "\x02", "\x03"


class _ILike(Func):
    """`expression ILIKE pattern`: unlike Django's icontains (UPPER(x) LIKE UPPER(y)),
    this form is what a `gin_trgm_ops` index on the bare column serves."""

    arg_joiner = " ILIKE "
    template = "(%(expressions)s)"
    output_field = BooleanField()


class _Like(_ILike):
    """`expression LIKE pattern`: for a word without case (Chinese), several times
    faster than ILIKE, which folds the case of every character it compares."""

    arg_joiner = " LIKE "


def _matches(column: str, term: str) -> _ILike:
    kind = _Like if term.lower() == term.upper() else _ILike
    return kind(F(column), Value(_contains_pattern(term)))


def _contains_pattern(term: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"


@dataclass(frozen=True)
class PlaybookSearch:
    q: str = ""
    scenario: str = ""
    sdk: str = ""

    @property
    def terms(self) -> list[str]:
        return query_terms(self.q)

    @property
    def full_text(self) -> bool:
        return bool(self.q) and connection.vendor == "postgresql" and not has_cjk(self.q)


def _playbooks() -> QuerySet[Playbook]:
    """Playbooks with what a search result or the API body shows, in a fixed number
    of queries."""
    # Never the search vector itself: it is several times the body's size, and a
    # ranked search would carry it through the sort for nothing.
    return (
        Playbook.objects.select_related("owner")
        .prefetch_related("scenarios", "sdks", "skills", "features__release__sdk")
        .defer("search_vector")
    )


def _results() -> QuerySet[Playbook]:
    """What a search result shows (no body's links beyond scenarios and SDKs): two
    prefetches, not five — on a page of 20 they cost more than the search itself."""
    return (
        Playbook.objects.select_related("owner")
        .prefetch_related("scenarios", "sdks")
        .defer("search_vector")
    )


def playbook_search(search: PlaybookSearch) -> QuerySet[Playbook]:
    """Playbooks matching the search, best first, each annotated with `rank`.

    `search.scenario` must be a Scenario value (or empty); `search.q` is matched as
    the module's docstring says. On the full-text path each row also carries
    `headline` (see `playbook_highlight`).
    """
    playbooks = _results()
    if search.scenario:
        playbooks = playbooks.filter(scenarios__scenario=Scenario(search.scenario))
    if search.sdk:
        playbooks = playbooks.filter(sdks__slug=search.sdk)
    if not search.q.strip():
        return playbooks.annotate(rank=Value(0.0, output_field=FloatField())).order_by(
            "title", "slug"
        )
    if search.full_text:
        query = SearchQuery(search.q, search_type="websearch", config="english")
        return (
            playbooks.filter(search_vector=query)
            .annotate(
                rank=SearchRank(F("search_vector"), query),
                headline=SearchHeadline(
                    "body",
                    query,
                    config="english",
                    start_sel=_START,
                    stop_sel=_STOP,
                    max_words=30,
                    min_words=12,
                ),
            )
            .order_by("-rank", "slug")
        )
    terms = search.terms
    in_title: Q | _ILike
    similarity: TrigramWordSimilarity | Value
    if connection.vendor == "postgresql":
        bigrams = cjk_bigrams(search.q)
        if bigrams:
            # The index's part: every bigram, anywhere. The LIKEs below then check
            # that each word occurs as written.
            query = SearchQuery(" & ".join(bigrams), search_type="raw", config="simple")
            playbooks = playbooks.filter(search_vector=query)
        for term in terms:
            playbooks = playbooks.filter(Q(_matches("title", term)) | Q(_matches("body", term)))
        in_title = _matches("title", terms[0])
        similarity = TrigramWordSimilarity(search.q, "title")
    else:
        for term in terms:
            playbooks = playbooks.filter(Q(title__icontains=term) | Q(body__icontains=term))
        in_title = Q(title__icontains=terms[0])
        similarity = Value(0.0, output_field=FloatField())
    return playbooks.annotate(
        rank=Case(When(in_title, then=Value(1.0)), default=Value(0.5), output_field=FloatField())
        + similarity * Value(0.1)
    ).order_by("-rank", "slug")


def playbook_highlight(playbook: Playbook, search: PlaybookSearch) -> str:
    """The piece of the playbook's body that matched, HTML-escaped, with the matched
    words in <mark>: safe to mark safe."""
    headline = getattr(playbook, "headline", None)
    if headline is None:
        return snippet(playbook.body, search.terms)
    out, open_mark = [], False
    for part in re.split(f"([{_START}{_STOP}])", headline):
        if part == _START and not open_mark:
            out.append("<mark>")
            open_mark = True
        elif part == _STOP and open_mark:
            out.append("</mark>")
            open_mark = False
        elif part not in (_START, _STOP):
            out.append(html.escape(" ".join(part.split(" "))))
    if open_mark:
        out.append("</mark>")
    return "".join(out)


def playbook_get(*, slug: str) -> Playbook:
    """One playbook with its links and its stale marks (their releases too)."""
    marks = Prefetch(
        "stale_marks", queryset=PlaybookStaleMark.objects.select_related("release__sdk")
    )
    playbook = _playbooks().prefetch_related(marks).filter(slug=slug).first()
    if playbook is None:
        raise NotFound(gettext("No playbook '%(slug)s'.") % {"slug": slug})
    return playbook


def playbooks_for_release(*, release_id: int) -> QuerySet[Playbook]:
    """The playbooks a release's course should point to: those linked to one of its
    features (by the feature's key in the same SDK, whichever release the playbook
    named) or to a skill one of its features trains."""
    features = Feature.objects.filter(release_id=release_id)
    sdk_ids = features.values("release__sdk_id")[:1]
    return (
        Playbook.objects.filter(
            Q(features__release__sdk_id__in=sdk_ids, features__key__in=features.values("key"))
            | Q(skills__features__release_id=release_id)
        )
        .distinct()
        .only("slug", "title", "language")
        .order_by("title", "slug")
    )

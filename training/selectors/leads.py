"""Reads for the lead pages: whose teams, which releases, who is behind.

A lead sees their own teams only (staff: every team): training.selectors.access
decides, and these reads take its LeadScope. Every read here costs a
constant number of queries whatever the number of engineers: per-engineer figures
are aggregates joined in one SELECT, per-region figures one GROUP BY per
release. Releases not yet with customers are few, so one or two queries per
release is the price of the lead home, never one per engineer.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from courses.models import Course, Release
from courses.versions import InvalidVersion, Version
from training.models import (
    Assignment,
    Attempt,
    AuditEvent,
    Engineer,
    LessonProgress,
    Region,
)
from training.models.people import display_name
from training.readiness.counts import Counts, count_by_region
from training.selectors import progress_percent, raw_datetime
from training.selectors.access import LeadScope
from training.selectors.attempt_limits import with_attempt_figures
from training.selectors.engineer_search import (
    MAX_PAGE,
    PAGE_SIZE,
    EngineerFilter,
    Page,
    clamp_page,
    engineers_matching,
)

# A release is at risk when it is not ready and this little time is left.


class EngineerStatus:
    """An engineer's standing on one release (their mandatory release training)."""

    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    EXEMPT = "exempt"
    OVERDUE = "overdue"
    # Every attempt the quiz (and any grant) allows used without a pass: only a
    # lead's grant lets them go on. Shown before overdue: it needs the lead.
    LOCKED_OUT = "locked_out"

    CHOICES = [
        (LOCKED_OUT, pgettext_lazy("assignment status", "Locked out")),
        (OVERDUE, pgettext_lazy("assignment status", "Overdue")),
        (ASSIGNED, pgettext_lazy("assignment status", "Assigned")),
        (IN_PROGRESS, pgettext_lazy("assignment status", "In progress")),
        (COMPLETE, pgettext_lazy("assignment status", "Complete")),
        (EXEMPT, pgettext_lazy("assignment status", "Exempt")),
        (UNASSIGNED, pgettext_lazy("assignment status", "Not assigned yet")),
    ]
    LABELS = dict(CHOICES)
    # Overdue first, then whoever has most left to do, the finished last.
    RANK = {
        LOCKED_OUT: -1,
        OVERDUE: 0,
        UNASSIGNED: 1,
        ASSIGNED: 2,
        IN_PROGRESS: 3,
        COMPLETE: 4,
        EXEMPT: 5,
    }
    # The states a locked-out engineer would otherwise show.
    OPEN = (OVERDUE, ASSIGNED, IN_PROGRESS)


# --- who leads what ----------------------------------------------------------------


def _my_releases(scope: LeadScope) -> QuerySet[Release]:
    return scope.releases()


def lead_releases_open(*, scope: LeadScope) -> QuerySet[Release]:
    """Releases of my teams' SDKs that are published but not yet with customers,
    the soonest customer date first."""
    return (
        _my_releases(scope)
        .filter(status=Release.Status.PUBLISHED)
        .order_by("customer_available_at", "sdk__slug", "-sort_key")
    )


def lead_release_get(
    *, scope: LeadScope, sdk: str, version: str, drafts: bool = False
) -> Release | None:
    """One release of my teams' SDKs by SDK slug and version (a leading `v` and
    other spellings of the same version are accepted), or None — also for a draft
    unless `drafts` (only the release page shows one; no action applies to it)."""
    try:
        normalised = str(Version.parse(version))
    except InvalidVersion:
        return None
    releases = _my_releases(scope)
    if not drafts:
        releases = releases.exclude(status=Release.Status.DRAFT)
    return releases.filter(sdk__slug=sdk, version=normalised).first()


# --- readiness of my teams ------------------------------------------------------------


def release_team_regions(
    *, release: Release, team_ids: list[int], now: datetime | None = None
) -> dict[str, dict[str, int]]:
    """Readiness per region counting only the engineers of `team_ids`, by the same
    per-engineer fold as `release_readiness` (so the figures mean the same thing):
    {region: {required, complete, overdue, percent}} in follow-the-sun order, where
    `complete` includes the exempt. One query."""
    if not team_ids:
        return {}
    counts, _ = count_by_region(release, now=now or timezone.now(), team_ids=team_ids)
    return region_figures(counts)


def region_figures(counts: Counts) -> dict[str, dict[str, int]]:
    """Counts per region as the lead pages chart them: {region: {required, complete,
    overdue, percent}} in follow-the-sun order, `complete` including the exempt. For
    someone who sees every team, the whole release's counts are theirs: no query."""
    regions = {}
    for region in Region.values:
        if region not in counts:
            continue
        required, overdue = counts[region]["required"], counts[region]["overdue"]
        complete = counts[region]["complete"] + counts[region]["exempt"]
        regions[region] = {
            "required": required,
            "complete": complete,
            "overdue": overdue,
            "percent": progress_percent(complete, required),
        }
    return regions


def regions_outside(readiness: Mapping[str, Any], team_regions: Mapping[str, Any]) -> list[str]:
    """Regions with engineers in the release's scope but none of them on my teams, in
    follow-the-sun order: the whole-release figures (overall, blocking) count them,
    my teams' chart does not. Read off figures already counted: no query."""
    whole = readiness.get("regions", {})
    return [
        region
        for region in Region.values
        if whole.get(region, {}).get("required") and region not in team_regions
    ]


# --- engineers on a release ----------------------------------------------------------


def release_steps_total(*, release: Release) -> int:
    """Steps of the release's training: every lesson of its courses, and each quiz."""
    totals = Course.objects.filter(release=release).aggregate(
        lessons=Count("lessons", distinct=True), quizzes=Count("quiz", distinct=True)
    )
    return (totals["lessons"] or 0) + (totals["quizzes"] or 0)


@dataclass(frozen=True, slots=True)
class EngineerRow:
    """One engineer's line in the lead release page's table."""

    username: str
    name: str
    team: str
    region: str
    status: str
    steps_done: int
    steps_total: int
    percent: int
    attempts: int
    due_at: datetime | None
    last_activity: datetime | None
    assignment_id: int | None = None
    """The assignment a lead's row actions act on: the locked-out one if any, else
    the first open one; None when nothing is open."""

    @property
    def status_label(self) -> str:
        return str(EngineerStatus.LABELS[self.status])


def release_engineer_rows(
    *,
    release: Release,
    team_ids: list[int],
    steps_total: int,
    region: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
    wanted: EngineerFilter | None = None,
) -> list[EngineerRow]:
    """The in-scope engineers of `team_ids` (active, on a team that supports the
    release's SDK) with their standing on the release, in one query.

    Each row has the engineer's status (an EngineerStatus value, as readiness
    counts it: complete when every mandatory release assignment is done, exempt
    when all are exempt, overdue when one is open past due), the earliest due time,
    the steps done (lessons read + quizzes passed in the release's courses, out of
    `steps_total`; the finished show all of them), the quiz attempts, and the last
    activity (the latest read, attempt or start). Overdue first (most overdue
    first), then the least advanced; filtered by `region` and `status` if given.

    The release's assignments are one filtered LEFT JOIN folded by GROUP BY (so
    the status, its filter and its sort reuse the aggregates); the lessons read and
    the attempts one aggregate each per engineer (`_join_per_engineer`). Those were
    five correlated subqueries (a count and a latest time of each, the passed
    quizzes), most of the query's time at 500 engineers. Rows come back as tuples,
    not model instances: the page shows a few columns of each engineer.
    """
    rows, _ = _release_rows(
        release=release,
        team_ids=team_ids,
        steps_total=steps_total,
        region=region,
        status=status,
        now=now,
        wanted=wanted,
    )
    return rows


def release_engineer_page(
    *,
    release: Release,
    team_ids: list[int],
    steps_total: int,
    status: str | None = None,
    wanted: EngineerFilter | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    now: datetime | None = None,
) -> Page[EngineerRow]:
    """Page `page` of `release_engineer_rows` (searched and filtered by `wanted`):
    one query, the total counted alongside the rows by a window function. A page
    past the end costs two more (the total, then the last page)."""
    rows_of = partial(
        _release_rows,
        release=release,
        team_ids=team_ids,
        steps_total=steps_total,
        status=status,
        now=now or timezone.now(),
        wanted=wanted,
    )
    # Past any real end, and kept where OFFSET fits a 64-bit integer.
    number = min(max(1, page), MAX_PAGE)
    rows, total = rows_of(limit=per_page, offset=(number - 1) * per_page)
    if not rows and number > 1:
        _, total = rows_of(limit=1, offset=0)
        number = clamp_page(number, per_page=per_page, total=total)
        rows, total = rows_of(limit=per_page, offset=(number - 1) * per_page)
    return Page(items=rows, number=number, per_page=per_page, total=total)


def _release_rows(
    *,
    release: Release,
    team_ids: list[int],
    steps_total: int,
    region: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
    wanted: EngineerFilter | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[list[EngineerRow], int]:
    """The rows (a window of them when `limit` is given) and how many there are
    in all."""
    now = now or timezone.now()
    scope = Engineer.objects.filter(active=True, team__sdks=release.sdk_id, team_id__in=team_ids)
    if region:
        scope = scope.filter(region=region)
    if wanted:
        scope = engineers_matching(scope, wanted)
    done = Q(mine__status__in=Assignment.DONE)
    # (condition, state), first match wins. The rank is written over the same
    # conditions rather than over `state`: a CASE on `state` would repeat the whole
    # state CASE once per branch in the SQL (six copies to compile and evaluate).
    standing = [
        (Q(n=0), EngineerStatus.UNASSIGNED),
        (Q(n_exempt=F("n")), EngineerStatus.EXEMPT),
        (Q(n_done=F("n")), EngineerStatus.COMPLETE),
        (Q(n_overdue__gt=0), EngineerStatus.OVERDUE),
        # Opening a lesson starts the assignment, so a started one is in progress.
        (Q(n_started__gt=0) | Q(n_done__gt=0), EngineerStatus.IN_PROGRESS),
    ]
    engineers = (
        scope.annotate(
            mine=FilteredRelation(
                "assignments",
                condition=Q(
                    assignments__release_id=release.pk,
                    assignments__reason=Assignment.Reason.RELEASE,
                    assignments__mandatory=True,
                ),
            )
        )
        .values(
            "id",
            "region",
            username=F("user__username"),
            first_name=F("user__first_name"),
            last_name=F("user__last_name"),
            team_name=F("team__name"),
        )
        .annotate(
            n=Count("mine"),
            n_done=Count("mine", filter=done),
            n_exempt=Count("mine", filter=Q(mine__status=Assignment.Status.EXEMPT)),
            n_overdue=Count("mine", filter=~done & Q(mine__due_at__lt=now)),
            n_started=Count("mine", filter=Q(mine__status=Assignment.Status.IN_PROGRESS)),
            due_at=Min("mine__due_at"),
            last_started_at=Max("mine__started_at"),
            open_id=Min("mine__id", filter=~done),
        )
        .annotate(
            state=Case(
                *[When(condition, then=Value(value)) for condition, value in standing],
                default=Value(EngineerStatus.ASSIGNED),
            ),
            rank=Case(
                *[
                    When(condition, then=Value(EngineerStatus.RANK[value]))
                    for condition, value in standing
                ],
                default=Value(EngineerStatus.RANK[EngineerStatus.ASSIGNED]),
                output_field=IntegerField(),
            ),
        )
        .order_by()
    )
    reads = (
        LessonProgress.objects.filter(lesson__course__release_id=release.pk)
        .values("engineer_id")
        .annotate(n=Count("lesson_id", distinct=True), last_at=Max("read_at"))
        .order_by()
    )
    attempts = (
        Attempt.objects.filter(quiz__course__release_id=release.pk)
        .values("engineer_id")
        .annotate(
            n=Count("pk"),
            n_passed=Count("quiz_id", distinct=True, filter=Q(passed=True)),
            last_at=Max(Coalesce("submitted_at", "started_at")),
        )
        .order_by()
    )
    locked = (
        with_attempt_figures(
            Assignment.objects.filter(
                release_id=release.pk, reason=Assignment.Reason.RELEASE, mandatory=True
            )
        )
        .filter(locked_out=True)
        .values("engineer_id")
        .annotate(n=Count("pk"), first_id=Min("pk"))
        .order_by()
    )
    engineers_sql, engineers_params = engineers.query.sql_with_params()
    reads_join, reads_params = _join_per_engineer(reads, "r", scope=scope)
    attempts_join, attempts_params = _join_per_engineer(attempts, "a", scope=scope)
    locked_join, locked_params = _join_per_engineer(locked, "l", scope=scope)
    # Locked out overrides the open states only (never complete, exempt or
    # unassigned); written once here and used for the column, the filter and the sort.
    open_states = ", ".join(["%s"] * len(EngineerStatus.OPEN))
    is_locked = f"(e.state IN ({open_states}) AND COALESCE(l.n, 0) > 0)"
    state_sql = f"CASE WHEN {is_locked} THEN %s ELSE e.state END"
    rank_sql = f"CASE WHEN {is_locked} THEN %s ELSE e.rank END"
    state_params = (*EngineerStatus.OPEN, EngineerStatus.LOCKED_OUT)
    rank_params = (*EngineerStatus.OPEN, EngineerStatus.RANK[EngineerStatus.LOCKED_OUT])
    where_sql, where_params = (
        (f"WHERE {state_sql} = %s", (*state_params, status)) if status else ("", ())
    )
    # The window's total rides along on every row: one query for a page and its count.
    window_sql, window_params = ("LIMIT %s OFFSET %s", (limit, offset)) if limit else ("", ())
    sql = f"""
        SELECT e.username, e.first_name, e.last_name, e.team_name, e.region, {state_sql},
               COALESCE(r.n, 0) + COALESCE(a.n_passed, 0) AS steps_done,
               COALESCE(a.n, 0), e.due_at, COALESCE(l.first_id, e.open_id),
               COUNT(*) OVER (),
               r.last_at, a.last_at, e.last_started_at
        FROM ({engineers_sql}) e
        {reads_join}
        {attempts_join}
        {locked_join}
        {where_sql}
        ORDER BY {rank_sql}, e.due_at ASC NULLS LAST, steps_done, e.username
        {window_sql}
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            (
                *state_params,
                *engineers_params,
                *reads_params,
                *attempts_params,
                *locked_params,
                *where_params,
                *rank_params,
                *window_params,
            ),
        )
        fetched = cursor.fetchall()
    finished = (EngineerStatus.COMPLETE, EngineerStatus.EXEMPT)
    rows = []
    # COUNT(*) OVER () is the same on every row: the matching rows before LIMIT.
    total = fetched[0][10] if fetched else 0
    for (
        username,
        first_name,
        last_name,
        team,
        engineer_region,
        state,
        steps_done,
        attempt_count,
        due_at,
        assignment_id,
        _total,
        *activity,
    ) in fetched:
        if state in finished:
            steps_done, percent = steps_total, 100
        else:
            steps_done = min(steps_done, steps_total)
            percent = progress_percent(steps_done, steps_total)
        moments = [raw_datetime(at) for at in activity if at is not None]
        rows.append(
            EngineerRow(
                username=username,
                name=display_name(first_name, last_name, username),
                team=team,
                region=engineer_region,
                status=state,
                steps_done=steps_done,
                steps_total=steps_total,
                percent=percent,
                attempts=attempt_count,
                due_at=raw_datetime(due_at),
                last_activity=max(moments, default=None),
                assignment_id=assignment_id,
            )
        )
    return rows, total


def _join_per_engineer(activity: QuerySet, alias: str, *, scope: QuerySet) -> tuple[str, tuple]:
    """SQL joining `activity` (one row per engineer_id) onto the engineers `e` as
    `alias`, and its parameters.

    On PostgreSQL, a LATERAL subquery: run once per engineer on the (engineer, …)
    indexes, so it costs what the team's size says whatever the whole release's
    activity. A grouped subquery joined on the engineer would aggregate first, and
    at tens of thousands of engineers on the release the planner reads all their
    activity to keep a few hundred rows (4 to 5 times slower than the correlated
    subqueries this replaced). SQLite has no LATERAL: there, the grouped subquery
    of the engineers in scope.
    """
    if connection.vendor == "postgresql":
        sql, params = activity.filter(engineer_id=RawSQL("e.id", ())).query.sql_with_params()
        return f"LEFT JOIN LATERAL ({sql}) {alias} ON true", params
    sql, params = activity.filter(engineer__in=scope.values("pk")).query.sql_with_params()
    return f"LEFT JOIN ({sql}) {alias} ON {alias}.engineer_id = e.id", params


# --- overrides and lead-made assignments ---------------------------------------------


def release_overrides(*, release: Release) -> QuerySet[AuditEvent]:
    """The gate overrides of a release, newest first, with who made them."""
    return (
        AuditEvent.objects.filter(release=release, kind=AuditEvent.Kind.RELEASE_OVERRIDE)
        .select_related("actor", "token")
        .order_by("-created_at", "-id")
    )


def lead_assignments_open(*, scope: LeadScope) -> QuerySet[Assignment]:
    """Open assignments that a lead made for engineers of my teams (the ones a lead
    may cancel), the newest first; the page pages them."""
    return (
        Assignment.objects.filter(
            engineer__team_id__in=scope.team_ids, reason=Assignment.Reason.LEAD
        )
        .exclude(status__in=Assignment.DONE)
        .select_related("engineer__user", "engineer__team", "course", "assigned_by")
        .order_by("-assigned_at", "-id")
    )


def team_engineer_ids(*, team_ids: list[int]) -> list[int]:
    """The active engineers of these teams."""
    if not team_ids:
        return []
    return list(
        Engineer.objects.filter(team_id__in=team_ids, active=True).values_list("id", flat=True)
    )


def assign_candidates(*, scope: LeadScope, wanted: EngineerFilter) -> QuerySet[Engineer]:
    """The active engineers I may assign training to (training.selectors.access:
    my teams; everyone for those who see everything) that match `wanted`, by
    team and name: the assign form's search, and what "everyone matching this
    search" means when the form is posted (re-read here, never trusted from the
    page)."""
    return engineers_matching(scope.engineers().filter(active=True), wanted).order_by(
        "team__name", "user__first_name", "user__last_name", "user__username"
    )

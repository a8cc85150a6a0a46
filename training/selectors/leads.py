"""Reads for the lead pages: whose teams, which releases, who is behind.

A lead sees their own teams only (staff: every team). Every read here costs a
constant number of queries whatever the number of engineers: per-engineer figures
are correlated subqueries in one SELECT, per-region figures one GROUP BY per
release. Releases not yet with customers are few, so one or two queries per
release is the price of the lead home, never one per engineer.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy

from courses.models import Course, Release, Sdk
from courses.versions import InvalidVersion, Version
from training.models import (
    Assignment,
    Attempt,
    AuditEvent,
    Engineer,
    LessonProgress,
    Region,
    Team,
)
from training.selectors.readiness import counts_by_region
from training.services.progress import progress_percent

# A release is at risk when it is not ready and this little time is left.
AT_RISK_WINDOW = timedelta(hours=24)


class EngineerStatus:
    """An engineer's standing on one release (their mandatory release training)."""

    UNASSIGNED = "unassigned"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    EXEMPT = "exempt"
    OVERDUE = "overdue"

    CHOICES = [
        (OVERDUE, pgettext_lazy("assignment status", "Overdue")),
        (ASSIGNED, pgettext_lazy("assignment status", "Assigned")),
        (IN_PROGRESS, pgettext_lazy("assignment status", "In progress")),
        (COMPLETE, pgettext_lazy("assignment status", "Complete")),
        (EXEMPT, pgettext_lazy("assignment status", "Exempt")),
        (UNASSIGNED, pgettext_lazy("assignment status", "Not assigned yet")),
    ]
    LABELS = dict(CHOICES)
    # Overdue first, then whoever has most left to do, the finished last.
    RANK = {OVERDUE: 0, UNASSIGNED: 1, ASSIGNED: 2, IN_PROGRESS: 3, COMPLETE: 4, EXEMPT: 5}


# --- who leads what ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeadScope:
    """What a signed-in lead (or staff member) may see: their teams, and the time
    zone the pages use (the lead's own when they are also an engineer, else UTC)."""

    user: object
    teams: tuple[Team, ...]
    staff: bool
    timezone_name: str | None
    """The lead's engineer profile's time zone; None when they have no profile."""

    @property
    def team_ids(self) -> list[int]:
        return [team.pk for team in self.teams]

    @property
    def is_engineer(self) -> bool:
        return self.timezone_name is not None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone_name or "UTC")


def lead_teams(*, user) -> QuerySet[Team]:
    """The teams `user` leads; staff: every team."""
    if user.is_staff:
        return Team.objects.order_by("name", "slug")
    return Team.objects.filter(leads=user).order_by("name", "slug")


def lead_scope(*, user) -> LeadScope | None:
    """The lead's scope, or None for someone who leads nothing and is not staff (the
    pages answer them 404). Two queries."""
    if not getattr(user, "is_authenticated", False):
        return None
    teams = tuple(lead_teams(user=user))
    if not teams and not user.is_staff:
        return None
    zone = Engineer.objects.filter(user=user).values_list("timezone", flat=True).first()
    return LeadScope(user=user, teams=teams, staff=user.is_staff, timezone_name=zone)


def _my_releases(scope: LeadScope) -> QuerySet[Release]:
    releases = Release.objects.select_related("sdk")
    if scope.staff:
        return releases
    # A subquery on the SDKs, not a join through teams: a join would repeat a
    # release once per team of mine that supports its SDK.
    return releases.filter(sdk__in=Sdk.objects.filter(teams__in=scope.team_ids))


def lead_releases_open(*, scope: LeadScope) -> QuerySet[Release]:
    """Releases of my teams' SDKs that are published but not yet with customers,
    the soonest customer date first."""
    return (
        _my_releases(scope)
        .filter(status=Release.Status.PUBLISHED)
        .order_by("customer_available_at", "sdk__slug", "-sort_key")
    )


def lead_release_get(*, scope: LeadScope, sdk: str, version: str) -> Release | None:
    """One release of my teams' SDKs by SDK slug and version (a leading `v` and
    other spellings of the same version are accepted), or None — also for a draft,
    which no lead page shows."""
    try:
        normalised = str(Version.parse(version))
    except InvalidVersion:
        return None
    return (
        _my_releases(scope)
        .exclude(status=Release.Status.DRAFT)
        .filter(sdk__slug=sdk, version=normalised)
        .first()
    )


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
    counts = counts_by_region(release, now=now or timezone.now(), team_ids=team_ids)
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


def release_risks(*, release: Release, readiness: dict, now: datetime | None = None) -> list[str]:
    """Why a release is at risk, in words; empty when it is not.

    At risk: support is not ready and either the training due date has passed, or
    completion is below the policy with less than 24 hours to the due date. A ready
    release is never at risk: it can go to customers now.
    """
    if readiness["ready"]:
        return []
    now = now or timezone.now()
    due_at = release.due_at
    if due_at <= now:
        return [gettext("the training due date has passed")]
    min_completion = settings.PREFLIGHT_MIN_COMPLETION
    if due_at - now < AT_RISK_WINDOW and readiness["completion"] < min_completion:
        return [
            gettext("completion is below %(percent)s%% with less than 24 h left")
            % {"percent": f"{min_completion * 100:g}"}
        ]
    return []


def release_at_risk(*, release: Release, readiness: dict, now: datetime | None = None) -> bool:
    return bool(release_risks(release=release, readiness=readiness, now=now))


# --- engineers on a release ----------------------------------------------------------


def _count(queryset: QuerySet, field: str = "pk"):
    """COUNT(DISTINCT field) of a queryset correlated on the outer engineer, 0 if none."""
    return Coalesce(
        Subquery(
            queryset.order_by()
            .values("engineer_id")
            .annotate(n=Count(field, distinct=True))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _latest(queryset: QuerySet, field: str, aggregate=Max):
    return Subquery(
        queryset.order_by().values("engineer_id").annotate(at=aggregate(field)).values("at")[:1],
        output_field=DateTimeField(),
    )


# The engineer columns `release_engineers` loads (the lead release page's table);
# reading any other field of its engineers costs a query per engineer.
ENGINEER_ROW_FIELDS = (
    "region",
    "team__name",
    "user__username",
    "user__first_name",
    "user__last_name",
)


def release_engineers(
    *,
    release: Release,
    team_ids: list[int],
    region: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Engineer]:
    """The in-scope engineers of `team_ids` (active, on a team that supports the
    release's SDK) with their standing on the release, in one query.

    Annotated: `state` (an EngineerStatus value, as readiness counts it: complete
    when every mandatory release assignment is done, exempt when all are exempt,
    overdue when one is open past due), `due_at` (earliest), `steps_done` (lessons
    read + quizzes passed in the release's courses), `attempt_count`, and the latest
    read, attempt and start for the last activity. Overdue first (most overdue
    first), then the least advanced; filtered by `region` and `status` if given.

    The release's assignments are one filtered LEFT JOIN folded by GROUP BY (so the
    state, its filter and its sort reuse the aggregates); activity is a few
    correlated subqueries on indexed (engineer, …) columns. Only the engineer,
    user and team columns in ENGINEER_ROW_FIELDS are loaded.
    """
    now = now or timezone.now()
    engineer = OuterRef("pk")
    done = Q(mine__status__in=Assignment.DONE)
    read = LessonProgress.objects.filter(engineer=engineer, lesson__course__release_id=release.pk)
    attempts = Attempt.objects.filter(engineer=engineer, quiz__course__release_id=release.pk)
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
    state = Case(
        *[When(condition, then=Value(value)) for condition, value in standing],
        default=Value(EngineerStatus.ASSIGNED),
    )
    rank = Case(
        *[When(condition, then=Value(EngineerStatus.RANK[value])) for condition, value in standing],
        default=Value(EngineerStatus.RANK[EngineerStatus.ASSIGNED]),
        output_field=IntegerField(),
    )
    engineers = (
        Engineer.objects.filter(active=True, team__sdks=release.sdk_id, team_id__in=team_ids)
        .select_related("user", "team")
        # What the page shows of each engineer, no more: at hundreds of rows the
        # unused columns (timestamps above all, parsed one by one) were a good part
        # of the fetch.
        .only(*ENGINEER_ROW_FIELDS)
        .annotate(
            mine=FilteredRelation(
                "assignments",
                condition=Q(
                    assignments__release_id=release.pk,
                    assignments__reason=Assignment.Reason.RELEASE,
                    assignments__mandatory=True,
                ),
            )
        )
        .annotate(
            n=Count("mine"),
            n_done=Count("mine", filter=done),
            n_exempt=Count("mine", filter=Q(mine__status=Assignment.Status.EXEMPT)),
            n_overdue=Count("mine", filter=~done & Q(mine__due_at__lt=now)),
            n_started=Count("mine", filter=Q(mine__status=Assignment.Status.IN_PROGRESS)),
            due_at=Min("mine__due_at"),
            last_started_at=Max("mine__started_at"),
        )
        .annotate(state=state)
        .annotate(
            rank=rank,
            steps_done=_count(read, "lesson_id") + _count(attempts.filter(passed=True), "quiz_id"),
            attempt_count=_count(attempts),
            last_read_at=_latest(read, "read_at"),
            last_attempt_at=_latest(attempts, Coalesce("submitted_at", "started_at")),
        )
    )
    if region:
        engineers = engineers.filter(region=region)
    if status:
        engineers = engineers.filter(state=status)
    return engineers.order_by(
        "rank", F("due_at").asc(nulls_last=True), "steps_done", "user__username"
    )


def release_steps_total(*, release: Release) -> int:
    """Steps of the release's training: every lesson of its courses, and each quiz."""
    totals = Course.objects.filter(release=release).aggregate(
        lessons=Count("lessons", distinct=True), quizzes=Count("quiz", distinct=True)
    )
    return (totals["lessons"] or 0) + (totals["quizzes"] or 0)


@dataclass(frozen=True, slots=True)
class EngineerRow:
    engineer: Engineer
    status: str
    steps_done: int
    steps_total: int
    percent: int
    attempts: int
    due_at: datetime | None
    last_activity: datetime | None

    @property
    def status_label(self) -> str:
        return EngineerStatus.LABELS[self.status]


def release_engineer_rows(*, engineers: QuerySet[Engineer], steps_total: int) -> list[EngineerRow]:
    """The annotated engineers as rows for the page; the finished show 100%."""
    rows = []
    for engineer in engineers:
        finished = engineer.state in (EngineerStatus.COMPLETE, EngineerStatus.EXEMPT)
        steps_done = steps_total if finished else min(engineer.steps_done, steps_total)
        activity = [
            at
            for at in (
                engineer.last_read_at,
                engineer.last_attempt_at,
                engineer.last_started_at,
            )
            if at is not None
        ]
        rows.append(
            EngineerRow(
                engineer=engineer,
                status=engineer.state,
                steps_done=steps_done,
                steps_total=steps_total,
                percent=100 if finished else progress_percent(steps_done, steps_total),
                attempts=engineer.attempt_count,
                due_at=engineer.due_at,
                last_activity=max(activity) if activity else None,
            )
        )
    return rows


# --- overrides and lead-made assignments ---------------------------------------------


def release_overrides(*, release: Release) -> QuerySet[AuditEvent]:
    """The gate overrides of a release, newest first, with who made them."""
    return (
        AuditEvent.objects.filter(release=release, kind=AuditEvent.Kind.RELEASE_OVERRIDE)
        .select_related("actor", "token")
        .order_by("-created_at", "-id")
    )


def lead_assignments_open(*, scope: LeadScope, limit: int = 100) -> QuerySet[Assignment]:
    """Open assignments that a lead made for engineers of my teams (the ones a lead
    may cancel), the newest first."""
    return (
        Assignment.objects.filter(
            engineer__team_id__in=scope.team_ids, reason=Assignment.Reason.LEAD
        )
        .exclude(status__in=Assignment.DONE)
        .select_related("engineer__user", "engineer__team", "course", "assigned_by")
        .order_by("-assigned_at", "-id")[:limit]
    )


def team_engineer_ids(*, team_ids: list[int]) -> list[int]:
    """The active engineers of these teams."""
    if not team_ids:
        return []
    return list(
        Engineer.objects.filter(team_id__in=team_ids, active=True).values_list("id", flat=True)
    )

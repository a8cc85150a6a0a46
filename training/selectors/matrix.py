"""Reads for leads: the skill matrix (engineers x skills) and the expert finder.

Both take the teams the viewer may see (training.selectors.access) and never look past
them. Both cost a constant number of queries whatever the number of engineers:
the engineers in one query, the skills in one, every skill record of those
engineers in one, pivoted in Python (500 engineers x 100 skills is 50,000 small
tuples, well within a page's budget; a query per row is what we must not do).

Only a *current* record counts as a level: one verified within
PREFLIGHT_SKILL_VALID_DAYS (`skill_current_since`), the same rule the release
exemptions use. An older record is shown as stale, never as a level the
engineer holds now.
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from courses.models import Sdk, Skill
from training.models import Engineer, SkillLevel, SkillRecord, Team
from training.models.people import display_name
from training.selectors import skill_current_since, skill_valid_until
from training.selectors.engineer_search import (
    PAGE_SIZE,
    EngineerFilter,
    Page,
    engineers_matching,
    paginate,
)

# Working hours, in the engineer's own time zone: Monday to Friday, 09:00 to
# 18:00 (start included, end excluded). One rule for every region; the shifts of
# follow-the-sun support are already spread across time zones, so local office
# hours are what "at work now" means for handing over a ticket.
WORKING_DAYS = frozenset({0, 1, 2, 3, 4})  # date.weekday(): Monday is 0
WORKING_START = time(9, 0)
WORKING_END = time(18, 0)

# The expert finder's bar: Proficient (3) or above, as on the skill scale.
EXPERT_MIN_LEVEL = SkillLevel.PROFICIENT


def _engineers(
    *,
    teams,
    sdk: Sdk | None,
    region: str | None,
    tier: str | None,
    wanted: EngineerFilter | None = None,
) -> QuerySet[Engineer]:
    team_ids = Team.objects.filter(pk__in=_team_ids(teams))
    if sdk is not None:
        # Teams supporting the SDK; a subquery, so an engineer appears once.
        team_ids = team_ids.filter(sdks=sdk)
    engineers = Engineer.objects.filter(active=True, team__in=team_ids.values("pk"))
    if region:
        engineers = engineers.filter(region=region)
    if tier:
        engineers = engineers.filter(tier=tier)
    if wanted:
        engineers = engineers_matching(engineers, wanted)
    return engineers


def _team_ids(teams) -> QuerySet | list[int]:
    if isinstance(teams, QuerySet):
        return teams.values("pk")
    return [team.pk for team in teams]


# --- Skill matrix -------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class MatrixCell:
    """One engineer's record in one skill; `level` None when there is none.
    `verified_on` is the day it was last verified and `valid_until_on` the day it
    stops (or stopped) being current, both in the current time zone.

    A matrix holds one instance per distinct (level, days, staleness), shared by
    every record alike, so a page renders each kind of cell once. Cells compare
    by identity (eq=False): hashing three fields for each of 50,000 cells cost
    more than building the row.
    """

    level: int | None = None
    verified_on: date | None = None
    stale: bool = False
    valid_until_on: date | None = None

    @property
    def current_level(self) -> int | None:
        """The level that counts now: None when there is no record or it is stale."""
        return None if self.stale else self.level

    @property
    def label(self) -> str:
        return SkillLevel(self.level).label if self.level else ""


EMPTY = MatrixCell()


@dataclass(frozen=True, slots=True)
class MatrixEngineer:
    """The engineer columns the matrix and its CSV show: the row header."""

    username: str
    name: str  # as `Engineer.name`: the full name, or the username without one
    team_slug: str
    region: str
    tier: str


@dataclass(slots=True)
class MatrixRow:
    engineer: MatrixEngineer
    cells: list[MatrixCell]


@dataclass(slots=True)
class SkillMatrix:
    skills: list[Skill]
    rows: list[MatrixRow]
    current_since: datetime
    page: Page | None = None
    """The page of engineers shown, when the matrix was asked for one."""
    # Per skill (same order as `skills`): engineers holding it, currently, at
    # Proficient or above — the gaps a lead looks for first.
    holders: list[int] = field(default_factory=list)


def skill_matrix(
    *,
    teams: QuerySet[Team] | Iterable[Team],
    sdk: Sdk | None = None,
    region: str | None = None,
    tier: str | None = None,
    now: datetime | None = None,
    wanted: EngineerFilter | None = None,
    page: int | None = None,
    per_page: int = PAGE_SIZE,
) -> SkillMatrix:
    """Active engineers of `teams` (only teams supporting `sdk`, only of `region`
    and `tier`, when given) x every skill of the catalog.

    Every skill, not only those someone holds: a column nobody on the team has
    filled is the gap a lead most needs to see, and the CSV's columns stay the
    same from one export to the next (and across filters), so exports compare.

    Rows by team, then username; columns by skill slug. Three queries. With
    `page`: that page of the engineers (searched and filtered by `wanted`) only,
    and the holders counted over all of them: five queries.

    Both big queries come back as tuples, not model instances: at 500 x 100
    (15,000 records) building an object per row cost more than the rest of
    the page. For the same reason the records query brings the day and the
    staleness, not the timestamp (psycopg's loader under Django's time zone
    one parsed each in Python), and a cell object is made once per distinct
    (level, day, staleness), not once per record.
    """
    since = skill_current_since(now)
    chosen = _engineers(teams=teams, sdk=sdk, region=region, tier=tier, wanted=wanted)
    engineers = chosen.values_list(
        "pk",
        "user__username",
        "user__first_name",
        "user__last_name",
        "team__slug",
        "region",
        "tier",
    ).order_by("team__slug", "user__username")
    shown = None
    listed: Iterable[tuple] = engineers
    if page is not None:
        shown = paginate(engineers, number=page, per_page=per_page)
        listed = shown.items
    skills = list(Skill.objects.order_by("slug").only("id", "slug", "name"))
    column = {skill.pk: index for index, skill in enumerate(skills)}
    rows = {
        pk: MatrixRow(
            MatrixEngineer(
                username=username,
                name=display_name(first_name, last_name, username),
                team_slug=team_slug,
                region=engineer_region,
                tier=engineer_tier,
            ),
            [EMPTY] * len(skills),
        )
        for pk, username, first_name, last_name, team_slug, engineer_region, engineer_tier in (
            listed
        )
    }
    holders = [0] * len(skills)
    if rows:
        zone = timezone.get_current_timezone()
        # The day a record stops being current, worked out once per kind of cell from
        # its verified day, not per record in SQL (50,000 at 500 x 100): the same day
        # but within an hour of midnight across a DST change.
        valid_days = timedelta(days=settings.PREFLIGHT_SKILL_VALID_DAYS)
        records = (
            SkillRecord.objects.filter(
                engineer__in=list(rows) if shown is not None else chosen.values("pk")
            )
            .annotate(
                verified_on=TruncDate("verified_at", tzinfo=zone),
                stale=ExpressionWrapper(Q(verified_at__lt=since), output_field=BooleanField()),
            )
            .values_list("engineer_id", "skill_id", "level", "verified_on", "stale")
            .order_by()  # the pivot places them; SkillRecord's ordering would join and sort
        )
        kinds: dict[tuple, MatrixCell] = {}
        for engineer_id, skill_id, level, verified_on, stale in records:
            key = (level, verified_on, stale)
            cell = kinds.get(key)
            if cell is None:
                valid_until_on = verified_on + valid_days if verified_on else None
                cell = kinds[key] = MatrixCell(level, verified_on, stale, valid_until_on)
            index = column[skill_id]
            rows[engineer_id].cells[index] = cell
            if shown is None and not stale and level >= EXPERT_MIN_LEVEL:
                holders[index] += 1
        if shown is not None:
            # The footer speaks for every engineer of the filter, not this page alone.
            counted = (
                SkillRecord.objects.filter(
                    engineer__in=chosen.values("pk"),
                    level__gte=EXPERT_MIN_LEVEL,
                    verified_at__gte=since,
                )
                .values_list("skill_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
            for skill_id, n in counted:
                holders[column[skill_id]] = n
    return SkillMatrix(
        skills=skills,
        rows=list(rows.values()),
        current_since=since,
        holders=holders,
        page=shown,
    )


# --- Expert finder ---------------------------------------------------------------


def zone_of(engineer: Engineer) -> zoneinfo.ZoneInfo:
    """The engineer's zone; UTC if the stored name is not one (rows written before
    the validator, or by hand), so one bad row cannot break the page."""
    try:
        return zoneinfo.ZoneInfo(engineer.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def is_working_time(local: datetime) -> bool:
    """Inside working hours (WORKING_DAYS, WORKING_START to WORKING_END), local time."""
    return local.weekday() in WORKING_DAYS and WORKING_START <= local.time() < WORKING_END


def next_working_start(local: datetime) -> datetime:
    """When working hours next begin, in the same zone as `local` (wall time)."""
    day = local.date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() not in WORKING_DAYS:
            continue
        start = datetime.combine(candidate_day, WORKING_START, tzinfo=local.tzinfo)
        if start > local:
            return start
    raise AssertionError("WORKING_DAYS is empty")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Expert:
    engineer: Engineer
    level: int
    verified_at: datetime
    # When the record stops being current (`skill_valid_until`), the whole days until
    # then (rounded down), and whether that is within PREFLIGHT_RECERTIFY_DAYS.
    valid_until: datetime
    days_left: int
    expiring: bool
    local_time: datetime
    at_work: bool
    # When not at work: when they are back (local wall time).
    back_at: datetime | None

    @property
    def level_label(self) -> str:
        return SkillLevel(self.level).label


def experts(
    *,
    teams: QuerySet[Team] | Iterable[Team],
    skill: Skill,
    region: str | None = None,
    now: datetime,
    wanted: EngineerFilter | None = None,
) -> list[Expert]:
    """Active engineers of `teams` holding `skill` at Proficient or above, with a
    current record: who to hand a hard ticket to.

    Ordered by level (highest first), then those at work now before those who
    are not, then username. Each comes with their local time at `now` and
    whether that is inside working hours. One query.
    """
    records = (
        SkillRecord.objects.filter(
            skill=skill,
            level__gte=EXPERT_MIN_LEVEL,
            verified_at__gte=skill_current_since(now),
            engineer__in=_engineers(teams=teams, sdk=None, region=region, tier=None, wanted=wanted),
        )
        .select_related("engineer__user", "engineer__team")
        .order_by()
    )
    recertify_window = timedelta(days=settings.PREFLIGHT_RECERTIFY_DAYS)
    found = []
    for record in records:
        local = now.astimezone(zone_of(record.engineer))
        at_work = is_working_time(local)
        valid_until = skill_valid_until(record.verified_at)
        found.append(
            Expert(
                engineer=record.engineer,
                level=record.level,
                verified_at=record.verified_at,
                valid_until=valid_until,
                days_left=(valid_until - now) // timedelta(days=1),
                expiring=valid_until - now <= recertify_window,
                local_time=local,
                at_work=at_work,
                back_at=None if at_work else next_working_start(local),
            )
        )
    found.sort(key=lambda e: (-e.level, not e.at_work, e.engineer.user.username))
    return found

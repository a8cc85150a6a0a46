"""Follow-the-sun coverage of a release's launch window: reads only.

The window is PREFLIGHT_COVERAGE_HOURS whole UTC hours from the customer date
(rounded down to the hour). For each hour: the release's required engineers (the
readiness scope: active, on a team that supports the SDK) on shift at its start,
how many of them are ready (every mandatory release assignment complete or exempt)
and how many are experts (tier L3, or a current level-4 record in a skill of the
release's features).

Vectorised, never engineer by hour in Python: one query folds the engineers into
groups of one time zone, shift, region and ready/expert flags (a few dozen rows
whatever the team's size); each group's shift is laid over the window once
(training.shifts), and its count added to the hours it is on. A second query reads
the few engineers with time off that touches the window, whose hours off are taken
away again one by one. One query.

Not kept between reads (training.readiness.keep): coverage depends on the clock only
through the fixed window, and is cheap enough to compute on every read that asks
for it; so a changed shift, time off or completed course shows at once, with no
invalidation to forget.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypedDict

from django.conf import settings
from django.db import connection

from courses.models import Feature, Release
from training.models import Assignment, Engineer, SkillRecord, Team, Tier, TimeOff
from training.selectors import skill_current_since
from training.shifts import ShiftPattern, effective_shift, shift_days_over

_ENGINEER = Engineer._meta.db_table
_ASSIGNMENT = Assignment._meta.db_table
_SKILLRECORD = SkillRecord._meta.db_table
_FEATURE = Feature._meta.db_table
_FEATURE_SKILLS = Feature.skills.through._meta.db_table
_TEAM_SDKS = Team.sdks.through._meta.db_table
_TIMEOFF = TimeOff._meta.db_table


class HourCoverage(TypedDict):
    start: datetime
    on_shift: int
    ready: int
    experts: int


class RegionHour(TypedDict):
    on_shift: int
    ready: int
    experts: int


class Gap(TypedDict):
    start: datetime
    end: datetime
    ready: int
    experts: int


class CoveragePolicy(TypedDict):
    min_ready: int
    min_experts: int


class Coverage(TypedDict):
    window_start: datetime
    window_end: datetime
    hours: list[HourCoverage]
    gaps: list[Gap]
    """Hours short of the policy, or (policy off) with nobody ready on shift."""
    regions: dict[str, list[RegionHour]]
    policy: CoveragePolicy


def coverage_policy() -> CoveragePolicy:
    return {
        "min_ready": settings.PREFLIGHT_MIN_READY_ON_SHIFT,
        "min_experts": settings.PREFLIGHT_MIN_EXPERTS_ON_SHIFT,
    }


def coverage_policy_on() -> bool:
    policy = coverage_policy()
    return bool(policy["min_ready"] or policy["min_experts"])


# The last hour a window may reach: local times up to 14 h ahead of UTC and time off
# two days around the window must still be dates Python can hold (a customer date in
# the year 9999 is accepted by the release API).
_LAST_HOUR = datetime.max.replace(tzinfo=UTC, minute=0, second=0, microsecond=0) - timedelta(days=3)


def window_hours(release: Release) -> list[datetime]:
    """The launch window's hours: PREFLIGHT_COVERAGE_HOURS from the customer date's
    hour (fewer only at the end of the calendar)."""
    first = release.customer_available_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = min(first, _LAST_HOUR)
    count = min(
        settings.PREFLIGHT_COVERAGE_HOURS, int((_LAST_HOUR - first) / timedelta(hours=1)) + 1
    )
    return [first + timedelta(hours=i) for i in range(count)]


def clock_value(value: Any) -> time | None:
    if value is None or isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


def day_value(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def flags_sql(release: Release, now: datetime) -> tuple[str, str, list[Any]]:
    """The ready and expert flags of the engineer `e`: (two SQL columns, the LEFT
    JOINs after `FROM ... e` they read, the joins' parameters). The joins also give
    `fa.open_id`, the engineer's first open mandatory assignment of the release.

    Joined aggregates rather than EXISTS per engineer: the same work, but planned
    at its true cost (with correlated subplans PostgreSQL overestimates it and
    spends longer compiling the query with JIT than running it)."""
    columns = """
        CASE WHEN fa.n > 0 AND fa.done = fa.n THEN 1 ELSE 0 END,
        CASE WHEN e.tier = %s OR fx.engineer_id IS NOT NULL THEN 1 ELSE 0 END
    """
    joins = f"""
        LEFT JOIN (
            SELECT a.engineer_id, COUNT(*) AS n,
                   SUM(CASE WHEN a.status IN (%s, %s) THEN 1 ELSE 0 END) AS done,
                   MIN(CASE WHEN a.status NOT IN (%s, %s) THEN a.id END) AS open_id
            FROM {_ASSIGNMENT} a
            WHERE a.release_id = %s AND a.reason = %s AND a.mandatory
            GROUP BY a.engineer_id
        ) fa ON fa.engineer_id = e.id
        LEFT JOIN (
            SELECT DISTINCT s.engineer_id FROM {_SKILLRECORD} s
            WHERE s.level >= 4 AND s.verified_at >= %s
              AND s.skill_id IN (
                  SELECT fs.skill_id FROM {_FEATURE_SKILLS} fs
                  JOIN {_FEATURE} f ON f.id = fs.feature_id WHERE f.release_id = %s
              )
        ) fx ON fx.engineer_id = e.id
    """
    params: list[Any] = [*Assignment.DONE, *Assignment.DONE, release.pk, Assignment.Reason.RELEASE]
    params += [skill_current_since(now), release.pk]
    return columns.replace("%s", "'" + Tier.L3 + "'"), joins, params


def scope_sql(release: Release, team_ids: list[int] | None) -> tuple[str, list[Any]]:
    sql = f"e.active AND e.team_id IN (SELECT team_id FROM {_TEAM_SDKS} WHERE sdk_id = %s)"
    params: list[Any] = [release.sdk_id]
    if team_ids is not None:
        ids = sorted({int(pk) for pk in team_ids}) or [0]
        sql += f" AND e.team_id IN ({', '.join(['%s'] * len(ids))})"
        params += ids
    return sql, params


def time_off_span(hours: list[datetime]) -> tuple[date, date]:
    """The local dates time off must touch to matter in `hours`."""
    first = hours[0].date()
    return (
        first - timedelta(days=2) if first > date.min + timedelta(days=2) else date.min,
        hours[-1].date() + timedelta(days=2),
    )


class TimeOffRow(NamedTuple):
    engineer_id: int
    zone: str
    region: str
    pattern: ShiftPattern
    ready: bool
    expert: bool
    start: date
    end: date


def shift_days_cached(
    cache: dict[tuple[ShiftPattern, str], list[date | None]],
    pattern: ShiftPattern,
    zone: str,
    hours: list[datetime],
) -> list[date | None]:
    key = (pattern, zone)
    if key not in cache:
        cache[key] = shift_days_over(pattern, zone, hours)
    return cache[key]


def release_coverage(
    release: Release, *, now: datetime, team_ids: list[int] | None = None
) -> Coverage:
    """The coverage of the release's launch window (only `team_ids`' engineers when
    given: a lead's own teams). One query: the engineers folded into groups, and
    after them the few engineers with time off near the window."""
    hours = window_hours(release)
    flags, joins, join_params = flags_sql(release, now)
    scope, scope_params = scope_sql(release, team_ids)
    first, last = time_off_span(hours)
    sql = f"""
        SELECT 0, NULL, e.timezone, e.region, e.shift_days, e.shift_start, e.shift_end,
               {flags}, COUNT(*), NULL, NULL
        FROM {_ENGINEER} e {joins}
        WHERE {scope}
        GROUP BY 3, 4, 5, 6, 7, 8, 9
        UNION ALL
        SELECT 1, e.id, e.timezone, e.region, e.shift_days, e.shift_start, e.shift_end,
               {flags}, 1, t.start, t."end"
        FROM {_TIMEOFF} t JOIN {_ENGINEER} e ON e.id = t.engineer_id {joins}
        WHERE t."end" >= %s AND t.start <= %s AND {scope}
    """
    params = [*join_params, *scope_params, *join_params, first, last, *scope_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    groups, time_off = [], []
    for kind, pk, zone, region, days, start, end, ready, expert, number, off, back in rows:
        pattern = effective_shift(region, days, clock_value(start), clock_value(end))
        if kind == 0:
            groups.append(Group(zone, region, pattern, bool(ready), bool(expert), number))
        else:
            time_off.append(
                TimeOffRow(
                    pk,
                    zone,
                    region,
                    pattern,
                    bool(ready),
                    bool(expert),
                    day_value(off),
                    day_value(back),
                )
            )
    return fold_coverage(hours, groups, time_off)


class Group(NamedTuple):
    """Engineers of one time zone, shift, region and flags, and how many."""

    zone: str
    region: str
    pattern: ShiftPattern
    ready: bool
    expert: bool
    number: int


def fold_coverage(
    hours: list[datetime], groups: Iterable[Group], time_off: Iterable[TimeOffRow]
) -> Coverage:
    """The coverage of `hours` by `groups`, less the `time_off`: each shift laid over
    the window once per (pattern, zone), and each group's number added to the hours
    it is on (its on-shift hours only, a third of the window or so)."""
    n = len(hours)
    cache: dict[tuple[ShiftPattern, str], list[date | None]] = {}
    on_hours: dict[tuple[ShiftPattern, str], list[int]] = {}
    # (region, ready, expert, pattern, zone) -> engineers: groups of one SQL row
    # may share these once a null shift is read as the region's default.
    totals: dict[tuple[str, bool, bool, ShiftPattern, str], int] = defaultdict(int)
    for group in groups:
        key = (group.region, group.ready, group.expert, group.pattern, group.zone)
        totals[key] += group.number
    # Time off, folded the same way: engineers of one pattern, zone, flags and
    # ranges are taken away together (one team's holiday is one row here).
    away: dict[int, list[TimeOffRow]] = defaultdict(list)
    for row in time_off:
        away[row.engineer_id].append(row)
    absent: dict[tuple, int] = defaultdict(int)
    for ranges in away.values():
        first = ranges[0]
        spans = tuple(sorted({(r.start, r.end) for r in ranges}))
        absent[(first.region, first.ready, first.expert, first.pattern, first.zone, spans)] += 1
    off_hours: dict[tuple[str, bool, bool], list[int]] = defaultdict(lambda: [0] * n)
    for (region, is_ready, is_expert, pattern, zone, spans), number in absent.items():
        days = shift_days_cached(cache, pattern, zone, hours)
        counts = off_hours[(region, is_ready, is_expert)]
        for i, day in enumerate(days):
            if day is not None and any(start <= day <= end for start, end in spans):
                counts[i] += number

    # region -> [on_shift, ready, experts] per hour
    sums: dict[str, tuple[list[int], list[int], list[int]]] = {}

    def columns(region: str) -> tuple[list[int], list[int], list[int]]:
        if region not in sums:
            sums[region] = ([0] * n, [0] * n, [0] * n)
        return sums[region]

    for (region, is_ready, is_expert, pattern, zone), number in totals.items():
        if (pattern, zone) not in on_hours:
            days = shift_days_cached(cache, pattern, zone, hours)
            on_hours[(pattern, zone)] = [i for i, day in enumerate(days) if day is not None]
        on = on_hours[(pattern, zone)]
        on_shift, ready, experts = columns(region)
        for i in on:
            on_shift[i] += number
        if is_ready:
            for i in on:
                ready[i] += number
        if is_expert:
            for i in on:
                experts[i] += number
    for (region, is_ready, is_expert), counts in off_hours.items():
        on_shift, ready, experts = columns(region)
        for i, k in enumerate(counts):
            if k:
                on_shift[i] -= k
                ready[i] -= k if is_ready else 0
                experts[i] -= k if is_expert else 0

    regions: dict[str, list[RegionHour]] = {
        region: [
            {"on_shift": on, "ready": rd, "experts": ex}
            for on, rd, ex in zip(*sums[region], strict=True)
        ]
        for region in sorted(sums, key=_region_order)
    }
    hour_rows: list[HourCoverage] = [
        {
            "start": start,
            "on_shift": sum(sums[region][0][i] for region in sums),
            "ready": sum(sums[region][1][i] for region in sums),
            "experts": sum(sums[region][2][i] for region in sums),
        }
        for i, start in enumerate(hours)
    ]
    policy = coverage_policy()
    return {
        "window_start": hours[0],
        "window_end": hours[-1] + timedelta(hours=1),
        "hours": hour_rows,
        "gaps": coverage_gaps(
            hour_rows, min_ready=max(policy["min_ready"], 1), min_experts=policy["min_experts"]
        ),
        "regions": regions,
        "policy": policy,
    }


def _region_order(region: str) -> int:
    order = ["APAC", "EMEA", "AMER"]
    return order.index(region) if region in order else len(order)


def coverage_gaps(hours: list[HourCoverage], *, min_ready: int, min_experts: int) -> list[Gap]:
    """Runs of consecutive hours short of `min_ready` ready or `min_experts` experts
    on shift, each with the fewest ready and experts it has."""
    gaps: list[Gap] = []
    for hour in hours:
        if hour["ready"] >= min_ready and hour["experts"] >= min_experts:
            continue
        end = hour["start"] + timedelta(hours=1)
        if gaps and gaps[-1]["end"] == hour["start"]:
            gap = gaps[-1]
            gap["end"] = end
            gap["ready"] = min(gap["ready"], hour["ready"])
            gap["experts"] = min(gap["experts"], hour["experts"])
        else:
            gaps.append(
                {
                    "start": hour["start"],
                    "end": end,
                    "ready": hour["ready"],
                    "experts": hour["experts"],
                }
            )
    return gaps


def policy_gaps(coverage: Coverage) -> list[Gap]:
    """The hours the coverage policy finds short (none while it is off)."""
    policy = coverage["policy"]
    if not (policy["min_ready"] or policy["min_experts"]):
        return []
    return coverage_gaps(
        coverage["hours"], min_ready=policy["min_ready"], min_experts=policy["min_experts"]
    )

"""Coverage on the lead pages: the heat map's cells with who is on shift, the gaps
with the engineers who could close them, and the expert finder (who can take a
hard ticket on this release right now, and who comes on next).

The counts come from training.readiness.coverage (two grouped queries). Who is in
a cell is read once more per page, one row per engineer in the reader's scope, and
laid over the window per shift pattern (training.shifts), not per engineer and hour.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from courses.models import Release
from training.models import Engineer, Team, TimeOff
from training.models.people import display_name
from training.readiness.coverage import (
    Coverage,
    Group,
    TimeOffRow,
    clock_value,
    day_value,
    flags_sql,
    fold_coverage,
    release_coverage,
    scope_sql,
    shift_days_cached,
    time_off_span,
    window_hours,
)
from training.shifts import ShiftPattern, effective_shift, shift_day_at, shift_now, zone_of

NAMES_PER_CELL = 8
SUGGESTIONS_PER_GAP = 10
_USER = get_user_model()._meta.db_table


@dataclass(slots=True)
class Person:
    id: int
    username: str
    name: str
    team: str
    region: str
    zone: str
    pattern: ShiftPattern
    ready: bool
    expert: bool
    open_assignment_id: int | None
    off: list[tuple[date, date]] = field(default_factory=list)

    def is_off(self, day: date | None) -> bool:
        return day is None or any(start <= day <= end for start, end in self.off)


def coverage_people(
    release: Release, *, now: datetime, team_ids: list[int] | None = None
) -> list[Person]:
    """The release's required engineers in scope, with their shift, flags, open
    mandatory assignment of the release (to nudge) and their time off near the
    window (a row per range: a few). One query."""
    flags, joins, join_params = flags_sql(release, now)
    scope, scope_params = scope_sql(release, team_ids)
    first, last = time_off_span(window_hours(release))
    sql = f"""
        SELECT e.id, u.username, u.first_name, u.last_name, t.name, e.region, e.timezone,
               e.shift_days, e.shift_start, e.shift_end, {flags}, fa.open_id,
               o.start, o."end"
        FROM {Engineer._meta.db_table} e
        JOIN {_USER} u ON u.id = e.user_id
        JOIN {Team._meta.db_table} t ON t.id = e.team_id
        {joins}
        LEFT JOIN {TimeOff._meta.db_table} o
          ON o.engineer_id = e.id AND o."end" >= %s AND o.start <= %s
        WHERE {scope}
        ORDER BY u.username
    """
    params = [*join_params, first, last]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *scope_params])
        rows = cursor.fetchall()
    people: dict[int, Person] = {}
    for (
        pk,
        username,
        first_name,
        last_name,
        team,
        region,
        zone,
        days,
        start,
        end,
        ready,
        expert,
        assignment_id,
        off_start,
        off_end,
    ) in rows:
        person = people.get(pk)
        if person is None:
            person = people[pk] = Person(
                id=pk,
                username=username,
                name=display_name(first_name, last_name, username),
                team=team,
                region=region,
                zone=zone,
                pattern=effective_shift(region, days, clock_value(start), clock_value(end)),
                ready=bool(ready),
                expert=bool(expert),
                open_assignment_id=assignment_id,
            )
        if off_start is not None:
            person.off.append((day_value(off_start), day_value(off_end)))
    return list(people.values())


@dataclass(slots=True)
class Cell:
    start: datetime
    on_shift: int
    ready: int
    experts: int
    level: int
    gap: bool
    ready_names: list[str]
    not_ready_names: list[str]
    more: int


@dataclass(slots=True)
class GapView:
    index: int
    start: datetime
    end: datetime
    ready: int
    experts: int
    suggestions: list[Person]


@dataclass(slots=True)
class ExpertNow:
    person: Person
    local_time: datetime
    hours_left: int
    until: datetime | None


@dataclass(slots=True)
class CoverageMap:
    coverage: Coverage
    columns: list[datetime]
    rows: list[tuple[str, list[Cell]]]
    gaps: list[GapView]
    experts_now: list[ExpertNow]
    experts_next: list[tuple[Person, datetime]]
    policy_on: bool


def _level(ready: int, need: int) -> int:
    if ready == 0:
        return 0
    if ready < need:
        return 1
    return 2 if ready < 2 * need else 3


def coverage_map(
    release: Release, *, now: datetime, team_ids: list[int] | None = None
) -> CoverageMap:
    """Everything the coverage partial shows for `team_ids`' engineers (all when
    None). One query."""
    people = coverage_people(release, now=now, team_ids=team_ids)
    hours = window_hours(release)
    # The counts from the same rows (one query for the whole partial).
    groups = Counter((p.zone, p.region, p.pattern, p.ready, p.expert) for p in people)
    coverage = fold_coverage(
        hours,
        [Group(*key, number) for key, number in groups.items()],
        [
            TimeOffRow(p.id, p.zone, p.region, p.pattern, p.ready, p.expert, start, end)
            for p in people
            for start, end in p.off
        ],
    )
    policy = coverage["policy"]
    need = max(policy["min_ready"], 1)
    gap_hours = {
        hour for gap in coverage["gaps"] for hour in hours if gap["start"] <= hour < gap["end"]
    }

    # Who is on shift in each hour: per shift pattern, then its people.
    cache: dict[tuple[ShiftPattern, str], list[date | None]] = {}
    patterns: dict[tuple[ShiftPattern, str], list[Person]] = defaultdict(list)
    for person in people:
        patterns[(person.pattern, person.zone)].append(person)
    on: dict[tuple[str, int], list[Person]] = defaultdict(list)
    for (pattern, zone), members in patterns.items():
        days = shift_days_cached(cache, pattern, zone, hours)
        for i, day in enumerate(days):
            if day is None:
                continue
            for person in members:
                if not person.off or not person.is_off(day):
                    on[(person.region, i)].append(person)

    rows = []
    for region, cells in coverage["regions"].items():
        row = []
        for i, figures in enumerate(cells):
            here = on.get((region, i), [])
            ready_names = [p.name for p in here if p.ready]
            not_ready = [p.name for p in here if not p.ready]
            shown_ready = ready_names[:NAMES_PER_CELL]
            shown_not = not_ready[: max(0, NAMES_PER_CELL - len(shown_ready))]
            row.append(
                Cell(
                    start=hours[i],
                    on_shift=figures["on_shift"],
                    ready=figures["ready"],
                    experts=figures["experts"],
                    level=_level(figures["ready"], need),
                    gap=hours[i] in gap_hours,
                    ready_names=shown_ready,
                    not_ready_names=shown_not,
                    more=len(here) - len(shown_ready) - len(shown_not),
                )
            )
        rows.append((region, row))

    gaps = []
    for index, gap in enumerate(coverage["gaps"], start=1):
        seen: dict[int, Person] = {}
        for i, hour in enumerate(hours):
            if gap["start"] <= hour < gap["end"]:
                for region, _ in rows:
                    for person in on.get((region, i), []):
                        if not person.ready:
                            seen.setdefault(person.id, person)
        suggestions = sorted(seen.values(), key=lambda p: (p.open_assignment_id is None, p.name))
        gaps.append(
            GapView(
                index=index,
                start=gap["start"],
                end=gap["end"],
                ready=gap["ready"],
                experts=gap["experts"],
                suggestions=suggestions[:SUGGESTIONS_PER_GAP],
            )
        )

    experts_now, experts_next = expert_finder(people, now=now)
    return CoverageMap(
        coverage=coverage,
        columns=hours,
        rows=rows,
        gaps=gaps,
        experts_now=experts_now,
        experts_next=experts_next,
        policy_on=bool(policy["min_ready"] or policy["min_experts"]),
    )


def expert_finder(
    people: list[Person], *, now: datetime, next_count: int = 3
) -> tuple[list[ExpertNow], list[tuple[Person, datetime]]]:
    """The experts on shift at `now` (the longest left on shift first) and the next
    `next_count` to come on. Time off is honoured."""
    experts_now: list[ExpertNow] = []
    coming: list[tuple[Person, datetime]] = []
    for person in people:
        if not person.expert:
            continue
        state = shift_now(person.pattern, person.zone, now)
        local = now.astimezone(zone_of(person.zone))
        if state.on and not person.is_off(_shift_day(person, local)):
            ends = state.ends_at or now
            hours_left = max(0, int((ends - now).total_seconds() // 3600))
            experts_now.append(ExpertNow(person, local, hours_left, ends))
            continue
        start = state.next_start
        for _ in range(14):  # skip shifts that fall in time off
            if start is None or not person.is_off(start.date()):
                break
            start = shift_now(person.pattern, person.zone, start + timedelta(minutes=1)).next_start
        if start is not None:
            coming.append((person, start))
    experts_now.sort(key=lambda item: (-item.hours_left, item.person.name))
    coming.sort(key=lambda item: (item[1], item[0].name))
    return experts_now, coming[:next_count]


def _shift_day(person: Person, local: datetime) -> date | None:
    return shift_day_at(person.pattern, local)


def coverage_person_in_scope(
    release: Release, *, engineer_id: int, team_ids: list[int] | None
) -> Any:
    """The engineer, if they are one of the release's required engineers in scope."""
    engineers = Engineer.objects.filter(
        pk=engineer_id, active=True, team__sdks=release.sdk_id
    ).select_related("user")
    if team_ids is not None:
        engineers = engineers.filter(team_id__in=team_ids)
    return engineers.first()


def coverage_strip(release: Release, *, now: datetime) -> dict[str, Any]:
    """The managers' console's compact heat map of every team: counts only (one
    query), no names."""
    coverage = release_coverage(release, now=now)
    need = max(coverage["policy"]["min_ready"], 1)
    hours = [hour["start"] for hour in coverage["hours"]]
    gap_hours = {
        hour for gap in coverage["gaps"] for hour in hours if gap["start"] <= hour < gap["end"]
    }
    strip = [
        (
            region,
            [
                {
                    "start": hours[i],
                    **figures,
                    "level": _level(figures["ready"], need),
                    "gap": hours[i] in gap_hours,
                }
                for i, figures in enumerate(cells)
            ],
        )
        for region, cells in coverage["regions"].items()
    ]
    return {"hours": coverage["hours"], "gaps": coverage["gaps"], "strip": strip}

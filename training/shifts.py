"""Shifts: an engineer's weekly working hours in their own time zone (pure rules,
no database).

A shift is days of the week and a start and end time of day, local to the
engineer's time zone. An end at or before the start is a night shift that ends the
next day (22:00-06:00); such a shift belongs to the day it starts on: "mon
22:00-06:00" covers Monday night into Tuesday morning, and time off on Monday takes
all of it. An engineer with no shift of their own works their region's default.

DST-safe by construction: every instant is turned into local time by zoneinfo, one
hour at a time, so a day of 23 or 25 hours is seen as it is; nothing adds fixed
offsets.
"""

import zoneinfo
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = 0b0011111  # Monday to Friday


class ShiftPattern(NamedTuple):
    days: int
    """Bit mask: Monday = 1, Tuesday = 2, … Sunday = 64."""
    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def as_dict(self) -> dict[str, object]:
        return {
            "days": mask_days(self.days),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }


# Every region's default today is the same office day; kept per region so a
# region's default can differ (a night desk) without touching the engineers.
_OFFICE_DAY = ShiftPattern(WEEKDAYS, time(9), time(18))
REGION_DEFAULT_SHIFTS: dict[str, ShiftPattern] = {
    "APAC": _OFFICE_DAY,
    "EMEA": _OFFICE_DAY,
    "AMER": _OFFICE_DAY,
}


def days_mask(days: Sequence[str]) -> int:
    """["mon", "fri"] → 0b10001. Raises ValueError for a name not in DAYS."""
    mask = 0
    for day in days:
        mask |= 1 << DAYS.index(day)
    return mask


def mask_days(mask: int) -> list[str]:
    return [day for index, day in enumerate(DAYS) if mask & (1 << index)]


def effective_shift(
    region: str, days: int | None, start: time | None, end: time | None
) -> ShiftPattern:
    """The engineer's own shift, or their region's default when they have none."""
    if days is None or start is None or end is None:
        return REGION_DEFAULT_SHIFTS.get(region, _OFFICE_DAY)
    return ShiftPattern(days, start, end)


@lru_cache(maxsize=512)
def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def shift_day_at(pattern: ShiftPattern, local: datetime) -> date | None:
    """The day of the shift `local` (a local time) falls in, or None off shift."""
    clock = local.time().replace(tzinfo=None)
    today = local.date()
    if not pattern.overnight:
        if pattern.start <= clock < pattern.end and pattern.days & (1 << today.weekday()):
            return today
        return None
    if clock >= pattern.start and pattern.days & (1 << today.weekday()):
        return today
    yesterday = today - timedelta(days=1)
    if clock < pattern.end and pattern.days & (1 << yesterday.weekday()):
        return yesterday
    return None


def shift_days_over(
    pattern: ShiftPattern, zone_name: str, hours: Sequence[datetime]
) -> list[date | None]:
    """For each instant of `hours` (aware), the day of the shift the pattern is on at
    that instant in the zone, or None: one pattern's whole window at once."""
    zone = zone_of(zone_name)
    return [shift_day_at(pattern, instant.astimezone(zone)) for instant in hours]


class ShiftNow(NamedTuple):
    on: bool
    ends_at: datetime | None
    """When the shift the engineer is on ends (on shift only)."""
    next_start: datetime | None
    """When their next shift starts (off shift only; None without working days)."""


def _local(day: date, clock: time, zone: zoneinfo.ZoneInfo) -> datetime:
    # A wall time DST skips (02:30 on the spring-forward night) reads as the same
    # wall time after the jump, as zoneinfo does for fold=0.
    return datetime.combine(day, clock, tzinfo=zone)


def shift_now(pattern: ShiftPattern, zone_name: str, now: datetime) -> ShiftNow:
    """Whether the pattern is on shift at `now`, when that shift ends, or when the
    next one starts (within a week)."""
    zone = zone_of(zone_name)
    local = now.astimezone(zone)
    day = shift_day_at(pattern, local)
    if day is not None:
        end_day = day + timedelta(days=1) if pattern.overnight else day
        return ShiftNow(True, _local(end_day, pattern.end, zone), None)
    for offset in range(8):
        candidate = local.date() + timedelta(days=offset)
        if not pattern.days & (1 << candidate.weekday()):
            continue
        start = _local(candidate, pattern.start, zone)
        if start > now:
            return ShiftNow(False, None, start)
    return ShiftNow(False, None, None)

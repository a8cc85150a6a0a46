"""Follow-the-sun: which region is on shift at a given moment, and which is next.

Support hands over APAC → EMEA → AMER → APAC. The windows are whole UTC hours,
[start, end), together covering the day once. They are the company's handover
times, not any engineer's own shift (that is the engineer's `shift`, in their time
zone); the managers' console uses them to say who is covering now and who is next.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from training.models import Region

# (region, first UTC hour, hour after the last), in handover order.
FOLLOW_THE_SUN: tuple[tuple[str, int, int], ...] = (
    (Region.APAC, 0, 8),  # 08:00-16:00 in Shanghai
    (Region.EMEA, 8, 16),  # 09:00-17:00 in Berlin (winter)
    (Region.AMER, 16, 24),  # 08:00-16:00 in San Francisco (winter)
)


@dataclass(frozen=True, slots=True)
class Shift:
    region: str
    start: datetime
    """When this region's window starts (now's window: already started)."""
    end: datetime


def shifts_now(now: datetime) -> tuple[Shift, Shift]:
    """The region on shift at `now` and the one after it, with their UTC windows."""
    utc = now.astimezone(UTC)
    midnight = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    for index, (region, start, end) in enumerate(FOLLOW_THE_SUN):
        if start <= utc.hour < end:
            current = Shift(
                region, midnight + timedelta(hours=start), midnight + timedelta(hours=end)
            )
            following, next_start, next_end = FOLLOW_THE_SUN[(index + 1) % len(FOLLOW_THE_SUN)]
            day = midnight + timedelta(days=1) if next_start < end else midnight
            return current, Shift(
                following,
                day + timedelta(hours=next_start),
                day + timedelta(hours=next_end),
            )
    raise AssertionError("FOLLOW_THE_SUN must cover every UTC hour")

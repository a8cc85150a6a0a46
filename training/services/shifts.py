"""Writing shifts and time off (the people API, the admin, the engineer's own
profile, a lead's engineer page all call these).

Coverage is computed on every read (training.readiness.coverage), so nothing here
invalidates kept readiness counts: those counts do not depend on shifts.
"""

from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any, NoReturn, TypedDict

from django.db import transaction
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import InvalidInput
from training.models import AuditEvent, Engineer, TimeOff
from training.shifts import DAYS, ShiftPattern, days_mask

TIME_OFF_MAX = 100  # ranges per engineer given at once
TIME_OFF_LONGEST = timedelta(days=366)


class ShiftSpec(TypedDict):
    days: list[str]
    start: time | str
    end: time | str


class TimeOffSpec(TypedDict):
    start: date | str
    end: date | str


def _fail(field: str, message: str) -> NoReturn:
    raise InvalidInput({field: [message]})


def _clock(field: str, value: Any) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, str) and len(value) == 5 and value[2] == ":":
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    _fail(field, gettext("Give a time of day as HH:MM, e.g. 09:00."))


def shift_parse(value: Any) -> ShiftPattern | None:
    """A shift as the API and the forms give it (`{"days": [...], "start": "HH:MM",
    "end": "HH:MM"}`), checked; None (the region's default) for None. An end at or
    before the start is a night shift ending the next day; equal times are refused."""
    if value is None:
        return None
    if not isinstance(value, dict):
        _fail("shift", gettext("Give days, start and end, or null for the region's default."))
    days = value.get("days")
    if not isinstance(days, list | tuple) or not days:
        _fail("shift", gettext("Name at least one working day (mon … sun)."))
    unknown = [str(day) for day in days if day not in DAYS]
    if unknown:
        _fail(
            "shift",
            gettext("Unknown day: %(days)s (mon, tue, wed, thu, fri, sat, sun).")
            % {"days": ", ".join(unknown)[:100]},
        )
    start = _clock("shift", value.get("start"))
    end = _clock("shift", value.get("end"))
    if start == end:
        _fail("shift", gettext("A shift cannot start and end at the same time."))
    return ShiftPattern(days_mask(days), start, end)


def time_off_parse(values: Any) -> list[tuple[date, date]]:
    """Time off ranges, checked: each `{"start", "end"}` local dates, end not before
    start, at most a year long; at most TIME_OFF_MAX of them."""
    if not isinstance(values, list | tuple):
        _fail("time_off", gettext("Give a list of {start, end} date ranges."))
    if len(values) > TIME_OFF_MAX:
        _fail("time_off", gettext("At most %(n)d ranges.") % {"n": TIME_OFF_MAX})
    ranges = []
    for item in values:
        try:
            start, end = item["start"], item["end"]
            start = start if isinstance(start, date) else date.fromisoformat(start)
            end = end if isinstance(end, date) else date.fromisoformat(end)
        except (TypeError, KeyError, ValueError):
            _fail("time_off", gettext("Each range needs a start and an end date (YYYY-MM-DD)."))
        if end < start:
            _fail("time_off", gettext("A range cannot end before it starts."))
        if end - start > TIME_OFF_LONGEST:
            _fail("time_off", gettext("A range lasts at most a year."))
        ranges.append((start, end))
    return ranges


@transaction.atomic
def engineer_shift_set(*, engineer: Engineer, shift: ShiftPattern | None, actor: Actor) -> Engineer:
    """Set the engineer's weekly shift (None: back to the region's default).
    Audited; queues nothing."""
    days, start, end = (shift.days, shift.start, shift.end) if shift else (None, None, None)
    engineer = Engineer.objects.select_for_update(no_key=True).get(pk=engineer.pk)
    if (engineer.shift_days, engineer.shift_start, engineer.shift_end) == (days, start, end):
        return engineer
    engineer.shift_days, engineer.shift_start, engineer.shift_end = days, start, end
    engineer.save(update_fields=["shift_days", "shift_start", "shift_end"])
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.ENGINEER_SHIFT,
        details={
            "engineer": engineer.user.get_username(),
            "shift": shift.as_dict() if shift else None,
            "by": actor.label,
        },
        **actor.audit_fields(),
    )
    return engineer


@transaction.atomic
def engineer_time_off_replace(
    *, engineer: Engineer, ranges: Sequence[tuple[date, date]], actor: Actor
) -> list[TimeOff]:
    """Replace the engineer's time off with `ranges` (the people API's list); the
    same list again changes (and audits) nothing."""
    wanted = sorted(set(ranges))
    current = list(TimeOff.objects.filter(engineer=engineer).order_by("start", "end"))
    if [(item.start, item.end) for item in current] == wanted:
        return current
    TimeOff.objects.filter(engineer=engineer).delete()
    made = TimeOff.objects.bulk_create(
        [
            TimeOff(
                engineer=engineer,
                start=start,
                end=end,
                created_by_id=actor.user.pk if actor.user else None,
            )
            for start, end in wanted
        ]
    )
    _audit_time_off(engineer, actor, {"replaced": [[str(s), str(e)] for s, e in ranges]})
    return made


@transaction.atomic
def engineer_time_off_add(*, engineer: Engineer, start: date, end: date, actor: Actor) -> TimeOff:
    """Add one range of days off (local dates, both included)."""
    ((start, end),) = time_off_parse([{"start": start, "end": end}])
    time_off = TimeOff.objects.create(
        engineer=engineer, start=start, end=end, created_by_id=actor.user.pk if actor.user else None
    )
    _audit_time_off(engineer, actor, {"added": [str(start), str(end)]})
    return time_off


@transaction.atomic
def engineer_time_off_remove(*, time_off: TimeOff, actor: Actor) -> None:
    engineer = time_off.engineer
    _audit_time_off(engineer, actor, {"removed": [str(time_off.start), str(time_off.end)]})
    time_off.delete()


def _audit_time_off(engineer: Engineer, actor: Actor, what: dict[str, Any]) -> None:
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.ENGINEER_TIME_OFF,
        details={"engineer": engineer.user.get_username(), **what, "by": actor.label},
        **actor.audit_fields(),
    )

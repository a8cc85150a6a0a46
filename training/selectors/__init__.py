"""Reads: querysets and rows already joined for the page or endpoint that uses them."""

from datetime import UTC, datetime, timedelta
from typing import Any, overload

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime


@overload
def raw_datetime(value: None) -> None: ...
@overload
def raw_datetime(value: datetime | str) -> datetime: ...
def raw_datetime(value: Any) -> datetime | None:
    """A timestamp from raw SQL or an aggregate over one (MIN, MAX) as the ORM would
    give it: aware on PostgreSQL already, the stored UTC text on SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def progress_percent(done: int, total: int) -> int:
    """Whole percent, rounded down so an unfinished course never shows 100."""
    if total <= 0:
        return 100
    return min(100, done * 100 // total)


def skill_current_since(now: datetime | None = None) -> datetime:
    """Skill records verified before this are no longer current."""
    return (now or timezone.now()) - timedelta(days=settings.PREFLIGHT_SKILL_VALID_DAYS)


def skill_valid_until(verified_at: datetime) -> datetime:
    """When a record verified at `verified_at` stops being current: the same rule as
    `skill_current_since`, from the record's side (current while now <= this)."""
    return verified_at + timedelta(days=settings.PREFLIGHT_SKILL_VALID_DAYS)

"""Reads: querysets and rows already joined for the page or endpoint that uses them."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime


def raw_datetime(value) -> datetime | None:
    """A timestamp from raw SQL or an aggregate over one (MIN, MAX) as the ORM would
    give it: aware on PostgreSQL already, the stored UTC text on SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)

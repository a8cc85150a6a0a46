"""API fields both apps use."""

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time that must carry its UTC offset.

    DRF would silently read a time without offset in the server's zone; a release
    pipeline in another zone would then be hours off. Checked on the raw string,
    before DRF makes it aware.
    """

    default_error_messages = {
        "naive": gettext_lazy("Give the time with its UTC offset, e.g. 2026-12-15T09:00:00Z."),
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        elif isinstance(value, datetime) and timezone.is_naive(value):
            self.fail("naive")
        return super().to_internal_value(value)

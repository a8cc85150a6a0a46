"""A person's own time zone and language when they are not an engineer (leads,
support managers, admins): training.models.PersonPreferences."""

import zoneinfo
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidInput
from training.models import PersonPreferences

_LANGUAGES = frozenset(code for code, _ in settings.LANGUAGES)


@transaction.atomic
def person_preferences_set(*, user: Any, timezone_name: str, language: str) -> PersonPreferences:
    """Set `user`'s time zone (an IANA name) and language (one of LANGUAGES),
    creating the row on first use; idempotent. Raises InvalidInput naming
    `timezone` or `language` and writes nothing when either is not one we know.
    Queues nothing. An engineer profile's zone and language still win over these
    (training.selectors.access.lead_scope)."""
    errors: dict[str, list[str]] = {}
    if timezone_name not in zoneinfo.available_timezones():
        errors["timezone"] = [gettext("Choose an IANA time zone, e.g. Asia/Shanghai.")]
    if language not in _LANGUAGES:
        errors["language"] = [gettext("Choose one of the languages offered.")]
    if errors:
        raise InvalidInput(errors)
    preferences, _created = PersonPreferences.objects.update_or_create(
        user=user,
        defaults={"timezone": timezone_name, "language": language, "updated_at": timezone.now()},
    )
    return preferences

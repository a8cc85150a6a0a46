"""What a sign-in through the company's identity provider (OpenID Connect,
training.oidc) changes in Preflight: the person is created just in time on their
first sign-in and brought up to date on every one after.

Claims map as follows: `email` and `name` to the person; `locale` to their
language and `zoneinfo` to their time zone (on the engineer profile, or
PersonPreferences for someone who is not an engineer); the groups claim, through
the configured maps, to the team they are an engineer of, the teams they lead and
the support-manager role. The provider is the source of truth only for what the
maps name: leaving a mapped group takes that team or role away, while a team or
lead role no map mentions (set by hand, or by SCIM) is left alone; the manager
role is decided by the provider only when OIDC_MANAGER_GROUPS is set.

All writes go through the people, preferences and managers services.
"""

import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction

from core.actors import Actor
from core.errors import InvalidInput
from core.fields import field_max_length
from training.models import Engineer, PersonPreferences, Region, Team
from training.services.managers import manager_grant, manager_revoke
from training.services.people import (
    engineer_update,
    engineer_upsert,
    language_for_tag,
    person_upsert,
    region_for_timezone,
    team_lead_set,
)
from training.services.preferences import person_preferences_set

User = get_user_model()


@dataclass(frozen=True)
class SsoMapping:
    groups_claim: str = "groups"
    team_map: dict[str, str] = field(default_factory=dict)  # group → team slug (member)
    lead_map: dict[str, str] = field(default_factory=dict)  # group → team slug (lead)
    manager_groups: frozenset[str] = frozenset()


def username_from_claims(claims: dict[str, Any]) -> str | None:
    """preferred_username, else the e-mail address, if Preflight takes it as a
    username; None otherwise (then nobody signs in)."""
    max_length = field_max_length(User, User.USERNAME_FIELD)
    for key in ("preferred_username", "email"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip() and len(value.strip()) <= max_length:
            try:
                UnicodeUsernameValidator()(value.strip())
            except ValidationError:
                continue
            return value.strip()
    return None


def _groups(claims: dict[str, Any], name: str) -> set[str]:
    value = claims.get(name)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def _time_zone(claims: dict[str, Any]) -> str | None:
    value = claims.get("zoneinfo")
    if isinstance(value, str) and value in zoneinfo.available_timezones():
        return value
    return None


def _name(claims: dict[str, Any]) -> str | None:
    value = claims.get("name")
    if not isinstance(value, str) or not value.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        value = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    return value.strip()[:300] or None


@transaction.atomic
def sso_user_sync(
    *, user: Any | None, claims: dict[str, Any], mapping: SsoMapping, actor: Actor
) -> Any:
    """Create (`user` None) or update the person the claims describe; returns the
    user. A deactivated person (a leaver) is returned untouched: the sign-in
    refuses them. Raises InvalidInput when the claims give no usable username."""
    if user is not None and not user.is_active:
        return user
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    name = _name(claims)
    time_zone = _time_zone(claims)
    language = language_for_tag(claims.get("locale"))
    groups = _groups(claims, mapping.groups_claim)
    username = user.get_username() if user is not None else username_from_claims(claims) or ""
    if user is None and User.objects.filter(username=username).exists():
        # The sign-in did not match this account (a superuser, say): never take it over.
        raise InvalidInput({"username": [f"{username} is a local account."]})

    teams = {
        t.slug: t
        for t in Team.objects.filter(
            slug__in={*mapping.team_map.values(), *mapping.lead_map.values()}
        )
    }
    member_of = next(
        (slug for group, slug in mapping.team_map.items() if group in groups and slug in teams),
        None,
    )
    engineer = Engineer.objects.filter(user__username=username).select_related("team").first()
    if member_of is not None or engineer is not None:
        engineer, _created = engineer_upsert(
            username=username,
            email=email,
            name=name,
            team=member_of,
            timezone=time_zone,
            language=language,
            region=None if engineer is not None else _region(claims, time_zone),
            actor=actor,
        )
        mapped_teams = set(mapping.team_map.values())
        if member_of is None and engineer.team is not None and engineer.team.slug in mapped_teams:
            # Left the provider's group of their team.
            engineer = engineer_update(engineer=engineer, actor=actor, team=None)
        user = engineer.user
    else:
        user = person_upsert(username=username, email=email, name=name, actor=actor)
        preferences = PersonPreferences.objects.filter(user=user).first()
        if time_zone or language or preferences is None:
            person_preferences_set(
                user=user,
                timezone_name=time_zone or (preferences.timezone if preferences else "UTC"),
                language=language or (preferences.language if preferences else "en"),
            )

    led = {slug for group, slug in mapping.lead_map.items() if group in groups}
    for slug in set(mapping.lead_map.values()):
        if slug in teams:
            team_lead_set(team=teams[slug], user=user, lead=slug in led, actor=actor)

    if mapping.manager_groups:
        if groups & mapping.manager_groups:
            manager_grant(user=user, actor=actor)
        else:
            manager_revoke(user=user, actor=actor)
    return user


def _region(claims: dict[str, Any], time_zone: str | None) -> str:
    value = claims.get("region")
    if isinstance(value, str) and value.upper() in Region.values:
        return value.upper()
    return region_for_timezone(time_zone)

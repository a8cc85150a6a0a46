"""SCIM provisioning: an identity provider's users and groups written as
engineers and teams, through the people services (training.services.people) that
the people API uses too, so both keep the same rules and side effects.

The API layer (training.api.scim) parses and validates the SCIM documents with
scim2-models and hands these functions plain values; what Preflight does not use
is kept as the identity provider sent it (Engineer.scim_attributes).
"""

from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import Conflict
from core.fields import field_max_length
from training.models import Engineer, Team
from training.services.people import (
    engineer_deprovision,
    engineer_reprovision,
    engineer_update,
    engineer_upsert,
    region_for_timezone,
    team_delete,
    team_external_id_set,
    team_members_set,
    team_update,
    team_upsert,
    user_rename,
)

User = get_user_model()


class ScimUserFields(TypedDict, total=False):
    """A SCIM User as Preflight keeps it. Absent keys leave a field as it is."""

    username: str
    name: str
    email: str
    active: bool
    timezone: str
    language: str
    external_id: str
    team: str | None
    region: str
    tier: str
    extra: dict[str, Any]


_ENGINEER_KEYS = ("name", "email", "active", "timezone", "language", "external_id", "team")


def _engineer_fields(fields: ScimUserFields) -> dict[str, Any]:
    given = {key: fields[key] for key in _ENGINEER_KEYS if key in fields}  # type: ignore[literal-required]
    for key in ("region", "tier"):
        if fields.get(key):
            given[key] = fields[key]
    return given


def _extra_set(engineer: Engineer, extra: dict[str, Any] | None) -> None:
    if extra is not None and engineer.scim_attributes != extra:
        engineer.scim_attributes = extra
        engineer.save(update_fields=["scim_attributes"])


@transaction.atomic
def scim_user_create(*, fields: ScimUserFields, actor: Actor) -> Engineer:
    """Provision a person: a new engineer (and user), or a person Preflight knows
    without an engineer profile (signed in by SSO, a lead), or one deprovisioned
    before (a rehire). An engineer already provisioned under that username →
    Conflict (SCIM's uniqueness error). A new engineer without a region gets the
    one of their time zone (region_for_timezone)."""
    username = fields["username"]
    existing = (
        Engineer.objects.select_related("user").filter(user__username__iexact=username).first()
    )
    if existing is not None and existing.deprovisioned_at is None:
        raise Conflict(
            gettext("A user named '%(username)s' is already provisioned.") % {"username": username}
        )
    given = _engineer_fields(fields)
    if existing is None:
        given.setdefault("region", region_for_timezone(fields.get("timezone")))
        engineer, _created = engineer_upsert(username=username, actor=actor, **given)
    else:
        given.setdefault("active", True)  # a rehire is active unless the provider says not
        engineer_reprovision(engineer=existing, actor=actor)
        engineer = engineer_update(engineer=existing, actor=actor, **given)
    _extra_set(engineer, fields.get("extra", {}))
    return engineer


@transaction.atomic
def scim_user_update(*, engineer: Engineer, fields: ScimUserFields, actor: Actor) -> Engineer:
    """Apply a PUT or a PATCH of a SCIM User. `active: false` deactivates the
    engineer at once (engineer_update: out of readiness, no reminders, sessions
    ended)."""
    if "username" in fields:
        user_rename(user=engineer.user, username=fields["username"], actor=actor)
    engineer = engineer_update(engineer=engineer, actor=actor, **_engineer_fields(fields))
    _extra_set(engineer, fields.get("extra"))
    return engineer


def scim_user_delete(*, engineer: Engineer, actor: Actor) -> None:
    """DELETE of a SCIM User: the engineer is deprovisioned, not deleted (their
    history is evidence): inactive at once and gone from SCIM."""
    engineer_deprovision(engineer=engineer, actor=actor)


def _free_slug(display_name: str) -> str:
    max_length = field_max_length(Team, "slug")
    base = (slugify(display_name) or "team")[: max_length - 4]
    slug, n = base, 1
    while Team.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def scim_group_create(
    *, display_name: str, external_id: str | None, member_ids: list[int] | None, actor: Actor
) -> Team:
    """Provision a team named `display_name`; its slug comes from the name (made
    unique). Members move to it (team_members_set)."""
    team, _created = team_upsert(slug=_free_slug(display_name), name=display_name, actor=actor)
    if external_id is not None:
        team_external_id_set(team=team, external_id=external_id, actor=actor)
    if member_ids:
        team_members_set(team=team, user_ids=member_ids, actor=actor)
    return team


@transaction.atomic
def scim_group_update(
    *,
    team: Team,
    display_name: str | None,
    external_id: str | None,
    member_ids: list[int] | None,
    actor: Actor,
) -> Team:
    """Apply a PUT or PATCH of a SCIM Group: its name, externalId and (when given)
    exactly its members."""
    if display_name is not None:
        team = team_update(team=team, name=display_name, actor=actor)
    if external_id is not None:
        team_external_id_set(team=team, external_id=external_id, actor=actor)
    if member_ids is not None:
        team_members_set(team=team, user_ids=member_ids, actor=actor)
    return team


def scim_group_delete(*, team: Team, actor: Actor) -> None:
    team_delete(team=team, actor=actor)

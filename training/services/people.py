"""Writing people: teams and engineers, as an HR sync or an admin keeps them.

Upserts are idempotent and safe to race. Two syncs posting one username at once
make one user and one engineer: each creation runs in a savepoint against a unique
constraint, and the loser re-reads the winner's row. The engineer row is then
locked, so the two updates apply one after the other.

Side effects (queued after commit, see core.queue):
- an engineer who becomes active in a team (created so, moved to another team, or
  re-activated) gets the team's backlog: `assign_engineers_backlog` (one task per
  engineer here; one per batch for an HR sync's batch, training.services.people_bulk);
- a team that starts supporting an SDK gets the training of that SDK's published
  releases: `assign_release_training` per such release.
"""

import zoneinfo
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_slug
from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.fields import field_max_length
from core.queue import enqueue_on_commit
from courses.models import Course, Release, Sdk
from training.models import Engineer, Region, Team, Tier
from training.readiness.keep import readiness_changed
from training.services.shifts import (
    engineer_shift_set,
    engineer_time_off_replace,
    shift_parse,
    time_off_parse,
)

UNSET: Any = object()  # a shift or time off not given (None is "the region's default")

User = get_user_model()

ENGINEER_FIELDS = frozenset(
    {"email", "name", "team", "tier", "region", "timezone", "language", "active", "external_id"}
)
_EXTERNAL_ID_MAX = 255
_NAME_PART_MAX = 150  # auth.User first_name / last_name
_EMAIL_MAX = field_max_length(User, "email")


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _one_of(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    return gettext("%(some)s or %(last)s") % {"some": ", ".join(values[:-1]), "last": values[-1]}


def _too_long(max_length: int) -> str:
    # DRF's own wording (and catalogue entry) for the same error.
    return gettext("Ensure this field has no more than {max_length} characters.").format(
        max_length=max_length
    )


def _fail(field: str, message: str) -> NoReturn:
    raise InvalidInput({field: [message]})


def _check_slug(field: str, value: Any, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(field, gettext("This field is required."))
    value = value.strip()
    if len(value) > max_length:
        _fail(field, _too_long(max_length))
    try:
        validate_slug(value)
    except ValidationError as exc:
        _fail(field, exc.messages[0])
    return value


def _check_name(field: str, value: Any, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(field, gettext("This field may not be blank."))
    value = value.strip()
    if len(value) > max_length:
        _fail(field, _too_long(max_length))
    return value


def _unknown(label: str, keys: list[str]) -> str:
    names = ", ".join(keys)
    messages = {
        "SDK": gettext("Unknown SDK: %(names)s."),
        "user": gettext("Unknown user: %(names)s."),
        "course": gettext("Unknown course: %(names)s."),
    }
    return messages[label] % {"names": names}


def _by_key(model, field: str, keys: list[str], label: str, error_field: str) -> list:
    keys = list(dict.fromkeys(keys))
    found = {getattr(obj, field): obj for obj in model.objects.filter(**{f"{field}__in": keys})}
    unknown = [key for key in keys if key not in found]
    if unknown:
        _fail(error_field, _unknown(label, unknown))
    return [found[key] for key in keys]


# --- teams ----------------------------------------------------------------------


def team_upsert(
    *,
    slug: str,
    name: str | None = None,
    sdks: list[str] | None = None,
    leads: list[str] | None = None,
    actor: Actor,
) -> tuple[Team, bool]:
    """Create the team, or update the given fields of the existing one.

    Returns (team, created). `None` leaves a field as it is; `sdks` and `leads`
    replace the team's lists. Unknown SDK slugs or lead usernames → InvalidInput
    naming `sdks` / `leads`; a new team needs a `name`.
    """
    slug = _check_slug("slug", slug, field_max_length(Team, "slug"))
    with transaction.atomic():
        team = Team.objects.select_for_update(no_key=True).filter(slug=slug).first()
        created = False
        if team is None:
            if name is None:
                _fail("name", gettext("A new team needs a name."))
            name = _check_name("name", name, field_max_length(Team, "name"))
            try:
                with transaction.atomic():
                    team = Team.objects.create(slug=slug, name=name)
                    created = True
            except IntegrityError:
                team = Team.objects.select_for_update(no_key=True).get(slug=slug)
        _team_apply(team=team, name=name, sdks=sdks, leads=leads)
    return team, created


@transaction.atomic
def team_update(
    *,
    team: Team,
    name: str | None = None,
    sdks: list[str] | None = None,
    leads: list[str] | None = None,
    onboarding_courses: list[str] | None = None,
    actor: Actor,
) -> Team:
    """Change the given fields of a team (`None` leaves one as it is). Lists replace
    the team's lists; `onboarding_courses` are course slugs, given to engineers who
    join the team from now on."""
    team = Team.objects.select_for_update(no_key=True).get(pk=team.pk)
    _team_apply(team=team, name=name, sdks=sdks, leads=leads, onboarding_courses=onboarding_courses)
    return team


def _team_apply(
    *,
    team: Team,
    name: str | None,
    sdks: list[str] | None,
    leads: list[str] | None,
    onboarding_courses: list[str] | None = None,
) -> None:
    # Resolve everything before writing anything, so an error leaves no half-update.
    sdk_objs = _by_key(Sdk, "slug", sdks, "SDK", "sdks") if sdks is not None else None
    lead_objs = _by_key(User, "username", leads, "user", "leads") if leads is not None else None
    course_objs = (
        _by_key(Course, "slug", onboarding_courses, "course", "onboarding_courses")
        if onboarding_courses is not None
        else None
    )
    if name is not None:
        name = _check_name("name", name, field_max_length(Team, "name"))
        if name != team.name:
            team.name = name
            team.save(update_fields=["name"])
    if sdk_objs is not None:
        before = set(team.sdks.values_list("id", flat=True))
        team.sdks.set(sdk_objs)
        after = {sdk.pk for sdk in sdk_objs}
        added = after - before
        # Its engineers enter the scope of the added SDKs' releases and leave the
        # removed ones' (marked as changed last: see readiness_changed).
        sdks_changed = before ^ after
        if added:
            # A handful of open releases per SDK: one set-based fan-out each.
            for release_id in Release.objects.filter(
                sdk__in=added, status=Release.Status.PUBLISHED
            ).values_list("id", flat=True):
                enqueue_on_commit("training.tasks.assign_release_training", release_id)
    if lead_objs is not None:
        team.leads.set(lead_objs)
    if course_objs is not None:
        team.onboarding_courses.set(course_objs)
    if sdk_objs is not None:
        readiness_changed(sdk_ids=sdks_changed)


# --- engineers --------------------------------------------------------------------


def _check_engineer_fields(
    fields: dict[str, Any], *, teams: Mapping[str, Team] | None = None
) -> dict[str, Any]:
    """Validate and normalize the given engineer fields; every error names its field.
    `teams` (by slug) saves the team lookup when the caller read a batch's teams."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    languages = [code for code, _ in settings.LANGUAGES]
    for field, value in fields.items():
        if field == "email":
            value = (value or "").strip()
            if len(value) > _EMAIL_MAX:
                # The validator allows 320 characters; the column holds 254.
                errors[field] = [_too_long(_EMAIL_MAX)]
            elif value:
                try:
                    EmailValidator()(value)
                except ValidationError as exc:
                    errors[field] = list(exc.messages)
        elif field == "name":
            value = " ".join((value or "").split())
            first, _, last = value.partition(" ")
            if len(first) > _NAME_PART_MAX or len(last) > _NAME_PART_MAX:
                errors[field] = [
                    gettext("A name part has at most %(n)d characters.") % {"n": _NAME_PART_MAX}
                ]
        elif field == "team":
            if value is not None:
                if not isinstance(value, str):
                    value = None
                elif teams is not None:
                    value = teams.get(value)
                else:
                    value = Team.objects.filter(slug=value).first()
                if value is None:
                    errors[field] = [gettext("Unknown team '%(team)s'.") % {"team": fields["team"]}]
        elif field == "tier":
            if value not in Tier.values:
                errors[field] = [
                    gettext("'%(value)s' is not a tier: %(choices)s.")
                    % {"value": value, "choices": _one_of(Tier.values)}
                ]
        elif field == "region":
            if value not in Region.values:
                errors[field] = [
                    gettext("'%(value)s' is not a region: %(choices)s.")
                    % {"value": value, "choices": _one_of(Region.values)}
                ]
        elif field == "timezone":
            if value not in _time_zones():
                errors[field] = [
                    gettext("'%(value)s' is not an IANA time zone (e.g. Asia/Shanghai).")
                    % {"value": value}
                ]
        elif field == "language":
            if value not in languages:
                errors[field] = [
                    gettext("'%(value)s' is not a language: %(choices)s.")
                    % {"value": value, "choices": _one_of(languages)}
                ]
        elif field == "active":
            if not isinstance(value, bool):
                errors[field] = [gettext("Must be true or false.")]
        elif field == "external_id":
            if not isinstance(value, str):
                errors[field] = [gettext("Not a valid string.")]
            elif len(value) > _EXTERNAL_ID_MAX:
                errors[field] = [_too_long(_EXTERNAL_ID_MAX)]
        else:
            raise TypeError(f"Unknown engineer field {field!r}")
        clean[field] = value
    if errors:
        raise InvalidInput(errors)
    return clean


def _check_username(username: Any) -> str:
    if not isinstance(username, str) or not username.strip():
        _fail("username", gettext("This field is required."))
    username = username.strip()
    max_length = field_max_length(User, User.USERNAME_FIELD)
    if len(username) > max_length:
        _fail("username", _too_long(max_length))
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        _fail("username", exc.messages[0])
    return username


def engineer_upsert(
    *,
    username: str,
    email: str | None = None,
    name: str | None = None,
    team: str | None = None,
    tier: str | None = None,
    region: str | None = None,
    timezone: str | None = None,
    language: str | None = None,
    active: bool | None = None,
    external_id: str | None = None,
    shift: Any = UNSET,
    time_off: Any = UNSET,
    actor: Actor,
) -> tuple[Engineer, bool]:
    """Create the engineer (and their user, with no usable password), or update the
    given fields of the existing one. `None` leaves a field as it is; `team` is a
    team slug. Returns (engineer, created). A new engineer needs a `region`.
    `shift` (`{"days", "start", "end"}`, or None for the region's default) and
    `time_off` (a list of `{"start", "end"}`, replacing the engineer's) are set when
    given (training.services.shifts).

    Queues the backlog after commit when the engineer is created active in a team,
    moves to another team, or is re-activated.
    """
    engineer, created, backlog = _engineer_upsert(
        username=username,
        given={
            "email": email,
            "name": name,
            "team": team,
            "tier": tier,
            "region": region,
            "timezone": timezone,
            "language": language,
            "active": active,
            "external_id": external_id,
            "shift": shift,
            "time_off": time_off,
        },
        actor=actor,
    )
    if backlog:
        enqueue_on_commit("training.tasks.assign_engineers_backlog", [engineer.pk])
    return engineer, created


def _engineer_upsert(
    *, username: Any, given: dict[str, Any], actor: Actor
) -> tuple[Engineer, bool, bool]:
    """engineer_upsert's work, queueing nothing: (engineer, created, needs backlog).
    `given` may hold `shift` and `time_off` (absent or UNSET: left as they are)."""
    given = dict(given)
    shift, time_off = given.pop("shift", UNSET), given.pop("time_off", UNSET)
    username = _check_username(username)
    fields = _check_engineer_fields({k: v for k, v in given.items() if v is not None})
    pattern = shift_parse(shift) if shift is not UNSET else UNSET
    ranges = time_off_parse(time_off) if time_off is not UNSET else UNSET
    with transaction.atomic():
        engineer = (
            Engineer.objects.select_for_update(no_key=True)
            .select_related("user")
            .filter(user__username=username)
            .first()
        )
        created = False
        if engineer is None:
            if "region" not in fields:
                _fail("region", gettext("A new engineer needs a region."))
            user = _user_get_or_create(username=username)
            try:
                with transaction.atomic():
                    engineer = Engineer.objects.create(user=user, region=fields["region"])
                    created = True
            except IntegrityError:
                # Another request made this engineer first; update theirs, in turn.
                engineer = (
                    Engineer.objects.select_for_update(no_key=True)
                    .select_related("user")
                    .get(user=user)
                )
        backlog = _engineer_apply(engineer=engineer, fields=fields, created=created)
        _shift_apply(engineer=engineer, pattern=pattern, ranges=ranges, actor=actor)
    return engineer, created, backlog


def _shift_apply(*, engineer: Engineer, pattern: Any, ranges: Any, actor: Actor) -> None:
    if pattern is not UNSET:
        engineer_shift_set(engineer=engineer, shift=pattern, actor=actor)
        engineer.refresh_from_db(fields=["shift_days", "shift_start", "shift_end"])
    if ranges is not UNSET:
        engineer_time_off_replace(engineer=engineer, ranges=ranges, actor=actor)


@transaction.atomic
def engineer_update(*, engineer: Engineer, actor: Actor, **fields: Any) -> Engineer:
    """Change the given fields of an engineer (PATCH): any of email, name, team (a
    slug, or None to leave every team), tier, region, timezone, language, active,
    shift, time_off. Queues the backlog as engineer_upsert does."""
    shift, time_off = fields.pop("shift", UNSET), fields.pop("time_off", UNSET)
    pattern = shift_parse(shift) if shift is not UNSET else UNSET
    ranges = time_off_parse(time_off) if time_off is not UNSET else UNSET
    unknown = set(fields) - ENGINEER_FIELDS
    if unknown:
        raise TypeError(f"Unknown engineer fields: {', '.join(sorted(unknown))}")
    fields = _check_engineer_fields(fields)
    engineer = (
        Engineer.objects.select_for_update(no_key=True).select_related("user").get(pk=engineer.pk)
    )
    if _engineer_apply(engineer=engineer, fields=fields, created=False):
        enqueue_on_commit("training.tasks.assign_engineers_backlog", [engineer.pk])
    _shift_apply(engineer=engineer, pattern=pattern, ranges=ranges, actor=actor)
    return engineer


def _user_get_or_create(*, username: str):
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=username)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:
        return User.objects.get(username=username)


def user_fields_apply(user: Any, fields: dict[str, Any]) -> list[str]:
    """Set `user`'s e-mail and name from an engineer's checked `fields` (in memory);
    the user fields that changed. The single path and the bulk one both use it."""
    changed = []
    if "email" in fields and user.email != fields["email"]:
        user.email = fields["email"]
        changed.append("email")
    if "name" in fields:
        first, _, last = fields["name"].partition(" ")
        if (user.first_name, user.last_name) != (first, last):
            user.first_name, user.last_name = first, last
            changed += ["first_name", "last_name"]
    return changed


def _engineer_apply(*, engineer: Engineer, fields: dict[str, Any], created: bool) -> bool:
    """Write the checked fields. True when the engineer now needs their team's backlog
    (created active in a team, moved to another team, or re-activated)."""
    user = engineer.user
    user_changed = user_fields_apply(user, fields)
    if user_changed:
        user.save(update_fields=user_changed)

    was_team_id, was_active = engineer.team_id, engineer.active
    changed = []
    if "team" in fields:
        team = fields["team"]
        if engineer.team_id != (team.pk if team is not None else None):
            engineer.team = team
            changed.append("team")
    for field in ("tier", "region", "timezone", "language", "active", "external_id"):
        if field in fields and getattr(engineer, field) != fields[field]:
            setattr(engineer, field, fields[field])
            changed.append(field)
    if changed:
        engineer.save(update_fields=changed)
    if "active" in changed or (created and not engineer.active):
        _user_active_set(user=user, active=engineer.active)

    if (created and engineer.team_id is not None) or {"team", "region", "active"} & set(changed):
        # In or out of scope of the old and new teams' releases, or counted in another
        # region.
        readiness_changed(team_ids=[was_team_id, engineer.team_id])
    joined = engineer.team_id is not None and (created or engineer.team_id != was_team_id)
    return engineer.active and (joined or (engineer.team_id is not None and not was_active))


def _user_active_set(*, user: Any, active: bool) -> None:
    """A leaver stops at once: an engineer made inactive can no longer sign in
    (Django refuses an inactive user, by password or by OpenID Connect) and every
    session they have open ends now, not when it expires. Made active again, they
    may sign in again. Their training history stays."""
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    if not active:
        sessions_end(user_id=user.pk)


def sessions_end(*, user_id: int) -> int:
    """Delete every open Django session of one user; how many there were."""
    return sessions_end_for(user_ids=[user_id])


def sessions_end_for(*, user_ids: Collection[int]) -> int:
    """Delete every open Django session of these users; how many there were.

    Sessions do not index their user (the id sits in the encoded data), so this
    reads the unexpired sessions in batches, once for all the users: rare (leavers)
    and bounded by how many people are signed in, not by the size of the company."""
    user_keys = {str(pk) for pk in user_ids}
    if not user_keys:
        return 0
    ended: list[str] = []
    for key, data in (
        Session.objects.filter(expire_date__gt=dj_timezone.now())
        .values_list("session_key", "session_data")
        .iterator(chunk_size=2000)
    ):
        decoded = SessionStore().decode(data)
        if str(decoded.get(SESSION_KEY, "")) in user_keys:
            ended.append(key)
    if ended:
        Session.objects.filter(session_key__in=ended).delete()
    return len(ended)


def region_for_timezone(name: str | None) -> str:
    """The support region a time zone lies in, for a new engineer whose identity
    provider says where they work but not which region: the Americas are AMER;
    Asia, Australia and the Pacific APAC; everything else (Europe, Africa, UTC)
    EMEA."""
    area = (name or "").split("/", 1)[0]
    if area == "America":
        return Region.AMER
    if area in {"Asia", "Australia", "Pacific", "Indian"}:
        return Region.APAC
    return Region.EMEA


@transaction.atomic
def engineer_deprovision(*, engineer: Engineer, actor: Actor) -> Engineer:
    """The identity provider deleted this person: the engineer becomes inactive
    (out of readiness, no reminders, sessions ended: see engineer_update) and is
    marked deprovisioned, which hides them from SCIM. Nothing is deleted: their
    attempts and skill records stay as evidence. Idempotent."""
    engineer = engineer_update(engineer=engineer, actor=actor, active=False)
    if engineer.deprovisioned_at is None:
        engineer.deprovisioned_at = dj_timezone.now()
        engineer.save(update_fields=["deprovisioned_at"])
    return engineer


@transaction.atomic
def engineer_reprovision(*, engineer: Engineer, actor: Actor) -> Engineer:
    """A deprovisioned person is provisioned again (a rehire): visible to SCIM
    again. Whether they are active is the caller's next change."""
    if engineer.deprovisioned_at is not None:
        engineer.deprovisioned_at = None
        engineer.save(update_fields=["deprovisioned_at"])
    return engineer


# --- team membership and leads, one person at a time (SCIM groups, SSO) -----------


@transaction.atomic
def team_members_set(*, team: Team, user_ids: list[int], actor: Actor) -> None:
    """Make exactly these users' engineers the members of `team` (SCIM: a group's
    members replaced). Engineers named move to it; its engineers not named leave it
    (no team). Each move goes through engineer_update, with its backlog and
    readiness side effects. A user with no engineer → InvalidInput naming `members`."""
    wanted = list(Engineer.objects.filter(user_id__in=set(user_ids), deprovisioned_at=None))
    unknown = sorted(set(user_ids) - {engineer.user_id for engineer in wanted})
    if unknown:
        _fail("members", _unknown("user", [str(pk) for pk in unknown]))
    wanted_ids = {engineer.pk for engineer in wanted}
    for engineer in Engineer.objects.filter(team=team).exclude(pk__in=wanted_ids):
        engineer_update(engineer=engineer, actor=actor, team=None)
    for engineer in wanted:
        if engineer.team_id != team.pk:
            engineer_update(engineer=engineer, actor=actor, team=team.slug)


@transaction.atomic
def user_rename(*, user: Any, username: str, actor: Actor) -> Any:
    """Change a person's username (their identity provider renamed them). Another
    person with that username → Conflict; the same name → nothing changes."""
    username = _check_username(username)
    if user.username == username:
        return user
    if User.objects.filter(username=username).exclude(pk=user.pk).exists():
        raise Conflict(gettext("The username '%(username)s' is taken.") % {"username": username})
    try:
        with transaction.atomic():
            user.username = username
            user.save(update_fields=["username"])
    except IntegrityError:
        raise Conflict(
            gettext("The username '%(username)s' is taken.") % {"username": username}
        ) from None
    return user


@transaction.atomic
def team_lead_set(*, team: Team, user: Any, lead: bool, actor: Actor) -> bool:
    """Make `user` a lead of `team` or not; whether anything changed. Idempotent;
    the team row is locked so two sign-ins cannot lose each other's change."""
    team = Team.objects.select_for_update(no_key=True).get(pk=team.pk)
    leads = team.leads.filter(pk=user.pk).exists()
    if leads == lead:
        return False
    if lead:
        team.leads.add(user)
    else:
        team.leads.remove(user)
    return True


@transaction.atomic
def team_external_id_set(*, team: Team, external_id: str, actor: Actor) -> Team:
    if not isinstance(external_id, str) or len(external_id) > _EXTERNAL_ID_MAX:
        _fail("externalId", _too_long(_EXTERNAL_ID_MAX))
    if team.external_id != external_id:
        team.external_id = external_id
        team.save(update_fields=["external_id"])
    return team


@transaction.atomic
def team_delete(*, team: Team, actor: Actor) -> None:
    """Delete a team (SCIM: the group was deleted). Its engineers stay, with no
    team, so they leave the scope of its releases (readiness recounted); their
    history stays."""
    for engineer in Engineer.objects.filter(team=team):
        engineer_update(engineer=engineer, actor=actor, team=None)
    team.delete()


def language_for_tag(tag: str | None) -> str | None:
    """The Preflight language for a BCP 47 tag an identity provider sends (a
    `locale` claim, SCIM `preferredLanguage`): zh-CN, zh_Hans, zh-Hans-CN → zh-hans;
    en-US → en. None for a language Preflight does not offer."""
    if not isinstance(tag, str) or not tag.strip() or len(tag) > 35:
        return None
    code = tag.strip().replace("_", "-").lower()
    if code.startswith("zh") and not code.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo")):
        code = "zh-hans"
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


@transaction.atomic
def person_upsert(
    *, username: str, email: str | None = None, name: str | None = None, actor: Actor
):
    """A person who may not be an engineer (a lead, a support manager signing in
    with SSO): their user, created with no usable password if new, with the given
    e-mail and name (None leaves one as it is)."""
    username = _check_username(username)
    fields = _check_engineer_fields(
        {k: v for k, v in {"email": email, "name": name}.items() if v is not None}
    )
    user = _user_get_or_create(username=username)
    changed = []
    if "email" in fields and user.email != fields["email"]:
        user.email = fields["email"]
        changed.append("email")
    if "name" in fields:
        first, _, last = fields["name"].partition(" ")
        if (user.first_name, user.last_name) != (first, last):
            user.first_name, user.last_name = first, last
            changed += ["first_name", "last_name"]
    if changed:
        user.save(update_fields=changed)
    return user

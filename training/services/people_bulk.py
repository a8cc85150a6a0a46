"""An HR sync's batch of engineers (POST /api/v1/engineers/bulk/), written set-based.

engineer_upsert (training.services.people) spends about a dozen statements and a
commit on each engineer; a batch of 1,000 through it took 8 s on a quiet machine
(bench/findings.md). Here a batch is checked whole in Python first, then written
in one transaction with a fixed number of statements whatever its size:

- read: the batch's teams, its existing engineers with their users (locked, in id
  order), the users that have no engineer yet, and the time off of the existing
  engineers whose time off is given;
- write: the new users and the new engineers (one INSERT each; users get an
  unusable password, so nothing is hashed), the changed users and engineers (one
  UPDATE each), time off replaced, the audit rows engineer_upsert writes (shift and
  time off changes), the sessions of leavers ended, and the readiness of the teams
  touched marked changed, last;
- queue, after commit: one backlog task for every engineer of the batch that needs
  theirs (training.services.assignments.engineers_assign_backlog, set-based).

The rules are engineer_upsert's, applied by the same checks (an item's errors name
its fields), and the result per engineer is the same rows it writes.

Each item is all or nothing: it is written only when every check passed for it,
and all of it in the batch's one transaction. A username given twice in one batch
is an error on every later occurrence. A concurrent create of a username the read
did not see makes an INSERT break a unique constraint: the transaction rolls back
and the batch is written once more, reading the other writer's rows (those items
then update them, as engineer_upsert's loser does). If the database refuses the
batch again, or refuses a value (DataError), the batch is written item by item
through engineer_upsert's path, a transaction each, and an item the database still
refuses is reported with an error: never a 500, never half an engineer.
"""

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import DataError, IntegrityError, transaction
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import InvalidInput
from core.queue import enqueue_on_commit
from training.models import AuditEvent, Engineer, Team, TimeOff
from training.readiness.keep import readiness_changed
from training.services.people import (
    UNSET,
    _check_engineer_fields,
    _check_username,
    _engineer_upsert,
    sessions_end_for,
    user_fields_apply,
)
from training.services.shifts import shift_parse, time_off_parse

logger = logging.getLogger(__name__)

User = get_user_model()

BULK_MAX = 1000
_ENGINEER_COLUMNS = ("tier", "region", "timezone", "language", "active", "external_id")
_SHIFT_COLUMNS = ["shift_days", "shift_start", "shift_end"]


class BulkError(TypedDict):
    index: int
    username: str
    errors: dict[str, list[str]]


class BulkResult(TypedDict):
    created: int
    updated: int
    errors: list[BulkError]


BulkItem = tuple[int, Any, "dict[str, Any] | InvalidInput"]


@dataclass
class _Checked:
    """One item that passed every check that needs no engineer row."""

    index: int
    username: str
    given: dict[str, Any]  # as the caller gave it (for the item-by-item path)
    fields: dict[str, Any]  # checked and normalized; `team` is a Team
    pattern: Any  # a ShiftPattern, None (the region's default) or UNSET
    ranges: Any  # a list of (start, end) dates or UNSET


@dataclass
class _Written:
    created: int = 0
    updated: int = 0
    errors: list[BulkError] = field(default_factory=list)


def engineers_bulk_upsert(*, items: list[BulkItem], actor: Actor) -> BulkResult:
    """engineer_upsert for each (index, username, fields) of an HR sync's batch, or
    record the InvalidInput its caller already found for that item instead of
    fields; set-based (see the module's docstring). Queues one backlog task for the
    engineers of the batch that need theirs, after commit. Returns the counts and
    the errors, by index."""
    errors: list[BulkError] = []
    checked = _check(items, errors)
    written = _write_set_based(checked, actor)
    if written is None:
        written = _write_item_by_item(checked, actor)
    errors += written.errors
    errors.sort(key=lambda error: error["index"])
    return {"created": written.created, "updated": written.updated, "errors": errors}


def _error(index: int, username: Any, detail: Any) -> BulkError:
    errors = detail if isinstance(detail, dict) else {"non_field_errors": [str(detail)]}
    return {
        "index": index,
        "username": username if isinstance(username, str) else "",
        "errors": errors,
    }


def _check(items: list[BulkItem], errors: list[BulkError]) -> list[_Checked]:
    """Every check engineer_upsert makes before it reads the engineer, for the whole
    batch, with one query (the teams named)."""
    first_seen: dict[str, int] = {}
    candidates: list[tuple[int, Any, dict[str, Any]]] = []
    for index, username, given in items:
        if isinstance(given, InvalidInput):
            errors.append(_error(index, username, given.detail))
            continue
        key = username.strip() if isinstance(username, str) else username
        if isinstance(key, str) and key in first_seen:
            message = gettext("This username is already in this batch, at index %(index)d.")
            errors.append(
                _error(index, username, {"username": [message % {"index": first_seen[key]}]})
            )
            continue
        if isinstance(key, str):
            first_seen[key] = index
        candidates.append((index, username, {k: v for k, v in given.items() if k != "username"}))

    slugs = {given["team"] for _, _, given in candidates if isinstance(given.get("team"), str)}
    teams = {team.slug: team for team in Team.objects.filter(slug__in=slugs)} if slugs else {}
    checked = []
    for index, username, given in candidates:
        fields = dict(given)
        shift, time_off = fields.pop("shift", UNSET), fields.pop("time_off", UNSET)
        try:
            name = _check_username(username)
            clean = _check_engineer_fields(
                {k: v for k, v in fields.items() if v is not None}, teams=teams
            )
            pattern = shift_parse(shift) if shift is not UNSET else UNSET
            ranges = time_off_parse(time_off) if time_off is not UNSET else UNSET
        except InvalidInput as error:
            errors.append(_error(index, username, error.detail))
            continue
        checked.append(_Checked(index, name, given, clean, pattern, ranges))
    return checked


def _write_set_based(checked: list[_Checked], actor: Actor) -> _Written | None:
    """The batch in one transaction, or None when the database refused it twice
    (or refused a value) and nothing of it was written."""
    if not checked:
        return _Written()
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _write(checked, actor)
        except IntegrityError:
            # A concurrent create between the read and the insert: read again.
            logger.info("bulk upsert: a unique constraint refused attempt %d", attempt)
        except DataError:
            logger.warning("bulk upsert: the database refused a value; writing item by item")
            return None
    return None


@dataclass
class _Plan:
    """What the batch writes, gathered before the first write."""

    new_users: list[Any] = field(default_factory=list)
    new_engineers: list[Engineer] = field(default_factory=list)
    changed_users: dict[int, tuple[Any, set[str]]] = field(default_factory=dict)
    changed_engineers: dict[int, tuple[Engineer, set[str]]] = field(default_factory=dict)
    time_off_cleared: list[int] = field(default_factory=list)
    time_off: list[TimeOff] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    leavers: set[int] = field(default_factory=set)  # existing users made inactive
    team_ids: set[int | None] = field(default_factory=set)
    backlog: list[Engineer] = field(default_factory=list)


def _write(checked: list[_Checked], actor: Actor) -> _Written:
    written = _Written()
    plan = _Plan()
    usernames = [item.username for item in checked]
    # Locked in id order: two batches sharing engineers lock them one after the other.
    engineers = {
        engineer.user.username: engineer
        for engineer in Engineer.objects.select_for_update(no_key=True, of=("self",))
        .select_related("user")
        .filter(user__username__in=usernames)
        .order_by("pk")
    }
    spare = [name for name in usernames if name not in engineers]
    users = (
        {user.username: user for user in User.objects.filter(username__in=spare)} if spare else {}
    )
    time_off_now: dict[int, list[tuple[date, date]]] = defaultdict(list)
    ranged = [
        engineers[item.username].pk
        for item in checked
        if item.ranges is not UNSET and item.username in engineers
    ]
    if ranged:
        for engineer_id, start, end in (
            TimeOff.objects.filter(engineer_id__in=ranged)
            .order_by("engineer_id", "start", "end")
            .values_list("engineer_id", "start", "end")
        ):
            time_off_now[engineer_id].append((start, end))

    for item in checked:
        engineer = engineers.get(item.username)
        created = engineer is None
        if engineer is None:
            if "region" not in item.fields:
                message = gettext("A new engineer needs a region.")
                written.errors.append(_error(item.index, item.username, {"region": [message]}))
                continue
            user = users.get(item.username)
            if user is None:
                user = User(username=item.username, password=_unusable_password())
                plan.new_users.append(user)
            engineer = Engineer(user=user, region=item.fields["region"])
            plan.new_engineers.append(engineer)
            written.created += 1
        else:
            written.updated += 1
        _plan_item(plan, item, engineer, created, time_off_now.get(engineer.pk, []), actor)

    # In username order: two batches inserting the same new names (or engineers of
    # the same existing users) wait on each other's unique-index entries in one
    # order, never in a cycle.
    plan.new_users.sort(key=lambda user: user.username)
    plan.new_engineers.sort(key=lambda engineer: engineer.user.username)
    User.objects.bulk_create(plan.new_users)
    Engineer.objects.bulk_create(plan.new_engineers)
    _bulk_update(User, plan.changed_users.values())
    _bulk_update(Engineer, plan.changed_engineers.values())
    if plan.time_off_cleared:
        TimeOff.objects.filter(engineer_id__in=plan.time_off_cleared).delete()
    TimeOff.objects.bulk_create(plan.time_off)
    AuditEvent.objects.bulk_create(plan.audit)
    if plan.leavers:
        sessions_end_for(user_ids=plan.leavers)
    if plan.team_ids:
        readiness_changed(team_ids=plan.team_ids)  # last: it locks the releases' snapshots
    if plan.backlog:
        enqueue_on_commit(
            "training.tasks.assign_engineers_backlog", [engineer.pk for engineer in plan.backlog]
        )
    return written


def _unusable_password() -> str:
    """What set_unusable_password stores (SSO and SCIM people sign in with the
    identity provider): the unusable marker and random text, nothing hashed. Made
    with one call to the OS's random source instead of make_password(None)'s forty
    (a tenth of a 1,000-engineer batch's time)."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _plan_item(
    plan: _Plan,
    item: _Checked,
    engineer: Engineer,
    created: bool,
    time_off_now: list[tuple[date, date]],
    actor: Actor,
) -> None:
    """What engineer_upsert's _engineer_apply and _shift_apply would write for this
    item, applied to the objects in memory and noted in the plan."""
    fields = item.fields
    user = engineer.user
    user_changed = set(user_fields_apply(user, fields))

    was_team_id, was_active = engineer.team_id, engineer.active
    changed: set[str] = set()
    if "team" in fields:
        team = fields["team"]
        if engineer.team_id != (team.pk if team is not None else None):
            engineer.team = team
            changed.add("team")
    for column in _ENGINEER_COLUMNS:
        if column in fields and getattr(engineer, column) != fields[column]:
            setattr(engineer, column, fields[column])
            changed.add(column)
    if "active" in changed or (created and not engineer.active):
        if user.is_active != engineer.active:
            user.is_active = engineer.active
            user_changed.add("is_active")
        if not engineer.active and user.pk is not None:
            plan.leavers.add(user.pk)  # a new user has no session to end

    if (created and engineer.team_id is not None) or {"team", "region", "active"} & changed:
        plan.team_ids |= {was_team_id, engineer.team_id}
    joined = engineer.team_id is not None and (created or engineer.team_id != was_team_id)
    if engineer.active and (joined or (engineer.team_id is not None and not was_active)):
        plan.backlog.append(engineer)

    audit = {"actor": actor.user, "token": actor.token}
    if item.pattern is not UNSET:
        pattern = item.pattern
        shift = (pattern.days, pattern.start, pattern.end) if pattern else (None, None, None)
        if (engineer.shift_days, engineer.shift_start, engineer.shift_end) != shift:
            engineer.shift_days, engineer.shift_start, engineer.shift_end = shift
            changed |= set(_SHIFT_COLUMNS)
            plan.audit.append(
                AuditEvent(
                    kind=AuditEvent.Kind.ENGINEER_SHIFT,
                    details={
                        "engineer": item.username,
                        "shift": pattern.as_dict() if pattern else None,
                        "by": actor.label,
                    },
                    **audit,
                )
            )
    if item.ranges is not UNSET:
        wanted = sorted(set(item.ranges))
        if time_off_now != wanted:
            if not created:
                plan.time_off_cleared.append(engineer.pk)
            plan.time_off += [
                TimeOff(
                    engineer=engineer,
                    start=start,
                    end=end,
                    created_by_id=actor.user.pk if actor.user else None,
                )
                for start, end in wanted
            ]
            plan.audit.append(
                AuditEvent(
                    kind=AuditEvent.Kind.ENGINEER_TIME_OFF,
                    details={
                        "engineer": item.username,
                        "replaced": [[str(s), str(e)] for s, e in item.ranges],
                        "by": actor.label,
                    },
                    **audit,
                )
            )

    if user_changed and user.pk is not None:
        plan.changed_users.setdefault(user.pk, (user, set()))[1].update(user_changed)
    if changed and not created:
        plan.changed_engineers.setdefault(engineer.pk, (engineer, set()))[1].update(changed)


def _bulk_update(model: Any, rows: Any) -> None:
    """One UPDATE for the changed rows, of the columns any of them changed (the
    others are written with the value they hold, under the row lock)."""
    rows = list(rows)
    if not rows:
        return
    columns = sorted(set().union(*(changed for _, changed in rows)))
    model.objects.bulk_update([row for row, _ in rows], columns)


def _write_item_by_item(checked: list[_Checked], actor: Actor) -> _Written:
    """engineer_upsert's own path for each item, a transaction each (a thousand
    savepoints in one PostgreSQL transaction overflow its subtransaction cache and
    slow every query of it a hundredfold); the backlog still one task."""
    written = _Written()
    backlog: list[int] = []
    for item in checked:
        try:
            with transaction.atomic():
                engineer, created, needs = _engineer_upsert(
                    username=item.username, given=item.given, actor=actor
                )
        except InvalidInput as error:
            written.errors.append(_error(item.index, item.username, error.detail))
            continue
        except (IntegrityError, DataError):
            logger.warning("bulk upsert: the database refused %r", item.username, exc_info=True)
            message = gettext(
                "The database refused this engineer (a concurrent change?); send it again."
            )
            written.errors.append(_error(item.index, item.username, message))
            continue
        written.created += created
        written.updated += not created
        if needs:
            backlog.append(engineer.pk)
    if backlog:
        enqueue_on_commit("training.tasks.assign_engineers_backlog", backlog)
    return written

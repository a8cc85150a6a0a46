"""Creating assignments: the release fan-out, an engineer's backlog, manual assignment.

Every path writes with one set-based INSERT ... SELECT ... ON CONFLICT DO NOTHING
against the (engineer, course) unique constraint, so running any of them twice, or
two of them at once, never duplicates an assignment and never loops over engineers
in Python.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from courses.models import Course, Release, Skill
from training.models import Assignment, AuditEvent, Engineer, SkillRecord, Team
from training.readiness.keep import readiness_changed
from training.selectors import skill_current_since

_ASSIGNMENT = Assignment._meta.db_table
_ENGINEER = Engineer._meta.db_table
_TEAM_SDKS = Team.sdks.through._meta.db_table
_TEAM_ONBOARDING = Team.onboarding_courses.through._meta.db_table
_COURSE = Course._meta.db_table
_RELEASE = Release._meta.db_table

_SKILL_RECORD = SkillRecord._meta.db_table

_INSERT = f"""
    INSERT INTO {_ASSIGNMENT}
        (engineer_id, course_id, release_id, reason, mandatory, status,
         assigned_by_id, assigned_at, due_at, completed_at, exempt_reason)
"""
_ON_CONFLICT = "ON CONFLICT (engineer_id, course_id) DO NOTHING"
NOTE_MAX = 2000


def release_due_at(release: Release, *, now: datetime | None = None) -> datetime:
    """Customer date less the lead time; if that has passed, due at once."""
    now = now or timezone.now()
    return max(release.due_at, now)


def onboarding_due_at(now: datetime) -> datetime:
    return now + timedelta(days=settings.PREFLIGHT_ONBOARDING_DAYS)


def adapt(value):
    """Datetimes in raw SQL must be stored as the ORM stores them (on SQLite: naive
    UTC text), or comparisons and equality against ORM-written rows go wrong."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) for p in params])
        return max(cursor.rowcount, 0)


def release_skill_ids(release: Release) -> list[int]:
    return sorted(
        Skill.objects.filter(features__release=release).values_list("id", flat=True).distinct()
    )


@transaction.atomic
def release_assign_training(*, release: Release, engineer_ids: list[int] | None = None) -> int:
    """Assign every course of a published release to each in-scope engineer.

    In scope: active engineers on a team that supports the release's SDK (or only
    those of `engineer_ids`). An engineer whose current skill records already hold
    every skill of the release's features at PREFLIGHT_EXEMPT_LEVEL or above gets the
    assignment as `exempt`, with the reason, and counts as ready; the exemptions are
    audited. Returns how many assignments were created; those that already existed
    are left exactly as they are. Does nothing unless the release is published.
    Marks the release's readiness as changed when it creates any.
    """
    if release.status != Release.Status.PUBLISHED:
        return 0
    if engineer_ids is not None and not engineer_ids:
        return 0
    now = timezone.now()
    skill_ids = release_skill_ids(release)
    if engineer_ids is not None:
        placeholders = ", ".join(["%s"] * len(engineer_ids))
        only, only_records, only_params = (
            f"AND e.id IN ({placeholders})",
            f"AND sr.engineer_id IN ({placeholders})",
            list(engineer_ids),
        )
    else:
        only, only_records, only_params = "", "", []
    if skill_ids:
        # The engineers whose current records hold every skill: one aggregate over
        # the skill records, joined once. (A correlated COUNT per engineer, repeated
        # in each CASE below, made the fan-out to 100,000 engineers run three index
        # probes per engineer: docs/benchmarks.md.)
        covered_join = f"""LEFT JOIN (
            SELECT sr.engineer_id FROM {_SKILL_RECORD} sr
            WHERE sr.level >= %s AND sr.verified_at >= %s
              AND sr.skill_id IN ({", ".join(["%s"] * len(skill_ids))}) {only_records}
            GROUP BY sr.engineer_id
            HAVING COUNT(*) = %s
        ) covered ON covered.engineer_id = e.id"""
        covered = "covered.engineer_id IS NOT NULL"
        covered_params = [
            settings.PREFLIGHT_EXEMPT_LEVEL,
            skill_current_since(now),
            *skill_ids,
            *only_params,
            len(skill_ids),
        ]
    else:
        # A release that touches no skill exempts nobody.
        covered_join, covered, covered_params = "", "1 = 0", []
    reason = "Current skill records cover every skill of this release's features."
    sql = f"""{_INSERT}
        SELECT e.id, c.id, c.release_id, %s, %s,
               CASE WHEN {covered} THEN %s ELSE %s END,
               NULL, %s, %s,
               CASE WHEN {covered} THEN %s ELSE NULL END,
               CASE WHEN {covered} THEN %s ELSE '' END
        FROM {_ENGINEER} e
        JOIN {_TEAM_SDKS} ts ON ts.team_id = e.team_id AND ts.sdk_id = %s
        JOIN {_COURSE} c ON c.release_id = %s
        {covered_join}
        WHERE e.active = %s {only}
        {_ON_CONFLICT}
    """
    params = [
        Assignment.Reason.RELEASE, True,
        Assignment.Status.EXEMPT, Assignment.Status.ASSIGNED,
        now, release_due_at(release, now=now),
        now,
        reason,
        release.sdk_id, release.pk,
        *covered_params,
        True,
        *only_params,
    ]  # fmt: skip
    created = _execute(sql, params)
    if created and skill_ids:
        _audit_exemptions(release=release, assigned_at=now)
    if created:
        readiness_changed(release_ids=[release.pk])
    return created


def _audit_exemptions(*, release: Release, assigned_at: datetime) -> None:
    exempted = list(
        Assignment.objects.filter(
            release=release, status=Assignment.Status.EXEMPT, assigned_at=assigned_at
        ).values_list("engineer__user__username", flat=True)
    )
    if exempted:
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.ASSIGNMENT_EXEMPT,
            release=release,
            details={"engineers": exempted, "level": settings.PREFLIGHT_EXEMPT_LEVEL},
        )


@transaction.atomic
def onboarding_assign(
    *, engineer_id: int | None = None, engineer_ids: list[int] | None = None
) -> int:
    """Every active engineer (or just `engineer_id`, or those of `engineer_ids`) has
    each onboarding course of their team, due PREFLIGHT_ONBOARDING_DAYS from now.
    Returns how many were created."""
    now = timezone.now()
    ids = [engineer_id] if engineer_id is not None else engineer_ids
    only = f"AND e.id IN ({', '.join(['%s'] * len(ids))})" if ids else ""
    if ids is not None and not ids:
        return 0
    return _execute(
        f"""{_INSERT}
        SELECT e.id, c.id, c.release_id, %s, %s, %s, NULL, %s, %s, NULL, ''
        FROM {_ENGINEER} e
        JOIN {_TEAM_ONBOARDING} o ON o.team_id = e.team_id
        JOIN {_COURSE} c ON c.id = o.course_id
        WHERE e.active = %s {only}
        {_ON_CONFLICT}
        """,
        [
            Assignment.Reason.ONBOARDING, True, Assignment.Status.ASSIGNED,
            now, onboarding_due_at(now), True, *(ids or []),
        ],
    )  # fmt: skip


def engineer_assign_backlog(*, engineer: Engineer) -> int:
    """Give an engineer what their team's people already have (see
    engineers_assign_backlog)."""
    return engineers_assign_backlog(engineer_ids=[engineer.pk])


@transaction.atomic
def engineers_assign_backlog(*, engineer_ids: list[int]) -> int:
    """Give these engineers what their teams' people already have: each team's
    onboarding courses, and the training of every published release of the teams'
    SDKs that is not yet with customers. Set-based: one INSERT for the onboarding and
    one per open release, whatever the number of engineers (an HR sync's batch of
    new hires is one call). Inactive engineers and those without a team get nothing.
    Safe to call again; returns how many were created."""
    engineer_ids = sorted(set(engineer_ids))
    if not engineer_ids:
        return 0
    created = onboarding_assign(engineer_ids=engineer_ids)
    team_ids = (
        Engineer.objects.filter(pk__in=engineer_ids, active=True, team__isnull=False)
        .values_list("team_id", flat=True)
        .distinct()
    )
    releases = (
        Release.objects.filter(sdk__teams__in=team_ids, status=Release.Status.PUBLISHED)
        .distinct()
        .order_by("pk")  # their readiness snapshots are locked in this order
    )
    for release in releases:  # a handful of open releases, not thousands of rows
        created += release_assign_training(release=release, engineer_ids=engineer_ids)
    return created


@transaction.atomic
def assignments_create_manual(
    *, course: Course, engineer_ids: list[int], due_at: datetime, actor: Actor, note: str = ""
) -> tuple[int, int]:
    """A lead's (or an API client's) assignment of a course to engineers.

    Returns (created, existing). Engineers who already have the course keep their
    assignment untouched (its note too). The new ones record who assigned them (the
    user, or the API token) and the lead's `note` for the engineer. The assignment
    is audited in the same transaction. Queues nothing.
    """
    now = timezone.now()
    if due_at <= now:
        raise InvalidInput({"due_at": [gettext("The due date must be in the future.")]})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput({"note": [gettext("At most %(n)d characters.") % {"n": NOTE_MAX}]})
    engineer_ids = sorted(set(engineer_ids))
    if not engineer_ids:
        raise InvalidInput(
            {"engineers": [gettext("Name at least one engineer or a team with engineers.")]}
        )
    placeholders = ", ".join(["%s"] * len(engineer_ids))
    created = _execute(
        f"""INSERT INTO {_ASSIGNMENT}
            (engineer_id, course_id, release_id, reason, mandatory, status,
             assigned_by_id, assigned_by_token_id, note, assigned_at, due_at,
             completed_at, exempt_reason)
        SELECT e.id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, ''
        FROM {_ENGINEER} e
        WHERE e.id IN ({placeholders})
        {_ON_CONFLICT}
        """,
        [
            course.pk,
            course.release_id,
            Assignment.Reason.LEAD,
            True,
            Assignment.Status.ASSIGNED,
            actor.user.pk if actor.user else None,
            actor.token.pk if actor.user is None and actor.token is not None else None,
            note,
            now,
            due_at,
            *engineer_ids,
        ],
    )
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.ASSIGNMENT_MANUAL,
        release_id=course.release_id,
        details={
            "course": course.slug,
            "engineers": len(engineer_ids),
            "created": created,
            "due_at": due_at.isoformat(),
            "note": note,
            "by": actor.label,
        },
        **actor.audit_fields(),
    )
    return created, len(engineer_ids) - created


# Why an assignment is not a lead's to cancel, by its reason (called, so the words
# are of the language active when it is raised).
_NOT_CANCELLABLE: dict[str, Callable[[], str]] = {
    Assignment.Reason.ONBOARDING: lambda: gettext(
        "Only an assignment a lead made can be cancelled; this one is onboarding training."
    ),
    Assignment.Reason.RELEASE: lambda: gettext(
        "Only an assignment a lead made can be cancelled; this one is release training."
    ),
    Assignment.Reason.RECERTIFICATION: lambda: gettext(
        "Only an assignment a lead made can be cancelled; this one is a recertification."
    ),
}


@transaction.atomic
def assignment_cancel(*, assignment: Assignment, actor: Actor) -> None:
    """Withdraw an assignment a lead made, while it is not complete.

    Release, onboarding and finished assignments are not a lead's to take back:
    they raise Conflict and nothing changes. The row is locked first, so a quiz
    passed at the same moment either completes it before (Conflict) or finds it
    gone. Deletes the assignment and writes an AuditEvent(assignment_cancelled) in
    the same transaction. Queues nothing.
    """
    locked = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("engineer__user", "course")
        .filter(pk=assignment.pk)
        .first()
    )
    if locked is None:
        raise Conflict(gettext("This assignment no longer exists."))
    if locked.reason != Assignment.Reason.LEAD:
        raise Conflict(
            _NOT_CANCELLABLE.get(locked.reason, _NOT_CANCELLABLE[Assignment.Reason.RELEASE])(),
            reason=locked.reason,
        )
    if locked.status in Assignment.DONE:
        raise Conflict(
            gettext("This assignment is exempt; it can no longer be cancelled.")
            if locked.status == Assignment.Status.EXEMPT
            else gettext("This assignment is complete; it can no longer be cancelled."),
            status=locked.status,
        )
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.ASSIGNMENT_CANCELLED,
        release_id=locked.release_id,
        details={
            "course": locked.course.slug,
            "engineer": locked.engineer.user.get_username(),
            "status": locked.status,
            "due_at": locked.due_at.isoformat(),
            "assigned_by": locked.assigned_by_id,
            "by": actor.label,
        },
        **actor.audit_fields(),
    )
    locked.delete()

"""Recertification: before a skill record expires, the courses that renew it are assigned.

A record counts for PREFLIGHT_SKILL_VALID_DAYS after `verified_at`
(`training.selectors.skill_valid_until`). PREFLIGHT_RECERTIFY_DAYS before that, every
published course with a quiz that recertifies the skill (`Course.recertifies`) is
assigned to the engineer, mandatory, due at the expiry. Passing it renews the record
(`training.services.skills`), which moves the expiry, and completes the assignment.

"Once per expiry" rests on the assignment itself: an engineer has at most one
assignment of a course (the unique constraint the fan-out relies on), and its
`recertifies_until` says which expiry it was made for. The next expiry reopens that
same row instead of adding one, with a conditional UPDATE that matches only a
complete assignment made for an earlier expiry. So running the pass twice, or two
at once, assigns nothing more; a pass moves the expiry out of the window, and the
expiry after it reopens the row again. (A separate claim table keyed by engineer,
skill and expiry would need the assignment row reopened all the same, since the
course can be assigned to the engineer only once; one column says it with less.)
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DurationField
from django.utils import timezone

from courses.models import Course, Quiz
from training.models import Assignment, Engineer, SkillRecord
from training.services.assignments import adapt

_ASSIGNMENT = Assignment._meta.db_table
_ENGINEER = Engineer._meta.db_table
_SKILL_RECORD = SkillRecord._meta.db_table
_COURSE = Course._meta.db_table
_RECERTIFIES = Course.recertifies.through._meta.db_table
_QUIZ = Quiz._meta.db_table


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(p) for p in params])
        return max(cursor.rowcount, 0)


def _candidates(*, now: datetime) -> tuple[str, list]:
    """(engineer, course, release, expires_at) for each active engineer and each
    published course with a quiz that recertifies a skill in which the engineer's
    current record expires within PREFLIGHT_RECERTIFY_DAYS; `expires_at` is the
    earliest such expiry among the course's skills. One aggregate, no loop."""
    valid = timedelta(days=settings.PREFLIGHT_SKILL_VALID_DAYS)
    window = timedelta(days=settings.PREFLIGHT_RECERTIFY_DAYS)
    # The backend's own timestamp + duration (SQLite has no interval type), as the ORM
    # writes F("verified_at") + timedelta(...): the stored expiries compare equal to
    # those computed by the next run.
    expires_at = connection.ops.combine_duration_expression("+", ["MIN(sr.verified_at)", "%s"])
    sql = f"""
        SELECT sr.engineer_id AS engineer_id, cr.course_id AS course_id,
               c.release_id AS release_id, {expires_at} AS expires_at
        FROM {_SKILL_RECORD} sr
        JOIN {_RECERTIFIES} cr ON cr.skill_id = sr.skill_id
        JOIN {_COURSE} c ON c.id = cr.course_id
        JOIN {_ENGINEER} e ON e.id = sr.engineer_id
        WHERE e.active = %s AND c.status = %s
          AND sr.verified_at >= %s AND sr.verified_at <= %s
          AND EXISTS (SELECT 1 FROM {_QUIZ} q WHERE q.course_id = c.id)
        GROUP BY sr.engineer_id, cr.course_id, c.release_id
    """
    params = [
        DurationField().get_db_prep_value(valid, connection),
        True,
        Course.Status.PUBLISHED,
        now - valid,  # still current
        now + window - valid,  # expires within the window
    ]
    return sql, params


@transaction.atomic
def recertification_assign(*, now: datetime | None = None) -> dict[str, int]:
    """Assign each course that recertifies a skill to every active engineer whose
    current record in that skill expires within PREFLIGHT_RECERTIFY_DAYS: reason
    `recertification`, mandatory, due at the expiry (never before now: the records
    chosen are current), `recertifies_until` that expiry.

    Guarantees: once per expiry. An engineer without an assignment of the course
    gets one (INSERT … SELECT … ON CONFLICT DO NOTHING); one whose assignment of it
    is complete, not release training, and was made for an earlier expiry (or for
    no expiry: onboarding, a lead's) has it reopened for this one by a single
    conditional UPDATE: assigned again, now, by nobody, its completion cleared, so
    only a new pass completes it (training.selectors.assignments.attempts_since). An
    open assignment of the course is left as it is: finishing it renews the record.
    Release training is never reopened: it is what a release's readiness counts.
    Running it twice, or twice at once, creates and reopens nothing more.

    Two statements whatever the number of engineers; queues nothing (the
    reminders' beat pass finds the new due dates). Returns how many assignments
    were created and reopened. PREFLIGHT_RECERTIFY_DAYS = 0 assigns nothing.
    """
    if settings.PREFLIGHT_RECERTIFY_DAYS <= 0:
        return {"created": 0, "reopened": 0}
    now = now or timezone.now()
    candidates, candidate_params = _candidates(now=now)
    reopened = _execute(
        f"""
        UPDATE {_ASSIGNMENT}
        SET reason = %s, mandatory = %s, status = %s, assigned_by_id = NULL,
            assigned_at = %s, due_at = cand.expires_at, recertifies_until = cand.expires_at,
            started_at = NULL, completed_at = NULL, exempt_reason = ''
        FROM ({candidates}) cand
        WHERE {_ASSIGNMENT}.engineer_id = cand.engineer_id
          AND {_ASSIGNMENT}.course_id = cand.course_id
          AND {_ASSIGNMENT}.status = %s
          AND {_ASSIGNMENT}.reason <> %s
          AND ({_ASSIGNMENT}.recertifies_until IS NULL
               OR {_ASSIGNMENT}.recertifies_until < cand.expires_at)
        """,
        [
            Assignment.Reason.RECERTIFICATION, True, Assignment.Status.ASSIGNED, now,
            *candidate_params,
            Assignment.Status.COMPLETE, Assignment.Reason.RELEASE,
        ],
    )  # fmt: skip
    created = _execute(
        f"""
        INSERT INTO {_ASSIGNMENT}
            (engineer_id, course_id, release_id, reason, mandatory, status,
             assigned_by_id, assigned_at, due_at, completed_at, exempt_reason,
             recertifies_until)
        SELECT cand.engineer_id, cand.course_id, cand.release_id, %s, %s, %s,
               NULL, %s, cand.expires_at, NULL, '', cand.expires_at
        FROM ({candidates}) cand
        WHERE 1 = 1
        ON CONFLICT (engineer_id, course_id) DO NOTHING
        """,
        [
            Assignment.Reason.RECERTIFICATION, True, Assignment.Status.ASSIGNED, now,
            *candidate_params,
        ],
    )  # fmt: skip
    return {"created": created, "reopened": reopened}

"""Regrading the attempts that answered a question, after its answer key was wrong.

An author fixes the key by saving the course (the question gets a new version;
courses.services.courses) and then regrades: every submitted attempt that was asked
question `uid` (at one version, or at any) is graded again against the question's
current key, its answer as given. `question_regrade(dry_run=True)` lists what
would change (mark, score, pass or fail, the assignment's completion, skill
levels) and writes nothing; `dry_run=False` writes it all in one transaction.

What a regrade decides:
- The attempt keeps what it showed (texts, order, the keys its answer names); its
  snapshot takes the current key (`training.grading.rekey_question`), so the
  review page shows the key the mark was given by. An answer that cannot be
  carried over (the kind changed, a choice shown is gone) is left as it was and
  listed as skipped, with why.
- Essays are graded by people, never regraded. An attempt awaiting its grader gets
  the new mark of the regraded question (its score comes with the grader); a
  graded attempt with essays keeps their grades.
- Pass ↔ fail moves the assignment of the course: a pass that completes it (every
  lesson read, a published course) completes it; a pass taken away reopens it (in
  progress) unless another attempt still passes. An exemption never moves.
- Skill records: a pass raises records as grading does; a record whose evidence
  is a regraded attempt is recomputed from the engineer's passes as they now are
  (lowered, or removed when no pass shows the skill). An Expert level is a
  person's grant and is never lowered.
- Readiness of the course's release (and of every release whose assignment moved)
  is invalidated (training.readiness.keep.readiness_changed): the next read recounts.
- One AuditEvent(question_regraded) names who, the question and every attempt
  changed; once the transaction commits, a task mails each engineer whose score
  changed (`notify_engineers_of_regrade`).

Running it again changes nothing: the attempts already hold the current key.
"""

import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from smtplib import SMTPException
from typing import Any, TypedDict

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import NotFound
from core.queue import enqueue_on_commit
from courses.models import Course, Lesson, Question, Skill
from training.grading import mark, rekey_question, snapshot_question
from training.models import (
    Assignment,
    Attempt,
    AttemptAnswer,
    AuditEvent,
    LessonProgress,
    SkillLevel,
    SkillRecord,
)
from training.readiness.keep import readiness_changed
from training.selectors.assignments import attempts_since
from training.services.attempt_answers import attempt_answers_write
from training.services.attempts import grade
from training.services.mail import paragraphs_message, send, site_link
from training.services.progress import counts_as_training
from training.services.skills import level_for_score

logger = logging.getLogger(__name__)

OPEN = (Assignment.Status.ASSIGNED, Assignment.Status.IN_PROGRESS)
_EPOCH = datetime.min.replace(tzinfo=UTC)


class SkillChange(TypedDict):
    skill: str
    before: int | None  # SkillLevel; None: no record
    after: int | None


@dataclass
class AttemptChange:
    """What a regrade does to one attempt (before → after)."""

    attempt_id: int
    engineer_id: int
    username: str
    name: str
    number: int
    awaiting_grading: bool
    mark_before: float | None
    mark_after: float | None
    score_before: int | None
    score_after: int | None
    passed_before: bool | None
    passed_after: bool | None
    completion_before: str | None = None  # the assignment's status; None: no assignment
    completion_after: str | None = None
    skills: list[SkillChange] = field(default_factory=list)
    # What is written: the snapshot with the current key, the marks, the skill scores.
    snapshot: dict = field(default_factory=dict, repr=False)
    marks: dict = field(default_factory=dict, repr=False)
    skill_scores: dict = field(default_factory=dict, repr=False)
    skill_scores_before: dict = field(default_factory=dict, repr=False)
    submitted_at: datetime | None = None
    started_at: datetime | None = None

    @property
    def score_changed(self) -> bool:
        return self.score_before != self.score_after

    @property
    def flipped(self) -> bool:
        return self.passed_before != self.passed_after

    @property
    def completion_changed(self) -> bool:
        return self.completion_before != self.completion_after

    @property
    def visible(self) -> bool:
        """Listed: the mark, score, pass, completion or a skill level changes."""
        return (
            self.mark_before != self.mark_after
            or self.score_changed
            or self.flipped
            or self.completion_changed
            or bool(self.skills)
        )


@dataclass
class Skipped:
    attempt_id: int
    username: str
    number: int
    reason: str  # a code: "essay", "changed"


@dataclass
class RegradeResult:
    course: Course
    uid: str
    version: int | None  # the version regraded (None: every version)
    key_version: int  # the version whose key was applied
    dry_run: bool
    changes: list[AttemptChange]
    skipped: list[Skipped]
    rekeyed: int  # attempts whose snapshot took the current key (changed or not)
    event_id: int | None = None
    question: Question | None = None  # the current version, whose key was applied

    @property
    def flips(self) -> dict[str, int]:
        return {
            "pass_to_fail": sum(1 for c in self.changes if c.passed_before and c.flipped),
            "fail_to_pass": sum(1 for c in self.changes if c.passed_after and c.flipped),
        }


def regradable_question(*, course: Course, uid: str) -> Question:
    """The course's current question `uid`, with what a snapshot of it reads.
    Raises NotFound."""
    question = (
        Question.objects.filter(quiz__course=course, uid=uid)
        .select_related("skill", "feature", "pool")
        .prefetch_related("choices")
        .first()
    )
    if question is None:
        raise NotFound(gettext("This course has no question %(uid)s.") % {"uid": uid})
    return question


def question_regrade(
    *,
    course: Course,
    uid: str,
    version: int | None = None,
    actor: Actor,
    dry_run: bool = True,
    now: datetime | None = None,
) -> RegradeResult:
    """Regrade the attempts at `course`'s quiz that were asked question `uid` (at
    `version`, or at every version) against its current key; see the module.

    A dry run reads and returns the diff. Otherwise, atomically: the attempts are
    locked (in id order, so an essay grading or a second regrade waits), the diff is
    computed again under the lock, and written — attempts, assignments, skill
    records, one audit row, readiness invalidated last; the engineers' mail is
    queued on commit (`training.tasks.notify_regraded`). Raises NotFound for an
    unknown question."""
    now = now or timezone.now()
    question = regradable_question(course=course, uid=uid)
    current = snapshot_question(question, random.Random(0))
    if dry_run:
        result = _plan(course=course, uid=uid, version=version, current=current, lock=False)
        result.question = question
        return result
    with transaction.atomic():
        result = _plan(course=course, uid=uid, version=version, current=current, lock=True)
        result.question = question
        result.dry_run = False
        _apply(result, actor=actor, now=now)
    return result


def _plan(
    *, course: Course, uid: str, version: int | None, current: dict, lock: bool
) -> RegradeResult:
    # The graded attempts that answered the question, found by item analysis's rows
    # (answer_quiz_question_idx), and those awaiting a grader (no rows yet).
    answered = AttemptAnswer.objects.filter(quiz__course=course, uid=uid)
    if version is not None:
        answered = answered.filter(version=version)
    attempts = Attempt.objects.filter(quiz__course=course, submitted_at__isnull=False).filter(
        Q(pk__in=answered.values("attempt_id")) | Q(awaiting_grading=True)
    )
    if lock:
        attempts = attempts.select_for_update(of=("self",))
    rows = attempts.select_related("engineer__user").order_by("pk")
    changes: list[AttemptChange] = []
    skipped: list[Skipped] = []
    rekeyed = 0
    for attempt in rows:
        questions = attempt.snapshot.get("questions", [])
        hits = [
            n
            for n, q in enumerate(questions)
            if q.get("uid") == uid and (version is None or q.get("version") == version)
        ]
        if not hits:
            continue
        new_questions = list(questions)
        marks = dict(attempt.marks or {})
        mark_before = mark_after = None
        for n in hits:
            old = questions[n]
            field_ = str(old["id"])
            new = rekey_question(old, current)
            if new is None:
                reason = "essay" if old["kind"] == "essay" else "changed"
                skipped.append(
                    Skipped(
                        attempt.pk, attempt.engineer.user.get_username(), attempt.number, reason
                    )
                )
                continue
            new_questions[n] = new
            mark_before = marks.get(field_)
            mark_after = mark(new, attempt.answers.get(field_, []))
            marks[field_] = mark_after
        if new_questions == questions:
            continue
        rekeyed += 1
        snapshot = {**attempt.snapshot, "questions": new_questions}
        change = AttemptChange(
            attempt_id=attempt.pk,
            engineer_id=attempt.engineer_id,
            username=attempt.engineer.user.get_username(),
            name=attempt.engineer.name,
            number=attempt.number,
            awaiting_grading=attempt.awaiting_grading,
            mark_before=mark_before,
            mark_after=mark_after,
            score_before=attempt.score,
            score_after=attempt.score,
            passed_before=attempt.passed,
            passed_after=attempt.passed,
            snapshot=snapshot,
            marks=marks,
            skill_scores=attempt.skill_scores,
            skill_scores_before=attempt.skill_scores or {},
            submitted_at=attempt.submitted_at,
            started_at=attempt.started_at,
        )
        if not attempt.awaiting_grading:
            # Essays count as their grader's score, as when the attempt was graded.
            effective = dict(marks)
            for key, given in (attempt.essay_grades or {}).items():
                if effective.get(key) is None:
                    effective[key] = given["score"] / 100
            score, skill_scores = grade(snapshot=snapshot, answers=attempt.answers, marks=effective)
            change.score_after = score
            change.passed_after = score >= attempt.pass_mark
            change.skill_scores = skill_scores
        changes.append(change)
    _plan_completion(course, changes)
    _plan_skills(changes)
    return RegradeResult(
        course=course,
        uid=uid,
        version=version,
        key_version=current["version"],
        dry_run=True,
        changes=changes,
        skipped=skipped,
        rekeyed=rekeyed,
    )


def _plan_completion(course: Course, changes: list[AttemptChange]) -> None:
    """Each changed attempt's assignment status before and after: three queries."""
    engineers = {c.engineer_id for c in changes}
    if not engineers:
        return
    assignments = {
        a.engineer_id: a for a in Assignment.objects.filter(course=course, engineer__in=engineers)
    }
    flipped = {c.engineer_id for c in changes if c.flipped}
    regraded = {c.attempt_id for c in changes}
    passes: dict[int, list[datetime]] = defaultdict(list)
    lessons_read: dict[int, int] = {}
    lessons = 0
    if flipped:
        for pk, engineer_id, started_at in Attempt.objects.filter(
            quiz__course=course, engineer__in=flipped, passed=True
        ).values_list("pk", "engineer_id", "started_at"):
            if pk not in regraded:
                passes[engineer_id].append(started_at)
        for change in changes:
            if change.passed_after and change.started_at is not None:
                passes[change.engineer_id].append(change.started_at)
        lessons = Lesson.objects.filter(course=course).count()
        lessons_read = dict(
            LessonProgress.objects.filter(engineer__in=flipped, lesson__course=course)
            .values("engineer_id")
            .annotate(n=Count("pk"))
            .values_list("engineer_id", "n")
        )
    completes = counts_as_training(course, has_quiz=True)
    for change in changes:
        assignment = assignments.get(change.engineer_id)
        if assignment is None:
            continue
        change.completion_before = change.completion_after = assignment.status
        if change.engineer_id not in flipped or assignment.status == Assignment.Status.EXEMPT:
            continue
        since = attempts_since(assignment)
        passed = any(since is None or at >= since for at in passes[change.engineer_id])
        if assignment.status == Assignment.Status.COMPLETE and not passed:
            change.completion_after = Assignment.Status.IN_PROGRESS
        elif (
            assignment.status in OPEN
            and passed
            and completes
            and lessons_read.get(change.engineer_id, 0) >= lessons
        ):
            change.completion_after = Assignment.Status.COMPLETE


@dataclass
class _Best:
    level: int
    attempt_id: int
    at: datetime


def _plan_skills(changes: list[AttemptChange]) -> None:
    """The skill levels that move, per changed attempt (the first of the engineer's
    changed attempts carries the engineer's changes). Three queries."""
    moved = [c for c in changes if c.flipped or c.score_changed]
    if not moved:
        return
    engineers = {c.engineer_id for c in moved}
    regraded = {c.attempt_id: c for c in changes}
    slugs_of: dict[int, set[str]] = defaultdict(set)
    for change in moved:
        slugs_of[change.engineer_id] |= set(change.skill_scores)
    for change in moved:
        slugs_of[change.engineer_id] |= set(change.skill_scores_before)
    best: dict[tuple[int, str], _Best] = {}

    def consider(engineer_id: int, attempt_id: int, scores: dict, at: datetime) -> None:
        for slug, tally in (scores or {}).items():
            if slug not in slugs_of[engineer_id]:
                continue
            level = int(level_for_score(int(tally["score"])))
            held = best.get((engineer_id, slug))
            if held is None or (level, at) > (held.level, held.at):
                best[(engineer_id, slug)] = _Best(level, attempt_id, at)

    for pk, engineer_id, scores, at in Attempt.objects.filter(
        engineer__in=engineers, passed=True
    ).values_list("pk", "engineer_id", "skill_scores", "submitted_at"):
        if pk not in regraded:
            consider(engineer_id, pk, scores, at or _EPOCH)
    for change in changes:
        if change.engineer_id in engineers and change.passed_after:
            consider(
                change.engineer_id,
                change.attempt_id,
                change.skill_scores,
                change.submitted_at or _EPOCH,
            )
    records = {
        (engineer_id, slug): (level, evidence_id)
        for engineer_id, slug, level, evidence_id in SkillRecord.objects.filter(
            engineer__in=engineers, skill__slug__in=set().union(*slugs_of.values())
        ).values_list("engineer_id", "skill__slug", "level", "evidence_id")
    }
    first_of: dict[int, AttemptChange] = {}
    for change in moved:
        first_of.setdefault(change.engineer_id, change)
    for engineer_id, slugs in slugs_of.items():
        for slug in sorted(slugs):
            derived = best.get((engineer_id, slug))
            held = records.get((engineer_id, slug))
            after = _record_after(held, derived, regraded)
            before = held[0] if held else None
            if after is not None and after[0] != before:
                first_of[engineer_id].skills.append(
                    {"skill": slug, "before": before, "after": after[0]}
                )


def _record_after(
    held: tuple[int, int | None] | None, derived: _Best | None, regraded: dict
) -> tuple[int | None, _Best | None] | None:
    """(level after, the pass that shows it) for a record `held` as (level,
    evidence), or None when the record is left as it is."""
    if held is None:
        return (derived.level, derived) if derived else None
    level, evidence_id = held
    if evidence_id in regraded:
        if level == SkillLevel.EXPERT:
            return (level, derived)  # a person's grant: the level stays
        return (derived.level, derived) if derived else (None, None)
    if derived is not None and derived.level > level:
        return (derived.level, derived)
    return None


def _apply(result: RegradeResult, *, actor: Actor, now: datetime) -> None:
    changes = result.changes
    if not changes:
        return
    by_pk = {c.attempt_id: c for c in changes}
    attempts = list(Attempt.objects.filter(pk__in=by_pk).only("pk"))
    for attempt in attempts:
        change = by_pk[attempt.pk]
        attempt.snapshot = change.snapshot
        attempt.marks = change.marks
        attempt.score = change.score_after
        attempt.passed = change.passed_after
        attempt.skill_scores = change.skill_scores
    Attempt.objects.bulk_update(
        attempts, ["snapshot", "marks", "score", "passed", "skill_scores"], batch_size=500
    )
    # Item analysis reads the regraded marks: the graded attempts' rows rewritten.
    attempt_answers_write(
        attempts=Attempt.objects.filter(pk__in=by_pk, passed__isnull=False),
        replace=True,
        now=now,
    )
    course = result.course
    reopened = [
        c.engineer_id for c in changes if c.completion_after == Assignment.Status.IN_PROGRESS
    ]
    completed = [
        c.engineer_id
        for c in changes
        if c.completion_changed and c.completion_after == Assignment.Status.COMPLETE
    ]
    moved = Assignment.objects.filter(course=course, engineer__in=reopened + completed)
    release_ids = {course.release_id} | set(moved.values_list("release_id", flat=True))
    if reopened:
        Assignment.objects.filter(
            course=course, engineer__in=reopened, status=Assignment.Status.COMPLETE
        ).update(status=Assignment.Status.IN_PROGRESS, completed_at=None)
    if completed:
        Assignment.objects.filter(course=course, engineer__in=completed, status__in=OPEN).update(
            status=Assignment.Status.COMPLETE,
            completed_at=now,
            started_at=Coalesce(F("started_at"), now),
        )
    _apply_skills(changes, now=now)
    event = AuditEvent.objects.create(
        kind=AuditEvent.Kind.QUESTION_REGRADED,
        course=course,
        release_id=course.release_id,
        details={
            "by": actor.label,
            "uid": result.uid,
            "version": result.version,
            "key_version": result.key_version,
            "attempts": [
                {
                    "attempt": c.attempt_id,
                    "engineer": c.username,
                    "score": [c.score_before, c.score_after],
                    "passed": [c.passed_before, c.passed_after],
                    "completion": [c.completion_before, c.completion_after],
                    "skills": c.skills,
                }
                for c in changes
                if c.visible
            ],
            "rekeyed": result.rekeyed,
            "told": False,
        },
        created_at=now,
        **actor.audit_fields(),
    )
    result.event_id = event.pk
    enqueue_on_commit("training.tasks.notify_regraded", event.pk)
    readiness_changed(release_ids=[pk for pk in release_ids if pk is not None])


def _apply_skills(changes: list[AttemptChange], *, now: datetime) -> None:
    """The levels that move, then the records whose level stays but whose evidence
    is a pass this regrade took away: they point to the pass that shows them now."""
    moves = [(c.engineer_id, s) for c in changes for s in c.skills]
    failed = [c.attempt_id for c in changes if c.passed_before and not c.passed_after]
    stale = (
        list(
            SkillRecord.objects.filter(evidence_id__in=failed).values_list(
                "pk", "engineer_id", "skill__slug"
            )
        )
        if failed
        else []
    )
    if not moves and not stale:
        return
    wanted = {(e, s["skill"]) for e, s in moves} | {(e, slug) for _, e, slug in stale}
    evidence = _evidence(wanted)
    for pk, engineer_id, slug in stale:
        attempt_id, at = evidence.get((engineer_id, slug), (None, None))
        if attempt_id is None:
            SkillRecord.objects.filter(pk=pk).update(evidence_id=None)
        else:
            SkillRecord.objects.filter(pk=pk).update(evidence_id=attempt_id, verified_at=at)
    if not moves:
        return
    skill_ids = dict(
        Skill.objects.filter(slug__in={s["skill"] for _, s in moves}).values_list("slug", "pk")
    )
    for engineer_id, move in moves:
        skill_id = skill_ids[move["skill"]]
        records = SkillRecord.objects.filter(engineer_id=engineer_id, skill_id=skill_id)
        if move["after"] is None:
            records.delete()
            continue
        attempt_id, at = evidence.get((engineer_id, move["skill"]), (None, now))
        if move["before"] is None:
            SkillRecord.objects.create(
                engineer_id=engineer_id,
                skill_id=skill_id,
                level=move["after"],
                evidence_id=attempt_id,
                verified_at=at,
            )
        else:
            records.update(level=move["after"], evidence_id=attempt_id, verified_at=at)


def _evidence(wanted: set[tuple[int, str]]) -> dict[tuple[int, str], tuple[int, datetime]]:
    """The pass that shows each (engineer, skill)'s level now, the regrade written:
    their best pass in that skill, the latest of equals (one query)."""
    found: dict[tuple[int, str], tuple[int, int, datetime]] = {}
    rows = Attempt.objects.filter(engineer__in={e for e, _ in wanted}, passed=True).values_list(
        "pk", "engineer_id", "skill_scores", "submitted_at"
    )
    for pk, engineer_id, scores, submitted_at in rows:
        at = submitted_at or _EPOCH  # a passed attempt always has one
        for slug, tally in (scores or {}).items():
            if (engineer_id, slug) not in wanted:
                continue
            level = int(level_for_score(int(tally["score"])))
            held = found.get((engineer_id, slug))
            if held is None or (level, at) > (held[0], held[2]):
                found[(engineer_id, slug)] = (level, pk, at)
    return {key: (pk, at) for key, (_, pk, at) in found.items()}


def notify_engineers_of_regrade(*, event_id: int) -> int:
    """Email each engineer whose score a regrade changed: the attempt, the score
    before and after, pass or not. Once: the audit row's `told` is claimed by a
    conditional UPDATE first, so a retried task sends nothing. A mail server that is
    down is logged, not raised. Returns messages sent."""
    event = AuditEvent.objects.filter(pk=event_id, kind=AuditEvent.Kind.QUESTION_REGRADED).first()
    if event is None or event.details.get("told"):
        return 0
    claimed = AuditEvent.objects.filter(pk=event_id, details=event.details).update(
        details={**event.details, "told": True}
    )
    if not claimed:
        return 0
    told = {
        row["attempt"]: row
        for row in event.details.get("attempts", [])
        if row["score"][0] != row["score"][1]
    }
    attempts = Attempt.objects.filter(pk__in=told).select_related("engineer__user", "quiz__course")
    sent = 0
    for attempt in attempts:
        engineer = attempt.engineer
        if not engineer.user.email:
            continue
        before, after = told[attempt.pk]["score"]
        facts = {
            "course": attempt.quiz.course.title,
            "n": attempt.number,
            "before": before,
            "after": after,
            "mark": attempt.pass_mark,
        }
        with translation.override(engineer.language):
            verdict = gettext("You passed.") if attempt.passed else gettext("You did not pass.")
            link = site_link("attempt", attempt.pk)
            message = paragraphs_message(
                subject=gettext("[Preflight] Your quiz of %(course)s has been regraded") % facts,
                paragraphs=[
                    gettext(
                        "A question of the quiz of “%(course)s” had a wrong answer key; "
                        "attempt %(n)s has been graded again with the corrected one."
                    )
                    % facts,
                    gettext("Score: %(before)s%% → %(after)s%% (pass mark %(mark)s%%).") % facts
                    + " "
                    + verdict,
                ],
                to=[engineer.user.email],
                language=engineer.language,
                link=link,
                link_text=gettext("Your result: %(url)s") % {"url": link},
                link_label=gettext("Open your result"),
            )
        try:
            sent += send(message)
        except (SMTPException, OSError):
            logger.exception("could not email %s about regraded attempt %s", engineer, attempt.pk)
    return sent


def regrade_payload(result: RegradeResult) -> dict[str, Any]:
    """The result as the API returns it."""
    return {
        "course": result.course.slug,
        "uid": result.uid,
        "version": result.version,
        "key_version": result.key_version,
        "dry_run": result.dry_run,
        "rekeyed": result.rekeyed,
        "flips": result.flips,
        "attempts": [
            {
                "attempt": c.attempt_id,
                "engineer": c.username,
                "number": c.number,
                "awaiting_grading": c.awaiting_grading,
                "mark": {"before": c.mark_before, "after": c.mark_after},
                "score": {"before": c.score_before, "after": c.score_after},
                "passed": {"before": c.passed_before, "after": c.passed_after},
                "completion": {"before": c.completion_before, "after": c.completion_after},
                "skills": c.skills,
            }
            for c in result.changes
            if c.visible
        ],
        "skipped": [
            {
                "attempt": s.attempt_id,
                "engineer": s.username,
                "number": s.number,
                "reason": s.reason,
            }
            for s in result.skipped
        ],
    }

"""Quiz attempts: start one from a snapshot of the quiz, grade it once.

The snapshot holds the questions and choices with the key, in the order this
attempt shows them (shuffled with a seed kept in the snapshot), plus the quiz's
pass mark and attempt limit at that moment. Pages show it, grading reads it; the
live quiz is never consulted again, so editing a course cannot rewrite a score.

Choices are addressed in forms by their position in the attempt's own shuffled
order ("0", "1", …): an id or a stored position could leak which choice was
written first, and authors often write the right one first.
"""

import logging
import random
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from smtplib import SMTPException
from typing import Any, TypedDict

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.errors import Conflict, InvalidInput
from core.queue import enqueue_on_commit
from courses.models import Question, Quiz, QuizSlot
from training.grading import clean_answer, mark, percent, snapshot_question, tidy
from training.models import Assignment, Attempt, Engineer
from training.selectors.assignments import attempts_since
from training.selectors.attempt_limits import attempts_allowed
from training.services.attempt_answers import attempt_answers_write
from training.services.mail import paragraphs_message, person_languages, send, site_link
from training.services.progress import assignment_complete_if_done, assignment_start
from training.services.skills import skill_records_update_from_attempt

logger = logging.getLogger(__name__)

SNAPSHOT_VERSION = 2


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One graded question, for the result page."""

    question: dict
    selected: frozenset[str]
    right: bool
    mark: float | None = None  # share of the mark earned; None: an essay not graded yet
    answer: tuple[str, ...] = ()  # what was given, in order (texts, places, matches)
    grade: dict | None = None  # an essay's {"score", "feedback"} once graded

    @property
    def partial(self) -> bool:
        return self.mark is not None and 0 < self.mark < 1

    @property
    def pending(self) -> bool:
        return self.mark is None


def draw_questions(
    *, quiz: Quiz, rng: random.Random, seen: set[str]
) -> tuple[list[int], list[dict]]:
    """The ids of the questions an attempt asks, and what each slot drew.

    A quiz without slots asks its own questions. A pool slot draws its `draw`
    questions (of its feature, if it names one) at random from `rng`, first among
    those the engineer has not `seen` at this quiz (by `uid`, so a question keeps
    counting as seen across edits of the course); only when too few unseen remain
    does it draw seen ones too. Two slots never draw the same question. Two
    queries: the slots, and the ids, names and features of the pools' questions.
    """
    slots = list(
        QuizSlot.objects.filter(quiz=quiz)
        .order_by("position")
        .values_list("question_id", "pool_id", "draw", "feature_id")
    )
    if not slots:
        own = list(
            Question.objects.filter(quiz=quiz, pool__isnull=True)
            .order_by("position")
            .values_list("pk", flat=True)
        )
        return own, []
    pool_ids = {pool_id for _, pool_id, _, _ in slots if pool_id is not None}
    candidates: dict[int, list[tuple[int, str, int | None]]] = defaultdict(list)
    if pool_ids:
        rows = (
            Question.objects.filter(pool_id__in=pool_ids)
            .order_by("position")
            .values_list("pool_id", "pk", "uid", "feature_id")
        )
        for pool_id, pk, uid, feature_id in rows:
            candidates[pool_id].append((pk, uid, feature_id))
    ids: list[int] = []
    taken: set[int] = set()
    record: list[dict] = []
    for question_id, pool_id, draw, feature_id in slots:
        if question_id is not None:
            ids.append(question_id)
            taken.add(question_id)
            continue
        pool = [
            (pk, uid)
            for pk, uid, feature in candidates[pool_id]
            if pk not in taken and (feature_id is None or feature == feature_id)
        ]
        unseen = [item for item in pool if item[1] not in seen]
        again = [item for item in pool if item[1] in seen]
        count = min(draw or 0, len(pool))
        chosen = rng.sample(unseen, min(count, len(unseen)))
        if len(chosen) < count:
            chosen += rng.sample(again, count - len(chosen))
        ids += [pk for pk, _ in chosen]
        taken.update(pk for pk, _ in chosen)
        record.append(
            {"pool": pool_id, "feature": feature_id, "draw": draw, "drew": [u for _, u in chosen]}
        )
    return ids, record


def quiz_snapshot(*, quiz: Quiz, seed: int, seen: set[str] | None = None) -> dict:
    """The questions an attempt asks, drawn and shuffled by `seed` (see
    `draw_questions`), each with its key and its own shuffled display order."""
    rng = random.Random(seed)
    ids, slots = draw_questions(quiz=quiz, rng=rng, seen=seen or set())
    by_id = {
        question.pk: question
        for question in Question.objects.filter(pk__in=ids)
        .select_related("skill", "feature", "pool")
        .prefetch_related("choices")
    }
    questions = [snapshot_question(by_id[pk], rng) for pk in ids if pk in by_id]
    rng.shuffle(questions)
    return {
        "version": SNAPSHOT_VERSION,
        "seed": seed,
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts,
        "slots": slots,
        "questions": questions,
    }


class _LostRace(Exception):
    """Another start created attempt `number` first (the unique constraint)."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


def attempt_start(*, engineer: Engineer, quiz: Quiz, now: datetime | None = None) -> Attempt:
    """Start an attempt, or return the engineer's attempt of this quiz still open.

    Raises Conflict when the quiz is already passed, an attempt awaits a grader,
    the quiz asks no questions, or every attempt is used: the quiz's
    `max_attempts` plus those a lead granted the engineer's assignment
    (`extra_attempts`). Two starts at once (two tabs) cannot both create attempt
    N: the (engineer, quiz, number) constraint lets one win; the other's
    transaction (a savepoint, when the caller has one open) is rolled back whole and
    it returns the winner's attempt. Starts the engineer's assignment of the course.

    The attempt draws its questions now (`quiz_snapshot`), preferring those the
    engineer has not seen in earlier attempts, and keeps them: a reload shows the
    same questions. One read of the earlier attempts serves the limits and the
    questions seen. Nine statements with BEGIN and COMMIT: the race is caught
    outside the transaction, so the INSERT needs no savepoint of its own.
    """
    try:
        with transaction.atomic():
            return _attempt_start(engineer=engineer, quiz=quiz, now=now or timezone.now())
    except _LostRace as lost:
        # The winner's attempt is the one to show.
        return Attempt.objects.get(engineer=engineer, quiz=quiz, number=lost.number)


def _attempt_start(*, engineer: Engineer, quiz: Quiz, now: datetime) -> Attempt:
    assignment = Assignment.objects.filter(engineer=engineer, course_id=quiz.course_id).first()
    all_attempts = Attempt.objects.filter(engineer=engineer, quiz=quiz)
    earlier = list(
        all_attempts.order_by("number").values_list(
            "pk", "number", "started_at", "submitted_at", "passed", "awaiting_grading", "drawn"
        )
    )
    # Those that count: a recertification's since it was (re)assigned, else all.
    since = attempts_since(assignment)
    counted = [row for row in earlier if since is None or row[2] >= since]
    open_attempt = next((row for row in counted if row[3] is None), None)
    if open_attempt is not None:
        return all_attempts.get(pk=open_attempt[0])
    if any(row[4] for row in counted):
        raise Conflict(gettext("You have already passed this quiz."))
    if any(row[5] for row in counted):
        raise Conflict(
            gettext("Your last attempt is awaiting grading; you will be told by mail when it is.")
        )
    allowed = attempts_allowed(max_attempts=quiz.max_attempts, assignment=assignment)
    if len(counted) >= allowed:
        raise Conflict(
            gettext("You have used every attempt this quiz allows."),
            max_attempts=allowed,
        )
    seen = {uid for row in earlier for uid in (row[6] or [])}
    snapshot = quiz_snapshot(quiz=quiz, seed=secrets.randbits(32), seen=seen)
    if not snapshot["questions"]:
        raise Conflict(gettext("This quiz has no questions yet."))
    # Numbers run on across recertifications: (engineer, quiz, number) is unique.
    number = (earlier[-1][1] if earlier else 0) + 1
    try:
        attempt = Attempt.objects.create(
            engineer=engineer,
            quiz=quiz,
            assignment=assignment,
            number=number,
            pass_mark=quiz.pass_mark,
            snapshot=snapshot,
            drawn=[question["uid"] for question in snapshot["questions"] if question.get("uid")],
            started_at=now,
        )
    except IntegrityError as exc:
        # Lost the race for this number: the transaction is spoilt on PostgreSQL,
        # so leave it (attempt_start rolls it back) and read the winner's after.
        raise _LostRace(number) from exc
    if assignment is not None:
        assignment_start(assignment=assignment, now=now)
    return attempt


def _attempts_used(attempt: Attempt) -> int:
    """How many attempts count against the limit, this one included: its number,
    or within a recertification, those started since it was (re)assigned."""
    since = attempts_since(attempt.assignment)
    if since is None:
        return attempt.number
    return Attempt.objects.filter(
        engineer_id=attempt.engineer_id,
        quiz_id=attempt.quiz_id,
        started_at__gte=since,
        number__lte=attempt.number,
    ).count()


def clean_answers(*, snapshot: dict, answers: dict[str, list[str]]) -> dict[str, list[str]]:
    """Check submitted answers against the snapshot: every question answered, in
    the shape its kind takes (training.grading.clean_answer).

    `answers` maps a question id (as a string) to a list of strings. Raises
    InvalidInput naming each question (`q<id>`) that is wrong; returns the answers
    normalised.
    """
    cleaned: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for question in snapshot["questions"]:
        field = str(question["id"])
        given = answers.get(field) or []
        if not isinstance(given, list):
            given = [given]
        value, error = clean_answer(question, given)
        if error is not None or value is None:
            errors[f"q{field}"] = [error or gettext("Choose an answer.")]
        else:
            cleaned[field] = value
    if errors:
        raise InvalidInput(errors)
    return cleaned


def marks_of(*, snapshot: dict, answers: dict[str, list[str]]) -> dict[str, float | None]:
    """Each question's share of its mark (None: an essay, for a person to grade)."""
    return {
        str(question["id"]): mark(question, answers.get(str(question["id"]), []))
        for question in snapshot["questions"]
    }


def grade(
    *, snapshot: dict, answers: dict[str, list[str]], marks: dict | None = None
) -> tuple[int, dict]:
    """Score (whole percent of the questions' marks, rounded down) and per-skill
    scores. Each question is worth one mark, earned in part where its kind gives
    partial credit (fractions, partial ordering or matching); an essay counts as
    its grader's score. Without fractions a choice question is all or nothing: for
    multiple choice, every correct choice and no wrong one.
    """
    if marks is None:
        marks = marks_of(snapshot=snapshot, answers=answers)
    total = 0.0
    per_skill: dict[str, dict] = {}
    for question in snapshot["questions"]:
        earned = marks.get(str(question["id"])) or 0.0
        total += earned
        if question["skill"]:
            tally = per_skill.setdefault(question["skill"], {"right": 0.0, "total": 0})
            tally["right"] += earned
            tally["total"] += 1
    for tally in per_skill.values():
        tally["score"] = percent(tally["right"], tally["total"])
        tally["right"] = tidy(tally["right"])
    return percent(total, len(snapshot["questions"])), per_skill


def is_right(*, question: dict, selected: list[str] | frozenset[str]) -> bool:
    """Whether a choice question's selection earns its whole mark."""
    return mark(question, sorted(selected)) == 1


def attempt_results(*, attempt: Attempt) -> list[QuestionResult]:
    """The graded questions of a submitted attempt, in the order they were shown."""
    marks = attempt.marks or marks_of(snapshot=attempt.snapshot, answers=attempt.answers)
    results = []
    for question in attempt.snapshot["questions"]:
        field = str(question["id"])
        given = attempt.answers.get(field, [])
        earned = marks.get(field)
        grade_given = (attempt.essay_grades or {}).get(field)
        if earned is None and grade_given is not None:
            earned = grade_given["score"] / 100
        results.append(
            QuestionResult(
                question=question,
                selected=frozenset(given),
                right=earned == 1,
                mark=earned,
                answer=tuple(given),
                grade=grade_given,
            )
        )
    return results


@transaction.atomic
def attempt_submit(
    *, attempt: Attempt, answers: dict[str, list[str]], now: datetime | None = None
) -> Attempt:
    """Grade an attempt once and record what follows from it.

    The grade is written by a conditional UPDATE that only an ungraded attempt
    matches, so a double click or a second tab cannot grade it again: the later
    submission gets the attempt as first graded, and its answers are ignored.
    Answers are validated first (InvalidInput, nothing written).

    An attempt with an essay is only submitted: it awaits a grader
    (`attempt_grade_essays`), and nothing follows until then. Otherwise the one
    grading call (`_record_grade`): on a pass, raises the engineer's skill records
    and completes the assignment if every lesson is read; on a failed last
    attempt, emails the team's leads once the transaction commits.
    """
    if attempt.submitted_at is not None:
        return attempt
    cleaned = clean_answers(snapshot=attempt.snapshot, answers=answers)
    marks = marks_of(snapshot=attempt.snapshot, answers=cleaned)
    now = now or timezone.now()
    if any(value is None for value in marks.values()):
        submitted = {
            "submitted_at": now,
            "answers": cleaned,
            "marks": marks,
            "awaiting_grading": True,
        }
        claimed = Attempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(
            **submitted
        )
        if not claimed:
            attempt.refresh_from_db(fields=[*submitted, "score", "passed", "skill_scores"])
            return attempt
        for field, value in submitted.items():
            setattr(attempt, field, value)
        return attempt
    score, skill_scores = grade(snapshot=attempt.snapshot, answers=cleaned, marks=marks)
    graded = {"submitted_at": now, "answers": cleaned, "marks": marks}
    attempt, _ = _record_grade(
        attempt=attempt,
        score=score,
        skill_scores=skill_scores,
        fields=graded,
        claim=Q(submitted_at__isnull=True),
        now=now,
    )
    return attempt


def _record_grade(
    *,
    attempt: Attempt,
    score: int,
    skill_scores: dict,
    fields: dict,
    claim: Q,
    now: datetime,
) -> tuple[Attempt, bool]:
    """Write a final grade with a conditional UPDATE (`claim`: the state only an
    ungraded attempt is in), then what follows from it: a pass raises skill
    records and completes the assignment (readiness follows it); a failed last
    attempt owes the leads a mail. Returns the attempt as graded, by this call or,
    when the claim lost, by the one that won; and whether this call graded it."""
    passed = score >= attempt.pass_mark
    # The limit the attempt started under, plus what a lead has granted since.
    last_failed = not passed and _attempts_used(attempt) >= attempts_allowed(
        max_attempts=attempt.snapshot.get("max_attempts", attempt.quiz.max_attempts),
        assignment=attempt.assignment,
    )
    graded = {**fields, "score": score, "passed": passed, "skill_scores": skill_scores}
    if last_failed:
        # The leads' mail is owed from the moment the grade is: same row, same UPDATE.
        graded["lead_notice"] = Attempt.LeadNotice.PENDING
    claimed = Attempt.objects.filter(claim, pk=attempt.pk).update(**graded)
    if not claimed:
        # Graded meanwhile: reload what that grading wrote. The rest of the row (the
        # snapshot above all, the largest part) is never written after the start.
        attempt.refresh_from_db(fields=list(graded))
        return attempt, False
    # The row now holds exactly these values: no need to read them back.
    for field, value in graded.items():
        setattr(attempt, field, value)
    # Item analysis's rows (training.models.AttemptAnswer): one INSERT.
    attempt_answers_write(attempts=[attempt], now=now)

    assignment = attempt.assignment
    if passed:
        skill_records_update_from_attempt(attempt=attempt)
        if assignment is not None:
            # This attempt is a pass of the course's quiz (a course has one quiz):
            # nothing to read to know it.
            assignment_complete_if_done(
                assignment=assignment,
                now=now,
                quiz_passed=assignment.course_id == attempt.quiz.course_id,
            )
    elif last_failed:
        # A task, so the engineer's request never waits on the mail server; if it is
        # lost, the beat's pass (send_pending_lead_notices) sends the mail.
        enqueue_on_commit("training.tasks.notify_last_failed_attempt", attempt.pk)
    return attempt, True


class EssayGrade(TypedDict):
    score: int  # 0..100
    feedback: str


MAX_FEEDBACK = 5000


@transaction.atomic
def attempt_grade_essays(
    *, attempt: Attempt, grades: dict[str, EssayGrade], grader: Any, now: datetime | None = None
) -> Attempt:
    """A grader's scores (0 to 100) and feedback for every essay of an attempt
    awaiting grading; the attempt is then graded as any other (`_record_grade`:
    pass or fail, skill records, the assignment's completion and so readiness)
    and the engineer is told by mail once the transaction commits.

    The caller has checked the grader may grade this attempt
    (training.selectors.access.gradable_attempts). Raises InvalidInput naming each
    essay (`q<id>`) without a valid score, and Conflict when the attempt does not
    await grading (graded already, by someone else in another tab: the claim is
    a conditional UPDATE, so it is graded once).
    """
    if not attempt.awaiting_grading:
        raise Conflict(gettext("This attempt is not awaiting grading."))
    essays = [q for q in attempt.snapshot["questions"] if attempt.marks.get(str(q["id"])) is None]
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, EssayGrade] = {}
    for question in essays:
        field = str(question["id"])
        given: Any = grades.get(field) or {}
        score = given.get("score") if isinstance(given, dict) else None
        feedback = given.get("feedback", "") if isinstance(given, dict) else ""
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            errors[f"q{field}"] = [gettext("Give a score from 0 to 100.")]
        elif not isinstance(feedback, str) or "\x00" in feedback or len(feedback) > MAX_FEEDBACK:
            errors[f"q{field}"] = [
                gettext("Feedback is text of at most %(n)s characters.") % {"n": MAX_FEEDBACK}
            ]
        else:
            cleaned[field] = {"score": score, "feedback": feedback.strip()}
    if errors:
        raise InvalidInput(errors)
    now = now or timezone.now()
    marks = dict(attempt.marks)
    for field, given in cleaned.items():
        marks[field] = given["score"] / 100
    score, skill_scores = grade(snapshot=attempt.snapshot, answers=attempt.answers, marks=marks)
    attempt, claimed = _record_grade(
        attempt=attempt,
        score=score,
        skill_scores=skill_scores,
        fields={
            "awaiting_grading": False,
            "essay_grades": cleaned,
            "graded_by": grader,
            "graded_at": now,
        },
        claim=Q(awaiting_grading=True),
        now=now,
    )
    if not claimed:
        raise Conflict(gettext("This attempt has just been graded by someone else."))
    enqueue_on_commit("training.tasks.notify_attempt_graded", attempt.pk)
    return attempt


def notify_engineer_of_grade(*, attempt_id: int) -> int:
    """Email the engineer that their attempt has been graded: score, pass or not.
    A mail server that is down is logged, not raised. Returns messages sent."""
    attempt = (
        Attempt.objects.select_related("engineer__user", "quiz__course")
        .filter(pk=attempt_id, awaiting_grading=False, passed__isnull=False)
        .first()
    )
    if attempt is None or not attempt.engineer.user.email:
        return 0
    engineer = attempt.engineer
    facts = {
        "course": attempt.quiz.course.title,
        "n": attempt.number,
        "score": attempt.score,
        "mark": attempt.pass_mark,
    }
    with translation.override(engineer.language):
        verdict = gettext("You passed.") if attempt.passed else gettext("You did not pass.")
        link = site_link("attempt", attempt.pk)
        message = paragraphs_message(
            subject=gettext("[Preflight] Your quiz of %(course)s has been graded") % facts,
            paragraphs=[
                gettext("Attempt %(n)s at the quiz of “%(course)s” has been graded.") % facts,
                gettext("Score: %(score)s%% (pass mark %(mark)s%%).") % facts + " " + verdict,
            ],
            to=[engineer.user.email],
            language=engineer.language,
            link=link,
            link_text=gettext("The feedback: %(url)s") % {"url": link},
            link_label=gettext("Read the feedback"),
        )
    try:
        return send(message)
    except (SMTPException, OSError):
        logger.exception("could not email the engineer about graded attempt %s", attempt_id)
        return 0


def notify_leads_of_last_failed_attempt(*, attempt_id: int) -> int:
    """Email the engineer's team leads that the engineer failed their last attempt,
    once: the attempt's pending `lead_notice` is claimed (pending → sent) first, so
    a second task or the beat's pass sends nothing. An engineer with no team, or a
    team without a lead with an address, has nobody to tell: the notice is spent.
    A mail server that is down is logged, not raised (the engineer's result is
    recorded), and the notice put back to pending for the beat's next pass.
    Returns messages sent.
    """
    claimed = Attempt.objects.filter(pk=attempt_id, lead_notice=Attempt.LeadNotice.PENDING).update(
        lead_notice=Attempt.LeadNotice.SENT
    )
    if not claimed:
        return 0
    attempt = Attempt.objects.select_related(
        "engineer__user", "engineer__team", "quiz__course"
    ).get(pk=attempt_id)
    engineer = attempt.engineer
    if engineer.team is None:
        return 0
    leads = [(pk, email) for pk, email in engineer.team.leads.values_list("pk", "email") if email]
    if not leads:
        return 0
    # Each lead reads it in their language (an engineer profile's, else their
    # preferences', else the default one). One mail per language.
    languages = person_languages(pk for pk, _ in leads)
    by_language: dict[str, set[str]] = defaultdict(set)
    for pk, email in leads:
        by_language[languages.get(pk, settings.LANGUAGE_CODE)].add(email)
    course = attempt.quiz.course
    facts = {
        "name": engineer.name,
        "username": engineer.username,
        "region": engineer.region,
        "n": attempt.number,
        "course": course.title,
        "score": attempt.score,
        "mark": attempt.pass_mark,
    }
    link = site_link("lead_engineer", engineer.username)
    sent, failed = 0, False
    for language, recipients in sorted(by_language.items()):
        with translation.override(language):
            message = paragraphs_message(
                subject=gettext("[Preflight] %(name)s failed the quiz of %(course)s") % facts,
                paragraphs=[
                    gettext(
                        "%(name)s (%(username)s, %(region)s) has used all %(n)s attempts at the "
                        "quiz of “%(course)s” without passing."
                    )
                    % facts,
                    gettext("Last score: %(score)s%% (pass mark %(mark)s%%).") % facts
                    + "\n"
                    + gettext("They cannot take the quiz again; please follow up with them."),
                ],
                link=link,
                link_text=gettext("Their page: %(url)s") % {"url": link},
                link_label=gettext("Open their page"),
                to=sorted(recipients),
                language=language,
            )
        try:
            sent += send(message)
        except (SMTPException, OSError):
            logger.exception("could not email the leads about attempt %s", attempt_id)
            failed = True
    if failed:
        # Sent again whole by the beat's next pass (a lead of another language may
        # then get theirs twice: better than a lead who never hears).
        Attempt.objects.filter(pk=attempt_id).update(lead_notice=Attempt.LeadNotice.PENDING)
    return sent


def send_pending_lead_notices(*, limit: int = 500) -> int:
    """The beat's pass: send every lead notice still pending (its task was lost with
    a broker outage or a killed worker, or its mail failed). Returns messages sent."""
    pending = Attempt.objects.filter(lead_notice=Attempt.LeadNotice.PENDING).order_by("pk")
    return sum(
        notify_leads_of_last_failed_attempt(attempt_id=pk)
        for pk in pending.values_list("pk", flat=True)[:limit]
    )

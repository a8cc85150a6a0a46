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

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext

from core.errors import Conflict, InvalidInput
from core.queue import enqueue_on_commit
from courses.models import Question, Quiz
from training.models import Assignment, Attempt, Engineer
from training.selectors.assignments import attempts_since
from training.selectors.attempt_limits import attempts_allowed
from training.services.mail import paragraphs_message, person_languages, send, site_link
from training.services.progress import assignment_complete_if_done, assignment_start
from training.services.skills import skill_records_update_from_attempt

logger = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One graded question, for the result page."""

    question: dict
    selected: frozenset[str]
    right: bool


def quiz_snapshot(*, quiz: Quiz, seed: int) -> dict:
    """The quiz as it is now, questions and each question's choices shuffled by `seed`."""
    rng = random.Random(seed)
    questions = []
    for question in quiz.questions.select_related("skill").prefetch_related("choices"):
        choices = [
            {"id": choice.pk, "text": choice.text, "correct": choice.correct}
            for choice in question.choices.all()
        ]
        rng.shuffle(choices)
        for key, choice in enumerate(choices):
            choice["key"] = str(key)
        questions.append(
            {
                "id": question.pk,
                "kind": question.kind,
                "prompt": question.prompt,
                "explanation": question.explanation,
                "skill": question.skill.slug if question.skill is not None else None,
                "choices": choices,
            }
        )
    rng.shuffle(questions)
    return {
        "version": SNAPSHOT_VERSION,
        "seed": seed,
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts,
        "questions": questions,
    }


@transaction.atomic
def attempt_start(*, engineer: Engineer, quiz: Quiz, now: datetime | None = None) -> Attempt:
    """Start an attempt, or return the engineer's attempt of this quiz still open.

    Raises Conflict when the quiz is already passed, has no questions, or every
    attempt is used: the quiz's `max_attempts` plus those a lead granted the
    engineer's assignment (`extra_attempts`). Two starts at once (two tabs) cannot both
    create attempt N: the (engineer, quiz, number) constraint lets one win and the
    other returns the winner's attempt. Starts the engineer's assignment of the
    course.
    """
    now = now or timezone.now()
    assignment = Assignment.objects.filter(engineer=engineer, course_id=quiz.course_id).first()
    all_attempts = Attempt.objects.filter(engineer=engineer, quiz=quiz)
    # Those that count: a recertification's since it was (re)assigned, else all.
    attempts = all_attempts
    since = attempts_since(assignment)
    if since is not None:
        attempts = attempts.filter(started_at__gte=since)
    open_attempt = attempts.filter(submitted_at__isnull=True).order_by("number").first()
    if open_attempt is not None:
        return open_attempt
    if attempts.filter(passed=True).exists():
        raise Conflict(gettext("You have already passed this quiz."))
    allowed = attempts_allowed(max_attempts=quiz.max_attempts, assignment=assignment)
    if attempts.count() >= allowed:
        raise Conflict(
            gettext("You have used every attempt this quiz allows."),
            max_attempts=allowed,
        )
    if not quiz.questions.exists():
        raise Conflict(gettext("This quiz has no questions yet."))
    # Numbers run on across recertifications: (engineer, quiz, number) is unique.
    number = (all_attempts.aggregate(last=Max("number"))["last"] or 0) + 1
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                engineer=engineer,
                quiz=quiz,
                assignment=assignment,
                number=number,
                pass_mark=quiz.pass_mark,
                snapshot=quiz_snapshot(quiz=quiz, seed=secrets.randbits(32)),
                started_at=now,
            )
    except IntegrityError:
        # Lost the race for this number: the winner's attempt is the one to show.
        return all_attempts.get(number=number)
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
    """Check submitted answers against the snapshot: every question answered, only
    its own choice keys, exactly one for a single-choice question.

    `answers` maps a question id (as a string) to choice keys. Raises InvalidInput
    naming each question (`q<id>`) that is wrong; returns the answers normalised.
    """
    cleaned: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for question in snapshot["questions"]:
        field = str(question["id"])
        keys = {choice["key"] for choice in question["choices"]}
        given = sorted(set(answers.get(field) or []))
        if not given:
            errors[f"q{field}"] = [gettext("Choose an answer.")]
        elif not set(given) <= keys:
            errors[f"q{field}"] = [gettext("Choose among the answers shown.")]
        elif question["kind"] == Question.Kind.SINGLE and len(given) != 1:
            errors[f"q{field}"] = [gettext("Choose one answer.")]
        else:
            cleaned[field] = given
    if errors:
        raise InvalidInput(errors)
    return cleaned


def grade(*, snapshot: dict, answers: dict[str, list[str]]) -> tuple[int, dict]:
    """Score (whole percent of questions right, rounded down) and per-skill scores.

    A question is right only when the selected choices are exactly its correct
    ones: for multiple choice, every correct choice and no wrong one.
    """
    right_total = 0
    per_skill: dict[str, dict[str, int]] = {}
    for question in snapshot["questions"]:
        right = is_right(question=question, selected=answers.get(str(question["id"]), []))
        right_total += right
        if question["skill"]:
            tally = per_skill.setdefault(question["skill"], {"right": 0, "total": 0})
            tally["right"] += right
            tally["total"] += 1
    for tally in per_skill.values():
        tally["score"] = tally["right"] * 100 // tally["total"]
    total = len(snapshot["questions"])
    score = right_total * 100 // total if total else 100
    return score, per_skill


def is_right(*, question: dict, selected: list[str] | frozenset[str]) -> bool:
    correct = {choice["key"] for choice in question["choices"] if choice["correct"]}
    return set(selected) == correct


def attempt_results(*, attempt: Attempt) -> list[QuestionResult]:
    """The graded questions of a submitted attempt, in the order they were shown."""
    return [
        QuestionResult(
            question=question,
            selected=frozenset(attempt.answers.get(str(question["id"]), [])),
            right=is_right(
                question=question, selected=attempt.answers.get(str(question["id"]), [])
            ),
        )
        for question in attempt.snapshot["questions"]
    ]


@transaction.atomic
def attempt_submit(
    *, attempt: Attempt, answers: dict[str, list[str]], now: datetime | None = None
) -> Attempt:
    """Grade an attempt once and record what follows from it.

    The grade is written by a conditional UPDATE that only an ungraded attempt
    matches, so a double click or a second tab cannot grade it again: the later
    submission gets the attempt as first graded, and its answers are ignored.
    Answers are validated first (InvalidInput, nothing written).

    The one grading call then: on a pass, raises the engineer's skill records and
    completes the assignment if every lesson is read; on a failed last attempt,
    emails the team's leads once the transaction commits (the attempt's
    `lead_notice` is left pending by the grade itself, so the mail survives a lost
    task).
    """
    if attempt.submitted_at is not None:
        return attempt
    cleaned = clean_answers(snapshot=attempt.snapshot, answers=answers)
    score, skill_scores = grade(snapshot=attempt.snapshot, answers=cleaned)
    passed = score >= attempt.pass_mark
    # The limit the attempt started under, plus what a lead has granted since.
    last_failed = not passed and _attempts_used(attempt) >= attempts_allowed(
        max_attempts=attempt.snapshot.get("max_attempts", attempt.quiz.max_attempts),
        assignment=attempt.assignment,
    )
    now = now or timezone.now()
    graded = {
        "submitted_at": now,
        "answers": cleaned,
        "score": score,
        "passed": passed,
        "skill_scores": skill_scores,
    }
    if last_failed:
        # The leads' mail is owed from the moment the grade is: same row, same UPDATE.
        graded["lead_notice"] = Attempt.LeadNotice.PENDING
    claimed = Attempt.objects.filter(pk=attempt.pk, submitted_at__isnull=True).update(**graded)
    if not claimed:
        # Graded meanwhile: reload what that grading wrote. The rest of the row (the
        # snapshot above all, the largest part) is never written after the start.
        attempt.refresh_from_db(fields=list(graded))
        return attempt
    # The row now holds exactly these values: no need to read them back.
    for field, value in graded.items():
        setattr(attempt, field, value)

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
    return attempt


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

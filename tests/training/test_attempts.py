import threading

import pytest
from django.db import connection

from core.errors import Conflict, InvalidInput
from courses.models import Choice, Question
from tests.factories import EngineerFactory, UserFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Assignment, Attempt, SkillLevel, SkillRecord
from training.services.attempts import (
    attempt_start,
    attempt_submit,
    grade,
    notify_leads_of_last_failed_attempt,
    quiz_snapshot,
    send_pending_lead_notices,
)
from training.services.progress import lesson_mark_read

pytestmark = pytest.mark.django_db


def answers_for(attempt: Attempt, *, wrong: set[str] = frozenset()) -> dict[str, list[str]]:
    """Right answers to every question, except wrong ones for the prompts in `wrong`."""
    answers = {}
    for question in attempt.snapshot["questions"]:
        right = [c["key"] for c in question["choices"] if c["correct"]]
        bad = [c["key"] for c in question["choices"] if not c["correct"]]
        answers[str(question["id"])] = bad[:1] if question["prompt"] in wrong else right
    return answers


def first_prompt(qc) -> str:
    return qc.questions[0].prompt


def snap_question(**overrides) -> dict:
    question = {
        "id": 1,
        "kind": "multiple",
        "prompt": "?",
        "explanation": "",
        "skill": "push",
        "choices": [
            {"key": "0", "id": 10, "text": "a", "correct": True},
            {"key": "1", "id": 11, "text": "b", "correct": True},
            {"key": "2", "id": 12, "text": "c", "correct": False},
        ],
    }
    question.update(overrides)
    return question


# --- grading rules -------------------------------------------------------------


def test_multiple_choice_is_right_only_with_every_correct_choice_and_no_wrong_one():
    snapshot = {"questions": [snap_question()]}
    assert grade(snapshot=snapshot, answers={"1": ["0", "1"]})[0] == 100
    assert grade(snapshot=snapshot, answers={"1": ["0"]})[0] == 0
    assert grade(snapshot=snapshot, answers={"1": ["0", "1", "2"]})[0] == 0
    assert grade(snapshot=snapshot, answers={"1": ["2"]})[0] == 0


def test_single_choice_is_right_only_with_the_correct_choice():
    question = snap_question(
        kind="single",
        choices=[
            {"key": "0", "id": 10, "text": "a", "correct": False},
            {"key": "1", "id": 11, "text": "b", "correct": True},
        ],
    )
    snapshot = {"questions": [question]}
    assert grade(snapshot=snapshot, answers={"1": ["1"]})[0] == 100
    assert grade(snapshot=snapshot, answers={"1": ["0"]})[0] == 0


def test_score_is_the_percentage_of_questions_right_rounded_down_with_per_skill_scores():
    snapshot = {
        "questions": [
            snap_question(id=1, skill="push"),
            snap_question(id=2, skill="push"),
            snap_question(id=3, skill="reconnection"),
        ]
    }
    score, skills = grade(snapshot=snapshot, answers={"1": ["0", "1"], "2": ["0"], "3": ["0", "1"]})
    assert score == 66
    assert skills == {
        "push": {"right": 1, "total": 2, "score": 50},
        "reconnection": {"right": 1, "total": 1, "score": 100},
    }


def test_pass_is_a_score_at_or_above_the_pass_mark(engineer):
    qc = build_quiz_course(engineer=engineer, pass_mark=50)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt = attempt_submit(
        attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)})
    )
    assert (attempt.score, attempt.passed) == (50, True)


def test_a_failed_attempt_records_score_and_answers_but_no_skill(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    answers = answers_for(attempt, wrong={first_prompt(qc)})
    attempt = attempt_submit(attempt=attempt, answers=answers)
    assert (attempt.score, attempt.passed) == (50, False)
    assert attempt.answers == {k: sorted(v) for k, v in answers.items()}
    assert attempt.submitted_at is not None
    assert not SkillRecord.objects.exists()


def test_unanswered_or_foreign_choices_are_refused_and_nothing_is_graded(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    by_kind = {q["kind"]: q for q in attempt.snapshot["questions"]}
    cases = [
        {},
        {str(by_kind["single"]["id"]): ["0", "1"], str(by_kind["multiple"]["id"]): ["0"]},
        {str(by_kind["single"]["id"]): ["9"], str(by_kind["multiple"]["id"]): ["0"]},
    ]
    for answers in cases:
        with pytest.raises(InvalidInput) as exc:
            attempt_submit(attempt=attempt, answers=answers)
        assert exc.value.detail
    attempt.refresh_from_db()
    assert attempt.submitted_at is None and attempt.score is None


# --- attempts: limit, shuffle, snapshot ------------------------------------------


def test_starting_again_returns_the_open_attempt(engineer):
    qc = build_quiz_course(engineer=engineer)
    first = attempt_start(engineer=engineer, quiz=qc.quiz)
    assert attempt_start(engineer=engineer, quiz=qc.quiz) == first
    assert Attempt.objects.count() == 1


def test_starting_the_quiz_starts_the_assignment(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    assert attempt.assignment == qc.assignment
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS


def test_the_attempt_limit_comes_from_the_quiz(engineer):
    qc = build_quiz_course(engineer=engineer, max_attempts=2)
    for number in (1, 2):
        attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
        assert attempt.number == number
        attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
    with pytest.raises(Conflict):
        attempt_start(engineer=engineer, quiz=qc.quiz)
    assert Attempt.objects.filter(engineer=engineer).count() == 2


def test_a_passed_quiz_cannot_be_started_again(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt_submit(attempt=attempt, answers=answers_for(attempt))
    with pytest.raises(Conflict):
        attempt_start(engineer=engineer, quiz=qc.quiz)


def test_the_pass_mark_is_copied_at_start(engineer):
    qc = build_quiz_course(engineer=engineer, pass_mark=100)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    qc.quiz.pass_mark = 50
    qc.quiz.save()
    attempt = attempt_submit(
        attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)})
    )
    assert attempt.pass_mark == 100 and attempt.passed is False


def test_shuffle_is_stable_within_an_attempt_and_seeded(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    stored = Attempt.objects.get(pk=attempt.pk).snapshot
    assert stored == attempt.snapshot
    # The seed reproduces the order exactly.
    assert quiz_snapshot(quiz=qc.quiz, seed=stored["seed"]) == stored


def test_shuffle_differs_between_seeds():
    seen = set()
    qc = build_quiz_course(engineer=EngineerFactory())
    for seed in range(40):
        snapshot = quiz_snapshot(quiz=qc.quiz, seed=seed)
        seen.add(
            tuple((q["id"], tuple(c["id"] for c in q["choices"])) for q in snapshot["questions"])
        )
    assert len(seen) > 5


def test_choice_keys_follow_the_shown_order_and_say_nothing_of_the_key(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    for question in attempt.snapshot["questions"]:
        assert [c["key"] for c in question["choices"]] == [
            str(i) for i in range(len(question["choices"]))
        ]


def test_editing_the_quiz_after_start_does_not_change_the_grade(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    Choice.objects.filter(question__quiz=qc.quiz).update(correct=False)
    Question.objects.filter(quiz=qc.quiz).delete()
    attempt = attempt_submit(attempt=attempt, answers=answers_for(attempt))
    assert attempt.score == 100 and attempt.passed


# --- double submission -------------------------------------------------------------


def test_an_attempt_submitted_twice_is_graded_once(engineer, django_capture_on_commit_callbacks):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    stale = Attempt.objects.get(pk=attempt.pk)  # the second tab's copy
    first = attempt_submit(attempt=attempt, answers=answers_for(attempt))
    second = attempt_submit(
        attempt=stale, answers=answers_for(stale, wrong={q.prompt for q in qc.questions})
    )
    assert second.pk == first.pk
    assert (second.score, second.passed, second.submitted_at) == (
        first.score,
        first.passed,
        first.submitted_at,
    )
    assert second.answers == first.answers
    assert SkillRecord.objects.filter(engineer=engineer).count() == 2


def test_a_second_submission_of_the_last_failed_attempt_mails_the_leads_once(
    engineer, mailoutbox, django_capture_on_commit_callbacks
):
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    stale = Attempt.objects.get(pk=attempt.pk)
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
        attempt_submit(attempt=stale, answers=answers_for(stale, wrong={first_prompt(qc)}))
    assert len(mailoutbox) == 1


# --- what follows a grade ---------------------------------------------------------


def test_passing_with_every_lesson_read_completes_the_assignment(engineer):
    qc = build_quiz_course(engineer=engineer)
    for lesson in qc.lessons:
        lesson_mark_read(assignment=qc.assignment, lesson=lesson)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt_submit(attempt=attempt, answers=answers_for(attempt))
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.COMPLETE


def test_passing_before_reading_completes_once_the_last_lesson_is_read(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt_submit(attempt=attempt, answers=answers_for(attempt))
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.IN_PROGRESS
    for lesson in qc.lessons:
        lesson_mark_read(assignment=qc.assignment, lesson=lesson)
    qc.assignment.refresh_from_db()
    assert qc.assignment.status == Assignment.Status.COMPLETE


def test_a_pass_records_skills_with_the_attempt_as_evidence(engineer):
    qc = build_quiz_course(engineer=engineer)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt = attempt_submit(attempt=attempt, answers=answers_for(attempt))
    records = {r.skill.slug: r for r in SkillRecord.objects.filter(engineer=engineer)}
    assert set(records) == {"message-ordering", "reconnection"}
    for record in records.values():
        assert record.level == SkillLevel.PROFICIENT
        assert record.evidence == attempt
        assert record.verified_at == attempt.submitted_at


def test_the_last_failed_attempt_emails_the_team_leads(
    engineer, lead, mailoutbox, django_capture_on_commit_callbacks
):
    second_lead = UserFactory(username="lars", email="lars@example.com")
    engineer.team.leads.add(second_lead)
    qc = build_quiz_course(engineer=engineer, max_attempts=2)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
        attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
        attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert sorted(message.to) == ["lars@example.com", "lena@example.com"]
    assert "Alice Chen" in message.subject
    assert qc.course.title in message.subject
    assert "50%" in message.body


def test_the_leads_are_not_emailed_before_commit(engineer, mailoutbox):
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    # pytest-django's db fixture wraps the test in a transaction that never commits.
    attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
    assert mailoutbox == []


def test_a_mail_server_that_is_down_does_not_undo_the_grade(
    engineer, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    with django_capture_on_commit_callbacks(execute=True):
        attempt = attempt_submit(
            attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)})
        )
    attempt.refresh_from_db()
    assert attempt.passed is False


def test_a_mail_server_that_is_down_leaves_the_lead_notice_for_the_beat(
    engineer, lead, settings, mailoutbox, django_capture_on_commit_callbacks
):
    backend = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
    attempt.refresh_from_db()
    assert attempt.lead_notice == Attempt.LeadNotice.PENDING

    settings.EMAIL_BACKEND = backend  # the mail server is back
    assert send_pending_lead_notices() == 1
    assert send_pending_lead_notices() == 0
    assert [message.to for message in mailoutbox] == [["lena@example.com"]]
    attempt.refresh_from_db()
    assert attempt.lead_notice == Attempt.LeadNotice.SENT


def test_a_lost_task_leaves_the_lead_notice_for_the_beat(engineer, lead, mailoutbox):
    """The grade commits with the notice pending; the task that would have sent it
    never runs (a broker outage, a killed worker). The beat's pass sends it, once."""
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    attempt_submit(attempt=attempt, answers=answers_for(attempt, wrong={first_prompt(qc)}))
    assert mailoutbox == []  # the on-commit task never ran

    assert send_pending_lead_notices() == 1
    assert notify_leads_of_last_failed_attempt(attempt_id=attempt.pk) == 0  # a late task
    assert len(mailoutbox) == 1


def test_only_a_failed_last_attempt_owes_the_leads_a_mail(engineer):
    qc = build_quiz_course(engineer=engineer, max_attempts=2)
    first = attempt_start(engineer=engineer, quiz=qc.quiz)
    first = attempt_submit(attempt=first, answers=answers_for(first, wrong={first_prompt(qc)}))
    second = attempt_start(engineer=engineer, quiz=qc.quiz)
    second = attempt_submit(attempt=second, answers=answers_for(second))

    assert [first.lead_notice, second.lead_notice] == ["", ""]
    assert send_pending_lead_notices() == 0


@pytest.mark.django_db(transaction=True)
def test_two_submissions_racing_are_graded_once(engineer, mailoutbox):
    """Two requests (two tabs) submit the same attempt at the same moment."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's shared in-memory test database locks tables")
    qc = build_quiz_course(engineer=engineer, max_attempts=1)
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    copies = [Attempt.objects.get(pk=attempt.pk) for _ in range(2)]
    answers = [
        answers_for(copies[0]),
        answers_for(copies[1], wrong={q.prompt for q in qc.questions}),
    ]
    barrier = threading.Barrier(2)
    errors = []

    def submit(i: int) -> None:
        try:
            barrier.wait(timeout=5)
            attempt_submit(attempt=copies[i], answers=answers[i])
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    attempt.refresh_from_db()
    assert attempt.score in (0, 100)
    records = SkillRecord.objects.filter(engineer=engineer).count()
    # Exactly one grade took effect: a pass wrote two skills and no mail, a fail the reverse.
    assert (records, len(mailoutbox)) == ((2, 0) if attempt.passed else (0, 1))


@pytest.mark.django_db(transaction=True)
def test_two_starts_racing_make_one_attempt(engineer, monkeypatch):
    """Two tabs start the quiz at once: both read no attempt and draw, one INSERT
    wins, the other's transaction rolls back and it returns the winner's attempt."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite's shared in-memory test database locks tables")
    from training.services import attempts as attempts_module

    qc = build_quiz_course(engineer=engineer, max_attempts=3)
    barrier = threading.Barrier(2)
    draw = attempts_module.quiz_snapshot

    def both_read_first(**kwargs):
        barrier.wait(timeout=5)  # both have read "no attempt yet"
        return draw(**kwargs)

    monkeypatch.setattr(attempts_module, "quiz_snapshot", both_read_first)
    started, errors = [], []

    def start() -> None:
        try:
            started.append(attempt_start(engineer=engineer, quiz=qc.quiz).pk)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(started) == 2 and started[0] == started[1]
    assert Attempt.objects.filter(engineer=engineer, quiz=qc.quiz).count() == 1

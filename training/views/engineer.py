"""The engineer's pages: dashboard, course player, quiz, results, skills.

Every object is looked up through the signed-in engineer's own querysets, so
another engineer's assignment or attempt is a 404, never a 403 that confirms it
exists. Pages render in the engineer's time zone.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import Conflict, InvalidInput
from courses.models import Lesson, Quiz
from courses.selectors.playbooks import playbooks_for_release
from training.grading import page_question
from training.i18n import remember_language
from training.models import Assignment, Attempt, Engineer
from training.selectors.access import has_lead_pages_expression, led_teams, sees_everything
from training.selectors.assignments import attempts_since
from training.selectors.attempt_limits import attempts_allowed
from training.selectors.content_review import course_stale_since, lesson_stale_marks
from training.selectors.dashboard import dashboard, dashboard_notices, skill_standings
from training.selectors.quizzes import quiz_question_count
from training.services.attempts import attempt_results, attempt_start, attempt_submit
from training.services.calendar import calendar_token_reset
from training.services.progress import (
    CourseProgress,
    assignment_start,
    course_progress,
    lesson_mark_read,
)


def engineer_view(view=None, *, optional: bool = False):
    """Require a session and an engineer profile; render in the engineer's zone
    and language.

    Sets `request.engineer`, and `request.is_lead` / `request.is_engineer` for the
    navigation (read with the profile, so the menu costs no query of its own). A
    signed-in user without a profile gets, where `optional`, the lead pages if they
    lead a team or are staff, else a page saying so; a 404 elsewhere.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            engineer = (
                Engineer.objects.select_related("user")
                .annotate(
                    leads_a_team=ExpressionWrapper(
                        has_lead_pages_expression("user_id"), output_field=BooleanField()
                    )
                )
                .filter(user=request.user)
                .first()
            )
            if engineer is None:
                if optional:
                    if sees_everything(request.user) or led_teams(request.user).exists():
                        return redirect("lead_home")
                    return render(request, "training/no_engineer.html")
                raise Http404("No engineer profile.")
            request.engineer = engineer
            request.is_engineer = True
            # A lead or a support manager (annotated above), or staff: no query more.
            request.is_lead = engineer.leads_a_team or request.user.is_staff
            # The profile is the truth: it may have changed (API, admin) since the
            # session copied it at sign-in (training.i18n).
            remember_language(request, engineer.language)
            with timezone.override(engineer.zone), translation.override(engineer.language):
                request.LANGUAGE_CODE = engineer.language
                response = view(request, *args, **kwargs)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
            return response

        return wrapped

    return decorator(view) if view is not None else decorator


def _assignment(request: HttpRequest, pk: int) -> Assignment:
    return get_object_or_404(
        Assignment.objects.filter(engineer=request.engineer).select_related(
            "course", "release__sdk"
        ),
        pk=pk,
    )


def _progress(request: HttpRequest, assignment: Assignment) -> CourseProgress:
    return course_progress(
        engineer=request.engineer,
        course=assignment.course,
        attempts_since=attempts_since(assignment),
    )


def _quiz(assignment: Assignment) -> Quiz:
    quiz = Quiz.objects.filter(course_id=assignment.course_id).first()
    if quiz is None:
        raise Http404("This course has no quiz.")
    return quiz


@require_GET
@engineer_view(optional=True)
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: overdue, due and complete assignments with progress."""
    feed_path = reverse("calendar_feed", args=[request.engineer.calendar_token])
    return render(
        request,
        "training/dashboard.html",
        {
            "board": dashboard(engineer=request.engineer),
            "notices": dashboard_notices(engineer=request.engineer),
            "calendar_url": request.build_absolute_uri(feed_path),
            "now": timezone.now(),
            "my_language": request.engineer.language,
        },
    )


@require_GET
@engineer_view
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A course's overview: its lessons (read or not), the quiz, where to resume."""
    assignment = _assignment(request, pk)
    progress = _progress(request, assignment)
    lessons = Lesson.objects.filter(course_id=assignment.course_id).only(
        "id", "position", "title", "course_id"
    )
    quiz = Quiz.objects.filter(course_id=assignment.course_id).first()
    release_id = assignment.course.release_id
    return render(
        request,
        "training/assignment.html",
        {
            "assignment": assignment,
            "progress": progress,
            "lessons": lessons,
            "quiz": quiz,
            "playbooks": playbooks_for_release(release_id=release_id) if release_id else (),
            "now": timezone.now(),
            "stale_since": course_stale_since(assignment.course_id),
        },
    )


@require_GET
@engineer_view
def assignment_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Continue where the engineer left off: the first unread lesson, else the quiz."""
    assignment = _assignment(request, pk)
    progress = _progress(request, assignment)
    if progress.next_lesson is not None:
        return redirect("lesson", pk=assignment.pk, position=progress.next_lesson.position)
    if progress.has_quiz and not progress.quiz_passed:
        return redirect("quiz", pk=assignment.pk)
    return redirect("assignment", pk=assignment.pk)


def _lesson_context(request: HttpRequest, assignment: Assignment, lesson: Lesson) -> dict:
    lessons = list(
        Lesson.objects.filter(course_id=assignment.course_id)
        .only("id", "position", "title", "course_id")
        .order_by("position")
    )
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    progress = _progress(request, assignment)
    return {
        "assignment": assignment,
        "lesson": lesson,
        "lessons": lessons,
        "number": index + 1,
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
        "progress": progress,
        "is_read": lesson.pk in progress.read_lesson_ids,
        "stale": lesson_stale_marks(lesson.pk),
    }


@require_GET
@engineer_view
def lesson_detail(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    lesson = get_object_or_404(Lesson, course_id=assignment.course_id, position=position)
    # Opening a lesson is starting the course.
    assignment_start(assignment=assignment)
    return render(request, "training/lesson.html", _lesson_context(request, assignment, lesson))


@require_POST
@engineer_view
def lesson_read(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    """Mark a lesson read. htmx gets the updated status panel (and lesson list); a
    plain form post comes back to the lesson, where the same panel now says so."""
    assignment = _assignment(request, pk)
    lesson = get_object_or_404(Lesson, course_id=assignment.course_id, position=position)
    lesson_mark_read(assignment=assignment, lesson=lesson)
    if request.htmx:
        context = _lesson_context(request, assignment, lesson)
        return render(request, "training/partials/lesson_status.html", context)
    url = reverse("lesson", kwargs={"pk": assignment.pk, "position": lesson.position})
    return redirect(url + "#lesson-status")


@require_GET
@engineer_view
def quiz_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The quiz's rules, the engineer's attempts so far, and the way in."""
    assignment = _assignment(request, pk)
    quiz = _quiz(assignment)
    attempts = list(Attempt.objects.filter(engineer=request.engineer, quiz=quiz).order_by("number"))
    # The quiz's own limit plus what a lead granted this assignment.
    allowed = attempts_allowed(max_attempts=quiz.max_attempts, assignment=assignment)
    since = attempts_since(assignment)
    # A recertification's earlier attempts stay listed, but count no more.
    counted = [a for a in attempts if since is None or a.started_at >= since]
    progress = _progress(request, assignment)
    return render(
        request,
        "training/quiz.html",
        {
            "assignment": assignment,
            "quiz": quiz,
            "attempts": attempts,
            "counted_attempts": counted,
            "open_attempt": next((a for a in counted if a.submitted_at is None), None),
            "passed": any(a.passed for a in counted),
            "awaiting": any(a.awaiting_grading for a in counted),
            "attempts_allowed": allowed,
            "attempts_left": max(allowed - len(counted), 0),
            "question_count": quiz_question_count(quiz=quiz),
            "progress": progress,
        },
    )


@require_POST
@engineer_view
def quiz_start(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    quiz = _quiz(assignment)
    try:
        attempt = attempt_start(engineer=request.engineer, quiz=quiz)
    except Conflict as exc:
        messages.error(request, exc.detail)
        return redirect("quiz", pk=assignment.pk)
    return redirect("attempt", pk=attempt.pk)


def _answers_from(request: HttpRequest, attempt: Attempt) -> dict[str, list[str]]:
    return {
        str(question["id"]): request.POST.getlist(f"q{question['id']}")
        for question in attempt.snapshot["questions"]
    }


@require_http_methods(["GET", "POST"])
@engineer_view
def attempt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An open attempt's form, or a submitted attempt's result.

    Before submission the page gets the prompts and choice texts only: no
    explanation, nothing that tells a right choice from a wrong one.
    """
    attempt = get_object_or_404(
        # The assignment's course and engineer: what grading a pass reads to decide
        # whether the course is complete, joined here rather than fetched one by one.
        Attempt.objects.filter(engineer=request.engineer).select_related(
            "quiz__course", "assignment__course", "assignment__engineer"
        ),
        pk=pk,
    )
    errors: dict = {}
    answers: dict[str, list[str]] = {}
    if request.method == "POST":
        if attempt.submitted_at is None:
            answers = _answers_from(request, attempt)
            try:
                attempt_submit(attempt=attempt, answers=answers)
            except InvalidInput as exc:
                errors = exc.detail
            else:
                return redirect("attempt", pk=attempt.pk)
        else:
            # A second tab or a double click: the first submission's grade stands.
            messages.info(request, _("This attempt was already submitted; here is its result."))
            return redirect("attempt", pk=attempt.pk)

    if attempt.submitted_at is not None:
        return _attempt_result(request, attempt)

    questions = [
        page_question(question, answers.get(str(question["id"]), []))
        | {"errors": errors.get(f"q{question['id']}", [])}
        for question in attempt.snapshot["questions"]
    ]
    return render(
        request,
        "training/attempt_form.html",
        {"attempt": attempt, "questions": questions, "has_errors": bool(errors)},
        status=400 if errors else 200,
    )


def _attempt_result(request: HttpRequest, attempt: Attempt) -> HttpResponse:
    attempts = Attempt.objects.filter(engineer=request.engineer, quiz_id=attempt.quiz_id)
    since = attempts_since(attempt.assignment)
    if since is not None:
        attempts = attempts.filter(started_at__gte=since)
    counts = attempts.aggregate(
        used=Count("pk"),
        later=Count("pk", filter=Q(number__gt=attempt.number)),
        passed=Count("pk", filter=Q(passed=True)),
    )
    allowed = attempts_allowed(
        max_attempts=attempt.quiz.max_attempts, assignment=attempt.assignment
    )
    attempts_left = max(allowed - counts["used"], 0)
    return render(
        request,
        "training/attempt_result.html",
        {
            "attempt": attempt,
            "results": attempt_results(attempt=attempt),
            "assignment": attempt.assignment,
            "attempts_left": attempts_left,
            "is_latest": not counts["later"],
            # Review options: while attempts remain and nothing is passed, the score
            # and which questions were wrong, never the key (it would pass the retry).
            # Never while a grader has yet to grade it: the key would reach the
            # engineer before the grade does.
            "reveal": not attempt.awaiting_grading
            and (
                attempt.quiz.review == Quiz.Review.IMMEDIATE
                or counts["passed"] > 0
                or attempts_left == 0
            ),
        },
    )


@require_GET
@engineer_view
def skills(request: HttpRequest) -> HttpResponse:
    """My skills: level, when last verified and until when it counts (in the
    engineer's time zone), and the attempt that showed it."""
    return render(
        request,
        "training/skills.html",
        {
            "standings": skill_standings(engineer=request.engineer),
            "valid_days": settings.PREFLIGHT_SKILL_VALID_DAYS,
        },
    )


@require_POST
@engineer_view
def calendar_reset(request: HttpRequest) -> HttpResponse:
    calendar_token_reset(engineer=request.engineer)
    messages.success(
        request,
        _("Your calendar link has been reset. Subscribe again with the new link below."),
    )
    return redirect(reverse("home") + "#calendar")

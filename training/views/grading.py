"""The grading queue: essays awaiting a grader, oldest first, and the page that
grades one attempt's essays (rubric beside each answer).

Who may grade what is one rule (training.selectors.access.gradable_attempts):
leads their own teams' engineers, the grader role everyone's; an attempt outside
it is a 404, and so is the queue for anyone who may grade nothing.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import Conflict, InvalidInput
from training.models import Engineer
from training.selectors.access import gradable_attempts, may_use_grading_queue
from training.services.attempts import EssayGrade, attempt_grade_essays


def grader_view(view):
    """Require a session and someone who may use the grading queue; 404 otherwise."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_use_grading_queue(request.user):
            raise Http404("Not a grader.")
        request.is_lead = True
        request.is_engineer = Engineer.objects.filter(user=request.user).exists()
        return view(request, *args, **kwargs)

    return wrapped


def _queue(request: HttpRequest):
    return gradable_attempts(request.user).select_related(
        "engineer__user", "engineer__team", "quiz__course"
    )


@require_GET
@grader_view
def grading_queue(request: HttpRequest) -> HttpResponse:
    """Attempts awaiting grading, the oldest submission first."""
    attempts = list(_queue(request).order_by("submitted_at", "pk")[:200])
    return render(request, "training/grading/queue.html", {"attempts": attempts})


def _essays(attempt) -> list[dict]:
    """The essay questions of an attempt with the engineer's answer and the rubric:
    nothing of the attempt's other questions (their keys stay out of this page)."""
    return [
        {
            "id": question["id"],
            "field": f"q{question['id']}",
            "prompt": question["prompt"],
            "scenario": question.get("scenario", ""),
            "question_prompt": question.get("question_prompt", ""),
            "rubric": question.get("rubric", ""),
            "answer": (attempt.answers.get(str(question["id"])) or [""])[0],
        }
        for question in attempt.snapshot["questions"]
        if question["kind"] == "essay" and attempt.marks.get(str(question["id"])) is None
    ]


@require_http_methods(["GET", "POST"])
@grader_view
def grading_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    attempt = get_object_or_404(
        _queue(request).select_related("assignment__course", "assignment__engineer"), pk=pk
    )
    essays = _essays(attempt)
    errors: dict = {}
    if request.method == "POST":
        grades: dict[str, EssayGrade] = {}
        for essay in essays:
            raw = request.POST.get(f"{essay['field']}-score", "").strip()
            try:
                score = int(raw)
            except ValueError:
                score = -1
            feedback = request.POST.get(f"{essay['field']}-feedback", "")
            grades[str(essay["id"])] = {"score": score, "feedback": feedback}
        try:
            attempt_grade_essays(attempt=attempt, grades=grades, grader=request.user)
        except InvalidInput as exc:
            errors = exc.detail
        except Conflict as exc:
            messages.error(request, exc.detail)
            return redirect("grading_queue")
        else:
            messages.success(
                request,
                _("Graded: %(name)s scored %(score)s%%.")
                % {"name": attempt.engineer.name, "score": attempt.score},
            )
            return redirect("grading_queue")
    for essay in essays:
        essay["errors"] = errors.get(essay["field"], [])
        essay["score"] = request.POST.get(f"{essay['field']}-score", "")
        essay["feedback"] = request.POST.get(f"{essay['field']}-feedback", "")
    return render(
        request,
        "training/grading/attempt.html",
        {"attempt": attempt, "essays": essays, "has_errors": bool(errors)},
        status=400 if errors else 200,
    )

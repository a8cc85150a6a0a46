"""Pages for content authors (staff, a course's owner) and support managers: the
courses they keep, their item analysis, and regrading a question whose key was wrong.

Who may do what is training.selectors.access: the pages are for authors, managers
and leads (the menu offers them; a lead sees the courses they own); anyone else gets
a 403; a course outside what one may read is a 404; a manager reads but does not
regrade (403).
"""

import csv
from collections.abc import Iterator
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.actors import Actor
from courses.models import Course
from training.selectors.access import authoring_courses, may_regrade, may_use_authoring_pages
from training.selectors.item_analysis import ItemAnalysis, item_analysis
from training.services.regrade import question_regrade
from training.views.matrix import csv_safe


def author_view(view):
    """Require a session and an author, a support manager or a lead; 403 for anyone
    else."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not may_use_authoring_pages(request.user):
            raise PermissionDenied("Not an author.")
        return view(request, *args, **kwargs)

    return wrapped


def _course(request: HttpRequest, slug: str) -> Course:
    return get_object_or_404(
        authoring_courses(request.user).filter(quiz__isnull=False).select_related("quiz"),
        slug=slug,
    )


@require_GET
@author_view
def authoring_home(request: HttpRequest) -> HttpResponse:
    """The courses with a quiz that the reader keeps (all, for staff and managers)."""
    courses = list(
        authoring_courses(request.user)
        .filter(quiz__isnull=False)
        .select_related("release__sdk", "owner")
        .order_by("title", "slug")
    )
    return render(request, "training/authoring/home.html", {"courses": courses})


def _version(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if value >= 1 else None


@require_http_methods(["GET", "POST"])
@author_view
def question_regrade_page(request: HttpRequest, slug: str, uid: str) -> HttpResponse:
    """GET: the dry run (every attempt whose result would change). POST: apply it."""
    course = _course(request, slug)
    if not may_regrade(request.user, course):
        raise PermissionDenied("Only the course's authors regrade.")
    source = request.POST if request.method == "POST" else request.GET
    version = _version(source.get("version"))
    if request.method == "POST":
        result = question_regrade(
            course=course,
            uid=uid,
            version=version,
            actor=Actor.from_request(request),
            dry_run=False,
        )
        changed = sum(1 for change in result.changes if change.visible)
        messages.success(
            request,
            _("Regraded: %(changed)s attempts changed; the engineers are told by mail.")
            % {"changed": changed},
        )
        url = request.path + (f"?version={version}" if version else "")
        return redirect(url)
    result = question_regrade(
        course=course, uid=uid, version=version, actor=Actor.from_request(request)
    )
    return render(
        request,
        "training/authoring/regrade.html",
        {
            "course": course,
            "question": result.question,
            "version": version,
            "result": result,
            "changes": [change for change in result.changes if change.visible],
        },
    )


# The facility chart: one bar per question version, drawn on the server as SVG (the
# site's CSP allows no inline script or style; sizes are SVG attributes).
_LABEL_WIDTH, _BAR_WIDTH, _ROW, _BAR_HEIGHT = 150, 360, 24, 14


def _chart(analysis: ItemAnalysis) -> dict:
    rows = []
    for n, item in enumerate(analysis.items):
        top = n * _ROW
        rows.append(
            {
                "item": item,
                "label": f"{item.uid} v{item.version}",
                "bar_y": top + (_ROW - _BAR_HEIGHT) // 2,
                "text_y": top + _ROW // 2 + 4,
                "width": round(item.facility * _BAR_WIDTH, 1),
                "percent": round(item.facility * 100),
            }
        )
    return {
        "rows": rows,
        "height": max(len(rows), 1) * _ROW,
        "bar_x": _LABEL_WIDTH,
        "bar_width": _BAR_WIDTH,
        "bar_height": _BAR_HEIGHT,
        "text_x": _LABEL_WIDTH + _BAR_WIDTH + 8,
        "view_width": _LABEL_WIDTH + _BAR_WIDTH + 150,
        "mid_x": _LABEL_WIDTH + _BAR_WIDTH // 2,
    }


def _topic_rows(analysis: ItemAnalysis) -> list[dict]:
    return [
        {
            "topic": topic,
            "percent": round(topic.facility * 100),
            "width": round(topic.facility * 120),
        }
        for topic in analysis.topics
    ]


@require_GET
@author_view
def item_analysis_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Per question and version: facility, discrimination, time, choices; per
    feature and region, the weakest topics (training.selectors.item_analysis)."""
    course = _course(request, slug)
    analysis = item_analysis(quiz=course.quiz)
    return render(
        request,
        "training/authoring/items.html",
        {
            "course": course,
            "analysis": analysis,
            "chart": _chart(analysis),
            "topics": _topic_rows(analysis),
            "may_regrade": may_regrade(request.user, course),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def item_csv_rows(analysis: ItemAnalysis) -> Iterator[list]:
    """Header, then one row per question version; `choices` is "text=count" per
    choice, in the author's order, separated by " | "."""
    yield [
        "uid",
        "version",
        "current",
        "kind",
        "feature",
        "prompt",
        "answers",
        "facility",
        "right",
        "discrimination",
        "seconds_per_question",
        "choices",
    ]
    for item in analysis.items:
        yield [
            item.uid,
            item.version,
            "yes" if item.current else "no",
            item.kind,
            item.feature,
            item.prompt,
            item.answers,
            f"{item.facility:.4f}",
            f"{item.right:.4f}",
            "" if item.discrimination is None else f"{item.discrimination:.4f}",
            "" if item.seconds is None else f"{item.seconds:.1f}",
            " | ".join(f"{choice.text}={choice.count}" for choice in item.choices),
        ]


@require_GET
@author_view
def item_analysis_csv(request: HttpRequest, slug: str) -> HttpResponse:
    course = _course(request, slug)
    writer = csv.writer(_Echo())
    body = "".join(
        writer.writerow([csv_safe(value) for value in row])
        for row in item_csv_rows(item_analysis(quiz=course.quiz))
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"item-analysis-{course.slug}-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response

"""Pages for content authors (staff, a course's owner) and support managers: the
courses they keep, and regrading a question whose key was wrong.

Who may do what is training.selectors.access: the pages are for authors and
managers (anyone else: 403); a course outside what one may read is a 404; a
manager reads but does not regrade (403).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from core.actors import Actor
from courses.models import Course
from training.selectors.access import authoring_courses, may_regrade, may_use_authoring_pages
from training.services.regrade import question_regrade


def author_view(view):
    """Require a session and an author or a support manager; 403 for anyone else."""

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

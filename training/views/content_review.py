"""Content review for owners and managers: the courses and playbooks a release made
stale or whose verification is due, and verifying one
(training.services.content_review)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.actors import Actor
from core.errors import NotFound
from courses.models import Course
from training.selectors.content_review import courses_to_review, playbooks_to_review
from training.services.content_review import course_verify
from training.views.access import lead_view


@require_GET
@lead_view
def lead_content(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    reviews = courses_to_review(request.user, now=now)
    playbook_reviews = playbooks_to_review(request.user, now=now)
    return render(
        request,
        "training/lead/content.html",
        {"reviews": reviews, "playbook_reviews": playbook_reviews},
    )


@require_POST
@lead_view
def lead_course_verify(request: HttpRequest, slug: str) -> HttpResponse:
    """Its owner, a manager or staff confirm the course; anyone else gets a 404."""
    course = get_object_or_404(Course, slug=slug)
    try:
        cleared = course_verify(course=course, actor=Actor.from_request(request))
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    messages.success(
        request,
        _("%(course)s is verified; %(count)s stale marks cleared.")
        % {"course": course.title, "count": cleared},
    )
    return redirect("lead_content")

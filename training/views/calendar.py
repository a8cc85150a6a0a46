"""The personal iCalendar feed. Calendar apps fetch it without a session: the
secret token in the URL is the credential (the engineer can reset it)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from training.models import Engineer
from training.services.calendar import calendar_assignments, calendar_build


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    engineer = get_object_or_404(
        Engineer.objects.select_related("user"), calendar_token=token, active=True
    )
    body = calendar_build(
        engineer=engineer,
        assignments=calendar_assignments(engineer=engineer),
        url_for=lambda a: request.build_absolute_uri(reverse("assignment", args=[a.pk])),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="preflight.ics"'
    # The URL is a secret: keep the feed out of shared caches and referrers.
    response["Cache-Control"] = "private, max-age=300"
    response["Referrer-Policy"] = "no-referrer"
    return response

"""The lead pages' door: one decorator, one rule (training.selectors.access)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from training.selectors.access import lead_scope


def lead_view(view):
    """Require a session and someone with a lead scope (training.selectors.access:
    a lead of a team, or someone who sees everything); 404 for anyone else.

    Sets `request.lead` (a LeadScope), `request.teams` (its teams as a queryset)
    and, for the navigation, `request.is_lead` and `request.is_engineer`; renders
    in the lead's time zone.
    """

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        scope = lead_scope(user=request.user)
        if scope is None:
            raise Http404("Not a lead.")
        request.lead = scope
        request.teams = scope.teams_queryset()
        request.is_lead = True
        request.is_engineer = scope.is_engineer
        with timezone.override(scope.zone):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    return wrapped

"""The lead pages' door: one decorator, one rule (training.selectors.access)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation

from training.i18n import remember_language
from training.selectors.access import lead_scope


def lead_view(view):
    """Require a session and someone with a lead scope (training.selectors.access:
    a lead of a team, or someone who sees everything); 404 for anyone else.

    Sets `request.lead` (a LeadScope), `request.teams` (its teams as a queryset)
    and, for the navigation, `request.is_lead` and `request.is_engineer`; renders
    in the lead's time zone and language (LeadScope).
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
        language = scope.language or translation.get_language()
        if scope.language:
            # The profile's language wins over the cookie, as on the engineer pages;
            # kept in the session so the next page needs no query for it.
            remember_language(request, scope.language)
            request.LANGUAGE_CODE = scope.language
        with timezone.override(scope.zone), translation.override(language):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        if scope.language:
            response.headers["Content-Language"] = scope.language
        return response

    return wrapped

import logging

from django.core.validators import ProhibitNullCharactersValidator
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.views.defaults import bad_request

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Preflight is unavailable</title></head>
<body><h1>Preflight is briefly unavailable</h1>
<p>Its database cannot be reached. Nothing you sent was half-saved: try again in a moment.</p>
</body></html>
"""


class NulCharacterMiddleware:
    """No NUL character from the URL or a cookie reaches a view, so none reaches the
    database: PostgreSQL refuses text holding one ("A string literal cannot contain
    NUL"), with an error that would be a 500 wherever a view looks it up.

    One guard for every route, present and future, before any view runs: a path
    holding NUL is no object's address (404, through handler404, so JSON under
    /api/); a query parameter holding one is a 400 naming it; a cookie holding one
    is none we set, so it is dropped (the session middleware would look it up).
    JSON bodies need no guard here: DRF's CharField refuses NUL, naming the field.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info:
            raise Http404("A path cannot hold a NUL character.")
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return self._bad_parameter(request, name)
        for name in [name for name, value in request.COOKIES.items() if "\x00" in name + value]:
            del request.COOKIES[name]
        return self.get_response(request)

    @staticmethod
    def _bad_parameter(request, name: str):
        message = ProhibitNullCharactersValidator.message
        if request.path_info.startswith("/api/"):
            return JsonResponse({name: [str(message)]}, status=400)
        return bad_request(request, ValueError(f"NUL in query parameter {name!r}"))


class DatabaseUnavailableMiddleware:
    """Answer 503 when the database cannot be reached, never a 500 stack trace.

    Only connection-level failures (OperationalError, InterfaceError) are mapped;
    integrity and programming errors are bugs or conflicts and keep their own path.
    Every write runs in a service's transaction, which the database rolls back when
    the connection goes (a COMMIT it never received never happened), so nothing is
    half-written: the client may simply retry, and the API's idempotent calls make
    that safe. API clients get DRF's body shape, people a short page; both say when
    to retry (Retry-After).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
            response = JsonResponse(
                {"detail": "The database is unavailable. Try again shortly."}, status=503
            )
        else:
            response = HttpResponse(_PAGE, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

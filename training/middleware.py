import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Preflight is unavailable</title></head>
<body><h1>Preflight is briefly unavailable</h1>
<p>Its database cannot be reached. Nothing you sent was half-saved: try again in a moment.</p>
</body></html>
"""


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

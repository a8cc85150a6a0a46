import logging

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Answer 503 when the database cannot be reached, never a 500 stack trace.

    Only connection-level failures (OperationalError, InterfaceError) are mapped;
    integrity and programming errors are bugs or conflicts and keep their own path.
    The request's transaction has already rolled back, so nothing is half-written.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", exception)
            return JsonResponse(
                {"detail": "The database is unavailable. Try again shortly."}, status=503
            )
        return None

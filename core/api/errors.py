from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext
from django.views.defaults import page_not_found
from django.views.defaults import server_error as page_server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import Conflict, InvalidInput, NotFound


def exception_handler(exc, context):
    """The one error path of the API: service errors become DRF's usual bodies."""
    if isinstance(exc, InvalidInput):
        exc = exceptions.ValidationError(exc.detail)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    elif isinstance(exc, NotFound):
        exc = exceptions.NotFound(exc.detail)
    elif isinstance(exc, Conflict):
        return Response({"detail": exc.detail, **exc.extra}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


def not_found(request, exception=None):
    """handler404: a URL under /api/ that matches no route (a slug with characters a
    slug cannot have, say) gets the API's JSON body, as every other API error does;
    pages keep Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return page_not_found(request, exception)


def server_error(request):
    """handler500: under /api/ the API's JSON body, never an HTML page a client
    cannot parse; pages keep the site's 500 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("Something went wrong.")}, status=500)
    return page_server_error(request)

"""The application's URLs plus one trivial view, the floor HTTP figures are read
against: what the server, middleware and WSGI cost with no work behind them."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def ping(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/ping", ping, name="bench_ping"),
    path("", include("training.urls")),
]

"""Errors services raise. One DRF exception handler (core.api.errors) maps them
to HTTP: InvalidInput → 400, NotFound → 404, Conflict → 409; pages show them as form
errors. Services never raise HTTP exceptions themselves."""

from typing import Any

from django.utils.translation import gettext_lazy


class PreflightError(Exception):
    default_detail = gettext_lazy("Something went wrong.")

    def __init__(self, detail: Any = None, **extra: Any) -> None:
        self.detail = self.default_detail if detail is None else detail
        self.extra = extra
        super().__init__(detail)


class InvalidInput(PreflightError):
    """Bad input. `detail` is a message or a {field: [messages]} mapping."""

    default_detail = gettext_lazy("Invalid input.")


class NotFound(PreflightError):
    default_detail = gettext_lazy("Not found.")


class Conflict(PreflightError):
    """The request is valid but the object's state does not allow it; `extra`
    keys (e.g. `blocking`) are added to the response body."""

    default_detail = gettext_lazy("Conflict with the current state.")

"""Which language a request is answered in.

Before sign-in, Django's LocaleMiddleware decides: the language cookie (the
switcher sets it), else the browser's Accept-Language. Once an engineer signs in,
the language on their profile wins. It is copied into the session at sign-in, so
the middleware below answers every page without a query of its own (the
dashboard's query count stays flat); the engineer pages, which load the profile
anyway, correct the session when the profile changed elsewhere (the API, the
admin). The API is left to Accept-Language: a pipeline's token has no profile,
and a script sees the language it asked for.
"""

import logging
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import translation

logger = logging.getLogger(__name__)

SESSION_KEY = "preflight_language"
_CODES = frozenset(code for code, _ in settings.LANGUAGES)


def language_supported(code: str | None) -> bool:
    return code in _CODES


def remember_language(request: HttpRequest, code: str) -> None:
    """Keep the signed-in engineer's language for the rest of their session."""
    session = getattr(request, "session", None)
    if session is not None and language_supported(code) and session.get(SESSION_KEY) != code:
        session[SESSION_KEY] = code


class EngineerLanguageMiddleware:
    """Answer a signed-in engineer in their profile's language.

    Goes after LocaleMiddleware (which it overrides) and SessionMiddleware; in
    MIDDLEWARE, right after AuthenticationMiddleware. The language is active for
    this request only (an override, not a bare activate: the thread serves other
    people next), so the response says which it was in Content-Language, which
    LocaleMiddleware then leaves alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        session = getattr(request, "session", None)
        if session is not None and not request.path.startswith("/api/"):
            try:
                code = session.get(SESSION_KEY)
            except (OperationalError, InterfaceError):
                # The database is down. An exception raised here, outside the view,
                # would be a 500; let the view meet it, and DatabaseUnavailable-
                # Middleware answer the clean 503.
                return self.get_response(request)
            if language_supported(code):
                with translation.override(code):
                    request.LANGUAGE_CODE = translation.get_language()
                    response = self.get_response(request)
                response.headers["Content-Language"] = request.LANGUAGE_CODE
                return response
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="preflight_language_on_login")
def _language_on_login(sender, request, user, **kwargs) -> None:
    """Sign-in copies the engineer's language into the new session; someone with no
    profile (a lead, an admin) gets their preferences' language, and without
    preferences keeps the cookie's or the browser's."""
    if request is None or getattr(request, "session", None) is None:
        return
    from training.models import Engineer, PersonPreferences

    code = Engineer.objects.filter(user=user).values_list("language", flat=True).first()
    if code is None:
        code = (
            PersonPreferences.objects.filter(user=user).values_list("language", flat=True).first()
        )
    if code:
        remember_language(request, code)


def catalogues() -> list[Path]:
    """Every .po file of the project (LOCALE_PATHS)."""
    return sorted(
        po
        for directory in settings.LOCALE_PATHS
        for po in Path(directory).glob("*/LC_MESSAGES/*.po")
    )


def compile_catalogue(po_path: Path) -> Path:
    """Write `po_path`'s .mo next to it with polib: no GNU gettext needed. Fuzzy
    entries are left out, as msgfmt leaves them out. Written to a temporary file
    and renamed, so a process starting at the same moment never reads half a file."""
    import polib  # only needed when compiling

    mo_path = po_path.with_suffix(".mo")
    catalogue = polib.pofile(str(po_path))
    handle, temporary = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
    os.close(handle)
    try:
        catalogue.save_as_mofile(temporary)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from other users
        os.replace(temporary, mo_path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return mo_path


def compile_stale_catalogues() -> None:
    """At start: compile a catalogue whose .mo is missing or older than its .po, so
    a fresh clone speaks every language even before `manage.py compile_translations`
    ran. A read-only deployment with its .mo files built in is left alone."""
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        try:
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            compile_catalogue(po_path)
        except (OSError, ImportError, ValueError) as exc:
            logger.warning("could not compile %s: %s", po_path, exc)

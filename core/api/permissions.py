from django.utils.translation import gettext, gettext_lazy
from rest_framework import exceptions, permissions

from core.actors import Token
from core.scopes import Scope

# A scope also lets a token read what another scope writes where it implies it.
IMPLIED_READ = {Scope.RELEASES_OVERRIDE: {Scope.RELEASES}}


class HasScope(permissions.BasePermission):
    """Scope rules of API v1.

    Views declare `scope` (needed to write, and by default to read; a tuple means any
    one of them) and may set `read_scope = None` to let any authenticated client
    read. A token needs the scope; a signed-in staff user has every scope; another
    signed-in person may read (views narrow what they see) but not write through the
    API — except on views that set `session_write = True`: those narrow what a
    person may act on themselves (a lead: their own teams' engineers).
    """

    message = gettext_lazy("This token does not have the scope this endpoint needs.")

    def has_permission(self, request, view) -> bool:
        scope = getattr(view, "scope", None)
        read_scope = getattr(view, "read_scope", scope)
        reading = request.method in permissions.SAFE_METHODS
        needed = read_scope if reading else scope
        token = request.auth if isinstance(request.auth, Token) else None
        if token is not None:
            if needed is None:
                return True
            granted = set(token.scopes)
            if reading:
                for have in list(granted):
                    granted |= IMPLIED_READ.get(have, set())
            acceptable = (needed,) if isinstance(needed, str) else tuple(needed)
            if granted & set(acceptable):
                return True
            names = gettext(" or ").join(f"'{scope}'" for scope in acceptable)
            raise exceptions.PermissionDenied(
                gettext("This endpoint needs the %(names)s scope.") % {"names": names}
            )
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if user.is_staff:
            return True
        if reading and getattr(view, "session_read", True):
            return True
        if not reading and getattr(view, "session_write", False):
            return True
        if reading:
            raise exceptions.PermissionDenied(gettext("Only staff may read this through the API."))
        raise exceptions.PermissionDenied(gettext("Only staff may change this through the API."))


def token_has_scope(request, scope: str) -> bool:
    if isinstance(request.auth, Token):
        return request.auth.has_scope(scope)
    return bool(request.user and request.user.is_authenticated and request.user.is_staff)

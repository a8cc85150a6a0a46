"""Sign-in with the company's identity provider: OpenID Connect through
mozilla-django-oidc (authorization code flow with PKCE and a nonce, ID token
signature checked against the provider's keys).

Configured from the environment (training.settings, OIDC_*); off unless a client
id and the provider are set. With only OIDC_ISSUER, the endpoints are discovered
from `{issuer}/.well-known/openid-configuration` lazily, at the first sign-in, and
kept in process memory: Preflight starts while the provider is down, and a failed
discovery is not kept, so the next sign-in tries again.

Everything a sign-in changes in Preflight (the person, their team, language, time
zone, lead and manager roles) is done by training.services.sso.
"""

import logging
import threading
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from core.actors import SYSTEM
from core.errors import InvalidInput
from training.services.sso import SsoMapping, sso_user_sync, username_from_claims

logger = logging.getLogger(__name__)

# Our setting → the discovery document's key.
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",
}
_discovered: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()
# What a provider that does not answer, or answers nonsense, raises here.
PROVIDER_ERRORS = (requests.RequestException, ValueError, ImproperlyConfigured)


def oidc_enabled() -> bool:
    return bool(
        settings.OIDC_RP_CLIENT_ID
        and (settings.OIDC_ISSUER or settings.OIDC_OP_AUTHORIZATION_ENDPOINT)
    )


def password_login_enabled() -> bool:
    return bool(settings.PREFLIGHT_PASSWORD_LOGIN) or not oidc_enabled()


def discovery(issuer: str) -> dict[str, Any]:
    """The provider's metadata, fetched once per process (per issuer)."""
    with _lock:
        known = _discovered.get(issuer)
    if known is not None:
        return known
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
    response.raise_for_status()
    document = response.json()
    if not isinstance(document, dict):
        raise ValueError(f"{url} is not a JSON object")
    if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        # OpenID Connect Discovery §4.3: the document must name the issuer asked.
        raise ImproperlyConfigured(f"{url} names another issuer: {document.get('issuer')!r}")
    with _lock:
        _discovered[issuer] = document
    return document


def oidc_setting(attr: str, *default: Any) -> Any:
    """mozilla-django-oidc's settings, with the provider's endpoints discovered
    when they are not set explicitly."""
    if attr in _DISCOVERED:
        explicit = getattr(settings, attr, "")
        if explicit:
            return explicit
        if settings.OIDC_ISSUER:
            value = discovery(settings.OIDC_ISSUER).get(_DISCOVERED[attr])
            if value:
                return value
        if default:
            return default[0]
        raise ImproperlyConfigured(f"{attr} is not set and the provider does not publish it.")
    return import_from_settings(attr, *default)


def mapping() -> SsoMapping:
    return SsoMapping(
        groups_claim=settings.OIDC_GROUPS_CLAIM,
        team_map=dict(settings.OIDC_TEAM_MAP),
        lead_map=dict(settings.OIDC_LEAD_MAP),
        manager_groups=frozenset(settings.OIDC_MANAGER_GROUPS),
    )


class Backend(OIDCAuthenticationBackend):
    """Authenticates the callback of the code flow and maps the claims. Inert (no
    settings read, no user) while OpenID Connect is off."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = get_user_model()
        self.enabled = oidc_enabled()
        if self.enabled:
            super().__init__(*args, **kwargs)

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if not self.enabled or request is None or "code" not in request.GET:
            return None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token: Any) -> Any:
        """The library matches the key by the token's `kid`; a provider with a
        single signing key may leave `kid` out (RFC 7515 makes it optional): then
        that one key, and only when there is exactly one."""
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        keys = [k for k in response.json().get("keys", []) if k.get("use", "sig") == "sig"]
        if len(keys) != 1:
            raise SuspiciousOperation("The ID token names no key and the provider has several.")
        return jwt.PyJWK(keys[0])

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub")) and username_from_claims(claims) is not None

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        """The person with the username the provider gives (preferred_username, else
        the e-mail address), else the one with that e-mail address unless the
        provider says it is unverified: the same person SCIM provisioned or an
        admin created. Never a superuser: the local admin account is not for the
        provider to hand out."""
        people = self.UserModel.objects.filter(is_superuser=False)
        users = people.filter(username=username_from_claims(claims))
        if not users.exists() and claims.get("email") and claims.get("email_verified") is not False:
            users = people.filter(email__iexact=claims["email"])
        return users

    def create_user(self, claims: dict[str, Any]) -> Any:
        return self._sync(None, claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        return self._sync(user, claims)

    def _sync(self, user: Any, claims: dict[str, Any]) -> Any:
        try:
            return sso_user_sync(user=user, claims=claims, mapping=mapping(), actor=SYSTEM)
        except InvalidInput as exc:
            # A claim Preflight cannot take (a username it refuses): no sign-in.
            logger.warning("OpenID Connect sign-in refused: %s", exc.detail)
            return None


class SignInView(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: off → 404; a provider that does not answer → back to the
    sign-in page with a message, not a 500."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        View.__init__(self, *args, **kwargs)  # the endpoints are read per request

    def get(self, request: Any) -> Any:
        if not oidc_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = self.get_settings("OIDC_OP_AUTHORIZATION_ENDPOINT")
            self.OIDC_RP_CLIENT_ID = self.get_settings("OIDC_RP_CLIENT_ID")
        except PROVIDER_ERRORS:
            logger.warning("OpenID Connect provider unavailable", exc_info=True)
            messages.error(request, _("The sign-in service did not answer. Try again shortly."))
            return redirect("login")
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def get(self, request: Any) -> Any:
        if not oidc_enabled():
            raise Http404
        try:
            return super().get(request)
        except PROVIDER_ERRORS:
            logger.warning("OpenID Connect sign-in failed", exc_info=True)
            return self.login_failure()

    def login_failure(self) -> Any:
        messages.error(self.request, _("Signing in with your company account did not work."))
        return super().login_failure()


def provider_logout_url(request: Any) -> str | None:
    """Where to send the browser to end the provider's session too (OpenID Connect
    RP-Initiated Logout), or None when the person did not sign in through it or
    the provider has no end_session_endpoint. Read before the session is flushed."""
    id_token = request.session.get("oidc_id_token")
    if not (oidc_enabled() and id_token):
        return None
    try:
        endpoint = oidc_setting("OIDC_OP_LOGOUT_ENDPOINT", "")
    except PROVIDER_ERRORS:
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

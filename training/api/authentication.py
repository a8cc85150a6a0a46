from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from training.models import ApiToken
from training.models.tokens import hash_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`. Sets request.auth to the ApiToken and leaves
    request.user anonymous: a machine client is not a person."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(gettext("Malformed Authorization header."))
        token = (
            ApiToken.objects.filter(key_hash=hash_token(header[1]), revoked_at__isnull=True)
            .only("id", "name", "scopes", "last_used_at")
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(gettext("Invalid or revoked token."))
        now = timezone.now()
        # Write at most once a minute per token, not on every request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return (AnonymousUser(), token)

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI schema (drf-spectacular finds it by class)."""

    target_class = "training.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `manage.py issue_token NAME --scope SCOPE`.",
        }

import hashlib
import secrets

from django.db import models
from django.utils import timezone

from core.scopes import Scope

__all__ = ["TOKEN_PREFIX", "ApiToken", "Scope", "hash_token"]


TOKEN_PREFIX = "pf_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A machine client's credential. Only the SHA-256 of the token is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The start of the token, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

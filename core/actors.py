from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from django.contrib.auth.models import AbstractBaseUser


@runtime_checkable
class Token(Protocol):
    """A machine client's credential as the API sees it (training.models.ApiToken)."""

    name: str
    scopes: Any

    def has_scope(self, scope: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a person (user), a machine client (API token), or the system."""

    user: AbstractBaseUser | None = None
    token: Any = None  # a Token; Any so the audit row's foreign key accepts it

    @classmethod
    def from_request(cls, request: Any) -> "Actor":
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        auth = getattr(request, "auth", None)
        token = auth if isinstance(auth, Token) else None
        return cls(user=user, token=token)

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.token is not None:
            return f"token:{self.token.name}"
        return "system"

    def audit_fields(self) -> dict[str, Any]:
        return {"actor": self.user, "token": self.token}


SYSTEM = Actor()

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from training.models import ApiToken


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a person (user), a machine client (API token), or the system."""

    user: AbstractBaseUser | None = None
    token: ApiToken | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = request.user if getattr(request.user, "is_authenticated", False) else None
        token = request.auth if isinstance(getattr(request, "auth", None), ApiToken) else None
        return cls(user=user, token=token)

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        if self.token is not None:
            return f"token:{self.token.name}"
        return "system"

    def audit_fields(self) -> dict:
        return {"actor": self.user, "token": self.token}


SYSTEM = Actor()

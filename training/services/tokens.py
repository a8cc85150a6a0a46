from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidInput
from training.models import ApiToken, Scope
from training.models.tokens import hash_token


@transaction.atomic
def token_issue(*, name: str, scopes: list[str]) -> tuple[ApiToken, str]:
    """Create a token; returns it and the raw secret, which is not stored anywhere."""
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise InvalidInput(
            {"scopes": [gettext("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}]}
        )
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        name=name, prefix=raw[:10], key_hash=hash_token(raw), scopes=sorted(set(scopes))
    )
    return token, raw


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())

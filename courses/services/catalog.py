"""Writing the catalog's reference data: SDKs and skills.

Both upserts are idempotent and safe to race: the slug's unique constraint decides
which of two concurrent creators wins, and the loser re-reads the winner's row.
"""

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from core.errors import InvalidInput
from core.fields import field_max_length
from courses.models import Sdk, Skill
from courses.webhooks import webhook_secret_problem

# The catalog's reference models: a slug (unique) and a name.
_Entry = TypeVar("_Entry", Sdk, Skill)


def _too_long(max_length: int) -> str:
    # DRF's own wording (and catalogue entry) for the same error.
    return gettext("Ensure this field has no more than {max_length} characters.").format(
        max_length=max_length
    )


def _check(*, model: type[_Entry], slug: str, name: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    slug = (slug or "").strip() if isinstance(slug, str) else ""
    name = (name or "").strip() if isinstance(name, str) else ""
    slug_max = field_max_length(model, "slug")
    name_max = field_max_length(model, "name")
    if not slug:
        errors["slug"] = [gettext("This field is required.")]
    elif len(slug) > slug_max:
        errors["slug"] = [_too_long(slug_max)]
    else:
        try:
            validate_slug(slug)
        except ValidationError as exc:
            errors["slug"] = list(exc.messages)
    if not name:
        errors["name"] = [gettext("This field is required.")]
    elif len(name) > name_max:
        errors["name"] = [_too_long(name_max)]
    if errors:
        raise InvalidInput(errors)
    return slug, name


def _upsert(model: type[_Entry], *, slug: str, name: str) -> tuple[_Entry, bool]:
    slug, name = _check(model=model, slug=slug, name=name)
    existing = model.objects.filter(slug=slug).first()
    if existing is not None:
        return existing, False
    try:
        # A savepoint, so losing the race does not break the caller's transaction.
        with transaction.atomic():
            return model.objects.create(slug=slug, name=name), True
    except IntegrityError:
        return model.objects.get(slug=slug), False


@transaction.atomic
def sdk_upsert(
    *, slug: str, name: str, webhook_url: str | None = None, webhook_secret: str | None = None
) -> tuple[Sdk, bool]:
    """Create the SDK, or return the existing one with that slug (its name unchanged).
    A given `webhook_url` / `webhook_secret` is set on it either way
    (`sdk_set_webhook`'s rules), in the same transaction: an invalid one creates
    nothing.

    Returns (sdk, created). Raises InvalidInput naming the field.
    """
    sdk, created = _upsert(Sdk, slug=slug, name=name)
    if webhook_url is not None or webhook_secret is not None:
        sdk_set_webhook(sdk=sdk, url=webhook_url, secret=webhook_secret)
    return sdk, created


def skill_upsert(*, slug: str, name: str) -> tuple[Skill, bool]:
    """Create the skill, or return the existing one with that slug unchanged.

    Returns (skill, created). Raises InvalidInput naming `slug` or `name`.
    """
    return _upsert(Skill, slug=slug, name=name)


def skill_rules_check(rules: object) -> dict[str, list[str]]:
    """{"skill-slug": ["keyword", …]} with known skills and non-empty keywords, or
    InvalidInput naming `skill_rules`."""
    if not isinstance(rules, dict) or not all(
        isinstance(words, list) and all(isinstance(word, str) and word.strip() for word in words)
        for words in rules.values()
    ):
        raise InvalidInput({"skill_rules": [gettext('Expected {"skill-slug": ["keyword", …]}.')]})
    known = set(Skill.objects.filter(slug__in=list(rules)).values_list("slug", flat=True))
    unknown = sorted(set(rules) - known)
    if unknown:
        raise InvalidInput(
            {"skill_rules": [gettext("Unknown skill: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    return {slug: [word.strip() for word in words] for slug, words in rules.items()}


def sdk_skill_rules_set(*, sdk: Sdk, rules: object) -> Sdk:
    """Which skills the SDK's changelog entries train (courses.services.releases
    features_from_changelog). Raises InvalidInput naming `skill_rules`."""
    sdk.skill_rules = skill_rules_check(rules)
    sdk.save(update_fields=["skill_rules"])
    return sdk


def sdk_set_webhook(*, sdk: Sdk, url: str | None = None, secret: str | None = None) -> Sdk:
    """Set the SDK's webhook URL and/or signing secret (None: leave as it is; an empty
    URL switches deliveries off). A URL needs a secret — the one given or the one
    stored — in the Standard Webhooks form `whsec_<base64>`. Raises InvalidInput
    naming `webhook_url` or `webhook_secret`; saves nothing then. Queues nothing."""
    errors: dict[str, list[str]] = {}
    new_url = sdk.webhook_url if url is None else url.strip()
    new_secret = sdk.webhook_secret if secret is None else secret.strip()
    if url is not None and new_url:
        url_max = field_max_length(Sdk, "webhook_url")
        try:
            URLValidator(schemes=["http", "https"])(new_url)
        except ValidationError as exc:
            errors["webhook_url"] = list(exc.messages)
        if len(new_url) > url_max:
            errors["webhook_url"] = [_too_long(url_max)]
    if secret is not None and new_secret:
        problem = webhook_secret_problem(new_secret)
        if problem:
            errors["webhook_secret"] = [problem]
    if new_url and not new_secret and "webhook_secret" not in errors:
        errors["webhook_secret"] = [gettext("A webhook URL needs a signing secret (whsec_…).")]
    elif new_url and webhook_secret_problem(new_secret) and "webhook_secret" not in errors:
        # A secret stored before Standard Webhooks (the data migration converts them;
        # this is for one written by hand since).
        errors["webhook_secret"] = [gettext("Set a new signing secret (whsec_…) with the URL.")]
    if errors:
        raise InvalidInput(errors)
    sdk.webhook_url, sdk.webhook_secret = new_url, new_secret
    sdk.save(update_fields=["webhook_url", "webhook_secret"])
    return sdk

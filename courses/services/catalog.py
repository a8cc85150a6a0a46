"""Writing the catalog's reference data: SDKs and skills.

Both upserts are idempotent and safe to race: the slug's unique constraint decides
which of two concurrent creators wins, and the loser re-reads the winner's row.
"""

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from core.errors import InvalidInput
from core.fields import field_max_length
from courses.models import Sdk, Skill

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


def sdk_upsert(*, slug: str, name: str) -> tuple[Sdk, bool]:
    """Create the SDK, or return the existing one with that slug unchanged.

    Returns (sdk, created). Raises InvalidInput naming `slug` or `name`.
    """
    return _upsert(Sdk, slug=slug, name=name)


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

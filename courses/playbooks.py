"""Playbook documents and search text: the one shape a playbook is written in (API
PUT, `manage.py import_playbook`), and the safe snippets search results show.

A document references SDKs and skills by slug, features as `{"sdk", "key"}`, and its
owner by username. A feature key names a feature of *some* release of that SDK; it
resolves to the feature of the newest release (highest SemVer) that has that key, so
a playbook written for "offline-push" follows the feature as releases carry it.
"""

import html
import re
from typing import Any, NotRequired, TypedDict, cast

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from rest_framework import serializers

from core.errors import InvalidInput
from courses.documents import MarkdownField
from courses.models import Feature, Playbook, Scenario, Sdk, Skill

MAX_LINKS = 100
MAX_BODY = 100_000
# A search query longer than this is refused (400): no real question is that long,
# and a long query costs the database for nothing.
MAX_QUERY = 200
SNIPPET_CHARS = 160

# Characters that make a query "Chinese": CJK ideographs (and their extensions and
# compatibility forms). Such a query is matched by substring (trigram-indexed on
# PostgreSQL), not by the English full-text parser, which does not split Chinese
# into words.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
# The Chinese characters the database indexes as bigrams (courses_cjk_bigrams, in
# migration 0006, uses the same ranges): the basic plane's ideographs.
_CJK_INDEXED = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Control characters other than tab and newlines: never in prose, and the search
# highlighter uses two of them as markers (see courses.selectors.playbooks).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def cjk_bigrams(text: str) -> list[str]:
    """Every two-character sequence of Chinese characters in `text`, without repeats,
    in order: what the database's `courses_cjk_bigrams` indexes (migration 0006)."""
    found = []
    for run in _CJK_INDEXED.findall(text):
        found += [run[i : i + 2] for i in range(len(run) - 1)]
    return list(dict.fromkeys(found))


def query_terms(q: str) -> list[str]:
    """The words of a query, without repeats, in order."""
    return list(dict.fromkeys(q.split()))


class FeatureRef(TypedDict):
    sdk: str
    key: str


class PlaybookSpec(TypedDict):
    slug: NotRequired[str]
    title: str
    body: str
    language: str  # a Playbook.Language value
    scenarios: list[str]  # Scenario values, without repeats
    sdks: list[Sdk]
    features: list[Feature]
    skills: list[Skill]
    owner: Any  # a User or None


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise serializers.ValidationError(gettext("Control characters are not allowed."))
    return value


class FeatureRefSerializer(serializers.Serializer):
    sdk = serializers.SlugField(max_length=64)
    key = serializers.SlugField(max_length=100)


class PlaybookDocumentSerializer(serializers.Serializer):
    slug = serializers.SlugField(
        max_length=100, required=False, help_text="Optional; must match the URL's slug."
    )
    title = serializers.CharField(max_length=200, validators=[_no_control])
    body = MarkdownField(max_length=MAX_BODY, help_text="Markdown.", validators=[_no_control])
    language = serializers.ChoiceField(
        choices=Playbook.Language.choices, default=Playbook.Language.EN
    )
    scenarios = serializers.ListField(
        child=serializers.ChoiceField(choices=Scenario.choices),
        required=False,
        default=list,
        max_length=MAX_LINKS,
        help_text="Customer scenarios: " + ", ".join(Scenario.values) + ".",
    )
    sdks = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, default=list, max_length=100
    )
    features = FeatureRefSerializer(many=True, required=False, default=list, max_length=MAX_LINKS)
    skills = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, default=list, max_length=100
    )
    owner = serializers.CharField(
        max_length=150, required=False, allow_null=True, default=None, help_text="A username."
    )

    def validate(self, attrs):
        errors: dict[str, Any] = {}
        attrs["scenarios"] = list(dict.fromkeys(attrs["scenarios"]))

        wanted = list(dict.fromkeys(attrs["sdks"]))
        sdks = {s.slug: s for s in Sdk.objects.filter(slug__in=wanted)}
        unknown = [slug for slug in wanted if slug not in sdks]
        if unknown:
            errors["sdks"] = [gettext("Unknown SDK '%(sdk)s'.") % {"sdk": s} for s in unknown]
        attrs["sdks"] = [sdks[slug] for slug in wanted if slug in sdks]

        wanted = list(dict.fromkeys(attrs["skills"]))
        skills = {s.slug: s for s in Skill.objects.filter(slug__in=wanted)}
        unknown = [slug for slug in wanted if slug not in skills]
        if unknown:
            errors["skills"] = [gettext("Unknown skill '%(slug)s'.") % {"slug": s} for s in unknown]
        attrs["skills"] = [skills[slug] for slug in wanted if slug in skills]

        features: list[Feature] = []
        feature_errors: list[dict] = []
        for ref in attrs["features"]:
            feature = (
                Feature.objects.select_related("release__sdk")
                .filter(release__sdk__slug=ref["sdk"], key=ref["key"])
                .order_by("-release__sort_key")
                .first()
            )
            if feature is None:
                feature_errors.append(
                    {
                        "key": [
                            gettext("No release of %(sdk)s has a feature '%(key)s'.")
                            % {"sdk": ref["sdk"], "key": ref["key"]}
                        ]
                    }
                )
            else:
                feature_errors.append({})
                if feature not in features:
                    features.append(feature)
        if any(feature_errors):
            errors["features"] = feature_errors
        attrs["features"] = features

        username = attrs.get("owner")
        attrs["owner"] = None
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                errors["owner"] = [gettext("Unknown user '%(name)s'.") % {"name": username}]
            attrs["owner"] = user
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def playbook_document_validate(document: Any) -> PlaybookSpec:
    """Check a playbook document and resolve its references (see the module's
    docstring). Raises InvalidInput with DRF-shaped field errors."""
    serializer = PlaybookDocumentSerializer(data=document)
    if not serializer.is_valid():
        raise InvalidInput(serializer.errors)
    return cast(PlaybookSpec, serializer.validated_data)


def playbook_to_document(playbook: Playbook) -> dict:
    """The document that would save this playbook (what the API shows)."""
    return {
        "slug": playbook.slug,
        "title": playbook.title,
        "body": playbook.body,
        "language": playbook.language,
        "scenarios": [s.scenario for s in playbook.scenarios.all()],
        "sdks": [s.slug for s in playbook.sdks.all()],
        "features": [{"sdk": f.release.sdk.slug, "key": f.key} for f in playbook.features.all()],
        "skills": [s.slug for s in playbook.skills.all()],
        "owner": playbook.owner.get_username() if playbook.owner else None,
    }


def snippet(text: str, terms: list[str], *, width: int = SNIPPET_CHARS) -> str:
    """A piece of `text` around the first of `terms` it contains (case-insensitive),
    HTML-escaped, each occurrence of a term wrapped in <mark>. Safe to mark safe."""
    flat = " ".join(text.split())
    pattern = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True) if t)
    first = re.search(pattern, flat, flags=re.IGNORECASE) if pattern else None
    start = max(first.start() - width // 3, 0) if first else 0
    piece = flat[start : start + width]
    parts = re.split(f"({pattern})", piece, flags=re.IGNORECASE) if pattern else [piece]
    out = []
    for index, part in enumerate(parts):
        # re.split with one group: odd items are the matches.
        out.append(f"<mark>{html.escape(part)}</mark>" if index % 2 else html.escape(part))
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(flat) else ""
    return prefix + "".join(out) + suffix

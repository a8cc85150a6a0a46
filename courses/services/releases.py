"""Recording a release and its features: the content side of a release.

What a release does to people (publishing and its fan-out, moving due dates with
the customer date, the readiness gate) is training's (training.services.releases),
built on the helpers here. The pipeline retries and duplicates its calls, so
recording is idempotent, and it locks the release row before deciding anything
from its state.
"""

import re
from collections.abc import Iterable
from datetime import datetime
from typing import NotRequired, TypedDict

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from core.fields import field_max_length
from courses.changelog import ChangelogEntry, ChangelogError, release_entries
from courses.labels import RELEASE_STATUSES
from courses.models import DUE_AT_OUT_OF_RANGE, Feature, Release, Sdk, Skill, due_at_in_range
from courses.versions import InvalidVersion, Version

_FEATURE_KEY = re.compile(r"^[-a-zA-Z0-9_]+$")
_FEATURE_KEY_MAX = field_max_length(Feature, "key")
OPEN = (Release.Status.DRAFT, Release.Status.PUBLISHED)


class FeatureSpec(TypedDict):
    """A release's feature as the API, the commands and the admin give it to the
    services, and as `release_stored_features` reads it back."""

    key: str
    title: str
    summary: str
    skills: list[str]  # skill slugs
    # From a changelog (courses.changelog); given by hand, they default to
    # kind "", not breaking, no symbols, no module, trained.
    kind: NotRequired[str]
    breaking: NotRequired[bool]
    symbols: NotRequired[list[str]]
    module: NotRequired[str]
    train: NotRequired[bool]


_KINDS = frozenset(Feature.Kind.values) | {""}
_TITLE_MAX = field_max_length(Feature, "title")
_MODULE_MAX = field_max_length(Feature, "module")


# --- features --------------------------------------------------------------------


def features_normalise(features: Iterable[FeatureSpec]) -> list[FeatureSpec]:
    """Check the shape the API validated too (commands and the admin call us as well)."""
    if isinstance(features, str | bytes | dict) or not isinstance(features, Iterable):
        raise InvalidInput({"features": [gettext("Expected a list of features.")]})
    result: list[FeatureSpec] = []
    seen: set[str] = set()
    for feature in features:
        key = feature.get("key") if isinstance(feature, dict) else None
        if not isinstance(key, str) or not _FEATURE_KEY.match(key) or len(key) > _FEATURE_KEY_MAX:
            raise InvalidInput(
                {
                    "features": [
                        gettext("%(key)s is not a valid feature key (a slug).") % {"key": repr(key)}
                    ]
                }
            )
        if key in seen:
            raise InvalidInput(
                {"features": [gettext("Duplicate feature key: %(keys)s.") % {"keys": key}]}
            )
        seen.add(key)
        kind = feature.get("kind") or ""
        if kind not in _KINDS:
            raise InvalidInput(
                {"features": [gettext("%(kind)s is not a feature kind.") % {"kind": repr(kind)}]}
            )
        symbols = feature.get("symbols") or []
        if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
            raise InvalidInput({"features": [gettext("Symbols must be a list of strings.")]})
        result.append(
            {
                "key": key,
                "title": str(feature.get("title") or key),
                "summary": str(feature.get("summary") or ""),
                "skills": sorted(set(feature.get("skills") or [])),
                "kind": kind,
                "breaking": bool(feature.get("breaking", False)),
                "symbols": list(dict.fromkeys(symbols)),
                "module": str(feature.get("module") or "")[:_MODULE_MAX],
                "train": bool(feature.get("train", kind != Feature.Kind.FIXED)),
            }
        )
    return result


def features_from_changelog(sdk: Sdk, version: str, changelog: str) -> list[FeatureSpec]:
    """The features a release's changelog lists (its version's section when the text
    has several), each mapped to skills by the SDK's `skill_rules`. A fix is not
    trained (no lesson in the drafted course) unless an author marks it so.
    Raises InvalidInput naming `changelog` when the text cannot be read."""
    try:
        entries = release_entries(changelog, version)
    except ChangelogError as exc:
        raise InvalidInput({"changelog": [str(exc)]}) from exc
    rules = sdk.skill_rules if isinstance(sdk.skill_rules, dict) else {}
    known = set(Skill.objects.filter(slug__in=list(rules)).values_list("slug", flat=True))
    return [
        {
            "key": entry["key"],
            "title": entry["title"][:_TITLE_MAX],
            "summary": entry["summary"],
            "skills": [slug for slug in skills_by_rules(sdk, entry) if slug in known],
            "kind": entry["kind"],
            "breaking": entry["breaking"],
            "symbols": entry["symbols"],
            "module": entry["module"],
            "train": entry["kind"] != Feature.Kind.FIXED,
        }
        for entry in entries
    ]


def skills_by_rules(sdk: Sdk, entry: ChangelogEntry) -> list[str]:
    """Skill slugs whose keywords (sdk.skill_rules: {"skill": ["keyword", …]}) occur,
    case-insensitively, in the entry's title, module or symbols."""
    rules = sdk.skill_rules if isinstance(sdk.skill_rules, dict) else {}
    text = " ".join([entry["title"], entry["module"], *entry["symbols"]]).casefold()
    return sorted(
        skill
        for skill, keywords in rules.items()
        if isinstance(keywords, list)
        and any(isinstance(word, str) and word.casefold() in text for word in keywords)
    )


def features_merge(given: list[FeatureSpec], found: list[FeatureSpec]) -> list[FeatureSpec]:
    """The features given by hand, then the changelog's whose keys they do not use."""
    keys = {feature["key"] for feature in given}
    return [*given, *(feature for feature in found if feature["key"] not in keys)]


def features_resolve_skills(features: list[FeatureSpec]) -> dict[str, Skill]:
    wanted = {slug for feature in features for slug in feature["skills"]}
    skills = {skill.slug: skill for skill in Skill.objects.filter(slug__in=wanted)}
    unknown = sorted(wanted - skills.keys())
    if unknown:
        raise InvalidInput(
            {"features": [gettext("Unknown skill: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    return skills


def features_signature(
    features: Iterable[FeatureSpec],
) -> dict[str, tuple[str, str, frozenset[str]]]:
    """What makes two feature lists "the same" for an idempotent retry (order aside)."""
    return {f["key"]: (f["title"], f["summary"], frozenset(f["skills"])) for f in features}


def release_stored_features(release: Release) -> list[FeatureSpec]:
    return [
        {
            "key": feature.key,
            "title": feature.title,
            "summary": feature.summary,
            "skills": [skill.slug for skill in feature.skills.all()],
            "kind": feature.kind,
            "breaking": feature.breaking,
            "symbols": list(feature.symbols),
            "module": feature.module,
            "train": feature.train,
        }
        for feature in release.features.prefetch_related("skills")
    ]


def release_features_replace(
    release: Release, features: list[FeatureSpec], skills: dict[str, Skill]
) -> None:
    """Make the release's features exactly `features`, matched by key: kept keys are
    updated in place (lessons and questions pointing at them stay linked), missing
    keys are deleted, new keys created."""
    stored = {feature.key: feature for feature in release.features.all()}
    wanted = {feature["key"] for feature in features}
    Feature.objects.filter(release=release).exclude(key__in=wanted).delete()
    for position, data in enumerate(features):
        feature = stored.get(data["key"])
        fields = {
            "title": data["title"],
            "summary": data["summary"],
            "position": position,
            "kind": data.get("kind", ""),
            "breaking": data.get("breaking", False),
            "symbols": data.get("symbols", []),
            "module": data.get("module", ""),
            "train": data.get("train", True),
        }
        if feature is None:
            feature = Feature.objects.create(release=release, key=data["key"], **fields)
        else:
            changed = [name for name, value in fields.items() if getattr(feature, name) != value]
            if changed:
                for name in changed:
                    setattr(feature, name, fields[name])
                feature.save(update_fields=changed)
        feature.skills.set([skills[slug] for slug in data["skills"]])


def require_aware(value: datetime, field: str = "customer_available_at") -> None:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput(
            {field: [gettext("Give a time with its UTC offset, e.g. 2026-12-15T09:00:00Z.")]}
        )


def require_due_in_range(customer_available_at: datetime) -> None:
    """The due date is computed from the customer date (Release.due_at): one too
    early to compute or to write is the client's mistake, a 400, never a 500."""
    if not due_at_in_range(customer_available_at):
        raise InvalidInput({"customer_available_at": [str(DUE_AT_OUT_OF_RANGE)]})


def release_lock(release: Release) -> Release:
    """The release, locked against the other release services until the commit.

    FOR NO KEY UPDATE: a fan-out committing its assignments (whose foreign-key checks
    take KEY SHARE on the release) is not held up by it, and cannot deadlock with a
    service that holds it and waits on the fan-out's readiness snapshot."""
    return (
        Release.objects.select_for_update(of=("self",), no_key=True)
        .select_related("sdk")
        .get(pk=release.pk)
    )


def release_label(release: Release) -> str:
    return f"{release.sdk.slug} {release.version}"


def release_status_label(release: Release) -> str:
    """The release's status in words of the active language ("published" in English)."""
    return str(RELEASE_STATUSES.get(release.status, release.status))


# --- services ----------------------------------------------------------------------


@transaction.atomic
def release_record(
    *,
    sdk: Sdk,
    version: Version | str,
    customer_available_at: datetime,
    notes: str,
    features: list[FeatureSpec],
    actor: Actor,
    changelog: str = "",
) -> tuple[Release, bool]:
    """Record a release, or return the one already recorded for this SDK and version.

    Returns (release, created). A draft is updated from the new body (fields, and its
    features replaced by key). Once published, the same features (keys, titles,
    summaries, skills) return it unchanged and different ones raise Conflict.
    Concurrent identical calls create one release: the (sdk, version) unique
    constraint picks the winner and the loser, inside a savepoint, re-reads it.
    `features` are FeatureSpecs {key, title, summary, skills: [skill slugs]}; a
    `changelog` (Markdown) adds the features it lists (features_from_changelog)
    whose keys `features` does not use.
    Raises InvalidInput for a bad version, a naive time or one too early to have a
    due date, a bad or duplicate feature key, or an unknown skill. Queues nothing.
    """
    if isinstance(version, str):
        try:
            version = Version.parse(version)
        except InvalidVersion as exc:
            raise InvalidInput({"version": [str(exc)]}) from exc
    require_aware(customer_available_at)
    require_due_in_range(customer_available_at)
    features = features_normalise(features)
    if changelog:
        features = features_merge(features, features_from_changelog(sdk, str(version), changelog))
    skills = features_resolve_skills(features)
    lookup = {"sdk": sdk, "version": str(version)}

    release = Release.objects.select_for_update(of=("self",), no_key=True).filter(**lookup).first()
    if release is None:
        now = timezone.now()
        try:
            # A savepoint: losing the race must not break the enclosing transaction.
            with transaction.atomic():
                release = Release.objects.create(
                    **lookup,
                    sort_key=version.sort_key,
                    customer_available_at=customer_available_at,
                    notes=notes,
                    created_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            # Another request recorded it between our read and our insert; on
            # PostgreSQL our insert waited for its commit, so the row is there now.
            release = Release.objects.select_for_update(of=("self",), no_key=True).get(**lookup)
        else:
            release_features_replace(release, features, skills)
            return release, True

    if release.status != Release.Status.DRAFT:
        if features_signature(release_stored_features(release)) != features_signature(features):
            raise Conflict(
                gettext("Release %(release)s is %(status)s; its features can no longer change.")
                % {
                    "release": f"{sdk.slug} {release.version}",
                    "status": release_status_label(release),
                },
                status=release.status,
            )
        return release, False

    # A draft has no assignments yet, so its customer date moves nothing else.
    release.customer_available_at = customer_available_at
    release.notes = notes
    release.updated_at = timezone.now()
    release.save(update_fields=["customer_available_at", "notes", "updated_at"])
    release_features_replace(release, features, skills)
    return release, False


@transaction.atomic
def release_draft_features_put(*, release: Release, features: list[FeatureSpec]) -> Release:
    """Make a draft release's features exactly `features` (matched by key, as
    `release_record` does), under the release's lock. The admin's feature inline
    saves through here. Raises Conflict once the release has left draft (its
    features are frozen) and InvalidInput for a bad or duplicate key or an unknown
    skill. Queues nothing."""
    release = release_lock(release)
    if release.status != Release.Status.DRAFT:
        raise Conflict(
            gettext("Release %(release)s is %(status)s; its features can no longer change.")
            % {"release": release_label(release), "status": release_status_label(release)},
            status=release.status,
        )
    features = features_normalise(features)
    release_features_replace(release, features, features_resolve_skills(features))
    return release

"""Recording, publishing, rescheduling and releasing an SDK release.

The release pipeline retries and duplicates its calls, so every service here is
idempotent: recording the same release twice returns the first one, publishing a
published release does nothing, marking an available release available changes
nothing. Each runs in one transaction and locks the release row (SELECT ... FOR
UPDATE) before deciding anything from its state, so two concurrent calls are
serialised by the database instead of both acting on a stale read.
"""

import re
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.fields import DateTimeField
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext

from courses.models import (
    DUE_AT_OUT_OF_RANGE,
    Course,
    Feature,
    Lesson,
    Release,
    Sdk,
    Skill,
    due_at_in_range,
)
from courses.versions import InvalidVersion, Version
from training.actors import Actor
from training.errors import Conflict, InvalidInput
from training.labels import RELEASE_STATUSES
from training.models import Assignment, AuditEvent, ReadinessSnapshot
from training.queue import enqueue_on_commit
from training.selectors.readiness import release_readiness
from training.services.readiness import readiness_changed

_FEATURE_KEY = re.compile(r"^[-a-zA-Z0-9_]+$")
_FEATURE_KEY_MAX = Feature._meta.get_field("key").max_length
_COURSE_SLUG_MAX = Course._meta.get_field("slug").max_length
_OPEN = (Release.Status.DRAFT, Release.Status.PUBLISHED)


# --- features --------------------------------------------------------------------


def _normalise_features(features: Iterable[dict]) -> list[dict]:
    """Check the shape the API validated too (commands and the admin call us as well)."""
    if isinstance(features, str | bytes | dict) or not isinstance(features, Iterable):
        raise InvalidInput({"features": [gettext("Expected a list of features.")]})
    result, seen = [], set()
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
        result.append(
            {
                "key": key,
                "title": str(feature.get("title") or key),
                "summary": str(feature.get("summary") or ""),
                "skills": sorted(set(feature.get("skills") or [])),
            }
        )
    return result


def _resolve_skills(features: list[dict]) -> dict[str, Skill]:
    wanted = {slug for feature in features for slug in feature["skills"]}
    skills = {skill.slug: skill for skill in Skill.objects.filter(slug__in=wanted)}
    unknown = sorted(wanted - skills.keys())
    if unknown:
        raise InvalidInput(
            {"features": [gettext("Unknown skill: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    return skills


def _signature(features: Iterable[dict]) -> dict[str, tuple]:
    """What makes two feature lists "the same" for an idempotent retry (order aside)."""
    return {f["key"]: (f["title"], f["summary"], frozenset(f["skills"])) for f in features}


def _stored_features(release: Release) -> list[dict]:
    return [
        {
            "key": feature.key,
            "title": feature.title,
            "summary": feature.summary,
            "skills": [skill.slug for skill in feature.skills.all()],
        }
        for feature in release.features.prefetch_related("skills")
    ]


def _replace_features(release: Release, features: list[dict], skills: dict[str, Skill]) -> None:
    """Make the release's features exactly `features`, matched by key: kept keys are
    updated in place (lessons and questions pointing at them stay linked), missing
    keys are deleted, new keys created."""
    stored = {feature.key: feature for feature in release.features.all()}
    wanted = {feature["key"] for feature in features}
    Feature.objects.filter(release=release).exclude(key__in=wanted).delete()
    for position, data in enumerate(features):
        feature = stored.get(data["key"])
        if feature is None:
            feature = Feature.objects.create(
                release=release,
                key=data["key"],
                title=data["title"],
                summary=data["summary"],
                position=position,
            )
        elif (feature.title, feature.summary, feature.position) != (
            data["title"],
            data["summary"],
            position,
        ):
            feature.title, feature.summary, feature.position = (
                data["title"],
                data["summary"],
                position,
            )
            feature.save(update_fields=["title", "summary", "position"])
        feature.skills.set([skills[slug] for slug in data["skills"]])


def _require_aware(value: datetime, field: str = "customer_available_at") -> None:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise InvalidInput(
            {field: [gettext("Give a time with its UTC offset, e.g. 2026-12-15T09:00:00Z.")]}
        )


def _require_due_in_range(customer_available_at: datetime) -> None:
    """The due date is computed from the customer date (Release.due_at): one too
    early to compute or to write is the client's mistake, a 400, never a 500."""
    if not due_at_in_range(customer_available_at):
        raise InvalidInput({"customer_available_at": [str(DUE_AT_OUT_OF_RANGE)]})


def _locked(release: Release) -> Release:
    """The release, locked against the other release services until the commit.

    FOR NO KEY UPDATE: a fan-out committing its assignments (whose foreign-key checks
    take KEY SHARE on the release) is not held up by it, and cannot deadlock with a
    service that holds it and waits on the fan-out's readiness snapshot."""
    return (
        Release.objects.select_for_update(of=("self",), no_key=True)
        .select_related("sdk")
        .get(pk=release.pk)
    )


def _label(release: Release) -> str:
    return f"{release.sdk.slug} {release.version}"


def _status(release: Release) -> str:
    """The release's status in words of the active language ("published" in English)."""
    return str(RELEASE_STATUSES.get(release.status, release.status))


def _move_due_dates(release: Release) -> int:
    """Move the due date of the release's open fan-out assignments to the release's
    due date (never before the assignment was made: the check constraint wants
    due >= assigned). A lead's own assignments keep the date the lead chose. Moved
    dates change who is overdue: the release's readiness is marked as changed."""
    moved = (
        Assignment.objects.filter(release=release, reason=Assignment.Reason.RELEASE)
        .exclude(status__in=Assignment.DONE)
        .update(
            due_at=Greatest(Value(release.due_at, output_field=DateTimeField()), F("assigned_at"))
        )
    )
    if moved:
        readiness_changed(release_ids=[release.pk])
    return moved


# --- services ----------------------------------------------------------------------


@transaction.atomic
def release_record(
    *,
    sdk: Sdk,
    version: Version | str,
    customer_available_at: datetime,
    notes: str,
    features: list[dict],
    actor: Actor,
) -> tuple[Release, bool]:
    """Record a release, or return the one already recorded for this SDK and version.

    Returns (release, created). A draft is updated from the new body (fields, and its
    features replaced by key). Once published, the same features (keys, titles,
    summaries, skills) return it unchanged and different ones raise Conflict.
    Concurrent identical calls create one release: the (sdk, version) unique
    constraint picks the winner and the loser, inside a savepoint, re-reads it.
    `features` are dicts {key, title, summary, skills: [skill slugs]}.
    Raises InvalidInput for a bad version, a naive time or one too early to have a
    due date, a bad or duplicate feature key, or an unknown skill. Queues nothing.
    """
    if isinstance(version, str):
        try:
            version = Version.parse(version)
        except InvalidVersion as exc:
            raise InvalidInput({"version": [str(exc)]}) from exc
    _require_aware(customer_available_at)
    _require_due_in_range(customer_available_at)
    features = _normalise_features(features)
    skills = _resolve_skills(features)
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
            _replace_features(release, features, skills)
            # Its readiness is counted from here on (training.selectors.readiness).
            ReadinessSnapshot.objects.create(release=release)
            return release, True

    if release.status != Release.Status.DRAFT:
        if _signature(_stored_features(release)) != _signature(features):
            raise Conflict(
                gettext("Release %(release)s is %(status)s; its features can no longer change.")
                % {"release": f"{sdk.slug} {release.version}", "status": _status(release)},
                status=release.status,
            )
        return release, False

    rescheduled = release.customer_available_at != customer_available_at
    release.customer_available_at = customer_available_at
    release.notes = notes
    release.updated_at = timezone.now()
    release.save(update_fields=["customer_available_at", "notes", "updated_at"])
    _replace_features(release, features, skills)
    if rescheduled:
        _move_due_dates(release)
    return release, False


@transaction.atomic
def release_publish(*, release: Release, actor: Actor) -> tuple[Release, bool]:
    """Publish a draft release; returns (release, newly_published).

    If the release has no course, a draft course is made from its features (one
    lesson per feature) so training can start before anyone writes a course. Writes
    an AuditEvent(release_published) and, after commit, queues
    `training.tasks.assign_release_training` — only when this call published it, so
    a retried or concurrent publish never queues the fan-out twice (and the fan-out
    itself is idempotent anyway). Publishing a published release returns it
    unchanged; an available or withdrawn one raises Conflict.
    """
    release = _locked(release)
    if release.status == Release.Status.PUBLISHED:
        return release, False
    if release.status != Release.Status.DRAFT:
        raise Conflict(
            gettext("Release %(release)s is %(status)s; only a draft can be published.")
            % {"release": _label(release), "status": _status(release)},
            status=release.status,
        )
    now = timezone.now()
    release.status = Release.Status.PUBLISHED
    release.published_at = now
    release.updated_at = now
    release.save(update_fields=["status", "published_at", "updated_at"])
    course = None if release.courses.exists() else _draft_course(release)
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.RELEASE_PUBLISHED,
        release=release,
        details={"by": actor.label, "draft_course": course.slug if course else None},
        created_at=now,
        **actor.audit_fields(),
    )
    from training.tasks import assign_release_training

    enqueue_on_commit(assign_release_training, release.pk)
    return release, True


def _course_slug(release: Release) -> str:
    """A course slug from the SDK and version that no course has yet.

    Versions differing only in punctuation (4.0.0-rc.1, 4.0.0-rc-1) make one base;
    the second gets the first free `-2`, `-3`…. Free when read: a concurrent
    publish may take it before our insert, which `_draft_course` retries."""
    base = re.sub(r"[^a-z0-9]+", "-", f"{release.sdk.slug}-{release.version}".lower())
    base = base.strip("-")[: _COURSE_SLUG_MAX - 4].rstrip("-")
    taken = set(Course.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _lesson_body(feature: Feature) -> str:
    body = feature.summary.strip() or "_No summary yet._"
    skills = [skill.slug for skill in feature.skills.all()]
    if skills:
        body += "\n\n**Skills:** " + ", ".join(f"`{slug}`" for slug in skills)
    return body


_SLUG_ATTEMPTS = 5


def _draft_course(release: Release) -> Course:
    features = list(release.features.prefetch_related("skills"))
    for attempt in range(1, _SLUG_ATTEMPTS + 1):
        slug = _course_slug(release)
        try:
            # A savepoint: a slug taken by a concurrent publish (or course PUT) since
            # we read it fails the insert alone. On PostgreSQL the insert waited for
            # that transaction's commit, so the next read sees the slug as taken.
            with transaction.atomic():
                course = Course.objects.create(
                    slug=slug,
                    title=f"{release.sdk.name} {release.version} — what's new",
                    description=release.notes,
                    release=release,
                    status=Course.Status.DRAFT,
                )
            break
        except IntegrityError:
            if attempt == _SLUG_ATTEMPTS:
                raise
    lessons = [
        Lesson(
            course=course,
            position=position,
            title=feature.title,
            body=_lesson_body(feature),
            feature=feature,
        )
        for position, feature in enumerate(features, start=1)
    ]
    if not lessons:
        # A course with no lesson would count as done unread; the notes are the lesson.
        lessons = [
            Lesson(
                course=course,
                position=1,
                title="Release notes",
                body=release.notes.strip() or "_No release notes yet._",
            )
        ]
    Lesson.objects.bulk_create(lessons)
    return course


@transaction.atomic
def release_reschedule(
    *, release: Release, customer_available_at: datetime, actor: Actor
) -> Release:
    """Move the customer date (earlier or later) until the release is available.

    The release's fan-out assignments that are not done move with it: due at the
    new customer date less the lead time, never before they were assigned.
    Assignments a lead made by hand keep their date. Raises InvalidInput for a time
    too early to have a due date, Conflict once the release is available or
    withdrawn. Queues nothing.
    """
    _require_aware(customer_available_at)
    _require_due_in_range(customer_available_at)
    release = _locked(release)
    if release.status not in _OPEN:
        raise Conflict(
            gettext("Release %(release)s is %(status)s; its customer date is final.")
            % {"release": _label(release), "status": _status(release)},
            status=release.status,
        )
    if release.customer_available_at == customer_available_at:
        return release
    release.customer_available_at = customer_available_at
    release.updated_at = timezone.now()
    release.save(update_fields=["customer_available_at", "updated_at"])
    _move_due_dates(release)
    return release


@transaction.atomic
def release_update(
    *,
    release: Release,
    actor: Actor,
    customer_available_at: datetime | None = None,
    notes: str | None = None,
    features: list[dict] | None = None,
) -> Release:
    """Change what was given (None = leave as is) until the release is available.

    Features can change only while the release is a draft; on a published release
    the same features are accepted and different ones raise Conflict. A new customer
    date goes through `release_reschedule`. Queues nothing.
    """
    release = _locked(release)
    if release.status not in _OPEN:
        raise Conflict(
            gettext("Release %(release)s is %(status)s; it can no longer change.")
            % {"release": _label(release), "status": _status(release)},
            status=release.status,
        )
    if features is not None:
        features = _normalise_features(features)
        skills = _resolve_skills(features)
        if release.status != Release.Status.DRAFT:
            if _signature(_stored_features(release)) != _signature(features):
                raise Conflict(
                    gettext("Release %(release)s is %(status)s; its features can no longer change.")
                    % {"release": _label(release), "status": _status(release)},
                    status=release.status,
                )
        else:
            _replace_features(release, features, skills)
    if notes is not None and notes != release.notes:
        release.notes = notes
        release.updated_at = timezone.now()
        release.save(update_fields=["notes", "updated_at"])
    if customer_available_at is not None:
        release = release_reschedule(
            release=release, customer_available_at=customer_available_at, actor=actor
        )
    return release


@transaction.atomic
def release_mark_available(
    *, release: Release, actor: Actor, override: bool = False, reason: str = ""
) -> Release:
    """Let customers have the release — if support is ready.

    Readiness is counted afresh (never from its snapshot) under the release's row
    lock. Ready: the release becomes
    available and an AuditEvent(release_available) records it. Not ready: Conflict
    with `blocking` (the readiness reasons) and nothing changes — unless `override`,
    which needs a reason (InvalidInput otherwise; the caller checks the
    `releases:override` permission) and writes an AuditEvent(release_override) with
    who, when, why and the full readiness at that moment, in the same transaction.
    An available release is returned unchanged; a draft or withdrawn one raises
    Conflict. Queues nothing.
    """
    release = _locked(release)
    if release.status == Release.Status.AVAILABLE:
        return release
    if release.status != Release.Status.PUBLISHED:
        raise Conflict(
            gettext(
                "Release %(release)s is %(status)s; only a published release can become available."
            )
            % {"release": _label(release), "status": _status(release)},
            status=release.status,
            blocking=[gettext("the release is %(status)s") % {"status": _status(release)}],
        )
    now = timezone.now()
    readiness = release_readiness(release, now=now, fresh=True)
    overriding = not readiness["ready"]
    reason = (reason or "").strip()
    if overriding:
        if not override:
            raise Conflict(
                gettext("Support is not ready for %(release)s.") % {"release": _label(release)},
                blocking=readiness["blocking"],
            )
        if not reason:
            raise InvalidInput({"reason": [gettext("Give the reason for overriding the gate.")]})
    release.status = Release.Status.AVAILABLE
    release.available_at = now
    release.updated_at = now
    release.save(update_fields=["status", "available_at", "updated_at"])
    snapshot = {**readiness, "due_at": readiness["due_at"].isoformat()}
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.RELEASE_OVERRIDE if overriding else AuditEvent.Kind.RELEASE_AVAILABLE,
        release=release,
        details={
            "by": actor.label,
            "at": now.isoformat(),
            "reason": reason if overriding else "",
            "readiness": snapshot,
        },
        created_at=now,
        **actor.audit_fields(),
    )
    return release

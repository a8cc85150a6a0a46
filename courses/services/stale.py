"""Content that a release made stale, and verifying it again.

A release that removes, deprecates or (breakingly) changes API symbols makes every
lesson and question of the SDK's other published courses that names them suspect:
they are marked (StaleMark, with the release and the symbols), the course shows
"needs review since <version>", engineers see a notice on the lesson, and the
authors are told (training, which owns mail). A release that only fixes a symbol
marks nothing. Playbooks of the SDK (linked to it, to one of its features, or to
no SDK at all) that name those symbols are marked the same way (PlaybookStaleMark).
Verifying a course or a playbook (its owner or a manager, audited by training)
clears its marks and restarts its verification interval.
"""

import json
import re
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from courses.models import (
    Choice,
    Course,
    Feature,
    Lesson,
    Playbook,
    PlaybookStaleMark,
    Question,
    Release,
    StaleMark,
)

# The kinds of change that can make what a lesson teaches wrong.
_STALE_KINDS = (Feature.Kind.REMOVED, Feature.Kind.DEPRECATED)


def release_stale_symbols(release: Release) -> list[str]:
    """The API symbols `release` removes, deprecates, or changes in a breaking way."""
    symbols: list[str] = []
    for feature in release.features.all():
        if feature.kind in _STALE_KINDS or (
            feature.kind == Feature.Kind.CHANGED and feature.breaking
        ):
            symbols += [symbol for symbol in feature.symbols if symbol not in symbols]
    return symbols


def symbol_pattern(symbols: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern finding any of `symbols` in Markdown, by its last name segment
    (`RtmClient.sendMessage` is found as `sendMessage(` or `client.sendMessage`):
    a camelCase, snake_case or dotted name as a whole identifier; a plain word
    (`login`) only as code, called (`login(`) or in backticks, so prose that uses
    the word is not flagged."""
    alternatives = []
    for symbol in symbols:
        name = re.split(r"\.|::|#|->", symbol)[-1]
        if not name:
            continue
        escaped = re.escape(name)
        if re.fullmatch(r"[a-z]+", name):
            alternatives.append(rf"(?<![\w$]){escaped}\s*\(|`[\w$.:#>-]*{escaped}\b")
        else:
            alternatives.append(rf"(?<![\w$]){escaped}(?![\w$])")
    if not alternatives:
        return None
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives))


def _names_found(pattern: re.Pattern[str], symbols: list[str], text: str) -> list[str]:
    found = {match.group(0) for match in pattern.finditer(text)}
    return [
        symbol
        for symbol in symbols
        if any(re.split(r"\.|::|#|->", symbol)[-1] in hit for hit in found)
    ]


@transaction.atomic
def release_mark_stale_content(release: Release, *, now: datetime | None = None) -> list[Course]:
    """Mark the lessons and questions of the SDK's other published courses that
    name what `release` removes, deprecates or breaks; returns the courses newly
    marked. Idempotent: a lesson is marked once per release."""
    symbols = release_stale_symbols(release)
    pattern = symbol_pattern(symbols)
    if pattern is None:
        return []
    now = now or timezone.now()
    courses = Course.objects.filter(
        release__sdk_id=release.sdk_id, status=Course.Status.PUBLISHED
    ).exclude(release=release)
    marks: list[StaleMark] = []
    for lesson_id, course_id, title, body in Lesson.objects.filter(course__in=courses).values_list(
        "id", "course_id", "title", "body"
    ):
        found = _names_found(pattern, symbols, f"{title}\n{body}")
        if found:
            marks.append(
                StaleMark(
                    course_id=course_id,
                    lesson_id=lesson_id,
                    release=release,
                    symbols=found,
                    created_at=now,
                )
            )
    texts: dict[int, list[str]] = {}
    owners: dict[int, int] = {}
    for question_id, course_id, prompt, explanation, spec in Question.objects.filter(
        quiz__course__in=courses
    ).values_list("id", "quiz__course_id", "prompt", "explanation", "spec"):
        # A kind's own fields (a scenario's log or code, accepted answers) count too.
        texts[question_id] = [prompt, explanation, json.dumps(spec or {}, ensure_ascii=False)]
        owners[question_id] = course_id
    for question_id, text in Choice.objects.filter(question_id__in=texts).values_list(
        "question_id", "text"
    ):
        texts[question_id].append(text)
    for question_id, parts in texts.items():
        found = _names_found(pattern, symbols, "\n".join(parts))
        if found:
            marks.append(
                StaleMark(
                    course_id=owners[question_id],
                    question_id=question_id,
                    release=release,
                    symbols=found,
                    created_at=now,
                )
            )
    already = set(
        StaleMark.objects.filter(release=release).values_list("course_id", flat=True).distinct()
    )
    StaleMark.objects.bulk_create(marks, ignore_conflicts=True)
    marked = {mark.course_id for mark in marks} - already
    return list(Course.objects.filter(pk__in=marked).order_by("slug"))


@transaction.atomic
def course_mark_verified(course: Course, *, now: datetime | None = None) -> int:
    """The course is true again: its stale marks are cleared and its verification
    interval restarts. Returns how many marks were cleared. (Who verified is
    training's audit row.)"""
    course = Course.objects.select_for_update().get(pk=course.pk)
    cleared, _ = StaleMark.objects.filter(course=course).delete()
    course.verified_at = now or timezone.now()
    course.save(update_fields=["verified_at"])
    return cleared


@transaction.atomic
def release_mark_stale_playbooks(
    release: Release, *, now: datetime | None = None
) -> list[Playbook]:
    """Mark the playbooks about `release`'s SDK (linked to it or to one of its
    features, or to no SDK at all) that name what `release` removes, deprecates or
    breaks; returns the playbooks newly marked. Idempotent: once per release."""
    symbols = release_stale_symbols(release)
    pattern = symbol_pattern(symbols)
    if pattern is None:
        return []
    now = now or timezone.now()
    about_sdk = (
        Q(sdks=release.sdk_id) | Q(features__release__sdk_id=release.sdk_id) | Q(sdks__isnull=True)
    )
    candidates = (
        Playbook.objects.filter(about_sdk)
        .exclude(stale_marks__release=release)
        .values_list("id", "title", "body")
        .distinct()
    )
    marks = [
        PlaybookStaleMark(playbook_id=playbook_id, release=release, symbols=found, created_at=now)
        for playbook_id, title, body in candidates
        if (found := _names_found(pattern, symbols, f"{title}\n{body}"))
    ]
    PlaybookStaleMark.objects.bulk_create(marks, ignore_conflicts=True)
    return list(Playbook.objects.filter(pk__in=[mark.playbook_id for mark in marks]))


@transaction.atomic
def playbook_mark_verified(playbook: Playbook, *, now: datetime | None = None) -> int:
    """The playbook is true again: its stale marks are cleared and its verification
    interval restarts. Returns how many marks were cleared."""
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    cleared, _ = PlaybookStaleMark.objects.filter(playbook=playbook).delete()
    playbook.verified_at = now or timezone.now()
    playbook.save(update_fields=["verified_at"])
    return cleared

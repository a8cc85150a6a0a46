"""Keeping readiness counts between reads, and invalidating them: the writes.

Counting a release's readiness reads every in-scope engineer, so the last count is
kept in the release's ReadinessSnapshot and served while nothing it depends on has
changed. Why a kept count is never wrong:

1. every write that can change the counts raises the snapshot's `version` in its
   own transaction, as its last statement (`readiness_changed`: invalidate);
2. a read takes the version *before* it counts (training.readiness.counts.kept_counts_many),
   and `readiness_keep` stores its count only if the version is still that one
   (a conditional UPDATE);
3. so a count that missed a write is stored, if at all, under a version that write
   has already raised or is about to raise, and is never served.

The clock alone changes `overdue`: a count is kept only until the first due time of
an open assignment after it, and at most PREFLIGHT_READINESS_MAX_AGE_SECONDS.

`readiness_changed` raises the version of the releases' ReadinessSnapshot in the
caller's transaction, so the next read of their readiness counts afresh; the count
and the write can never be seen apart (see above).
Callers: the fan-out and backlog (assignments), moved due dates
(training.services.releases), an engineer's team, region or active flag, a team's
SDKs (people), and deletions in the admin.

Coverage of the launch window (training.readiness.coverage) is not kept here: it is
computed on every read that asks for it (one query), so shifts, time off and
assignment status never need to invalidate anything for it.

The most frequent change, a completed release assignment (progress), is instead
folded into the kept counts by `readiness_assignment_completed`: one engineer's
row counted, not the release's every engineer.
"""

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from courses.models import Release
from training.models import Assignment, ReadinessSnapshot, Team
from training.readiness.counts import Counts, engineer_counts, engineer_progress

_SNAPSHOT = ReadinessSnapshot._meta.db_table
_RELEASE = Release._meta.db_table
_TEAM_SDKS = Team.sdks.through._meta.db_table


def _ids(values: Iterable[int | None]) -> list[int]:
    return sorted({int(pk) for pk in values if pk is not None})


def _placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def readiness_changed(
    *,
    release_ids: Iterable[int] = (),
    sdk_ids: Iterable[int | None] = (),
    team_ids: Iterable[int | None] = (),
) -> None:
    """Mark the readiness of these releases, of every release of these SDKs and of
    every release of an SDK these teams support, as changed. Call it as the last
    statement of the writing transaction (it locks the snapshots until the commit).

    One upsert, in release order, so two writers never lock snapshots in opposite
    orders; a release with no snapshot yet gets one, so a reader counting at this
    moment cannot store a count that misses this write."""
    release_ids, sdk_ids, team_ids = _ids(release_ids), _ids(sdk_ids), _ids(team_ids)
    conditions, params = [], []
    if release_ids:
        conditions.append(f"r.id IN ({_placeholders(release_ids)})")
        params += release_ids
    if sdk_ids:
        conditions.append(f"r.sdk_id IN ({_placeholders(sdk_ids)})")
        params += sdk_ids
    if team_ids:
        conditions.append(
            f"r.sdk_id IN (SELECT ts.sdk_id FROM {_TEAM_SDKS} ts"
            f" WHERE ts.team_id IN ({_placeholders(team_ids)}))"
        )
        params += team_ids
    if not conditions:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_SNAPSHOT} (release_id, version, counts)
            SELECT r.id, 1, '{{}}' FROM {_RELEASE} r
            WHERE {" OR ".join(conditions)}
            ORDER BY r.id
            ON CONFLICT (release_id) DO UPDATE SET version = {_SNAPSHOT}.version + 1
            """,
            params,
        )


def readiness_assignment_completed(*, assignment: Assignment, now: datetime) -> None:
    """Fold a release's mandatory assignment that has just become complete (in the
    caller's transaction) into the release's kept counts, so a wave of passed
    quizzes does not make every read count 100,000 engineers again.

    Under the snapshot's row lock, taken first (a concurrent completion of the same
    engineer is then visible to the count below): if the kept counts are current,
    the engineer's row is counted as it is now and as it was before this assignment
    closed, and the difference is applied, with the version and the counted version
    raised together. Counts that are stale or out of date are left to be recounted:
    the version alone is raised, as readiness_changed does. Call it last.
    """
    release_id = assignment.release_id
    if release_id is None:
        return  # not a release's assignment: no release's readiness counts it
    snapshot = (
        # The release's SDK (the engineer's scope) joined in, its row left unlocked.
        ReadinessSnapshot.objects.select_for_update(no_key=True, of=("self",))
        .select_related("release")
        .only("version", "counted_version", "counts", "counted_at", "valid_until", "release__sdk")
        .filter(release_id=release_id)
        .first()
    )
    # Current: counted at this version and still valid (readiness_keep sets the
    # counted version together with its time and validity, never one alone).
    if (
        snapshot is None
        or snapshot.counted_version != snapshot.version
        or snapshot.counted_at is None
        or snapshot.valid_until is None
        or not (snapshot.counted_at <= now < snapshot.valid_until)
    ):
        readiness_changed(release_ids=[release_id])
        return
    row = engineer_progress(snapshot.release, now, engineer_ids=[assignment.engineer_id]).first()
    if row is not None and row["region"] not in snapshot.counts:
        # In scope now but not when counted: a change made outside the services.
        readiness_changed(release_ids=[release_id])
        return
    if row is not None:  # an engineer out of scope counts nowhere
        after = engineer_counts(
            n=row["n"], n_done=row["n_done"], n_exempt=row["n_exempt"], n_overdue=row["n_overdue"]
        )
        # Before: this assignment open (overdue if its due time had passed). Between the
        # count and `valid_until` no open assignment falls due, so the kept `overdue`
        # already saw it as it is now.
        before = engineer_counts(
            n=row["n"],
            n_done=row["n_done"] - 1,
            n_exempt=row["n_exempt"],
            n_overdue=row["n_overdue"] + int(assignment.due_at < now),
        )
        region = snapshot.counts[row["region"]]
        for key, value in after.items():
            region[key] += value - before[key]
    snapshot.version += 1
    snapshot.counted_version = snapshot.version
    snapshot.save(update_fields=["version", "counted_version", "counts"])


def readiness_keep(
    *, release: Release, version: int, counts: Counts, next_due: datetime | None, now: datetime
) -> bool:
    """Keep `counts`, counted at `now` after reading the snapshot's `version`, if no
    write has raised that version since; returns whether they were kept. They hold
    until the first due time `next_due` of an open assignment (when `overdue`
    changes by the clock alone) and at most PREFLIGHT_READINESS_MAX_AGE_SECONDS.
    A release with no snapshot yet (version 0) gets one. Keeping nothing when the
    setting is 0."""
    max_age = settings.PREFLIGHT_READINESS_MAX_AGE_SECONDS
    if not max_age:
        return False
    valid_until = now + timedelta(seconds=max_age)
    if next_due is not None:
        valid_until = min(valid_until, next_due)
    if version == 0:
        # Version 0: there was no snapshot when read. One upsert: made now at 0, or
        # kept only if a write has not made it (at version 1) since.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {_SNAPSHOT}
                    (release_id, version, counted_version, counts, counted_at, valid_until)
                VALUES (%s, 0, 0, %s, %s, %s)
                ON CONFLICT (release_id) DO UPDATE SET
                    counted_version = 0, counts = excluded.counts,
                    counted_at = excluded.counted_at, valid_until = excluded.valid_until
                WHERE {_SNAPSHOT}.version = 0
                """,
                [release.pk, json.dumps(counts), now, valid_until],
            )
            kept = cursor.rowcount
    else:
        kept = ReadinessSnapshot.objects.filter(release_id=release.pk, version=version).update(
            counted_version=version, counts=counts, counted_at=now, valid_until=valid_until
        )
    return bool(kept)

"""Keeping the readiness counts honest: every write that can change them says so.

`readiness_changed` raises the version of the releases' ReadinessSnapshot in the
caller's transaction, so the next read of their readiness counts afresh; the count
and the write can never be seen apart (training.selectors.readiness explains why).
Callers: the fan-out and backlog (assignments), moved due dates
(courses.services.releases), an engineer's team, region or active flag, a team's
SDKs (people), and deletions in the admin.

The most frequent change, a completed release assignment (progress), is instead
folded into the kept counts by `readiness_assignment_completed`: one engineer's
row counted, not the release's every engineer.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from courses.models import Release
from training.models import Assignment, ReadinessSnapshot, Team
from training.selectors.readiness import engineer_counts, engineer_progress

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
    snapshot = (
        # The release's SDK (the engineer's scope) joined in, its row left unlocked.
        ReadinessSnapshot.objects.select_for_update(no_key=True, of=("self",))
        .select_related("release")
        .only("version", "counted_version", "counts", "counted_at", "valid_until", "release__sdk")
        .filter(release_id=assignment.release_id)
        .first()
    )
    current = (
        snapshot is not None
        and snapshot.counted_version == snapshot.version
        and snapshot.counted_at <= now < snapshot.valid_until
    )
    if not current:
        readiness_changed(release_ids=[assignment.release_id])
        return
    row = engineer_progress(snapshot.release, now, engineer_ids=[assignment.engineer_id]).first()
    if row is not None and row["region"] not in snapshot.counts:
        # In scope now but not when counted: a change made outside the services.
        readiness_changed(release_ids=[assignment.release_id])
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

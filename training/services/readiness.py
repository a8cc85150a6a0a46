"""Keeping the readiness counts honest: every write that can change them says so.

`readiness_changed` raises the version of the releases' ReadinessSnapshot in the
caller's transaction, so the next read of their readiness counts afresh; the count
and the write can never be seen apart (training.selectors.readiness explains why).
Callers: the fan-out and backlog (assignments), a completed release assignment
(progress), moved due dates (courses.services.releases), an engineer's team, region
or active flag, a team's SDKs (people), and deletions in the admin.
"""

from collections.abc import Iterable

from django.db import connection

from courses.models import Release
from training.models import ReadinessSnapshot, Team

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

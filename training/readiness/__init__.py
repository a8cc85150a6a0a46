"""Readiness of the support team for a release: its API.

- `release_readiness(release)`: what the console, the API and the webhooks show.
  It serves the kept counts while they hold; otherwise it counts and *keeps* the
  new count (training.readiness.keep.readiness_keep): a read that calls a write,
  explicitly, here and nowhere else.
- `releases_readiness(releases)`: `release_readiness` of many releases (the
  managers' console), with the counts it was evaluated on, in a fixed number of
  queries while their kept counts hold.
- `release_readiness_fresh(release)`: counted anew, kept nowhere: the gate, which
  holds the release's row lock and must not trust or wait on the kept counts.
- `team_readiness(...)`: a lead's own teams, counted anew (never kept).
- Invalidation: `readiness_changed` and `readiness_assignment_completed` in
  training.readiness.keep, called by the services that write.

Modules: `counts` reads (selectors), `policy` decides, `keep` writes.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, NamedTuple

from django.utils import timezone

from courses.models import Release
from training.readiness.counts import (
    Counts,
    ReleaseState,
    count_by_region,
    kept_counts_many,
    release_state,
    releases_state,
)
from training.readiness.coverage import coverage_policy_on, policy_gaps, release_coverage
from training.readiness.keep import readiness_keep
from training.readiness.policy import Readiness, Reason, evaluate, reason_text

__all__ = [
    "CountedReadiness",
    "Readiness",
    "Reason",
    "reason_text",
    "release_readiness",
    "release_readiness_fresh",
    "releases_readiness",
    "team_readiness",
]


def release_readiness(release: Release, *, now: datetime | None = None) -> Readiness:
    """Readiness from the kept counts, or counted and kept when they do not hold."""
    return releases_readiness([release], now=now)[release.pk].readiness


class CountedReadiness(NamedTuple):
    readiness: Readiness
    # The whole release's counts per region that `readiness` was evaluated on.
    counts: Counts


def releases_readiness(
    releases: Sequence[Release], *, now: datetime | None = None
) -> dict[int, CountedReadiness]:
    """`release_readiness` of each of `releases` (by id), with its counts. Two
    queries whatever their number while their kept counts hold (the snapshots, the
    releases' state); a release whose counts do not hold is counted and kept, as
    `release_readiness` does (and the coverage policy, when set, costs one query a
    release)."""
    now = now or timezone.now()
    kept = kept_counts_many(releases, now=now)
    states = releases_state(releases)
    counted = {}
    for release in releases:
        counts = kept[release.pk].counts
        if counts is None:
            counts, next_due = count_by_region(release, now=now)
            readiness_keep(
                release=release,
                version=kept[release.pk].version,
                counts=counts,
                next_due=next_due,
                now=now,
            )
        readiness = _evaluate(release, counts, now=now, state=states[release.pk])
        counted[release.pk] = CountedReadiness(readiness=readiness, counts=counts)
    return counted


def _evaluate(
    release: Release,
    counts: Counts,
    *,
    now: datetime,
    team_ids: list[int] | None = None,
    scope: Literal["all", "teams"] = "all",
    state: ReleaseState | None = None,
) -> Readiness:
    """The policy applied to `counts` and to what else the release's state says (its
    unfinished courses, its locked-out engineers: one query, unless `state` is
    given) and, when the coverage policy is set, to the launch window's coverage (one
    query, never kept: training.readiness.coverage)."""
    if state is None:
        state = release_state(release, team_ids=team_ids)
    gaps = (
        policy_gaps(release_coverage(release, now=now, team_ids=team_ids))
        if coverage_policy_on()
        else []
    )
    return evaluate(
        release,
        counts,
        now=now,
        unfinished_courses=state.unfinished_courses,
        locked_out=state.locked_out,
        scope=scope,
        coverage_gaps=gaps,
    )


def release_readiness_fresh(release: Release, *, now: datetime | None = None) -> Readiness:
    """Readiness counted anew; nothing kept (the gate)."""
    now = now or timezone.now()
    return _evaluate(release, count_by_region(release, now=now)[0], now=now)


def team_readiness(
    release: Release, *, team_ids: list[int], now: datetime | None = None
) -> Readiness:
    """Readiness as a lead of `team_ids` sees it: the policy applied to their own
    teams' engineers only (counted anew, never kept; `scope` says "teams")."""
    now = now or timezone.now()
    counts = count_by_region(release, now=now, team_ids=team_ids)[0]
    return _evaluate(release, counts, now=now, team_ids=team_ids, scope="teams")

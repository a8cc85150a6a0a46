"""Readiness of the support team for one release, against the policy in settings.

Counted in one SQL query whatever the team's size: the inner query folds each
engineer's assignments into one row (GROUP BY engineer), the outer one folds those
into one row per region (GROUP BY region); Python only adds up at most three rows.

That query reads every in-scope engineer (about 0.2 s at 100,000), so
`release_readiness` keeps its counts in the release's ReadinessSnapshot and serves
them until something they depend on changes. Why a kept count is never wrong:

1. every write that can change the counts raises the snapshot's `version` in its
   own transaction, as its last statement (`readiness_changed`);
2. a read takes the version *before* it counts, and stores its count only if the
   version is still that one (a conditional UPDATE);
3. so a count that missed a write is stored, if at all, under a version that write
   has already raised or is about to raise, and is never served.

The clock alone changes `overdue`: a count is kept only until the first due time of
an open assignment after it. The gate asks for `fresh` counts and never stores.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone

from courses.models import Release
from training.models import Assignment, Engineer, ReadinessSnapshot, Region, Team
from training.selectors import raw_datetime

_DONE = list(Assignment.DONE)
_TEAM_SDKS = Team.sdks.through._meta.db_table


def engineer_progress(release: Release, now: datetime, *, team_ids=None, engineer_ids=None):
    """One row per required engineer — every active engineer on a team that supports
    the release's SDK, whether or not the fan-out has reached them yet — with how many
    mandatory release assignments of this release they hold, are done, are exempt,
    are open past due. An engineer with none (the fan-out has not run, or a task was
    lost) counts as not complete, so the gate never opens on an empty count."""
    mine = Q(
        assignments__release_id=release.pk,
        assignments__reason=Assignment.Reason.RELEASE,
        assignments__mandatory=True,
    )
    engineers = Engineer.objects.filter(active=True, team__sdks=release.sdk_id)
    if team_ids is not None:
        engineers = engineers.filter(team_id__in=team_ids)
    if engineer_ids is not None:
        engineers = engineers.filter(id__in=engineer_ids)
    return (
        engineers.values("id", "region")
        .annotate(
            n=Count("assignments", filter=mine),
            n_done=Count("assignments", filter=mine & Q(assignments__status__in=_DONE)),
            n_exempt=Count(
                "assignments", filter=mine & Q(assignments__status=Assignment.Status.EXEMPT)
            ),
            n_overdue=Count(
                "assignments",
                filter=mine & ~Q(assignments__status__in=_DONE) & Q(assignments__due_at__lt=now),
            ),
            # When the next of them falls due (and `overdue` changes by the clock alone).
            next_due=Min(
                "assignments__due_at",
                filter=mine & ~Q(assignments__status__in=_DONE) & Q(assignments__due_at__gte=now),
            ),
        )
        .order_by()
    )


def counts_by_region(
    release: Release, *, now: datetime, team_ids=None
) -> dict[str, dict[str, int]]:
    """{region: {required, complete, exempt, overdue}} in one query; only the engineers
    of `team_ids` when given (a lead's view of their own teams)."""
    return _count(release, now=now, team_ids=team_ids)[0]


def _count(
    release: Release, *, now: datetime, team_ids=None
) -> tuple[dict[str, dict[str, int]], datetime | None]:
    """The counts by region, and the first due time at or after `now` of an open
    assignment they cover (None if there is none).

    Counted per assignment first: each in-scope engineer joined to their mandatory
    release assignments of this release (read from assignment_readiness_idx
    alone), grouped by region, course, status and lateness, at most a few dozen rows,
    with no GROUP BY engineer. While every such assignment is of one course, an
    engineer holds at most one (one assignment per engineer and course), so their
    assignment's status is the engineer's: complete, exempt, overdue as
    engineer_counts says. When the rows show two courses (a release with several),
    the same counts are made per engineer instead (engineer_progress), in a second
    query."""
    teams = ""
    params: list = [release.pk, Assignment.Reason.RELEASE, release.sdk_id]
    if team_ids is not None:
        team_ids = sorted({int(pk) for pk in team_ids})
        if not team_ids:
            return {}, None
        teams = f" AND e.team_id IN ({', '.join(['%s'] * len(team_ids))})"
        params += team_ids
    # The subquery's ORDER BY keeps it planned on its own: PostgreSQL then reads it
    # from the partial index, in engineer order (flattened into the LEFT JOIN's
    # condition, the index's predicate is not matched and every assignment is read).
    sql = f"""
        SELECT e.region, a.course_id, a.status, a.due_at < %s, COUNT(*), MIN(a.due_at)
        FROM {Engineer._meta.db_table} e
        LEFT JOIN (
            SELECT engineer_id, course_id, status, due_at
            FROM {Assignment._meta.db_table}
            WHERE release_id = %s AND reason = %s AND mandatory
            ORDER BY engineer_id
        ) a ON a.engineer_id = e.id
        WHERE e.active
          AND e.team_id IN (SELECT team_id FROM {_TEAM_SDKS} WHERE sdk_id = %s){teams}
        GROUP BY 1, 2, 3, 4
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
        rows = cursor.fetchall()
    if len({course for _, course, *_ in rows if course is not None}) <= 1:
        counts: dict[str, dict[str, int]] = {}
        next_due = []
        for region, course, status, late, number, first_due in rows:
            region_counts = counts.setdefault(
                region, {"required": 0, "complete": 0, "exempt": 0, "overdue": 0}
            )
            region_counts["required"] += number
            if course is None:  # in scope, not assigned (yet): counts as not complete
                continue
            done = status in _DONE
            one = engineer_counts(
                n=1,
                n_done=int(done),
                n_exempt=int(status == Assignment.Status.EXEMPT),
                n_overdue=int(not done and bool(late)),
            )
            for key, value in one.items():
                region_counts[key] += value * number
            if not done and not late:
                next_due.append(raw_datetime(first_due))
        return counts, min(next_due, default=None)

    # Several courses: each engineer's assignments folded into one row first.
    inner, params = engineer_progress(release, now, team_ids=team_ids).query.sql_with_params()
    # An engineer all of whose assignments are exempt counts as exempt, not complete.
    sql = f"""
        SELECT per.region,
               COUNT(*),
               SUM(CASE WHEN per.n > 0 AND per.n_done = per.n AND per.n_exempt < per.n
                   THEN 1 ELSE 0 END),
               SUM(CASE WHEN per.n > 0 AND per.n_exempt = per.n THEN 1 ELSE 0 END),
               SUM(CASE WHEN per.n_overdue > 0 THEN 1 ELSE 0 END),
               MIN(per.next_due)
        FROM ({inner}) per
        GROUP BY per.region
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts = {
        region: {
            "required": int(required),
            "complete": int(complete or 0),
            "exempt": int(exempt or 0),
            "overdue": int(overdue or 0),
        }
        for region, required, complete, exempt, overdue, _ in rows
    }
    next_due = [raw_datetime(row[5]) for row in rows if row[5] is not None]
    return counts, min(next_due, default=None)


def engineer_counts(*, n: int, n_done: int, n_exempt: int, n_overdue: int) -> dict[str, int]:
    """What one engineer's row of engineer_progress adds to each count: the outer
    query's CASEs above, for one engineer (training.services.readiness folds a
    completed assignment into kept counts with it)."""
    return {
        "complete": int(n > 0 and n_done == n and n_exempt < n),
        "exempt": int(n > 0 and n_exempt == n),
        "overdue": int(n_overdue > 0),
    }


def _snapshot(release: Release) -> ReadinessSnapshot:
    snapshot = ReadinessSnapshot.objects.filter(release=release).first()
    if snapshot is None:
        # Made before counting, so a write from now on finds it and raises its version.
        ReadinessSnapshot.objects.bulk_create(
            [ReadinessSnapshot(release=release)], ignore_conflicts=True
        )
        snapshot = ReadinessSnapshot.objects.get(release=release)
    return snapshot


def readiness_counts(
    release: Release, *, now: datetime, fresh: bool = False
) -> dict[str, dict[str, int]]:
    """counts_by_region for the whole release, from its snapshot while that still
    holds (see the module's docstring); `fresh` counts anew and stores nothing (the
    gate: it holds the release's row lock, and must not wait on the snapshot's)."""
    max_age = settings.PREFLIGHT_READINESS_MAX_AGE_SECONDS
    if fresh or not max_age:
        return _count(release, now=now)[0]
    snapshot = _snapshot(release)
    if (
        snapshot.counted_version == snapshot.version
        and snapshot.counted_at <= now < snapshot.valid_until
    ):
        return snapshot.counts
    version = snapshot.version  # read before counting: the order is the guarantee
    counts, next_due = _count(release, now=now)
    valid_until = now + timedelta(seconds=max_age)
    if next_due is not None:
        valid_until = min(valid_until, next_due)
    ReadinessSnapshot.objects.filter(release=release, version=version).update(
        counted_version=version, counts=counts, counted_at=now, valid_until=valid_until
    )
    return counts


def _percent(value: float) -> str:
    return f"{value * 100:g}%"


def release_readiness(
    release: Release, *, now: datetime | None = None, fresh: bool = False
) -> dict:
    """The readiness of `release` as API v1 describes it.

    Required: the engineers in scope (active, on a team that supports the SDK). An
    engineer is complete when they hold the release's mandatory training and every
    such assignment is complete or exempt, and exempt when all are exempt
    (`complete` excludes them; `completion` and the regions' `complete` include
    them). Overdue: engineers with an open one past due. Ready when completion meets
    PREFLIGHT_MIN_COMPLETION and every region with required engineers has
    PREFLIGHT_MIN_COMPLETE_PER_REGION complete ones; `blocking` says in words what
    fails. The counts come from the release's snapshot unless `fresh`; the policy
    is applied to them on every call.
    """
    now = now or timezone.now()
    min_completion = settings.PREFLIGHT_MIN_COMPLETION
    min_per_region = settings.PREFLIGHT_MIN_COMPLETE_PER_REGION
    counts = readiness_counts(release, now=now, fresh=fresh)

    required = sum(c["required"] for c in counts.values())
    complete = sum(c["complete"] for c in counts.values())
    exempt = sum(c["exempt"] for c in counts.values())
    overdue = sum(c["overdue"] for c in counts.values())
    completion = (complete + exempt) / required if required else 1.0

    blocking = []
    if completion < min_completion:
        # Floor, so a completion just under the bar never reads as equal to it.
        shown = math.floor(completion * 100 + 1e-9)
        blocking.append(f"completion {shown}% is below {_percent(min_completion)}")
    regions = {}
    for region in Region.values:  # APAC, EMEA, AMER: follow-the-sun order
        if region not in counts:
            continue
        region_complete = counts[region]["complete"] + counts[region]["exempt"]
        regions[region] = {"required": counts[region]["required"], "complete": region_complete}
        if region_complete < min_per_region:
            if region_complete == 0:
                blocking.append(f"{region} has no complete engineer")
            else:
                blocking.append(
                    f"{region} has {region_complete} complete engineers, "
                    f"fewer than {min_per_region}"
                )

    return {
        "ready": not blocking,
        "policy": {"min_completion": min_completion, "min_complete_per_region": min_per_region},
        "required": required,
        "complete": complete,
        "exempt": exempt,
        "overdue": overdue,
        "completion": round(completion, 4),
        "due_at": release.due_at,
        "regions": regions,
        "blocking": blocking,
    }

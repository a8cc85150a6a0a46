"""Counting readiness: reads only (never a write, not even of the kept counts).

Counted in one SQL query whatever the team's size (two for a release with several
courses), grouped in SQL to at most a few dozen rows that Python adds up
(count_by_region says how; on PostgreSQL a whole release needs no join).

`kept_counts_many` reads the counts training.readiness.keep stored in the release's
ReadinessSnapshot, and says whether they still hold (see that module for why a
kept count is never wrong).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, TypedDict

from django.db import connection
from django.db.models import Count, Min, Q

from courses.models import Course, Quiz, Release
from training.models import Assignment, Attempt, Engineer, ReadinessSnapshot, Team
from training.selectors import raw_datetime

if TYPE_CHECKING:
    from training.readiness.policy import UnfinishedCourse

_DONE = list(Assignment.DONE)
_TEAM_SDKS = Team.sdks.through._meta.db_table


class RegionCounts(TypedDict):
    required: int
    complete: int
    exempt: int
    overdue: int


Counts = dict[str, RegionCounts]


class KeptCounts(NamedTuple):
    counts: Counts | None
    version: int


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


def count_by_region(
    release: Release, *, now: datetime, team_ids: list[int] | None = None
) -> tuple[Counts, datetime | None]:
    """{region: {required, complete, exempt, overdue}} (only the engineers of
    `team_ids` when given: a lead's view of their own teams), and the first due time
    at or after `now` of an open assignment they cover (None if there is none):
    until then the clock alone cannot change `overdue`.

    Counted per assignment first, grouped by region, course, status and lateness:
    at most a few dozen rows, with no GROUP BY engineer. While every such assignment
    is of one course, an engineer holds at most one (one assignment per engineer and
    course), so their assignment's status is the engineer's: complete, exempt,
    overdue as engineer_counts says. When the rows show two courses (a release with
    several), the same counts are made per engineer instead (engineer_progress), in
    a second query.

    The whole release on PostgreSQL (no `team_ids`: a recount, the gate's) is
    _scoped_rows: no join. Otherwise each in-scope engineer is left-joined to their
    mandatory release assignments of this release (assignment_readiness_idx)."""
    if team_ids is None and connection.vendor == "postgresql":
        rows = _scoped_rows(release, now)
    else:
        rows = _joined_rows(release, now, team_ids)
    if len({course for _, course, *_ in rows if course is not None}) <= 1:
        counts: Counts = {}
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
            region_counts["complete"] += one["complete"] * number
            region_counts["exempt"] += one["exempt"] * number
            region_counts["overdue"] += one["overdue"] * number
            if not done and not late:
                next_due.append(raw_datetime(first_due))
        return counts, min(next_due, default=None)

    # Several courses: each engineer's assignments folded into one row first.
    inner, inner_params = engineer_progress(release, now, team_ids=team_ids).query.sql_with_params()
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
        cursor.execute(sql, inner_params)
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


def _joined_rows(release: Release, now: datetime, team_ids: list[int] | None) -> list[tuple]:
    """(region, course, status, late, number, first due) of the in-scope engineers
    (of `team_ids` when given) left-joined to their mandatory release assignments of
    `release`; an engineer without one is a row with course None."""
    teams = ""
    params: list[int | str] = [release.pk, Assignment.Reason.RELEASE, release.sdk_id]
    if team_ids is not None:
        team_ids = sorted({int(pk) for pk in team_ids})
        if not team_ids:
            return []
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
        return cursor.fetchall()


def _scoped_rows(release: Release, now: datetime) -> list[tuple]:
    """_joined_rows for the whole release, on PostgreSQL, without the join.

    Each release assignment carries the region its engineer counts in for that
    release, or NULL while the engineer is out of scope (`scope_region`, kept by
    triggers in the writing transaction: migration 0014). One statement reads the
    release's in-scope assignments grouped by region, course, status and due time
    from assignment_scope_count_idx (in index order, so PostgreSQL groups them as it
    reads: no join, no sort, no hash table), and the in-scope engineers per region
    from training_team_region_count (active engineers per team and region, kept by
    triggers: migration 0020), a few rows. Both halves see the same snapshot: the
    engineers in scope without an assignment are the difference per region."""
    sql = f"""
        SELECT scope_region, course_id, status, due_at, COUNT(*)
        FROM {Assignment._meta.db_table}
        WHERE release_id = %s AND reason = %s AND mandatory AND scope_region IS NOT NULL
        GROUP BY scope_region, course_id, status, due_at
        UNION ALL
        SELECT region, NULL, NULL, NULL, n
        FROM training_team_region_count
        WHERE n > 0 AND team_id IN (SELECT team_id FROM {_TEAM_SDKS} WHERE sdk_id = %s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [release.pk, Assignment.Reason.RELEASE, release.sdk_id])
        grouped = cursor.fetchall()
    rows: list[tuple] = []
    unassigned: dict[str, int] = {}
    for region, course, status, due_at, number in grouped:
        if course is None:  # the engineers in scope
            unassigned[region] = unassigned.get(region, 0) + number
            continue
        unassigned[region] = unassigned.get(region, 0) - number
        rows.append((region, course, status, due_at < now, number, due_at))
    if len({row[1] for row in rows}) > 1:
        return rows  # several courses: counted per engineer (count_by_region)
    rows += [(region, None, None, None, number, None) for region, number in unassigned.items()]
    return rows


def engineer_counts(*, n: int, n_done: int, n_exempt: int, n_overdue: int) -> dict[str, int]:
    """What one engineer's row of engineer_progress adds to each count: the outer
    query's CASEs above, for one engineer (training.readiness.keep folds a
    completed assignment into kept counts with it)."""
    return {
        "complete": int(n > 0 and n_done == n and n_exempt < n),
        "exempt": int(n > 0 and n_exempt == n),
        "overdue": int(n_overdue > 0),
    }


def kept_counts_many(releases: Sequence[Release], *, now: datetime) -> dict[int, KeptCounts]:
    """For each of `releases` (by id), the counts kept for it if they still hold at
    `now`, else None, with the snapshot's version as read *before* any count the
    caller makes (the order is what makes keeping safe:
    training.readiness.keep.readiness_keep). One query."""
    snapshots = ReadinessSnapshot.objects.filter(
        release_id__in=[release.pk for release in releases]
    ).only("release_id", "version", "counted_version", "counts", "counted_at", "valid_until")
    kept = {release.pk: KeptCounts(counts=None, version=0) for release in releases}
    for snapshot in snapshots:
        holds = (
            snapshot.counted_version == snapshot.version
            and snapshot.counted_at is not None
            and snapshot.valid_until is not None
            and snapshot.counted_at <= now < snapshot.valid_until
        )
        kept[snapshot.release_id] = KeptCounts(
            counts=snapshot.counts if holds else None, version=snapshot.version
        )
    return kept


class ReleaseState(NamedTuple):
    unfinished_courses: list["UnfinishedCourse"]
    locked_out: int


def release_state(release: Release, *, team_ids: list[int] | None = None) -> ReleaseState:
    """What readiness needs besides the counts, in one query: the release's courses
    that cannot show anyone knows it (drafts, and courses without a quiz), and how
    many required engineers are locked out (an open mandatory assignment whose quiz
    attempts are all used and failed; only `team_ids`' engineers when given)."""
    return releases_state([release], team_ids=team_ids)[release.pk]


def releases_state(
    releases: Sequence[Release], *, team_ids: list[int] | None = None
) -> dict[int, ReleaseState]:
    """`release_state` of each of `releases`, in one query whatever their number.

    Driven by the failed attempts at the releases' quizzes, a handful beside the
    releases' assignments."""
    if not releases:
        return {}
    course, quiz = Course._meta.db_table, Quiz._meta.db_table
    attempt, assignment = Attempt._meta.db_table, Assignment._meta.db_table
    release_table, engineer = Release._meta.db_table, Engineer._meta.db_table
    ids = sorted({release.pk for release in releases})
    in_ids = f"IN ({', '.join(['%s'] * len(ids))})"
    teams = ""
    params: list[int | str | bool] = [*ids, Course.Status.DRAFT]
    params += [False, *ids]
    params += [*ids, Assignment.Reason.RELEASE, *Assignment.DONE]
    if team_ids is not None:
        if not team_ids:
            teams = " AND FALSE"
        else:
            teams = f" AND e.team_id IN ({', '.join(['%s'] * len(team_ids))})"
            params += sorted(team_ids)
    sql = f"""
        SELECT c.release_id, c.slug,
               CASE WHEN EXISTS (SELECT 1 FROM {quiz} q WHERE q.course_id = c.id)
                    THEN 1 ELSE 0 END,
               NULL
        FROM {course} c
        WHERE c.release_id {in_ids}
          AND (c.status = %s OR NOT EXISTS (SELECT 1 FROM {quiz} q WHERE q.course_id = c.id))
        UNION ALL
        SELECT a.release_id, NULL, NULL, COUNT(*)
        FROM (
            -- The engineers who failed at least as often as the quiz allows: from the
            -- failed attempts at these releases' quizzes alone (attempt_failed_idx), a
            -- few beside their assignments; then their assignment, by its key.
            SELECT t.engineer_id, t.quiz_id, q.course_id, q.max_attempts, COUNT(*) AS fails
            FROM {attempt} t
            JOIN {quiz} q ON q.id = t.quiz_id
            WHERE t.passed = %s
              AND q.course_id IN (SELECT c2.id FROM {course} c2 WHERE c2.release_id {in_ids})
            GROUP BY t.engineer_id, t.quiz_id, q.course_id, q.max_attempts
            HAVING COUNT(*) >= q.max_attempts
        ) f
        JOIN {course} fc ON fc.id = f.course_id
        JOIN {assignment} a ON a.engineer_id = f.engineer_id AND a.course_id = f.course_id
        JOIN {release_table} r ON r.id = a.release_id
        JOIN {engineer} e ON e.id = a.engineer_id
        WHERE f.fails >= f.max_attempts + a.extra_attempts
          AND NOT EXISTS (
              SELECT 1 FROM {attempt} p
              WHERE p.engineer_id = f.engineer_id AND p.quiz_id = f.quiz_id AND p.passed
          )
          AND a.release_id {in_ids} AND a.release_id = fc.release_id
          AND a.reason = %s AND a.mandatory
          AND a.status NOT IN (%s, %s)
          AND e.active
          AND e.team_id IN (SELECT team_id FROM {_TEAM_SDKS} WHERE sdk_id = r.sdk_id){teams}
        GROUP BY a.release_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    unfinished: dict[int, list[UnfinishedCourse]] = {pk: [] for pk in ids}
    locked_out = dict.fromkeys(ids, 0)
    for release_id, slug, has_quiz, number in rows:
        if slug is not None:
            unfinished[release_id].append({"slug": slug, "has_quiz": bool(has_quiz)})
        else:
            locked_out[release_id] += int(number or 0)
    return {
        pk: ReleaseState(
            unfinished_courses=sorted(unfinished[pk], key=lambda item: item["slug"]),
            locked_out=locked_out[pk],
        )
        for pk in ids
    }

"""Set-based data for the benchmarks: generate_series INSERTs, never ORM loops.

A handful of rows that need the services' rules (a release and its features, a
course and its quiz) go through the services or the API as production does; the
thousands of people, skill records and attempts are made in a few statements.
"""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from core.actors import SYSTEM
from courses.models import Choice, Course, Lesson, Question, Quiz, Release, Sdk, Skill
from courses.services.releases import release_record
from training.models import Engineer, Team
from training.services.releases import release_publish

REGIONS = ["APAC", "EMEA", "AMER"]
ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York"]


def sql(statement: str, params: list | tuple | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return max(cursor.rowcount, 0)


def scalar(statement: str, params: list | tuple | None = None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        row = cursor.fetchone()
    return row[0] if row else None


def analyze() -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would soon give."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def sdk_with_teams(slug: str, *, teams: int, leads: list | None = None) -> tuple[Sdk, list[Team]]:
    sdk, _ = Sdk.objects.get_or_create(slug=slug, defaults={"name": slug.upper()})
    made = []
    for number in range(teams):
        team, _ = Team.objects.get_or_create(
            slug=f"{slug}-t{number}", defaults={"name": f"{slug} team {number}"}
        )
        team.sdks.add(sdk)
        if leads:
            team.leads.add(*leads)
        made.append(team)
    return sdk, made


def engineers(prefix: str, *, teams: list[Team], active: int, inactive: int = 0) -> list[int]:
    """`active` + `inactive` engineers (and their users) spread round-robin over
    `teams` and the three regions; returns the active engineers' ids in order."""
    total = active + inactive
    now = timezone.now()
    sql(
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                               email, is_staff, is_active, date_joined)
        SELECT '!', false, %s || g, 'Engineer', g::text, %s || g || '@example.com',
               false, true, %s
        FROM generate_series(1, %s) g
        """,
        [f"{prefix}-", f"{prefix}-", now, total],
    )
    sql(
        """
        INSERT INTO training_engineer (tier, region, timezone, language, active,
                                       calendar_token, created_at, user_id, team_id)
        SELECT (ARRAY['L1', 'L2', 'L3'])[1 + n %% 3],
               (%s::text[])[1 + n %% 3], (%s::text[])[1 + n %% 3], 'en',
               n <= %s, md5(%s || u.id::text || random()::text), %s, u.id,
               (%s::bigint[])[1 + n %% %s]
        FROM (SELECT id, split_part(username, '-', 2)::int AS n FROM auth_user
              WHERE username LIKE %s) u
        """,
        [
            REGIONS,
            ZONES,
            active,
            prefix,
            now,
            [team.pk for team in teams],
            len(teams),
            f"{prefix}-%",
        ],
    )
    return list(
        Engineer.objects.filter(user__username__startswith=f"{prefix}-", active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def skills(prefix: str, count: int) -> list[Skill]:
    Skill.objects.bulk_create(
        [Skill(slug=f"{prefix}-{n}", name=f"{prefix} skill {n}") for n in range(count)],
        ignore_conflicts=True,
    )
    return list(Skill.objects.filter(slug__startswith=f"{prefix}-").order_by("pk"))


def skill_records(engineer_ids: list[int], skill_ids: list[int], *, share: float) -> int:
    """Records for about `share` of every (engineer, skill) pair, chosen by a hash
    so a rerun makes the same matrix, at levels 1 to 4."""
    if not engineer_ids or not skill_ids:
        return 0
    return sql(
        """
        INSERT INTO training_skillrecord (level, verified_at, engineer_id, skill_id)
        SELECT 1 + abs(hashtext(s::text || ':' || e::text)) %% 4, %s, e, s
        FROM unnest(%s::bigint[]) e CROSS JOIN unnest(%s::bigint[]) s
        WHERE (abs(hashtext(e::text || '/' || s::text)) %% 1000) < %s
        ON CONFLICT (engineer_id, skill_id) DO NOTHING
        """,
        [timezone.now(), engineer_ids, skill_ids, int(share * 1000)],
    )


def covering_records(engineer_ids: list[int], skill_ids: list[int], *, level: int = 3) -> int:
    """Give these engineers every skill at `level`: the fan-out exempts them."""
    return sql(
        """
        INSERT INTO training_skillrecord (level, verified_at, engineer_id, skill_id)
        SELECT %s, %s, e, s FROM unnest(%s::bigint[]) e CROSS JOIN unnest(%s::bigint[]) s
        ON CONFLICT (engineer_id, skill_id) DO UPDATE SET level = EXCLUDED.level
        """,
        [level, timezone.now(), engineer_ids, skill_ids],
    )


def draft_release(sdk: Sdk, version: str, skill_slugs: list[str], *, days: int = 30) -> Release:
    """A release with a feature per skill, recorded through the service."""
    release, _ = release_record(
        sdk=sdk,
        version=version,
        customer_available_at=timezone.now() + timedelta(days=days),
        notes="Benchmark release.",
        features=[
            {"key": f"feature-{n}", "title": f"Feature {n}", "summary": "", "skills": [slug]}
            for n, slug in enumerate(skill_slugs)
        ],
        actor=SYSTEM,
    )
    return release


def quiz_course(release: Release | None, slug: str, skill_list: list[Skill], *, lessons: int = 5):
    """A course with `lessons` lessons and a quiz of one single-choice question per
    skill (three choices, the first right) for `release`."""
    course, _ = Course.objects.get_or_create(
        slug=slug, defaults={"title": f"{slug} course", "release": release}
    )
    Lesson.objects.bulk_create(
        [
            Lesson(course=course, position=n, title=f"Lesson {n}", body="Some **Markdown**.")
            for n in range(1, lessons + 1)
        ],
        ignore_conflicts=True,
    )
    quiz, _ = Quiz.objects.get_or_create(course=course, defaults={"pass_mark": 80})
    if not quiz.questions.exists():
        questions = Question.objects.bulk_create(
            [
                Question(quiz=quiz, position=n, prompt=f"About {skill.slug}?", skill=skill)
                for n, skill in enumerate(skill_list, start=1)
            ]
        )
        Choice.objects.bulk_create(
            [
                Choice(question=question, position=p, text=f"Answer {p}", correct=p == 1)
                for question in questions
                for p in range(1, 4)
            ]
        )
    return course, quiz


def publish(release: Release) -> Release:
    return release_publish(release=release, actor=SYSTEM)[0]

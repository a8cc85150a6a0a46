"""The browser pages at team scale: the engineer dashboard, the lead's release page,
the team's skill matrix, the release history, a draft release's page, the engineer
page and the support manager's console, for a team of 500 engineers and 100 skills.

Budget for every page here: at most BUDGET_QUERIES queries and a median under
BUDGET_MS milliseconds (the report marks a page that misses either)."""

import statistics
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, get_resolver, reverse

from bench import data
from bench.readiness import add_progress
from core.actors import SYSTEM, Actor
from courses.models import Course, Release
from training.models import Engineer, Team
from training.services.assignments import onboarding_assign, release_assign_training
from training.services.managers import manager_grant
from training.services.releases import release_mark_available

ENGINEERS = 500
SKILLS = 100
SKILL_SHARE = 0.3  # a record in about 30 of the 100 skills per engineer
BUDGET_QUERIES = 15
BUDGET_MS = 100.0


@dataclass
class PageResult:
    name: str
    url: str | None
    median_ms: float | None = None
    p90_ms: float | None = None
    queries: int | None = None
    status: int | None = None
    renders: int = 0
    gap: str | None = None  # why it was not measured

    @property
    def within_budget(self) -> bool | None:
        if self.median_ms is None or self.queries is None:
            return None
        return self.queries <= BUDGET_QUERIES and self.median_ms < BUDGET_MS


def prepare() -> dict:
    User = get_user_model()
    lead = User.objects.create_user("bench-lead", "bench-lead@example.com", None)
    sdk, (team,) = data.sdk_with_teams("bench-pages", teams=1, leads=[lead])
    ids = data.engineers("page", teams=[team], active=ENGINEERS)
    skill_list = data.skills("bench-page-skill", SKILLS)
    data.skill_records(ids, [skill.pk for skill in skill_list], share=SKILL_SHARE)

    onboarding, _ = data.quiz_course(None, "bench-pages-onboarding", skill_list[:3])
    team.onboarding_courses.add(onboarding)
    onboarding_assign()

    releases = []
    for minor in range(3):
        release = data.draft_release(
            sdk, f"1.{minor}.0", [skill.slug for skill in skill_list[minor * 5 : minor * 5 + 5]]
        )
        data.quiz_course(release, f"bench-pages-1-{minor}", skill_list[minor * 5 : minor * 5 + 5])
        release = data.publish(release)
        release_assign_training(release=release)
        add_progress(release)
        releases.append(release)
    # Lessons read by the engineers whose release training is in progress.
    data.sql(
        """
        INSERT INTO training_lessonprogress (engineer_id, lesson_id, read_at)
        SELECT a.engineer_id, l.id, now()
        FROM training_assignment a JOIN courses_lesson l ON l.course_id = a.course_id
        WHERE a.status = 'in_progress' AND l.position <= 2
        ON CONFLICT DO NOTHING
        """
    )
    # The history's other kinds: an earlier release made available over the gate (an
    # override on the record) and the next one still a draft, with its features.
    manager = User.objects.create_user("bench-manager", "bench-manager@example.com", None)
    manager_grant(user=manager, actor=SYSTEM)
    shipped = data.publish(data.draft_release(sdk, "0.9.0", [skill_list[0].slug]))
    release_mark_available(
        release=shipped, actor=Actor(user=manager), override=True, reason="bench: hotfix"
    )
    draft = data.draft_release(sdk, "2.0.0", [skill.slug for skill in skill_list[20:25]])
    data.analyze()
    engineer = (
        Engineer.objects.filter(pk__in=ids, assignments__status="in_progress")
        .select_related("user")
        .first()
    )
    return {
        "lead": lead,
        "manager": manager,
        "team": team,
        "release": releases[-1],
        "draft": draft,
        "engineer": engineer,
    }


def find_url(name: str, values: dict) -> tuple[str | None, str | None]:
    """The page's URL, filling whatever parameters its pattern names from `values`;
    (None, why) when no such page exists yet."""
    possibilities = get_resolver().reverse_dict.getlist(name)
    if not possibilities:
        return None, f"no URL named {name!r} in training.urls yet"
    for possibility, *_ in possibilities:
        for _, params in possibility:
            if all(param in values for param in params):
                try:
                    return reverse(name, kwargs={p: values[p] for p in params}), None
                except NoReverseMatch:
                    continue
    names = [params for possibility, *_ in possibilities for _, params in possibility]
    return None, f"{name!r} takes {names}, which the bench cannot fill"


def measure(prep: dict, renders: int) -> list[PageResult]:
    release: Release = prep["release"]
    team: Team = prep["team"]
    course = Course.objects.filter(release=release).first()
    release_values = {
        "sdk": release.sdk.slug,
        "version": release.version,
        "pk": release.pk,
        "id": release.pk,
        "release_id": release.pk,
        "release": release.pk,
        "course": course.slug if course else None,
        "slug": team.slug,
        "team": team.slug,
        "team_slug": team.slug,
        "team_id": team.pk,
    }
    team_values = {
        "slug": team.slug,
        "team": team.slug,
        "team_slug": team.slug,
        "pk": team.pk,
        "id": team.pk,
        "team_id": team.pk,
    }
    pages = [
        ("engineer dashboard", prep["engineer"].user, *find_url("home", {})),
        ("lead release page", prep["lead"], *find_url("lead_release", release_values)),
        ("skill matrix", prep["lead"], *find_url("team_matrix", team_values)),
        ("release history", prep["lead"], *find_url("lead_releases", {})),
        ("release history (manager)", prep["manager"], *find_url("lead_releases", {})),
        (
            "draft release page",
            prep["lead"],
            *find_url("lead_release", {"sdk": prep["draft"].sdk.slug, "version": "2.0.0"}),
        ),
        (
            "engineer page",
            prep["lead"],
            *find_url("lead_engineer", {"username": prep["engineer"].user.username}),
        ),
        ("manager console", prep["manager"], *find_url("lead_home", {})),
    ]
    results = []
    for name, user, url, gap in pages:
        if url is None:
            results.append(PageResult(name=name, url=None, gap=gap))
            continue
        results.append(_measure_page(name, user, url, renders))
    return results


def _measure_page(name: str, user, url: str, renders: int) -> PageResult:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    if response.status_code != 200:
        return PageResult(
            name=name, url=url, status=response.status_code, gap=f"answered {response.status_code}"
        )
    for _ in range(2):
        client.get(url)
    samples = []
    for _ in range(renders):
        started = time.perf_counter()
        client.get(url)
        samples.append(time.perf_counter() - started)
    reset_queries()  # CaptureQueriesContext counts nothing once the log is at its cap
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    ordered = sorted(samples)
    return PageResult(
        name=name,
        url=url,
        median_ms=statistics.median(ordered) * 1000,
        p90_ms=ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        queries=len(queries),
        status=response.status_code,
        renders=renders,
    )

"""Who may do what: every route by every kind of caller → the expected status.

Callers: no credentials; a token without the scope the route needs; a token with
it; an engineer's session (alice, of the team that supports the release); a lead
of another team (olaf); staff; a support manager (maya: sees every team and
release on the pages, leads none, is neither staff nor an engineer — so the API's
writes and the people directory, which take a token or staff, refuse her). The
routes are read from the URL resolver, so a new route without a row here fails
`test_every_route_has_a_row`.

Along the way, every answer any caller but the grading side (staff, a `catalog`
token) gets is checked for the answer key: no explanation, no `correct` flag, in
any API body or page, before the attempt is submitted.
"""

import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from core.actors import SYSTEM, Actor
from courses.documents import course_to_document
from courses.models import Question
from courses.services.playbooks import playbook_put
from courses.services.releases import release_record
from tests.factories import CourseFactory, UserFactory
from tests.training.quiz_course import QUESTIONS, build_quiz_course
from training.models import Assignment, Scope
from training.services.assignments import assignments_create_manual
from training.services.attempts import attempt_start
from training.services.managers import manager_grant
from training.services.tokens import token_issue

pytestmark = pytest.mark.django_db

CALLERS = (
    "anonymous",
    "token_without_scope",
    "token_with_scope",
    "engineer",
    "other_lead",
    "staff",
    "manager",
)
EXPLANATIONS = [explanation for _, _, _, explanation, _ in QUESTIONS]
ALL_SCOPES = set(Scope.values)


@dataclass(frozen=True)
class Row:
    name: str  # the URL name
    method: str
    path: str  # formatted with the world below
    expect: tuple[int, ...]  # in CALLERS order
    body: dict | list = field(default_factory=dict)
    # Tokens with any of these may call it; "token without" gets every other scope.
    scopes: tuple[str, ...] = ()
    # A body that is not JSON (a file), sent as this content type.
    text: str | None = None
    content_type: str = "application/json"

    @property
    def id(self) -> str:
        return f"{self.method} {self.name} {self.path}"


ANON, LOGIN = 401, 302
# Catalog reads are open to every valid token and every person.
CATALOG_READ = (ANON, 200, 200, 200, 200, 200, 200)
CATALOG_WRITE = (ANON, 403, 201, 403, 403, 201, 403)
# Release reads: tokens need `releases` (or `releases:override`); people may read.
RELEASE_READ = (ANON, 403, 200, 200, 200, 200, 200)
# Readiness: tokens with `releases`; a lead their own releases (another lead's is 404);
# an engineer 403.
READINESS_READ = (ANON, 403, 200, 403, 404, 200, 200)
# The directory of people: tokens with `people` and staff only.
PEOPLE_READ = (ANON, 403, 200, 403, 403, 200, 403)
# Pages: tokens are not credentials there; sign-in comes first.
ENGINEER_PAGE = (LOGIN, LOGIN, LOGIN, 200, 404, 404, 404)
LEAD_PAGE = (LOGIN, LOGIN, LOGIN, 404, 200, 200, 200)
OPEN = (200,) * 7
SCIM = (ANON, 403, 200, ANON, ANON, ANON, ANON)

ROWS = [
    # --- API: catalog
    Row("api-sdks", "GET", "/api/v1/sdks/", CATALOG_READ, scopes=("catalog",)),
    Row(
        "api-sdks",
        "POST",
        "/api/v1/sdks/",
        CATALOG_WRITE,
        {"slug": "rtc-web", "name": "RTC Web"},
        scopes=("catalog",),
    ),
    Row("api-sdk", "GET", "/api/v1/sdks/rtm-android/", CATALOG_READ, scopes=("catalog",)),
    Row(
        "api-sdk",
        "PATCH",
        "/api/v1/sdks/rtm-android/",
        (ANON, 403, 200, 403, 403, 200, 403),
        {"webhook_url": "https://ci.example.com/hook", "webhook_secret": "whsec_" + "A" * 44},
        scopes=("catalog",),
    ),
    Row("api-skills", "GET", "/api/v1/skills/", CATALOG_READ, scopes=("catalog",)),
    Row(
        "api-skills",
        "POST",
        "/api/v1/skills/",
        CATALOG_WRITE,
        {"slug": "push", "name": "Push"},
        scopes=("catalog",),
    ),
    Row("api-skill", "GET", "/api/v1/skills/{skill}/", CATALOG_READ, scopes=("catalog",)),
    Row("api-courses", "GET", "/api/v1/courses/", CATALOG_READ, scopes=("catalog",)),
    Row("api-course", "GET", "/api/v1/courses/{course}/", CATALOG_READ, scopes=("catalog",)),
    Row(
        "api-course",
        "PUT",
        "/api/v1/courses/{course}/",
        (ANON, 403, 200, 403, 403, 200, 403),
        {"document": True},
        scopes=("catalog",),
    ),
    Row(
        "api-question-regrade",
        "POST",
        "/api/v1/courses/{course}/questions/{question}/regrade/",
        (ANON, 403, 200, 403, 403, 200, 403),
        {"dry_run": True},
        scopes=("catalog",),
    ),
    # --- API: a course's questions from and to Moodle files (the answer key: catalog)
    Row(
        "api-course-questions-import",
        "POST",
        "/api/v1/courses/{course}/questions/import/",
        CATALOG_WRITE,
        scopes=("catalog",),
        text="::imported::Is a retry idempotent?{T}",
        content_type="text/plain",
    ),
    Row(
        "api-course-questions-export",
        "GET",
        "/api/v1/courses/{course}/questions/export/",
        (ANON, 403, 200, 403, 403, 200, 403),
        scopes=("catalog",),
    ),
    # --- API: playbooks (read by any token or person; written with `catalog`)
    Row(
        "api-playbooks", "GET", "/api/v1/playbooks/?q=reconnect", CATALOG_READ, scopes=("catalog",)
    ),
    Row("api-playbook", "GET", "/api/v1/playbooks/{playbook}/", CATALOG_READ, scopes=("catalog",)),
    Row(
        "api-playbook",
        "PUT",
        "/api/v1/playbooks/new-playbook/",
        CATALOG_WRITE,
        {"title": "Push not arriving", "body": "Check the APNs certificate."},
        scopes=("catalog",),
    ),
    # --- API: releases
    Row(
        "api-releases",
        "GET",
        "/api/v1/releases/",
        RELEASE_READ,
        scopes=("releases", "releases:override"),
    ),
    Row(
        "api-releases",
        "POST",
        "/api/v1/releases/",
        (ANON, 403, 201, 403, 403, 201, 403),
        {
            "sdk": "rtm-android",
            "version": "3.0.0",
            "customer_available_at": "2031-01-01T00:00:00Z",
            "features": [],
        },
        scopes=("releases",),
    ),
    Row(
        "api-release",
        "GET",
        "/api/v1/releases/rtm-android/2.4.0/",
        RELEASE_READ,
        scopes=("releases", "releases:override"),
    ),
    Row(
        "api-release",
        "PATCH",
        "/api/v1/releases/rtm-android/2.4.0/",
        (ANON, 403, 200, 403, 403, 200, 403),
        {"notes": "Updated."},
        scopes=("releases",),
    ),
    Row(
        "api-release-publish",
        "POST",
        "/api/v1/releases/rtm-android/2.5.0/publish/",
        (ANON, 403, 202, 403, 403, 202, 403),
        scopes=("releases",),
    ),
    Row(
        "api-release-readiness",
        "GET",
        "/api/v1/releases/rtm-android/2.4.0/readiness/",
        READINESS_READ,
        scopes=("releases", "releases:override"),
    ),
    Row(
        "api-release-coverage",
        "GET",
        "/api/v1/releases/rtm-android/2.4.0/coverage/",
        READINESS_READ,
        scopes=("releases", "releases:override"),
    ),
    Row(
        "api-release-availability",
        "POST",
        "/api/v1/releases/rtm-android/2.4.0/availability/",
        # Authorised callers reach the gate, which says "not ready" (409).
        (ANON, 403, 409, 403, 403, 409, 403),
        scopes=("releases", "releases:override"),
    ),
    # --- API: people
    Row("api-teams", "GET", "/api/v1/teams/", PEOPLE_READ, scopes=("people",)),
    Row(
        "api-teams",
        "POST",
        "/api/v1/teams/",
        (ANON, 403, 201, 403, 403, 201, 403),
        {"slug": "amer-rtm", "name": "AMER RTM"},
        scopes=("people",),
    ),
    Row("api-team", "GET", "/api/v1/teams/apac-rtm/", PEOPLE_READ, scopes=("people",)),
    Row(
        "api-team",
        "PATCH",
        "/api/v1/teams/apac-rtm/",
        (ANON, 403, 200, 403, 403, 200, 403),
        {"name": "APAC RTM team"},
        scopes=("people",),
    ),
    Row("api-engineers", "GET", "/api/v1/engineers/", PEOPLE_READ, scopes=("people",)),
    Row(
        "api-engineers",
        "POST",
        "/api/v1/engineers/",
        (ANON, 403, 201, 403, 403, 201, 403),
        {"username": "neo", "region": "APAC"},
        scopes=("people",),
    ),
    Row(
        "api-engineers-bulk",
        "POST",
        "/api/v1/engineers/bulk/",
        (ANON, 403, 200, 403, 403, 200, 403),
        [{"username": "neo", "region": "APAC"}, {"username": "alice", "tier": "L2"}],
        scopes=("people",),
    ),
    Row("api-engineer", "GET", "/api/v1/engineers/alice/", PEOPLE_READ, scopes=("people",)),
    Row(
        "api-engineer",
        "PATCH",
        "/api/v1/engineers/alice/",
        (ANON, 403, 200, 403, 403, 200, 403),
        {"tier": "L2"},
        scopes=("people",),
    ),
    # Alice reads her own skills; another team's lead learns nothing (404).
    Row(
        "api-engineer-skills",
        "GET",
        "/api/v1/engineers/alice/skills/",
        (ANON, 403, 200, 200, 404, 200, 200),
        scopes=("people",),
    ),
    # Support managers: tokens with `people` and staff only (a manager makes no other).
    Row(
        "api-manager",
        "PUT",
        "/api/v1/managers/lena/",
        (ANON, 403, 201, 403, 403, 201, 403),
        scopes=("people",),
    ),
    Row(
        "api-manager",
        "DELETE",
        "/api/v1/managers/lena/",
        (ANON, 403, 204, 403, 403, 204, 403),
        scopes=("people",),
    ),
    # --- API: assignments (people read theirs and their teams' only: see below)
    Row("api-assignments", "GET", "/api/v1/assignments/", RELEASE_READ, scopes=("assignments",)),
    Row(
        "api-assignments",
        "POST",
        "/api/v1/assignments/",
        (ANON, 403, 201, 403, 403, 201, 403),
        {"course": "{course}", "engineers": ["alice"], "due_at": "2031-01-01T00:00:00Z"},
        scopes=("assignments",),
    ),
    # One assignment: a token with `assignments`, staff, the engineer (reading their
    # own), the lead of their team; a lead of another team gets 404.
    Row(
        "api-assignment",
        "GET",
        "/api/v1/assignments/{assignment}/",
        (ANON, 403, 200, 200, 404, 200, 200),
        scopes=("assignments",),
    ),
    Row(
        "api-assignment",
        "PATCH",
        "/api/v1/assignments/{assignment}/",
        (ANON, 403, 200, 403, 404, 200, 200),
        {"due_at": "2031-01-01T00:00:00Z", "reason": "Sick leave"},
        scopes=("assignments",),
    ),
    Row(
        "api-assignment-attempts",
        "POST",
        "/api/v1/assignments/{assignment}/attempts/",
        (ANON, 403, 200, 403, 404, 200, 200),
        {"extra": 1, "reason": "Sick on the day"},
        scopes=("assignments",),
    ),
    # --- schema, docs, health: public
    Row("api-schema", "GET", "/api/schema/", OPEN),
    Row("api-docs", "GET", "/api/docs/", OPEN),
    Row("api-redoc", "GET", "/api/redoc/", OPEN),
    Row("healthz", "GET", "/healthz", OPEN),
    # --- engineer pages
    # A signed-in lead or staff member without an engineer profile goes to /lead/.
    Row("home", "GET", "/", (LOGIN, LOGIN, LOGIN, 200, 302, 302, 302)),
    Row("language_set", "POST", "/language/", (302,) * 7),
    Row("login", "GET", "/accounts/login/", (200, 200, 200, 302, 302, 302, 302)),
    Row("logout", "POST", "/accounts/logout/", (302,) * 7),
    Row("password_change", "GET", "/accounts/password/", (LOGIN, LOGIN, LOGIN, 200, 200, 200, 200)),
    Row("assignment", "GET", "/assignments/{assignment}/", ENGINEER_PAGE),
    Row(
        "assignment_resume",
        "GET",
        "/assignments/{assignment}/resume/",
        (LOGIN, LOGIN, LOGIN, 302, 404, 404, 404),
    ),
    Row("lesson", "GET", "/assignments/{assignment}/lessons/1/", ENGINEER_PAGE),
    Row(
        "lesson_read",
        "POST",
        "/assignments/{assignment}/lessons/1/read/",
        (LOGIN, LOGIN, LOGIN, 302, 404, 404, 404),
    ),
    Row("quiz", "GET", "/assignments/{assignment}/quiz/", ENGINEER_PAGE),
    Row(
        "quiz_start",
        "POST",
        "/assignments/{assignment}/quiz/start/",
        (LOGIN, LOGIN, LOGIN, 302, 404, 404, 404),
    ),
    Row("attempt", "GET", "/attempts/{attempt}/", ENGINEER_PAGE),
    # The grading queue: leads (their teams') and the grader role (staff here is a
    # superuser, so holds it); an engineer 404. The attempt below is open, not
    # awaiting grading: nobody grades it (tests/training/test_pages_question_bank.py
    # has the queue with an essay in it).
    Row("grading_queue", "GET", "/grading/", (LOGIN, LOGIN, LOGIN, 404, 200, 200, 200)),
    Row(
        "grading_attempt",
        "GET",
        "/grading/{attempt}/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 404, 404),
    ),
    Row(
        "grading_attempt",
        "POST",
        "/grading/{attempt}/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 404, 404),
    ),
    Row("skills", "GET", "/skills/", ENGINEER_PAGE),
    # Playbooks: any signed-in person.
    Row(
        "playbook_search",
        "GET",
        "/playbooks/?q=reconnect",
        (LOGIN, LOGIN, LOGIN, 200, 200, 200, 200),
    ),
    Row("playbook", "GET", "/playbooks/{playbook}/", (LOGIN, LOGIN, LOGIN, 200, 200, 200, 200)),
    # Verified by its owner (none here), a manager or staff; a 404 for anyone else.
    Row(
        "playbook_verify",
        "POST",
        "/playbooks/{playbook}/verify/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 302, 302),
    ),
    Row("my_shift", "GET", "/shift/", ENGINEER_PAGE),
    # An empty form: nothing to save (400); only engineers have a shift.
    Row("my_shift", "POST", "/shift/", (LOGIN, LOGIN, LOGIN, 400, 404, 404, 404)),
    Row("calendar_reset", "POST", "/calendar/reset/", (LOGIN, LOGIN, LOGIN, 302, 404, 404, 404)),
    # The feed's secret URL is its credential (calendar apps have no session).
    Row("calendar_feed", "GET", "/calendar/{calendar_token}.ics", OPEN),
    # --- lead pages: alice leads nothing (404); olaf leads another team
    Row("lead_home", "GET", "/lead/", LEAD_PAGE),
    Row("lead_assign", "GET", "/lead/assign/", LEAD_PAGE),
    Row(
        "lead_assignment_grant",
        "POST",
        "/lead/assignments/{assignment}/attempts/",
        # Pages are posted an empty form here: staff get through, to the form's errors.
        (LOGIN, LOGIN, LOGIN, 404, 404, 400, 400),
    ),
    Row(
        "lead_assignment_extend",
        "POST",
        "/lead/assignments/{assignment}/extend/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 400, 400),
    ),
    Row(
        "lead_assignment_cancel",
        "POST",
        "/lead/assignments/{lead_assignment}/cancel/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 302, 404),
    ),
    Row(
        "lead_assignment_nudge",
        "POST",
        "/lead/assignments/{lead_assignment}/nudge/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 302, 302),
    ),
    Row(
        "lead_engineer", "GET", "/lead/engineers/alice/", (LOGIN, LOGIN, LOGIN, 404, 404, 200, 200)
    ),
    Row(
        "lead_engineer", "GET", "/lead/engineers/oscar/", (LOGIN, LOGIN, LOGIN, 404, 200, 200, 200)
    ),
    Row(
        "lead_engineer_shift",
        "POST",
        "/lead/engineers/alice/shift/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 302, 302),
    ),
    Row(
        "lead_engineer_shift",
        "POST",
        "/lead/engineers/oscar/shift/",
        (LOGIN, LOGIN, LOGIN, 404, 302, 302, 302),
    ),
    Row("lead_profile", "GET", "/lead/profile/", LEAD_PAGE),
    Row("lead_content", "GET", "/lead/content/", LEAD_PAGE),
    # Authoring: authors (staff, a course's owner), managers and leads (who see the
    # courses they own: olaf owns none, so another's course is a 404); an engineer
    # 403. A manager reads the analysis but does not regrade.
    Row("authoring_home", "GET", "/authoring/", (LOGIN, LOGIN, LOGIN, 403, 200, 200, 200)),
    Row(
        "item_analysis",
        "GET",
        "/authoring/courses/{course}/items/",
        (LOGIN, LOGIN, LOGIN, 403, 404, 200, 200),
    ),
    Row(
        "item_analysis_csv",
        "GET",
        "/authoring/courses/{course}/items.csv",
        (LOGIN, LOGIN, LOGIN, 403, 404, 200, 200),
    ),
    Row(
        "question_regrade",
        "GET",
        "/authoring/courses/{course}/questions/{question}/regrade/",
        (LOGIN, LOGIN, LOGIN, 403, 404, 200, 403),
    ),
    Row(
        "question_regrade",
        "POST",
        "/authoring/courses/{course}/questions/{question}/regrade/",
        (LOGIN, LOGIN, LOGIN, 403, 404, 302, 403),
    ),
    Row(
        "lead_release_coverage_strip",
        "GET",
        "/lead/releases/rtm-android/2.4.0/coverage/strip/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 200, 200),  # the managers' console (staff too)
    ),
    Row(
        "lead_course_verify",
        "POST",
        "/lead/content/{course}/verify/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 302, 302),  # its owner, a manager or staff
    ),
    Row(
        "lead_profile",
        "POST",
        "/lead/profile/",
        (LOGIN, LOGIN, LOGIN, 404, 400, 400, 400),  # an empty form: the fields are required
    ),
    Row(
        "lead_release",
        "GET",
        "/lead/releases/rtm-android/2.4.0/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 200, 200),
    ),
    # A draft release has a page too (what publishing would assign), for its SDK's
    # leads and those who see everything.
    Row(
        "lead_release",
        "GET",
        "/lead/releases/rtm-android/2.5.0/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 200, 200),
    ),
    Row("lead_releases", "GET", "/lead/releases/", LEAD_PAGE),
    # Another team's SDK is no choice for olaf's history (400, the form says so).
    Row(
        "lead_releases",
        "GET",
        "/lead/releases/?sdk=rtm-android&page=2",
        (LOGIN, LOGIN, LOGIN, 404, 400, 200, 200),
    ),
    # No engineer named: 404 for everyone who reaches it.
    Row(
        "lead_coverage_assign",
        "POST",
        "/lead/releases/rtm-android/2.4.0/coverage/assign/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 404, 404),
    ),
    Row(
        "lead_release_availability",
        "POST",
        "/lead/releases/rtm-android/2.4.0/availability/",
        (LOGIN, LOGIN, LOGIN, 404, 404, 302, 302),  # staff: "not ready", back to the page
    ),
    Row("team_matrix", "GET", "/team/matrix/", LEAD_PAGE),
    Row(
        "team_matrix",
        "GET",
        "/team/matrix/?team=apac-rtm",
        (LOGIN, LOGIN, LOGIN, 404, 404, 200, 200),
    ),
    Row("team_matrix_csv", "GET", "/team/matrix.csv", LEAD_PAGE),
    Row("team_experts", "GET", "/team/experts/", LEAD_PAGE),
    Row(
        "team_experts",
        "GET",
        "/team/experts/?team=apac-rtm&skill={skill}",
        (LOGIN, LOGIN, LOGIN, 404, 404, 200, 200),
    ),
    # --- SCIM: bearer tokens with `scim` only; a session is no credential there
    Row("scim-config", "GET", "/scim/v2/ServiceProviderConfig", SCIM, scopes=("scim",)),
    Row("scim-resource-types", "GET", "/scim/v2/ResourceTypes", SCIM, scopes=("scim",)),
    Row("scim-schemas", "GET", "/scim/v2/Schemas", SCIM, scopes=("scim",)),
    Row("scim-users", "GET", "/scim/v2/Users", SCIM, scopes=("scim",)),
    Row("scim-user", "GET", "/scim/v2/Users/{scim_user}", SCIM, scopes=("scim",)),
    Row(
        "scim-user",
        "DELETE",
        "/scim/v2/Users/{scim_user}",
        (ANON, 403, 204, ANON, ANON, ANON, ANON),
        scopes=("scim",),
    ),
    Row("scim-groups", "GET", "/scim/v2/Groups", SCIM, scopes=("scim",)),
    Row("scim-group", "GET", "/scim/v2/Groups/{scim_group}", SCIM, scopes=("scim",)),
    # --- OpenID Connect sign-in: off in these tests (nothing configured), so 404
    Row("oidc_authentication_init", "GET", "/oidc/authenticate/", (404,) * 7),
    Row("oidc_authentication_callback", "GET", "/oidc/callback/?code=x&state=y", (404,) * 7),
    # --- the admin: staff only
    Row("admin:index", "GET", "/admin/", (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200, 302)),
    Row(
        "admin:courses_release_changelist",
        "GET",
        "/admin/courses/release/",
        (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200, 302),
    ),
]


def _route_names(patterns, prefix: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                names.add("admin:index")  # the admin is one family, staff-only
                continue
            names |= _route_names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_every_route_has_a_row():
    missing = _route_names(get_resolver().url_patterns) - {row.name for row in ROWS}
    assert not missing, f"routes without a row in the access matrix: {sorted(missing)}"


@pytest.fixture
def manager(db):
    """maya: a support manager, neither staff nor an engineer, leading no team."""
    maya = UserFactory(username="maya")
    manager_grant(user=maya, actor=SYSTEM)
    return maya


@pytest.fixture
def world(engineer, outsider, staff, lead, manager):
    """alice (engineer of apac-rtm, led by lena) has a release course with a quiz and
    an open attempt; olaf leads emea-web; stella is staff."""
    qc = build_quiz_course(engineer=engineer, max_attempts=3)
    Question.objects.filter(pk=qc.questions[0].pk).update(uid="q1")
    attempt = attempt_start(engineer=engineer, quiz=qc.quiz)
    release_record(
        sdk=qc.release.sdk,
        version="2.5.0",
        customer_available_at=timezone.now() + timedelta(days=30),
        notes="",
        features=[],
        actor=SYSTEM,
    )
    extra = CourseFactory(slug="extra-practice")
    assignments_create_manual(
        course=extra,
        engineer_ids=[engineer.pk],
        due_at=timezone.now() + timedelta(days=3),
        actor=Actor(user=lead),
    )
    lead_made = Assignment.objects.get(course=extra, engineer=engineer)
    playbook_put(
        slug="reconnect-storms",
        document={"title": "Reconnect storms", "body": "Hosts reconnect every few seconds."},
        actor=SYSTEM,
    )
    return {
        "playbook": "reconnect-storms",
        "course": qc.course.slug,
        "question": "q1",
        "skill": qc.questions[0].skill.slug,
        "assignment": qc.assignment.pk,
        "lead_assignment": lead_made.pk,
        "attempt": attempt.pk,
        "calendar_token": engineer.calendar_token,
        "scim_user": engineer.user_id,
        "scim_group": engineer.team_id,
        "document": course_to_document(qc.course),
        "users": {
            "engineer": engineer.user,
            "other_lead": outsider.team.leads.get(),
            "staff": staff,
            "manager": manager,
        },
    }


def _client(caller: str, row: Row, world: dict) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.10")
    if caller in ("token_with_scope", "token_without_scope"):
        needed = set(row.scopes) or {Scope.CATALOG.value}
        scopes = sorted(needed if caller == "token_with_scope" else ALL_SCOPES - needed)
        raw = token_issue(name=caller, scopes=scopes)[1]
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    elif caller in world["users"]:
        client.force_login(world["users"][caller])
    return client


def _assert_no_answer_key(caller: str, row: Row, body: str) -> None:
    grader = caller == "staff" or (caller == "token_with_scope" and "catalog" in row.scopes)
    if grader:
        return
    for explanation in EXPLANATIONS:
        assert explanation not in body, f"{caller} got an explanation from {row.id}"
    assert '"correct"' not in body and "data-correct" not in body, (
        f"{caller} got the answer key from {row.id}"
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
@pytest.mark.parametrize("caller", CALLERS)
def test_access(caller, row, world):
    client = _client(caller, row, world)
    path = row.path.format(**world)
    body = row.body
    if isinstance(body, list):
        pass
    elif body.get("document"):
        body = world["document"]
    elif "course" in body:
        body = {**body, "course": world["course"]}
    if row.method == "GET":
        response = client.get(path)
    elif row.text is not None:
        response = client.generic(row.method, path, data=row.text, content_type=row.content_type)
    else:
        response = client.generic(
            row.method,
            path,
            data=json.dumps(body) if path.startswith("/api/") else "",
            content_type="application/json"
            if path.startswith("/api/")
            else "application/octet-stream",
        )
    expected = row.expect[CALLERS.index(caller)]
    assert response.status_code == expected, (
        f"{caller} {row.id}: {response.status_code}, expected {expected}: "
        f"{response.content[:300]!r}"
    )
    content = b"".join(response.streaming_content) if response.streaming else response.content
    _assert_no_answer_key(caller, row, content.decode(errors="replace"))


def test_a_lead_of_another_team_reads_none_of_this_teams_assignments(world, client):
    client.force_login(world["users"]["other_lead"])
    response = client.get("/api/v1/assignments/")
    assert response.status_code == 200
    assert "alice" not in response.content.decode()
    client.force_login(world["users"]["engineer"])
    mine = client.get("/api/v1/assignments/").json()
    assert {item["engineer"] for item in mine["results"]} == {"alice"}


def test_a_wrong_calendar_token_is_a_404(world, client):
    assert client.get("/calendar/not-the-token.ics").status_code == 404


def test_the_engineer_pages_of_an_open_attempt_hold_no_answer_key(world, client):
    """The quiz and attempt pages before submission: prompts and choice texts only.
    The course document with its key goes to the grading side (a catalog token)."""
    client.force_login(world["users"]["engineer"])
    for path in (
        f"/assignments/{world['assignment']}/quiz/",
        f"/attempts/{world['attempt']}/",
        f"/api/v1/courses/{world['course']}/",
    ):
        body = client.get(path).content.decode()
        assert not any(explanation in body for explanation in EXPLANATIONS), path
        assert '"correct"' not in body and "data-correct" not in body, path
    # The attempt form names choices by their shuffled position, never by choice id.
    form = client.get(f"/attempts/{world['attempt']}/").content.decode()
    assert 'value="0"' in form

    author = Client()
    author.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(name="a", scopes=["catalog"])[1]
    keyed = author.get(f"/api/v1/courses/{world['course']}/").content.decode()
    assert '"correct"' in keyed and EXPLANATIONS[0] in keyed

"""The release history (/lead/releases/), a draft release's page, an available
release's gate decision, and the query counts of the pages leads and managers use
at 10 and at 500 engineers."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actors import Actor
from courses.models import Course, Release
from tests.factories import (
    CourseFactory,
    EngineerFactory,
    FeatureFactory,
    LessonFactory,
    QuizFactory,
    ReleaseFactory,
    SkillFactory,
    TeamFactory,
    UserFactory,
)
from tests.training.test_pages_lead import LONG_AGO, NOW, _bulk_engineers
from training.models import Assignment, AuditEvent, Engineer
from training.services.managers import manager_grant
from training.services.releases import release_mark_available
from training.services.tokens import token_issue
from training.views.lead_releases import PAGE_SIZE

pytestmark = pytest.mark.django_db

HISTORY = "/lead/releases/"
REGIONS = ["APAC", "EMEA", "AMER"]


@pytest.fixture
def manager(db):
    maya = UserFactory(username="maya", first_name="Maya", last_name="Manager")
    manager_grant(user=maya, actor=Actor())
    return maya


@pytest.fixture
def releases(sdk, outsider):
    """rtm-android: 2.2.0 withdrawn, 2.3.0 available (overridden), 2.4.0 published,
    2.5.0 draft; rtm-web (another team's SDK): 9.0.0 published."""
    made = {
        "2.2.0": ReleaseFactory(
            sdk=sdk,
            version="2.2.0",
            status=Release.Status.WITHDRAWN,
            customer_available_at=NOW - timedelta(days=60),
        ),
        "2.3.0": ReleaseFactory(
            sdk=sdk,
            version="2.3.0",
            status=Release.Status.PUBLISHED,
            customer_available_at=NOW - timedelta(days=20),
        ),
        "2.4.0": ReleaseFactory(
            sdk=sdk,
            version="2.4.0",
            status=Release.Status.PUBLISHED,
            customer_available_at=NOW + timedelta(days=5),
        ),
        "2.5.0": ReleaseFactory(
            sdk=sdk,
            version="2.5.0",
            status=Release.Status.DRAFT,
            customer_available_at=NOW + timedelta(days=40),
        ),
        "web": ReleaseFactory(
            sdk=outsider.team.sdks.get(),
            version="9.0.0",
            status=Release.Status.PUBLISHED,
            customer_available_at=NOW + timedelta(days=3),
        ),
    }
    return made


def history_rows(response) -> list[str]:
    """The releases in the history table, as "sdk version"."""
    return re.findall(r'<th scope="row"><a href="/lead/releases/[^"]+">([^<]+)</a>', response.text)


# --- the history ------------------------------------------------------------------------


def test_a_lead_sees_every_release_of_their_teams_sdks_and_nothing_else(
    client, lead, team, releases
):
    client.force_login(lead)
    response = client.get(HISTORY)
    assert response.status_code == 200
    # Newest customer date first; drafts and withdrawn too; not rtm-web.
    assert history_rows(response) == [
        "rtm-android 2.5.0",
        "rtm-android 2.4.0",
        "rtm-android 2.3.0",
        "rtm-android 2.2.0",
    ]
    assert "rtm-web" not in response.text


def test_a_manager_sees_the_releases_of_every_sdk(client, manager, team, releases):
    client.force_login(manager)
    response = client.get(HISTORY)
    assert response.status_code == 200
    assert set(history_rows(response)) == {
        "rtm-android 2.5.0",
        "rtm-android 2.4.0",
        "rtm-android 2.3.0",
        "rtm-android 2.2.0",
        "rtm-web 9.0.0",
    }
    assert "Support manager: every SDK." in response.text


def test_an_engineer_gets_404_and_a_stranger_the_sign_in_page(client, engineer, releases):
    assert client.get(HISTORY).status_code == 302
    client.force_login(engineer.user)
    assert client.get(HISTORY).status_code == 404


def test_the_menu_and_the_lead_home_link_to_the_history(client, lead, team):
    client.force_login(lead)
    home = client.get(reverse("lead_home")).text
    assert home.count(f'href="{HISTORY}"') == 2  # the menu and the page's own line


@time_machine.travel(NOW, tick=False)
def test_the_history_filters_by_sdk_status_and_customer_date(client, manager, team, releases):
    client.force_login(manager)  # inside the travel: a session made before it expires
    by_sdk = client.get(HISTORY, {"sdk": "rtm-web"})
    assert history_rows(by_sdk) == ["rtm-web 9.0.0"]
    by_status = client.get(HISTORY, {"status": "draft"})
    assert history_rows(by_status) == ["rtm-android 2.5.0"]
    day = (NOW + timedelta(days=5)).date()
    by_date = client.get(
        HISTORY, {"customer_from": (day - timedelta(days=3)).isoformat(), "customer_to": day}
    )
    assert history_rows(by_date) == ["rtm-android 2.4.0", "rtm-web 9.0.0"]
    both = client.get(HISTORY, {"sdk": "rtm-android", "status": "published"})
    assert history_rows(both) == ["rtm-android 2.4.0", "rtm-android 2.3.0"]


@pytest.mark.parametrize(
    "query",
    [
        {"customer_from": "2030-13-45"},
        {"customer_from": "0001-01-01"},
        {"customer_to": "9999-12-31"},
        {"customer_from": "2030-02-01", "customer_to": "2030-01-01"},
        {"status": "gone"},
        {"sdk": "rtm-web"},  # another team's SDK is not a choice for this lead
        {"sdk": "\x00"},
    ],
)
def test_bad_filters_are_a_400_naming_the_field_never_a_500(client, lead, team, releases, query):
    client.force_login(lead)
    response = client.get(HISTORY, query)
    assert response.status_code == 400
    if "\x00" not in query.get("sdk", ""):  # a NUL byte: refused before the view
        assert 'class="errors"' in response.text
    assert "rtm-web 9.0.0" not in response.text


@pytest.mark.parametrize(
    ("page", "shown"),
    [("1", 1), ("2", 2), ("abc", 1), ("0", 2), ("-3", 2), ("99999999999999999999", 2), ("", 1)],
)
def test_the_history_pages_and_a_bad_page_number_is_never_a_500(
    client, lead, team, sdk, page, shown
):
    for minor in range(PAGE_SIZE + 5):
        ReleaseFactory(
            sdk=sdk, version=f"3.{minor}.0", customer_available_at=NOW + timedelta(minor)
        )
    client.force_login(lead)
    response = client.get(HISTORY, {"page": page, "status": "draft"})
    assert response.status_code == 200
    rows = history_rows(response)
    assert len(rows) == (PAGE_SIZE if shown == 1 else 5)
    assert f"Page {shown} of 2" in response.text
    # The pager keeps the filters.
    if shown == 1:
        assert 'href="?status=draft&amp;page=2"' in response.text


# --- a draft release ------------------------------------------------------------------


def test_a_draft_release_has_a_page_with_its_features_course_and_what_publishing_assigns(
    client, lead, team, sdk, releases, outsider
):
    draft = releases["2.5.0"]
    skill = SkillFactory(slug="message-edit", name="Message editing")
    feature = FeatureFactory(release=draft, key="message-edit", title="Edit <sent> messages")
    feature.skills.add(skill)
    for i, region in enumerate(["APAC", "APAC", "EMEA"]):
        EngineerFactory(user=UserFactory(username=f"e{i}"), team=team, region=region)
    EngineerFactory(user=UserFactory(username="gone"), team=team, region="AMER", active=False)
    # Another team on the same SDK: counted in the total, not shown to this lead.
    other = TeamFactory(slug="emea-rtm", name="EMEA RTM", sdks=[sdk])
    EngineerFactory(user=UserFactory(username="e9"), team=other, region="EMEA")
    client.force_login(lead)

    response = client.get(reverse("lead_release", args=["rtm-android", "2.5.0"]))
    assert response.status_code == 200
    page = response.text
    assert "Edit &lt;sent&gt; messages" in page and "Message editing" in page
    assert 'data-state="none"' in page  # no course yet: publishing makes a draft one
    assert "Publishing now assigns the training to 4 engineers" in page
    assert '<li data-region="APAC"><strong>APAC</strong> 2 engineers</li>' in page
    assert '<li data-region="EMEA"><strong>EMEA</strong> 1 engineer</li>' in page
    assert "AMER" not in page.split('id="publishing"')[1].split("</section>")[0]
    assert "EMEA RTM" not in page
    # No action applies to a draft: the gate's form is not there and refuses it.
    assert "availability" not in page
    url = reverse("lead_release_availability", args=["rtm-android", "2.5.0"])
    assert client.post(url).status_code == 404


def test_a_managers_draft_page_counts_every_team(client, manager, team, sdk, releases):
    other = TeamFactory(slug="emea-rtm", name="EMEA RTM", sdks=[sdk])
    EngineerFactory(user=UserFactory(username="e9"), team=other, region="EMEA")
    EngineerFactory(user=UserFactory(username="e1"), team=team, region="APAC")
    client.force_login(manager)
    page = client.get(reverse("lead_release", args=["rtm-android", "2.5.0"])).text
    assert '<th scope="row">EMEA RTM</th><td>EMEA</td><td>1</td>' in page
    assert '<th scope="row">APAC RTM</th><td>APAC</td><td>1</td>' in page


@pytest.mark.parametrize(
    ("status", "quiz", "state"),
    [(Course.Status.DRAFT, True, "draft"), (Course.Status.PUBLISHED, True, "published")],
)
def test_a_draft_release_page_says_where_its_course_stands(
    client, lead, team, releases, status, quiz, state
):
    course = CourseFactory(slug="rtm-android-2-5", release=releases["2.5.0"], status=status)
    LessonFactory(course=course, position=1)
    if quiz:
        QuizFactory(course=course)
    client.force_login(lead)
    page = client.get(reverse("lead_release", args=["rtm-android", "2.5.0"])).text
    assert f'data-state="{state}"' in page
    assert "rtm-android-2-5" in page and "1 lesson" in page


def test_another_teams_lead_gets_404_for_the_draft(client, outsider, releases):
    client.force_login(outsider.team.leads.get())
    assert client.get(reverse("lead_release", args=["rtm-android", "2.5.0"])).status_code == 404


# --- an available release ------------------------------------------------------------


def test_an_available_release_shows_the_override_reason_who_and_the_readiness_then(
    client, lead, manager, team, engineer, releases
):
    release = releases["2.3.0"]
    course = CourseFactory(slug="rtm-android-2-3", release=release)
    QuizFactory(course=course)
    release_mark_available(
        release=release, actor=Actor(user=manager), override=True, reason="Hotfix <now>"
    )
    client.force_login(lead)
    page = client.get(reverse("lead_release", args=["rtm-android", "2.3.0"])).text
    decision = page.split('class="facts gate-decision"')[1].split("</dl>")[0]
    assert 'data-kind="release_override"' in page
    assert "Gate overridden" in decision
    assert "Maya Manager (maya)" in decision
    assert "Hotfix &lt;now&gt;" in decision
    assert "Readiness at the gate" in decision
    # The history marks it too.
    assert "Gate overridden" in client.get(HISTORY).text


def test_an_available_release_shows_a_gate_passed_by_a_token(client, lead, team, releases):
    release = releases["2.4.0"]
    token, _ = token_issue(name="ci-pipeline", scopes=["releases"])
    course = CourseFactory(slug="rtm-android-2-4", release=release)
    QuizFactory(course=course)
    # Nobody in scope yet and a published course with a quiz: the gate passes.
    release_mark_available(release=release, actor=Actor(token=token))
    assert AuditEvent.objects.get(release=release).kind == AuditEvent.Kind.RELEASE_AVAILABLE
    client.force_login(lead)
    page = client.get(reverse("lead_release", args=["rtm-android", "2.4.0"])).text
    decision = page.split('class="facts gate-decision"')[1].split("</dl>")[0]
    assert "Gate passed" in decision and "token ci-pipeline" in decision
    assert "Reason" not in decision


# --- query counts: flat from 10 to 500 engineers ---------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _world(sdk, team):
    """A published release with its course (the engineers' assignments), a draft and
    an available one: what the pages below read."""
    published = ReleaseFactory(
        sdk=sdk,
        version="2.4.0",
        status=Release.Status.PUBLISHED,
        customer_available_at=NOW + timedelta(days=5),
    )
    course = CourseFactory(slug="rtm-android-2-4", release=published)
    LessonFactory(course=course, position=1)
    QuizFactory(course=course)
    draft = ReleaseFactory(sdk=sdk, version="2.5.0", customer_available_at=NOW + timedelta(days=30))
    FeatureFactory(release=draft, key="a").skills.add(SkillFactory(slug="a"))
    ReleaseFactory(
        sdk=sdk,
        version="2.3.0",
        status=Release.Status.AVAILABLE,
        customer_available_at=NOW - timedelta(days=3),
    )
    return course


def _more_engineers(team, count: int, course: Course) -> None:
    """`count` more engineers of `team` holding the release course (bulk, as
    _bulk_engineers, under other usernames)."""
    User = get_user_model()
    users = User.objects.bulk_create(User(username=f"more{i:04d}") for i in range(count))
    engineers = Engineer.objects.bulk_create(
        Engineer(
            user=user, team=team, region=["APAC", "EMEA", "AMER"][i % 3], calendar_token=f"m{i}"
        )
        for i, user in enumerate(users)
    )
    Assignment.objects.bulk_create(
        Assignment(
            engineer=engineer,
            course=course,
            release=course.release,
            reason=Assignment.Reason.RELEASE,
            assigned_at=LONG_AGO,
            due_at=course.release.due_at,
        )
        for engineer in engineers
    )


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("who", ["lead", "manager"])
def test_the_query_counts_stay_flat_from_10_to_500_engineers(client, lead, manager, team, sdk, who):
    course = _world(sdk, team)
    client.force_login(lead if who == "lead" else manager)
    _bulk_engineers(team, 10, course)
    urls = {
        "history": HISTORY,
        "history, filtered": HISTORY + "?status=published&page=1",
        "draft": reverse("lead_release", args=["rtm-android", "2.5.0"]),
        "engineer page": reverse("lead_engineer", args=["bulk0001"]),
        "console": reverse("lead_home"),
    }
    for url in urls.values():
        client.get(url)  # the readiness snapshot is kept by the first read
    small = {name: _queries(client, url) for name, url in urls.items()}

    _more_engineers(team, 490, course)
    for minor in range(6, 40):  # and more releases than a page holds
        ReleaseFactory(sdk=sdk, version=f"2.{minor}.0", customer_available_at=NOW)
    for url in urls.values():
        client.get(url)
    large = {name: _queries(client, url) for name, url in urls.items()}

    assert large == small
    assert max(large.values()) <= 15, large

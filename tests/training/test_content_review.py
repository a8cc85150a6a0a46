"""Content that stays true: a release that removes or deprecates API marks the
lessons and questions still teaching it, their owner is told, and verifying the
course clears the marks (audited)."""

import pytest
from django.core import mail
from django.utils import timezone

from core.actors import SYSTEM, Actor
from core.errors import NotFound
from courses.models import Course, PlaybookStaleMark, Release, StaleMark
from courses.services.releases import release_record
from courses.services.stale import symbol_pattern
from tests.factories import (
    AssignmentFactory,
    ChoiceFactory,
    CourseFactory,
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    ReleaseFactory,
    SdkFactory,
    UserFactory,
)
from training.models import AuditEvent
from training.services.content_review import course_verify, playbook_verify
from training.services.managers import manager_grant
from training.services.releases import release_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(username="olga", email="olga@example.com")


@pytest.fixture
def course(sdk, owner):
    release = ReleaseFactory(sdk=sdk, version="2.4.0", status=Release.Status.PUBLISHED)
    course = CourseFactory(slug="rtm-android-2-4", release=release, owner=owner)
    LessonFactory(
        course=course, position=1, title="Sending", body="Call `client.sendMessage(msg)`."
    )
    LessonFactory(course=course, position=2, title="Presence", body="Nothing about sending.")
    quiz = QuizFactory(course=course)
    question = QuestionFactory(quiz=quiz, position=1, prompt="What does the call return?")
    ChoiceFactory(
        question=question, position=1, text="`sendMessage` returns a future", correct=True
    )
    QuestionFactory(quiz=quiz, position=2, prompt="Unrelated?")
    return course


def publish(sdk, version, changelog, capture):
    release, _ = release_record(
        sdk=sdk,
        version=version,
        customer_available_at=timezone.now() + timezone.timedelta(days=30),
        notes="",
        features=[],
        actor=SYSTEM,
        changelog=changelog,
    )
    with capture(execute=True):
        release_publish(release=release, actor=SYSTEM)
    return release


def marks(course):
    found = [
        (
            mark.lesson.position if mark.lesson else None,
            mark.question.position if mark.question else None,
            mark.symbols,
        )
        for mark in StaleMark.objects.filter(course=course).select_related("lesson", "question")
    ]
    return sorted(found, key=repr)


def test_a_release_removing_a_symbol_marks_what_teaches_it_and_tells_the_owner(
    course, sdk, django_capture_on_commit_callbacks
):
    release = publish(
        sdk,
        "2.5.0",
        "### Removed\n- Remove `RtmClient.sendMessage()`\n",
        django_capture_on_commit_callbacks,
    )

    assert marks(course) == [
        (1, None, ["RtmClient.sendMessage"]),
        (None, 1, ["RtmClient.sendMessage"]),
    ]
    assert StaleMark.objects.filter(release=release).count() == 2
    told = [m for m in mail.outbox if "stale" in m.subject]
    assert [m.to for m in told] == [["olga@example.com"]]
    assert "rtm-android-2-4" in told[0].body
    # The release's own drafted course is not its own stale content.
    assert not StaleMark.objects.exclude(course=course).exists()


def test_a_release_that_only_fixes_it_marks_nothing(
    course, sdk, django_capture_on_commit_callbacks
):
    publish(
        sdk,
        "2.4.1",
        "### Fixed\n- Fix `sendMessage()` crashing offline\n",
        django_capture_on_commit_callbacks,
    )

    assert marks(course) == []
    assert not [m for m in mail.outbox if "stale" in m.subject]


def test_the_course_api_says_what_is_stale_since_which_release(
    course, sdk, token_client, django_capture_on_commit_callbacks
):
    publish(
        sdk,
        "2.5.0",
        "### Deprecated\n- Deprecate `sendMessage`\n",
        django_capture_on_commit_callbacks,
    )

    body = token_client("catalog").get("/api/v1/courses/rtm-android-2-4/").json()

    assert body["owner"] == "olga"
    assert body["stale"] == [
        {
            "lesson": 1,
            "since": {"sdk": "rtm-android", "version": "2.5.0"},
            "symbols": ["sendMessage"],
        },
        {
            "question": 1,
            "since": {"sdk": "rtm-android", "version": "2.5.0"},
            "symbols": ["sendMessage"],
        },
    ]


def test_verifying_clears_the_marks_and_is_audited(
    course, sdk, owner, django_capture_on_commit_callbacks
):
    publish(
        sdk, "2.5.0", "### Removed\n- Remove `sendMessage()`\n", django_capture_on_commit_callbacks
    )

    assert course_verify(course=course, actor=Actor(user=owner)) == 2

    course.refresh_from_db()
    assert marks(course) == []
    assert course.verified_at is not None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.COURSE_VERIFIED)
    assert (event.course, event.actor, event.details["stale_marks_cleared"]) == (course, owner, 2)


def test_only_the_owner_or_a_manager_verifies(course):
    stranger, maya = UserFactory(username="sam"), UserFactory(username="maya")
    manager_grant(user=maya, actor=SYSTEM)

    with pytest.raises(NotFound):
        course_verify(course=course, actor=Actor(user=stranger))
    assert course_verify(course=course, actor=Actor(user=maya)) == 0


def test_a_draft_is_not_verified(course, owner):
    Course.objects.filter(pk=course.pk).update(status=Course.Status.DRAFT)
    course.refresh_from_db()

    with pytest.raises(NotFound):
        course_verify(course=course, actor=Actor(user=owner))


@pytest.mark.parametrize(
    ("symbol", "text", "found"),
    [
        ("RtmClient.sendMessage", "client.sendMessage(m)", True),
        ("RtmClient.sendMessage", "sendMessages are batched", False),
        ("login", "Call `login()` first", True),
        ("login", "Call client.login (token)", True),
        ("login", "Log in to the console; login takes a second", False),
        ("ChannelState.typing", "read `state.typing`", True),
    ],
)
def test_what_counts_as_naming_a_symbol(symbol, text, found):
    pattern = symbol_pattern([symbol])
    assert pattern is not None
    assert bool(pattern.search(text)) is found


def test_the_content_review_page_lists_and_verifies(
    client, course, sdk, lead, team, django_capture_on_commit_callbacks
):
    Course.objects.filter(pk=course.pk).update(owner=lead)
    publish(
        sdk, "2.5.0", "### Removed\n- Remove `sendMessage()`\n", django_capture_on_commit_callbacks
    )
    client.force_login(lead)

    page = client.get("/lead/content/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Needs review since rtm-android 2.5.0" in html
    assert "Lesson 1: Sending" in html and "<code>sendMessage</code>" in html

    response = client.post(f"/lead/content/{course.slug}/verify/")

    assert response.status_code == 302
    assert not StaleMark.objects.exists()
    assert "Nothing to review" in client.get("/lead/content/").content.decode()


def test_a_lead_who_does_not_own_the_course_cannot_verify_it(client, course, lead, team):
    client.force_login(lead)

    assert client.post(f"/lead/content/{course.slug}/verify/").status_code == 404
    assert "rtm-android-2-4" not in client.get("/lead/content/").content.decode()


def test_engineers_see_the_notice_on_a_stale_lesson(
    client, course, sdk, engineer, django_capture_on_commit_callbacks
):
    assignment = AssignmentFactory(engineer=engineer, course=course)
    publish(
        sdk, "2.5.0", "### Removed\n- Remove `sendMessage()`\n", django_capture_on_commit_callbacks
    )
    client.force_login(engineer.user)

    stale = client.get(f"/assignments/{assignment.pk}/lessons/1/").content.decode()
    fine = client.get(f"/assignments/{assignment.pk}/lessons/2/").content.decode()
    overview = client.get(f"/assignments/{assignment.pk}/").content.decode()

    assert "This lesson may be out of date: rtm-android 2.5.0" in stale
    assert "out of date" not in fine
    assert "Needs review since rtm-android 2.5.0" in overview


@pytest.fixture
def playbook(sdk, owner):
    from courses.services.playbooks import playbook_put

    document = {
        "title": "Messages lost after reconnect",
        "body": "Resend with `client.sendMessage(msg)` once the state is CONNECTED.",
        "sdks": [sdk.slug],
        "scenarios": ["social-chat"],
        "owner": owner.username,
    }
    return playbook_put(slug="lost-after-reconnect", document=document, actor=SYSTEM)[0]


def playbook_marks(playbook):
    return [
        (mark.release.version, mark.symbols)
        for mark in PlaybookStaleMark.objects.filter(playbook=playbook).select_related("release")
    ]


def test_a_release_removing_a_symbol_marks_the_playbooks_naming_it_and_tells_their_owner(
    playbook, sdk, django_capture_on_commit_callbacks
):
    from courses.services.playbooks import playbook_put

    elsewhere = SdkFactory(slug="rtc-web")
    other = playbook_put(
        slug="web-send",
        document={"title": "Web", "body": "Use `sendMessage()`.", "sdks": [elsewhere.slug]},
        actor=SYSTEM,
    )[0]

    publish(
        sdk,
        "2.5.0",
        "### Removed\n- Remove `RtmClient.sendMessage()`\n",
        django_capture_on_commit_callbacks,
    )

    assert playbook_marks(playbook) == [("2.5.0", ["RtmClient.sendMessage"])]
    assert playbook_marks(other) == []  # another SDK's playbook names another API
    told = [m for m in mail.outbox if "stale" in m.subject]
    assert [m.to for m in told] == [["olga@example.com"]]
    assert "lost-after-reconnect" in told[0].body
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.CONTENT_STALE)
    assert event.details["playbooks"] == ["lost-after-reconnect"]


def test_a_release_that_only_fixes_it_marks_no_playbook(
    playbook, sdk, django_capture_on_commit_callbacks
):
    publish(
        sdk,
        "2.4.1",
        "### Fixed\n- Fix `sendMessage()` crashing offline\n",
        django_capture_on_commit_callbacks,
    )

    assert playbook_marks(playbook) == []


def test_verifying_a_playbook_clears_its_marks_and_is_audited(
    playbook, sdk, owner, django_capture_on_commit_callbacks
):
    publish(
        sdk, "2.5.0", "### Removed\n- Remove `sendMessage()`\n", django_capture_on_commit_callbacks
    )
    stranger = UserFactory(username="sam")

    with pytest.raises(NotFound):
        playbook_verify(playbook=playbook, actor=Actor(user=stranger))
    assert playbook_verify(playbook=playbook, actor=Actor(user=owner)) == 1

    playbook.refresh_from_db()
    assert playbook_marks(playbook) == []
    assert playbook.verified_at is not None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAYBOOK_VERIFIED)
    assert (event.actor, event.details) == (
        owner,
        {"playbook": "lost-after-reconnect", "by": "olga", "stale_marks_cleared": 1},
    )


def test_the_playbook_page_says_since_when_and_its_owner_verifies_it_there(
    client, playbook, sdk, owner, engineer, django_capture_on_commit_callbacks
):
    publish(
        sdk, "2.5.0", "### Removed\n- Remove `sendMessage()`\n", django_capture_on_commit_callbacks
    )
    client.force_login(engineer.user)
    html = client.get("/playbooks/lost-after-reconnect/").content.decode()
    assert "Needs review since rtm-android 2.5.0" in html
    assert "Verify: still true" not in html  # a reader, not its owner
    assert client.post("/playbooks/lost-after-reconnect/verify/").status_code == 404

    client.force_login(owner)
    response = client.post("/playbooks/lost-after-reconnect/verify/")

    assert response.status_code == 302
    assert response["Location"] == "/playbooks/lost-after-reconnect/"
    html = client.get("/playbooks/lost-after-reconnect/").content.decode()
    assert "Needs review since" not in html
    assert "is verified; 1 stale marks cleared" in html


def test_the_content_review_page_lists_stale_and_overdue_playbooks(
    client, playbook, sdk, lead, team, django_capture_on_commit_callbacks
):
    from courses.models import Playbook

    Playbook.objects.filter(pk=playbook.pk).update(owner=lead)
    overdue = Playbook.objects.create(
        slug="old-news",
        title="Old news",
        body="Nothing named.",
        owner=lead,
        created_at=timezone.now() - timezone.timedelta(days=200),
    )
    fresh = Playbook.objects.create(slug="fresh", title="Fresh", body="New.", owner=lead)
    publish(
        sdk, "2.5.0", "### Removed\n- Remove `sendMessage()`\n", django_capture_on_commit_callbacks
    )
    client.force_login(lead)

    html = client.get("/lead/content/").content.decode()

    assert "Messages lost after reconnect" in html and "Old news" in html
    assert fresh.title not in html
    assert html.index("Messages lost after reconnect") < html.index("Old news")  # stale first
    response = client.post(f"/playbooks/{overdue.slug}/verify/", {"next": "content-review"})
    assert response["Location"] == "/lead/content/"
    after = client.get("/lead/content/").content.decode()
    assert "Old news is verified" in after
    assert 'id="review-playbook-old-news"' not in after
    assert 'id="review-playbook-lost-after-reconnect"' in after


def test_the_playbook_api_says_what_is_stale(
    playbook, sdk, token_client, django_capture_on_commit_callbacks
):
    publish(
        sdk, "2.5.0", "### Removed\n- Remove `sendMessage()`\n", django_capture_on_commit_callbacks
    )

    body = token_client("catalog").get("/api/v1/playbooks/lost-after-reconnect/").json()

    assert body["stale"] == [{"sdk": "rtm-android", "version": "2.5.0", "symbols": ["sendMessage"]}]
    assert body["verify_by"]

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from courses.models import Course, PlaybookStaleMark, Release, StaleMark
from courses.selectors.playbooks import PlaybookSearch, playbook_search
from training import demo_content
from training.models import (
    Assignment,
    Attempt,
    Engineer,
    LessonProgress,
    SkillRecord,
    SupportManager,
    Team,
)
from training.selectors.access import gradable_attempts
from training.selectors.attempt_limits import with_attempt_figures

User = get_user_model()


def run_demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in ("auth", "courses", "training")
    }


@pytest.mark.django_db
def test_running_the_demo_twice_creates_nothing_the_second_time():
    first = run_demo()
    counts = row_counts()
    assignments = set(Assignment.objects.values_list("id", "status", "due_at", "completed_at"))
    questions = set(Course.objects.values_list("quiz__questions__id", flat=True))

    second = run_demo()

    assert row_counts() == counts
    assert set(Assignment.objects.values_list("id", "status", "due_at", "completed_at")) == (
        assignments
    )
    # Courses are not re-put when already the same document (that would renumber questions).
    assert set(Course.objects.values_list("quiz__questions__id", flat=True)) == questions
    assert "Demo data loaded." in first
    assert "nothing changed" in second


@pytest.mark.django_db
def test_the_demo_loads_three_sdks_three_teams_a_dozen_engineers_and_three_releases():
    run_demo()
    assert Team.objects.count() == 3
    assert Engineer.objects.count() == len(demo_content.ENGINEERS) >= 12
    assert set(Engineer.objects.values_list("region", flat=True)) == {"APAC", "EMEA", "AMER"}
    assert Engineer.objects.filter(language="zh-hans").exists()
    for team in Team.objects.prefetch_related("sdks", "leads", "onboarding_courses"):
        assert {sdk.slug for sdk in team.sdks.all()} == {"rtm-android", "rtm-ios", "rtm-web"}
        assert team.leads.count() == 1
        assert [c.slug for c in team.onboarding_courses.all()] == ["preflight-onboarding"]
    statuses = {
        f"{sdk} {version}": status
        for sdk, version, status in Release.objects.values_list("sdk__slug", "version", "status")
    }
    assert statuses == {
        "rtm-android 2.4.0": "published",
        "rtm-ios 3.1.0": "published",
        "rtm-web 1.8.0-rc.1": "draft",
        "rtm-web 1.7.2": "published",
        "rtm-android 2.6.0": "published",
        "rtm-android 2.3.1": "available",
    }
    # Every release has its own course, written by hand, but one: 1.7.2 was published
    # before anyone wrote it, and waits on the draft made from its features.
    waiting = Release.objects.get(version="1.7.2").courses.get()
    assert waiting.status == Course.Status.DRAFT and not hasattr(waiting, "quiz")
    # 2.6.0 was recorded with its changelog and published before its course was
    # written: the drafted course teaches each feature but the fix, with checklists.
    announced = Release.objects.get(version="2.6.0")
    assert sorted(announced.features.values_list("kind", "breaking")) == [
        ("added", False),
        ("added", False),
        ("changed", False),
        ("deprecated", False),
        ("fixed", False),
        ("removed", True),
    ]
    drafted = announced.courses.get()
    assert drafted.status == Course.Status.DRAFT
    assert drafted.lessons.count() == 6  # five features to train, and the fixes
    assert "### For the author" in drafted.lessons.order_by("position").first().body
    # What 2.6.0 deprecates is still taught by the 2.4 course: marked for lena.
    stale = StaleMark.objects.get()
    assert (stale.course.slug, stale.course.owner.username) == ("rtm-android-2-4", "lena")
    assert stale.symbols == ["RtmClient.getHistory"]
    recall = next(f for f in announced.features.all() if "RtmClient.recallMessage" in f.symbols)
    assert [skill.slug for skill in recall.skills.all()] == ["message-edit"]
    for release in Release.objects.exclude(version__in=["1.7.2", "2.6.0", "2.3.1"]):
        course = release.courses.get()
        assert course.status == Course.Status.PUBLISHED
        assert 2 <= course.lessons.count() <= 4
        assert 3 <= course.quiz.questions.count() <= 5


@pytest.mark.django_db
def test_engineers_are_assigned_the_published_releases_and_not_the_draft():
    run_demo()
    engineers = Engineer.objects.count()
    for release in Release.objects.filter(status=Release.Status.PUBLISHED):
        assert release.assignments.count() == engineers
    for draft in Release.objects.filter(status=Release.Status.DRAFT):
        assert not draft.assignments.exists()
    onboarding = Assignment.objects.filter(reason=Assignment.Reason.ONBOARDING)
    assert onboarding.count() == engineers


@pytest.mark.django_db
def test_the_demo_shows_some_progress_made_through_the_services():
    run_demo()
    alice_android = Assignment.objects.get(
        engineer__user__username="alice", course__slug="rtm-android-2-4"
    )
    assert alice_android.status == Assignment.Status.COMPLETE
    assert Attempt.objects.filter(engineer=alice_android.engineer, passed=True).exists()
    assert SkillRecord.objects.filter(
        engineer=alice_android.engineer, evidence__isnull=False
    ).exists()
    bob_android = Assignment.objects.get(
        engineer__user__username="bob", course__slug="rtm-android-2-4"
    )
    assert bob_android.status == Assignment.Status.IN_PROGRESS
    assert LessonProgress.objects.filter(engineer=bob_android.engineer).count() == 3
    # bob failed every attempt: the lead release page shows him locked out.
    assert with_attempt_figures(Assignment.objects.filter(pk=bob_android.pk)).get().locked_out
    # The expert's skill records cover every skill of the iOS release: exempt, not assigned.
    yuki_ios = Assignment.objects.get(engineer__user__username="yuki", course__slug="rtm-ios-3-1")
    assert yuki_ios.status == Assignment.Status.EXEMPT


@pytest.mark.django_db
def test_the_output_says_how_to_log_in_as_an_engineer_a_lead_and_the_admin():
    output = run_demo()
    for text in (
        "alice",
        "lena",
        "maya",
        "admin",
        demo_content.DEMO_PASSWORD,
        "http://127.0.0.1:8000/",
    ):
        assert text in output
    for username in ("alice", "lena", "maya", "admin"):
        assert User.objects.get(username=username).check_password(demo_content.DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_superuser
    assert SupportManager.objects.filter(user__username="maya").exists()


@pytest.mark.django_db
def test_the_demo_never_resets_the_password_of_an_existing_user():
    User.objects.create_user("alice", password="alices-own-secret")
    User.objects.create_superuser("admin", password="the-real-admin-password")

    output = run_demo()

    assert User.objects.get(username="alice").check_password("alices-own-secret")
    assert User.objects.get(username="admin").check_password("the-real-admin-password")
    assert "already had a password" in output
    # Users the demo created get the demo password.
    assert User.objects.get(username="bob").check_password(demo_content.DEMO_PASSWORD)


@pytest.mark.django_db
def test_the_demo_shows_a_skill_about_to_expire_and_its_recertification(client):
    run_demo()
    alice = Engineer.objects.get(user__username="alice")
    recertification = Assignment.objects.get(
        engineer=alice, reason=Assignment.Reason.RECERTIFICATION
    )
    assert recertification.course.slug == "token-auth-refresher"
    assert recertification.status == Assignment.Status.ASSIGNED
    assert recertification.mandatory
    client.force_login(alice.user)
    assert "expires in 11 days" in client.get("/skills/").text
    assert "Token authentication refresher" in client.get("/").text


@pytest.mark.django_db
def test_the_output_names_the_address_make_run_really_serves_on():
    out = StringIO()
    call_command("demo", "--url", "http://127.0.0.1:8765", stdout=out, stderr=StringIO())
    assert "Open http://127.0.0.1:8765/ and log in as:" in out.getvalue()
    assert "(http://127.0.0.1:8765/admin/)" in out.getvalue()


@pytest.mark.django_db
def test_the_release_history_shows_a_draft_and_a_release_made_available_over_the_gate(client):
    run_demo()
    client.force_login(get_user_model().objects.get(username="lena"))
    history = client.get("/lead/releases/").text
    assert "rtm-web 1.8.0-rc.1" in history and "rtm-android 2.3.1" in history
    assert "Gate overridden" in history
    draft = client.get("/lead/releases/rtm-web/1.8.0-rc.1/").text
    assert 'id="publishing"' in draft and "Presence with custom states" in draft
    shipped = client.get("/lead/releases/rtm-android/2.3.1/").text
    decision = shipped.split('class="facts gate-decision"')[1].split("</dl>")[0]
    assert "(maya)" in decision and "support briefed on the call" in decision
    # Nobody holds the training of a release already with customers when they joined.
    assert not Release.objects.get(version="2.3.1").assignments.exists()


@pytest.mark.django_db
def test_the_demo_lead_meets_an_essay_in_the_grading_queue():
    run_demo()
    lena = get_user_model().objects.get(username="lena")
    waiting = list(gradable_attempts(lena))
    assert [a.engineer.username for a in waiting] == ["priya"]
    kinds = {q["kind"] for q in waiting[0].snapshot["questions"]}
    assert {"essay", "ordering", "matching", "numeric", "short_answer", "true_false"} <= kinds


@pytest.mark.django_db
def test_the_demo_has_playbooks_to_find_in_english_and_chinese():
    run_demo()
    assert list(playbook_search(PlaybookSearch(q="reconnect")))
    found = list(playbook_search(PlaybookSearch(q="推送")))
    assert found and all(p.language == "zh-hans" for p in found)


@pytest.mark.django_db
def test_the_demo_has_an_item_analysis_and_a_regrade_to_run():
    from core.actors import SYSTEM
    from training.selectors.item_analysis import item_analysis
    from training.services.regrade import question_regrade

    run_demo()
    course = Course.objects.get(slug="rtm-edits-check")
    analysis = item_analysis(quiz=course.quiz)
    assert {item.uid for item in analysis.items} >= {"edit-window", "edit-who"}
    assert analysis.answers == 48
    android = item_analysis(quiz=Course.objects.get(slug="rtm-android-2-4").quiz)
    assert android.topics  # answers on features, per region
    dry = question_regrade(course=course, uid="edit-window", actor=SYSTEM)
    assert dry.flips == {"pass_to_fail": 2, "fail_to_pass": 3}


@pytest.mark.django_db
def test_the_demo_has_a_playbook_for_lena_to_review(client):
    run_demo()
    marked = PlaybookStaleMark.objects.select_related("playbook", "release").get()
    assert (marked.playbook.slug, marked.release.version) == ("android-token-expired", "2.6.0")
    client.force_login(get_user_model().objects.get(username="lena"))
    assert (
        'id="review-playbook-android-token-expired"'
        in client.get("/lead/content/").content.decode()
    )

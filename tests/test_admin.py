from datetime import timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.actors import Actor
from courses.models import (
    Choice,
    Course,
    Feature,
    Lesson,
    PlaybookStaleMark,
    Question,
    Quiz,
    Release,
    Sdk,
    Skill,
    StaleMark,
)
from courses.versions import Version
from courses.webhooks import new_webhook_secret
from tests.factories import (
    AssignmentFactory,
    ChoiceFactory,
    CourseFactory,
    EngineerFactory,
    FeatureFactory,
    LessonFactory,
    QuestionFactory,
    ReleaseFactory,
    SkillFactory,
    SkillRecordFactory,
    TeamFactory,
    UserFactory,
)
from training.models import (
    ApiToken,
    Assignment,
    Attempt,
    AttemptAnswer,
    AuditEvent,
    Engineer,
    LessonProgress,
    Notification,
    ReadinessSnapshot,
    SkillRecord,
    Team,
    WebhookDelivery,
)
from training.models.tokens import hash_token
from training.services.releases import release_mark_available
from training.services.tokens import token_issue

READ_ONLY = {
    Attempt,
    AttemptAnswer,
    LessonProgress,
    AuditEvent,
    Notification,
    ReadinessSnapshot,
    WebhookDelivery,
    StaleMark,
    PlaybookStaleMark,
}
OURS = ("courses", "training")


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def demo(db):
    call_command("demo", stdout=StringIO(), stderr=StringIO())
    token_issue(name="release-pipeline", scopes=["releases"])


def our_models():
    return [model for model in admin.site._registry if model._meta.app_label in OURS]


def test_every_model_of_ours_is_in_the_admin():
    from django.apps import apps

    wanted = {m for app in OURS for m in apps.get_app_config(app).get_models()}
    assert wanted <= set(admin.site._registry)


@pytest.mark.django_db
def test_every_changelist_add_page_and_change_page_loads(staff_client, demo):
    for model in our_models():
        assert staff_client.get(url(model, "changelist")).status_code == 200, model
        add = staff_client.get(url(model, "add"))
        # History is never written from the admin; everything else can be added.
        assert add.status_code == (403 if model in READ_ONLY else 200), model
        obj = model._default_manager.first()
        if obj is not None:
            assert staff_client.get(url(model, "change", obj.pk)).status_code == 200, model


@pytest.mark.django_db
def test_changelist_search_and_filters_work(staff_client, demo):
    release = Release.objects.get(sdk__slug="rtm-android", version="2.4.0")
    response = staff_client.get(
        url(Assignment, "changelist"),
        {"status__exact": "complete", "release__id__exact": release.pk, "q": "alice"},
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    response = staff_client.get(url(Engineer, "changelist"), {"region__exact": "EMEA"})
    assert response.context["cl"].result_count == 3


# --- releases --------------------------------------------------------------------


def release_form(**fields):
    when = timezone.now() + timedelta(days=10)
    data = {
        "customer_available_at_0": when.strftime("%Y-%m-%d"),
        "customer_available_at_1": "09:00:00",
        "notes": "",
        "features-TOTAL_FORMS": "0",
        "features-INITIAL_FORMS": "0",
        "features-MIN_NUM_FORMS": "0",
        "features-MAX_NUM_FORMS": "1000",
    }
    return data | fields


@pytest.mark.django_db
def test_publish_action_publishes_the_release_and_assigns_its_training(
    staff_client, engineer, django_capture_on_commit_callbacks
):
    release = ReleaseFactory(sdk=engineer.team.sdks.get(), version="2.4.0")
    course = CourseFactory(release=release)
    LessonFactory(course=course)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url(Release, "changelist"),
            {"action": "publish_selected", "_selected_action": [release.pk]},
            follow=True,
        )

    assert response.status_code == 200
    release.refresh_from_db()
    assert release.status == Release.Status.PUBLISHED
    assert release.published_at is not None
    assert Assignment.objects.filter(engineer=engineer, course=course).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.RELEASE_PUBLISHED).count() == 1
    assert any("Published 1 release" in str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.django_db
def test_publishing_a_published_release_again_changes_nothing(
    staff_client, engineer, django_capture_on_commit_callbacks
):
    release = ReleaseFactory(sdk=engineer.team.sdks.get(), status=Release.Status.PUBLISHED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        staff_client.post(
            url(Release, "changelist"),
            {"action": "publish_selected", "_selected_action": [release.pk]},
        )
    assert callbacks == []
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_bad_version_in_the_release_form_is_a_form_error(staff_client, sdk):
    response = staff_client.post(url(Release, "add"), release_form(sdk=sdk.pk, version="2.4"))
    assert response.status_code == 200
    assert "not a semantic version" in str(response.context["adminform"].form.errors["version"])
    assert not Release.objects.exists()


@pytest.mark.django_db
def test_a_customer_date_in_year_one_in_the_release_form_is_a_form_error(staff_client, sdk):
    form = release_form(
        sdk=sdk.pk,
        version="2.4.0",
        customer_available_at_0="0001-01-01",
        customer_available_at_1="00:00:00",
    )

    response = staff_client.post(url(Release, "add"), form)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["customer_available_at"]
    assert "due date" in str(errors)
    assert not Release.objects.exists()


@pytest.mark.django_db
def test_a_new_release_gets_its_sort_key_and_loses_a_leading_v(staff_client, sdk):
    response = staff_client.post(url(Release, "add"), release_form(sdk=sdk.pk, version="v2.5.0"))
    assert response.status_code == 302
    release = Release.objects.get()
    assert release.version == "2.5.0"
    assert release.sort_key == Version.parse("2.5.0").sort_key
    assert release.status == Release.Status.DRAFT


@pytest.mark.django_db
def test_a_new_release_and_its_features_are_saved_by_the_release_services(
    staff_client, sdk, monkeypatch
):
    from courses.services import releases as release_services

    calls = []
    real = release_services.release_features_replace
    monkeypatch.setattr(
        release_services,
        "release_features_replace",
        lambda *args, **kwargs: calls.append(args[1]) or real(*args, **kwargs),
    )
    skill = SkillFactory(slug="push")
    data = release_form(sdk=sdk.pk, version="2.6.0")
    data |= {"features-TOTAL_FORMS": "2"}
    for index, (position, key) in enumerate([(2, "second"), (1, "first")]):
        data |= {
            f"features-{index}-position": str(position),
            f"features-{index}-key": key,
            f"features-{index}-title": key.title(),
            f"features-{index}-summary": "",
            f"features-{index}-skills": [str(skill.pk)] if key == "first" else [],
        }
    response = staff_client.post(url(Release, "add"), data)

    assert response.status_code == 302, response.content
    release = Release.objects.get(version="2.6.0")
    assert [(f.key, f.position) for f in release.features.order_by("position")] == [
        ("first", 0),
        ("second", 1),
    ]
    assert [s.slug for s in release.features.get(key="first").skills.all()] == ["push"]
    assert [[f["key"] for f in features] for features in calls][-1] == ["first", "second"]


@pytest.mark.django_db
def test_the_same_version_twice_is_a_form_error(staff_client, sdk):
    ReleaseFactory(sdk=sdk, version="2.5.0")
    response = staff_client.post(url(Release, "add"), release_form(sdk=sdk.pk, version="v2.5.0"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Release.objects.count() == 1


@pytest.mark.django_db
def test_moving_a_published_release_date_moves_its_assignments(staff_client, engineer):
    release = ReleaseFactory(sdk=engineer.team.sdks.get(), status=Release.Status.PUBLISHED)
    assignment = AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(release=release),
        reason=Assignment.Reason.RELEASE,
    )
    new_date = (timezone.now() + timedelta(days=30)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    data = {
        "customer_available_at_0": new_date.strftime("%Y-%m-%d"),
        "customer_available_at_1": "09:00:00",
        "notes": "Slipped a fortnight.",
        "features-TOTAL_FORMS": "0",
        "features-INITIAL_FORMS": "0",
        "features-MIN_NUM_FORMS": "0",
        "features-MAX_NUM_FORMS": "1000",
    }
    response = staff_client.post(url(Release, "change", release.pk), data)
    assert response.status_code == 302
    release.refresh_from_db()
    assignment.refresh_from_db()
    assert release.customer_available_at == new_date
    assert assignment.due_at == release.due_at


@pytest.mark.django_db
def test_the_features_of_a_published_release_are_read_only(staff_client):
    release = ReleaseFactory(status=Release.Status.PUBLISHED)
    feature = FeatureFactory(release=release)
    response = staff_client.get(url(Feature, "change", feature.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    page = staff_client.get(url(Release, "change", release.pk))
    inline = page.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission and not inline.has_change_permission


@pytest.mark.django_db
def test_a_single_choice_question_needs_exactly_one_right_answer(staff_client):
    question = QuestionFactory(kind=Question.Kind.SINGLE)
    data = {
        "quiz": question.quiz.pk,
        "position": question.position,
        "prompt": question.prompt,
        "kind": "single",
        "skill": question.skill.pk,
        "explanation": "",
        "choices-TOTAL_FORMS": "2",
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
        "choices-0-position": "1",
        "choices-0-text": "A",
        "choices-0-correct": "on",
        "choices-1-position": "2",
        "choices-1-text": "B",
        "choices-1-correct": "on",
    }
    response = staff_client.post(url(Question, "change", question.pk), data)
    assert response.status_code == 200
    assert "exactly one correct choice" in str(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    assert not Choice.objects.exists()


@pytest.mark.django_db
def test_an_sdk_webhook_secret_is_never_shown_and_kept_when_left_blank(staff_client, sdk):
    secret = new_webhook_secret()
    sdk.webhook_secret = secret
    sdk.save()
    page = staff_client.get(url(Sdk, "change", sdk.pk)).content.decode()
    assert secret not in page
    data = {"name": "Renamed", "webhook_url": "https://ci.example.com/hook", "webhook_secret": ""}
    assert staff_client.post(url(Sdk, "change", sdk.pk), data).status_code == 302
    sdk.refresh_from_db()
    assert (sdk.name, sdk.webhook_secret) == ("Renamed", secret)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("secret", "error"),
    [
        ("", "needs a signing secret"),
        ("s3cret", "starts with whsec_"),
        ("whsec_c2hvcnQ=", "24 to 64"),
    ],
)
def test_an_sdk_webhook_url_needs_a_standard_webhooks_secret(staff_client, sdk, secret, error):
    data = {
        "name": sdk.name,
        "webhook_url": "https://ci.example.com/hook",
        "webhook_secret": secret,
    }
    response = staff_client.post(url(Sdk, "change", sdk.pk), data)
    assert response.status_code == 200
    assert error in str(response.context["adminform"].form.errors["webhook_secret"])
    sdk.refresh_from_db()
    assert sdk.webhook_url == ""


# --- people ----------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_team_goes_through_the_service(staff_client, sdk, lead):
    onboarding = CourseFactory(slug="onboarding")
    data = {
        "slug": "emea-rtm",
        "name": "EMEA RTM",
        "sdks": [sdk.pk],
        "leads": [lead.pk],
        "onboarding_courses": [onboarding.pk],
    }
    response = staff_client.post(url(Team, "add"), data)
    assert response.status_code == 302
    team = Team.objects.get(slug="emea-rtm")
    assert list(team.sdks.all()) == [sdk]
    assert list(team.leads.all()) == [lead]
    assert list(team.onboarding_courses.all()) == [onboarding]


# The engineer's time off inline, empty.
NO_TIME_OFF = {"time_off-TOTAL_FORMS": "0", "time_off-INITIAL_FORMS": "0"}


@pytest.mark.django_db
def test_an_engineers_shift_and_time_off_are_set_in_the_admin(staff_client, engineer):
    data = {
        "username": engineer.username,
        "email": "alice@example.com",
        "name": "Alice Chen",
        "team": engineer.team.pk,
        "tier": "L1",
        "region": "APAC",
        "timezone": "Asia/Shanghai",
        "language": "en",
        "active": "on",
        "working_days": ["mon", "tue"],
        "shift_starts": "22:00",
        "shift_ends": "06:00",
        "time_off-TOTAL_FORMS": "1",
        "time_off-INITIAL_FORMS": "0",
        "time_off-0-start": "2026-12-20",
        "time_off-0-end": "2026-12-27",
    }
    response = staff_client.post(url(Engineer, "change", engineer.pk), data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        [f.errors for f in response.context["inline_admin_formsets"][0].formset.forms],
        response.context["inline_admin_formsets"][0].formset.non_form_errors(),
    )
    engineer.refresh_from_db()
    assert engineer.shift_days == 3
    assert [(str(t.start), str(t.end)) for t in engineer.time_off.all()] == [
        ("2026-12-20", "2026-12-27")
    ]
    half = {**data, "shift_starts": "", "time_off-TOTAL_FORMS": "0"}
    response = staff_client.post(url(Engineer, "change", engineer.pk), half)
    assert response.status_code == 200  # days without a start: a form error


@pytest.mark.django_db
def test_adding_an_engineer_creates_the_user_and_assigns_the_team_backlog(
    staff_client, team, django_capture_on_commit_callbacks
):
    onboarding = CourseFactory(slug="onboarding")
    team.onboarding_courses.add(onboarding)
    data = {
        "username": "newbie",
        "email": "newbie@example.com",
        "name": "New Bie",
        "team": team.pk,
        "tier": "L1",
        "region": "APAC",
        "timezone": "Asia/Tokyo",
        "language": "en",
        "active": "on",
        **NO_TIME_OFF,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url(Engineer, "add"), data)
    assert response.status_code == 302
    engineer = Engineer.objects.get(user__username="newbie")
    assert engineer.user.get_full_name() == "New Bie"
    assert not engineer.user.has_usable_password()
    assert Assignment.objects.filter(engineer=engineer, course=onboarding).exists()


@pytest.mark.django_db
def test_a_bad_time_zone_for_an_engineer_is_a_form_error(staff_client, team):
    data = {
        "username": "newbie",
        "email": "newbie@example.com",
        "name": "New Bie",
        "team": team.pk,
        "tier": "L1",
        "region": "APAC",
        "timezone": "Mars/Olympus",
        "language": "en",
        **NO_TIME_OFF,
    }
    response = staff_client.post(url(Engineer, "add"), data)
    assert response.status_code == 200
    assert "timezone" in response.context["adminform"].form.errors
    assert not Engineer.objects.filter(user__username="newbie").exists()


@pytest.mark.django_db
def test_editing_a_team_goes_through_the_service(staff_client, team, lead):
    onboarding = CourseFactory(slug="onboarding")
    data = {
        "name": "APAC RTM (renamed)",
        "sdks": [sdk.pk for sdk in team.sdks.all()],
        "leads": [lead.pk],
        "onboarding_courses": [onboarding.pk],
    }
    response = staff_client.post(url(Team, "change", team.pk), data)
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "APAC RTM (renamed)"
    assert list(team.onboarding_courses.all()) == [onboarding]


@pytest.mark.django_db
def test_a_manual_assignment_is_made_and_audited_by_the_service(staff_client, engineer):
    course = CourseFactory()
    due = timezone.now() + timedelta(days=5)
    response = staff_client.post(
        url(Assignment, "add"),
        {
            "engineer": engineer.pk,
            "course": course.pk,
            "due_at_0": due.strftime("%Y-%m-%d"),
            "due_at_1": due.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(engineer=engineer, course=course)
    assert assignment.reason == Assignment.Reason.LEAD
    assert assignment.assigned_by.username == "stella"
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.ASSIGNMENT_MANUAL).exists()


@pytest.mark.django_db
def test_a_manual_assignment_due_in_the_past_is_a_form_error(staff_client, engineer):
    response = staff_client.post(
        url(Assignment, "add"),
        {
            "engineer": engineer.pk,
            "course": CourseFactory().pk,
            "due_at_0": "2020-01-01",
            "due_at_1": "09:00:00",
        },
    )
    assert response.status_code == 200
    assert "due_at" in response.context["adminform"].form.errors
    assert not Assignment.objects.exists()


# --- tokens ------------------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_token_issues_it_and_shows_the_secret_once(staff_client):
    response = staff_client.post(
        url(ApiToken, "add"),
        {"name": "release-pipeline", "scopes": ["releases", "catalog"]},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.scopes == ["catalog", "releases"]
    shown = [str(m) for m in response.context["messages"] if "copy it now" in str(m)]
    assert len(shown) == 1
    raw = next(word for word in shown[0].split() if word.startswith("pf_"))
    assert token.key_hash == hash_token(raw)
    # Shown once: no later page has it, nor the hash.
    for page in (url(ApiToken, "change", token.pk), url(ApiToken, "changelist")):
        html = staff_client.get(page).content.decode()
        assert raw not in html and token.key_hash not in html


@pytest.mark.django_db
def test_the_revoke_action_revokes_tokens(staff_client):
    token, _ = token_issue(name="old", scopes=["releases"])
    response = staff_client.post(
        url(ApiToken, "changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- query counts ------------------------------------------------------------------


def populate(n: int) -> None:
    """n more rows of every listed model, each with its own related objects."""
    for _ in range(n):
        release = ReleaseFactory()
        feature = FeatureFactory(release=release, skills=[SkillFactory()])
        course = CourseFactory(release=release)
        LessonFactory(course=course, feature=feature)
        question = QuestionFactory(quiz=Quiz.objects.create(course=course), feature=feature)
        ChoiceFactory(question=question)
        team = TeamFactory(sdks=[release.sdk], leads=[UserFactory()])
        team.onboarding_courses.add(CourseFactory())
        engineer = EngineerFactory(team=team)
        assignment = AssignmentFactory(engineer=engineer, course=course, assigned_by=UserFactory())
        attempt = Attempt.objects.create(
            engineer=engineer,
            quiz=question.quiz,
            assignment=assignment,
            number=1,
            pass_mark=80,
            snapshot={},
        )
        SkillRecordFactory(engineer=engineer, evidence=attempt)
        LessonProgress.objects.create(engineer=engineer, lesson=course.lessons.get())
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.RELEASE_PUBLISHED, release=release, actor=UserFactory()
        )
        token_issue(name=f"token-{release.pk}", scopes=["releases"])


LISTED = [
    Release,
    Feature,
    Course,
    Lesson,
    Quiz,
    Question,
    Choice,
    Skill,
    Team,
    Engineer,
    SkillRecord,
    Assignment,
    Attempt,
    LessonProgress,
    AuditEvent,
    ApiToken,
]


@pytest.mark.django_db
def test_list_pages_do_not_make_a_query_per_row(staff_client, django_assert_max_num_queries):
    populate(2)
    baseline = {}
    for model in LISTED:
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(url(model, "changelist")).status_code == 200
        baseline[model] = len(queries)

    populate(6)

    for model in LISTED:
        with django_assert_max_num_queries(baseline[model]):
            response = staff_client.get(url(model, "changelist"))
        assert response.context["cl"].result_count >= 8, model


def test_a_gate_override_is_shown_on_the_release_page_with_who_why_and_readiness_then(
    staff_client, engineer, lead
):
    release = ReleaseFactory(
        sdk=engineer.team.sdks.get(), version="2.4.0", status=Release.Status.PUBLISHED
    )
    release_mark_available(
        release=release, actor=Actor(user=lead), override=True, reason="Hotfix for a crash"
    )

    page = staff_client.get(f"/admin/courses/release/{release.pk}/change/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "gate overrides" in body.lower()
    assert "Hotfix for a crash" in body and "lena" in body
    assert "0%" in body and "APAC has no complete engineer" in body

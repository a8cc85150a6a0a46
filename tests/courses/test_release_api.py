"""API v1 releases: record, list, read, reschedule and publish."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.actors import SYSTEM
from core.errors import InvalidInput
from courses.models import Course, Feature, Release
from courses.services import courses as release_services
from courses.services.releases import release_record
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    FeatureFactory,
    ReleaseFactory,
    SdkFactory,
    SkillFactory,
    UserFactory,
)
from training.models import Assignment, AuditEvent, LessonProgress
from training.readiness import release_readiness_fresh
from training.services.progress import lesson_mark_read
from training.services.releases import release_reschedule

pytestmark = pytest.mark.django_db


RELEASES = "/api/v1/releases/"
BODY = {
    "sdk": "rtm-android",
    "version": "2.4.0",
    "customer_available_at": "2030-12-15T09:00:00Z",
    "notes": "Edit and recall.",
    "features": [
        {
            "key": "message-edit",
            "title": "Edit sent messages",
            "summary": "Markdown…",
            "skills": ["message-ordering"],
        },
        {"key": "recall", "title": "Recall messages", "summary": "", "skills": []},
    ],
}


def body(**changes) -> dict:
    data = copy.deepcopy(BODY)
    data.update(changes)
    return data


def url(version: str = "2.4.0", action: str = "", sdk: str = "rtm-android") -> str:
    return f"{RELEASES}{sdk}/{version}/" + (f"{action}/" if action else "")


@pytest.fixture
def skills(db):
    return [SkillFactory(slug="message-ordering"), SkillFactory(slug="reconnection")]


@pytest.fixture
def recorded(pipeline, sdk, skills):
    response = pipeline.post(RELEASES, BODY, format="json")
    assert response.status_code == 201, response.data
    return Release.objects.get()


def test_recording_a_release_answers_201_with_the_draft(pipeline, sdk, skills):
    response = pipeline.post(RELEASES, BODY, format="json")

    assert response.status_code == 201
    assert response.json() == {
        "sdk": "rtm-android",
        "version": "2.4.0",
        "status": "draft",
        "customer_available_at": "2030-12-15T09:00:00Z",
        "published_at": None,
        "available_at": None,
        "notes": "Edit and recall.",
        "features": [
            {**feature, "kind": "", "breaking": False, "symbols": [], "module": "", "train": True}
            for feature in BODY["features"]
        ],
        "courses": [],
    }
    release = Release.objects.get()
    assert release.sort_key == release.parsed_version.sort_key


def test_recording_the_same_release_again_answers_200_with_the_stored_one(recorded, pipeline):
    response = pipeline.post(RELEASES, BODY, format="json")

    assert response.status_code == 200
    assert response.json()["version"] == "2.4.0"
    assert Release.objects.count() == 1
    assert Feature.objects.count() == 2


def test_a_leading_v_is_dropped_so_v2_4_0_is_the_same_release(recorded, pipeline):
    response = pipeline.post(RELEASES, body(version="v2.4.0"), format="json")

    assert response.status_code == 200
    assert Release.objects.get().version == "2.4.0"


def test_a_time_with_an_offset_is_stored_and_answered_in_utc(pipeline, sdk, skills):
    response = pipeline.post(
        RELEASES, body(customer_available_at="2030-03-30T09:00:00+02:00"), format="json"
    )

    assert response.json()["customer_available_at"] == "2030-03-30T07:00:00Z"


def test_recording_a_draft_again_updates_it_from_the_new_body(recorded, pipeline):
    kept = Feature.objects.get(key="message-edit")
    new_body = body(
        customer_available_at="2030-12-20T09:00:00Z",
        notes="New notes.",
        features=[
            {
                "key": "message-edit",
                "title": "Edit messages",
                "summary": "Better.",
                "skills": ["reconnection", "message-ordering"],
            },
            {"key": "pinning", "title": "Pin messages", "skills": ["reconnection"]},
        ],
    )

    response = pipeline.post(RELEASES, new_body, format="json")

    assert response.status_code == 200
    data = response.json()
    assert data["customer_available_at"] == "2030-12-20T09:00:00Z"
    assert data["notes"] == "New notes."
    assert [{k: f[k] for k in ("key", "title", "summary", "skills")} for f in data["features"]] == [
        {
            "key": "message-edit",
            "title": "Edit messages",
            "summary": "Better.",
            "skills": ["message-ordering", "reconnection"],
        },
        {"key": "pinning", "title": "Pin messages", "summary": "", "skills": ["reconnection"]},
    ]
    # Replaced by key: the kept feature is the same row, so lessons still point at it.
    assert Feature.objects.get(key="message-edit").pk == kept.pk
    assert not Feature.objects.filter(key="recall").exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f[0].update(title="Another title"),
        lambda f: f[0].update(summary="Another summary"),
        lambda f: f[0].update(skills=["reconnection"]),
        lambda f: f.append({"key": "extra", "title": "Extra"}),
        lambda f: f.pop(),
    ],
    ids=["title", "summary", "skills", "added", "removed"],
)
def test_recording_a_published_release_with_different_features_conflicts(
    recorded, pipeline, change
):
    pipeline.post(url(action="publish"))
    features = copy.deepcopy(BODY["features"])
    change(features)

    response = pipeline.post(RELEASES, body(features=features), format="json")

    assert response.status_code == 409
    assert "features" in response.json()["detail"]
    assert Feature.objects.get(key="message-edit").title == "Edit sent messages"


def test_recording_a_published_release_with_the_same_features_changes_nothing(recorded, pipeline):
    pipeline.post(url(action="publish"))
    same = body(notes="Other notes.", features=list(reversed(BODY["features"])))

    response = pipeline.post(RELEASES, same, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "published"
    assert response.json()["notes"] == "Edit and recall."


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"version": "2.4"}, "version", "not a semantic version"),
        ({"version": "latest"}, "version", "not a semantic version"),
        ({"version": None}, "version", "null"),
        ({"sdk": "rtm-nope"}, "sdk", "Unknown SDK: rtm-nope"),
        ({"customer_available_at": None}, "customer_available_at", "null"),
        ({"customer_available_at": "2030-12-15T09:00:00"}, "customer_available_at", "offset"),
        ({"customer_available_at": "2030-12-15"}, "customer_available_at", "offset"),
        ({"customer_available_at": "next week"}, "customer_available_at", "format"),
        ({"customer_available_at": "2030-13-45T09:00:00Z"}, "customer_available_at", ""),
        ({"features": "message-edit"}, "features", "list"),
        ({"features": {"key": "x"}}, "features", "list"),
        (
            {"features": [{"key": "a", "title": "A"}, {"key": "a", "title": "B"}]},
            "features",
            "Duplicate feature key: a",
        ),
        ({"features": [{"key": "Bad key!", "title": "A"}]}, "features", "slug"),
        ({"features": [{"key": "a"}]}, "features", "title"),
        (
            {"features": [{"key": "a", "title": "A", "skills": ["telepathy"]}]},
            "features",
            "Unknown skill: telepathy",
        ),
        ({"features": [{"key": "a", "title": "A", "skills": "push"}]}, "features", "list"),
    ],
)
def test_each_malformed_part_of_the_body_is_a_400_naming_it(
    pipeline, sdk, skills, changes, field, says
):
    response = pipeline.post(RELEASES, body(**changes), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert says in str(errors[field])
    assert not Release.objects.exists()


def test_a_version_with_arabic_indic_digits_is_a_400(pipeline, sdk, skills):
    response = pipeline.post(RELEASES, body(version="1\u0660.0.0"), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["version"]
    assert "not a semantic version" in response.json()["version"][0]
    assert not Release.objects.exists()


def test_a_version_with_arabic_indic_digits_addresses_no_release(pipeline, sdk):
    ReleaseFactory(sdk=sdk, version="10.0.0")

    response = pipeline.get(url("1\u0660.0.0"))

    assert response.status_code == 404


@pytest.mark.parametrize("missing", ["sdk", "version", "customer_available_at", "features"])
def test_a_missing_required_field_is_a_400_naming_it(pipeline, sdk, skills, missing):
    data = body()
    del data[missing]

    response = pipeline.post(RELEASES, data, format="json")

    assert response.status_code == 400
    assert response.json() == {missing: ["This field is required."]}


@pytest.mark.parametrize("raw", ["[]", "not json", '"text"'])
def test_a_body_that_is_not_an_object_is_a_400(pipeline, sdk, raw):
    response = pipeline.post(RELEASES, raw, content_type="application/json")

    assert response.status_code == 400


def test_the_list_filters_by_sdk_and_status_newest_version_first(pipeline, sdk):
    web = SdkFactory(slug="rtm-web")
    for version in ["2.4.0", "2.10.0", "2.4.0-rc.1"]:
        ReleaseFactory(sdk=sdk, version=version)
    ReleaseFactory(sdk=sdk, version="1.0.0", status=Release.Status.AVAILABLE)
    ReleaseFactory(sdk=web, version="9.0.0")

    everything = pipeline.get(RELEASES).json()
    android = pipeline.get(RELEASES, {"sdk": "rtm-android"}).json()
    drafts = pipeline.get(RELEASES, {"sdk": "rtm-android", "status": "draft"}).json()
    available = pipeline.get(RELEASES, {"status": "available"}).json()

    assert everything["count"] == 5
    assert [r["version"] for r in android["results"]] == [
        "2.10.0",
        "2.4.0",
        "2.4.0-rc.1",
        "1.0.0",
    ]
    assert [r["version"] for r in drafts["results"]] == ["2.10.0", "2.4.0", "2.4.0-rc.1"]
    assert [(r["sdk"], r["version"]) for r in available["results"]] == [("rtm-android", "1.0.0")]
    assert pipeline.get(RELEASES, {"sdk": "unknown"}).json()["count"] == 0


def test_an_unknown_status_filter_is_a_400(pipeline):
    response = pipeline.get(RELEASES, {"status": "shipped"})

    assert response.status_code == 400
    assert "status" in response.json()


def test_listing_releases_takes_the_same_number_of_queries_for_many(
    pipeline, sdk, skills, django_assert_max_num_queries
):
    for n in range(15):
        release = ReleaseFactory(sdk=sdk, version=f"3.{n}.0")
        FeatureFactory(release=release, skills=skills)
        FeatureFactory(release=release, skills=skills[:1])
        CourseFactory(release=release)

    # auth (token, last-used) + count + page + features + skills + courses
    with django_assert_max_num_queries(8):
        response = pipeline.get(RELEASES)

    assert response.json()["count"] == 15
    assert response.json()["results"][0]["features"][0]["skills"]


@pytest.mark.parametrize("version", ["2.4.0-rc.1", "2.4.0+build.5", "v2.4.0-rc.1"])
def test_the_detail_is_addressed_by_sdk_and_any_semantic_version(pipeline, sdk, version):
    stored = version.removeprefix("v")
    ReleaseFactory(sdk=sdk, version=stored)

    response = pipeline.get(url(version))

    assert response.status_code == 200
    assert response.json()["version"] == stored


@pytest.mark.parametrize(
    ("sdk_slug", "version"),
    [("rtm-android", "9.9.9"), ("rtm-web", "2.4.0"), ("rtm-android", "not-a-version")],
)
def test_an_unknown_release_is_404(pipeline, recorded, sdk_slug, version):
    for action in ["", "publish", "readiness", "availability"]:
        send = pipeline.get if action in ("", "readiness") else pipeline.post
        response = send(url(version, action, sdk=sdk_slug), {}, format="json")
        assert response.status_code == 404, action
        assert "detail" in response.json()
    assert pipeline.patch(url(version, sdk=sdk_slug), {}, format="json").status_code == 404


def test_patching_the_customer_date_moves_fan_out_due_dates_but_not_a_leads(
    recorded, pipeline, team, engineer, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.post(url(action="publish"))
    course = recorded.courses.get()
    bob = EngineerFactory(user__username="bob", team=team)
    carla = EngineerFactory(user__username="carla", team=team)
    now = timezone.now()
    fan_out = Assignment.objects.get(engineer=engineer)
    by_lead = AssignmentFactory(
        engineer=bob,
        course=course,
        reason=Assignment.Reason.LEAD,
        assigned_by=lead,
        due_at=now + timedelta(days=3),
    )
    done = AssignmentFactory(
        engineer=carla,
        course=course,
        reason=Assignment.Reason.RELEASE,
        status=Assignment.Status.COMPLETE,
        completed_at=now,
        due_at=now + timedelta(days=5),
    )

    response = pipeline.patch(
        url(), {"customer_available_at": "2030-12-01T09:00:00+01:00"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["customer_available_at"] == "2030-12-01T08:00:00Z"
    fan_out.refresh_from_db()
    assert fan_out.due_at == parse_datetime("2030-11-29T08:00:00Z")
    assert Assignment.objects.get(pk=by_lead.pk).due_at == by_lead.due_at
    assert Assignment.objects.get(pk=done.pk).due_at == done.due_at


def test_a_customer_date_moved_earlier_than_the_lead_time_makes_training_due_now(
    recorded, pipeline, engineer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.post(url(action="publish"))
    assignment = Assignment.objects.get(engineer=engineer)
    soon = timezone.now() + timedelta(hours=1)

    response = pipeline.patch(url(), {"customer_available_at": soon.isoformat()}, format="json")

    assert response.status_code == 200
    assignment.refresh_from_db()
    assert assignment.due_at == assignment.assigned_at


@pytest.mark.parametrize(
    "when",
    [
        "0001-01-01T00:00:00Z",
        "0001-01-02T23:00:00Z",
        "0005-06-01T00:00:00Z",
        "0999-12-31T09:00:00Z",
    ],
)
def test_customer_date_in_year_one_is_a_400(pipeline, sdk, skills, when):
    # The due date (customer date less the lead time) would underflow, or need a
    # year of fewer than four digits.
    response = pipeline.post(RELEASES, body(customer_available_at=when), format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["customer_available_at"]
    assert "due date" in response.json()["customer_available_at"][0]
    assert not Release.objects.exists()


def test_patching_a_customer_date_in_year_one_is_a_400_and_changes_nothing(recorded, pipeline):
    response = pipeline.patch(
        url(), {"customer_available_at": "0001-01-01T00:00:00Z"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["customer_available_at"]
    recorded.refresh_from_db()
    assert recorded.customer_available_at == parse_datetime(BODY["customer_available_at"])


def test_a_customer_date_in_year_1000_is_recorded_and_answered_with_four_digits(
    pipeline, sdk, skills
):
    when = "1000-01-03T00:00:00Z"  # due 1000-01-01, the earliest due date there is

    response = pipeline.post(RELEASES, body(customer_available_at=when), format="json")

    assert response.status_code == 201
    assert response.json()["customer_available_at"] == when
    readiness = pipeline.get(url(action="readiness"))
    assert readiness.json()["due_at"] == "1000-01-01T00:00:00Z"


def test_the_release_services_refuse_a_customer_date_with_no_due_date(sdk, recorded):
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput) as record:
        release_record(
            sdk=sdk,
            version="3.0.0",
            customer_available_at=year_one,
            notes="",
            features=[],
            actor=SYSTEM,
        )
    with pytest.raises(InvalidInput) as reschedule:
        release_reschedule(release=recorded, customer_available_at=year_one, actor=SYSTEM)

    assert list(record.value.detail) == list(reschedule.value.detail) == ["customer_available_at"]


def test_patching_features_is_allowed_on_a_draft(recorded, pipeline):
    features = [{"key": "pinning", "title": "Pin messages", "skills": ["reconnection"]}]

    response = pipeline.patch(url(), {"features": features}, format="json")

    assert response.status_code == 200
    assert [f["key"] for f in response.json()["features"]] == ["pinning"]


def test_patching_features_of_a_published_release_conflicts(recorded, pipeline):
    pipeline.post(url(action="publish"))

    response = pipeline.patch(
        url(), {"features": [{"key": "pinning", "title": "Pin"}]}, format="json"
    )

    assert response.status_code == 409
    assert Feature.objects.filter(release=recorded).count() == 2


def test_patching_an_available_release_conflicts(pipeline, sdk):
    ReleaseFactory(sdk=sdk, version="2.4.0", status=Release.Status.AVAILABLE)

    response = pipeline.patch(
        url(), {"customer_available_at": "2030-12-20T09:00:00Z"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["status"] == "available"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"customer_available_at": "2030-12-20T09:00:00"}, "customer_available_at"),
        ({"features": "x"}, "features"),
        ({"features": [{"key": "a", "title": "A", "skills": ["nope"]}]}, "features"),
    ],
)
def test_a_malformed_patch_is_a_400_naming_the_field(recorded, pipeline, data, field):
    response = pipeline.patch(url(), data, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_publishing_answers_202_then_200_and_assigns_once(
    recorded, pipeline, engineer, outsider, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = pipeline.post(url(action="publish"))
    with django_capture_on_commit_callbacks(execute=True) as again:
        second = pipeline.post(url(action="publish"))

    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["status"] == "published"
    assert first.json()["published_at"].endswith("Z")
    assert second.json() == first.json()
    # The fan-out, the stale-content check, and (a draft course was made) the
    # authors' mail; nothing again.
    assert (len(callbacks), len(again)) == (3, 0)
    assignment = Assignment.objects.get()
    assert (assignment.engineer, assignment.release) == (engineer, recorded)
    events = AuditEvent.objects.filter(kind=AuditEvent.Kind.RELEASE_PUBLISHED, release=recorded)
    assert events.count() == 1


def test_publishing_a_release_without_a_course_makes_a_draft_course_from_its_features(
    recorded, pipeline, engineer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = pipeline.post(url(action="publish"))

    assert response.json()["courses"] == ["rtm-android-2-4-0"]
    course = Course.objects.get(slug="rtm-android-2-4-0")
    assert (course.status, course.release) == (Course.Status.DRAFT, recorded)
    lessons = list(course.lessons.order_by("position"))
    assert [lesson.title for lesson in lessons] == ["Edit sent messages", "Recall messages"]
    assert lessons[0].feature.key == "message-edit"
    assert "Markdown…" in lessons[0].body
    assert "message-ordering" in lessons[0].body
    assert Assignment.objects.get(engineer=engineer).course == course


def test_publishing_the_draft_course_keeps_the_assignments_and_the_lessons_read(
    recorded, pipeline, engineer, token_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.post(url(action="publish"))
    assignment = Assignment.objects.get(engineer=engineer)
    draft = assignment.course
    first = draft.lessons.get(position=1)
    lesson_mark_read(assignment=assignment, lesson=first)
    assert release_readiness_fresh(recorded)["reasons"][0]["code"] == "course_draft"

    document = {
        "title": "RTM Android 2.4 — what's new",
        "status": "published",
        "release": {"sdk": "rtm-android", "version": "2.4.0"},
        "lessons": [
            {
                "title": "Edit sent messages",
                "body": "Edits keep their place.",
                "feature": "message-edit",
            },
            {
                "title": "Recall messages",
                "body": "Within two minutes.",
                "feature": "recall",
            },
        ],
        "quiz": {
            "questions": [
                {
                    "prompt": "Who may edit?",
                    "kind": "single",
                    "skill": "message-ordering",
                    "choices": [{"text": "The sender", "correct": True}, {"text": "Anyone"}],
                }
            ]
        },
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client("catalog").put(
            f"/api/v1/courses/{draft.slug}/", document, format="json"
        )

    assert response.status_code == 200, response.content
    assert Assignment.objects.get(engineer=engineer).pk == assignment.pk
    assert LessonProgress.objects.filter(engineer=engineer, lesson=first).exists()
    assert all(
        reason["code"] != "course_draft" for reason in release_readiness_fresh(recorded)["reasons"]
    )


def test_the_draft_course_slug_does_not_take_one_already_used(recorded, pipeline):
    CourseFactory(slug="rtm-android-2-4-0")

    response = pipeline.post(url(action="publish"))

    assert response.json()["courses"] == ["rtm-android-2-4-0-2"]


def test_versions_differing_only_in_punctuation_get_distinct_draft_course_slugs(pipeline, sdk):
    for version in ("4.0.0-rc.1", "4.0.0-rc-1"):
        ReleaseFactory(sdk=sdk, version=version)

    first = pipeline.post(url("4.0.0-rc.1", action="publish"))
    second = pipeline.post(url("4.0.0-rc-1", action="publish"))

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["courses"] == ["rtm-android-4-0-0-rc-1"]
    assert second.json()["courses"] == ["rtm-android-4-0-0-rc-1-2"]


def test_a_draft_course_slug_taken_between_its_read_and_insert_is_chosen_again(
    recorded, pipeline, monkeypatch
):
    """What a concurrent publish of a colliding version does (see test_concurrency):
    it takes the slug after ours was read as free and before our insert."""
    chosen = []

    def racing(release):
        slug = real(release)
        if not chosen:
            CourseFactory(slug=slug)
        chosen.append(slug)
        return slug

    real = release_services._course_slug
    monkeypatch.setattr(release_services, "_course_slug", racing)

    response = pipeline.post(url(action="publish"))

    assert response.status_code == 202
    assert chosen == ["rtm-android-2-4-0", "rtm-android-2-4-0-2"]
    assert response.json()["courses"] == ["rtm-android-2-4-0-2"]


def test_publishing_a_release_with_a_course_makes_no_other(recorded, pipeline):
    CourseFactory(slug="rtm-android-24-whats-new", release=recorded)

    response = pipeline.post(url(action="publish"))

    assert response.json()["courses"] == ["rtm-android-24-whats-new"]
    assert Course.objects.count() == 1


@pytest.mark.parametrize("state", [Release.Status.AVAILABLE, Release.Status.WITHDRAWN])
def test_publishing_an_available_or_withdrawn_release_conflicts(pipeline, sdk, state):
    ReleaseFactory(sdk=sdk, version="2.4.0", status=state)

    response = pipeline.post(url(action="publish"))

    assert response.status_code == 409
    assert response.json()["status"] == state


ENDPOINTS = [
    ("get", RELEASES),
    ("post", RELEASES),
    ("get", url()),
    ("patch", url()),
    ("post", url(action="publish")),
    ("get", url(action="readiness")),
    ("post", url(action="availability")),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_wants_a_token(anon, recorded, method, path):
    response = getattr(anon, method)(path, {}, format="json")

    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_wants_the_releases_scope(token_client, recorded, method, path):
    client = token_client("catalog", "people", "assignments")

    response = getattr(client, method)(path, {}, format="json")

    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if e[0] != "get"])
def test_a_person_who_is_not_staff_cannot_write(client, recorded, method, path):
    client.force_login(UserFactory(username="nosy"))

    response = getattr(client, method)(path, {}, content_type="application/json")

    assert response.status_code == 403


def test_a_bad_token_is_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer pf_nonsense")

    assert anon.get(RELEASES).status_code == 401


def test_the_override_scope_may_read_releases(token_client, recorded):
    client = token_client("releases:override")

    assert client.get(url()).status_code == 200
    assert client.get(url(action="readiness")).status_code == 200


CHANGELOG = """\
## [2.4.0] - 2030-12-15
### Added
- Add `RtmClient.recall(messageId)` to recall a message.
### Fixed
- Fix reconnection after a network change.
### Removed
- BREAKING: remove `RtmClient.sendMessage()`; use `RtmClient.publish()`.
## [2.3.0] - 2030-10-01
### Added
- Add presence.
"""


def test_a_changelog_lists_the_release_s_features_after_the_given_ones(pipeline, sdk, skills):
    sdk.skill_rules = {"reconnection": ["reconnect"], "message-ordering": ["recall", "nothing"]}
    sdk.save()

    response = pipeline.post(RELEASES, body(changelog=CHANGELOG), format="json")

    assert response.status_code == 201, response.data
    features = response.json()["features"]
    assert [f["key"] for f in features] == [
        *(f["key"] for f in BODY["features"]),
        "add-rtmclient-recall-messageid-to-recall-a-message",
        "fix-reconnection-after-a-network-change",
        "remove-rtmclient-sendmessage-use-rtmclient-publish",
    ]
    added, fixed, removed = features[-3:]
    assert (added["kind"], added["skills"], added["symbols"], added["train"]) == (
        "added",
        ["message-ordering"],
        ["RtmClient.recall"],
        True,
    )
    assert (fixed["kind"], fixed["skills"], fixed["train"]) == ("fixed", ["reconnection"], False)
    assert (removed["kind"], removed["breaking"], removed["symbols"]) == (
        "removed",
        True,
        ["RtmClient.sendMessage", "RtmClient.publish"],
    )


@pytest.mark.parametrize(
    ("changelog", "message"),
    [
        ("## 9.9.9\n- Add x\n", "no section for version 2.4.0"),
        ("- Add x\u0000\n", "Null characters are not allowed."),
        (["- Add x"], "Not a valid string."),
    ],
)
def test_a_changelog_that_cannot_be_read_is_a_400_naming_it(
    pipeline, sdk, skills, changelog, message
):
    response = pipeline.post(RELEASES, body(changelog=changelog), format="json")

    assert response.status_code == 400
    assert message in str(response.json()["changelog"])
    assert not Release.objects.exists()


def test_publishing_a_changelog_release_drafts_a_lesson_per_feature_to_train(pipeline, sdk, skills):
    response = pipeline.post(RELEASES, body(features=[], changelog=CHANGELOG), format="json")
    assert response.status_code == 201, response.data

    assert pipeline.post(url(action="publish")).status_code == 202

    course = Release.objects.get().courses.get()
    assert course.status == Course.Status.DRAFT
    lessons = list(course.lessons.order_by("position"))
    assert [lesson.title for lesson in lessons] == [
        "Add RtmClient.recall(messageId) to recall a message.",
        "Remove RtmClient.sendMessage(); use RtmClient.publish().",
        "Also fixed in this release",
    ]
    removed = lessons[1].body
    assert "**Change:** removed (breaking)" in removed
    assert "**API:** `RtmClient.sendMessage`, `RtmClient.publish`" in removed
    assert "- [ ] Give the migration steps for apps on the previous version" in removed
    assert "still calls `RtmClient.sendMessage`: what happens" in removed
    assert lessons[2].body == "- Fix reconnection after a network change."
    assert lessons[2].feature is None

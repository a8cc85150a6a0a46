import copy

import pytest

from core.actors import SYSTEM
from core.errors import InvalidInput
from courses.documents import course_to_document, document_validate
from courses.services.courses import course_put
from tests.factories import FeatureFactory, ReleaseFactory, SkillFactory


@pytest.fixture
def release(db, sdk):
    release = ReleaseFactory(sdk=sdk, version="2.4.0")
    skill = SkillFactory(slug="message-ordering", name="Message ordering")
    FeatureFactory(release=release, key="message-edit", title="Edit sent messages", skills=[skill])
    return release


@pytest.fixture
def document(release):
    return {
        "title": "RTM Android 2.4 — what's new",
        "release": {"sdk": "rtm-android", "version": "2.4.0"},
        "lessons": [
            {
                "title": "Editing sent messages",
                "body": "# Edit\n\nMarkdown…",
                "feature": "message-edit",
            }
        ],
        "quiz": {
            "pass_mark": 80,
            "max_attempts": 3,
            "review": "after_pass",
            "questions": [
                {
                    "prompt": "Who can edit a message?",
                    "kind": "single",
                    "skill": "message-ordering",
                    "feature": "message-edit",
                    "explanation": "Only the sender.",
                    "choices": [{"text": "The sender", "correct": True}, {"text": "Anyone"}],
                }
            ],
        },
    }


def errors_of(document) -> dict:
    with pytest.raises(InvalidInput) as caught:
        document_validate(document)
    return caught.value.detail


def test_a_valid_document_resolves_its_release_features_and_skills(document, release):
    data = document_validate(document)
    assert data["release"] == release
    assert data["lessons"][0]["feature"].key == "message-edit"
    question = data["quiz"]["questions"][0]
    assert question["skill"].slug == "message-ordering"
    assert question["choices"][1]["correct"] is False


def test_defaults_are_filled_in(db):
    data = document_validate({"title": "Onboarding", "lessons": [{"title": "Hi", "body": "Hello"}]})
    assert data["release"] is None
    assert (data["language"], data["status"], data["description"]) == ("en", "published", "")
    assert data["quiz"] is None


def test_quiz_defaults_are_a_pass_mark_of_80_and_3_attempts(document):
    del document["quiz"]["pass_mark"], document["quiz"]["max_attempts"]
    quiz = document_validate(document)["quiz"]
    assert (quiz["pass_mark"], quiz["max_attempts"]) == (80, 3)


def test_a_title_is_required(document):
    del document["title"]
    assert "title" in errors_of(document)


def test_a_document_must_be_an_object(db):
    assert "non_field_errors" in errors_of(["not", "a", "course"])


def test_a_course_needs_a_lesson_or_a_quiz(db):
    assert errors_of({"title": "Empty", "lessons": []}) == {
        "lessons": ["A course needs at least one lesson or a quiz."]
    }


def test_a_course_with_only_a_quiz_is_valid(document):
    document["lessons"] = []
    assert document_validate(document)["lessons"] == []


def test_an_unknown_release_version_is_named(document):
    document["release"]["version"] = "9.9.9"
    assert errors_of(document) == {"release": {"version": ["Unknown release rtm-android 9.9.9."]}}


def test_an_unknown_release_sdk_is_named(document):
    document["release"]["sdk"] = "nope"
    assert errors_of(document) == {"release": {"sdk": ["Unknown SDK 'nope'."]}}


def test_a_malformed_version_is_named(document):
    document["release"]["version"] = "2.4"
    assert list(errors_of(document)["release"]) == ["version"]


def test_a_leading_v_in_the_release_version_is_dropped(document, release):
    document["release"]["version"] = "v2.4.0"
    assert document_validate(document)["release"] == release


def test_a_lesson_feature_must_belong_to_the_release(document):
    document["lessons"].append({"title": "Other", "body": "x", "feature": "x"})
    assert errors_of(document) == {
        "lessons": [{}, {"feature": ["Unknown feature 'x' in rtm-android 2.4.0."]}]
    }


def test_a_feature_needs_the_course_to_have_a_release(document):
    document["release"] = None
    document["quiz"]["questions"][0]["feature"] = None
    errors = errors_of(document)
    assert errors["lessons"][0]["feature"] == [
        "Feature 'message-edit' needs the course to have a release."
    ]


def test_an_unknown_skill_is_named(document):
    document["quiz"]["questions"][0]["skill"] = "telepathy"
    assert errors_of(document) == {
        "quiz": {"questions": [{"skill": ["Unknown skill 'telepathy'."]}]}
    }


def test_an_unknown_question_feature_is_named(document):
    document["quiz"]["questions"][0]["feature"] = "nope"
    errors = errors_of(document)
    assert errors["quiz"]["questions"][0]["feature"] == [
        "Unknown feature 'nope' in rtm-android 2.4.0."
    ]


def test_a_single_choice_question_needs_exactly_one_correct_choice(document):
    question = copy.deepcopy(document["quiz"]["questions"][0])
    question["choices"][1]["correct"] = True
    document["quiz"]["questions"].append(question)
    assert errors_of(document) == {
        "quiz": {
            "questions": [
                {},
                {"choices": ["A single-choice question needs exactly one correct choice."]},
            ]
        }
    }


def test_a_multiple_choice_question_needs_a_correct_choice(document):
    question = document["quiz"]["questions"][0]
    question["kind"] = "multiple"
    question["choices"][0]["correct"] = False
    assert errors_of(document) == {
        "quiz": {
            "questions": [
                {"choices": ["A multiple-choice question needs at least one correct choice."]}
            ]
        }
    }


def test_a_multiple_choice_question_may_have_several_correct_choices(document):
    question = document["quiz"]["questions"][0]
    question["kind"] = "multiple"
    question["choices"][1]["correct"] = True
    assert document_validate(document)


def test_a_question_needs_two_choices(document):
    document["quiz"]["questions"][0]["choices"] = [{"text": "Only", "correct": True}]
    assert errors_of(document) == {
        "quiz": {"questions": [{"choices": ["Ensure this field has at least 2 elements."]}]}
    }


def test_a_quiz_needs_questions(document):
    document["quiz"]["questions"] = []
    assert errors_of(document) == {"quiz": {"questions": ["This list may not be empty."]}}


def test_lessons_must_be_a_list(document):
    document["lessons"] = "one lesson"
    assert list(errors_of(document)) == ["lessons"]
    assert isinstance(errors_of(document)["lessons"], list)


@pytest.mark.parametrize(
    ("field", "value"), [("pass_mark", 0), ("pass_mark", 101), ("max_attempts", 0)]
)
def test_quiz_limits_are_checked(document, field, value):
    document["quiz"][field] = value
    assert list(errors_of(document)["quiz"]) == [field]


@pytest.mark.parametrize(
    ("field", "value"), [("kind", "cloze"), ("prompt", ""), ("choices", "A, B")]
)
def test_question_fields_are_checked(document, field, value):
    document["quiz"]["questions"][0][field] = value
    assert field in errors_of(document)["quiz"]["questions"][0]


@pytest.mark.parametrize(("field", "value"), [("language", "fr"), ("status", "archived")])
def test_language_and_status_are_checked(document, field, value):
    document[field] = value
    assert list(errors_of(document)) == [field]


def test_a_lesson_needs_a_body(document):
    document["lessons"][0]["body"] = "   "
    assert errors_of(document) == {"lessons": [{"body": ["This field may not be blank."]}]}


def test_a_document_round_trips_through_a_course(document):
    document["description"] = "What support must know."
    document["language"] = "zh-hans"
    document["status"] = "draft"
    course, _ = course_put(slug="rtm-android-2-4", document=document, actor=SYSTEM)
    exported = course_to_document(course)
    assert exported == {"slug": "rtm-android-2-4", **document}
    again, created = course_put(slug="rtm-android-2-4", document=exported, actor=SYSTEM)
    assert not created
    assert course_to_document(again) == exported


def test_an_onboarding_course_exports_a_null_release_and_no_quiz(db):
    document = {"title": "Welcome", "lessons": [{"title": "Hello", "body": "  indented\n"}]}
    course, _ = course_put(slug="welcome", document=document, actor=SYSTEM)
    assert course_to_document(course) == {
        "slug": "welcome",
        "title": "Welcome",
        "release": None,
        "language": "en",
        "status": "published",
        "lessons": [{"title": "Hello", "body": "  indented\n"}],
    }

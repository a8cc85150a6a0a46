import pytest
from django.utils import timezone

from core.actors import SYSTEM
from core.errors import Conflict, InvalidInput
from courses.models import Choice, Course, Lesson, Question, Quiz
from courses.services.courses import course_put
from tests.factories import FeatureFactory, ReleaseFactory, SkillFactory
from training.models import Assignment, Attempt, LessonProgress
from training.services.courses import course_save

URL = "/api/v1/courses/rtm-android-2-4/"


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
            {"title": "Editing sent messages", "body": "Markdown…", "feature": "message-edit"},
            {"title": "Limits", "body": "Edits within 24 h."},
        ],
        "quiz": {
            "pass_mark": 80,
            "max_attempts": 3,
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


@pytest.fixture
def catalog(token_client):
    return token_client("catalog")


def test_put_creates_the_course_and_answers_201(catalog, document, release):
    response = catalog.put(URL, document, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "rtm-android-2-4"
    assert body["release"] == {"sdk": "rtm-android", "version": "2.4.0"}
    assert [lesson["feature"] for lesson in body["lessons"]] == ["message-edit", None]
    question = body["quiz"]["questions"][0]
    assert question["explanation"] == "Only the sender."
    assert question["choices"] == [
        {"text": "The sender", "correct": True},
        {"text": "Anyone", "correct": False},
    ]
    course = Course.objects.get(slug="rtm-android-2-4")
    assert course.release == release
    assert list(course.lessons.values_list("position", "title")) == [
        (1, "Editing sent messages"),
        (2, "Limits"),
    ]


def test_put_again_replaces_the_course_and_answers_200(catalog, document):
    catalog.put(URL, document, format="json")
    document["title"] = "New title"
    response = catalog.put(URL, document, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "New title"
    assert Course.objects.count() == 1


def test_replacing_keeps_the_course_quiz_and_lessons_of_unchanged_positions(document, engineer):
    course, _ = course_put(slug="c", document=document, actor=SYSTEM)
    quiz_id = course.quiz.pk
    first, _second = course.lessons.all()
    LessonProgress.objects.create(engineer=engineer, lesson=first)
    before = course.updated_at

    document["lessons"] = [{"title": "Editing, rewritten", "body": "New body"}]
    replaced, created = course_put(slug="c", document=document, actor=SYSTEM)

    assert not created and replaced.pk == course.pk
    assert Quiz.objects.get(course=course).pk == quiz_id
    assert list(Lesson.objects.filter(course=course).values_list("pk", "title", "feature")) == [
        (first.pk, "Editing, rewritten", None)
    ]
    assert LessonProgress.objects.filter(engineer=engineer, lesson=first).exists()
    assert replaced.updated_at > before


def test_replacing_questions_replaces_their_choices(document):
    course, _ = course_put(slug="c", document=document, actor=SYSTEM)
    document["quiz"]["questions"][0]["choices"].append({"text": "Nobody"})
    course_put(slug="c", document=document, actor=SYSTEM)
    assert Question.objects.filter(quiz__course=course).count() == 1
    assert Choice.objects.filter(question__quiz__course=course).count() == 3


def test_replacing_a_course_never_changes_a_past_attempts_score(document, engineer):
    course, _ = course_put(slug="c", document=document, actor=SYSTEM)
    snapshot = {
        "questions": [
            {
                "prompt": "Who can edit a message?",
                "choices": ["The sender", "Anyone"],
                "correct": [0],
            }
        ]
    }
    attempt = Attempt.objects.create(
        engineer=engineer,
        quiz=course.quiz,
        number=1,
        pass_mark=80,
        snapshot=snapshot,
        answers={"0": [0]},
        submitted_at=timezone.now(),
        score=100,
        passed=True,
    )

    document["quiz"]["pass_mark"] = 100
    document["quiz"]["questions"][0]["choices"] = [
        {"text": "The sender"},
        {"text": "Anyone", "correct": True},
    ]
    course_put(slug="c", document=document, actor=SYSTEM)

    attempt.refresh_from_db()
    assert (attempt.score, attempt.passed, attempt.pass_mark) == (100, True, 80)
    assert attempt.snapshot == snapshot
    assert attempt.quiz_id == course.quiz.pk


def test_dropping_the_quiz_of_a_course_with_attempts_is_refused(document, engineer):
    course, _ = course_put(slug="c", document=document, actor=SYSTEM)
    Attempt.objects.create(engineer=engineer, quiz=course.quiz, number=1, pass_mark=80, snapshot={})
    del document["quiz"]
    with pytest.raises(Conflict):
        course_put(slug="c", document=document, actor=SYSTEM)
    assert Quiz.objects.filter(course=course).exists()


def test_dropping_the_quiz_of_a_course_without_attempts_deletes_it(document):
    course, _ = course_put(slug="c", document=document, actor=SYSTEM)
    del document["quiz"]
    course_put(slug="c", document=document, actor=SYSTEM)
    assert not Quiz.objects.filter(course=course).exists()


def test_put_with_an_unknown_skill_answers_400_naming_it(catalog, document):
    document["quiz"]["questions"][0]["skill"] = "telepathy"
    response = catalog.put(URL, document, format="json")
    assert response.status_code == 400
    assert response.json() == {"quiz": {"questions": [{"skill": ["Unknown skill 'telepathy'."]}]}}
    assert not Course.objects.exists()


def test_put_with_an_unknown_feature_answers_400_naming_it(catalog, document):
    document["lessons"][0]["feature"] = "x"
    response = catalog.put(URL, document, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "lessons": [{"feature": ["Unknown feature 'x' in rtm-android 2.4.0."]}, {}]
    }


def test_put_with_a_slug_other_than_the_urls_answers_400(catalog, document):
    document["slug"] = "something-else"
    response = catalog.put(URL, document, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["slug"]


def test_put_with_a_body_that_is_not_an_object_answers_400(catalog, db):
    response = catalog.put(URL, ["a", "list"], format="json")
    assert response.status_code == 400


def test_put_without_a_token_answers_401(anon, document):
    assert anon.put(URL, document, format="json").status_code == 401


def test_put_without_the_catalog_scope_answers_403(pipeline, document):
    assert pipeline.put(URL, document, format="json").status_code == 403
    assert not Course.objects.exists()


def test_reading_without_the_catalog_scope_shows_no_answer_key(catalog, pipeline, document):
    catalog.put(URL, document, format="json")
    body = pipeline.get(URL).json()
    question = body["quiz"]["questions"][0]
    assert "explanation" not in question
    assert question["choices"] == [{"text": "The sender"}, {"text": "Anyone"}]
    listed = pipeline.get("/api/v1/courses/").json()["results"][0]["quiz"]["questions"][0]
    assert all("correct" not in choice for choice in listed["choices"])


def test_creating_a_course_for_a_published_release_assigns_it(
    document, sdk, engineer, django_capture_on_commit_callbacks
):
    release = ReleaseFactory(sdk=sdk, version="2.5.0", status="published")
    FeatureFactory(release=release, key="message-edit")
    document["release"]["version"] = "2.5.0"
    with django_capture_on_commit_callbacks(execute=True):
        course, created = course_save(slug="c", document=document, actor=SYSTEM)
    assert created
    assignment = Assignment.objects.get(engineer=engineer, course=course)
    assert assignment.release == release


def test_creating_a_course_for_a_draft_release_assigns_nobody(
    document, engineer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        course_put(slug="c", document=document, actor=SYSTEM)
    assert callbacks == []
    assert not Assignment.objects.exists()


def test_an_invalid_document_writes_nothing(document):
    document["quiz"]["questions"][0]["kind"] = "essay"
    with pytest.raises(InvalidInput):
        course_put(slug="c", document=document, actor=SYSTEM)
    assert not Course.objects.exists()

"""A course document's `recertifies`: the skills whose records a pass renews."""

from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from core.actors import SYSTEM
from core.errors import InvalidInput
from courses.documents import course_to_document, document_validate
from courses.models import Course
from courses.services.courses import course_put
from tests.factories import SkillFactory

URL = "/api/v1/courses/push-refresher/"


@pytest.fixture
def skills(db):
    return {slug: SkillFactory(slug=slug, name=slug.title()) for slug in ("push", "reconnection")}


@pytest.fixture
def document(skills):
    return {
        "title": "Push refresher",
        "recertifies": ["reconnection", "push"],
        "lessons": [{"title": "Tokens", "body": "Push tokens rotate."}],
        "quiz": {
            "questions": [
                {
                    "prompt": "When does a push token change?",
                    "skill": "push",
                    "choices": [{"text": "On reinstall", "correct": True}, {"text": "Never"}],
                }
            ]
        },
    }


def test_recertifies_resolves_to_skills_in_the_documents_order(document, skills):
    data = document_validate(document)
    assert data["recertifies"] == [skills["reconnection"], skills["push"]]


def test_recertifies_defaults_to_none(skills):
    data = document_validate({"title": "T", "lessons": [{"title": "L", "body": "B"}]})
    assert data["recertifies"] == []


def test_an_unknown_recertified_skill_is_named(document):
    document["recertifies"] = ["push", "nope", "gone"]
    with pytest.raises(InvalidInput) as caught:
        document_validate(document)
    assert caught.value.detail == {
        "recertifies": ["Unknown skill 'nope'.", "Unknown skill 'gone'."]
    }


def test_put_with_an_unknown_recertified_skill_is_a_400_naming_it(token_client, document):
    document["recertifies"] = ["nope"]
    response = token_client("catalog").put(URL, document, format="json")
    assert response.status_code == 400
    assert response.json() == {"recertifies": ["Unknown skill 'nope'."]}
    assert not Course.objects.exists()


def test_recertifies_is_stored_and_shown_in_the_course_body(token_client, document):
    client = token_client("catalog")
    response = client.put(URL, document, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["recertifies"] == ["push", "reconnection"]
    assert client.get(URL).json()["recertifies"] == ["push", "reconnection"]
    course = Course.objects.get(slug="push-refresher")
    assert sorted(course.recertifies.values_list("slug", flat=True)) == ["push", "reconnection"]


def test_a_put_without_recertifies_clears_it(document):
    course, _ = course_put(slug="push-refresher", document=document, actor=SYSTEM)
    del document["recertifies"]
    course_put(slug="push-refresher", document=document, actor=SYSTEM)
    assert not course.recertifies.exists()


def test_recertifies_survives_the_export_and_import_round_trip(tmp_path, document):
    document["recertifies"] = ["push", "reconnection"]
    course, _ = course_put(slug="push-refresher", document=document, actor=SYSTEM)
    original = course_to_document(course)
    assert original["recertifies"] == ["push", "reconnection"]

    exported = tmp_path / "push-refresher.yaml"
    call_command("export_course", "push-refresher", "-o", str(exported), stdout=StringIO())
    assert yaml.safe_load(exported.read_text(encoding="utf-8")) == original
    Course.objects.all().delete()
    call_command("import_course", str(exported), stdout=StringIO())
    assert course_to_document(Course.objects.get(slug="push-refresher")) == original


def test_a_course_that_recertifies_nothing_exports_without_the_key(document):
    del document["recertifies"]
    course, _ = course_put(slug="push-refresher", document=document, actor=SYSTEM)
    assert "recertifies" not in course_to_document(course)

"""Item analysis (training.selectors.item_analysis), its rows written at grading
(training.models.AttemptAnswer), the page and the CSV."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from core.actors import SYSTEM
from tests.factories import EngineerFactory, UserFactory
from tests.training.regrade_course import RIGHT, SLUG, WRONG, answer, regrade_course
from tests.training.regrade_course import regrade_document as document
from training.models import AttemptAnswer, SupportManager
from training.selectors.item_analysis import item_analysis
from training.services.attempts import attempt_grade_essays
from training.services.courses import course_save
from training.services.regrade import question_regrade

PAGE = reverse("item_analysis", args=[SLUG])
CSV = reverse("item_analysis_csv", args=[SLUG])


@pytest.fixture
def course(sdk):
    return regrade_course(sdk=sdk)


@pytest.fixture
def answered(course, engineer, team):
    """Six engineers: the three in EMEA pick the keyed answer of `edits` and get
    `tf` right; the three in APAC (alice among them) pick the other and get `tf`
    right only once."""
    people = [engineer] + [
        EngineerFactory(
            user=UserFactory(username=f"e{n}"), team=team, region="EMEA" if n < 3 else "APAC"
        )
        for n in range(5)
    ]
    for person in people:
        emea = person.region == "EMEA"
        answer(
            engineer=person,
            course=course,
            choice=WRONG if emea else RIGHT,
            tf="true" if emea or person == engineer else "false",
        )
    return people


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_grading_writes_a_row_per_question_in_one_insert(course, engineer):
    attempt = answer(engineer=engineer, course=course, choice=WRONG)
    rows = {row.uid: row for row in AttemptAnswer.objects.filter(attempt=attempt)}
    assert set(rows) == {"edits", "tf"}
    edits = rows["edits"]
    assert (edits.mark, edits.rest, edits.version, edits.kind) == (1.0, 1.0, 1, "single")
    assert edits.picked == 0b10  # the second choice in the author's order
    assert rows["tf"].picked == 0b01 and edits.seconds is not None


def test_an_essay_attempt_gets_its_rows_when_graded(sdk, engineer, lead):
    course = regrade_course(sdk=sdk, document=document(essay=True))
    attempt = answer(engineer=engineer, course=course, choice=WRONG)
    assert not AttemptAnswer.objects.filter(attempt=attempt).exists()
    essay = next(q for q in attempt.snapshot["questions"] if q["kind"] == "essay")
    attempt_grade_essays(
        attempt=attempt, grades={str(essay["id"]): {"score": 50, "feedback": ""}}, grader=lead
    )
    rows = {row.uid: row for row in AttemptAnswer.objects.filter(attempt=attempt)}
    assert rows["reply"].mark == 0.5 and rows["edits"].rest == 1.5


def test_facility_discrimination_choices_and_topics(answered, course):
    analysis = item_analysis(quiz=course.quiz)
    items = {item.uid: item for item in analysis.items}
    edits, tf = items["edits"], items["tf"]
    assert edits.answers == 6 and edits.facility == pytest.approx(0.5)
    # Those who got `edits` "right" (the wrong key) got `tf` right: positive.
    assert edits.discrimination == pytest.approx(0.7071, abs=1e-3)
    assert [(c.text, c.correct, c.count) for c in edits.choices] == [
        (RIGHT, False, 3),
        (WRONG, True, 3),
        ("At random", False, 0),
    ]
    assert [(c.text, c.count) for c in tf.choices] == [("true", 4), ("false", 2)]
    assert tf.choices[0].correct and tf.facility == pytest.approx(4 / 6)
    assert [(t.region, t.answers) for t in analysis.topics] == [("APAC", 6), ("EMEA", 6)]
    assert analysis.topics[0].facility == pytest.approx(1 / 6)


def test_a_regrade_rewrites_the_rows_and_versions_are_apart(answered, course, engineer):
    course_save(slug=SLUG, document=document(right=RIGHT), actor=SYSTEM)
    question_regrade(course=course, uid="edits", actor=SYSTEM, dry_run=False)
    items = {(i.uid, i.version): i for i in item_analysis(quiz=course.quiz).items}
    old = items[("edits", 1)]
    # Regraded: version 1's attempts now hold the corrected key, and so its label.
    assert not old.current and old.facility == pytest.approx(0.5)
    assert [c.text for c in old.choices if c.correct] == [RIGHT]
    assert AttemptAnswer.objects.filter(uid="edits", mark=1).count() == 3
    assert AttemptAnswer.objects.filter(attempt__engineer=engineer, uid="edits").get().mark == 1


def test_nothing_answered_is_an_empty_analysis(course):
    analysis = item_analysis(quiz=course.quiz)
    assert analysis.items == [] and analysis.topics == [] and analysis.answers == 0


def test_the_page_shows_the_chart_the_table_and_the_topics(answered, staff):
    page = _client(staff).get(PAGE)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="item-chart"' in body and 'data-uid="edits"' in body
    assert 'id="topics"' in body and "style=" not in body.split("<main", 1)[-1]
    assert reverse("question_regrade", args=[SLUG, "edits"]) in body


def test_the_csv_has_a_row_per_question_version(answered, staff):
    response = _client(staff).get(CSV)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["uid"], r["version"], r["answers"]) for r in rows] == [
        ("edits", "1", "6"),
        ("tf", "1", "6"),
    ]
    assert rows[0]["facility"] == "0.5000" and "By server timestamp=3" in rows[0]["choices"]


def test_a_manager_reads_it_without_the_regrade_buttons(answered):
    manager = UserFactory(username="mona")
    SupportManager.objects.create(user=manager)
    page = _client(manager).get(PAGE)
    assert page.status_code == 200
    assert "/regrade/" not in page.content.decode()
    assert _client(manager).get(CSV).status_code == 200


def test_an_engineer_gets_403_and_a_lead_who_owns_no_course_404(answered, engineer, lead):
    assert _client(engineer.user).get(PAGE).status_code == 403
    assert _client(engineer.user).get(CSV).status_code == 403
    assert _client(engineer.user).get(reverse("authoring_home")).status_code == 403
    assert _client(lead).get(reverse("authoring_home")).status_code == 200
    assert _client(lead).get(PAGE).status_code == 404
    assert _client(lead).get(CSV).status_code == 404


def test_another_owners_course_is_404(sdk, engineer):
    UserFactory(username="olga")
    regrade_course(sdk=sdk, document=document(owner="olga"))
    otto = UserFactory(username="otto")
    course_save(slug="otto-course", document=document(owner="otto"), actor=SYSTEM)
    assert _client(otto).get(PAGE).status_code == 404
    assert _client(otto).get(CSV).status_code == 404
    assert _client(otto).get(reverse("item_analysis", args=["otto-course"])).status_code == 200


def test_the_page_reads_a_bounded_number_of_queries(
    course, team, staff, django_assert_max_num_queries
):
    for n in range(15):
        someone = EngineerFactory(user=UserFactory(username=f"q{n}"), team=team)
        answer(engineer=someone, course=course, choice=WRONG if n % 3 else RIGHT)
    course_save(slug=SLUG, document=document(right=RIGHT), actor=SYSTEM)  # a second version
    answer(engineer=EngineerFactory(team=team), course=course, choice=RIGHT)
    client = _client(staff)
    # Session, user, manager?, course; the analysis's six; the menu's roles.
    with django_assert_max_num_queries(11):
        assert client.get(PAGE).status_code == 200


def test_the_migration_backfills_the_rows_grading_writes(answered, course):
    """0024 fills the table from attempts graded before it: the same rows."""
    from importlib import import_module

    from django.apps import apps

    fields = ("attempt_id", "uid", "version", "kind", "feature", "mark", "rest", "picked")
    written = sorted(AttemptAnswer.objects.values_list(*fields))
    AttemptAnswer.objects.all().delete()
    import_module("training.migrations.0024_regrades_item_analysis").backfill(apps, None)
    assert sorted(AttemptAnswer.objects.values_list(*fields)) == written

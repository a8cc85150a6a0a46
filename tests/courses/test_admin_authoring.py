"""Authoring in the admin: Markdown previews, and the course rules shared with the
API and import_course (courses.documents), shown as form errors, never a 500."""

import io
import re
import zipfile

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse

from courses.documents import course_to_document, document_validate
from courses.management.commands.export_course import dump_document
from courses.models import Choice, Course, Lesson, Question, Quiz
from tests.factories import (
    ChoiceFactory,
    CourseFactory,
    FeatureFactory,
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    ReleaseFactory,
    SkillFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = (
    "# Title\n\n**bold** <script>alert('x')</script> "
    "[click](javascript:alert(1)) <img src=x onerror=alert(2)>"
)


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def quiz_course(db):
    """A valid course: one lesson, a quiz with a single- and a multiple-choice question."""
    course = CourseFactory(slug="push-basics", title="Push basics")
    LessonFactory(course=course, position=1, title="Tokens", body="Tokens **expire**.")
    quiz = QuizFactory(course=course)
    skill = SkillFactory(slug="push")
    single = QuestionFactory(quiz=quiz, position=1, kind="single", skill=skill, prompt="Which?")
    ChoiceFactory(question=single, position=1, text="Right", correct=True)
    ChoiceFactory(question=single, position=2, text="Wrong")
    multiple = QuestionFactory(quiz=quiz, position=2, kind="multiple", skill=skill, prompt="All?")
    ChoiceFactory(question=multiple, position=1, text="One", correct=True)
    ChoiceFactory(question=multiple, position=2, text="Two", correct=True)
    document_validate(course_to_document(course))  # the fixture itself is valid
    return course


def question_data(question: Question, **changes) -> dict:
    data = {
        "quiz": question.quiz_id,
        "position": question.position,
        "prompt": question.prompt,
        "kind": question.kind,
        "skill": question.skill_id or "",
        "feature": question.feature_id or "",
        "explanation": question.explanation,
    }
    return {**data, **changes}


def choice_rows(question: Question) -> list[dict]:
    return [
        {
            "id": c.pk,
            "question": question.pk,
            "position": c.position,
            "text": c.text,
            **({"correct": "on"} if c.correct else {}),
        }
        for c in question.choices.order_by("position")
    ]


# --- Previews -----------------------------------------------------------------------


def previews(page: str) -> str:
    """The rendered previews only (the form's textareas hold the raw source)."""
    found = re.findall(r'<div class="markdown-preview">(.*?)</div>', page, flags=re.S)
    assert found, "no Markdown preview on the page"
    return "\n".join(found)


def assert_safe_preview(page: str) -> None:
    html = previews(page)
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "alert('x')" not in html
    assert 'href="javascript:' not in html  # left as plain text, never a link
    assert "onerror" not in html


def test_a_lesson_page_previews_its_markdown_sanitized(staff_client):
    lesson = LessonFactory(body=HOSTILE)
    assert_safe_preview(staff_client.get(url(Lesson, "change", lesson.pk)).content.decode())


def test_the_course_page_previews_each_lesson(staff_client):
    lesson = LessonFactory(body=HOSTILE)
    page = staff_client.get(url(Course, "change", lesson.course_id)).content.decode()
    assert_safe_preview(page)


def test_a_question_page_previews_prompt_and_explanation(staff_client):
    question = QuestionFactory(prompt=HOSTILE, explanation="See `docs` *now*")
    page = staff_client.get(url(Question, "change", question.pk)).content.decode()
    assert_safe_preview(page)
    assert "<code>docs</code>" in previews(page) and "<em>now</em>" in previews(page)


def test_the_quiz_page_previews_prompts_and_shows_choices_in_the_box(staff_client, quiz_course):
    page = staff_client.get(url(Quiz, "change", quiz_course.quiz.pk)).content.decode()
    assert 'class="markdown-preview"' in page
    assert "[x] Right\n[ ] Wrong" in page


# --- Shared rules -------------------------------------------------------------------


def test_two_right_answers_to_a_single_choice_question_is_an_admin_error(staff_client, quiz_course):
    question = quiz_course.quiz.questions.get(position=1)
    rows = choice_rows(question)
    rows[1]["correct"] = "on"
    data = {**question_data(question), **inline("choices", rows, initial=2)}

    response = staff_client.post(url(Question, "change", question.pk), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert "A single-choice question needs exactly one correct choice." in errors
    assert question.choices.filter(correct=True).count() == 1  # nothing saved


def test_a_question_with_one_choice_is_refused_as_import_would(staff_client, quiz_course):
    question = quiz_course.quiz.questions.get(position=1)
    rows = choice_rows(question)
    rows[1]["DELETE"] = "on"
    response = staff_client.post(
        url(Question, "change", question.pk),
        {**question_data(question), **inline("choices", rows, initial=2)},
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert "Ensure this field has at least 2 elements." in errors
    assert question.choices.count() == 2


def test_turning_a_multiple_choice_question_single_is_checked_against_its_choices(
    staff_client, quiz_course
):
    question = quiz_course.quiz.questions.get(position=2)
    response = staff_client.post(
        url(Question, "change", question.pk),
        {**question_data(question, kind="single"), **inline("choices", choice_rows(question), 2)},
    )
    assert response.status_code == 200
    assert "exactly one correct choice" in str(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    question.refresh_from_db()
    assert question.kind == "multiple"


def test_a_valid_question_edit_is_saved(staff_client, quiz_course):
    question = quiz_course.quiz.questions.get(position=1)
    rows = choice_rows(question)
    rows[0].pop("correct")
    rows[1]["correct"] = "on"
    response = staff_client.post(
        url(Question, "change", question.pk),
        {**question_data(question), **inline("choices", rows, initial=2)},
    )
    assert response.status_code == 302
    assert question.choices.get(correct=True).text == "Wrong"


def test_marking_a_second_choice_right_on_its_own_page_is_refused(staff_client, quiz_course):
    choice = Choice.objects.get(text="Wrong")
    response = staff_client.post(
        url(Choice, "change", choice.pk),
        {"question": choice.question_id, "position": 2, "text": "Wrong", "correct": "on"},
    )
    assert response.status_code == 200
    assert "exactly one correct choice" in str(response.context["adminform"].form.errors)
    choice.refresh_from_db()
    assert not choice.correct


def test_a_course_with_neither_lessons_nor_quiz_is_refused(staff_client):
    data = {
        "slug": "empty",
        "title": "Empty",
        "description": "",
        "release": "",
        "status": "published",
        "language": "en",
        **inline("lessons", []),
    }
    response = staff_client.post(url(Course, "add"), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert "A course needs at least one lesson or a quiz." in errors
    assert not Course.objects.filter(slug="empty").exists()


def test_a_course_with_a_lesson_is_saved(staff_client):
    data = {
        "slug": "one-lesson",
        "title": "One lesson",
        "description": "",
        "release": "",
        "status": "published",
        "language": "en",
        "owner": "",
        "verify_every_days": 180,
        **inline("lessons", [{"position": 1, "title": "Hello", "body": "# Hi", "feature": ""}]),
    }
    assert staff_client.post(url(Course, "add"), data).status_code == 302
    document_validate(course_to_document(Course.objects.get(slug="one-lesson")))


def test_a_lesson_feature_from_another_release_is_a_form_error(staff_client):
    release = ReleaseFactory()
    course = CourseFactory(release=release)
    lesson = LessonFactory(course=course, position=1)
    other = FeatureFactory()  # another release's
    response = staff_client.post(
        url(Lesson, "change", lesson.pk),
        {
            "course": course.pk,
            "position": 1,
            "title": lesson.title,
            "feature": other.pk,
            "body": lesson.body,
        },
    )
    assert response.status_code == 200
    assert "feature" in response.context["adminform"].form.errors


def quiz_add_data(course, questions: list[dict]) -> dict:
    return {
        "course": course.pk,
        "pass_mark": 80,
        "max_attempts": 3,
        "review": "after_pass",
        **inline("questions", questions),
    }


def test_a_quiz_is_written_with_its_questions_and_choices_on_one_page(staff_client):
    course = CourseFactory(slug="new-quiz")
    LessonFactory(course=course, position=1)
    skill = SkillFactory(slug="push")
    questions = [
        {
            "position": 1,
            "prompt": "Which **one**?",
            "kind": "single",
            "skill": skill.pk,
            "feature": "",
            "explanation": "",
            "choices": "[x] Right\n[ ] Wrong\n  continued",
        }
    ]
    response = staff_client.post(url(Quiz, "add"), quiz_add_data(course, questions))
    assert response.status_code == 302, response.context and response.context["errors"]
    question = Question.objects.get(quiz__course=course)
    assert [(c.position, c.text, c.correct) for c in question.choices.all()] == [
        (1, "Right", True),
        (2, "Wrong\n  continued", False),
    ]
    document_validate(course_to_document(course))


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ("[x] A\n[x] B", "exactly one correct choice"),
        ("[ ] A\n[ ] B", "exactly one correct choice"),
        ("[x] A", "at least 2 elements"),
        ("", "at least 2 elements"),
        ("A\nB", "start each choice with [x]"),
    ],
)
def test_a_bad_question_on_the_quiz_page_is_an_error_on_its_row(staff_client, choices, message):
    course = CourseFactory()
    LessonFactory(course=course, position=1)
    questions = [
        {"position": 1, "prompt": "Q?", "kind": "single", "skill": "", "feature": "",
         "explanation": "", "choices": choices}
    ]  # fmt: skip
    response = staff_client.post(url(Quiz, "add"), quiz_add_data(course, questions))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert message in str(formset.forms[0].errors["choices"])
    assert not Quiz.objects.exists()


def test_a_quiz_without_questions_is_refused(staff_client):
    course = CourseFactory()
    LessonFactory(course=course, position=1)
    response = staff_client.post(url(Quiz, "add"), quiz_add_data(course, []))
    assert response.status_code == 200
    assert "may not be empty" in str(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )


def test_editing_choices_on_the_quiz_page_replaces_them(staff_client, quiz_course):
    quiz = quiz_course.quiz
    rows = []
    for q in quiz.questions.order_by("position"):
        rows.append(
            {"id": q.pk, "quiz": quiz.pk, "position": q.position, "prompt": q.prompt,
             "kind": q.kind, "skill": q.skill_id, "feature": "", "explanation": q.explanation,
             "choices": "\n".join(f"[{'x' if c.correct else ' '}] {c.text}"
                                  for c in q.choices.order_by("position"))}
        )  # fmt: skip
    rows[0]["choices"] = "[ ] Right\n[x] Wrong\n[ ] Third"
    data = {"course": quiz_course.pk, "pass_mark": 70, "max_attempts": 3, "review": "after_pass"}
    data.update(inline("questions", rows, initial=2))
    response = staff_client.post(url(Quiz, "change", quiz.pk), data)
    assert response.status_code == 302
    first = quiz.questions.get(position=1)
    assert [(c.text, c.correct) for c in first.choices.all()] == [
        ("Right", False),
        ("Wrong", True),
        ("Third", False),
    ]
    second = quiz.questions.get(position=2)
    assert second.choices.count() == 2  # untouched


# --- Export -------------------------------------------------------------------------


def test_the_export_action_downloads_the_export_course_yaml(staff_client, quiz_course):
    response = staff_client.post(
        url(Course, "changelist"), {"action": "export_yaml", "_selected_action": [quiz_course.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="push-basics.yaml"'
    text = response.content.decode()
    assert text == dump_document(course_to_document(Course.objects.get(pk=quiz_course.pk)))
    assert yaml.safe_load(text)["quiz"]["questions"][0]["choices"][0] == {
        "text": "Right",
        "correct": True,
    }


def test_exporting_several_courses_downloads_a_zip(staff_client, quiz_course):
    other = CourseFactory(slug="other")
    LessonFactory(course=other, position=1)
    response = staff_client.post(
        url(Course, "changelist"),
        {"action": "export_yaml", "_selected_action": [quiz_course.pk, other.pk]},
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["other.yaml", "push-basics.yaml"]


def test_a_course_written_in_the_admin_exports_and_imports_unchanged(staff_client, tmp_path):
    course = CourseFactory(slug="written-here", title="Written here")
    LessonFactory(course=course, position=1, title="One", body="# One\n\n    code\n")
    skill = SkillFactory(slug="push")
    questions = [
        {"position": 1, "prompt": "Pick **one**", "kind": "single", "skill": skill.pk,
         "feature": "", "explanation": "Because.", "choices": "[ ] A\n[x] B"},
        {"position": 2, "prompt": "Pick some", "kind": "multiple", "skill": "",
         "feature": "", "explanation": "", "choices": "[x] C\n[x] D\n[ ] E"},
    ]  # fmt: skip
    assert staff_client.post(url(Quiz, "add"), quiz_add_data(course, questions)).status_code == 302
    written = course_to_document(Course.objects.get(slug="written-here"))

    exported = tmp_path / "written-here.yaml"
    call_command("export_course", "written-here", "-o", str(exported), stdout=io.StringIO())
    Course.objects.all().delete()
    call_command("import_course", str(exported), stdout=io.StringIO())

    assert course_to_document(Course.objects.get(slug="written-here")) == written

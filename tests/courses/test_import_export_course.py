import json
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from courses.documents import course_to_document
from courses.models import Course
from tests.factories import FeatureFactory, ReleaseFactory, SkillFactory

YAML_DOCUMENT = """\
title: RTM Android 2.4 — what's new
release: {sdk: rtm-android, version: v2.4.0}
lessons:
  - title: Editing sent messages
    feature: message-edit
    body: |
      # Editing

      A sender may edit a message for 24 hours.

          code block kept
  - title: 编辑消息
    body: 中文内容
quiz:
  pass_mark: 70
  questions:
    - prompt: Who can edit a message?
      kind: multiple
      skill: message-ordering
      explanation: Only the sender.
      choices:
        - {text: The sender, correct: true}
        - {text: An admin, correct: true}
        - text: Anyone
"""


@pytest.fixture
def release(db, sdk):
    release = ReleaseFactory(sdk=sdk, version="2.4.0")
    SkillFactory(slug="message-ordering")
    FeatureFactory(release=release, key="message-edit")
    return release


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_reads_yaml_and_takes_the_slug_from_the_file_name(tmp_path, release):
    file = tmp_path / "rtm-android-2-4.yaml"
    file.write_text(YAML_DOCUMENT, encoding="utf-8")
    assert "Created course 'rtm-android-2-4'" in run("import_course", str(file))
    course = Course.objects.get(slug="rtm-android-2-4")
    assert course.release == release
    assert course.quiz.pass_mark == 70
    assert course.lessons.get(position=2).title == "编辑消息"


def test_import_again_replaces_the_course(tmp_path, release):
    file = tmp_path / "c.yml"
    file.write_text(YAML_DOCUMENT, encoding="utf-8")
    run("import_course", str(file))
    assert "Replaced course 'c'" in run("import_course", str(file))
    assert Course.objects.count() == 1


def test_import_reads_json_and_takes_the_slug_from_the_document(tmp_path, release):
    document = {**yaml.safe_load(YAML_DOCUMENT), "slug": "from-document"}
    file = tmp_path / "whatever.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    run("import_course", str(file))
    assert Course.objects.filter(slug="from-document").exists()


def test_the_slug_option_wins_over_the_documents(tmp_path, release):
    file = tmp_path / "course.json"
    file.write_text(json.dumps({**yaml.safe_load(YAML_DOCUMENT), "slug": "a"}), encoding="utf-8")
    run("import_course", str(file), "--slug", "copy")
    assert list(Course.objects.values_list("slug", flat=True)) == ["copy"]


def test_a_file_without_a_known_extension_is_tried_as_json_then_yaml(tmp_path, release):
    file = tmp_path / "course.txt"
    file.write_text(YAML_DOCUMENT, encoding="utf-8")
    run("import_course", str(file))
    assert Course.objects.filter(slug="course").exists()


def test_an_invalid_document_fails_naming_each_field(tmp_path, release):
    document = yaml.safe_load(YAML_DOCUMENT)
    document["quiz"]["questions"][0]["skill"] = "telepathy"
    document["lessons"][1]["feature"] = "nope"
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run("import_course", str(file))
    message = str(caught.value)
    assert "lessons[1].feature: Unknown feature 'nope' in rtm-android 2.4.0." in message
    assert "quiz.questions[0].skill: Unknown skill 'telepathy'." in message
    assert not Course.objects.exists()


def test_a_question_with_one_choice_fails_naming_its_choices(tmp_path, release):
    document = yaml.safe_load(YAML_DOCUMENT)
    document["quiz"]["questions"][0]["choices"] = [{"text": "Alone", "correct": True}]
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match=r"quiz\.questions\[0\]\.choices: Ensure this field"):
        run("import_course", str(file))


def test_a_file_that_is_not_yaml_fails_readably(tmp_path, db):
    file = tmp_path / "broken.yaml"
    file.write_text("title: [unclosed", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid yaml"):
        run("import_course", str(file))


def test_a_missing_file_fails_readably(tmp_path, db):
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_course", str(tmp_path / "missing.yaml"))


def test_export_then_import_gives_the_same_document(tmp_path, release):
    source = tmp_path / "rtm.yaml"
    source.write_text(YAML_DOCUMENT, encoding="utf-8")
    run("import_course", str(source))
    original = course_to_document(Course.objects.get(slug="rtm"))

    exported = tmp_path / "exported.yaml"
    run("export_course", "rtm", "-o", str(exported))
    text = exported.read_text(encoding="utf-8")
    assert "编辑消息" in text  # unicode kept readable
    assert yaml.safe_load(text) == original

    Course.objects.all().delete()
    run("import_course", str(exported))
    assert course_to_document(Course.objects.get(slug="rtm")) == original


def test_export_writes_to_stdout_without_an_output_file(tmp_path, release):
    source = tmp_path / "rtm.yaml"
    source.write_text(YAML_DOCUMENT, encoding="utf-8")
    run("import_course", str(source))
    document = yaml.safe_load(run("export_course", "rtm"))
    assert list(document)[:3] == ["slug", "title", "release"]
    assert document["lessons"][0]["body"].endswith("    code block kept\n")


def test_exporting_an_unknown_course_fails(db):
    with pytest.raises(CommandError, match="No course 'nope'"):
        run("export_course", "nope")

"""Moodle question files into a course's pools (GIFT and Moodle XML), and back out
as GIFT: `import_questions`, `export_questions` and their API endpoints."""

import contextlib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actors import SYSTEM
from core.errors import InvalidInput
from courses.documents import QuestionDocumentSerializer, quiz_to_document
from courses.models import Course, Question, QuestionPool, QuizSlot
from courses.moodle import MoodleError
from courses.moodle.gift import parse_gift
from courses.moodle.xml import parse_moodle_xml
from courses.services.courses import course_put
from courses.services.questions import questions_export_gift, questions_import
from tests.factories import FeatureFactory, ReleaseFactory, UserFactory

FILES = Path(__file__).parent / "moodle"
URL = "/api/v1/courses/onboarding/questions/import/"
EXPORT_URL = "/api/v1/courses/onboarding/questions/export/"
OWN_QUESTION = {
    "prompt": "Which region covers Shanghai mornings?",
    "kind": "single",
    "choices": [{"text": "APAC", "correct": True}, {"text": "EMEA"}],
}


def _course(slug: str = "onboarding", quiz: bool = True, **quiz_fields):
    document = {"title": "Onboarding", "lessons": [{"title": "Welcome", "body": "Hello."}]}
    if quiz:
        document["quiz"] = {"questions": [OWN_QUESTION], **quiz_fields}
    return course_put(slug=slug, document=document, actor=SYSTEM)[0]


@pytest.fixture
def course(db):
    return _course()


@pytest.fixture
def catalog(token_client):
    return token_client("catalog")


def _pools(course) -> dict[str, list[dict]]:
    document = quiz_to_document(course.quiz)
    return {pool["name"]: pool["questions"] for pool in document.get("pools", [])}


def _by_prompt(questions: list[dict]) -> dict[str, dict]:
    return {question["prompt"]: question for question in questions}


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- GIFT: every construct of Moodle's documentation -----------------------------


def test_a_gift_file_of_every_construct_imports_all_but_what_preflight_lacks(course):
    output = run("import_questions", str(FILES / "every_construct.gift"), "--course", "onboarding")

    assert "Imported 23 question(s) into 'Connection states', 'Push'" in output
    assert "Skipped cloze: embedded answers" in output
    assert "Skipped num-partial: numeric answers with partial credit" in output
    assert "Skipped about: a description" in output
    pools = _pools(course)
    assert [len(pools["Connection states"]), len(pools["Push"])] == [22, 1]
    questions = _by_prompt(pools["Connection states"])

    named = questions["Which state follows DISCONNECTED when the network returns?"]
    assert named["id"] == "mc-state"  # // [id:…]
    assert named["kind"] == "single"
    assert named["choices"] == [
        {"text": "CONNECTED"},
        {"text": "RECONNECTING", "correct": True},
        {"text": "ABORTED"},
    ]
    # Each answer's #feedback goes to the explanation.
    assert "- **RECONNECTING**: Right: it retries with backoff." in named["explanation"]

    missing_word = questions["The SDK _____ when the token expires mid-session."]
    assert [c.get("correct", False) for c in missing_word["choices"]] == [False, True, False]

    true_false = {p: q["answer"] for p, q in questions.items() if q["kind"] == "true_false"}
    assert true_false == {
        "Message IDs are unique per channel.": True,
        "A kicked user is reconnected automatically.": False,
        "Push needs a token.": False,
        "Presence events arrive in order.": True,
    }
    kicked = questions["A kicked user is reconnected automatically."]
    assert "- **False**: Right: kicked means logged out." in kicked["explanation"]
    assert "- **True**: It is not: the app must log in again." in kicked["explanation"]

    short = questions["Which error code means the token expired?"]
    # %50% is a fraction; the %0% catch-all `*` only carried feedback.
    assert short["answers"] == [
        {"text": "TOKEN_EXPIRED", "fraction": 1.0},
        {"text": "*EXPIRED*", "fraction": 0.5},
    ]
    assert short["case_sensitive"] is False
    assert "Look it up in the error table." in short["explanation"]
    assert questions["Two plus two equals _____."]["answers"] == [
        {"text": "four", "fraction": 1.0},
        {"text": "4", "fraction": 1.0},
    ]

    matching = questions["Match each symptom to the first thing to check."]
    assert matching["pairs"][0] == {"item": "Messages arrive twice", "match": "the retry setting"}
    assert len(matching["pairs"]) == 3
    assert matching["distractors"] == ["the log level"]

    tolerance = questions["How many seconds does the SDK wait before the first retry?"]
    assert (tolerance["value"], tolerance["tolerance"]) == (2.0, 0.5)
    ranged = questions["Pick a timeout in seconds the SDK accepts."]
    assert (ranged["value"], ranged["tolerance"]) == (3.0, 2.0)
    exact = questions["How many regions does follow-the-sun support cover?"]
    assert (exact["value"], exact["tolerance"]) == (3.0, 0.0)
    assert "APAC, EMEA, AMER." in exact["explanation"]  # ~#wrong-answer feedback

    essay = questions["Write the reply to a customer whose messages arrive twice."]
    assert essay["rubric"] == "Names the retry setting; apologises; gives a next step."
    bare = questions["Describe how you would diagnose a login loop."]
    assert bare["kind"] == "essay" and "grade against the prompt" in bare["rubric"]

    multiple = questions["Which two settings affect push delivery?"]
    assert multiple["kind"] == "multiple"
    assert [c["fraction"] for c in multiple["choices"]] == [0.5, 0.5, -1.0]
    assert [c.get("correct", False) for c in multiple["choices"]] == [True, True, False]
    assert multiple["explanation"] == "Push depends on the platform credentials."  # ####

    thirds = questions["Which three are push providers?"]
    assert [c["fraction"] for c in thirds["choices"]] == [0.3333333, 0.3333333, 0.3333333, -1.0]

    weighted = questions["Which log line shows the token expired?"]
    assert weighted["kind"] == "single"
    assert [c["fraction"] for c in weighted["choices"]] == [1.0, 0.25, 0.0]

    escaped = questions[
        "Which is written {braces} = equals, ~tilde, #hash and a \\ backslash?\nPick one."
    ]
    assert escaped["choices"][0] == {"text": "a: b", "correct": True}
    assert escaped["choices"][1] == {"text": "c ~ d"}
    assert "it = this" in escaped["explanation"]

    html = questions["<p>Which <b>call</b> sends a message?</p>"]  # <script> sanitised away
    assert [c["text"] for c in html["choices"]] == ["sendMessage", "postMessage"]
    markdown = questions["Which **call** joins a channel?"]
    assert markdown["choices"][0]["text"] == "`join()`"
    assert questions["Which method leaves a channel?"]["choices"][1] == {"text": "exit"}

    scenario = questions["A customer sends this log."]
    assert (scenario["kind"], scenario["id"]) == ("scenario", "log-1")
    assert scenario["scenario"].startswith("```text\n12:00:01 CONNECTED")
    assert scenario["scenario"].endswith("reason=kicked\n```")
    assert scenario["question"]["prompt"] == "What happened?"
    assert scenario["question"]["kind"] == "single"

    push = pools["Push"][0]
    assert push["prompt"] == "What does FCM stand for?"
    assert push["explanation"] == "It is Google's push service."


def test_nothing_of_the_file_reaches_the_page_unsanitised(course):
    run("import_questions", str(FILES / "every_construct.gift"), "--course", "onboarding")
    prompts = "".join(Question.objects.values_list("prompt", flat=True))
    assert "<script" not in prompts and "alert(1)" not in prompts


def test_the_pool_option_puts_every_question_in_one_pool(course):
    output = run(
        "import_questions",
        str(FILES / "every_construct.gift"),
        "--course",
        "onboarding",
        "--pool",
        "moodle",
    )
    assert "into 'moodle'" in output
    assert list(_pools(course)) == ["moodle"]
    assert len(_pools(course)["moodle"]) == 23


def test_a_file_without_category_goes_to_the_imported_pool(course):
    result = questions_import(
        slug="onboarding", data=b"Is 1 a number?{T}", file_format="gift", pool=None, actor=SYSTEM
    )
    assert result == {"imported": 1, "replaced": 0, "pools": ["imported"], "skipped": []}
    assert _pools(course)["imported"][0]["kind"] == "true_false"


def test_the_quiz_asks_what_it_asked_before_and_the_pool_is_a_bank(course):
    questions_import(
        slug="onboarding", data=b"Is 1 a number?{T}", file_format="gift", pool=None, actor=SYSTEM
    )
    slots = list(QuizSlot.objects.filter(quiz=course.quiz).select_related("question"))
    assert [(slot.question.prompt, slot.pool) for slot in slots] == [(OWN_QUESTION["prompt"], None)]
    # An author then draws from it like any pool.
    document = quiz_to_document(course.quiz)
    assert document["slots"] == [{"question": 0}]


def test_importing_again_appends_and_replaces_questions_by_their_id(course):
    first = "// [id:tf-1]\nIs 1 a number?{T}\n\nIs 2 a number?{T}"
    questions_import(slug="onboarding", data=first, file_format="gift", pool=None, actor=SYSTEM)
    version = Question.objects.get(uid="tf-1").version
    second = "// [id:tf-1]\nIs 1 a number, really?{T}\n\nIs 3 a number?{T}"
    result = questions_import(
        slug="onboarding", data=second, file_format="gift", pool=None, actor=SYSTEM
    )
    assert (result["imported"], result["replaced"]) == (2, 1)
    prompts = [q["prompt"] for q in _pools(course)["imported"]]
    assert prompts == ["Is 1 a number, really?", "Is 2 a number?", "Is 3 a number?"]
    assert Question.objects.get(uid="tf-1").version == version + 1


def test_an_id_of_another_pool_is_refused_naming_the_line(course):
    gift = "// [id:shared]\nIs 1 a number?{T}"
    questions_import(slug="onboarding", data=gift, file_format="gift", pool="a", actor=SYSTEM)
    with pytest.raises(InvalidInput) as raised:
        questions_import(slug="onboarding", data=gift, file_format="gift", pool="b", actor=SYSTEM)
    assert raised.value.detail["questions"][0]["where"] == "line 2"
    assert list(_pools(course)) == ["a"]


# --- Moodle XML --------------------------------------------------------------------


def test_a_moodle_xml_file_of_every_type_imports_through_the_api(catalog, course):
    body = (FILES / "every_type.xml").read_bytes()
    response = catalog.post(URL, body, content_type="application/xml")

    assert response.status_code == 201, response.json()
    result = response.json()
    assert (result["imported"], result["replaced"], result["pools"]) == (9, 0, ["Reconnection"])
    assert {item["name"]: item["reason"] for item in result["skipped"]} == {
        "Capitals": "embedded answers (cloze) have no Preflight question kind",
        "Bandwidth": "Preflight has no calculated questions",
        "About": "a description (text without an answer) is not a question",
    }
    questions = _by_prompt(_pools(course)["Reconnection"])
    single = questions['<p>Which state follows <b>DISCONNECTED</b>?</p><img src="x">']
    assert single["id"] == "xml-state"
    assert single["choices"][0] == {"text": "RECONNECTING", "correct": True}
    assert single["explanation"].startswith("<p>The SDK retries.</p>")
    multiple = questions["Which **two** settings affect push?"]
    assert [c["fraction"] for c in multiple["choices"]] == [0.5, 0.5, -1.0]
    assert questions["A kicked user reconnects by itself."]["answer"] is False
    short = questions["Which error code means the token expired?"]
    assert short["case_sensitive"] is True
    assert [a["fraction"] for a in short["answers"]] == [1.0, 0.5]
    numeric = questions["How long is the first retry delay?"]
    assert numeric["units"] == [
        {"unit": "s", "multiplier": 1.0},
        {"unit": "ms", "multiplier": 1000.0},
    ]
    matching = questions["Match each symptom to its check."]
    assert matching["pairs"][0] == {"item": "Messages twice", "match": "retry setting"}
    assert matching["distractors"] == ["log level"]
    ordering = questions["Put the checks in order."]
    assert ordering["items"] == ["Read the log", "Check the token", "Escalate"]
    assert ordering["partial"] is False
    essay = questions["Write the reply to the customer."]
    assert essay["rubric"] == "<p>Names the <b>retry</b> setting.</p>"
    assert essay["explanation"] == "A good reply apologises."
    scenario = questions["<p>A customer sends this log.</p>"]
    assert scenario["scenario"] == "<pre>12:00:05 DISCONNECTED reason=kicked</pre>"
    assert scenario["question"]["prompt"] == "<p>What happened?</p>"


def test_text_xml_is_moodle_xml_too(catalog, course):
    body = (FILES / "every_type.xml").read_bytes()
    assert catalog.post(URL, body, content_type="text/xml; charset=utf-8").status_code == 201


# --- malformed files: a 400 naming the line or element, nothing imported ----------


@pytest.mark.parametrize(
    ("gift", "where"),
    [
        ("Fine?{T}\n\nBroken{=a ~b", "line 3: an answer block needs both { and }"),
        ("Fine?{T}\n\n\nWeight?{~%150%a ~b}", "line 4: the weight %150% is not between"),
        ("Number?{#two:1}", "line 1: 'two' is not a number"),
        ("Match?{=a -> 1 =b 2 =c -> 3}", "line 1: a matching answer needs 'item -> match'"),
        ("One choice?{~only}", "line 1: a multiple-choice question needs at least two"),
        ("Ok?{T}\n\nNul\x00?{T}", "line 3: a NUL byte is not text"),
    ],
)
def test_a_malformed_gift_file_is_a_400_naming_the_line(catalog, course, gift, where):
    response = catalog.post(URL, gift.encode(), content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(where)
    assert not QuestionPool.objects.exists()


def test_a_question_preflight_refuses_names_its_line_and_nothing_is_imported(catalog, course):
    gift = "Good?{T}\n\n::two right::Which?{=a =b ~c}\n\n::no right::Which?{~%50%a ~%20%b}"
    response = catalog.post(URL, gift, content_type="text/plain")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "2 questions of the file are not valid; nothing was imported."
    assert [(item["where"], item["name"]) for item in body["questions"]] == [
        ("line 3", "two right"),
        ("line 5", "no right"),
    ]
    assert "choices" in body["questions"][0]["errors"]
    assert not QuestionPool.objects.exists()


@pytest.mark.parametrize(
    ("xml", "where"),
    [
        (b"<quiz><question type='truefalse'>", "line 1, column 34: not well-formed XML"),
        (b"<quiz>\n<question>\n</quiz>", "line 3, column 3: not well-formed XML"),
        (b"<questions/>", "<questions>: a Moodle XML file is one <quiz> element"),
        (b"<quiz><item/></quiz>", "<item> (question 1): <quiz> holds <question> elements"),
        (
            b"<quiz><question type='essay'><name><text>x</text></name></question></quiz>",
            'question 1 <question type="essay">: <questiontext> is missing',
        ),
        (
            b"<quiz><question type='multichoice'><questiontext><text>Q</text></questiontext>"
            b"<answer fraction='lots'><text>a</text></answer></question></quiz>",
            "question 1 <question type=\"multichoice\">: fraction 'lots' is not a number",
        ),
        (b"<?xml version='1.0'?>", "line 1, column 22: not well-formed XML"),
    ],
)
def test_a_malformed_xml_file_is_a_400_naming_the_element(catalog, course, xml, where):
    response = catalog.post(URL, xml, content_type="application/xml")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(where), response.json()
    assert not QuestionPool.objects.exists()


# --- hostile input: a clear 4xx, never a 500 ----------------------------------------

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<quiz><question type="essay"><questiontext><text>&c;</text></questiontext></question></quiz>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="essay"><questiontext><text>&secret;</text></questiontext></question></quiz>"""


@pytest.mark.parametrize("xml", [ENTITY_BOMB, EXTERNAL_ENTITY], ids=["bomb", "external"])
def test_entities_and_dtds_are_refused(catalog, course, xml):
    response = catalog.post(URL, xml, content_type="application/xml")
    assert response.status_code == 400
    assert "DTDs, entities and external references are not accepted" in response.json()["detail"]


def test_deeply_nested_xml_is_refused(catalog, course):
    xml = b"<quiz>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</quiz>"
    response = catalog.post(URL, xml, content_type="application/xml")
    assert response.status_code == 400
    assert "nested more than 16 deep" in response.json()["detail"]


def test_a_nul_in_xml_is_not_well_formed(catalog, course):
    response = catalog.post(URL, b"<quiz>\x00</quiz>", content_type="application/xml")
    assert response.status_code == 400


def test_a_huge_file_is_a_413_before_it_is_read(catalog, course):
    body = b"Is it big?{T}\n\n" * (6 * 1024 * 1024 // 15)
    response = catalog.post(URL, body, content_type="text/plain")
    assert response.status_code == 413
    assert "at most 5 MB" in response.json()["detail"]


def test_gift_that_is_not_utf8_is_a_400(catalog, course):
    response = catalog.post(URL, "Café?{T}".encode("latin-1"), content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["detail"] == "byte 4: a GIFT file is UTF-8 text, and this is not"


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/octet-stream", "multipart/form-data"]
)
def test_another_content_type_is_a_415(catalog, course, content_type):
    response = catalog.post(URL, b'{"a": 1}', content_type=content_type)
    assert response.status_code == 415


def test_an_empty_body_is_a_400(catalog, course):
    response = catalog.post(URL, b"", content_type="text/plain")
    assert response.status_code == 400
    assert response.json() == {"detail": "The file is empty."}


def test_an_unknown_course_is_a_404(catalog, db):
    response = catalog.post(
        "/api/v1/courses/nope/questions/import/", b"Ok?{T}", content_type="text/plain"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "No course 'nope'."}


def test_a_file_with_nothing_to_import_is_a_400_listing_what_was_skipped(catalog, course):
    gift = "::cloze::Paris is in {1:SHORTANSWER:=France}.\n\n::intro::Read this first."
    response = catalog.post(URL, gift, content_type="text/plain")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The file has no question Preflight can import."
    assert [item["name"] for item in body["skipped"]] == ["cloze", "intro"]


def test_a_course_without_a_quiz_is_a_409(catalog, db):
    _course(quiz=False)
    response = catalog.post(URL, b"Ok?{T}", content_type="text/plain")
    assert response.status_code == 409
    assert "has no quiz" in response.json()["detail"]


def test_a_pool_name_too_long_is_a_400(catalog, course):
    response = catalog.post(f"{URL}?pool={'p' * 101}", b"Ok?{T}", content_type="text/plain")
    assert response.status_code == 400
    assert "pool" in response.json()


def test_the_pool_parameter_names_the_pool(catalog, course):
    response = catalog.post(f"{URL}?pool=basics", b"Ok?{T}", content_type="text/plain")
    assert response.status_code == 201
    assert response.json()["pools"] == ["basics"]


@pytest.mark.parametrize("scopes", [(), ("releases", "people", "assignments")])
def test_a_token_without_catalog_may_neither_import_nor_export(token_client, course, scopes):
    client = token_client(*scopes)
    assert client.post(URL, b"Ok?{T}", content_type="text/plain").status_code == 403
    assert client.get(EXPORT_URL).status_code == 403


def test_an_engineer_may_not_export_the_answer_key(client, engineer, course):
    client.force_login(engineer.user)
    response = client.get(EXPORT_URL)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


# --- export ------------------------------------------------------------------------


def test_the_export_is_gift_text(catalog, course):
    run("import_questions", str(FILES / "every_construct.gift"), "--course", "onboarding")
    response = catalog.get(EXPORT_URL + "?format=gift")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "::q1::[markdown]Which region covers Shanghai mornings?{\n\t=APAC\n\t~EMEA\n}" in text
    assert "$CATEGORY: Connection states" in text
    assert "// [id:mc-state]\n::mc-state::" in text
    assert "// [tag:scenario]" in text


def test_the_export_of_one_pool_and_its_errors(catalog, course):
    questions_import(
        slug="onboarding", data=b"Is 1 a number?{T}", file_format="gift", pool="a", actor=SYSTEM
    )
    text = catalog.get(EXPORT_URL + "?pool=a").content.decode()
    assert "$CATEGORY: a" in text and "Shanghai" not in text
    missing = catalog.get(EXPORT_URL + "?pool=b")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Course 'onboarding' has no pool 'b'."}
    assert catalog.get(EXPORT_URL + "?format=xml").status_code == 400
    unknown = catalog.get("/api/v1/courses/nope/questions/export/")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/json"


def test_an_ordering_question_is_left_out_of_gift_with_a_comment(catalog, course):
    body = (FILES / "every_type.xml").read_bytes()
    catalog.post(URL, body, content_type="application/xml")
    text = questions_export_gift(slug="onboarding")
    assert "// Not written: Reconnection\\#7 (ordering questions have no GIFT form)" in text


def test_export_questions_writes_a_file(tmp_path, course):
    out = tmp_path / "q.gift"
    assert "Wrote the questions" in run("export_questions", "--course", "onboarding", "-o", out)
    assert "Shanghai" in out.read_text(encoding="utf-8")
    assert "Shanghai" in run("export_questions", "--course", "onboarding")
    with pytest.raises(CommandError, match="No course 'nope'"):
        run("export_questions", "--course", "nope")


def test_import_questions_reports_errors_per_line(tmp_path, course):
    file = tmp_path / "bad.gift"
    file.write_text("Which?{=a =b ~c}", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 1 \(Which\?\): choices: A single-choice"):
        run("import_questions", str(file), "--course", "onboarding")
    with pytest.raises(CommandError, match="No course 'nope'"):
        run("import_questions", str(file), "--course", "nope")


# --- round trip ----------------------------------------------------------------------

EXPRESSIBLE = [
    {
        "id": "single-1",
        "prompt": "Which state follows `DISCONNECTED`?",
        "kind": "single",
        "explanation": "It retries: see {backoff} #1 = first.",
        "choices": [{"text": "RECONNECTING", "correct": True}, {"text": "CONNECTED: yes"}],
    },
    {
        "prompt": "Which log line shows it?",
        "kind": "single",
        "choices": [
            {"text": "401", "fraction": 1.0},
            {"text": "a loop", "fraction": 0.25},
            {"text": "nothing", "fraction": -0.5},
        ],
    },
    {
        "prompt": "Which settings affect push?",
        "kind": "multiple",
        "choices": [
            {"text": "APNs ~ certificate", "fraction": 0.5},
            {"text": "FCM key", "fraction": 0.5},
            {"text": "TTL", "fraction": -1.0},
        ],
    },
    {"prompt": "Message IDs are unique.", "kind": "true_false", "answer": False},
    {
        "prompt": "Which code?\n\nSay it exactly.",
        "kind": "short_answer",
        "answers": [{"text": "TOKEN_EXPIRED", "fraction": 1.0}, {"text": "*EXP*", "fraction": 0.5}],
    },
    {"prompt": "Delay?", "kind": "numeric", "value": 2.5, "tolerance": 0.25},
    {
        "prompt": "Match them.",
        "kind": "matching",
        "pairs": [{"item": "twice", "match": "retry"}, {"item": "no push", "match": "APNs"}],
        "distractors": ["log level"],
    },
    {"prompt": "Write the reply.", "kind": "essay", "rubric": "Apologises;\n- gives a next step."},
    {
        "prompt": "A customer sends this log.",
        "kind": "scenario",
        "scenario": "```text\n12:00:05 DISCONNECTED reason=kicked\n    indented: kept\n```",
        "explanation": "Kicked means logged out.",
        "question": {
            "kind": "single",
            "prompt": "What happened?",
            "choices": [{"text": "Another device", "correct": True}, {"text": "Network"}],
        },
    },
]


def test_export_then_import_gives_the_same_questions(db):
    source = _course(
        "source", pools=[{"name": "bank/one", "questions": EXPRESSIBLE}], slots=[{"question": 0}]
    )
    _course("copy")
    text = questions_export_gift(slug="source", pool="bank/one")
    result = questions_import(slug="copy", data=text, file_format="gift", pool=None, actor=SYSTEM)
    assert result["imported"] == len(EXPRESSIBLE)
    assert _pools(Course.objects.get(slug="copy")) == _pools(source)


def test_a_file_of_too_many_questions_is_refused_before_they_are_checked(catalog, course):
    body = "Ok?{T}\n\n" * 5001
    response = catalog.post(URL, body, content_type="text/plain")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A file may hold at most 5000 questions; this one has 5001."
    }


def test_a_release_course_keeps_its_release_owner_and_lessons(db, sdk):
    release = ReleaseFactory(sdk=sdk, version="2.4.0")
    FeatureFactory(release=release, key="message-edit")
    owner = UserFactory(username="olga")
    course_put(
        slug="rtm",
        document={
            "title": "RTM 2.4",
            "release": {"sdk": sdk.slug, "version": "2.4.0"},
            "owner": "olga",
            "lessons": [{"title": "Edit", "body": "Edits.", "feature": "message-edit"}],
            "quiz": {"questions": [{**OWN_QUESTION, "feature": "message-edit"}]},
        },
        actor=SYSTEM,
    )
    # An owner who has left does not stop an import (the document keeps the owner).
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    questions_import(slug="rtm", data="Ok?{T}", file_format="gift", pool=None, actor=SYSTEM)
    course = Course.objects.get(slug="rtm")
    assert (course.release, course.owner, course.lessons.get().feature.key) == (
        release,
        owner,
        "message-edit",
    )
    assert Question.objects.get(quiz=course.quiz, pool=None).feature.key == "message-edit"
    assert list(_pools(course)) == ["imported"]


# --- any text: read, or refused naming where; never anything else -------------------

XML_PIECES = [
    b"<quiz>",
    b"</quiz>",
    b'<question type="multichoice">',
    b'<question type="numerical">',
    b'<question type="truefalse">',
    b'<question type="category">',
    b"</question>",
    b"<questiontext><text>Q</text></questiontext>",
    b'<answer fraction="100"><text>a</text><tolerance>x</tolerance></answer>',
    b'<answer fraction="-5e9"><text>b</text></answer>',
    b"<single>false</single>",
    b"<unit><multiplier>0</multiplier></unit>",
    b"<category><text>$course$/top/x</text></category>",
    b"<!DOCTYPE quiz>",
    b"&amp;",
    b"&x;",
]
GIFT_ALPHABET = st.sampled_from([*"{}~=#:%->.\\/$[]*_`\n \t", "T", "1", "a", "::", "####"])


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(GIFT_ALPHABET, max_size=80).map("".join))
def test_any_gift_text_is_read_or_refused_with_a_line(text):
    try:
        parsed = parse_gift(text)
    except MoodleError as exc:
        assert exc.where.startswith("line ")
        return
    for imported in parsed.questions:
        QuestionDocumentSerializer(data=imported.question).is_valid()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=200) | st.lists(st.sampled_from(XML_PIECES), max_size=30).map(b"".join))
def test_any_bytes_are_read_as_xml_or_refused(data):
    with contextlib.suppress(MoodleError):
        parse_moodle_xml(data)


def test_import_questions_reads_xml_by_its_suffix_or_format(tmp_path, course):
    output = run("import_questions", str(FILES / "every_type.xml"), "--course", "onboarding")
    assert "Imported 9 question(s) into 'Reconnection'" in output
    assert "Skipped Capitals: embedded answers (cloze)" in output
    file = tmp_path / "bank.txt"
    file.write_bytes((FILES / "every_type.xml").read_bytes())
    with pytest.raises(CommandError, match="no question Preflight can import"):
        run("import_questions", str(file), "--course", "onboarding")  # read as GIFT
    output = run("import_questions", str(file), "--course", "onboarding", "--format", "xml")
    assert "Imported 9 question(s) into 'Reconnection' of course 'onboarding' (1 replaced" in output
    assert len(_pools(course)["Reconnection"]) == 17

"""Moodle XML (<quiz><question type="…">…</question></quiz>), read with defusedxml:
no DTD, no entities, no external references, and a nesting limit, so an entity
bomb or a deeply nested file is refused before it costs anything.

Read types: multichoice, truefalse, shortanswer, numerical (with units), matching,
ordering, essay (graderinfo is the rubric), and category (the pool of the
questions after it). Every other type (cloze, calculated…, drag and drop,
description, random) is skipped with the reason.
"""

import io
import math
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from courses.moodle import (
    DEFAULT_POOL,
    ESSAY_WITHOUT_RUBRIC,
    SCENARIO_TAG,
    ImportedQuestion,
    MoodleError,
    Parsed,
    as_scenario,
    feedback_lines,
    plain_text,
    pool_from_category,
    question_id,
    rich_text,
)

# A Moodle question nests five levels at most (quiz/question/answer/feedback/text).
MAX_DEPTH = 16
_SKIP_REASONS = {
    "cloze": "embedded answers (cloze) have no Preflight question kind",
    "multianswer": "embedded answers (cloze) have no Preflight question kind",
    "description": "a description (text without an answer) is not a question",
    "random": "a random question is a draw from a category: use a quiz slot instead",
    "randomsamatch": "random short-answer matching has no Preflight question kind",
}


def _parse(data: bytes) -> Element:
    """The document's root, or MoodleError naming the line and column."""
    depth = 0
    root: Element | None = None
    try:
        # forbid_dtd: a Moodle export has none, and a DTD is where bombs live.
        events = iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
        for event, element in events:
            if event == "start":
                depth += 1
                root = element if root is None else root
                if depth > MAX_DEPTH:
                    raise MoodleError(
                        f"<{element.tag}>", f"elements nested more than {MAX_DEPTH} deep"
                    )
            else:
                depth -= 1
    except ParseError as exc:
        line, column = exc.position
        raise MoodleError(f"line {line}, column {column + 1}", "not well-formed XML") from None
    except DefusedXmlException:
        raise MoodleError(
            "document", "DTDs, entities and external references are not accepted"
        ) from None
    if root is None:
        raise MoodleError("document", "no XML")
    return root


def _text(element: Element | None, default_format: str = "html") -> tuple[str, str]:
    """The <text> of a Moodle text element, and its format."""
    if element is None:
        return "", default_format
    text_format = element.get("format", default_format)
    child = element.find("text")
    value = child.text if child is not None else element.text
    return (value or "").strip(), text_format


def _rich(element: Element | None) -> str:
    return rich_text(*_text(element))


def _fraction(answer: Element, where: str) -> float:
    raw = answer.get("fraction", "0")
    try:
        value = float(raw)
    except ValueError:
        raise MoodleError(where, f"fraction {raw!r} is not a number") from None
    if not math.isfinite(value) or not -100 <= value <= 100:
        raise MoodleError(where, f"fraction {raw!r} is not between -100 and 100")
    return round(value / 100, 9)


def _number(raw: str | None, where: str) -> float:
    try:
        value = float((raw or "").strip())
    except ValueError:
        raise MoodleError(where, f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise MoodleError(where, f"{raw!r} is not a finite number")
    return value


def _flag(element: Element, name: str) -> bool:
    return (element.findtext(name) or "").strip().lower() in ("1", "true")


def parse_moodle_xml(data: bytes) -> Parsed:
    """The questions of a Moodle XML file. Raises MoodleError naming the element."""
    root = _parse(data)
    if root.tag != "quiz":
        raise MoodleError(f"<{root.tag}>", "a Moodle XML file is one <quiz> element")
    parsed = Parsed()
    category: str | None = None
    for number, element in enumerate(root, start=1):
        where = f"question {number}"
        if element.tag != "question":
            raise MoodleError(f"<{element.tag}> ({where})", "<quiz> holds <question> elements")
        qtype = element.get("type", "")
        if qtype == "category":
            path, _ = _text(element.find("category"))
            category = pool_from_category(path) or DEFAULT_POOL
            continue
        name = " ".join(_text(element.find("name"))[0].split())
        where = f'question {number} <question type="{qtype}">'
        reader = _READERS.get(qtype)
        if reader is None:
            reason = _SKIP_REASONS.get(qtype, f"Preflight has no {qtype or 'untyped'} questions")
            parsed.skipped.append({"name": name or where, "reason": reason})
            continue
        text_element = element.find("questiontext")
        if text_element is None:
            raise MoodleError(where, "<questiontext> is missing")
        fields, feedback = reader(element, where)
        if fields is None:
            parsed.skipped.append({"name": name or where, "reason": feedback[0][1]})
            continue
        question: dict[str, Any] = {"prompt": _rich(text_element), **fields}
        general = _rich(element.find("generalfeedback"))
        explanation = feedback_lines(general, feedback)
        if explanation:
            question["explanation"] = explanation
        identifier = question_id(element.findtext("idnumber"))
        if identifier:
            question = {"id": identifier, **question}
        tags = {(tag.findtext("text") or "").strip().lower() for tag in element.iter("tag")}
        if SCENARIO_TAG in tags:
            scenario = as_scenario(question)
            if scenario is None:
                raise MoodleError(
                    where, "a question tagged scenario needs a code block (``` or <pre>)"
                )
            question = scenario
        parsed.questions.append(
            ImportedQuestion(name=name or where, where=where, category=category, question=question)
        )
    return parsed


def _answers(element: Element, where: str) -> list[tuple[float, str, str, Element]]:
    """(fraction, text, feedback, element) of each <answer>."""
    found = []
    for answer in element.findall("answer"):
        text, text_format = _text(answer)
        found.append((_fraction(answer, where), plain_text(text, text_format), answer))
    return [(f, t, _rich(a.find("feedback")), a) for f, t, a in found]


def _multichoice(element: Element, where: str):
    answers = _answers(element, where)
    if len(answers) < 2:
        raise MoodleError(where, "a multichoice question needs at least two <answer>s")
    # Moodle reads a missing <single> as true.
    single = (element.findtext("single") or "true").strip().lower() not in ("false", "0")
    partial = any(f not in (0.0, 1.0) for f, *_ in answers)
    choices: list[dict[str, Any]] = []
    for fraction, text, _, _ in answers:
        if single and not partial:
            choices.append({"text": text, "correct": True} if fraction == 1 else {"text": text})
        else:
            choices.append({"text": text, "fraction": fraction})
    feedback = [(text, note) for _, text, note, _ in answers]
    return {"kind": "single" if single else "multiple", "choices": choices}, feedback


def _truefalse(element: Element, where: str):
    answers = _answers(element, where)
    right = [text.lower() for fraction, text, _, _ in answers if fraction == 1]
    if len(answers) != 2 or right not in (["true"], ["false"]):
        raise MoodleError(
            where, "a truefalse question needs a true and a false <answer>, one right"
        )
    feedback = [(text.capitalize(), note) for _, text, note, _ in answers]
    return {"kind": "true_false", "answer": right == ["true"]}, feedback


def _shortanswer(element: Element, where: str):
    answers = _answers(element, where)
    accepted = [{"text": text, "fraction": f} for f, text, _, _ in answers if f > 0]
    fields: dict[str, Any] = {"kind": "short_answer", "answers": accepted}
    if _flag(element, "usecase"):
        fields["case_sensitive"] = True
    return fields, [(text, note) for _, text, note, _ in answers]


def _numerical(element: Element, where: str):
    answers = _answers(element, where)
    accepted = [(f, text, a) for f, text, _, a in answers if f != 0 and text != "*"]
    feedback = [(text, note) for _, text, note, _ in answers]
    if len(accepted) != 1 or accepted[0][0] != 1:
        reason = (
            "numeric answers with partial credit: Preflight's numeric question has "
            "one value and a tolerance"
        )
        return None, [("", reason)]
    _, text, answer = accepted[0]
    fields: dict[str, Any] = {
        "kind": "numeric",
        "value": _number(text, where),
        "tolerance": abs(_number(answer.findtext("tolerance") or "0", where)),
    }
    units = []
    for unit in element.iter("unit"):
        units.append(
            {
                "unit": (unit.findtext("unit_name") or "").strip(),
                "multiplier": _number(unit.findtext("multiplier") or "1", where),
            }
        )
    if units:
        fields["units"] = units
    return fields, feedback


def _matching(element: Element, where: str):
    pairs, distractors = [], []
    for sub in element.findall("subquestion"):
        item = plain_text(*_text(sub, sub.get("format", "html")))
        match = plain_text(_text(sub.find("answer"), "plain")[0], "plain")
        if item:
            pairs.append({"item": item, "match": match})
        else:
            distractors.append(match)
    fields: dict[str, Any] = {"kind": "matching", "pairs": pairs}
    if distractors:
        fields["distractors"] = distractors
    return fields, []


def _ordering(element: Element, where: str):
    answers = _answers(element, where)
    # Moodle writes the items in order, each with its place as its "fraction".
    items = [text for _, text, _, _ in sorted(answers, key=lambda a: a[0])]
    grading = (element.findtext("gradingtype") or "").strip().upper()
    return {"kind": "ordering", "items": items, "partial": grading != "ALL_OR_NOTHING"}, []


def _essay(element: Element, where: str):
    rubric = _rich(element.find("graderinfo")) or ESSAY_WITHOUT_RUBRIC
    return {"kind": "essay", "rubric": rubric}, []


_READERS = {
    "multichoice": _multichoice,
    "truefalse": _truefalse,
    "shortanswer": _shortanswer,
    "numerical": _numerical,
    "matching": _matching,
    "ordering": _ordering,
    "essay": _essay,
}

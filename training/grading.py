"""Questions as an attempt holds them, and how each kind is answered and graded.

Pure functions over snapshots (no database): `snapshot_question` turns a stored
question into the attempt's own copy (key included, display order shuffled by
the attempt's seed), `clean_answer` checks what a form or client sent for one
question, `mark` grades it to a fraction of the question's mark (0 to 1; None for
an essay, which a person grades). `page_question` is what a page may show of a
question before submission: never the key.

Answers travel as lists of strings per question (a form's `getlist`):
- single, multiple: the keys of the chosen choices ("0", "1", … in the attempt's
  own shuffled order); true_false: "true" or "false";
- short_answer, numeric, essay: one text;
- ordering: for each item in the order shown, the place (1..n) it goes to;
- matching: for each item in the order shown, the key of the chosen match.
"""

import math
import random
import re
from typing import Any

from django.utils.translation import gettext

from courses.models import Question

Kind = Question.Kind
CHOICE_KINDS = frozenset({Kind.SINGLE, Kind.MULTIPLE})
TEXT_KINDS = frozenset({Kind.SHORT_ANSWER, Kind.NUMERIC, Kind.ESSAY})
MAX_TEXT = {Kind.SHORT_ANSWER: 500, Kind.NUMERIC: 100, Kind.ESSAY: 20_000}
_NUMBER = re.compile(r"^([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?)\s*(.*)$")


def snapshot_question(question: Question, rng: random.Random) -> dict:
    """The attempt's copy of `question`: what grading needs (the key) and what the
    page shows, in an order drawn from `rng`. A scenario is kept as its inner
    question's kind, with the scenario text beside the prompt."""
    spec: dict[str, Any] = dict(question.spec or {})
    kind = question.kind
    prompt = question.prompt
    item: dict[str, Any] = {
        "id": question.pk,
        "uid": question.uid,
        "version": question.version,
        "pool": question.pool.name if question.pool_id and question.pool else None,
        "skill": question.skill.slug if question.skill is not None else None,
        "feature": question.feature.key if question.feature is not None else None,
        "explanation": question.explanation,
    }
    if kind == Kind.SCENARIO:
        item["scenario"] = spec.get("scenario", "")
        spec = dict(spec.get("question") or {})
        kind = spec.pop("kind", Kind.SINGLE)
        item["question_prompt"] = spec.pop("prompt", "")
    item["kind"] = kind
    item["prompt"] = prompt
    if kind in CHOICE_KINDS:
        choices = [
            {
                "id": c.pk,
                "position": c.position,
                "text": c.text,
                "correct": c.correct,
                "fraction": c.fraction,
            }
            for c in question.choices.all()
        ]
        rng.shuffle(choices)
        for key, choice in enumerate(choices):
            choice["key"] = str(key)
        item["choices"] = choices
    elif kind == Kind.ORDERING:
        keys = [str(n) for n in range(len(spec["items"]))]
        shown = list(zip(keys, spec["items"], strict=True))
        rng.shuffle(shown)
        item["items"] = [{"key": key, "text": text} for key, text in shown]
        item["order"] = keys
        item["partial"] = spec.get("partial", False)
    elif kind == Kind.MATCHING:
        texts = list(
            dict.fromkeys([p["match"] for p in spec["pairs"]] + spec.get("distractors", []))
        )
        options = [{"key": str(n), "text": text} for n, text in enumerate(texts)]
        rng.shuffle(options)
        by_text = {option["text"]: option["key"] for option in options}
        shown = [(str(n), p) for n, p in enumerate(spec["pairs"])]
        rng.shuffle(shown)
        item["items"] = [{"key": key, "text": pair["item"]} for key, pair in shown]
        item["options"] = options
        item["pairs"] = {key: by_text[pair["match"]] for key, pair in shown}
        item["partial"] = spec.get("partial", True)
    else:
        # true_false, short_answer, numeric, essay: their fields as stored.
        item |= spec
    return item


def page_question(question: dict, given: list[str]) -> dict:
    """What the page shows of a snapshot question before submission: prompt,
    scenario, choice texts, items and options, what the engineer entered. Built
    field by field, never copied, so no key (correct, fraction, order, pairs,
    accepted answers, value, rubric, explanation) can reach the page."""
    shown: dict[str, Any] = {
        "id": question["id"],
        "field": f"q{question['id']}",
        "kind": question["kind"],
        "prompt": question["prompt"],
        "scenario": question.get("scenario", ""),
        "question_prompt": question.get("question_prompt", ""),
    }
    kind = question["kind"]
    if kind in CHOICE_KINDS:
        shown["choices"] = [
            {"key": c["key"], "text": c["text"], "checked": c["key"] in given}
            for c in question["choices"]
        ]
    elif kind == Kind.TRUE_FALSE:
        shown["choices"] = [
            {"key": "true", "text": gettext("True"), "checked": "true" in given},
            {"key": "false", "text": gettext("False"), "checked": "false" in given},
        ]
    elif kind == Kind.ORDERING:
        places = [str(n) for n in range(1, len(question["items"]) + 1)]
        shown["items"] = [
            {"key": i["key"], "text": i["text"], "value": given[n] if n < len(given) else ""}
            for n, i in enumerate(question["items"])
        ]
        shown["places"] = places
    elif kind == Kind.MATCHING:
        shown["items"] = [
            {"key": i["key"], "text": i["text"], "value": given[n] if n < len(given) else ""}
            for n, i in enumerate(question["items"])
        ]
        shown["options"] = [{"key": o["key"], "text": o["text"]} for o in question["options"]]
    else:
        shown["text"] = given[0] if given else ""
        if kind == Kind.NUMERIC:
            shown["units"] = [u["unit"] for u in question.get("units", [])]
    return shown


def clean_answer(question: dict, given: list[str]) -> tuple[list[str] | None, str | None]:
    """(the answer normalised, None) or (None, an error message for the form)."""
    kind = question["kind"]
    if any(not isinstance(value, str) or "\x00" in value for value in given):
        return None, gettext("Remove the NUL characters from your answer.")
    if kind in CHOICE_KINDS or kind == Kind.TRUE_FALSE:
        keys = (
            {c["key"] for c in question["choices"]} if kind in CHOICE_KINDS else {"true", "false"}
        )
        chosen = sorted(set(given))
        if not chosen:
            return None, gettext("Choose an answer.")
        if not set(chosen) <= keys:
            return None, gettext("Choose among the answers shown.")
        if kind != Kind.MULTIPLE and len(chosen) != 1:
            return None, gettext("Choose one answer.")
        return chosen, None
    if kind in TEXT_KINDS:
        text = given[0].strip() if len(given) == 1 else ""
        if len(given) > 1:
            return None, gettext("Give one answer.")
        if not text:
            return None, gettext("Write an answer.")
        if len(text) > MAX_TEXT[kind]:
            return None, gettext("Keep your answer under %(n)s characters.") % {"n": MAX_TEXT[kind]}
        if kind == Kind.NUMERIC:
            _, error = _parse_number(question, text)
            if error:
                return None, error
        return [text], None
    items = question["items"]
    if len(given) != len(items) or not all(given):
        return None, gettext("Answer for every item.")
    if kind == Kind.ORDERING:
        places = {str(n) for n in range(1, len(items) + 1)}
        if set(given) != places:
            return None, gettext("Give each item a different place, from 1 to %(n)s.") % {
                "n": len(items)
            }
        return list(given), None
    keys = {o["key"] for o in question["options"]}
    if not set(given) <= keys:
        return None, gettext("Choose among the answers shown.")
    return list(given), None


def _parse_number(question: dict, text: str) -> tuple[float | None, str | None]:
    """The answer in the value's unit, or an error naming what is accepted."""
    units = question.get("units") or []
    match = _NUMBER.match(text)
    unit_names = ", ".join(u["unit"] for u in units)
    if match is None:
        if units:
            return None, gettext("Enter a number, optionally with a unit (%(units)s).") % {
                "units": unit_names
            }
        return None, gettext("Enter a number.")
    number = float(match.group(1).replace(",", "."))
    unit = match.group(2).strip()
    if not math.isfinite(number):
        return None, gettext("Enter a number.")
    if not unit:
        return number, None
    for candidate in units:
        if candidate["unit"].casefold() == unit.casefold():
            return number / candidate["multiplier"], None
    if units:
        return None, gettext("Use one of the units: %(units)s.") % {"units": unit_names}
    return None, gettext("Enter a number, without a unit.")


def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern:
    parts = [re.escape(part) for part in " ".join(pattern.split()).split("*")]
    return re.compile(".*".join(parts), 0 if case_sensitive else re.IGNORECASE | re.DOTALL)


def mark(question: dict, answer: list[str]) -> float | None:
    """The share of the question's mark (0 to 1) that `answer` (cleaned) earns;
    None for an essay, graded by a person."""
    kind = question["kind"]
    if kind in CHOICE_KINDS:
        choices = question["choices"]
        if any(c.get("fraction") is not None for c in choices):
            total = sum(c["fraction"] or 0 for c in choices if c["key"] in answer)
            return _clamp(total)
        correct = {c["key"] for c in choices if c["correct"]}
        return 1.0 if set(answer) == correct else 0.0
    if kind == Kind.TRUE_FALSE:
        return 1.0 if answer == [("true" if question["answer"] else "false")] else 0.0
    if kind == Kind.SHORT_ANSWER:
        text = " ".join(answer[0].split())
        best = 0.0
        for accepted in question["answers"]:
            if _wildcard(accepted["text"], question.get("case_sensitive", False)).fullmatch(text):
                best = max(best, accepted["fraction"])
        return best
    if kind == Kind.NUMERIC:
        value, _ = _parse_number(question, answer[0])
        if value is None:
            return 0.0
        slack = question.get("tolerance", 0) + 1e-9 * max(1.0, abs(question["value"]))
        return 1.0 if abs(value - question["value"]) <= slack else 0.0
    if kind == Kind.ORDERING:
        # answer[n] is the place of the n-th item shown; the right place of an item
        # is its index in `order` plus one.
        place = {key: str(n) for n, key in enumerate(question["order"], start=1)}
        right = sum(
            1
            for item, given in zip(question["items"], answer, strict=True)
            if place[item["key"]] == given
        )
        return _share(right, len(question["items"]), question.get("partial", False))
    if kind == Kind.MATCHING:
        right = sum(
            1
            for item, given in zip(question["items"], answer, strict=True)
            if question["pairs"][item["key"]] == given
        )
        return _share(right, len(question["items"]), question.get("partial", True))
    return None  # essay


def _share(right: int, total: int, partial: bool) -> float:
    if right == total:
        return 1.0
    return right / total if partial else 0.0


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, round(value, 6)))


def tidy(value: float) -> float | int:
    """A share as JSON keeps it: whole numbers as ints (as scores were before
    fractions), others to 4 places."""
    value = round(value, 4)
    return int(value) if value.is_integer() else value


def percent(total: float, count: int) -> int:
    """Whole percent, rounded down, of `total` marks out of `count` questions."""
    if not count:
        return 100
    return min(100, math.floor(total * 100 / count + 1e-9))


# The fields of a snapshot question that are its key (what grading reads), per kind.
_KEY_FIELDS = {
    Kind.TRUE_FALSE: ("answer",),
    Kind.SHORT_ANSWER: ("answers", "case_sensitive"),
    Kind.NUMERIC: ("value", "tolerance", "units"),
}


def rekey_question(old: dict, current: dict) -> dict | None:
    """`old` (a question as an attempt holds it) with the key of `current` (the same
    question's latest version, as `snapshot_question` makes it): what a regrade
    grades the attempt's answer against. Everything the engineer saw stays (texts,
    the shown order, the keys their answer names); only what is right changes.

    Choices, ordering items and matching options are matched by text, since the
    keys are each attempt's own shuffle. None when the answer cannot be carried
    over: the kind changed, a choice or item the attempt showed is gone, or the
    question is an essay (a person grades it)."""
    kind = old["kind"]
    if kind != current["kind"] or kind == Kind.ESSAY:
        return None
    new: dict[str, Any] = {**old, "explanation": current.get("explanation", "")}
    new["key_version"] = current.get("version")
    if kind in CHOICE_KINDS:
        by_text = {c["text"]: c for c in current["choices"]}
        if {c["text"] for c in old["choices"]} != set(by_text):
            return None
        new["choices"] = [
            {
                **c,
                "correct": by_text[c["text"]]["correct"],
                "fraction": by_text[c["text"]]["fraction"],
            }
            for c in old["choices"]
        ]
        return new
    if kind == Kind.ORDERING:
        text_of = {item["key"]: item["text"] for item in current["items"]}
        old_key = {item["text"]: item["key"] for item in old["items"]}
        right = [text_of[key] for key in current["order"]]
        if sorted(right) != sorted(old_key):
            return None
        new["order"] = [old_key[text] for text in right]
        new["partial"] = current.get("partial", False)
        return new
    if kind == Kind.MATCHING:
        item_text = {item["key"]: item["text"] for item in current["items"]}
        option_text = {option["key"]: option["text"] for option in current["options"]}
        match = {item_text[key]: option_text[value] for key, value in current["pairs"].items()}
        old_option = {option["text"]: option["key"] for option in old["options"]}
        if {item["text"] for item in old["items"]} != set(match) or not set(match.values()) <= set(
            old_option
        ):
            return None
        new["pairs"] = {item["key"]: old_option[match[item["text"]]] for item in old["items"]}
        new["partial"] = current.get("partial", True)
        return new
    for field in _KEY_FIELDS.get(kind, ()):
        if field in current:
            new[field] = current[field]
        else:
            new.pop(field, None)
    return new


def picked_bits(question: dict, answer: list[str]) -> int:
    """The choices `answer` picks as bits of their place in the author's order (bit
    0: the first choice), whatever the attempt's shuffle; true/false: bit 0 true,
    bit 1 false; 0 for other kinds. Snapshots from before choices kept their
    `position` give it by choice id (choices are written in order)."""
    kind = question["kind"]
    if kind == Kind.TRUE_FALSE:
        return (1 if "true" in answer else 0) | (2 if "false" in answer else 0)
    if kind not in CHOICE_KINDS:
        return 0
    ids = sorted(c["id"] for c in question["choices"])
    bits = 0
    for choice in question["choices"]:
        if choice["key"] in answer:
            place = choice.get("position") or ids.index(choice["id"]) + 1
            if place <= 62:
                bits |= 1 << (place - 1)
    return bits


def answer_rows(
    *,
    snapshot: dict,
    answers: dict,
    marks: dict,
    essay_grades: dict,
    seconds: float | None,
) -> list[dict]:
    """Per question of a graded attempt, what item analysis keeps
    (training.models.AttemptAnswer): uid, version, kind, feature, skill, the mark
    (an essay's is its grader's score), the rest of the attempt's marks, the
    choices picked, and the attempt's `seconds` shared equally among its questions."""
    questions = snapshot.get("questions", [])
    earned = {}
    for question in questions:
        field = str(question["id"])
        value = marks.get(field)
        if value is None and field in (essay_grades or {}):
            value = essay_grades[field]["score"] / 100
        earned[field] = float(value or 0)
    total = sum(earned.values())
    share = seconds / len(questions) if seconds is not None and questions else None
    return [
        {
            "uid": question.get("uid") or f"#{question['id']}",
            "version": question.get("version") or 1,
            "kind": question["kind"],
            "feature": question.get("feature") or "",
            "skill": question.get("skill") or "",
            "mark": earned[str(question["id"])],
            "rest": total - earned[str(question["id"])],
            "picked": picked_bits(question, answers.get(str(question["id"]), [])),
            "seconds": share,
        }
        for question in questions
    ]

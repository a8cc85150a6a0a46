"""Moodle's GIFT format: read (as Moodle's own importer reads it) and written.

Reading follows qformat_gift: questions are separated by blank lines; lines whose
first characters are `//` are comments (`// [id:…]` and `// [tag:…]` are read);
`$CATEGORY: path` names the category of the questions after it; `::name::` names
a question; `[html]`, `[moodle]`, `[markdown]`, `[plain]` set a text's format;
`\\~ \\= \\# \\{ \\} \\:` and `\\\\` escape, `\\n` is a new line. The answer block `{…}`
decides the kind: empty → essay, `#…` → numeric, `~` → multiple choice (single
when one answer starts with `=`), `=a -> b` → matching, T/F/TRUE/FALSE →
true/false, else short answer; answers carry `%50%` weights and `#feedback`, and
`####` starts the general feedback. Text around an answer block in the middle of
the text (a missing word) gets `_____` where the block was.
"""

import math
import re
from typing import Any

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

# Escaped characters become private-use placeholders while the structure is read.
_ESCAPES = {char: chr(0xE000 + n) for n, char in enumerate(":#={}~")}
_BACKSLASH = "\ue006"
_NEWLINE = "\ue007"
_UNESCAPE = {v: k for k, v in _ESCAPES.items()} | {_BACKSLASH: "\\", _NEWLINE: "\n"}
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d*)?)%")
_FORMAT = re.compile(r"^\[(html|moodle|markdown|plain)\]")
_TAG = re.compile(r"\[tag:([^\]]*)\]")
_IDNUMBER = re.compile(r"\[id:([^\]]*)\]")
# Moodle's embedded answers (cloze): {1:MULTICHOICE:…}, {:SA:…}.
_CLOZE = re.compile(r"^\s*\d*:[A-Z_]+:")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def _escape_pre(text: str) -> str:
    text = text.replace("\\\\", _BACKSLASH)
    for char, placeholder in _ESCAPES.items():
        text = text.replace("\\" + char, placeholder)
    return text.replace("\\n", _NEWLINE)


def _unescape(text: str) -> str:
    for placeholder, char in _UNESCAPE.items():
        text = text.replace(placeholder, char)
    return text


def _with_format(text: str, default: str) -> tuple[str, str]:
    text = text.strip()
    match = _FORMAT.match(text)
    if match:
        return _unescape(text[match.end() :]), match.group(1)
    return _unescape(text), default


def _blocks(text: str) -> list[tuple[int, list[str], list[str]]]:
    """(first line number, lines, comment lines) of each blank-line-separated block."""
    blocks: list[tuple[int, list[str], list[str]]] = []
    start, lines, comments = 0, [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            if lines:
                blocks.append((start, lines, comments))
            start, lines, comments = 0, [], []
            continue
        if line.startswith("//"):
            comments.append(line)
            continue
        # A question's line is its first that is not a comment.
        start = start or number
        lines.append(line)
    if lines:
        blocks.append((start, lines, comments))
    return blocks


def parse_gift(text: str) -> Parsed:
    """The questions of a GIFT file. Raises MoodleError naming the line."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise MoodleError(f"line {line}", "a NUL byte is not text")
    text = text.removeprefix("\ufeff")
    parsed = Parsed()
    category: str | None = None
    for start, lines, comments in _blocks(text):
        where = f"line {start}"
        body = _escape_pre("\n".join(lines)).strip()
        if body.startswith("$CATEGORY:"):
            category = pool_from_category(_unescape(body[len("$CATEGORY:") :])) or DEFAULT_POOL
            continue
        name, question, reason = _question(body, where)
        name = name or f"question at {where}"
        if question is None:
            parsed.skipped.append({"name": name, "reason": reason})
            continue
        notes = "\n".join(comments)
        tags = {tag.strip().lower() for tag in _TAG.findall(notes)}
        ids = _IDNUMBER.findall(notes)
        identifier = question_id(ids[-1] if ids else None)
        if identifier:
            question = {"id": identifier, **question}
        if SCENARIO_TAG in tags:
            scenario = as_scenario(question)
            if scenario is None:
                raise MoodleError(
                    where, "a question tagged scenario needs a code block (``` or <pre>)"
                )
            question = scenario
        parsed.questions.append(
            ImportedQuestion(name=name, where=where, category=category, question=question)
        )
    return parsed


def _question(body: str, where: str) -> tuple[str, dict[str, Any] | None, str]:
    """(name, question dict or None, why it is skipped)."""
    name = ""
    if body.startswith("::"):
        end = body.find("::", 2)
        if end != -1:
            name = " ".join(_unescape(body[2:end]).split())
            body = body[end + 2 :].strip()
        else:
            body = body[2:]
    opening, closing = body.find("{"), body.find("}")
    if opening == -1 and closing == -1:
        return name, None, "a description (text without an answer) is not a question"
    if opening == -1 or closing == -1 or closing < opening:
        raise MoodleError(where, "an answer block needs both { and }, in that order")
    answer = body[opening + 1 : closing].strip()
    rest = body[closing + 1 :]
    if "{" in rest or "}" in rest or _CLOZE.match(answer):
        return (
            name,
            None,
            "embedded answers (cloze, several answer blocks in one text) have no "
            "Preflight question kind",
        )
    # Text after the block: the block was a missing word in the middle of it.
    text = body[:opening] + "_____" + rest if rest.strip() else body[:opening]
    prompt_text, text_format = _with_format(text, "moodle")
    prompt = rich_text(prompt_text, text_format)
    general = ""
    separator = answer.rfind("####")
    if separator != -1:
        general_text, general_format = _with_format(answer[separator + 4 :], text_format)
        general = rich_text(general_text, general_format)
        answer = answer[:separator].strip()
    name = name or " ".join(prompt.split())[:80]
    fields, feedback = _answers(answer, text_format, where)
    if fields is None:
        return name, None, feedback[0][1]
    if fields["kind"] == "essay":
        fields["rubric"] = general or ESSAY_WITHOUT_RUBRIC
        general = ""
    question: dict[str, Any] = {"prompt": prompt, **fields}
    explanation = feedback_lines(general, feedback)
    if explanation:
        question["explanation"] = explanation
    return name, question, ""


def _weight(answer: str, default: float, where: str) -> tuple[float, str]:
    match = _WEIGHT.match(answer)
    if not match:
        return default, answer
    weight = float(match.group(1))
    if not -100 <= weight <= 100:
        raise MoodleError(where, f"the weight %{match.group(1)}% is not between -100 and 100")
    # Rounded: 33.33333 % is 0.3333333, not 0.33333329999999994.
    return round(weight / 100, 9), answer[match.end() :]


def _split_feedback(answer: str, text_format: str) -> tuple[str, str, str]:
    """(text, its format, feedback) of one answer: `text#feedback`."""
    text, _, feedback = answer.partition("#")
    value, value_format = _with_format(text, text_format)
    note, note_format = _with_format(feedback, text_format)
    return value, value_format, rich_text(note, note_format) if note else ""


def _parts(answer: str, separator: str) -> list[str]:
    parts = [part.strip() for part in answer.split(separator)]
    if parts and not parts[0]:
        parts.pop(0)
    return parts


def _answers(
    answer: str, text_format: str, where: str
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """The kind's fields, and (answer, feedback) pairs for the explanation. A kind
    Preflight cannot hold: (None, [("", reason)])."""
    if not answer:
        return {"kind": "essay"}, []
    if answer.startswith("#"):
        return _numeric(answer[1:], text_format, where)
    if "~" in answer:
        return _choices(answer, text_format, where)
    if "=" in answer and "->" in answer:
        return _matching(answer, text_format, where)
    head = answer.split("#", 1)[0].strip().upper()
    if head in _TRUE_FALSE:
        parts = answer.split("#", 2)
        right = _TRUE_FALSE[head]
        wrong_note = rich_text(*_with_format(parts[1], text_format)) if len(parts) > 1 else ""
        right_note = rich_text(*_with_format(parts[2], text_format)) if len(parts) > 2 else ""
        feedback = [(str(right), right_note), (str(not right), wrong_note)]
        return {"kind": "true_false", "answer": right}, feedback
    return _short_answer(answer, text_format, where)


def _choices(answer: str, text_format: str, where: str):
    single = "=" in answer
    parts = _parts(answer.replace("=", "~="), "~")
    if len(parts) < 2:
        raise MoodleError(where, "a multiple-choice question needs at least two answers")
    choices, feedback = [], []
    for part in parts:
        if part.startswith("="):
            fraction, part = 1.0, part[1:]
        else:
            fraction, part = _weight(part, 0.0, where)
        text, value_format, note = _split_feedback(part, text_format)
        text = plain_text(text, value_format)
        choices.append({"text": text, "fraction": fraction})
        feedback.append((text, note))
    partial = any(c["fraction"] not in (0.0, 1.0) for c in choices)
    if single and not partial:
        items = [{"text": c["text"], "correct": c["fraction"] == 1.0} for c in choices]
    else:
        items = choices
    for item in items:
        if not item.get("correct", True):
            item.pop("correct")
    return {"kind": "single" if single else "multiple", "choices": items}, feedback


def _matching(answer: str, text_format: str, where: str):
    pairs, distractors = [], []
    for part in _parts(answer, "="):
        if "->" not in part:
            raise MoodleError(
                where, f"a matching answer needs 'item -> match': {_unescape(part)!r}"
            )
        item, _, match = part.partition("->")
        item_text, item_format = _with_format(item, text_format)
        match_text = plain_text(_unescape(match), "plain")
        item_text = plain_text(item_text, item_format)
        if item_text:
            pairs.append({"item": item_text, "match": match_text})
        else:
            distractors.append(match_text)
    fields: dict[str, Any] = {"kind": "matching", "pairs": pairs}
    if distractors:
        fields["distractors"] = distractors
    return fields, []


def _short_answer(answer: str, text_format: str, where: str):
    answers, feedback = [], []
    for part in _parts(answer, "="):
        fraction, part = _weight(part, 1.0, where)
        text, value_format, note = _split_feedback(part, text_format)
        text = plain_text(text, value_format)
        feedback.append((text, note))
        # An answer worth nothing is only there for its feedback (often `*`).
        if fraction > 0:
            answers.append({"text": text, "fraction": fraction})
        elif fraction < 0:
            raise MoodleError(where, "a short answer cannot be worth less than nothing")
    return {"kind": "short_answer", "answers": answers}, feedback


def _number(text: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise MoodleError(where, f"{text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise MoodleError(where, f"{text.strip()!r} is not a finite number")
    return value


def _numeric(answer: str, text_format: str, where: str):
    wrong = ""
    if "~" in answer:
        answer, _, wrong = answer.partition("~")
    parts = _parts(answer, "=")
    if not parts:
        raise MoodleError(where, "a numeric question needs an answer")
    accepted: list[tuple[float, float, float]] = []
    feedback = []
    for part in parts:
        fraction, part = _weight(part, 1.0, where)
        text, _, note = _split_feedback(part, text_format)
        feedback.append((text.strip(), note))
        if fraction == 0:
            continue
        if ".." in text[1:]:
            low, high = (_number(x, where) for x in text.split("..", 1))
            value, tolerance = (low + high) / 2, abs(high - low) / 2
        elif ":" in text[1:]:
            value_text, tolerance_text = text.split(":", 1)
            value, tolerance = _number(value_text, where), abs(_number(tolerance_text, where))
        else:
            value, tolerance = _number(text, where), 0.0
        accepted.append((fraction, value, tolerance))
    if wrong:
        _, _, note = _split_feedback(wrong, text_format)
        feedback.append(("*", note))
    if len(accepted) != 1 or accepted[0][0] != 1:
        return None, [
            (
                "",
                "numeric answers with partial credit: Preflight's numeric question has "
                "one value and a tolerance",
            )
        ]
    _, value, tolerance = accepted[0]
    return {"kind": "numeric", "value": value, "tolerance": tolerance}, feedback


# --- writing ------------------------------------------------------------------


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("\r", "")
    for char in "~=#{}:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.10g}"


def _answer_block(kind: str, fields: dict[str, Any], explanation: str) -> str | None:
    """The `{…}` of a question of `kind` (its document fields), or None when GIFT
    cannot say it (ordering)."""
    lines: list[str] = []
    if kind in ("single", "multiple"):
        choices = fields["choices"]
        fractions = [c.get("fraction") for c in choices]
        if kind == "multiple" and all(f is None for f in fractions):
            # All or nothing has no GIFT form: Moodle's nearest, equal shares for
            # the right choices and a wrong pick costing the whole mark.
            right = sum(1 for c in choices if c.get("correct"))
            fractions = [1 / right if c.get("correct") else -1.0 for c in choices]
        for choice, fraction in zip(choices, fractions, strict=True):
            text = _escape(choice["text"])
            if kind == "single" and (fraction == 1 or (fraction is None and choice.get("correct"))):
                lines.append(f"\t={text}")
            elif kind == "single" and not fraction:
                lines.append(f"\t~{text}")
            else:
                lines.append(f"\t~%{_percent(fraction or 0.0)}%{text}")
    elif kind == "true_false":
        lines.append("\tTRUE" if fields["answer"] else "\tFALSE")
    elif kind == "short_answer":
        for item in fields["answers"]:
            weight = "" if item["fraction"] == 1 else f"%{_percent(item['fraction'])}%"
            lines.append(f"\t={weight}{_escape(item['text'])}")
    elif kind == "numeric":
        tolerance = fields.get("tolerance", 0.0)
        lines.append(f"\t#{fields['value']!r}:{tolerance!r}")
    elif kind == "matching":
        for pair in fields["pairs"]:
            lines.append(f"\t={_escape(pair['item'])} -> {_escape(pair['match'])}")
        for distractor in fields.get("distractors", []):
            lines.append(f"\t= -> {_escape(distractor)}")
    elif kind == "essay":
        explanation = fields["rubric"]
    else:
        return None
    if explanation:
        lines.append(f"\t####[markdown]{_escape(explanation)}")
    return "{\n" + "\n".join(lines) + "\n}" if lines else "{}"


def write_gift(sections: list[tuple[str | None, list[dict[str, Any]]]], *, title: str) -> str:
    """GIFT for questions as course documents write them, by pool (`None`: the
    quiz's own questions, written first, under no category). Questions GIFT cannot
    hold (ordering) are left out, each with a comment saying so."""
    out = [f"// {_escape(title)}", "// Written by Preflight; Moodle reads it as GIFT.", ""]
    for pool, questions in sections:
        if pool is not None:
            out += [f"$CATEGORY: {pool.replace('/', '//')}", ""]
        for number, question in enumerate(questions, start=1):
            name = question.get("id") or (f"{pool}#{number}" if pool else f"q{number}")
            kind = question["kind"]
            text = question["prompt"]
            fields = {k: v for k, v in question.items() if k not in ("id", "prompt", "kind")}
            explanation = fields.pop("explanation", "")
            fields.pop("skill", None)
            fields.pop("feature", None)
            comments = [f"// [id:{question['id']}]"] if question.get("id") else []
            if kind == "scenario":
                inner = dict(fields["question"])
                kind = inner.pop("kind")
                text = "\n\n".join(
                    part for part in (text, fields["scenario"], inner.pop("prompt", "")) if part
                )
                fields = inner
                comments.append(f"// [tag:{SCENARIO_TAG}]")
            block = _answer_block(kind, fields, explanation)
            if block is None:
                out += [f"// Not written: {_escape(name)} ({kind} questions have no GIFT form)", ""]
                continue
            out += [*comments, f"::{_escape(name)}::[markdown]{_escape(text)}{block}", ""]
    return "\n".join(out)

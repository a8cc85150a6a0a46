"""Moodle question files (GIFT and Moodle XML) read into course-document questions,
and questions written back as GIFT.

The readers here only parse: each turns a file into the question dicts a course
document holds (see courses.documents), plus the questions Preflight has no kind
for, each with the reason it is skipped. They never touch the database; writing
the questions into a course's pool is courses.services.questions's, through the
same validator and write service as a course document.

A file that cannot be read (a brace never closed, XML that is not well formed, a
weight out of range) raises MoodleError naming the line (GIFT) or the element
(XML): nothing of such a file is imported.
"""

import html
import re
from dataclasses import dataclass, field
from typing import Any

import nh3

from courses.markdown import CLEAN_CONTENT_TAGS, sanitize_html

DEFAULT_POOL = "imported"
POOL_NAME_MAX = 100  # QuestionPool.name
# A question tagged so (GIFT `// [tag:scenario]`, XML <tags>) is a scenario: the
# code blocks of its text are the log, trace or code it asks about.
SCENARIO_TAG = "scenario"
ESSAY_WITHOUT_RUBRIC = "_Imported without grader information: grade against the prompt._"


class MoodleError(Exception):
    """A file that cannot be read; `where` names the line or element."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


@dataclass
class ImportedQuestion:
    name: str  # Moodle's question name, for reports
    where: str  # "line 12" or "question 3", for reports
    category: str | None  # the pool its file puts it in, if the file says
    question: dict[str, Any]  # as a course document writes it


@dataclass
class Parsed:
    questions: list[ImportedQuestion] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"name", "reason"}


def pool_from_category(path: str) -> str | None:
    """The pool a Moodle category path names: its last part (`$course$/top/Net` →
    `Net`; Moodle doubles a `/` that is part of a name)."""
    parts = re.split(r"(?<!/)/(?!/)", path.strip())
    name = parts[-1].replace("//", "/").strip() if parts else ""
    return name[:POOL_NAME_MAX] or None


def clean_html(text: str) -> str:
    """HTML from a Moodle file, sanitised with the lessons' rules (courses.markdown),
    so what is stored is already what a page may show."""
    return sanitize_html(text).strip()


def html_to_text(text: str) -> str:
    """HTML as one line of plain text (a choice, an accepted answer, a match): tags
    dropped (scripts and styles with their content), entities decoded."""
    stripped = nh3.clean(text, tags=set(), clean_content_tags=set(CLEAN_CONTENT_TAGS))
    return " ".join(html.unescape(stripped).split())


# Text formats of Moodle: html and moodle (auto-format) may hold HTML; markdown
# and plain are kept as written (Preflight's text is Markdown).
HTML_FORMATS = frozenset({"html", "moodle", "moodle_auto_format"})


def rich_text(text: str, text_format: str) -> str:
    """A prompt, explanation or rubric: sanitised HTML, or Markdown as written."""
    if text_format in HTML_FORMATS:
        return clean_html(text)
    return text.strip()


def plain_text(text: str, text_format: str) -> str:
    """A choice, answer, item or match: one line of text."""
    if text_format in HTML_FORMATS:
        return html_to_text(text)
    return text.strip()


_MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]<>#|~]")


def _markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(), text)


def feedback_lines(general: str, feedback: list[tuple[str, str]]) -> str:
    """The explanation: the general feedback, then each answer's own feedback as
    `- **answer**: feedback` (Preflight shows one explanation per question)."""
    parts = [general.strip()] if general.strip() else []
    items = [
        f"- **{_markdown_escape(answer)}**: {text.strip()}"
        for answer, text in feedback
        if text.strip()
    ]
    if items:
        parts.append("\n".join(items))
    return "\n\n".join(parts)


_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)


def as_scenario(question: dict[str, Any]) -> dict[str, Any] | None:
    """A question tagged `scenario` as one: its text before the first code block
    (a Markdown fence, or HTML <pre>) is the prompt, the blocks the scenario, the
    text after them its question's prompt. None when the text has no code block."""
    prompt = question["prompt"]
    fences = [m.start() for m in _FENCE.finditer(prompt)]
    if len(fences) >= 2:
        start = fences[0]
        closing = fences[-1]
        end = prompt.find("\n", closing)
        end = len(prompt) if end == -1 else end
    else:
        start = prompt.find("<pre")
        end = prompt.rfind("</pre>")
        if start == -1 or end == -1:
            return None
        end += len("</pre>")
    before, scenario = prompt[:start].strip(), prompt[start:end].strip()
    after = prompt[end:].strip()
    if not before:
        before, after = after, ""
    inner = {k: v for k, v in question.items() if k not in ("id", "prompt", "explanation")}
    if after:
        inner["prompt"] = after
    outer: dict[str, Any] = {"prompt": before, "kind": "scenario", "scenario": scenario}
    if "id" in question:
        outer["id"] = question["id"]
    outer["question"] = inner
    if question.get("explanation"):
        outer["explanation"] = question["explanation"]
    return outer


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")


def question_id(idnumber: str | None) -> str | None:
    """Moodle's idnumber as the question's `id`, when it is one a document allows
    (else the question is named by its place)."""
    if not idnumber:
        return None
    idnumber = idnumber.strip()
    if len(idnumber) > 100 or not _ID.match(idnumber):
        return None
    if idnumber[:1] == "q" and idnumber[1:].isdigit():
        return None
    return idnumber

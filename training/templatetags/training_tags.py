"""Template helpers for the engineer's pages and the lead's skill matrix."""

from datetime import date, datetime, timedelta
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from markdown_it import MarkdownIt

from courses.markdown import render_inline_markdown, render_markdown, without_leading_title
from training import labels
from training.readiness.policy import blocking_words

register = template.Library()


def _span(delta: timedelta) -> str:
    """A short, rounded-down length of time: "3 days", "5 h", "12 min"."""
    seconds = int(abs(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days >= 2:
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if days == 1:
        hours += 24
    if hours:
        return ngettext("%(n)d h", "%(n)d h", hours) % {"n": hours}
    return ngettext("%(n)d min", "%(n)d min", max(minutes, 1)) % {"n": max(minutes, 1)}


@register.filter
def time_left(due_at: datetime | None, now: datetime | None = None) -> str:
    """ "due in 3 days" before the due date, "overdue by 5 h" after it."""
    if due_at is None:
        return ""
    delta = due_at - (now or timezone.now())
    if delta.total_seconds() >= 0:
        return gettext("due in %(span)s") % {"span": _span(delta)}
    return gettext("overdue by %(span)s") % {"span": _span(delta)}


@register.filter
def markdown(text: str, heading_offset: int = 0) -> str:
    """Course Markdown as sanitized HTML (see courses.markdown)."""
    return mark_safe(render_markdown(text or "", heading_offset=int(heading_offset)))


_OUTLINE = MarkdownIt("commonmark")


@register.filter
def markdown_below(text: str, level: int = 1) -> str:
    """Course Markdown whose top heading sits one level below the page's heading
    `level`, whatever level the author started at ("## What changed" under the
    lesson's <h1> becomes an <h2>): headings that skip a level confuse the outline
    screen readers navigate by."""
    text = text or ""
    levels = [int(t.tag[1]) for t in _OUTLINE.parse(text) if t.type == "heading_open"]
    offset = int(level) + 1 - min(levels) if levels else 0
    return mark_safe(render_markdown(text, heading_offset=offset))


@register.filter
def lesson_markdown(lesson) -> str:
    """A lesson's body below the page's <h1>, which already says the lesson's
    title: a body that opens with that same heading loses it (see
    courses.markdown.without_leading_title)."""
    return markdown_below(without_leading_title(lesson.body or "", lesson.title), 1)


@register.filter
def markdown_inline(text: str) -> str:
    """One line of course Markdown (code, emphasis) as sanitized inline HTML, for
    quiz choices: no block, link or raw HTML (see courses.markdown)."""
    return mark_safe(render_inline_markdown(text or ""))


@register.filter
def accessible_widget(field):
    """A form field's widget tied to its help text and errors for screen readers."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        described.append(f"{field.auto_id}_errors")
    attrs = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def level_name(level) -> str:
    """A skill level (1 to 4) in words of the active language."""
    return str(labels.SKILL_LEVELS.get(level, "")) if level else ""


@register.filter
def assignment_status(status: str) -> str:
    return str(labels.ASSIGNMENT_STATUSES.get(status, status))


@register.filter
def release_status(status: str) -> str:
    return str(labels.RELEASE_STATUSES.get(status, status))


@register.filter
def assignment_reason(reason: str) -> str:
    return str(labels.ASSIGNMENT_REASONS.get(reason, reason))


@register.filter
def blocking_reasons(readiness) -> list[str]:
    """What blocks a release, in the reader's language."""
    return blocking_words(readiness)


class _CellMarkup(dict):
    """A matrix cell's <td>, built on first use and kept for the render. Keyed by
    the cell itself: the selector shares one `MatrixCell` per distinct kind, and
    cells hash by identity, so a row is a map over this dict (no Python call
    per cell)."""

    def __init__(self, build) -> None:
        super().__init__()
        self.build = build

    def __missing__(self, cell) -> str:
        html = self[cell] = self.build(cell)
        return html


class _MatrixRows:
    """The <tr>s of the skill matrix's body.

    At 500 engineers x 100 skills the template's per-cell tags and filters
    (level name, translate, date) and its per-row attribute walks cost seconds
    per page, and even one Python call per cell tens of milliseconds. A cell's
    markup depends only on its level, whether it is stale and the day it was
    verified (in the current time zone, from the selector), so each distinct
    cell is built once per render, in the active language, and a row is a join
    of ready strings. Engineer names and the other row headers are user data:
    format_html escapes them, as the template did.

    The markup is short because it repeats 50,000 times: an empty cell (most of
    them) is a bare <td></td>, which a screen reader announces as blank and the
    legend explains; a level is its number, its colour class and its name for
    screen readers, with when it was verified and until when it counts in the title.
    """

    EMPTY = "<td></td>"

    def __init__(self) -> None:
        self.date_format = gettext("j M Y")
        self.stale = gettext("stale")
        self.verified = gettext("verified")
        self.valid_until = gettext("valid until")
        self.expired = gettext("expired")
        self.days: dict[date | None, str] = {None: ""}
        self.cells = _CellMarkup(self._cell)
        # Reversed once, the username put in per row: a matrix may list 500 engineers.
        self.engineer_url = reverse("lead_engineer", args=["-"])

    def row(self, row) -> str:
        engineer = row.engineer
        head = format_html(
            '<tr>\n<th scope="row" class="matrix-engineer">\n'
            '<a class="person-name person-link" href="{}">{}</a>\n'
            '<span class="person-meta">{} · {} · {} · {}</span>\n</th>',
            self.engineer_url.replace("/-/", f"/{quote(engineer.username)}/"),
            engineer.name,
            engineer.username,
            engineer.team_slug,
            engineer.region,
            engineer.tier,
        )
        return "".join([head, *map(self.cells.__getitem__, row.cells), "</tr>\n"])

    def _day(self, day: date | None) -> str:
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = formats.date_format(day, self.date_format)
        return text

    def _cell(self, cell) -> str:
        if not cell.level:
            return self.EMPTY
        day, until = self._day(cell.verified_on), self._day(cell.valid_until_on)
        level, name = cell.level, level_name(cell.level)
        if cell.stale:
            return format_html(
                '<td class="heat level-{} stale" title="{} ({}), {} {}, {} {}">({})'
                '<span class="visually-hidden"> {}, {}</span></td>',
                level, name, self.stale, self.verified, day, self.expired, until, level, name,
                self.stale,
            )  # fmt: skip
        return format_html(
            '<td class="heat level-{}" title="{}, {} {}, {} {}">{}'
            '<span class="visually-hidden"> {}</span></td>',
            level, name, self.verified, day, self.valid_until, until, level, name,
        )  # fmt: skip


@register.simple_tag
def matrix_rows(rows) -> SafeString:
    """The skill matrix's body rows (`MatrixRow`s): the engineer as a row header,
    then a cell per skill: empty without a record; else the level as text, a
    colour class, stale marked, the level's name for screen readers and, in the
    title, when it was verified."""
    renderer = _MatrixRows()
    # Every part is format_html's output or a constant.
    return mark_safe("".join(map(renderer.row, rows)))


@register.filter
def percent_of(share: float | None) -> int:
    """A share of a mark (0 to 1) as whole percent, rounded down."""
    return int((share or 0) * 100 + 1e-9)


def _number(value: float) -> str:
    return formats.number_format(value, decimal_pos=None)


@register.simple_tag
def answer_lines(result, reveal: bool) -> list[dict]:
    """A submitted answer to a question without choices, as (label, what was
    given, the key) lines; the key only where `reveal` allows it, and never an
    essay's rubric."""
    question, given = result.question, list(result.answer)
    kind = question["kind"]
    if kind in ("ordering", "matching"):
        lines = []
        if kind == "ordering":
            place = {key: str(n) for n, key in enumerate(question["order"], start=1)}
        options = {o["key"]: o["text"] for o in question.get("options", [])}
        for n, item in enumerate(question["items"]):
            value = given[n] if n < len(given) else ""
            if kind == "ordering":
                line = {"label": item["text"], "given": value, "key": place[item["key"]]}
            else:
                right = options.get(question["pairs"][item["key"]], "")
                line = {"label": item["text"], "given": options.get(value, ""), "key": right}
            if not reveal or line["key"] == line["given"]:
                line["key"] = ""
            lines.append(line)
        return lines
    text = given[0] if given else ""
    key = ""
    if kind == "true_false":
        text = gettext("True") if text == "true" else gettext("False")
        key = gettext("True") if question["answer"] else gettext("False")
    elif kind == "short_answer":
        key = next((a["text"] for a in question["answers"] if a["fraction"] == 1), "")
    elif kind == "numeric":
        units = question.get("units") or []
        key = _number(question["value"])
        if question.get("tolerance"):
            key += " ± " + _number(question["tolerance"])
        if units:
            key += " " + units[0]["unit"]
    if not reveal or kind == "essay" or result.right:
        key = ""
    return [{"label": gettext("Your answer"), "given": text, "key": key}]

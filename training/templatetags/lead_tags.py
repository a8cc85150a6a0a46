"""Template helpers for the lead pages: who gets the lead menu, the rows of a
release's engineer table, and the per-region readiness chart drawn as inline SVG on
the server (no chart library, no script)."""

import math
from datetime import UTC, datetime
from html import escape
from urllib.parse import quote

from django import template
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.safestring import mark_safe
from django.utils.text import get_text_list
from django.utils.translation import gettext

from training.models import Engineer
from training.selectors.access import has_lead_pages_expression
from training.selectors.coverage import Cell
from training.selectors.leads import EngineerRow, EngineerStatus

register = template.Library()


@register.filter
def and_list(items) -> str:
    """["EMEA", "AMER"] → "EMEA and AMER" (in the reader's language)."""
    return get_text_list([str(item) for item in items], gettext("and"))


# Chart geometry, in SVG user units: drawn at its natural size (1 unit = 1 CSS px,
# so the text stays readable), shrunk only where the container is narrower.
_LABEL_WIDTH = 56
_BAR_X = 60
_BAR_WIDTH = 200
_ROW_HEIGHT = 30
_BAR_HEIGHT = 16
_TOP = 8


@register.filter
def as_percent(share) -> int | str:
    """0.456 → 45: whole percent rounded down, as readiness's blocking reasons say it."""
    try:
        return math.floor(float(share) * 100 + 1e-9)
    except (TypeError, ValueError):
        return ""


@register.simple_tag(takes_context=True)
def nav_roles(context) -> dict[str, bool]:
    """{"lead": …, "engineer": …} for the main menu. Views that already know (the
    engineer and lead pages set `request.is_lead` and `request.is_engineer`) cost no
    query; any other page asks once, in one query, and keeps the answer."""
    request = context.get("request")
    user = context.get("user")
    if request is None or user is None or not user.is_authenticated:
        return {"lead": False, "engineer": False}
    if not (hasattr(request, "is_lead") and hasattr(request, "is_engineer")):
        row = (
            get_user_model()
            .objects.filter(pk=user.pk)
            .annotate(
                leads_a_team=ExpressionWrapper(
                    has_lead_pages_expression("pk"), output_field=BooleanField()
                ),
                has_profile=Exists(Engineer.objects.filter(user=OuterRef("pk"))),
            )
            .values_list("leads_a_team", "has_profile")
            .first()
        ) or (False, False)
        request.is_lead = bool(row[0]) or (user.is_active and user.is_staff)
        request.is_engineer = bool(row[1])
    return {"lead": request.is_lead, "engineer": request.is_engineer}


# One row of the lead release page's engineer table. Built in Python, as the admin's
# change list builds its rows (`items_for_result`): at 500 engineers, a template
# loop with a `date` filter, a translate tag and attribute walks per cell was most
# of the page's render time. Every value goes in escaped (`escape` below is what
# Django's own escape does, without wrapping each cell in a SafeString).
_ENGINEER_ROW = (
    '\n      <tr class="row-{status}">'
    '\n        <th scope="row"><a class="person-link" href="{url}">{name}</a>'
    ' <span class="muted mono">{username}</span></th>'
    '\n        <td data-label="{team_label}">{team}</td>'
    '\n        <td data-label="{region_label}">{region}</td>'
    '\n        <td data-label="{status_column}" class="cell-key">'
    '<span class="badge status-badge status-{status}">{status_label}</span></td>'
    '\n        <td data-label="{progress_column}" class="cell-key">'
    '<div class="progress-cell"><progress class="progress" max="100"'
    ' value="{percent}" aria-label="{progress_label}"></progress>'
    " <span>{percent}%</span></div></td>"
    '\n        <td data-label="{attempts_column}">{attempts}</td>'
    '\n        <td data-label="{due_column}" class="cell-key">{due}</td>'
    '\n        <td data-label="{activity_column}">{last_activity}</td>'
    '\n        <td class="cell-actions">{actions}</td>'
    "\n      </tr>\n    "
)

# A lead's row actions: two small forms (CSRF, a reason) folded in <details>, so
# the table stays a table without a script. An error comes back as the release page
# with the form and its errors (training.views.lead._row_action).
_ROW_ACTIONS = (
    '<details class="row-action"><summary>{grant_label}</summary>'
    '<form method="post" action="{grant_url}" class="row-form">{hidden}'
    '<label>{extra_label} <input type="number" name="extra" value="1" min="1" max="10"'
    " required></label>"
    '<label>{reason_label} <input type="text" name="reason" maxlength="1000" required></label>'
    '<button type="submit" class="button">{grant_button}</button></form></details>'
    '<details class="row-action"><summary>{extend_label}</summary>'
    '<form method="post" action="{extend_url}" class="row-form">{hidden}'
    '<label>{due_label} <input type="datetime-local" name="due_at" required></label>'
    '<label>{reason_label} <input type="text" name="reason" maxlength="1000" required></label>'
    '<button type="submit" class="button">{extend_button}</button></form></details>'
)
_ACTIONABLE = {
    EngineerStatus.LOCKED_OUT,
    EngineerStatus.OVERDUE,
    EngineerStatus.ASSIGNED,
    EngineerStatus.IN_PROGRESS,
}


@register.simple_tag
def engineer_table_rows(rows: list[EngineerRow], csrf_token: str = "", here: str = "") -> str:
    """The <tr>s of the engineer table, as the template gave them: times in the
    active time zone as `c` and the translated "j M, H:i" (what the `date` filter
    gives; each distinct time formatted once), the status label, "Progress of
    <name>" for the progress bar, "none" for no activity yet, and for an open
    engineer the lead's actions "Grant an attempt" and "Extend" (posting back to
    `here`)."""
    short = get_format(gettext("j M, H:i"))
    times: dict[datetime, str] = {}

    def moment(at: datetime | None, missing: str) -> str:
        if at is None:
            return missing
        if at not in times:
            local = timezone.localtime(at)
            iso, text = escape(local.isoformat()), escape(dateformat.format(local, short))
            times[at] = f'<time datetime="{iso}">{text}</time>'
        return times[at]

    labels = {status: escape(str(label)) for status, label in EngineerStatus.LABELS.items()}
    progress_of = gettext("Progress of %(name)s")
    no_activity = f'<span class="muted">{escape(gettext("none"))}</span>'
    words = {
        key: escape(text)
        for key, text in {
            "grant_label": gettext("Grant an attempt"),
            "grant_button": gettext("Grant"),
            "extra_label": gettext("Attempts"),
            "reason_label": gettext("Reason"),
            "extend_label": gettext("Extend"),
            "extend_button": gettext("Extend"),
            "due_label": gettext("New due date"),
        }.items()
    }
    # The column names again on each cell: a phone shows each row as a card.
    columns = {
        key: escape(text)
        for key, text in {
            "team_label": gettext("Team"),
            "region_label": gettext("Region"),
            "status_column": gettext("Status"),
            "progress_column": gettext("Progress"),
            "attempts_column": gettext("Attempts"),
            "due_column": gettext("Due"),
            "activity_column": gettext("Last activity"),
        }.items()
    }
    hidden = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(csrf_token))}">'
        f'<input type="hidden" name="next" value="{escape(here)}">'
    )
    # Reversed once, the id put in per row: a release page may list 500 engineers.
    grant_url = reverse("lead_assignment_grant", args=[0])
    extend_url = reverse("lead_assignment_extend", args=[0])
    engineer_url = reverse("lead_engineer", args=["-"])

    def actions(row: EngineerRow) -> str:
        if row.assignment_id is None or row.status not in _ACTIONABLE:
            return ""
        pk = str(int(row.assignment_id))
        return _ROW_ACTIONS.format(
            hidden=hidden,
            grant_url=escape(grant_url.replace("/0/", f"/{pk}/")),
            extend_url=escape(extend_url.replace("/0/", f"/{pk}/")),
            **words,
        )

    html = []
    for row in rows:
        name = row.name
        html.append(
            _ENGINEER_ROW.format(
                status=escape(row.status),
                name=escape(name),
                username=escape(row.username),
                url=escape(engineer_url.replace("/-/", f"/{quote(row.username)}/")),
                team=escape(row.team),
                region=escape(row.region),
                status_label=labels[row.status],
                percent=int(row.percent),
                progress_label=escape(progress_of % {"name": name}),
                attempts=int(row.attempts),
                due=moment(row.due_at, "—"),
                last_activity=moment(row.last_activity, no_activity),
                actions=actions(row),
                **columns,
            )
        )
    return mark_safe("".join(html))


@register.inclusion_tag("training/lead/partials/region_chart.html")
def region_chart(regions: dict, key, policy: float | None = None) -> dict:
    """A horizontal bar per region: complete (exempt included) against required,
    with the figures written next to each bar and the whole chart described in its
    <title> for screen readers. `policy` draws the minimum completion as a line;
    `key` makes the element ids unique on a page with several charts."""
    rows = []
    for index, (region, figures) in enumerate(regions.items()):
        required, complete = figures["required"], figures["complete"]
        share = complete / required if required else 1.0
        y = _TOP + index * _ROW_HEIGHT
        rows.append(
            {
                "region": region,
                "required": required,
                "complete": complete,
                "percent": figures.get("percent", int(share * 100)),
                "width": round(_BAR_WIDTH * share, 1),
                "y": y,
                "bar_y": y + (_ROW_HEIGHT - _BAR_HEIGHT) / 2 - 2,
                "text_y": y + _ROW_HEIGHT / 2 + 3,
                "meets": policy is None or share >= policy,
            }
        )
    height = _TOP * 2 + len(rows) * _ROW_HEIGHT
    title = gettext("Complete engineers per region: %(figures)s.") % {
        "figures": "; ".join(
            gettext("%(region)s %(complete)d of %(required)d (%(percent)d%%)") % row for row in rows
        )
    }
    policy_x = round(_BAR_X + _BAR_WIDTH * policy, 1) if policy is not None else None
    return {
        "rows": rows,
        "chart_id": f"region-chart-{key}",
        "title": title,
        "height": height,
        "label_width": _LABEL_WIDTH,
        "bar_x": _BAR_X,
        "bar_width": _BAR_WIDTH,
        "bar_height": _BAR_HEIGHT,
        "text_x": _BAR_X + _BAR_WIDTH + 8,
        "policy_x": policy_x,
        "policy_percent": round(policy * 100) if policy is not None else None,
        "view_width": _BAR_X + _BAR_WIDTH + 110,
    }


@register.simple_tag(takes_context=True)
def page_query(context, number, param: str = "page") -> str:
    """ "?…" for page `number` of a list: the current query string (its search and
    filters) with `param` set (escaped by the template, as every simple tag is)."""
    query = context["request"].GET.copy()
    query[param] = str(number)
    return "?" + query.urlencode()


_COVERAGE_CELL = (
    '<td class="cov cov-{level}{gap}" data-hour="{iso}"><details>'
    '<summary title="{title}">{ready}</summary><div class="cov-who">'
    "<p><strong>{region} · {when}</strong><br>{figures}</p>{names}</div></details></td>"
)


@register.simple_tag
def coverage_heat_rows(rows: list[tuple[str, list[Cell]]], hours: list[datetime]) -> str:
    """The <tr>s of the coverage heat map (training/partials/coverage.html), as its
    template would write them: each hour formatted once ("D j M H:i" in the active
    time zone, and UTC ISO for `data-hour`), not once per region and cell; a cell
    opens on who is ready and who is not."""
    when_format = "D j M H:i"
    when = {hour: dateformat.format(timezone.localtime(hour), when_format) for hour in hours}
    iso = {hour: escape(hour.astimezone(UTC).isoformat()) for hour in hours}
    title = gettext("%(when)s: %(ready)s ready of %(on)s on shift, %(experts)s experts")
    figures = gettext("%(ready)s ready of %(on)s on shift, %(experts)s experts")
    ready_label, not_ready_label = escape(gettext("Ready:")), escape(gettext("Not ready:"))
    more = gettext("and %(n)s more")

    html = []
    for region, cells in rows:
        region_text = escape(region)
        html.append(f'<tr data-region="{region_text}"><th scope="row">{region_text}</th>')
        for cell in cells:
            counts = {"ready": cell.ready, "on": cell.on_shift, "experts": cell.experts}
            names = ""
            if cell.ready_names:
                names += f"<p>{ready_label} {escape(', '.join(cell.ready_names))}</p>"
            if cell.not_ready_names:
                names += f"<p>{not_ready_label} {escape(', '.join(cell.not_ready_names))}</p>"
            if cell.more:
                names += f'<p class="muted">{escape(more % {"n": cell.more})}</p>'
            html.append(
                _COVERAGE_CELL.format(
                    level=int(cell.level),
                    gap=" cov-gap" if cell.gap else "",
                    iso=iso[cell.start],
                    title=escape(title % {"when": when[cell.start], **counts}),
                    ready=int(cell.ready),
                    region=region_text,
                    when=escape(when[cell.start]),
                    figures=escape(figures % counts),
                    names=names,
                )
            )
        html.append("</tr>")
    return mark_safe("".join(html))

"""Template helpers for the lead pages: who gets the lead menu, and the per-region
readiness chart drawn as inline SVG on the server (no chart library, no script)."""

import math

from django import template
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext

from training.models import Engineer, Team

register = template.Library()

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
                leads_a_team=Exists(Team.objects.filter(leads=OuterRef("pk"))),
                has_profile=Exists(Engineer.objects.filter(user=OuterRef("pk"))),
            )
            .values_list("leads_a_team", "has_profile")
            .first()
        ) or (False, False)
        request.is_lead = bool(row[0]) or user.is_staff
        request.is_engineer = bool(row[1])
    return {"lead": request.is_lead, "engineer": request.is_engineer}


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

"""The readiness policy: counts in, a verdict out, with reasons as data.

A reason is `{"code": ..., "params": {...}}`; `reason_text` turns it into words of
the active language at the edge (the API's `blocking`, the pages, mail). Nothing
parses those words back apart.
"""

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypedDict

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from courses.models import Release
from training.models import Region
from training.readiness.counts import Counts
from training.readiness.coverage import Gap


class Reason(TypedDict):
    code: str
    params: dict[str, Any]


class Policy(TypedDict):
    min_completion: float
    min_complete_per_region: int


class RegionReadiness(TypedDict):
    required: int
    complete: int


class Readiness(TypedDict):
    ready: bool
    policy: Policy
    required: int
    complete: int
    exempt: int
    overdue: int
    completion: float
    due_at: datetime
    regions: dict[str, RegionReadiness]
    reasons: list[Reason]
    blocking: list[str]
    at_risk: bool
    risks: list[Reason]
    scope: Literal["all", "teams"]


COURSE_DRAFT = "course_draft"
BELOW_COMPLETION = "below_completion"
REGION_WITHOUT_COMPLETE = "region_without_complete"
REGION_BELOW_MINIMUM = "region_below_minimum"
# Why a release is at risk (`risks`): reasons too, put into words the same way.
DUE_PASSED = "due_passed"
DUE_SOON = "due_soon"
ENGINEERS_OVERDUE = "engineers_overdue"
ENGINEERS_LOCKED_OUT = "engineers_locked_out"
# Hours of the launch window short of ready people (or experts) on shift: a reason
# when the coverage policy is set, and a risk when such an hour is near.
COVERAGE_GAP = "coverage_gap"
COVERAGE_GAP_SOON = "coverage_gap_soon"


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def coverage_gap_hours(gaps: Sequence[Gap]) -> list[dict[str, str]]:
    """Gaps as a reason's `hours`: [{start, end}] in UTC (JSON, kept on records)."""
    return [{"start": utc_iso(gap["start"]), "end": utc_iso(gap["end"])} for gap in gaps]


def _hours_text(hours: Sequence[Mapping[str, str]]) -> str:
    """The hours in the active time zone (UTC in the API, the reader's on pages)."""
    spans = []
    for span in hours[:6]:
        start = timezone.localtime(datetime.fromisoformat(span["start"]))
        end = timezone.localtime(datetime.fromisoformat(span["end"]))
        same_day = start.date() == (end - timedelta(seconds=1)).date()
        spans.append(
            f"{date_format(start, gettext('D j M H:i'))}-"
            f"{date_format(end, 'H:i' if same_day else gettext('D j M H:i'))}"
        )
    if len(hours) > 6:
        spans.append(gettext("and %(n)s more") % {"n": len(hours) - 6})
    zone = timezone.get_current_timezone_name()
    return gettext("%(spans)s (%(zone)s)") % {"spans": ", ".join(spans), "zone": zone}


def _percent(value: float) -> str:
    return f"{value * 100:g}%"


def reason_text(reason: Reason) -> str:
    """A reason in words of the active language (English for API v1's `blocking`
    unless the client asked for another). An unknown code reads as itself."""
    code, params = reason["code"], reason["params"]
    if code == COURSE_DRAFT:
        names = {"course": params["course"], "release": f"{params['sdk']} {params['version']}"}
        if params.get("has_quiz", True):
            return gettext("the course for %(release)s is still a draft (%(course)s)") % names
        return gettext("the course for %(release)s has no quiz yet (%(course)s)") % names
    if code == BELOW_COMPLETION:
        # Floor, so a completion just under the bar never reads as equal to it.
        shown = math.floor(params["completion"] * 100 + 1e-9)
        return gettext("completion %(shown)s%% is below %(needed)s") % {
            "shown": shown,
            "needed": _percent(params["min"]),
        }
    if code == REGION_WITHOUT_COMPLETE:
        return gettext("%(region)s has no complete engineer") % {"region": params["region"]}
    if code == REGION_BELOW_MINIMUM:
        return gettext("%(region)s has %(complete)s complete engineers, fewer than %(needed)s") % {
            "region": params["region"],
            "complete": params["complete"],
            "needed": params["min"],
        }
    if code == DUE_PASSED:
        return gettext("the training due date has passed")
    if code == DUE_SOON:
        return gettext("training is due within %(hours)s h and support is not ready") % {
            "hours": params["hours"]
        }
    if code == ENGINEERS_OVERDUE:
        return ngettext(
            "%(count)s required engineer is overdue",
            "%(count)s required engineers are overdue",
            params["count"],
        ) % {"count": params["count"]}
    if code == ENGINEERS_LOCKED_OUT:
        return ngettext(
            "%(count)s required engineer is locked out (every attempt used)",
            "%(count)s required engineers are locked out (every attempt used)",
            params["count"],
        ) % {"count": params["count"]}
    if code == COVERAGE_GAP:
        return gettext("too few ready people on shift during the launch window: %(hours)s") % {
            "hours": _hours_text(params["hours"])
        }
    if code == COVERAGE_GAP_SOON:
        return gettext(
            "an hour of the launch window without enough ready people on shift "
            "starts within %(hours)s h"
        ) % {"hours": params["hours"]}
    return code


def release_risks(
    release: Release,
    *,
    ready: bool,
    overdue: int,
    locked_out: int,
    now: datetime,
    gaps: Sequence[Gap] = (),
) -> list[Reason]:
    """Why the release is at risk (empty: it is not). At risk: not ready and its
    training due within PREFLIGHT_AT_RISK_HOURS (or already past), or any required
    engineer overdue or locked out, or (coverage policy set) an uncovered hour of the
    launch window starts within PREFLIGHT_AT_RISK_HOURS. The one rule the console,
    the API, mail and webhooks use."""
    risks: list[Reason] = []
    if not ready:
        due_at = release.due_at
        if due_at <= now:
            risks.append({"code": DUE_PASSED, "params": {}})
        elif due_at - now <= timedelta(hours=settings.PREFLIGHT_AT_RISK_HOURS):
            hours = math.ceil((due_at - now).total_seconds() / 3600)
            risks.append({"code": DUE_SOON, "params": {"hours": hours}})
    if overdue:
        risks.append({"code": ENGINEERS_OVERDUE, "params": {"count": overdue}})
    if locked_out:
        risks.append({"code": ENGINEERS_LOCKED_OUT, "params": {"count": locked_out}})
    horizon = now + timedelta(hours=settings.PREFLIGHT_AT_RISK_HOURS)
    soon = [gap for gap in gaps if gap["end"] > now and gap["start"] <= horizon]
    if soon:
        hours = max(0, math.ceil((soon[0]["start"] - now).total_seconds() / 3600))
        risks.append(
            {
                "code": COVERAGE_GAP_SOON,
                "params": {"hours": hours, "start": utc_iso(soon[0]["start"])},
            }
        )
    return risks


def blocking_words(readiness: Mapping[str, Any] | None) -> list[str]:
    """What blocks a release, in the active language, from a readiness (or a 409's
    body) carrying `reasons`. A readiness kept before reasons were data (an old
    override's record) has only its English words, given as they are."""
    if not readiness:
        return []
    if "reasons" in readiness:
        return [reason_text(reason) for reason in readiness["reasons"]]
    return [str(text) for text in readiness.get("blocking") or []]


class UnfinishedCourse(TypedDict):
    slug: str
    has_quiz: bool


def evaluate(
    release: Release,
    counts: Counts,
    *,
    now: datetime,
    unfinished_courses: Sequence[UnfinishedCourse] = (),
    locked_out: int = 0,
    scope: Literal["all", "teams"] = "all",
    coverage_gaps: Sequence[Gap] = (),
) -> Readiness:
    """The readiness of `release` from its counts, as API v1 describes it.

    Complete excludes the exempt; `completion` and the regions' `complete` include
    them. Ready when completion meets PREFLIGHT_MIN_COMPLETION and every region with
    required engineers has PREFLIGHT_MIN_COMPLETE_PER_REGION complete ones; each
    failure is a reason, in follow-the-sun order of regions. A course of the
    release that is a draft or has no quiz (`unfinished_courses`) blocks it
    whatever the counts: nobody can have shown they know the release yet.
    `coverage_gaps` (the hours the coverage policy finds short, none while it is off:
    training.readiness.coverage.policy_gaps) add one `coverage_gap` naming them.
    """
    min_completion = settings.PREFLIGHT_MIN_COMPLETION
    min_per_region = settings.PREFLIGHT_MIN_COMPLETE_PER_REGION
    required = sum(c["required"] for c in counts.values())
    complete = sum(c["complete"] for c in counts.values())
    exempt = sum(c["exempt"] for c in counts.values())
    overdue = sum(c["overdue"] for c in counts.values())
    completion = (complete + exempt) / required if required else 1.0

    reasons: list[Reason] = [
        {
            "code": COURSE_DRAFT,
            "params": {
                "course": course["slug"],
                "sdk": release.sdk.slug,
                "version": release.version,
                "has_quiz": course["has_quiz"],
            },
        }
        for course in unfinished_courses
    ]
    if completion < min_completion:
        reasons.append(
            {
                "code": BELOW_COMPLETION,
                "params": {"completion": round(completion, 4), "min": min_completion},
            }
        )
    regions: dict[str, RegionReadiness] = {}
    for region in Region.values:  # APAC, EMEA, AMER: follow-the-sun order
        if region not in counts:
            continue
        region_complete = counts[region]["complete"] + counts[region]["exempt"]
        regions[region] = {"required": counts[region]["required"], "complete": region_complete}
        if region_complete < min_per_region:
            if region_complete == 0:
                reasons.append({"code": REGION_WITHOUT_COMPLETE, "params": {"region": region}})
            else:
                reasons.append(
                    {
                        "code": REGION_BELOW_MINIMUM,
                        "params": {
                            "region": region,
                            "complete": region_complete,
                            "min": min_per_region,
                        },
                    }
                )
    if coverage_gaps:
        reasons.append(
            {"code": COVERAGE_GAP, "params": {"hours": coverage_gap_hours(coverage_gaps)}}
        )
    risks = release_risks(
        release,
        ready=not reasons,
        overdue=overdue,
        locked_out=locked_out,
        now=now,
        gaps=coverage_gaps,
    )
    return {
        "ready": not reasons,
        "policy": {"min_completion": min_completion, "min_complete_per_region": min_per_region},
        "required": required,
        "complete": complete,
        "exempt": exempt,
        "overdue": overdue,
        "completion": round(completion, 4),
        "due_at": release.due_at,
        "regions": regions,
        "reasons": reasons,
        "blocking": [reason_text(reason) for reason in reasons],
        "at_risk": bool(risks),
        "risks": risks,
        "scope": scope,
    }

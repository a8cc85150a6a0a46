"""Lead pages: the team's skill matrix, its CSV export, and the expert finder.

A lead sees their own teams only; staff see every team; anyone else (an
engineer, a lead of no team) gets a 404, as does any team that is not theirs —
a 404, not a 403, so the page never confirms that another team exists. Filters
come in the query string and go through a Django form: a bad value is a form
error on the page, never a 500.
"""

import csv
from collections.abc import Iterator

from django import forms
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from courses.models import Sdk, Skill
from training.forms import EngineerSearchForm
from training.labels import SKILL_LEVELS
from training.models import SkillLevel
from training.selectors.engineer_search import paginate
from training.selectors.matrix import (
    WORKING_END,
    WORKING_START,
    SkillMatrix,
    experts,
    skill_matrix,
)
from training.views.access import lead_view


class SlugChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.slug})"


class MatrixFilterForm(EngineerSearchForm):
    """The shared search and filters (training.views.listing), and an SDK."""

    sdk = SlugChoiceField(
        queryset=Sdk.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=_("Any SDK"),
        label=_("SDK"),
    )
    FILTERS = ("q", "team", "sdk", "region", "tier")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, teams=teams, **kwargs)
        self.fields["sdk"].queryset = (
            Sdk.objects.filter(teams__in=[team.pk for team in teams]).distinct().order_by("slug")
        )


def _valid(form: EngineerSearchForm) -> bool:
    """Whether a bound filter form is valid. A team that is not the viewer's is a
    404, as its page would be, rather than a "not a valid choice" that confirms
    the team exists (training.views.listing's rule)."""
    if form.is_valid():
        return True
    if form.team_not_mine():
        raise Http404("No such team.")
    return False


def _matrix(form: MatrixFilterForm, teams, *, paged: bool) -> SkillMatrix:
    data = form.cleaned_data if form.is_bound else {}
    return skill_matrix(
        teams=teams,
        sdk=data.get("sdk"),
        wanted=form.wanted(),
        page=form.page_number() if paged else None,
    )


@require_GET
@lead_view
def team_matrix(request: HttpRequest) -> HttpResponse:
    """Engineers x skills as a heat map, filtered by team, SDK, region and tier."""
    form = MatrixFilterForm(request.GET or None, teams=request.lead.teams)
    context = {
        "form": form,
        "matrix": None,
        "levels": _legend(),
        "valid_days": settings.PREFLIGHT_SKILL_VALID_DAYS,
    }
    if form.is_bound and not _valid(form):
        return render(request, "training/team/matrix.html", context, status=400)
    query = request.GET.copy()
    query.pop("page", None)
    context.update(matrix=_matrix(form, request.teams, paged=True), query=query.urlencode())
    return render(request, "training/team/matrix.html", context)


def _legend() -> list[dict]:
    return [{"value": level.value, "label": SKILL_LEVELS[level]} for level in SkillLevel]


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP
# "CSV injection"); names and slugs come from people and the API, so they are
# defused with a leading apostrophe, which spreadsheets show as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write() hands back the line csv.writer formats."""

    def write(self, value: str) -> str:
        return value


def matrix_csv_rows(matrix: SkillMatrix) -> Iterator[list]:
    """Header, then one row per engineer. A cell holds the current level (1 to 4),
    or nothing: no record, or a stale one (it does not count, as in readiness)."""
    yield [
        "username",
        "name",
        "team",
        "region",
        "tier",
        *(skill.slug for skill in matrix.skills),
    ]
    for row in matrix.rows:
        engineer = row.engineer
        yield [
            engineer.username,
            engineer.name,
            engineer.team_slug,
            engineer.region,
            engineer.tier,
            *("" if cell.current_level is None else cell.current_level for cell in row.cells),
        ]


@require_GET
@lead_view
def team_matrix_csv(request: HttpRequest) -> HttpResponse:
    """The matrix as CSV, streamed: the same filters, one row per engineer."""
    form = MatrixFilterForm(request.GET or None, teams=request.lead.teams)
    if form.is_bound and not _valid(form):
        lines = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
        return HttpResponse(
            "\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    matrix = _matrix(form, request.teams, paged=False)
    writer = csv.writer(_Echo())
    lines = (writer.writerow([csv_safe(value) for value in row]) for row in matrix_csv_rows(matrix))
    team = form.cleaned_data.get("team") if form.is_bound else None
    name = f"skill-matrix-{team.slug if team else 'teams'}-{timezone.now():%Y-%m-%d}.csv"
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


class ExpertForm(EngineerSearchForm):
    """A skill, and the shared search and filters (training.views.listing)."""

    skill = SlugChoiceField(
        queryset=Skill.objects.order_by("name", "slug"), to_field_name="slug", label=_("Skill")
    )
    FILTERS = ("skill", "q", "team", "region", "tier")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, teams=teams, **kwargs)
        self.order_fields(["skill"])


@require_GET
@lead_view
def team_experts(request: HttpRequest) -> HttpResponse:
    """For a skill (and a region), who holds it at Proficient or above, their
    local time now and whether they are at work: who takes the hard ticket."""
    form = ExpertForm(request.GET or None, teams=request.lead.teams)
    context = {
        "form": form,
        "found": None,
        "working_start": WORKING_START,
        "working_end": WORKING_END,
    }
    if not form.is_bound:
        return render(request, "training/team/experts.html", context)
    if not _valid(form):
        return render(request, "training/team/experts.html", context, status=400)
    now = timezone.now()
    context.update(
        skill=form.cleaned_data["skill"],
        region=form.cleaned_data["region"],
        now=now,
        found=paginate(
            experts(
                teams=request.teams,
                skill=form.cleaned_data["skill"],
                now=now,
                wanted=form.wanted(),
            ),
            number=form.page_number(),
        ),
    )
    return render(request, "training/team/experts.html", context)

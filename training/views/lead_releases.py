"""The release history of a lead's (or a manager's) SDKs, and the page of a draft
release: its features, its course and what publishing it would assign.

Releases are looked up through the lead's scope (training.selectors.access): a
release of an SDK none of my teams supports is a 404, as is one that does not
exist. The page of a published, available or withdrawn release is
training.views.lead's.
"""

from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from courses.models import Release
from training.labels import RELEASE_STATUSES
from training.models import Region
from training.selectors.release_history import (
    CourseState,
    course_state,
    history_sdks,
    publish_groups,
    publish_total,
    release_courses,
    release_features,
    release_history,
)
from training.views.access import lead_view

PAGE_SIZE = 25
# Dates outside these years are refused: a day at either end of the calendar
# overflows Python's datetime once shifted to UTC.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9000, 12, 31)


class ReleaseHistoryForm(forms.Form):
    """The history's filters (GET): SDK, status, customer date range."""

    sdk = forms.ChoiceField(required=False, label=_("SDK"))
    status = forms.ChoiceField(required=False, label=_("Status"))
    customer_from = forms.DateField(
        required=False,
        label=_("With customers from"),
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    customer_to = forms.DateField(
        required=False,
        label=_("With customers until"),
        validators=[MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, sdks: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sdk"].choices = [("", _("All SDKs")), *sdks]
        self.fields["status"].choices = [
            ("", _("All statuses")),
            *((status.value, RELEASE_STATUSES[status]) for status in Release.Status),
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("customer_from"), data.get("customer_to")
        if start and end and start > end:
            self.add_error("customer_to", _("The end of the range is before its start."))
        return data


@require_GET
@lead_view
def lead_releases(request: HttpRequest) -> HttpResponse:
    """Every release of my teams' SDKs, newest customer date first, filtered and
    paged (PAGE_SIZE a page; a page number that is not one is the first page, one
    past the end the last)."""
    scope = request.lead
    sdks = history_sdks(scope=scope)
    filters = ReleaseHistoryForm(request.GET or None, sdks=sdks)
    criteria: dict = {}
    status = 200
    if filters.is_valid():
        criteria = {
            "sdk": filters.cleaned_data["sdk"] or None,
            "status": filters.cleaned_data["status"] or None,
            "customer_from": filters.cleaned_data["customer_from"],
            "customer_to": filters.cleaned_data["customer_to"],
        }
    elif filters.is_bound:
        status = 400
    page = Paginator(release_history(scope=scope, **criteria), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/lead/releases.html",
        {
            "scope": scope,
            "filters": filters,
            "filtered": any(criteria.values()),
            "page": page,
            "query": query.urlencode(),
            "now": timezone.now(),
        },
        status=status,
    )


def release_draft_page(request: HttpRequest, release: Release) -> HttpResponse:
    """A draft release of my teams' SDKs: its features, its courses, and how many
    engineers publishing it would assign, per team and region (my teams; every
    team for those who see everything)."""
    scope = request.lead
    courses = release_courses(release=release)
    groups = publish_groups(release=release, scope=scope)
    # Follow-the-sun order, the regions without engineers left out.
    regions = {
        region: total
        for region in Region.values
        if (total := sum(g.engineers for g in groups if g.region == region))
    }
    return render(
        request,
        "training/lead/release_draft.html",
        {
            "release": release,
            "features": release_features(release=release),
            "courses": courses,
            "course_state": course_state(courses),
            "states": CourseState,
            "groups": groups,
            "regions": regions,
            "mine": sum(regions.values()),
            "total": publish_total(release=release),
            "scope": scope,
        },
    )

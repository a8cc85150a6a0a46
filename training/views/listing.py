"""The view side of a searchable, filtered, paged list of engineers: read the
query string once, the same way on every lead list.

Policy, the same on every list: a value that is not one (an unknown region or
status, a page that is not a whole number from 1, a NUL byte anywhere) is a 400
that shows the list unfiltered with the form's errors; a team that is not the
viewer's is a 404 (its own page would be); a page past the end is the last page.
The filter bar and the pager are template partials
(training/partials/engineer_filters.html, training/partials/pager.html).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django import forms
from django.http import Http404, HttpRequest, QueryDict

from training.forms import EngineerSearchForm
from training.models import Team
from training.selectors.engineer_search import EngineerFilter


@dataclass(frozen=True, slots=True)
class EngineerListing:
    form: EngineerSearchForm
    wanted: EngineerFilter
    status: str
    page: int
    status_code: int

    @property
    def filtered(self) -> bool:
        return bool(self.wanted or self.status)


def engineer_listing(
    data: QueryDict, *, teams: Iterable[Team], statuses: bool = False
) -> EngineerListing:
    """The search, filters and page asked for in `data` (`request.GET`; the assign
    form's POST carries the search it was made from), checked against the
    viewer's `teams`."""
    form = EngineerSearchForm(data, teams=teams, statuses=statuses)
    if form.is_valid():
        return EngineerListing(
            form=form,
            wanted=form.wanted(),
            status=form.status_wanted(),
            page=form.page_number(),
            status_code=200,
        )
    if form.team_not_mine():
        raise Http404("No such team.")
    return EngineerListing(form=form, wanted=EngineerFilter(), status="", page=1, status_code=400)


_PAGE = forms.IntegerField(min_value=1, required=False)


def page_number(request: HttpRequest, name: str) -> int | None:
    """A second list's page number from `?<name>=` (1 when absent), or None when
    it is not a whole number from 1: the caller answers 400, as for `page`."""
    try:
        return _PAGE.clean(request.GET.get(name)) or 1
    except forms.ValidationError:
        return None

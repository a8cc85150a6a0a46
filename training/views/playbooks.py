"""Playbook pages: search (from the header of every page) and one playbook.

Any signed-in person may read playbooks: they are the team's shared knowledge, not
anyone's record. Search is courses.selectors.playbooks's; this module only turns
the query string into a search and the results into a page.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from core.actors import Actor
from core.errors import NotFound
from courses.models import Playbook, Scenario
from courses.playbooks import MAX_QUERY
from courses.selectors.playbooks import (
    PlaybookSearch,
    playbook_get,
    playbook_highlight,
    playbook_search,
)
from training.selectors.content_review import may_verify
from training.services.content_review import playbook_verify

RESULTS_PER_PAGE = 20


class PlaybookSearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search playbooks"), max_length=MAX_QUERY, required=False
    )
    scenario = forms.ChoiceField(
        label=gettext_lazy("Scenario"),
        choices=[("", gettext_lazy("Any scenario")), *Scenario.choices],
        required=False,
    )


@require_GET
@login_required
def playbook_search_page(request: HttpRequest) -> HttpResponse:
    """Results for `?q=` (and `?scenario=`), best first, with the matching piece of
    each playbook highlighted. A query too long or a scenario we do not know is a
    400 with the form saying why."""
    form = PlaybookSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "training/playbooks/search.html", {"form": form}, status=400)
    search = PlaybookSearch(q=form.cleaned_data["q"], scenario=form.cleaned_data["scenario"])
    page = Paginator(playbook_search(search), RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    results = [(p, mark_safe(playbook_highlight(p, search))) for p in page]
    return render(
        request,
        "training/playbooks/search.html",
        {"form": form, "search": search, "page": page, "results": results},
    )


@require_GET
@login_required
def playbook_page(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        playbook = playbook_get(slug=slug)
    except NotFound as exc:
        raise Http404(str(exc.detail)) from exc
    stale = sorted(playbook.stale_marks.all(), key=lambda mark: mark.release.sort_key)
    return render(
        request,
        "training/playbooks/detail.html",
        {
            "playbook": playbook,
            "stale": stale,
            "since": f"{stale[0].release.sdk.slug} {stale[0].release.version}" if stale else "",
            "may_verify": may_verify(request.user, playbook),
        },
    )


@require_POST
@login_required
def playbook_verify_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Its owner, a manager or staff confirm the playbook is still true (from its page
    or from content review, where `next` sends them back); anyone else gets a 404."""
    playbook = get_object_or_404(Playbook, slug=slug)
    try:
        cleared = playbook_verify(playbook=playbook, actor=Actor.from_request(request))
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    messages.success(
        request,
        _("%(playbook)s is verified; %(count)s stale marks cleared.")
        % {"playbook": playbook.title, "count": cleared},
    )
    if request.POST.get("next") == "content-review":
        return redirect("lead_content")
    return redirect("playbook", slug=playbook.slug)

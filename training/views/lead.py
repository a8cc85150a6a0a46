"""The lead's pages: readiness of my teams' releases, a release's engineers, the
override of its gate, and assigning (or cancelling) training by hand.

A lead sees and acts on their own teams only; staff on every team. Someone who
leads no team gets a 404 on every page here, and so does a release, an engineer or
an assignment outside my teams: objects are looked up through my scope, never
fetched first and refused after, so a 404 never confirms that they exist. Pages
render in the lead's time zone when the lead is also an engineer, else in UTC.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from courses.models import Course, Release
from training.forms import (
    AssignForm,
    ExtendForm,
    GrantAttemptsForm,
    OverrideForm,
)
from training.models import Assignment
from training.readiness import release_readiness, releases_readiness
from training.readiness.policy import COURSE_DRAFT, blocking_words, reason_text
from training.selectors.access import cancellable_assignments, manageable_assignments
from training.selectors.coverage import coverage_map, coverage_person_in_scope, coverage_strip
from training.selectors.engineer_search import paginate
from training.selectors.follow_the_sun import FOLLOW_THE_SUN, shifts_now
from training.selectors.leads import (
    EngineerStatus,
    assign_candidates,
    lead_assignments_open,
    lead_release_get,
    lead_releases_open,
    region_figures,
    regions_outside,
    release_engineer_page,
    release_overrides,
    release_steps_total,
    release_team_regions,
    team_engineer_ids,
)
from training.selectors.release_history import release_gate_decision
from training.services.assignments import (
    assignment_cancel,
    assignments_create_manual,
    release_assign_training,
)
from training.services.extensions import assignment_extend, assignment_grant_attempts
from training.services.releases import release_mark_available
from training.views.access import lead_view
from training.views.lead_releases import release_draft_page
from training.views.listing import engineer_listing, page_number

# Audit lists (overrides, lead-made assignments) page at this size.
AUDIT_PAGE_SIZE = 20


def _release(request: HttpRequest, sdk: str, version: str) -> Release:
    release = lead_release_get(scope=request.lead, sdk=sdk, version=version)
    if release is None:
        raise Http404("No such release of your teams.")
    return release


@require_GET
@lead_view
def lead_home(request: HttpRequest) -> HttpResponse:
    """Every release of my teams' SDKs that is published but not yet with
    customers: readiness overall and per region of my teams, dates, at-risk."""
    scope = request.lead
    now = timezone.now()
    on_shift, next_shift = shifts_now(now)
    items = []
    releases = list(lead_releases_open(scope=scope))
    counted = releases_readiness(releases, now=now)  # two queries for them all
    for release in releases:
        readiness = counted[release.pk].readiness
        regions = (
            # Every team is theirs: the whole release's counts, already read.
            region_figures(counted[release.pk].counts)
            if scope.everything
            else release_team_regions(release=release, team_ids=scope.team_ids, now=now)
        )
        items.append(
            {
                "release": release,
                "readiness": readiness,
                "regions": regions,
                # Someone who sees everything: every region side by side, in
                # follow-the-sun order, whether or not it has engineers in scope.
                "sun": [
                    {
                        "region": region,
                        "figures": regions.get(region),
                        "now": region == on_shift.region,
                        "next": region == next_shift.region,
                    }
                    for region, _, _ in FOLLOW_THE_SUN
                ]
                if scope.everything
                else [],
                "outside": regions_outside(readiness, regions),
                "risks": [reason_text(risk) for risk in readiness["risks"]],
            }
        )
    # At-risk releases first (the soonest customer date first within each group).
    items.sort(key=lambda item: not item["readiness"]["at_risk"])
    return render(
        request,
        "training/lead/home.html",
        {
            "items": items,
            "scope": scope,
            "now": now,
            "on_shift": on_shift,
            "next_shift": next_shift,
            "at_risk": sum(1 for item in items if item["risks"]),
            "waiting": _waiting_on_a_course(items),
        },
    )


def _waiting_on_a_course(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The releases among `items` held back by a draft or quiz-less course, soonest
    customer date first: read off the readiness reasons already counted."""
    waiting = []
    for item in items:
        courses = [
            reason["params"]["course"]
            for reason in item["readiness"]["reasons"]
            if reason["code"] == COURSE_DRAFT
        ]
        if courses:
            waiting.append({"release": item["release"], "courses": courses})
    return sorted(waiting, key=lambda row: row["release"].customer_available_at)


def _release_page(
    request: HttpRequest,
    release: Release,
    *,
    override_form: OverrideForm | None = None,
    action: dict | None = None,
    status=200,
) -> HttpResponse:
    scope = request.lead
    now = timezone.now()
    listing = engineer_listing(request.GET, teams=scope.teams, statuses=True)
    if listing.status_code != 200:
        status = listing.status_code
    readiness = release_readiness(release, now=now)
    regions = release_team_regions(release=release, team_ids=scope.team_ids, now=now)
    rows = release_engineer_page(
        release=release,
        team_ids=scope.team_ids,
        steps_total=release_steps_total(release=release),
        status=listing.status or None,
        wanted=listing.wanted,
        page=listing.page,
        now=now,
    )
    overrides_page = page_number(request, "overrides_page")
    if overrides_page is None:
        status = 400
    overrides = paginate(
        release_overrides(release=release), number=overrides_page or 1, per_page=AUDIT_PAGE_SIZE
    )
    courses = list(
        Course.objects.filter(release=release, status=Course.Status.PUBLISHED).only(
            "id", "slug", "title", "release_id"
        )
    )
    return render(
        request,
        "training/lead/release.html",
        {
            "release": release,
            "readiness": readiness,
            "regions": regions,
            "outside": [] if scope.everything else regions_outside(readiness, regions),
            "risks": [reason_text(risk) for risk in readiness["risks"]]
            if release.status == Release.Status.PUBLISHED
            else [],
            "rows": rows,
            "listing": listing,
            "statuses": EngineerStatus,
            "overrides": overrides,
            "gate": release_gate_decision(release=release)
            if release.status == Release.Status.AVAILABLE
            else None,
            "override_form": override_form or OverrideForm(),
            "courses": courses,
            "scope": scope,
            "now": now,
            "action": action,
            "here": request.get_full_path(),
            "coverage": _coverage(scope, release, now=now),
        },
        status=status,
    )


def _coverage(scope, release: Release, *, now):
    """The coverage heat map, gaps and expert finder of my teams (every team for
    those who see everything); none for a release already with customers."""
    if release.status != Release.Status.PUBLISHED:
        return None
    return coverage_map(release, now=now, team_ids=None if scope.everything else scope.team_ids)


@require_POST
@lead_view
def lead_coverage_assign(request: HttpRequest, sdk: str, version: str) -> HttpResponse:
    """Close a coverage gap: give an engineer of my teams who is required for the
    release but holds none of its training (a new hire the fan-out has not reached
    yet) the release's training now, as the fan-out would (exempt if their skills
    already cover it)."""
    scope = request.lead
    release = _release(request, sdk, version)
    engineer_id = request.POST.get("engineer", "")
    engineer = (
        coverage_person_in_scope(
            release,
            engineer_id=int(engineer_id),
            team_ids=None if scope.everything else scope.team_ids,
        )
        if engineer_id.isdigit() and len(engineer_id) < 12
        else None
    )
    if engineer is None:
        raise Http404("No such engineer of your teams on this release.")
    created = release_assign_training(release=release, engineer_ids=[engineer.pk])
    if created:
        messages.success(
            request,
            _("%(engineer)s now has the training for %(release)s.")
            % {"engineer": engineer.name, "release": f"{release.sdk.slug} {release.version}"},
        )
    else:
        messages.info(
            request,
            _("%(engineer)s already has the training for %(release)s.")
            % {"engineer": engineer.name, "release": f"{release.sdk.slug} {release.version}"},
        )
    return redirect(_release_url(release) + "#coverage")


@require_GET
@lead_view
def lead_release_coverage_strip(request: HttpRequest, sdk: str, version: str) -> HttpResponse:
    """The managers' console's compact heat map of one release's launch window, every
    team (loaded by the console after the page, one request per release)."""
    if not request.lead.everything:
        raise Http404("Only the managers' console shows every team's coverage.")
    release = _release(request, sdk, version)
    return render(
        request,
        "training/partials/coverage_strip.html",
        {"coverage": coverage_strip(release, now=timezone.now()), "release": release},
    )


@require_GET
@lead_view
def lead_release(request: HttpRequest, sdk: str, version: str) -> HttpResponse:
    """A release's readiness and its engineers of my teams, overdue first; once
    available, the gate's decision too. A draft has its own page (what publishing
    it would assign: training.views.lead_releases)."""
    release = lead_release_get(scope=request.lead, sdk=sdk, version=version, drafts=True)
    if release is None:
        raise Http404("No such release of your teams.")
    if release.status == Release.Status.DRAFT:
        return release_draft_page(request, release)
    return _release_page(request, release)


@require_POST
@lead_view
def lead_release_availability(request: HttpRequest, sdk: str, version: str) -> HttpResponse:
    """Mark the release available when support is ready, or override the failed
    gate with a reason (kept on the record with the readiness at that moment)."""
    release = _release(request, sdk, version)
    override = request.POST.get("override") == "1"
    reason = ""
    if override:
        form = OverrideForm(request.POST)
        if not form.is_valid():
            return _release_page(request, release, override_form=form, status=400)
        reason = form.cleaned_data["reason"]
    try:
        release = release_mark_available(
            release=release, actor=Actor(user=request.user), override=override, reason=reason
        )
    except InvalidInput as exc:
        form = OverrideForm(request.POST)
        form.is_valid()
        _add_errors(form, exc, default="reason" if override else None)
        return _release_page(request, release, override_form=form, status=400)
    except Conflict as exc:
        blocking = blocking_words(exc.extra)
        text = str(exc.detail)
        if blocking:
            reasons = _("; ").join(blocking)
            text += " " + _("Blocking: %(reasons)s.") % {"reasons": reasons}
        messages.error(request, text)
        return redirect(_release_url(release))
    if override:
        messages.success(request, _("Gate overridden: the release is now available to customers."))
    else:
        messages.success(request, _("The release is now available to customers."))
    return redirect(_release_url(release))


def _release_url(release: Release) -> str:
    return reverse("lead_release", args=[release.sdk.slug, release.version])


def _add_errors(form, exc: InvalidInput, *, default: str | None = None) -> None:
    """Show a service's InvalidInput on the form: on the field it names when the
    form has one, else on `default` (None: the form as a whole)."""
    detail = exc.detail if isinstance(exc.detail, dict) else {None: exc.detail}
    for field, errors in detail.items():
        for message in errors if isinstance(errors, list) else [errors]:
            form.add_error(field if field in form.fields else default, str(message))


@require_http_methods(["GET", "POST"])
@lead_view
def lead_assign(request: HttpRequest) -> HttpResponse:
    """Assign a published course to engineers of mine found by search and filters,
    whole teams, or everyone matching the search, due at a future time.
    Idempotent: who already has the course keeps their assignment, and the page
    says how many were created and how many already had it.

    The search travels with the POST and is evaluated again here, under my scope:
    "everyone matching" means whoever matches when I assign, never a list of ids
    the page sent."""
    scope = request.lead
    status = 200
    if request.method == "POST":
        listing = engineer_listing(request.POST, teams=scope.teams)
        form = AssignForm(request.POST, scope=scope)
        if form.is_valid() and listing.status_code != 200:
            form.add_error("matching", _("The search is not valid; search again."))
        if form.is_valid():
            course = form.cleaned_data["course"]
            engineer_ids = {engineer.pk for engineer in form.cleaned_data["engineers"]}
            engineer_ids.update(
                team_engineer_ids(team_ids=[team.pk for team in form.cleaned_data["teams"]])
            )
            if form.cleaned_data["matching"]:
                engineer_ids.update(
                    assign_candidates(scope=scope, wanted=listing.wanted).values_list(
                        "pk", flat=True
                    )
                )
            try:
                created, existing = assignments_create_manual(
                    course=course,
                    engineer_ids=sorted(engineer_ids),
                    due_at=form.cleaned_data["due_at"],
                    actor=Actor(user=request.user),
                    note=form.cleaned_data["note"],
                )
            except InvalidInput as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(course)s: created %(created)d, already had %(existing)d.")
                    % {"course": course.title, "created": created, "existing": existing},
                )
                return redirect(reverse("lead_assign") + _search_query(listing))
        status = 400
        chosen = set(request.POST.getlist("engineers"))
    else:
        listing = engineer_listing(request.GET, teams=scope.teams)
        status = listing.status_code
        # Prefilled from a link: ?course=<slug>, ?engineer=<username> (the engineer page).
        prefilled = list(
            scope.engineers()
            .filter(user__username__in=request.GET.getlist("engineer")[:50])
            .select_related("user", "team")
        )
        form = AssignForm(
            initial={"course": request.GET.get("course"), "engineers": prefilled}, scope=scope
        )
        chosen = {str(engineer.pk) for engineer in prefilled}
    found = paginate(
        assign_candidates(scope=scope, wanted=listing.wanted).select_related("user", "team"),
        number=listing.page,
    )
    open_page = page_number(request, "open_page")
    if open_page is None:
        status = 400
    return render(
        request,
        "training/lead/assign.html",
        {
            "form": form,
            "scope": scope,
            "listing": listing,
            "found": found,
            "chosen": chosen,
            "prefilled": prefilled if request.method == "GET" else [],
            "open_assignments": paginate(
                lead_assignments_open(scope=scope),
                number=open_page or 1,
                per_page=AUDIT_PAGE_SIZE,
            ),
        },
        status=status,
    )


def _search_query(listing) -> str:
    """ "?q=…&team=…" of a valid search, to land on it again after assigning."""
    if not listing.filtered:
        return ""
    data = listing.form.cleaned_data
    query = {
        "q": data.get("q") or "",
        "team": data["team"].slug if data.get("team") else "",
        "region": data.get("region") or "",
        "tier": data.get("tier") or "",
    }
    return "?" + urlencode({name: value for name, value in query.items() if value})


@require_POST
@lead_view
def lead_assignment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a lead-made, unfinished assignment of an engineer of my teams (staff:
    any team; a support manager: the teams they lead only)."""
    assignment = get_object_or_404(
        cancellable_assignments(request.user).select_related("course", "engineer__user"),
        pk=pk,
    )
    try:
        assignment_cancel(assignment=assignment, actor=Actor(user=request.user))
    except Conflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("Cancelled %(course)s for %(engineer)s.")
            % {"course": assignment.course.title, "engineer": assignment.engineer.name},
        )
    return redirect(_next(request, default=reverse("lead_assign")))


def _next(request: HttpRequest, *, default: str) -> str:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    return target


def _manageable(request: HttpRequest, pk: int) -> Assignment:
    """An assignment of an engineer of my teams that I may change (never my own)."""
    return get_object_or_404(
        manageable_assignments(request.user)
        .filter(engineer__team_id__in=request.lead.team_ids)
        .select_related("course", "engineer__user", "release__sdk"),
        pk=pk,
    )


def _back(assignment: Assignment) -> str:
    return _release_url(assignment.release) if assignment.release else reverse("lead_home")


def _row_action(request: HttpRequest, assignment: Assignment, *, kind: str, form) -> HttpResponse:
    """The release page again, with the row action's form and its errors (400)."""
    release = (
        lead_release_get(
            scope=request.lead, sdk=assignment.release.sdk.slug, version=assignment.release.version
        )
        if assignment.release
        else None
    )
    if release is None:
        errors = [str(error) for errors in form.errors.values() for error in errors]
        messages.error(request, " ".join(errors))
        return redirect(_next(request, default=_back(assignment)))
    action = {
        "kind": kind,
        "form": form,
        "assignment": assignment,
        "next": _next(request, default=_back(assignment)),
    }
    return _release_page(request, release, action=action, status=400)


def _assignment_action(
    request: HttpRequest,
    pk: int,
    *,
    kind: str,
    form: forms.Form,
    act: Callable[[Assignment, dict[str, Any]], Assignment],
    done: Callable[[Assignment], str],
) -> HttpResponse:
    """One lead action on one engineer's assignment (grant, extend): the form checks
    the input, `act` calls the service, `done` words the success. A service's field
    errors come back on the form (400); a conflict is a message and a redirect."""
    assignment = _manageable(request, pk)
    if form.is_valid():
        try:
            assignment = act(assignment, form.cleaned_data)
        except InvalidInput as exc:
            _add_errors(form, exc)
        except Conflict as exc:
            messages.error(request, exc.detail)
            return redirect(_next(request, default=_back(assignment)))
        else:
            messages.success(request, done(assignment))
            return redirect(_next(request, default=_back(assignment)))
    return _row_action(request, assignment, kind=kind, form=form)


@require_POST
@lead_view
def lead_assignment_grant(request: HttpRequest, pk: int) -> HttpResponse:
    """Allow an engineer of my teams more quiz attempts, with the reason."""

    def act(assignment: Assignment, data: dict[str, Any]) -> Assignment:
        assignment_grant_attempts(
            assignment=assignment,
            extra=data["extra"],
            reason=data["reason"],
            actor=Actor(user=request.user),
        )
        return assignment

    return _assignment_action(
        request,
        pk,
        kind="grant",
        form=GrantAttemptsForm(request.POST),
        act=act,
        done=lambda assignment: (
            _("%(engineer)s may now take the quiz of %(course)s again.")
            % {"engineer": assignment.engineer.name, "course": assignment.course.title}
        ),
    )


@require_POST
@lead_view
def lead_assignment_extend(request: HttpRequest, pk: int) -> HttpResponse:
    """Give an engineer of my teams a new due date, with the reason."""

    def act(assignment: Assignment, data: dict[str, Any]) -> Assignment:
        return assignment_extend(
            assignment=assignment,
            due_at=data["due_at"],
            reason=data["reason"],
            actor=Actor(user=request.user),
        )

    return _assignment_action(
        request,
        pk,
        kind="extend",
        form=ExtendForm(request.POST),
        act=act,
        done=lambda assignment: (
            _("%(engineer)s now has until %(due)s for %(course)s.")
            % {
                "engineer": assignment.engineer.name,
                "course": assignment.course.title,
                "due": date_format(timezone.localtime(assignment.due_at), _("D j M Y, H:i T")),
            }
        ),
    )

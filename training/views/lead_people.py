"""The lead's pages of people: one engineer's page (profile, assignments, skills,
recent activity, the lead's actions), the nudge, and the lead's own time zone and
language.

Engineers are looked up through the lead's scope (training.selectors.access): an
engineer of a team I do not lead is a 404, as is one who does not exist. The
grant and extend forms on the engineer page post to the release page's views
(training.views.lead) with `next` set back to this page.
"""

from datetime import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.actors import Actor
from core.errors import Conflict, InvalidInput
from training.forms import ExtendForm, GrantAttemptsForm, NudgeForm, PreferencesForm
from training.i18n import remember_language
from training.models import Assignment, PersonPreferences
from training.selectors.access import manageable_assignments
from training.selectors.dashboard import skill_standings
from training.selectors.engineer_page import (
    engineer_activity,
    engineer_assignments,
    lead_engineer_get,
    local_now,
    manageable_assignment_ids,
)
from training.selectors.leads import EngineerStatus
from training.services.nudges import NUDGE_INTERVAL, assignment_nudge
from training.services.preferences import person_preferences_set
from training.views.access import lead_view
from training.views.lead import _add_errors, _next
from training.views.shifts import shift_context


@require_GET
@lead_view
def lead_engineer(request: HttpRequest, username: str) -> HttpResponse:
    """One engineer of my teams: who they are and where, every assignment with its
    status and attempts, their skills, what they did lately, and my actions."""
    engineer = lead_engineer_get(scope=request.lead, username=username)
    if engineer is None:
        raise Http404("No such engineer of your teams.")
    now = timezone.now()
    manageable = manageable_assignment_ids(user=request.user, engineer=engineer)
    assignments = []
    for assignment in engineer_assignments(engineer=engineer):
        is_open = not assignment.is_done
        assignments.append(
            {
                "a": assignment,
                "state": (state := _state(assignment, now=now)),
                "state_label": EngineerStatus.LABELS[state],
                "actions": is_open and assignment.pk in manageable,
                "nudge_after": (
                    assignment.nudged_at + NUDGE_INTERVAL
                    if assignment.nudged_at and assignment.nudged_at + NUDGE_INTERVAL > now
                    else None
                ),
            }
        )
    return render(
        request,
        "training/lead/engineer.html",
        {
            "engineer": engineer,
            "local_now": local_now(engineer),
            "assignments": assignments,
            "open_count": sum(1 for row in assignments if not row["a"].is_done),
            "skills": skill_standings(engineer=engineer, now=now),
            "activity": engineer_activity(engineer=engineer),
            "grant_form": GrantAttemptsForm(),
            "extend_form": ExtendForm(),
            "nudge_form": NudgeForm(),
            "here": request.get_full_path(),
            "scope": request.lead,
            "now": now,
            **shift_context(engineer),
        },
    )


def _state(assignment: Assignment, *, now) -> str:
    """The status a lead reads first: locked out and overdue before the stored one."""
    if assignment.is_done:
        return assignment.status
    if getattr(assignment, "locked_out", False):
        return "locked_out"
    if assignment.due_at < now:
        return "overdue"
    return assignment.status


@require_POST
@lead_view
def lead_assignment_nudge(request: HttpRequest, pk: int) -> HttpResponse:
    """Remind an engineer of my teams of one open assignment now (a mail), at most
    once per assignment per 24 h; back to `next` with what happened."""
    assignment = get_object_or_404(
        manageable_assignments(request.user).select_related("engineer__user", "course"), pk=pk
    )
    back = _next(
        request, default=reverse("lead_engineer", args=[assignment.engineer.user.get_username()])
    )
    form = NudgeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        assignment_nudge(
            assignment=assignment,
            actor=Actor(user=request.user),
            message=form.cleaned_data["message"],
        )
    except (Conflict, InvalidInput) as exc:
        text = str(exc.detail) if not isinstance(exc.detail, dict) else _("Invalid input.")
        next_at = exc.extra.get("next_at") if isinstance(exc, Conflict) else None
        if next_at:
            when = timezone.localtime(datetime.fromisoformat(next_at))
            text += " " + _("The next one may be sent from %(when)s.") % {
                "when": date_format(when, _("D j M Y, H:i T"))
            }
        messages.error(request, text)
    else:
        messages.success(
            request,
            _("Reminder sent to %(engineer)s about %(course)s.")
            % {"engineer": assignment.engineer.name, "course": assignment.course.title},
        )
    return redirect(back)


@require_http_methods(["GET", "POST"])
@lead_view
def lead_profile(request: HttpRequest) -> HttpResponse:
    """My time zone and language on the lead pages (when I am not an engineer: an
    engineer's own profile wins, and the page says so)."""
    scope = request.lead
    current = PersonPreferences.objects.filter(user=request.user).first()
    status = 200
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                preferences = person_preferences_set(
                    user=request.user,
                    timezone_name=form.cleaned_data["timezone"],
                    language=form.cleaned_data["language"],
                )
            except InvalidInput as exc:
                _add_errors(form, exc)
            else:
                if not scope.is_engineer:
                    remember_language(request, preferences.language)
                messages.success(request, _("Your time zone and language are saved."))
                return redirect("lead_profile")
        status = 400
    else:
        form = PreferencesForm(
            initial={
                "timezone": current.timezone if current else timezone.get_current_timezone_name(),
                "language": current.language if current else request.LANGUAGE_CODE,
            }
        )
    return render(
        request,
        "training/lead/profile.html",
        {"form": form, "scope": scope, "now": timezone.now()},
        status=status,
    )

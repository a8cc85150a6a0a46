"""Editing a shift and time off: the engineer's own page (/shift/) and a lead's
form on their engineer's page (/lead/engineers/<username>/shift/). Both post one
of three actions to the same helper, which calls training.services.shifts."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.actors import Actor
from core.errors import InvalidInput
from training.forms import ShiftForm, TimeOffForm
from training.models import Engineer, TimeOff
from training.selectors.engineer_page import lead_engineer_get
from training.services.shifts import (
    engineer_shift_set,
    engineer_time_off_add,
    engineer_time_off_remove,
    shift_parse,
)
from training.shifts import effective_shift, mask_days
from training.views.access import lead_view
from training.views.engineer import engineer_view


def shift_context(engineer: Engineer, *, shift_form=None, time_off_form=None) -> dict:
    shift = effective_shift(
        engineer.region, engineer.shift_days, engineer.shift_start, engineer.shift_end
    )
    own = engineer.shift_days is not None
    return {
        "shift": shift.as_dict(),
        "shift_is_default": not own,
        "shift_form": shift_form
        or ShiftForm(
            initial={
                "default": not own,
                "days": mask_days(shift.days),
                "start": shift.start,
                "end": shift.end,
            }
        ),
        "time_off_form": time_off_form or TimeOffForm(),
        "time_off": list(TimeOff.objects.filter(engineer=engineer).order_by("start")),
    }


def _apply(request: HttpRequest, engineer: Engineer) -> tuple[bool, dict]:
    """Apply the posted action; (done, the forms to show again when not)."""
    actor = Actor(user=request.user)
    action = request.POST.get("action")
    if action == "shift":
        form = ShiftForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                shift = (
                    None
                    if data["default"]
                    else shift_parse(
                        {
                            "days": data["days"],
                            "start": data["start"].strftime("%H:%M"),
                            "end": data["end"].strftime("%H:%M"),
                        }
                    )
                )
            except InvalidInput as exc:
                form.add_error(None, " ".join(str(m) for m in exc.detail.get("shift", [])))
            else:
                engineer_shift_set(engineer=engineer, shift=shift, actor=actor)
                messages.success(request, _("The shift is saved."))
                return True, {}
        return False, {"shift_form": form}
    if action == "time_off_add":
        form = TimeOffForm(request.POST)
        if form.is_valid():
            try:
                engineer_time_off_add(
                    engineer=engineer,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                    actor=actor,
                )
            except InvalidInput as exc:
                form.add_error(None, " ".join(str(m) for m in exc.detail.get("time_off", [])))
            else:
                messages.success(request, _("The time off is saved."))
                return True, {}
        return False, {"time_off_form": form}
    if action == "time_off_remove":
        pk = request.POST.get("time_off", "")
        time_off = (
            TimeOff.objects.filter(engineer=engineer, pk=int(pk)).first()
            if pk.isdigit() and len(pk) < 12
            else None
        )
        if time_off is None:
            raise Http404("No such time off.")
        engineer_time_off_remove(time_off=time_off, actor=actor)
        messages.success(request, _("The time off is removed."))
        return True, {}
    messages.error(request, _("Nothing to save: choose the shift or the time off."))
    return False, {}


@require_http_methods(["GET", "POST"])
@engineer_view
def my_shift(request: HttpRequest) -> HttpResponse:
    """My weekly shift in my time zone, and my time off."""
    engineer = request.engineer
    forms: dict = {}
    status = 200
    if request.method == "POST":
        done, forms = _apply(request, engineer)
        if done:
            return redirect("my_shift")
        status = 400
        engineer.refresh_from_db()
    return render(
        request,
        "training/shift.html",
        {"engineer": engineer, **shift_context(engineer, **forms)},
        status=status,
    )


@require_POST
@lead_view
def lead_engineer_shift(request: HttpRequest, username: str) -> HttpResponse:
    """Set the shift or time off of an engineer of my teams."""
    engineer = lead_engineer_get(scope=request.lead, username=username)
    if engineer is None:
        raise Http404("No such engineer of your teams.")
    done, forms = _apply(request, engineer)
    if not done:
        for form in forms.values():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
    return redirect(reverse("lead_engineer", args=[username]) + "#shift")

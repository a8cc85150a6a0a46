"""Forms of the lead pages: assign training, override a release gate, filter a
release's engineers. They check the input; the services decide and write."""

import zoneinfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course
from training.models import Engineer, Region, Team
from training.selectors.leads import EngineerStatus, LeadScope

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class EngineerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, engineer: Engineer) -> str:
        return f"{engineer.name} ({engineer.username}) — {engineer.team.name}, {engineer.region}"


class TeamChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, team: Team) -> str:
        return f"{team.name} ({team.slug})"


class CourseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, course: Course) -> str:
        if course.release_id:
            return f"{course.title} ({course.release.sdk.slug} {course.release.version})"
        return course.title


class AssignForm(forms.Form):
    """A published course for chosen engineers and/or whole teams of mine, due at a
    future time. `due_at` is read in the current time zone, which the lead pages set
    to the lead's own (see LeadScope.zone)."""

    course = CourseChoiceField(
        queryset=Course.objects.none(),
        to_field_name="slug",
        label=_("Course"),
        empty_label=_("Choose a course…"),
    )
    teams = TeamChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Whole teams"),
        help_text=_("Every active engineer of the team gets the course."),
    )
    engineers = EngineerChoiceField(
        queryset=Engineer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Engineers"),
    )
    due_at = forms.DateTimeField(
        label=_("Due"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    note = forms.CharField(
        label=_("Note to the engineers"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional. Shown with the assignment on their dashboard."),
    )

    def __init__(self, *args, scope: LeadScope, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["course"].queryset = (
            Course.objects.filter(status=Course.Status.PUBLISHED)
            .select_related("release__sdk")
            .order_by("title", "slug")
        )
        self.fields["teams"].queryset = Team.objects.filter(pk__in=scope.team_ids).order_by(
            "name", "slug"
        )
        self.fields["engineers"].queryset = (
            Engineer.objects.filter(team_id__in=scope.team_ids, active=True)
            .select_related("user", "team")
            .order_by("team__name", "user__first_name", "user__last_name", "user__username")
        )
        zone = timezone.get_current_timezone_name()
        if scope.timezone_name:
            help_text = _("In your time zone, %(zone)s.") % {"zone": zone}
        else:
            help_text = _("In UTC (you have no engineer profile with a time zone).")
        self.fields["due_at"].help_text = help_text
        self.fields["due_at"].widget.attrs["min"] = timezone.localtime().strftime(DATETIME_LOCAL)

    def clean_due_at(self):
        due_at = self.cleaned_data["due_at"]
        if due_at <= timezone.now():
            raise forms.ValidationError(_("The due date must be in the future."))
        return due_at

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("engineers")
            and not cleaned.get("teams")
            and not self.has_error("engineers")
        ):
            raise forms.ValidationError(_("Choose at least one engineer or team."))
        return cleaned


class OverrideForm(forms.Form):
    """Why the release may go to customers although support is not ready."""

    reason = forms.CharField(
        label=_("Reason for the override"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded with your name, the time and the readiness at this moment."),
        error_messages={"required": _("Give the reason for overriding the gate.")},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for overriding the gate."))
        return reason


class EngineerFilterForm(forms.Form):
    """The release page's filters (GET)."""

    region = forms.ChoiceField(
        choices=[("", _("All regions")), *Region.choices], required=False, label=_("Region")
    )
    status = forms.ChoiceField(
        choices=[("", _("All statuses")), *EngineerStatus.CHOICES],
        required=False,
        label=_("Status"),
    )


def _clean_reason(value: str) -> str:
    value = value.strip()
    if not value:
        raise forms.ValidationError(_("Give the reason."))
    return value


class GrantAttemptsForm(forms.Form):
    """More quiz attempts for one engineer's assignment, and why."""

    extra = forms.IntegerField(label=_("Attempts"), min_value=1, max_value=10, initial=1)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        help_text=_("The engineer reads it; it is kept on the record with your name."),
        error_messages={"required": _("Give the reason.")},
    )

    def clean_reason(self):
        return _clean_reason(self.cleaned_data["reason"])


class ExtendForm(forms.Form):
    """A new due date for one engineer's assignment, and why. `due_at` is read in
    the current time zone (the lead's own on the lead pages): one instant, so a DST
    change before it moves nothing; a local time the clocks skip is an error here."""

    due_at = forms.DateTimeField(
        label=_("New due date"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        help_text=_("The engineer reads it; it is kept on the record with your name."),
        error_messages={"required": _("Give the reason.")},
    )

    def clean_due_at(self):
        due_at = self.cleaned_data["due_at"]
        if due_at <= timezone.now():
            raise forms.ValidationError(_("The due date must be in the future."))
        return due_at

    def clean_reason(self):
        return _clean_reason(self.cleaned_data["reason"])


class NudgeForm(forms.Form):
    """A reminder now about one assignment, with an optional word from the lead."""

    message = forms.CharField(
        label=_("Message"),
        max_length=1000,
        required=False,
        help_text=_("Optional. The engineer reads it in the mail."),
    )


def _zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.Form):
    """A lead's or manager's time zone and language (training.models.PersonPreferences)."""

    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=_zone_choices,
        help_text=_("An IANA name, e.g. Asia/Shanghai. Every lead page shows times in it."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


_DAY_LABELS = [
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
    ("sat", _("Saturday")),
    ("sun", _("Sunday")),
]


class ShiftForm(forms.Form):
    """A weekly shift in the engineer's own time zone (training.services.shifts)."""

    default = forms.BooleanField(
        label=_("Use the region's default (Monday to Friday, 09:00 to 18:00)"), required=False
    )
    days = forms.MultipleChoiceField(
        label=_("Working days"),
        choices=_DAY_LABELS,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    start = forms.TimeField(
        label=_("Starts at"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label=_("Ends at"),
        required=False,
        help_text=_("At or before the start: a night shift that ends the next day."),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("default"):
            for field in ("days", "start", "end"):
                if not data.get(field):
                    self.add_error(field, _("This field is required."))
        return data


class TimeOffForm(forms.Form):
    start = forms.DateField(
        label=_("First day off"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("Last day off"), widget=forms.DateInput(attrs={"type": "date"}))

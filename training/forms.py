"""Forms of the lead pages: assign training, override a release gate, filter a
release's engineers. They check the input; the services decide and write."""

import zoneinfo
from collections.abc import Iterable

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course
from training.labels import tier_choices
from training.models import Engineer, Region, Team
from training.selectors.engineer_search import SEARCH_MAX_LENGTH, EngineerFilter
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
    """A published course for chosen engineers, whole teams of mine and/or everyone
    matching a search (the search's fields come with the POST and are read by
    training.views.listing), due at a future time. `due_at` is read in the current
    time zone, which the lead pages set to the lead's own (see LeadScope.zone)."""

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
    matching = forms.BooleanField(
        required=False,
        label=_("Everyone matching this search"),
        help_text=_("Checked again when you assign: whoever matches the search then."),
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
        # Checked, never rendered as one list: the page shows a search's page of them.
        self.fields["engineers"].queryset = scope.engineers().filter(active=True)
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
            and not cleaned.get("matching")
            and not self.has_error("engineers")
        ):
            raise forms.ValidationError(
                _("Choose at least one engineer or team, or everyone matching the search.")
            )
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


class TeamSlugField(forms.ChoiceField):
    """A team of the viewer's, by slug; cleaned to the Team. The choices come from
    the teams the lead scope already holds (no query). A NUL byte is its own
    error, not an unknown team (training.views.listing answers 404 for those)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teams: dict[str, Team] = {}

    def set_teams(self, teams: Iterable[Team]) -> None:
        self.teams = {team.slug: team for team in sorted(teams, key=lambda t: (t.name, t.slug))}
        self.choices = [("", _("All my teams"))] + [
            (team.slug, f"{team.name} ({team.slug})") for team in self.teams.values()
        ]

    def to_python(self, value):
        value = super().to_python(value)
        if "\x00" in value:
            raise forms.ValidationError(
                _("Null characters are not allowed."), code="null_characters"
            )
        return value

    def clean(self, value):
        slug = super().clean(value)
        return self.teams.get(slug) if slug else None


class EngineerSearchForm(forms.Form):
    """Search, filters and page of a list of engineers (GET), shared by every lead
    list (training.views.listing). `teams` are the viewer's; `statuses` adds the
    release status filter where the list has one (the release page)."""

    q = forms.CharField(
        label=_("Search"),
        max_length=SEARCH_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": _("Name or username")}
        ),
    )
    team = TeamSlugField(required=False, label=_("Team"))
    region = forms.ChoiceField(
        choices=[("", _("All regions")), *Region.choices], required=False, label=_("Region")
    )
    tier = forms.ChoiceField(
        choices=[("", _("Any tier")), *tier_choices()], required=False, label=_("Tier")
    )
    status = forms.ChoiceField(
        choices=[("", _("All statuses")), *EngineerStatus.CHOICES],
        required=False,
        label=_("Status"),
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    FILTERS = ("q", "team", "region", "tier", "status")

    def __init__(self, *args, teams: Iterable[Team], statuses: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].set_teams(teams)
        if not statuses:
            del self.fields["status"]

    def filter_fields(self):
        """The bound fields of the filter bar (not the page: a new filter starts at 1)."""
        return [self[name] for name in self.FILTERS if name in self.fields]

    def wanted(self) -> EngineerFilter:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        team = data.get("team")
        return EngineerFilter(
            q=data.get("q") or "",
            team_id=team.pk if team else None,
            region=data.get("region") or "",
            tier=data.get("tier") or "",
        )

    def status_wanted(self) -> str:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("status") or ""

    def page_number(self) -> int:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("page") or 1

    def team_not_mine(self) -> bool:
        """Whether the team asked for is not one of the viewer's (or does not
        exist): the lists answer 404 for it, as the team's own page would."""
        return any(
            error.code == "invalid_choice" for error in self.errors.as_data().get("team", [])
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

"""Django admin for people and activity: teams, engineers, skill records,
assignments, attempts, lesson progress, API tokens, audit events, notifications.

Writes that carry business rules go through the services, as the API's do:
teams and engineers are saved with `team_upsert` / `team_update` /
`engineer_upsert` (a new engineer, or one moved to another team, is given the
team's onboarding and open release training); a manual assignment is
`assignments_create_manual` (audited); an API token is issued with `token_issue`
(its secret shown once, only its hash stored) and revoked with `token_revoke`;
a support manager is made with `manager_grant` and removed with `manager_revoke`
(both audited).
Tokens can also be issued with `manage.py issue_token NAME --scope SCOPE`.
Deleting an engineer or a team marks the readiness of the releases concerned as
changed, in the same transaction. What records history (attempts, lesson progress,
audit events, notifications, webhook deliveries) and readiness snapshots are
read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import ngettext

from core.actors import Actor
from core.errors import InvalidInput
from courses.admin import QuizFilter, ReleaseFilter
from courses.models import Course
from training.models import (
    ApiToken,
    Assignment,
    Attempt,
    AttemptAnswer,
    AuditEvent,
    Engineer,
    LessonProgress,
    Notification,
    PersonPreferences,
    ReadinessSnapshot,
    Scope,
    SkillRecord,
    SupportManager,
    Team,
    TimeOff,
    WebhookDelivery,
)
from training.readiness.keep import readiness_changed
from training.services import webhooks
from training.services.shifts import shift_parse
from training.shifts import DAYS, mask_days


def _actor(request) -> Actor:
    return Actor(user=request.user)


class ReadinessOnDeleteMixin:
    """For a ModelAdmin whose deletions change releases' readiness counts (an engineer
    in scope, a team whose engineers leave the scope): the deletion and
    `readiness_changed` share one transaction. (Rows with assignments cannot be
    deleted in the admin: their history would go with them.)

    Subclasses define `readiness_scope(objs)`: the keyword arguments of
    readiness_changed for deleting `objs`, read before the rows are gone."""

    def delete_model(self, request, obj):
        with transaction.atomic():
            scope = self.readiness_scope([obj])
            super().delete_model(request, obj)
            readiness_changed(**scope)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            scope = self.readiness_scope(list(queryset))
            super().delete_queryset(request, queryset)
            readiness_changed(**scope)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: viewable by staff, never written from the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Teams and engineers --------------------------------------------------------


class TeamAdminForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["slug", "name", "sdks", "leads", "onboarding_courses"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "onboarding_courses" in self.fields:
            self.fields["onboarding_courses"].queryset = Course.objects.filter(release__isnull=True)


@admin.register(Team)
class TeamAdmin(ReadinessOnDeleteMixin, admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["slug", "name", "sdk_list", "lead_list", "engineer_count", "created_at"]
    list_filter = ["sdks"]
    search_fields = ["slug", "name"]
    autocomplete_fields = ["sdks", "leads", "onboarding_courses"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_engineer_count=Count("engineers", distinct=True))
            .prefetch_related("sdks", "leads")
        )

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def readiness_scope(self, objs):
        # The SDKs, not the teams: once deleted, a team supports nothing.
        sdks = Team.sdks.through.objects.filter(team__in=objs).values_list("sdk_id", flat=True)
        return {"sdk_ids": list(sdks)}

    @admin.display(description="SDKs")
    def sdk_list(self, obj):
        return ", ".join(sdk.slug for sdk in obj.sdks.all())

    @admin.display(description="leads")
    def lead_list(self, obj):
        return ", ".join(user.get_username() for user in obj.leads.all())

    @admin.display(description="engineers", ordering="_engineer_count")
    def engineer_count(self, obj):
        return obj._engineer_count

    def save_model(self, request, obj, form, change):
        # The people service owns the team's rules (leads must be users; a team that
        # starts supporting an SDK is given that SDK's published releases' training),
        # so the relations are written there, not by save_m2m.
        from training.services.people import team_update, team_upsert

        data = form.cleaned_data
        sdks = [sdk.slug for sdk in data["sdks"]]
        leads = [user.get_username() for user in data["leads"]]
        onboarding = [course.slug for course in data["onboarding_courses"]]
        actor = _actor(request)
        if change:
            team = team_update(
                team=obj,
                name=data["name"],
                sdks=sdks,
                leads=leads,
                onboarding_courses=onboarding,
                actor=actor,
            )
        else:
            team, _ = team_upsert(
                slug=data["slug"], name=data["name"], sdks=sdks, leads=leads, actor=actor
            )
            team = team_update(team=team, onboarding_courses=onboarding, actor=actor)
        obj.pk = team.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class EngineerAdminForm(forms.ModelForm):
    """The user comes with the engineer: `engineer_upsert` creates or updates both."""

    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    name = forms.CharField(max_length=300, help_text="Full name, e.g. Alice Chen.")

    working_days = forms.MultipleChoiceField(
        choices=[(day, day) for day in DAYS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Working days; leave days, start and end empty for the region's default.",
    )
    shift_starts = forms.TimeField(required=False, help_text="Local time, e.g. 09:00.")
    shift_ends = forms.TimeField(
        required=False, help_text="Local time; at or before the start: a night shift."
    )

    class Meta:
        model = Engineer
        fields = ["team", "tier", "region", "timezone", "language", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            user = self.instance.user
            self.initial.update(
                username=user.get_username(), email=user.email, name=user.get_full_name()
            )
            # The username is the engineer's key in the API and in HR sync.
            self.fields["username"].disabled = True
            if self.instance.shift_days is not None:
                self.initial.update(
                    working_days=mask_days(self.instance.shift_days),
                    shift_starts=self.instance.shift_start,
                    shift_ends=self.instance.shift_end,
                )

    def clean(self):
        data = super().clean()
        days, start, end = (
            data.get("working_days"),
            data.get("shift_starts"),
            data.get("shift_ends"),
        )
        if not days and start is None and end is None:
            data["shift"] = None
            return data
        if not days or start is None or end is None:
            raise ValidationError("Give the days, start and end of the shift, or none of them.")
        try:
            data["shift"] = {
                "days": list(days),
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
            }
            shift_parse(data["shift"])
        except InvalidInput as exc:
            raise ValidationError(" ".join(map(str, exc.detail.get("shift", [])))) from None
        return data

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not self.instance.pk and Engineer.objects.filter(user__username=username).exists():
            raise ValidationError("An engineer with this username exists; edit that one.")
        return username


class TimeOffInline(admin.TabularInline):
    """Days off, saved through training.services.shifts (EngineerAdmin.save_formset)."""

    model = TimeOff
    fields = ["start", "end"]
    extra = 0


@admin.register(Engineer)
class EngineerAdmin(ReadinessOnDeleteMixin, admin.ModelAdmin):
    form = EngineerAdminForm
    fields = [
        "username",
        "email",
        "name",
        "team",
        "tier",
        "region",
        "timezone",
        "language",
        "active",
        "working_days",
        "shift_starts",
        "shift_ends",
        "created_at",
    ]
    inlines = [TimeOffInline]
    list_display = ["username", "name", "team", "tier", "region", "timezone", "active"]
    list_filter = ["team", "tier", "region", "active"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user", "team"]
    ordering = ["user__username"]
    readonly_fields = ["created_at"]

    @admin.display(description="username", ordering="user__username")
    def username(self, obj):
        return obj.user.get_username()

    def readiness_scope(self, objs):
        return {"team_ids": [engineer.team_id for engineer in objs]}

    @admin.display(description="name", ordering="user__last_name")
    def name(self, obj):
        return obj.name

    def save_model(self, request, obj, form, change):
        # Joining a team (or coming back to one) gives the engineer the team's
        # onboarding and open release training: the service queues that.
        from training.services.people import engineer_update, engineer_upsert

        data = form.cleaned_data
        fields = {
            "email": data["email"],
            "name": data["name"],
            "team": data["team"].slug if data["team"] else None,
            "tier": data["tier"],
            "region": data["region"],
            "timezone": data["timezone"],
            "language": data["language"],
            "active": data["active"],
            "shift": data["shift"],
        }
        if change:
            engineer = engineer_update(engineer=obj, actor=_actor(request), **fields)
        else:
            engineer, _ = engineer_upsert(
                username=data["username"], actor=_actor(request), **fields
            )
        obj.pk = engineer.pk
        obj.user = engineer.user
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        if formset.model is not TimeOff:
            return super().save_formset(request, form, formset, change)
        from training.services.shifts import engineer_time_off_add, engineer_time_off_remove

        engineer = form.instance
        # The change message reads these; the services audit the changes themselves.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            if not inline.has_changed() and not formset._should_delete_form(inline):
                continue
            existing = inline.instance if inline.instance.pk else None
            if existing is not None:
                engineer_time_off_remove(time_off=existing, actor=_actor(request))
            if not formset._should_delete_form(inline) and inline.cleaned_data.get("start"):
                engineer_time_off_add(
                    engineer=engineer,
                    start=inline.cleaned_data["start"],
                    end=inline.cleaned_data["end"],
                    actor=_actor(request),
                )


@admin.register(SkillRecord)
class SkillRecordAdmin(admin.ModelAdmin):
    list_display = ["engineer", "skill", "level", "verified_at", "evidence"]
    list_filter = ["skill", "level", "engineer__region", "engineer__team"]
    search_fields = ["engineer__user__username", "skill__slug"]
    # The evidence column prints an Attempt, which names its engineer and course.
    list_select_related = [
        "engineer__user",
        "skill",
        "evidence__engineer__user",
        "evidence__quiz__course",
    ]
    raw_id_fields = ["engineer", "evidence"]
    autocomplete_fields = ["skill"]


# --- Assignments ---------------------------------------------------------------


class AssignmentAddForm(forms.ModelForm):
    """A manual assignment: one course to one engineer, by a due date."""

    class Meta:
        model = Assignment
        fields = ["engineer", "course", "due_at"]

    def clean_due_at(self):
        due_at = self.cleaned_data["due_at"]
        if due_at <= timezone.now():
            raise ValidationError("The due date must be in the future.")
        return due_at


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = [
        "engineer",
        "course",
        "release",
        "reason",
        "status",
        "due_at",
        "overdue",
        "assigned_by",
        "completed_at",
    ]
    list_filter = ["status", "reason", ("release", ReleaseFilter), "course", "engineer__region"]
    search_fields = ["engineer__user__username", "course__slug"]
    list_select_related = ["engineer__user", "course", "release__sdk", "assigned_by"]
    raw_id_fields = ["engineer"]
    autocomplete_fields = ["course"]
    date_hierarchy = "due_at"
    readonly_fields = [
        "engineer",
        "course",
        "release",
        "reason",
        "mandatory",
        "status",
        "assigned_by",
        "assigned_at",
        "due_at",
        "started_at",
        "completed_at",
        "exempt_reason",
    ]

    @admin.display(boolean=True)
    def overdue(self, obj):
        return obj.overdue

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AssignmentAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["engineer", "course", "due_at"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        # Status moves with the engineer's progress; due dates with the release.
        return self.readonly_fields if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        from training.services.assignments import assignments_create_manual

        created, _ = assignments_create_manual(
            course=obj.course,
            engineer_ids=[obj.engineer_id],
            due_at=obj.due_at,
            actor=_actor(request),
        )
        assignment = Assignment.objects.get(engineer_id=obj.engineer_id, course_id=obj.course_id)
        obj.pk = assignment.pk
        obj._state.adding = False
        if not created:
            self.message_user(
                request,
                f"{obj.engineer} already had {obj.course}; the assignment is unchanged.",
                messages.WARNING,
            )


# --- Activity: read-only history -----------------------------------------------


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = [
        "engineer",
        "quiz",
        "number",
        "score",
        "passed",
        "pass_mark",
        "started_at",
        "submitted_at",
    ]
    list_filter = ["passed", ("quiz", QuizFilter)]
    search_fields = ["engineer__user__username", "quiz__course__slug"]
    list_select_related = ["engineer__user", "quiz__course"]
    date_hierarchy = "started_at"


@admin.register(AttemptAnswer)
class AttemptAnswerAdmin(ReadOnlyAdmin):
    """Item analysis's rows: written by grading and regrades, never by hand."""

    list_display = ["attempt", "uid", "version", "kind", "feature", "mark", "rest", "graded_at"]
    list_filter = ["kind"]
    search_fields = ["uid", "feature", "attempt__engineer__user__username"]
    list_select_related = ["attempt__engineer__user", "attempt__quiz__course"]
    # A million rows: no COUNT(*) of them all on every page.
    show_full_result_count = False


@admin.register(LessonProgress)
class LessonProgressAdmin(ReadOnlyAdmin):
    list_display = ["engineer", "lesson", "course", "read_at"]
    list_filter = ["lesson__course"]
    search_fields = ["engineer__user__username", "lesson__course__slug", "lesson__title"]
    list_select_related = ["engineer__user", "lesson__course"]

    @admin.display(ordering="lesson__course__slug")
    def course(self, obj):
        return obj.lesson.course


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "release", "who", "details"]
    list_filter = ["kind", ("release", ReleaseFilter)]
    search_fields = ["actor__username", "token__name", "release__sdk__slug", "release__version"]
    list_select_related = ["actor", "token", "release__sdk"]
    date_hierarchy = "created_at"

    @admin.display(description="by")
    def who(self, obj):
        if obj.actor_id:
            return obj.actor.get_username()
        if obj.token_id:
            return f"token:{obj.token.name}"
        return "system"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "kind", "assignment", "offset_hours", "due_at", "recipients"]
    list_filter = ["kind"]
    search_fields = ["assignment__engineer__user__username", "assignment__course__slug"]
    list_select_related = ["assignment__engineer__user", "assignment__course"]
    date_hierarchy = "sent_at"


@admin.register(ReadinessSnapshot)
class ReadinessSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["release", "version", "counted_version", "counted_at", "valid_until"]
    search_fields = ["release__sdk__slug", "release__version"]
    list_select_related = ["release__sdk"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """The delivery log. Read-only but for "send again" (training.services.webhooks)."""

    list_display = [
        "release",
        "event",
        "status",
        "attempts",
        "response_status",
        "duration_ms",
        "last_attempt_at",
        "delivered_at",
        "short_error",
    ]
    list_filter = ["status", "event"]
    search_fields = ["release__sdk__slug", "release__version", "url", "message_id"]
    list_select_related = ["release__sdk"]
    actions = ["send_again"]

    @admin.display(description="last error")
    def short_error(self, obj: WebhookDelivery) -> str:
        return obj.last_error[:80]

    @admin.action(description="Send again")
    def send_again(self, request, queryset):
        count = webhooks.webhooks_send_again(
            delivery_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)


# --- API tokens ----------------------------------------------------------------


class ApiTokenIssueForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What the client may do. Any valid token may read what its scopes write.",
    )

    class Meta:
        model = ApiToken
        fields = ["name"]
        help_texts = {"name": "Who uses the token, e.g. release-pipeline."}


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Issued here (the secret is shown once, in a message) or with
    `manage.py issue_token`; never edited; revoked, never deleted, so audit rows
    keep pointing at it."""

    list_display = ["name", "prefix", "scope_list", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke_selected"]
    readonly_fields = [
        "name",
        "prefix",
        "scope_list",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]

    @admin.display(description="scopes")
    def scope_list(self, obj):
        return ", ".join(obj.scopes or [])

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenIssueForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["name", "scopes"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("training.change_apitoken")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        from training.services.tokens import token_issue

        token, raw = token_issue(name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"])
        obj.pk = token.pk
        obj.prefix = token.prefix
        obj._state.adding = False
        self.message_user(
            request,
            f"The token for '{token.name}' is {raw} — copy it now: it is shown only this "
            "once, and only its hash is stored.",
            messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        pass  # token_issue wrote everything there is

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        from training.services.tokens import token_revoke

        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            token_revoke(token=token)
        self.message_user(
            request,
            ngettext("Revoked %d token.", "Revoked %d tokens.", len(live)) % len(live),
            messages.SUCCESS,
        )


@admin.register(PersonPreferences)
class PersonPreferencesAdmin(admin.ModelAdmin):
    """A lead's or manager's time zone and language; also set by them on /lead/profile/."""

    list_display = ("user", "timezone", "language", "updated_at")
    search_fields = ("user__username",)
    autocomplete_fields = ("user",)
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        # Through the service, as the profile page saves them.
        from training.services.preferences import person_preferences_set

        saved = person_preferences_set(
            user=obj.user, timezone_name=obj.timezone, language=obj.language
        )
        obj.pk = saved.pk


@admin.register(SupportManager)
class SupportManagerAdmin(admin.ModelAdmin):
    """Support managers: added and deleted through the services (audited); a grant
    has nothing to edit afterwards."""

    list_display = ["user", "granted_by", "granted_at"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    fields = ["user", "granted_by", "granted_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "granted_by", "granted_at"] if obj else ["granted_by", "granted_at"]

    def save_model(self, request, obj, form, change):
        from training.services.managers import manager_grant

        manager, _ = manager_grant(user=form.cleaned_data["user"], actor=_actor(request))
        obj.pk = manager.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        from training.services.managers import manager_revoke

        manager_revoke(user=obj.user, actor=_actor(request))

    def delete_queryset(self, request, queryset):
        from training.services.managers import manager_revoke

        for manager in queryset.select_related("user"):
            manager_revoke(user=manager.user, actor=_actor(request))


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    """Days off, written through training.services.shifts (audited there)."""

    list_display = ["engineer", "start", "end", "created_by", "created_at"]
    search_fields = ["engineer__user__username"]
    list_select_related = ["engineer__user", "created_by"]
    raw_id_fields = ["engineer"]
    fields = ["engineer", "start", "end"]
    date_hierarchy = "start"

    def save_model(self, request, obj, form, change):
        from training.services.shifts import engineer_time_off_add, engineer_time_off_remove

        if change:
            engineer_time_off_remove(time_off=TimeOff.objects.get(pk=obj.pk), actor=_actor(request))
        saved = engineer_time_off_add(
            engineer=obj.engineer, start=obj.start, end=obj.end, actor=_actor(request)
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        from training.services.shifts import engineer_time_off_remove

        engineer_time_off_remove(time_off=obj, actor=_actor(request))

"""Django admin for content: SDKs, skills, releases and their features, courses.

Content authoring (titles, lessons, questions) is plain editing. What carries a
business rule goes through the services: a release is published with the
"Publish selected releases" action (`release_publish`, which queues the
assignment fan-out); a new customer date or notes go through `release_update`
(which moves the assignments' due dates); status, publication and availability
times are never edited by hand; the features of a release that left draft are
frozen, as the API freezes them; a new release's sort key comes from its parsed
version. Release list pages and filters join what they print, so their
query count does not grow with the number of rows.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import ngettext

from courses.models import Choice, Course, Feature, Lesson, Question, Quiz, Release, Sdk, Skill
from courses.versions import InvalidVersion, Version
from training.actors import Actor
from training.errors import PreflightError


class SelectRelatedFilter(admin.RelatedFieldListFilter):
    """A related-object filter whose choices are labelled without a query per row.

    The stock filter calls `str()` on every related object; for releases and quizzes
    that reads another table each time (the SDK, the course).
    """

    select_related: tuple[str, ...] = ()

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        queryset = field.related_model._default_manager.select_related(*self.select_related)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


class ReleaseFilter(SelectRelatedFilter):
    select_related = ("sdk",)


class QuizFilter(SelectRelatedFilter):
    select_related = ("course",)


_OPEN = (Release.Status.DRAFT, Release.Status.PUBLISHED)


def _actor(request) -> Actor:
    return Actor(user=request.user)


def _features_must_belong_to(formset, release_id: int | None) -> None:
    """A lesson or question may only point at a feature of its course's release."""
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None) or {}
        feature = data.get("feature")
        if feature is not None and not data.get("DELETE") and feature.release_id != release_id:
            form.add_error("feature", "Choose a feature of this course's release.")


# --- Catalog -------------------------------------------------------------------


class SdkAdminForm(forms.ModelForm):
    # The signing key is a secret: never rendered back into the page. Left blank on
    # an existing SDK, the stored key is kept.
    webhook_secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Key of the HMAC-SHA256 signature. Leave blank to keep the current key.",
    )

    class Meta:
        model = Sdk
        fields = ["slug", "name", "webhook_url", "webhook_secret"]

    def clean_webhook_secret(self):
        secret = self.cleaned_data.get("webhook_secret", "")
        if not secret and self.instance.pk:
            return self.instance.webhook_secret
        return secret


@admin.register(Sdk)
class SdkAdmin(admin.ModelAdmin):
    form = SdkAdminForm
    list_display = ["slug", "name", "webhook_url", "created_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        # The slug is the SDK's name in the API and in every release pipeline.
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []


# --- Releases --------------------------------------------------------------------


class FeatureInline(admin.StackedInline):
    model = Feature
    extra = 0
    fields = ["position", "key", "title", "summary", "skills"]
    autocomplete_fields = ["skills"]

    # Features of a published release are frozen (the API answers 409), so the
    # inline turns read-only once the release leaves draft.
    def _editable(self, obj) -> bool:
        return obj is None or obj.status == Release.Status.DRAFT

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


class ReleaseAdminForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ["sdk", "version", "customer_available_at", "notes"]

    def clean_version(self):
        # A form error, never a 500: the sort key is derived from the parsed version.
        try:
            return str(Version.parse(self.cleaned_data["version"]))
        except InvalidVersion as exc:
            raise ValidationError(str(exc), code="invalid_version") from exc


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    form = ReleaseAdminForm
    list_display = [
        "version",
        "sdk",
        "status",
        "customer_available_at",
        "due_at",
        "published_at",
        "available_at",
    ]
    list_filter = ["status", "sdk"]
    search_fields = ["sdk__slug", "version"]
    list_select_related = ["sdk"]
    ordering = ["sdk__slug", "-sort_key"]
    date_hierarchy = "customer_available_at"
    inlines = [FeatureInline]
    actions = ["publish_selected"]
    readonly_fields = [
        "status",
        "sort_key",
        "due_at",
        "created_at",
        "updated_at",
        "published_at",
        "available_at",
    ]

    @admin.display(description="training due")
    def due_at(self, obj):
        return obj.due_at if obj.customer_available_at else None

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None:
            # A release is addressed by SDK and version everywhere; they never change.
            fields += ["sdk", "version"]
            if obj.status not in _OPEN:
                # Available or withdrawn: final, as the API has it.
                fields += ["customer_available_at", "notes"]
        return fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Deleting a published release would silently delete its assignments.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != Release.Status.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            # Features come from the inline, saved after this; a draft has no
            # assignments yet, so a plain insert carries no rule but the sort key.
            obj.sort_key = Version.parse(obj.version).sort_key
            obj.created_at = obj.updated_at = timezone.now()
            super().save_model(request, obj, form, change)
            return
        if obj.status not in _OPEN:
            return  # nothing editable
        # A new customer date moves the due dates of the release's assignments:
        # the same service as the API's PATCH, never a raw save.
        from courses.services.releases import release_update

        release_update(
            release=obj,
            actor=_actor(request),
            customer_available_at=form.cleaned_data["customer_available_at"],
            notes=form.cleaned_data["notes"],
        )

    @admin.action(description="Publish selected releases", permissions=["change"])
    def publish_selected(self, request, queryset):
        # Imported here so the admin loads even where the service is not deployed yet.
        from courses.services.releases import release_publish

        published, already = 0, 0
        for release in queryset.select_related("sdk"):
            try:
                with transaction.atomic():
                    _, newly = release_publish(release=release, actor=_actor(request))
            except PreflightError as exc:
                self.message_user(request, f"{release}: {exc.detail}", messages.ERROR)
                continue
            if newly:
                published += 1
            else:
                already += 1
        if published:
            self.message_user(
                request,
                ngettext(
                    "Published %d release; its training is being assigned.",
                    "Published %d releases; their training is being assigned.",
                    published,
                )
                % published,
                messages.SUCCESS,
            )
        if already:
            self.message_user(
                request,
                ngettext(
                    "%d release was already published; nothing changed.",
                    "%d releases were already published; nothing changed.",
                    already,
                )
                % already,
                messages.INFO,
            )


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "release", "position"]
    list_filter = [("release", ReleaseFilter), "release__sdk"]
    search_fields = ["key", "title", "release__sdk__slug", "release__version"]
    list_select_related = ["release__sdk"]
    autocomplete_fields = ["release", "skills"]
    fields = ["release", "position", "key", "title", "summary", "skills"]

    def _editable(self, obj) -> bool:
        return obj is None or obj.release.status == Release.Status.DRAFT

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "release":
            kwargs["queryset"] = Release.objects.filter(status=Release.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --- Courses -------------------------------------------------------------------


class LessonInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        _features_must_belong_to(self, self.instance.release_id)


class LessonInline(admin.StackedInline):
    model = Lesson
    formset = LessonInlineFormSet
    extra = 0
    fields = ["position", "title", "feature", "body"]
    autocomplete_fields = ["feature"]
    ordering = ["position"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "release", "status", "language", "lesson_count", "updated_at"]
    list_filter = ["status", "language", ("release", ReleaseFilter)]
    search_fields = ["slug", "title", "release__sdk__slug", "release__version"]
    list_select_related = ["release__sdk"]
    autocomplete_fields = ["release"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [LessonInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_lesson_count=Count("lessons"))

    @admin.display(description="lessons", ordering="_lesson_count")
    def lesson_count(self, obj):
        return obj._lesson_count

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        course = form.instance
        if course.release_id and course.release.status == Release.Status.PUBLISHED:
            # A course added to a release already out: assign it like the release's
            # other training (the task is idempotent: ON CONFLICT DO NOTHING).
            from training.queue import enqueue_on_commit
            from training.tasks import assign_release_training

            enqueue_on_commit(assign_release_training, course.release_id)


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position", "feature"]
    list_filter = ["course"]
    search_fields = ["title", "course__slug", "course__title"]
    list_select_related = ["course", "feature"]
    autocomplete_fields = ["course", "feature"]
    ordering = ["course__slug", "position"]


class QuestionInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        quiz = self.instance
        _features_must_belong_to(self, quiz.course.release_id if quiz.course_id else None)


class QuestionInline(admin.TabularInline):
    model = Question
    formset = QuestionInlineFormSet
    extra = 0
    fields = ["position", "prompt", "kind", "skill", "feature"]
    autocomplete_fields = ["skill", "feature"]
    show_change_link = True  # choices are edited on the question's own page
    ordering = ["position"]


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["course", "pass_mark", "max_attempts", "question_count"]
    search_fields = ["course__slug", "course__title"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    inlines = [QuestionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_question_count=Count("questions"))

    @admin.display(description="questions", ordering="_question_count")
    def question_count(self, obj):
        return obj._question_count


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """A single-choice question has exactly one right answer, a multiple one at least one."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            return  # a question being drafted; the document import insists on choices
        correct = sum(1 for data in kept if data.get("correct"))
        kind = self.instance.kind
        if kind == Question.Kind.SINGLE and correct != 1:
            raise ValidationError("A single-choice question needs exactly one correct choice.")
        if kind == Question.Kind.MULTIPLE and correct < 1:
            raise ValidationError("A multiple-choice question needs at least one correct choice.")


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    extra = 0
    fields = ["position", "text", "correct"]
    ordering = ["position"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "quiz", "position", "kind", "skill", "feature"]
    list_filter = ["kind", "skill", ("quiz", QuizFilter)]
    search_fields = ["prompt", "quiz__course__slug"]
    list_select_related = ["quiz__course", "skill", "feature"]
    autocomplete_fields = ["quiz", "skill", "feature"]
    inlines = [ChoiceInline]
    ordering = ["quiz__course__slug", "position"]


@admin.register(Choice)
class ChoiceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "question", "position", "correct"]
    list_filter = ["correct"]
    search_fields = ["text", "question__prompt", "question__quiz__course__slug"]
    list_select_related = ["question"]
    autocomplete_fields = ["question"]

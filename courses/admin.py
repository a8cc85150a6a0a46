"""Django admin for content: SDKs, skills, releases and their features, courses.

Content authoring (titles, lessons, questions, choices) is plain editing, checked
before it is saved by the course document validator the API and `import_course`
use (see "Courses" below), with rendered Markdown previews; "Export as YAML"
downloads what `export_course` writes. What carries a business rule goes
through the services: a release is published with the "Publish selected
releases" action (`release_publish`, which queues the
assignment fan-out); a new customer date or notes go through `release_update`
(which moves the assignments' due dates); status, publication and availability
times are never edited by hand; the features of a release that left draft are
frozen, as the API freezes them; a new release's sort key comes from its parsed
version. Release list pages and filters join what they print, so their
query count does not grow with the number of rows.
"""

import io
import re
import zipfile

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core.actors import Actor
from core.errors import InvalidInput
from courses.documents import (
    course_to_document,
    document_validate,
    error_lines,
    question_to_document,
    quiz_to_document,
)
from courses.management.commands.export_course import dump_document
from courses.markdown import render_markdown
from courses.models import (
    DUE_AT_OUT_OF_RANGE,
    Choice,
    Course,
    Feature,
    Lesson,
    Playbook,
    PlaybookScenario,
    PlaybookStaleMark,
    Question,
    QuestionPool,
    Quiz,
    QuizSlot,
    Release,
    Sdk,
    Skill,
    StaleMark,
    due_at_in_range,
)
from courses.services.catalog import skill_rules_check
from courses.services.releases import OPEN as _OPEN
from courses.services.releases import release_draft_features_put, release_record
from courses.versions import InvalidVersion, Version
from courses.webhooks import new_webhook_secret, webhook_secret_problem


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
    )

    class Meta:
        model = Sdk
        fields = ["slug", "name", "webhook_url", "webhook_secret", "skill_rules"]
        help_texts = {
            "skill_rules": 'Which skills a changelog entry trains: {"skill-slug": ["keyword", …]}, '
            "matched against the entry's title, module and API symbols."
        }

    def clean_skill_rules(self):
        try:
            return skill_rules_check(self.cleaned_data.get("skill_rules") or {})
        except InvalidInput as exc:
            raise forms.ValidationError(exc.detail["skill_rules"]) from exc

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A fresh one on every render, for whoever has none at hand.
        self.fields["webhook_secret"].help_text = (
            "Standard Webhooks signing secret: whsec_ and base64 of 24 to 64 random bytes; "
            f"required with a URL. Leave blank to keep the current one. A new one: "
            f"{new_webhook_secret()}"
        )

    def clean_webhook_secret(self):
        secret = self.cleaned_data.get("webhook_secret", "").strip()
        if not secret:
            return self.instance.webhook_secret if self.instance.pk else ""
        problem = webhook_secret_problem(secret)
        if problem:
            raise forms.ValidationError(problem)
        return secret

    def clean(self):
        data = super().clean()
        url, secret = data.get("webhook_url"), data.get("webhook_secret")
        if url and not secret and "webhook_secret" not in self.errors:
            self.add_error("webhook_secret", "A webhook URL needs a signing secret (whsec_…).")
        elif url and webhook_secret_problem(secret or "") and "webhook_secret" not in self.errors:
            self.add_error("webhook_secret", "Set a new signing secret (whsec_…) with the URL.")
        return data


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


# A feature's form, in a release's inline and on its own page: its words, skills, and
# what its changelog entry said of it.
FEATURE_FIELDS = [
    "position",
    "key",
    "title",
    "summary",
    "skills",
    ("kind", "breaking", "train"),
    "module",
    "symbols",
]


class FeatureInline(admin.StackedInline):
    model = Feature
    extra = 0
    fields = FEATURE_FIELDS
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

    def clean_customer_available_at(self):
        # A new release is saved here directly, and its due date computed from this.
        value = self.cleaned_data["customer_available_at"]
        if value is not None and not due_at_in_range(value):
            raise ValidationError(DUE_AT_OUT_OF_RANGE, code="due_out_of_range")
        return value


class ReleaseAdminBase(admin.ModelAdmin):
    """The release's content: SDK, version, dates, notes, features. Registered by
    training.admin, which adds what a release does to people (publishing, the
    customer date moving due dates, the gate's decisions)."""

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

    def save_formset(self, request, form, formset, change):
        if formset.model is not Feature:
            super().save_formset(request, form, formset, change)
            return
        # What the admin's change message reads (a formset's save() would set them).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        release = form.instance
        if release.status != Release.Status.DRAFT:
            return  # frozen: the inline is read-only
        # The features as the forms now say, saved by the same service as the API.
        kept = [
            item.cleaned_data
            for item in formset.forms
            if getattr(item, "cleaned_data", None)
            and not item.cleaned_data.get("DELETE")
            and item.cleaned_data.get("key")
        ]
        kept.sort(key=lambda data: data.get("position") or 0)
        release_draft_features_put(
            release=release,
            features=[
                {
                    "key": data["key"],
                    "title": data.get("title") or data["key"],
                    "summary": data.get("summary") or "",
                    "skills": [skill.slug for skill in data.get("skills") or []],
                    "kind": data.get("kind") or "",
                    "breaking": bool(data.get("breaking")),
                    "symbols": data.get("symbols") or [],
                    "module": data.get("module") or "",
                    "train": bool(data.get("train")),
                }
                for data in kept
            ],
        )

    def save_model(self, request, obj, form, change):
        if change:
            return  # training.admin.ReleaseAdmin: a new date moves people's due dates
        # Recorded by the same service as the API (version parsed, sort key, a
        # savepoint against a concurrent insert); the features come from the inline,
        # saved after this, and a draft has no assignments to move.
        release, _ = release_record(
            sdk=form.cleaned_data["sdk"],
            version=form.cleaned_data["version"],
            customer_available_at=form.cleaned_data["customer_available_at"],
            notes=form.cleaned_data["notes"] or "",
            features=[],
            actor=_actor(request),
        )
        obj.pk = release.pk
        obj._state.adding = False
        obj.refresh_from_db()


@admin.register(Feature)
class FeatureAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "release", "position"]
    list_filter = [("release", ReleaseFilter), "release__sdk"]
    search_fields = ["key", "title", "release__sdk__slug", "release__version"]
    list_select_related = ["release__sdk"]
    autocomplete_fields = ["release", "skills"]
    fields = ["release", *FEATURE_FIELDS]

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
#
# What the admin saves must be a course the document validator accepts — the one
# the API and `import_course` use — so that `export_course` always writes a
# document that imports unchanged. Each course form and inline below builds the
# course document as it would be after the save (the submitted part, the rest as
# stored) and runs `document_validate` on it before anything is written; its
# errors are shown on the fields and rows they name, never as a 500.


def _preview(text: str | None):
    """Course Markdown rendered and sanitized exactly as engineers will see it."""
    if not text:
        return "—"
    return format_html('<div class="markdown-preview">{}</div>', mark_safe(render_markdown(text)))


def _course_head(course: Course) -> dict:
    release = course.release if course.release_id else None
    return {
        "title": course.title,
        "description": course.description,
        "release": (
            {"sdk": release.sdk.slug, "version": release.version} if release is not None else None
        ),
        "language": course.language,
        "status": course.status,
    }


def _stored_lessons(course: Course) -> list[Lesson]:
    if not course.pk:
        return []
    return list(Lesson.objects.filter(course=course).select_related("feature").order_by("position"))


def _lesson_item(lesson: Lesson) -> dict:
    item = {"title": lesson.title, "body": lesson.body}
    if lesson.feature_id:
        item["feature"] = lesson.feature.key
    return item


def _stored_questions(quiz: Quiz) -> list[Question]:
    if not quiz.pk:
        return []
    return list(
        Question.objects.filter(quiz=quiz, pool__isnull=True)
        .select_related("skill", "feature")
        .prefetch_related("choices")
        .order_by("position")
    )


def _document_errors(
    course: Course,
    *,
    lessons: list[dict] | None = None,
    quiz: Quiz | None = None,
    questions: list[dict] | None = None,
) -> dict:
    """Validate the course as it would be: `lessons` and the quiz `questions`
    given replace the stored ones. Returns DRF-shaped errors, {} when valid."""
    document = _course_head(course)
    if lessons is None:
        lessons = [_lesson_item(lesson) for lesson in _stored_lessons(course)]
    document["lessons"] = lessons
    if quiz is None and course.pk:
        quiz = Quiz.objects.filter(course=course).first()
    if quiz is not None:
        if questions is None:
            questions = [question_to_document(q, q.choices.all()) for q in _stored_questions(quiz)]
        stored = quiz_to_document(quiz) if quiz.pk else {}
        document["quiz"] = {
            "pass_mark": quiz.pass_mark,
            "max_attempts": quiz.max_attempts,
            "questions": questions,
            # Pools and slots as stored: the admin edits the quiz's own questions.
            **{key: stored[key] for key in ("pools", "slots") if key in stored},
        }
    try:
        document_validate(document)
    except InvalidInput as exc:
        return exc.detail if isinstance(exc.detail, dict) else {"course": [exc.detail]}
    return {}


def _messages(detail) -> list[str]:
    """DRF errors as readable lines: "message", or "choices[2].text: message"."""
    if isinstance(detail, list) and all(isinstance(item, str) for item in detail):
        return [str(item) for item in detail]
    return error_lines(detail)


def _add_item_errors(forms_in_order, item_errors) -> None:
    """Put a document list's errors on the rows they name. A message about the
    list itself (too short, empty) is raised as the formset's error."""
    if all(isinstance(item, str) for item in item_errors):
        raise ValidationError(_messages(item_errors))
    for form, errors in zip(forms_in_order, item_errors, strict=False):
        for field, detail in (errors or {}).items():
            form.add_error(field if field in form.fields else None, _messages(detail))
    raise ValidationError("Please correct the errors below; the course would not validate.")


def _kept_forms(formset) -> list:
    """The rows that will be saved, in position order (the document's order)."""
    kept = [
        form
        for form in formset.forms
        if getattr(form, "cleaned_data", None)
        and not form.cleaned_data.get("DELETE")
        and (form.instance.pk or form.has_changed())
    ]
    return sorted(kept, key=lambda form: form.cleaned_data.get("position") or 0)


class LessonInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        _features_must_belong_to(self, self.instance.release_id)
        if any(self.errors):
            return
        kept = _kept_forms(self)
        errors = _document_errors(
            self.instance, lessons=[_lesson_item(form.instance) for form in kept]
        )
        if "lessons" in errors:
            _add_item_errors(kept, errors["lessons"])


class LessonInline(admin.StackedInline):
    model = Lesson
    formset = LessonInlineFormSet
    extra = 0
    fields = ["position", "title", "feature", "body", "body_preview"]
    readonly_fields = ["body_preview"]
    autocomplete_fields = ["feature"]
    ordering = ["position"]

    @admin.display(description="preview (as saved)")
    def body_preview(self, obj):
        return _preview(obj.body if obj else "")


def _download(filename: str, content: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(StaleMark)
class StaleMarkAdmin(admin.ModelAdmin):
    """What releases made stale: read-only here (verifying the course clears them)."""

    list_display = ["course", "lesson", "question", "release", "created_at"]
    list_filter = [("release", ReleaseFilter)]
    list_select_related = ["course", "lesson", "question", "release__sdk"]
    search_fields = ["course__slug", "release__version"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PlaybookStaleMark)
class PlaybookStaleMarkAdmin(admin.ModelAdmin):
    """Playbooks releases made stale: read-only here (verifying the playbook clears
    them)."""

    list_display = ["playbook", "release", "created_at"]
    list_filter = [("release", ReleaseFilter)]
    list_select_related = ["playbook", "release__sdk"]
    search_fields = ["playbook__slug", "release__version"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CourseAdminBase(admin.ModelAdmin):
    """Course content. Registered by training.admin, which assigns a course saved for a
    published release to that release's engineers."""

    list_display = ["slug", "title", "release", "status", "language", "lesson_count", "updated_at"]
    list_filter = ["status", "language", ("release", ReleaseFilter)]
    search_fields = ["slug", "title", "release__sdk__slug", "release__version"]
    list_select_related = ["release__sdk"]
    autocomplete_fields = ["release", "recertifies", "owner"]
    # Verified from the content review page (training), which audits who did it.
    readonly_fields = ["verified_at", "created_at", "updated_at"]
    inlines = [LessonInline]
    actions = ["export_yaml"]

    class Media:
        css = {"all": ["courses/admin-authoring.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_lesson_count=Count("lessons"))

    @admin.display(description="lessons", ordering="_lesson_count")
    def lesson_count(self, obj):
        return obj._lesson_count

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.action(description="Export as YAML (as manage.py export_course)")
    def export_yaml(self, request, queryset):
        courses = list(queryset.select_related("release__sdk").order_by("slug"))
        if len(courses) == 1:
            text = dump_document(course_to_document(courses[0]))
            return _download(f"{courses[0].slug}.yaml", text.encode(), "application/yaml")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for course in courses:
                archive.writestr(f"{course.slug}.yaml", dump_document(course_to_document(course)))
        return _download("courses.zip", buffer.getvalue(), "application/zip")


def _lesson_errors(course: Course, lesson: Lesson) -> dict:
    """Errors of `lesson` once saved among its course's lessons, by field."""
    stored = [item for item in _stored_lessons(course) if item.pk != lesson.pk or not lesson.pk]
    ordered = sorted([*stored, lesson], key=lambda item: (item.position or 0, item is lesson))
    errors = _document_errors(course, lessons=[_lesson_item(item) for item in ordered])
    items = errors.get("lessons")
    return _item(items, ordered.index(lesson)) if items else {}


def _item(item_errors, index: int) -> dict:
    """One item's errors from a document list's errors (all of them, if they are
    about the list itself)."""
    if all(isinstance(item, str) for item in item_errors):
        return {NON_FIELD_ERRORS: item_errors}
    return item_errors[index] if index < len(item_errors) else {}


class LessonAdminForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = ["course", "position", "title", "feature", "body"]

    def clean(self):
        data = super().clean()
        course = data.get("course")
        if self.errors or course is None:
            return data
        feature = data.get("feature")
        if feature is not None and feature.release_id != course.release_id:
            self.add_error("feature", "Choose a feature of this course's release.")
            return data
        # clean() runs before the instance is updated: check the lesson as submitted.
        lesson = Lesson(
            pk=self.instance.pk,
            course=course,
            **{name: data.get(name) for name in ("position", "title", "feature", "body")},
        )
        for field, detail in _lesson_errors(course, lesson).items():
            self.add_error(field if field in self.fields else None, _messages(detail))
        return data


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ["title", "course", "position", "feature"]
    list_filter = ["course"]
    search_fields = ["title", "course__slug", "course__title"]
    list_select_related = ["course", "feature"]
    autocomplete_fields = ["course", "feature"]
    ordering = ["course__slug", "position"]
    readonly_fields = ["body_preview"]

    class Media:
        css = {"all": ["courses/admin-authoring.css"]}

    @admin.display(description="preview (as saved)")
    def body_preview(self, obj):
        return _preview(obj.body if obj else "")


# Choices edited with their question on the quiz page: one per line, "[x] " for
# a right answer, "[ ] " for a wrong one; a line without the mark continues the
# choice above it (a choice may be several lines of Markdown).
_CHOICE_LINE = re.compile(r"^\[([ xX])\] ?(.*)$")


def choices_to_text(choices) -> str:
    return "\n".join(f"[{'x' if c.correct else ' '}] {c.text}" for c in choices)


def choices_from_text(text: str) -> list[tuple[str, bool]]:
    """Parse the choices box; ValidationError names a line that starts no choice."""
    choices: list[list] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        match = _CHOICE_LINE.match(line)
        if match:
            choices.append([match.group(2), match.group(1) != " "])
        elif choices:
            choices[-1][0] += "\n" + line
        elif line.strip():
            raise ValidationError(
                f"Line {number}: start each choice with [x] (right) or [ ] (wrong)."
            )
    return [(text.rstrip("\n"), correct) for text, correct in choices]


class QuestionInlineForm(forms.ModelForm):
    choices = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70, "class": "choices-box"}),
        required=False,
        help_text="One choice per line: “[x] ” before a right answer, “[ ] ” before a wrong one.",
    )

    class Meta:
        model = Question
        fields = ["position", "prompt", "kind", "skill", "feature", "explanation", "choices"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["choices"].initial = choices_to_text(self.instance.choices.all())

    def clean_choices(self):
        return choices_from_text(self.cleaned_data.get("choices") or "")


class QuestionInlineFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        quiz = self.instance
        release_id = quiz.course.release_id if quiz.course_id else None
        _features_must_belong_to(self, release_id)
        if any(self.errors) or not quiz.course_id:
            return
        kept = _kept_forms(self)
        questions = [
            question_to_document(form.instance, form.cleaned_data["choices"]) for form in kept
        ]
        errors = _document_errors(quiz.course, quiz=quiz, questions=questions)
        quiz_errors = errors.get("quiz") or {}
        if "questions" in quiz_errors:
            _add_item_errors(kept, quiz_errors["questions"])


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionInlineForm
    formset = QuestionInlineFormSet
    extra = 0
    fields = [
        "position",
        "prompt",
        "prompt_preview",
        "kind",
        "skill",
        "feature",
        "choices",
        "explanation",
    ]
    readonly_fields = ["prompt_preview"]
    autocomplete_fields = ["skill", "feature"]
    show_change_link = True
    ordering = ["position"]

    def get_queryset(self, request):
        # The quiz's own questions; pool questions are edited on their own pages.
        return super().get_queryset(request).filter(pool__isnull=True).prefetch_related("choices")

    @admin.display(description="prompt preview (as saved)")
    def prompt_preview(self, obj):
        return _preview(obj.prompt if obj else "")


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["course", "pass_mark", "max_attempts", "question_count"]
    search_fields = ["course__slug", "course__title"]
    list_select_related = ["course"]
    autocomplete_fields = ["course"]
    inlines = [QuestionInline]

    class Media:
        css = {"all": ["courses/admin-authoring.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_question_count=Count("questions"))

    @admin.display(description="questions", ordering="_question_count")
    def question_count(self, obj):
        return obj._question_count

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if not isinstance(formset, QuestionInlineFormSet):
            return
        created = {question.pk for question in formset.new_objects}
        for question_form in formset.forms:
            question = question_form.instance
            data = getattr(question_form, "cleaned_data", None) or {}
            if not question.pk or data.get("DELETE") or "choices" not in data:
                continue
            if question.pk not in created and "choices" not in question_form.changed_data:
                continue
            # Choices are replaced, as course_put replaces them: attempts keep
            # their own snapshot, so no recorded score changes.
            Choice.objects.filter(question=question).delete()
            Choice.objects.bulk_create(
                Choice(question=question, position=position, text=text, correct=correct)
                for position, (text, correct) in enumerate(data["choices"], start=1)
            )


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """The question's choices, checked with the rest of its course by the document
    validator: a single-choice question has exactly one right answer, a multiple
    one at least one, every question at least two choices."""

    def clean(self):
        super().clean()
        question = self.instance
        if any(self.errors) or not question.quiz_id:
            return
        kept = _kept_forms(self)
        edited = question_to_document(
            question, [(form.cleaned_data["text"], form.cleaned_data["correct"]) for form in kept]
        )
        errors = _question_errors(question, edited)
        if errors:
            raise ValidationError(
                [
                    line if field in ("choices", NON_FIELD_ERRORS) else f"{field}: {line}"
                    for field, detail in errors.items()
                    for line in _messages(detail)
                ]
            )


def _question_errors(question: Question, edited: dict) -> dict:
    """Errors of `question` (as `edited`) once saved among its quiz's questions."""
    quiz = question.quiz
    stored = [q for q in _stored_questions(quiz) if q.pk != question.pk or not question.pk]
    ordered = sorted([*stored, question], key=lambda q: (q.position or 0, q is question))
    questions = [
        edited if q is question else question_to_document(q, q.choices.all()) for q in ordered
    ]
    errors = _document_errors(quiz.course, quiz=quiz, questions=questions)
    items = (errors.get("quiz") or {}).get("questions")
    if not items:
        return {}
    return _item(items, ordered.index(question))


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
    readonly_fields = ["prompt_preview", "explanation_preview", "pool", "uid", "version"]
    fields = [
        "quiz",
        "pool",
        "position",
        "uid",
        "version",
        "kind",
        "skill",
        "feature",
        "prompt",
        "prompt_preview",
        "spec",
        "explanation",
        "explanation_preview",
    ]

    class Media:
        css = {"all": ["courses/admin-authoring.css"]}

    @admin.display(description="prompt preview (as saved)")
    def prompt_preview(self, obj):
        return _preview(obj.prompt if obj else "")

    @admin.display(description="explanation preview (as saved)")
    def explanation_preview(self, obj):
        return _preview(obj.explanation if obj else "")


class ChoiceAdminForm(forms.ModelForm):
    class Meta:
        model = Choice
        fields = ["question", "position", "text", "correct"]

    def clean(self):
        data = super().clean()
        question = data.get("question")
        if self.errors or question is None:
            return data
        # clean() runs before the instance is updated: check the choice as submitted.
        choice = Choice(
            pk=self.instance.pk,
            position=data.get("position"),
            text=data.get("text"),
            correct=data.get("correct"),
        )
        stored = [c for c in question.choices.all() if c.pk != choice.pk or not choice.pk]
        choices = sorted([*stored, choice], key=lambda c: (c.position or 0, c is choice))
        errors = _question_errors(question, question_to_document(question, choices))
        if errors:
            raise ValidationError(
                [line for detail in errors.values() for line in _messages(detail)]
            )
        return data


@admin.register(Choice)
class ChoiceAdmin(admin.ModelAdmin):
    form = ChoiceAdminForm
    list_display = ["__str__", "question", "position", "correct"]
    list_filter = ["correct"]
    search_fields = ["text", "question__prompt", "question__quiz__course__slug"]
    list_select_related = ["question"]
    autocomplete_fields = ["question"]


class PoolQuestionInline(admin.TabularInline):
    model = Question
    fields = ["position", "uid", "version", "kind", "skill", "feature", "prompt"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["position"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(QuestionPool)
class QuestionPoolAdmin(admin.ModelAdmin):
    """Pools are written by course documents (PUT, import_course); here to read."""

    list_display = ["name", "quiz", "position"]
    search_fields = ["name", "quiz__course__slug"]
    list_select_related = ["quiz__course"]
    readonly_fields = ["quiz", "name", "position"]
    inlines = [PoolQuestionInline]


@admin.register(QuizSlot)
class QuizSlotAdmin(admin.ModelAdmin):
    """Slots are written by course documents; here to read."""

    list_display = ["__str__", "quiz", "position", "question", "pool", "draw", "feature"]
    list_select_related = ["quiz__course", "question", "pool", "feature"]
    search_fields = ["quiz__course__slug"]
    readonly_fields = ["quiz", "position", "question", "pool", "draw", "feature"]


class PlaybookScenarioInline(admin.TabularInline):
    model = PlaybookScenario
    extra = 1


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    """Playbooks, edited in place (the API and `import_playbook` take whole documents).
    The search vector is the database's: a trigger rewrites it on every save."""

    list_display = ["slug", "title", "language", "owner", "verified_at", "updated_at"]
    list_filter = ["language", "scenarios__scenario"]
    search_fields = ["slug", "title"]
    list_select_related = ["owner"]
    autocomplete_fields = ["sdks", "skills", "owner"]
    raw_id_fields = ["features"]
    inlines = [PlaybookScenarioInline]


@admin.register(PlaybookScenario)
class PlaybookScenarioAdmin(admin.ModelAdmin):
    list_display = ["playbook", "scenario"]
    list_filter = ["scenario"]
    search_fields = ["playbook__slug", "playbook__title"]
    list_select_related = ["playbook"]
    raw_id_fields = ["playbook"]

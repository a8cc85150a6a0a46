"""Course documents: the one shape a course is written in, and its one validator.

A course document (JSON or YAML; see API.md, `PUT /api/v1/courses/{slug}/`) holds
the course's title, its release, its lessons and its quiz. The API, `manage.py
import_course` and the admin all validate through `document_validate`, so a
document is accepted or refused the same way everywhere, with errors that name
the field path the DRF way (`{"quiz": {"questions": [{}, {"choices": [...]}]}}`).

`course_to_document` is the inverse: document → course → document gives back the
same document (with defaults filled in), which is what `export_course` writes.
"""

from typing import Any, NotRequired, TypedDict, cast

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from core.errors import InvalidInput
from courses.models import Choice, Course, Feature, Lesson, Question, Quiz, Release, Skill
from courses.versions import MAX_VERSION_LENGTH, InvalidVersion, Version

MAX_LESSONS = 500
MAX_QUESTIONS = 500
MAX_CHOICES = 26
MAX_RECERTIFIES = 100


# --- a validated document, references resolved (what `document_validate` returns) ---


class ChoiceSpec(TypedDict):
    text: str
    correct: bool


class QuestionSpec(TypedDict):
    prompt: str
    kind: str  # a Question.Kind value
    skill: Skill | None
    feature: Feature | None
    explanation: str
    choices: list[ChoiceSpec]


class QuizSpec(TypedDict):
    pass_mark: int
    max_attempts: int
    review: str
    questions: list[QuestionSpec]


class LessonSpec(TypedDict):
    title: str
    body: str
    feature: Feature | None


class CourseSpec(TypedDict):
    slug: NotRequired[str]  # optional in a document; course_put sets it from the URL
    title: str
    description: str
    release: Release | None
    language: str  # a Course.Language value
    status: str  # a Course.Status value
    recertifies: list[Skill]  # in the document's order, without repeats
    owner: NotRequired[Any]  # a user, or None; absent: the course keeps its owner
    verify_every_days: NotRequired[int]
    lessons: list[LessonSpec]
    quiz: QuizSpec | None


class MarkdownField(serializers.CharField):
    """Text kept exactly as written (leading indentation is Markdown), but not blank."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not self.allow_blank and not value.strip():
            self.fail("blank")
        return value


class DocumentListSerializer(serializers.ListSerializer):
    """Errors about the list itself (too short, not a list) as `{"lessons": [msg]}`,
    not DRF's `{"lessons": {"non_field_errors": [msg]}}`; item errors stay a list."""

    def run_validation(self, data=empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and set(detail) == {api_settings.NON_FIELD_ERRORS_KEY}:
                raise serializers.ValidationError(
                    detail[api_settings.NON_FIELD_ERRORS_KEY]
                ) from exc
            raise


class ReleaseRefDocumentSerializer(serializers.Serializer):
    sdk = serializers.SlugField(max_length=64, help_text="SDK slug, e.g. rtm-android.")
    version = serializers.CharField(
        max_length=MAX_VERSION_LENGTH, help_text="Semantic version; a leading v is dropped."
    )

    def validate_version(self, value: str) -> str:
        try:
            return str(Version.parse(value))
        except InvalidVersion as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs) -> Release:
        release = (
            Release.objects.select_related("sdk")
            .filter(sdk__slug=attrs["sdk"], version=attrs["version"])
            .first()
        )
        if release is not None:
            return release
        if not Release.objects.filter(sdk__slug=attrs["sdk"]).exists():
            raise serializers.ValidationError(
                {"sdk": [gettext("Unknown SDK '%(sdk)s'.") % {"sdk": attrs["sdk"]}]}
            )
        raise serializers.ValidationError(
            {
                "version": [
                    gettext("Unknown release %(release)s.")
                    % {"release": f"{attrs['sdk']} {attrs['version']}"}
                ]
            }
        )


class ChoiceDocumentSerializer(serializers.Serializer):
    text = MarkdownField()
    correct = serializers.BooleanField(default=False)

    class Meta:
        list_serializer_class = DocumentListSerializer


class QuestionDocumentSerializer(serializers.Serializer):
    prompt = MarkdownField(help_text="Markdown.")
    kind = serializers.ChoiceField(choices=Question.Kind.choices, default=Question.Kind.SINGLE)
    skill = serializers.SlugField(
        max_length=64, required=False, allow_null=True, help_text="Skill slug it tests."
    )
    feature = serializers.SlugField(
        max_length=100,
        required=False,
        allow_null=True,
        help_text="Key of a feature of the course's release.",
    )
    explanation = MarkdownField(
        required=False, allow_blank=True, default="", help_text="Markdown, shown after submission."
    )
    choices = ChoiceDocumentSerializer(many=True, min_length=2, max_length=MAX_CHOICES)

    class Meta:
        list_serializer_class = DocumentListSerializer

    def validate(self, attrs):
        correct = sum(1 for choice in attrs["choices"] if choice["correct"])
        if attrs["kind"] == Question.Kind.SINGLE and correct != 1:
            raise serializers.ValidationError(
                {"choices": [gettext("A single-choice question needs exactly one correct choice.")]}
            )
        if attrs["kind"] == Question.Kind.MULTIPLE and correct < 1:
            raise serializers.ValidationError(
                {
                    "choices": [
                        gettext("A multiple-choice question needs at least one correct choice.")
                    ]
                }
            )
        return attrs


class QuizDocumentSerializer(serializers.Serializer):
    pass_mark = serializers.IntegerField(
        min_value=1, max_value=100, default=80, help_text="Percentage needed to pass."
    )
    max_attempts = serializers.IntegerField(min_value=1, max_value=100, default=3)
    review = serializers.ChoiceField(
        choices=Quiz.Review.choices,
        default=Quiz.Review.AFTER_PASS,
        help_text="after_pass (default): the key and explanations once the engineer passes "
        "or has used every attempt; immediate: on every result.",
    )
    questions = QuestionDocumentSerializer(many=True, allow_empty=False, max_length=MAX_QUESTIONS)


class LessonDocumentSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = MarkdownField(help_text="Markdown.")
    feature = serializers.SlugField(
        max_length=100,
        required=False,
        allow_null=True,
        help_text="Key of a feature of the course's release.",
    )

    class Meta:
        list_serializer_class = DocumentListSerializer


class CourseDocumentSerializer(serializers.Serializer):
    """A course document. References (release, features, skills) must exist."""

    slug = serializers.SlugField(
        max_length=100, required=False, help_text="Optional; must match the URL's slug."
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    release = ReleaseRefDocumentSerializer(
        required=False, allow_null=True, help_text="Omit or null for an onboarding course."
    )
    language = serializers.ChoiceField(choices=Course.Language.choices, default=Course.Language.EN)
    status = serializers.ChoiceField(choices=Course.Status.choices, default=Course.Status.PUBLISHED)
    recertifies = serializers.ListField(
        child=serializers.SlugField(max_length=64),
        required=False,
        default=list,
        max_length=MAX_RECERTIFIES,
        help_text="Slugs of the skills whose records a pass of this course renews: engineers "
        "whose record in one of them is about to expire are assigned the course.",
    )
    owner = serializers.CharField(
        max_length=150,
        required=False,
        allow_null=True,
        help_text="Username of who keeps the course true (content review); null for none.",
    )
    verify_every_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text="How often its owner confirms it is still true (default 180).",
    )
    lessons = LessonDocumentSerializer(many=True, required=False, max_length=MAX_LESSONS)
    quiz = QuizDocumentSerializer(required=False, allow_null=True)

    def validate_owner(self, value: str | None):
        if value is None:
            return None
        owner = get_user_model().objects.filter(username=value, is_active=True).first()
        if owner is None:
            raise serializers.ValidationError(
                gettext("Unknown user '%(username)s'.") % {"username": value}
            )
        return owner

    def validate(self, attrs):
        release: Release | None = attrs.get("release")
        lessons = attrs.setdefault("lessons", [])
        quiz = attrs.setdefault("quiz", None)
        attrs["release"] = release
        errors: dict[str, Any] = {}
        if not lessons and quiz is None:
            errors["lessons"] = [gettext("A course needs at least one lesson or a quiz.")]

        features = {f.key: f for f in release.features.all()} if release else {}
        recertifies = list(dict.fromkeys(attrs.get("recertifies") or []))
        wanted_skills = {q["skill"] for q in (quiz or {}).get("questions", []) if q.get("skill")}
        skills = {
            s.slug: s for s in Skill.objects.filter(slug__in=wanted_skills | set(recertifies))
        }
        unknown = [slug for slug in recertifies if slug not in skills]
        if unknown:
            errors["recertifies"] = [
                gettext("Unknown skill '%(slug)s'.") % {"slug": slug} for slug in unknown
            ]
        attrs["recertifies"] = [skills[slug] for slug in recertifies if slug in skills]

        def feature_of(key: str | None) -> tuple[Feature | None, list[str]]:
            if not key:
                return None, []
            if release is None:
                return None, [
                    gettext("Feature '%(key)s' needs the course to have a release.") % {"key": key}
                ]
            if key not in features:
                return None, [
                    gettext("Unknown feature '%(key)s' in %(release)s.")
                    % {"key": key, "release": f"{release.sdk.slug} {release.version}"}
                ]
            return features[key], []

        lesson_errors = []
        for lesson in lessons:
            lesson["feature"], messages = feature_of(lesson.get("feature"))
            lesson_errors.append({"feature": messages} if messages else {})
        if any(lesson_errors):
            errors["lessons"] = lesson_errors

        if quiz is not None:
            question_errors = []
            for question in quiz["questions"]:
                found: dict[str, list[str]] = {}
                question["feature"], messages = feature_of(question.get("feature"))
                if messages:
                    found["feature"] = messages
                slug = question.get("skill")
                question["skill"] = skills.get(slug) if slug else None
                if slug and question["skill"] is None:
                    found["skill"] = [gettext("Unknown skill '%(slug)s'.") % {"slug": slug}]
                question_errors.append(found)
            if any(question_errors):
                errors["quiz"] = {"questions": question_errors}

        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def document_validate(document: Any) -> CourseSpec:
    """Check a course document and resolve its references.

    Returns the validated document with `release` a Release (or None), each lesson's
    and question's `feature` a Feature (or None), each question's `skill` a Skill
    (or None) and `recertifies` a list of Skills, defaults filled in. Raises
    InvalidInput with DRF-shaped field errors.
    """
    serializer = CourseDocumentSerializer(data=document)
    if not serializer.is_valid():
        raise InvalidInput(serializer.errors)
    # The serializers' defaults and `validate` give every key of a CourseSpec.
    return cast(CourseSpec, serializer.validated_data)


def course_to_document(course: Course) -> dict:
    """The document that `course_put` would turn into this course.

    Optional keys that hold nothing (no feature, no skill, no explanation, a wrong
    choice's `correct`) are left out, so exports read like hand-written documents.
    """
    document: dict[str, Any] = {"slug": course.slug, "title": course.title}
    if course.description:
        document["description"] = course.description
    release = course.release
    document["release"] = (
        {"sdk": release.sdk.slug, "version": release.version} if release is not None else None
    )
    document["language"] = course.language
    document["status"] = course.status
    recertifies = sorted(course.recertifies.values_list("slug", flat=True))
    if recertifies:
        document["recertifies"] = recertifies
    if course.owner_id is not None:
        document["owner"] = course.owner.get_username()
    if course.verify_every_days != Course._meta.get_field("verify_every_days").default:
        document["verify_every_days"] = course.verify_every_days
    lessons = []
    for lesson in Lesson.objects.filter(course=course).select_related("feature"):
        item = {"title": lesson.title, "body": lesson.body}
        if lesson.feature is not None:
            item["feature"] = lesson.feature.key
        lessons.append(item)
    document["lessons"] = lessons
    quiz = Quiz.objects.filter(course=course).first()
    if quiz is not None:
        questions = []
        for question in (
            Question.objects.filter(quiz=quiz)
            .select_related("skill", "feature")
            .prefetch_related("choices")
        ):
            questions.append(question_to_document(question, question.choices.all()))
        document["quiz"] = {
            "pass_mark": quiz.pass_mark,
            "max_attempts": quiz.max_attempts,
            "review": quiz.review,
            "questions": questions,
        }
    return document


def question_to_document(question: Question, choices) -> dict:
    """One question of a course document, with its `choices` (Choice objects, or
    `(text, correct)` pairs, in order). The admin uses it to check a question being
    edited together with the rest of its course, by the same validator."""
    item: dict[str, Any] = {"prompt": question.prompt, "kind": question.kind}
    if question.skill is not None:
        item["skill"] = question.skill.slug
    if question.feature is not None:
        item["feature"] = question.feature.key
    if question.explanation:
        item["explanation"] = question.explanation
    pairs = [(c.text, c.correct) if isinstance(c, Choice) else tuple(c) for c in choices]
    item["choices"] = [
        {"text": text, "correct": True} if correct else {"text": text} for text, correct in pairs
    ]
    return item


def error_lines(detail: Any, path: str = "") -> list[str]:
    """DRF-shaped errors as `quiz.questions[1].choices: message` lines."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            lines += error_lines(value, f"{path}.{key}" if path else str(key))
        return lines
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [f"{path or 'document'}: {item}" for item in detail]
        lines = []
        for index, item in enumerate(detail):
            lines += error_lines(item, f"{path}[{index}]")
        return lines
    return [f"{path or 'document'}: {detail}"]

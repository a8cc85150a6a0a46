"""API v1, catalog: SDKs, skills and courses (scope `catalog` to write; any
authenticated client may read). The answer key of a course (which choices are
correct, and the explanations) is shown only to clients with the `catalog` scope."""

from typing import Any

from django.urls import path
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api.permissions import token_has_scope
from courses.documents import question_to_document
from courses.models import Course, Feature, Lesson, Question, Quiz, Sdk, Skill
from courses.selectors import catalog as selectors
from courses.services.catalog import sdk_set_webhook, sdk_upsert, skill_upsert
from courses.versions import MAX_VERSION_LENGTH, InvalidVersion, Version

# --- serializers --------------------------------------------------------------


class SdkWebhookSerializer(serializers.Serializer):
    webhook_url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Where release events are POSTed (Standard Webhooks); empty switches them off.",
    )
    webhook_secret = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        write_only=True,
        help_text="Signing secret, whsec_ and base64 of 24 to 64 random bytes; required "
        "with a URL. Never returned.",
    )


class SdkCreateSerializer(SdkWebhookSerializer):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)


class SdkSerializer(serializers.ModelSerializer):
    # Not read-only, so the schema marks it optional: only catalog clients see it.
    webhook_url = serializers.CharField(
        required=False, help_text="Only for clients with the catalog scope."
    )

    class Meta:
        model = Sdk
        fields = ["slug", "name", "webhook_url"]
        read_only_fields = ["slug", "name"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("catalog"):
            data.pop("webhook_url", None)
        return data


def sdk_context(request) -> dict:
    return {"request": request, "catalog": token_has_scope(request, "catalog")}


class SkillCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200)


class SkillSerializer(serializers.ModelSerializer):
    class Meta:
        model = Skill
        fields = ["slug", "name", "description"]
        read_only_fields = fields


class CourseReleaseSerializer(serializers.Serializer):
    sdk = serializers.CharField(source="sdk.slug", read_only=True)
    version = serializers.CharField(read_only=True)


class CourseLessonSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField[Feature](
        slug_field="key", read_only=True, allow_null=True
    )

    class Meta:
        model = Lesson
        fields = ["title", "body", "feature"]
        read_only_fields = fields


def _answer_key(serializer: serializers.Serializer) -> bool:
    return bool(serializer.context.get("answer_key"))


class CourseChoiceSerializer(serializers.Serializer):
    text = serializers.CharField(read_only=True)
    # Not read-only, so the schema marks it optional: it is left out without the key.
    correct = serializers.BooleanField(
        required=False, help_text="Only for clients with the catalog scope."
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _answer_key(self):
            data.pop("correct", None)
        return data


class CourseChoiceKeySerializer(CourseChoiceSerializer):
    fraction = serializers.FloatField(
        required=False, allow_null=True, help_text="Only for clients with the catalog scope."
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _answer_key(self) or data.get("fraction") is None:
            data.pop("fraction", None)
        return data


class _ScenarioField(serializers.CharField):
    def to_representation(self, value: Any) -> Any:
        question: Question = value
        if question.kind != Question.Kind.SCENARIO:
            return None
        return (question.spec or {}).get("scenario", "")


class _AnswerFieldsField(serializers.JSONField):
    def to_representation(self, value: Any) -> Any:
        question: Question = value
        fields = question_to_document(question, question.choices.all())
        for name in ("id", "prompt", "kind", "skill", "feature", "explanation", "choices"):
            fields.pop(name, None)
        fields.pop("scenario", None)
        return fields


class CourseQuestionSerializer(serializers.ModelSerializer):
    """A question as its document reads. Without the catalog scope: the prompt,
    the choice texts and a scenario's log, never what makes an answer right (which
    choices, fractions, accepted answers, value, order, pairs, rubric,
    explanation)."""

    id = serializers.CharField(source="uid", read_only=True, help_text="Its stable name.")
    version = serializers.IntegerField(read_only=True)
    skill = serializers.SlugRelatedField[Skill](slug_field="slug", read_only=True, allow_null=True)
    feature = serializers.SlugRelatedField[Feature](
        slug_field="key", read_only=True, allow_null=True
    )
    explanation = serializers.CharField(
        required=False, help_text="Markdown. Only for clients with the catalog scope."
    )
    choices = CourseChoiceKeySerializer(many=True, read_only=True)
    # Not read-only, so the schema marks them optional: each is left out where it
    # does not apply (and answer_fields without the key).
    scenario = _ScenarioField(
        source="*", required=False, help_text="scenario: the log, trace or code."
    )
    answer_fields = _AnswerFieldsField(
        source="*",
        required=False,
        help_text="The kind's own fields as the course document writes them (answer, answers, "
        "value, tolerance, units, items, pairs, rubric, question…). Only for clients with "
        "the catalog scope.",
    )

    class Meta:
        model = Question
        fields = [
            "id",
            "version",
            "prompt",
            "kind",
            "skill",
            "feature",
            "explanation",
            "choices",
            "scenario",
            "answer_fields",
        ]
        read_only_fields = ["prompt", "kind", "skill", "feature", "choices"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("scenario") is None:
            data.pop("scenario", None)
        if not _answer_key(self):
            data.pop("explanation", None)
            data.pop("answer_fields", None)
        elif not data.get("answer_fields"):
            data.pop("answer_fields", None)
        return data


class CoursePoolSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    questions = CourseQuestionSerializer(many=True, read_only=True)


class CourseSlotSerializer(serializers.Serializer):
    """`{"question": index}` or `{"pool": name, "draw": N, "feature": key?}`."""

    question = serializers.IntegerField(required=False, help_text="Index in `questions`.")
    pool = serializers.CharField(required=False)
    draw = serializers.IntegerField(required=False)
    feature = serializers.CharField(required=False)

    def to_representation(self, instance):
        if instance.question_id is not None:
            index = self.context.get("question_index", {}).get(instance.question_id)
            return {"question": index}
        data = {"pool": instance.pool.name, "draw": instance.draw}
        if instance.feature is not None:
            data["feature"] = instance.feature.key
        return data


class CourseQuizSerializer(serializers.ModelSerializer):
    questions = CourseQuestionSerializer(many=True, read_only=True)
    pools = CoursePoolSerializer(many=True, read_only=True)
    slots = serializers.SerializerMethodField()

    class Meta:
        model = Quiz
        fields = ["pass_mark", "max_attempts", "review", "questions", "pools", "slots"]
        read_only_fields = fields

    @extend_schema_field(CourseSlotSerializer(many=True))
    def get_slots(self, quiz: Quiz) -> list:
        index = {question.pk: n for n, question in enumerate(quiz.questions.all())}
        context = {**self.context, "question_index": index}
        return list(CourseSlotSerializer(quiz.slots.all(), many=True, context=context).data)


class StaleReleaseSerializer(serializers.Serializer):
    sdk = serializers.CharField(source="sdk.slug")
    version = serializers.CharField()


class StaleMarkSerializer(serializers.Serializer):
    lesson = serializers.IntegerField(
        source="lesson.position", required=False, help_text="The lesson's position (1..n)."
    )
    question = serializers.IntegerField(
        source="question.position", required=False, help_text="The question's position."
    )
    since = StaleReleaseSerializer(source="release", help_text="The release that made it stale.")
    symbols = serializers.ListField(child=serializers.CharField())

    def to_representation(self, instance):
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if value is not None}


class CourseSerializer(serializers.ModelSerializer):
    """A course as its document reads (see PUT), plus when it was made and changed."""

    release = CourseReleaseSerializer(read_only=True, allow_null=True)
    recertifies = serializers.SlugRelatedField[Skill](
        slug_field="slug",
        many=True,
        read_only=True,
        help_text="Skills whose records a pass of this course renews.",
    )
    lessons = CourseLessonSerializer(many=True, read_only=True)
    quiz = CourseQuizSerializer(read_only=True, allow_null=True)
    owner = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True, help_text="Who keeps it true."
    )
    verify_by = serializers.DateTimeField(
        read_only=True, help_text="When its owner must next confirm it is still true."
    )
    stale = StaleMarkSerializer(
        source="stale_marks",
        many=True,
        read_only=True,
        help_text="Lessons and questions naming API that a later release removed, "
        "deprecated or broke; empty when nothing is stale. Verifying clears them.",
    )

    class Meta:
        model = Course
        fields = [
            "slug",
            "title",
            "description",
            "release",
            "status",
            "language",
            "recertifies",
            "owner",
            "verify_every_days",
            "verified_at",
            "verify_by",
            "stale",
            "lessons",
            "quiz",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CourseFilterSerializer(serializers.Serializer):
    release_sdk = serializers.SlugField(max_length=64, required=False)
    release_version = serializers.CharField(max_length=MAX_VERSION_LENGTH, required=False)

    def validate_release_version(self, value: str) -> str:
        try:
            return str(Version.parse(value))
        except InvalidVersion as exc:
            raise serializers.ValidationError(str(exc)) from exc


# --- views --------------------------------------------------------------------


class CatalogView(GenericAPIView):
    scope = "catalog"
    read_scope = None  # any authenticated client may read the catalog


class SdkListView(CatalogView):
    serializer_class = SdkSerializer

    @extend_schema(
        operation_id="sdks_list",
        responses={200: SdkSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.sdk_list())
        data = SdkSerializer(page, many=True, context=sdk_context(request)).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="sdks_create",
        request=SdkCreateSerializer,
        responses={
            201: OpenApiResponse(SdkSerializer, description="Created."),
            200: OpenApiResponse(SdkSerializer, description="Already there; returned unchanged."),
        },
    )
    def post(self, request):
        data = SdkCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sdk, created = sdk_upsert(**data.validated_data)
        return Response(
            SdkSerializer(sdk, context=sdk_context(request)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SdkDetailView(CatalogView):
    serializer_class = SdkSerializer

    @extend_schema(
        operation_id="sdks_retrieve",
        responses={200: SdkSerializer},
    )
    def get(self, request, slug: str):
        sdk = selectors.sdk_get(slug=slug)
        return Response(SdkSerializer(sdk, context=sdk_context(request)).data)

    @extend_schema(
        operation_id="sdks_partial_update",
        request=SdkWebhookSerializer,
        responses={200: SdkSerializer},
    )
    def patch(self, request, slug: str):
        data = SdkWebhookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sdk = selectors.sdk_get(slug=slug)
        sdk = sdk_set_webhook(
            sdk=sdk,
            url=data.validated_data.get("webhook_url"),
            secret=data.validated_data.get("webhook_secret"),
        )
        return Response(SdkSerializer(sdk, context=sdk_context(request)).data)


class SkillListView(CatalogView):
    serializer_class = SkillSerializer

    @extend_schema(
        operation_id="skills_list",
        responses={200: SkillSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.skill_list())
        return self.get_paginated_response(SkillSerializer(page, many=True).data)

    @extend_schema(
        operation_id="skills_create",
        request=SkillCreateSerializer,
        responses={
            201: OpenApiResponse(SkillSerializer, description="Created."),
            200: OpenApiResponse(SkillSerializer, description="Already there; returned unchanged."),
        },
    )
    def post(self, request):
        data = SkillCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        skill, created = skill_upsert(**data.validated_data)
        return Response(
            SkillSerializer(skill).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SkillDetailView(CatalogView):
    serializer_class = SkillSerializer

    @extend_schema(
        operation_id="skills_retrieve",
        responses={200: SkillSerializer},
    )
    def get(self, request, slug: str):
        return Response(SkillSerializer(selectors.skill_get(slug=slug)).data)


def course_context(request) -> dict:
    return {"request": request, "answer_key": token_has_scope(request, "catalog")}


class CourseListView(CatalogView):
    serializer_class = CourseSerializer

    @extend_schema(
        operation_id="courses_list",
        parameters=[
            OpenApiParameter(
                "release_sdk", str, description="Only courses of this SDK's releases."
            ),
            OpenApiParameter(
                "release_version", str, description="Only courses of releases of this version."
            ),
        ],
        responses={200: CourseSerializer(many=True)},
    )
    def get(self, request):
        filters = CourseFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.course_list(**filters.validated_data))
        data = CourseSerializer(page, many=True, context=course_context(request)).data
        return self.get_paginated_response(data)


class CourseDetailView(CatalogView):
    serializer_class = CourseSerializer

    @extend_schema(
        operation_id="courses_retrieve",
        responses={200: CourseSerializer},
    )
    def get(self, request, slug: str):
        course = selectors.course_get(slug=slug)
        return Response(CourseSerializer(course, context=course_context(request)).data)


# courses/<slug>/ is training.api.courses's: saving a course assigns it to people.
urlpatterns = [
    path("sdks/", SdkListView.as_view(), name="api-sdks"),
    path("sdks/<slug:slug>/", SdkDetailView.as_view(), name="api-sdk"),
    path("skills/", SkillListView.as_view(), name="api-skills"),
    path("skills/<slug:slug>/", SkillDetailView.as_view(), name="api-skill"),
    path("courses/", CourseListView.as_view(), name="api-courses"),
]

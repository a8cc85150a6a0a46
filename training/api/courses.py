"""API v1: a course saved from its document (PUT), which assigns it to the engineers
of its release when that release is published. Reading courses is the catalog's
(courses.api.catalog); this view adds the write to the same address."""

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.actors import Actor
from courses.api.catalog import CourseDetailView, CourseSerializer, course_context
from courses.documents import CourseDocumentSerializer
from courses.models import Course
from courses.selectors import catalog as selectors
from training.services.courses import course_save
from training.services.regrade import question_regrade, regrade_payload


class CourseDocumentView(CourseDetailView):
    @extend_schema(
        operation_id="courses_put",
        description=(
            "Create or replace the course from a document. Replacing never changes a past "
            "attempt's recorded score."
        ),
        request=CourseDocumentSerializer,
        responses={
            201: OpenApiResponse(CourseSerializer, description="Created."),
            200: OpenApiResponse(CourseSerializer, description="Replaced."),
            409: OpenApiResponse(
                description="The document drops the quiz of a course that has attempts."
            ),
        },
    )
    def put(self, request, slug: str):
        course, created = course_save(
            slug=slug, document=request.data, actor=Actor.from_request(request)
        )
        course = selectors.course_get(slug=course.slug)
        return Response(
            CourseSerializer(course, context=course_context(request)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class RegradeRequestSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(
        default=True, help_text="List what would change and write nothing (the default)."
    )
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Regrade only the attempts that were asked this version (default: every one).",
    )


class _BeforeAfterInt(serializers.Serializer):
    before = serializers.IntegerField(allow_null=True)
    after = serializers.IntegerField(allow_null=True)


class _BeforeAfterFloat(serializers.Serializer):
    before = serializers.FloatField(allow_null=True)
    after = serializers.FloatField(allow_null=True)


class _BeforeAfterBool(serializers.Serializer):
    before = serializers.BooleanField(allow_null=True)
    after = serializers.BooleanField(allow_null=True)


class _BeforeAfterStatus(serializers.Serializer):
    before = serializers.CharField(allow_null=True, help_text="The assignment's status.")
    after = serializers.CharField(allow_null=True)


class _SkillChangeSerializer(serializers.Serializer):
    skill = serializers.CharField()
    before = serializers.IntegerField(allow_null=True, help_text="Level 1-4; null: no record.")
    after = serializers.IntegerField(allow_null=True)


class RegradeAttemptSerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    engineer = serializers.CharField()
    number = serializers.IntegerField()
    awaiting_grading = serializers.BooleanField()
    mark = _BeforeAfterFloat()
    score = _BeforeAfterInt()
    passed = _BeforeAfterBool()
    completion = _BeforeAfterStatus()
    skills = _SkillChangeSerializer(many=True)


class RegradeSkippedSerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    engineer = serializers.CharField()
    number = serializers.IntegerField()
    reason = serializers.ChoiceField(
        choices=["essay", "changed"],
        help_text="essay: graded by a person; changed: the answer shown is gone from the key.",
    )


class RegradeFlipsSerializer(serializers.Serializer):
    pass_to_fail = serializers.IntegerField()
    fail_to_pass = serializers.IntegerField()


class RegradeResultSerializer(serializers.Serializer):
    course = serializers.CharField()
    uid = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)
    key_version = serializers.IntegerField(help_text="The version whose key was applied.")
    dry_run = serializers.BooleanField()
    rekeyed = serializers.IntegerField(
        help_text="Attempts whose copy of the question takes the current key."
    )
    flips = RegradeFlipsSerializer()
    attempts = RegradeAttemptSerializer(many=True)
    skipped = RegradeSkippedSerializer(many=True)


class QuestionRegradeView(GenericAPIView):
    """Regrade the attempts that answered question `uid` against its current key."""

    scope = "catalog"
    serializer_class = RegradeRequestSerializer

    @extend_schema(
        operation_id="courses_questions_regrade",
        description=(
            "Regrade every submitted attempt that was asked question `uid` (at `version`, "
            "or at every version) against the question's current key. With `dry_run` (the "
            "default) lists the attempts whose mark, score, pass or fail, assignment "
            "completion or skill levels would change, and writes nothing; with "
            '`"dry_run": false` applies it in one transaction, invalidates readiness, '
            "keeps an audit row and mails the engineers whose score changed. Running it "
            "again changes nothing."
        ),
        request=RegradeRequestSerializer,
        responses={
            200: OpenApiResponse(RegradeResultSerializer),
            404: OpenApiResponse(description="No such course, or no such question in it."),
        },
    )
    def post(self, request, slug: str, uid: str):
        course = get_object_or_404(Course, slug=slug)
        given = RegradeRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        result = question_regrade(
            course=course,
            uid=uid,
            version=given.validated_data.get("version"),
            dry_run=given.validated_data["dry_run"],
            actor=Actor.from_request(request),
        )
        return Response(regrade_payload(result))


urlpatterns = [
    path("courses/<slug:slug>/", CourseDocumentView.as_view(), name="api-course"),
    path(
        "courses/<slug:slug>/questions/<path:uid>/regrade/",
        QuestionRegradeView.as_view(),
        name="api-question-regrade",
    ),
]

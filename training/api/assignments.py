"""API v1 assignments: list (filtered, narrowed to what the reader may see) and
manual assignment of a course to engineers or a whole team."""

from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, serializers, status
from rest_framework.response import Response

from core.actors import Actor
from core.api.fields import AwareDateTimeField
from courses.models import Course
from courses.versions import InvalidVersion, Version
from training.models import ApiToken, Assignment, Engineer, Scope, Team
from training.selectors.assignments import assignments_list, assignments_visible_to
from training.services.assignments import assignments_create_manual


class AssignmentFilterSerializer(serializers.Serializer):
    engineer = serializers.CharField(required=False)
    course = serializers.CharField(required=False)
    sdk = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=Assignment.Status.choices, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate_version(self, value: str) -> str:
        try:
            return str(Version.parse(value))
        except InvalidVersion as exc:
            raise serializers.ValidationError(str(exc)) from exc


class AssignmentReleaseSerializer(serializers.Serializer):
    sdk = serializers.CharField(source="sdk.slug")
    version = serializers.CharField()


class AssignmentSerializer(serializers.ModelSerializer):
    engineer = serializers.CharField(source="engineer.user.username", read_only=True)
    course = serializers.CharField(source="course.slug", read_only=True)
    release = AssignmentReleaseSerializer(allow_null=True, read_only=True)
    # A plain string in the schema, as Release.status (see training.api.releases).
    status = serializers.CharField(
        read_only=True, help_text="assigned, in_progress, complete or exempt."
    )
    overdue = serializers.BooleanField(read_only=True, help_text="Past due and not complete.")

    class Meta:
        model = Assignment
        fields = [
            "id",
            "engineer",
            "course",
            "release",
            "reason",
            "mandatory",
            "status",
            "overdue",
            "assigned_at",
            "due_at",
            "completed_at",
        ]
        read_only_fields = fields


class AssignmentCreateSerializer(serializers.Serializer):
    course = serializers.SlugField(max_length=100)
    engineers = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, default=list
    )
    team = serializers.SlugField(max_length=64, required=False, allow_null=True, default=None)
    due_at = AwareDateTimeField()

    def validate_course(self, value: str) -> Course:
        course = Course.objects.filter(slug=value).first()
        if course is None:
            raise serializers.ValidationError(
                gettext("Unknown course: %(names)s.") % {"names": value}
            )
        return course

    def validate_engineers(self, value: list[str]) -> list[int]:
        usernames = set(value)
        found = dict(
            Engineer.objects.filter(user__username__in=usernames, active=True).values_list(
                "user__username", "id"
            )
        )
        unknown = sorted(usernames - found.keys())
        if unknown:
            raise serializers.ValidationError(
                gettext("Unknown or inactive engineer: %(names)s.") % {"names": ", ".join(unknown)}
            )
        return sorted(found.values())

    def validate_team(self, value: str | None) -> Team | None:
        if value is None:
            return None
        team = Team.objects.filter(slug=value).first()
        if team is None:
            raise serializers.ValidationError(
                gettext("Unknown team: %(names)s.") % {"names": value}
            )
        return team

    def validate(self, attrs):
        engineer_ids = set(attrs["engineers"])
        if attrs["team"] is not None:
            engineer_ids |= set(
                attrs["team"].engineers.filter(active=True).values_list("id", flat=True)
            )
        if not engineer_ids:
            raise serializers.ValidationError(
                {"engineers": [gettext("Name engineers, a team with active engineers, or both.")]}
            )
        attrs["engineer_ids"] = sorted(engineer_ids)
        return attrs


class AssignmentCreatedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField(help_text="Engineers who already had the course.")


class AssignmentListView(mixins.ListModelMixin, generics.GenericAPIView):
    scope = Scope.ASSIGNMENTS
    serializer_class = AssignmentSerializer

    def get_queryset(self):
        filters = AssignmentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        # A token is a machine client with the scope: it reads everything. A person
        # reads their own assignments and their teams' (staff: everything).
        reader = None if isinstance(self.request.auth, ApiToken) else self.request.user
        return assignments_list(queryset=assignments_visible_to(reader), **filters.validated_data)

    @extend_schema(
        operation_id="assignments_list",
        summary="List assignments",
        parameters=[
            OpenApiParameter("engineer", OpenApiTypes.STR, description="Engineer username."),
            OpenApiParameter("course", OpenApiTypes.STR, description="Course slug."),
            OpenApiParameter("sdk", OpenApiTypes.STR, description="Release SDK slug."),
            OpenApiParameter("version", OpenApiTypes.STR, description="Release version."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Assignment.Status.values),
            OpenApiParameter("overdue", OpenApiTypes.BOOL, description="Past due, not done."),
        ],
        responses={
            200: AssignmentSerializer(many=True),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="A bad filter, named."),
        },
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        operation_id="assignments_create",
        summary="Assign a course to engineers and/or a team",
        request=AssignmentCreateSerializer,
        responses={
            201: AssignmentCreatedSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input, named."),
        },
    )
    def post(self, request):
        body = AssignmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created, existing = assignments_create_manual(
            course=body.validated_data["course"],
            engineer_ids=body.validated_data["engineer_ids"],
            due_at=body.validated_data["due_at"],
            actor=Actor.from_request(request),
        )
        return Response({"created": created, "existing": existing}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("assignments/", AssignmentListView.as_view(), name="api-assignments"),
]

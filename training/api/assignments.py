"""API v1 assignments: list (filtered, narrowed to what the reader may see),
manual assignment of a course to engineers or a whole team, and a lead's
exceptions for one person: more attempts (`POST …/{id}/attempts/`) and a new due
date (`PATCH …/{id}/`).

Who may act on one assignment: a token with the `assignments` scope on any; a
signed-in person who leads no team (and is not staff) gets 403; a lead, only on
their own teams' engineers (training.selectors.access), and 404 on any other, so
the answer never confirms that it exists."""

from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from core.actors import Actor
from core.api.fields import AwareDateTimeField
from courses.models import Course
from courses.versions import InvalidVersion, Version
from training.models import ApiToken, Assignment, Engineer, Scope, Team
from training.selectors.access import may_manage_assignments
from training.selectors.assignments import (
    assignment_item,
    assignments_list,
    assignments_manageable_by,
    assignments_visible_to,
)
from training.services.assignments import NOTE_MAX, assignments_create_manual
from training.services.extensions import (
    EXTRA_MAX,
    EXTRA_MIN,
    REASON_MAX,
    assignment_extend,
    assignment_grant_attempts,
)


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
    assigned_by = serializers.SerializerMethodField(
        help_text='Who assigned it: a username, an API token\'s name, or "system".'
    )
    note = serializers.CharField(read_only=True, help_text="The lead's note to the engineer.")
    attempts_used = serializers.IntegerField(
        read_only=True, help_text="Attempts started at the course's quiz."
    )
    attempts_allowed = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The quiz's max_attempts plus those granted; null when the course has no quiz.",
    )
    locked_out = serializers.BooleanField(
        read_only=True,
        help_text="Open, and every allowed attempt failed: only a grant lets the engineer go on.",
    )
    extra_attempts = serializers.IntegerField(
        read_only=True, help_text="Attempts granted on top of the quiz's max_attempts."
    )
    extended = serializers.SerializerMethodField(
        help_text="The due date was set by hand for this person."
    )

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
            "assigned_by",
            "note",
            "attempts_used",
            "attempts_allowed",
            "extra_attempts",
            "locked_out",
            "extended",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_assigned_by(self, assignment: Assignment) -> str:
        if assignment.assigned_by is not None:
            return assignment.assigned_by.get_username()
        if assignment.assigned_by_token is not None:
            return assignment.assigned_by_token.name
        return "system"

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_extended(self, assignment: Assignment) -> bool:
        return assignment.extended_at is not None


class AssignmentCreateSerializer(serializers.Serializer):
    course = serializers.SlugField(max_length=100)
    engineers = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, default=list
    )
    team = serializers.SlugField(max_length=64, required=False, allow_null=True, default=None)
    due_at = AwareDateTimeField()
    note = serializers.CharField(
        max_length=NOTE_MAX,
        required=False,
        allow_blank=True,
        default="",
        help_text="Shown to the engineers with the assignment.",
    )

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
            note=body.validated_data["note"],
        )
        return Response({"created": created, "existing": existing}, status=status.HTTP_201_CREATED)


class AssignmentExtendSerializer(serializers.Serializer):
    due_at = AwareDateTimeField(help_text="The new due date, with its UTC offset.")
    reason = serializers.CharField(max_length=REASON_MAX, help_text="Why; kept on the record.")


class AssignmentGrantSerializer(serializers.Serializer):
    extra = serializers.IntegerField(
        min_value=EXTRA_MIN, max_value=EXTRA_MAX, help_text="More attempts to allow."
    )
    reason = serializers.CharField(max_length=REASON_MAX, help_text="Why; kept on the record.")


def _reader(request: Request):
    """None for a machine client (it reads every assignment), else the person."""
    return None if isinstance(request.auth, ApiToken) else request.user


def _manageable(request: Request, pk: int) -> Assignment:
    """The assignment `pk` if this client may change it: 403 for a person who leads
    no team, 404 for one outside a lead's teams (or their own)."""
    user = _reader(request)
    if user is not None and not may_manage_assignments(user):
        raise exceptions.PermissionDenied(
            gettext("Only a lead may change an assignment through the API.")
        )
    assignment = assignments_manageable_by(user).filter(pk=pk).first()
    if assignment is None:
        raise exceptions.NotFound()
    return assignment


def _item(request: Request, pk: int) -> Response:
    assignment = assignment_item(queryset=Assignment.objects.all(), pk=pk)
    return Response(AssignmentSerializer(assignment, context={"request": request}).data)


_ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input, named."),
    403: OpenApiResponse(
        OpenApiTypes.OBJECT, description="A token without the scope, or a person who leads no team."
    ),
    404: OpenApiResponse(OpenApiTypes.OBJECT, description="No such assignment of your teams."),
    409: OpenApiResponse(OpenApiTypes.OBJECT, description="The assignment is complete or exempt."),
}


class AssignmentDetailView(generics.GenericAPIView):
    scope = Scope.ASSIGNMENTS
    session_write = True  # a lead, on their own teams' engineers (_manageable)
    serializer_class = AssignmentSerializer

    @extend_schema(
        operation_id="assignments_retrieve",
        summary="One assignment",
        responses={200: AssignmentSerializer, 404: _ERRORS[404]},
    )
    def get(self, request, pk: int):
        assignment = assignment_item(queryset=assignments_visible_to(_reader(request)), pk=pk)
        if assignment is None:
            raise exceptions.NotFound()
        return Response(AssignmentSerializer(assignment, context={"request": request}).data)

    @extend_schema(
        operation_id="assignments_extend",
        summary="Set one person's due date by hand, with the reason (audited)",
        request=AssignmentExtendSerializer,
        responses={200: AssignmentSerializer, **_ERRORS},
    )
    def patch(self, request, pk: int):
        assignment = _manageable(request, pk)
        body = AssignmentExtendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment_extend(
            assignment=assignment,
            due_at=body.validated_data["due_at"],
            reason=body.validated_data["reason"],
            actor=Actor.from_request(request),
        )
        return _item(request, pk)


class AssignmentAttemptsView(generics.GenericAPIView):
    scope = Scope.ASSIGNMENTS
    session_write = True  # a lead, on their own teams' engineers (_manageable)
    serializer_class = AssignmentGrantSerializer

    @extend_schema(
        operation_id="assignments_grant_attempts",
        summary="Allow one person more quiz attempts, with the reason (audited)",
        request=AssignmentGrantSerializer,
        responses={200: AssignmentSerializer, **_ERRORS},
    )
    def post(self, request, pk: int):
        assignment = _manageable(request, pk)
        body = AssignmentGrantSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment_grant_attempts(
            assignment=assignment,
            extra=body.validated_data["extra"],
            reason=body.validated_data["reason"],
            actor=Actor.from_request(request),
        )
        return _item(request, pk)


urlpatterns = [
    path("assignments/", AssignmentListView.as_view(), name="api-assignments"),
    path("assignments/<int:pk>/", AssignmentDetailView.as_view(), name="api-assignment"),
    path(
        "assignments/<int:pk>/attempts/",
        AssignmentAttemptsView.as_view(),
        name="api-assignment-attempts",
    ),
]

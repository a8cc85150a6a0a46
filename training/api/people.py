"""API v1, people: teams and engineers (scope `people`), as HR sync scripts use it."""

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import path, register_converter
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.actors import Actor
from core.errors import InvalidInput, NotFound
from courses.models import Course, Sdk, Skill
from training.models import ApiToken, Engineer, Region, SkillRecord, SupportManager, Team, Tier
from training.selectors import people as selectors
from training.selectors import skill_valid_until
from training.selectors.access import may_see_engineer
from training.services.managers import manager_grant, manager_revoke
from training.services.people import (
    engineer_update,
    engineer_upsert,
    team_update,
    team_upsert,
)
from training.services.people_bulk import BULK_MAX, engineers_bulk_upsert
from training.services.shifts import TIME_OFF_MAX
from training.shifts import DAYS, effective_shift

_LIST_MAX = 1000


class UsernameConverter:
    """What Django's username validator allows (UnicodeUsernameValidator): other
    text is no engineer's address, so it is a 404 before any lookup, and the
    schema's path parameter says so (drf-spectacular reads the regex)."""

    regex = r"[\w.@+-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UsernameConverter, "username")

# --- serializers --------------------------------------------------------------


class TeamCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=64)
    name = serializers.CharField(max_length=200, required=False, help_text="Needed for a new team.")
    sdks = serializers.ListField(
        child=serializers.SlugField(max_length=64),
        required=False,
        max_length=_LIST_MAX,
        help_text="SDK slugs the team supports; replaces the list.",
    )
    leads = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        max_length=_LIST_MAX,
        help_text="Usernames of existing users; replaces the list.",
    )


class TeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    sdks = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=_LIST_MAX
    )
    leads = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=_LIST_MAX
    )
    onboarding_courses = serializers.ListField(
        child=serializers.SlugField(max_length=100),
        required=False,
        max_length=_LIST_MAX,
        help_text="Course slugs assigned to engineers who join the team.",
    )


class TeamSerializer(serializers.ModelSerializer):
    sdks = serializers.SlugRelatedField[Sdk](many=True, read_only=True, slug_field="slug")
    leads = serializers.SlugRelatedField[User](many=True, read_only=True, slug_field="username")
    onboarding_courses = serializers.SlugRelatedField[Course](
        many=True, read_only=True, slug_field="slug"
    )

    class Meta:
        model = Team
        fields = ["slug", "name", "sdks", "leads", "onboarding_courses"]
        read_only_fields = fields


_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class ShiftSerializer(serializers.Serializer):
    days = serializers.ListField(
        child=serializers.ChoiceField(choices=list(DAYS)), min_length=1, max_length=7
    )
    start = serializers.RegexField(_CLOCK, help_text="Local time HH:MM.")
    end = serializers.RegexField(
        _CLOCK, help_text="Local time HH:MM; at or before `start`: ends the next day."
    )


class TimeOffSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day off, the engineer's local date.")
    end = serializers.DateField(help_text="Last day off (included).")


class _EngineerFieldsSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    name = serializers.CharField(
        max_length=301, required=False, allow_blank=True, help_text="Full name."
    )
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    region = serializers.ChoiceField(choices=Region.choices, required=False)
    timezone = serializers.CharField(
        max_length=64, required=False, help_text="IANA time zone, e.g. Asia/Shanghai."
    )
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    active = serializers.BooleanField(required=False)
    shift = ShiftSerializer(
        required=False,
        allow_null=True,
        help_text="Weekly shift in the engineer's time zone; null: the region's default.",
    )
    time_off = serializers.ListField(
        child=TimeOffSerializer(),
        required=False,
        max_length=TIME_OFF_MAX,
        help_text="Days off; replaces the engineer's list.",
    )


class EngineerCreateSerializer(_EngineerFieldsSerializer):
    username = serializers.CharField(max_length=150)
    team = serializers.SlugField(max_length=64, required=False, help_text="Team slug.")


class EngineerUpdateSerializer(_EngineerFieldsSerializer):
    team = serializers.SlugField(
        max_length=64, required=False, allow_null=True, help_text="Team slug; null for none."
    )


class EngineerSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    team = serializers.SlugRelatedField[Team](slug_field="slug", read_only=True, allow_null=True)
    shift = serializers.SerializerMethodField(
        help_text="The shift in force: the engineer's own, or the region's default."
    )
    shift_is_default = serializers.SerializerMethodField()
    time_off = TimeOffSerializer(many=True, read_only=True)

    class Meta:
        model = Engineer
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
            "shift",
            "shift_is_default",
            "time_off",
        ]
        read_only_fields = fields

    @extend_schema_field(ShiftSerializer)
    def get_shift(self, engineer: Engineer) -> dict[str, object]:
        return effective_shift(
            engineer.region, engineer.shift_days, engineer.shift_start, engineer.shift_end
        ).as_dict()

    def get_shift_is_default(self, engineer: Engineer) -> bool:
        return engineer.shift_days is None


class EngineerBulkErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the list, from 0.")
    username = serializers.CharField()
    # A field named `errors` does not shadow Serializer.errors (DRF's metaclass pops
    # declared fields off the class), but the stubs see a class attribute.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The item's errors by field, as POST /engineers/ gives them.",
    )


class EngineerBulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = EngineerBulkErrorSerializer(many=True)  # type: ignore[assignment]  # see above


def _plain(errors) -> dict[str, list[str]]:
    return {field: [str(message) for message in messages] for field, messages in errors.items()}


class EngineerFilterSerializer(serializers.Serializer):
    team = serializers.SlugField(max_length=64, required=False)
    region = serializers.ChoiceField(choices=Region.choices, required=False)
    active = serializers.BooleanField(required=False, allow_null=True, default=None)


class SkillRecordSerializer(serializers.ModelSerializer):
    skill = serializers.SlugRelatedField[Skill](slug_field="slug", read_only=True)
    name = serializers.CharField(source="skill.name", read_only=True)
    level_name = serializers.CharField(source="get_level_display", read_only=True)
    valid_until = serializers.SerializerMethodField(
        help_text="When the record stops counting: verified_at plus PREFLIGHT_SKILL_VALID_DAYS."
    )

    class Meta:
        model = SkillRecord
        fields = ["skill", "name", "level", "level_name", "verified_at", "valid_until", "evidence"]
        read_only_fields = fields
        extra_kwargs = {"evidence": {"help_text": "The attempt that showed the level, if any."}}

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_valid_until(self, record: SkillRecord) -> str:
        return serializers.DateTimeField().to_representation(skill_valid_until(record.verified_at))


class ManagerSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    granted_by = serializers.SlugRelatedField[User](
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who made them a manager (null for a token or the system).",
    )

    class Meta:
        model = SupportManager
        fields = ["username", "granted_by", "granted_at"]
        read_only_fields = fields


# --- views --------------------------------------------------------------------


class PeopleView(GenericAPIView):
    scope = "people"
    session_read = False  # the directory is for staff and HR tokens, not every signed-in user


class TeamListView(PeopleView):
    serializer_class = TeamSerializer

    @extend_schema(operation_id="teams_list", responses={200: TeamSerializer(many=True)})
    def get(self, request):
        page = self.paginate_queryset(selectors.team_list())
        return self.get_paginated_response(TeamSerializer(page, many=True).data)

    @extend_schema(
        operation_id="teams_create",
        request=TeamCreateSerializer,
        responses={
            201: OpenApiResponse(TeamSerializer, description="Created."),
            200: OpenApiResponse(TeamSerializer, description="Existed; given fields updated."),
        },
    )
    def post(self, request):
        data = TeamCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team, created = team_upsert(**data.validated_data, actor=Actor.from_request(request))
        return Response(
            TeamSerializer(selectors.team_get(slug=team.slug)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class TeamDetailView(PeopleView):
    serializer_class = TeamSerializer

    @extend_schema(
        operation_id="teams_retrieve",
        responses={200: TeamSerializer},
    )
    def get(self, request, slug: str):
        return Response(TeamSerializer(selectors.team_get(slug=slug)).data)

    @extend_schema(
        operation_id="teams_partial_update",
        request=TeamUpdateSerializer,
        responses={200: TeamSerializer},
    )
    def patch(self, request, slug: str):
        team = selectors.team_get(slug=slug)
        data = TeamUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        team_update(team=team, **data.validated_data, actor=Actor.from_request(request))
        return Response(TeamSerializer(selectors.team_get(slug=slug)).data)


class EngineerListView(PeopleView):
    serializer_class = EngineerSerializer

    @extend_schema(
        operation_id="engineers_list",
        parameters=[
            OpenApiParameter("team", str, description="Only this team's engineers (slug)."),
            OpenApiParameter("region", str, enum=Region.values),
            OpenApiParameter("active", bool),
        ],
        responses={200: EngineerSerializer(many=True)},
    )
    def get(self, request):
        filters = EngineerFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.engineer_list(**filters.validated_data))
        return self.get_paginated_response(EngineerSerializer(page, many=True).data)

    @extend_schema(
        operation_id="engineers_create",
        request=EngineerCreateSerializer,
        responses={
            201: OpenApiResponse(EngineerSerializer, description="Created, with the user."),
            200: OpenApiResponse(EngineerSerializer, description="Existed; given fields updated."),
        },
    )
    def post(self, request):
        data = EngineerCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        engineer, created = engineer_upsert(
            **data.validated_data, actor=Actor.from_request(request)
        )
        return Response(
            EngineerSerializer(selectors.engineer_get(username=engineer.username)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class EngineerBulkView(PeopleView):
    serializer_class = EngineerBulkResultSerializer

    @extend_schema(
        operation_id="engineers_bulk",
        request=EngineerCreateSerializer(many=True),
        responses={
            200: OpenApiResponse(
                EngineerBulkResultSerializer,
                description="Each item created, updated or reported with its errors.",
            )
        },
        description=f"An HR sync's batch: up to {BULK_MAX} engineer bodies of POST "
        "/engineers/, each written whole or not at all. One call for the rate limit.",
    )
    def post(self, request):
        body = request.data
        if not isinstance(body, list):
            raise InvalidInput({"non_field_errors": [gettext("Send a list of engineers.")]})
        if len(body) > BULK_MAX:
            message = gettext("At most %(max)d engineers in one call, not %(count)d.")
            raise InvalidInput(
                {"non_field_errors": [message % {"max": BULK_MAX, "count": len(body)}]}
            )
        items: list = []
        # One serializer validates every item, as DRF's ListSerializer does: a new
        # one per item deep-copies its fields each time (half of a batch's time).
        checker = EngineerCreateSerializer()
        for index, item in enumerate(body):
            if not isinstance(item, dict):
                data = EngineerCreateSerializer(data=item)
                data.is_valid()
                items.append((index, None, InvalidInput(_plain(data.errors))))
                continue
            try:
                items.append((index, item.get("username"), checker.run_validation(item)))
            except serializers.ValidationError as error:
                items.append((index, item.get("username"), InvalidInput(_plain(error.detail))))
        result = engineers_bulk_upsert(items=items, actor=Actor.from_request(request))
        return Response(EngineerBulkResultSerializer(result).data)


class EngineerDetailView(PeopleView):
    serializer_class = EngineerSerializer

    @extend_schema(
        operation_id="engineers_retrieve",
        responses={200: EngineerSerializer},
    )
    def get(self, request, username: str):
        return Response(EngineerSerializer(selectors.engineer_get(username=username)).data)

    @extend_schema(
        operation_id="engineers_partial_update",
        request=EngineerUpdateSerializer,
        responses={200: EngineerSerializer},
    )
    def patch(self, request, username: str):
        engineer = selectors.engineer_get(username=username)
        data = EngineerUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        engineer_update(engineer=engineer, **data.validated_data, actor=Actor.from_request(request))
        return Response(EngineerSerializer(selectors.engineer_get(username=username)).data)


class EngineerSkillsView(PeopleView):
    """Tokens need `people`; a signed-in person reads the engineers they may see
    (training.selectors.access: their own, their teams', or everyone's)."""

    serializer_class = SkillRecordSerializer
    session_read = True

    @extend_schema(
        operation_id="engineers_skills_list",
        responses={200: SkillRecordSerializer(many=True)},
    )
    def get(self, request, username: str):
        engineer = selectors.engineer_get(username=username)
        is_token = isinstance(request.auth, ApiToken)
        if not (is_token or may_see_engineer(request.user, engineer)):
            raise NotFound(gettext("No engineer '%(username)s'.") % {"username": username})
        page = self.paginate_queryset(selectors.engineer_skill_records(engineer=engineer))
        return self.get_paginated_response(SkillRecordSerializer(page, many=True).data)


class ManagerView(PeopleView):
    """Support managers see every team, region, release and engineer; they may
    assign, grant attempts, extend and override a gate everywhere."""

    serializer_class = ManagerSerializer

    @extend_schema(
        operation_id="managers_update",
        summary="Make an existing user a support manager",
        request=None,
        responses={
            201: OpenApiResponse(ManagerSerializer, description="Made a manager now."),
            200: OpenApiResponse(ManagerSerializer, description="Already a manager; unchanged."),
            404: OpenApiResponse(description="No such user."),
        },
    )
    def put(self, request, username: str):
        user = selectors.user_get(username=username)
        _, created = manager_grant(user=user, actor=Actor.from_request(request))
        return Response(
            ManagerSerializer(selectors.manager_get(user=user)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="managers_destroy",
        summary="Take the support-manager role away",
        description=(
            "204 whether or not the user was a manager (idempotent, like PUT: a "
            "retried DELETE is no error); 404 only for an unknown user."
        ),
        responses={
            204: OpenApiResponse(description="Not a manager (any more)."),
            404: OpenApiResponse(description="No such user."),
        },
    )
    def delete(self, request, username: str):
        user = selectors.user_get(username=username)
        manager_revoke(user=user, actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("managers/<username:username>/", ManagerView.as_view(), name="api-manager"),
    path("teams/", TeamListView.as_view(), name="api-teams"),
    path("teams/<slug:slug>/", TeamDetailView.as_view(), name="api-team"),
    path("engineers/", EngineerListView.as_view(), name="api-engineers"),
    # Before the engineer's own path: "bulk" is not read as a username.
    path("engineers/bulk/", EngineerBulkView.as_view(), name="api-engineers-bulk"),
    path("engineers/<username:username>/", EngineerDetailView.as_view(), name="api-engineer"),
    path(
        "engineers/<username:username>/skills/",
        EngineerSkillsView.as_view(),
        name="api-engineer-skills",
    ),
]

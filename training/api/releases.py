"""API v1 releases: record, list, read, reschedule, publish, readiness, availability.

Thin views: serializers check the shape of the input, services decide and write,
the readiness selector reads; service errors reach the client through the one
exception handler (core.api.errors).
"""

from django.db.models import Prefetch, QuerySet
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics, mixins, serializers, status
from rest_framework.response import Response

from core.actors import Actor, Token
from core.api.fields import AwareDateTimeField
from core.api.permissions import token_has_scope
from core.errors import NotFound
from core.fields import field_max_length
from core.scopes import Scope
from courses.models import Course, Feature, Release, Sdk, Skill
from courses.services.releases import FeatureSpec, release_record
from courses.versions import MAX_VERSION_LENGTH, InvalidVersion, Version
from courses.versions import PATTERN as VERSION_PATTERN
from training.readiness import release_readiness, team_readiness
from training.readiness.coverage import release_coverage
from training.selectors.access import lead_scope, sees_everything
from training.services.releases import release_mark_available, release_publish, release_update

# --- fields and input --------------------------------------------------------------


SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


@extend_schema_field(
    {"type": "string", "pattern": VERSION_PATTERN, "maxLength": MAX_VERSION_LENGTH}
)
class VersionField(serializers.CharField):
    """A SemVer 2.0 version; a leading `v` is dropped. Gives a courses.versions.Version."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return Version.parse(text)
        except InvalidVersion as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def to_representation(self, value):
        return str(value)


class FeatureInSerializer(serializers.Serializer):
    key = serializers.SlugField(max_length=field_max_length(Feature, "key"))
    title = serializers.CharField(max_length=field_max_length(Feature, "title"))
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    skills = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, default=list
    )
    kind = serializers.ChoiceField(
        choices=Feature.Kind.choices, required=False, help_text="Its changelog section."
    )
    breaking = serializers.BooleanField(required=False, default=False)
    symbols = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=200
    )
    module = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=field_max_length(Feature, "module")
    )
    train = serializers.BooleanField(
        required=False, help_text="Whether the drafted course teaches it (default: not a fix)."
    )


def _check_features(features: list[FeatureSpec]) -> list[FeatureSpec]:
    """Unique keys, existing skills: one message naming what is wrong, under `features`."""
    keys = [feature["key"] for feature in features]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise serializers.ValidationError(
            gettext("Duplicate feature key: %(keys)s.") % {"keys": ", ".join(duplicates)}
        )
    wanted = {slug for feature in features for slug in feature["skills"]}
    known = set(Skill.objects.filter(slug__in=wanted).values_list("slug", flat=True))
    unknown = sorted(wanted - known)
    if unknown:
        raise serializers.ValidationError(
            gettext("Unknown skill: %(names)s.") % {"names": ", ".join(unknown)}
        )
    return features


class ReleaseInSerializer(serializers.Serializer):
    sdk = serializers.SlugField(max_length=64, help_text="SDK slug, e.g. rtm-android.")
    version = VersionField(help_text="Semantic version, e.g. 2.4.0 or 2.4.0-rc.1.")
    customer_available_at = AwareDateTimeField(help_text="When customers get the release.")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    features = FeatureInSerializer(many=True, allow_empty=True)
    changelog = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=1_000_000,
        help_text="Markdown release notes (or a whole CHANGELOG.md, of which this "
        "version's section is read): each entry becomes a feature, after `features`.",
    )

    def validate_features(self, value: list[FeatureSpec]) -> list[FeatureSpec]:
        return _check_features(value)

    def validate_sdk(self, value: str) -> Sdk:
        sdk = Sdk.objects.filter(slug=value).first()
        if sdk is None:
            raise serializers.ValidationError(gettext("Unknown SDK: %(names)s.") % {"names": value})
        return sdk


class ReleasePatchSerializer(serializers.Serializer):
    customer_available_at = AwareDateTimeField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    features = FeatureInSerializer(many=True, allow_empty=True, required=False)

    def validate_features(self, value: list[FeatureSpec]) -> list[FeatureSpec]:
        return _check_features(value)


class AvailabilityInSerializer(serializers.Serializer):
    override = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseFilterSerializer(serializers.Serializer):
    sdk = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=Release.Status.choices, required=False)


# --- output ------------------------------------------------------------------------


class FeatureSerializer(serializers.ModelSerializer):
    skills = serializers.SlugRelatedField[Skill](slug_field="slug", many=True, read_only=True)
    symbols = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="API symbols it names."
    )

    class Meta:
        model = Feature
        fields = [
            "key",
            "title",
            "summary",
            "skills",
            "kind",
            "breaking",
            "symbols",
            "module",
            "train",
        ]


class ReleaseSerializer(serializers.ModelSerializer):
    sdk = serializers.SlugRelatedField[Sdk](slug_field="slug", read_only=True)
    # A plain string in the schema: three models have a `status` with different
    # choices, and drf-spectacular cannot name their enums apart without
    # ENUM_NAME_OVERRIDES in settings.
    status = serializers.CharField(
        read_only=True, help_text="draft, published, available or withdrawn."
    )
    features = FeatureSerializer(many=True, read_only=True)
    courses = serializers.SlugRelatedField[Course](slug_field="slug", many=True, read_only=True)

    class Meta:
        model = Release
        fields = [
            "sdk",
            "version",
            "status",
            "customer_available_at",
            "published_at",
            "available_at",
            "notes",
            "features",
            "courses",
        ]


# A field named `required` does not shadow Field.required: DRF's serializer metaclass
# pops declared fields off the class, but the stubs see a class attribute.
class ReadinessRegionSerializer(serializers.Serializer):
    required = serializers.IntegerField()  # type: ignore[assignment]  # see above
    complete = serializers.IntegerField(help_text="Complete or exempt engineers.")


class ReadinessPolicySerializer(serializers.Serializer):
    min_completion = serializers.FloatField()
    min_complete_per_region = serializers.IntegerField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="below_completion, region_without_complete, region_below_minimum, …"
    )
    params = serializers.DictField(help_text="What the reason's words are made of.")


class ReadinessSerializer(serializers.Serializer):
    ready = serializers.BooleanField()
    policy = ReadinessPolicySerializer()
    required = serializers.IntegerField()  # type: ignore[assignment]  # see ReadinessRegionSerializer
    complete = serializers.IntegerField()
    exempt = serializers.IntegerField()
    overdue = serializers.IntegerField()
    completion = serializers.FloatField(help_text="(complete + exempt) / required.")
    due_at = serializers.DateTimeField()
    regions = serializers.DictField(
        child=ReadinessRegionSerializer(), help_text="APAC, EMEA, AMER: those with engineers."
    )
    reasons = ReasonSerializer(
        many=True, help_text="Why it is not ready, as data; `blocking` in words."
    )
    blocking = serializers.ListField(
        child=serializers.CharField(),
        help_text="The reasons in words (English unless Accept-Language asks otherwise).",
    )
    at_risk = serializers.BooleanField(
        help_text="Not ready and due within PREFLIGHT_AT_RISK_HOURS, or any required "
        "engineer overdue or locked out."
    )
    risks = ReasonSerializer(
        many=True, help_text="Why it is at risk: due_passed, due_soon, engineers_overdue, …"
    )
    scope = serializers.ChoiceField(
        choices=["all", "teams"],
        help_text="`all` for tokens; `teams` when a signed-in lead sees their own teams.",
    )


class CoverageHourSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="The hour's start, UTC.")
    on_shift = serializers.IntegerField(help_text="Required engineers on shift then.")
    ready = serializers.IntegerField(help_text="Of them, complete or exempt.")
    experts = serializers.IntegerField(help_text="Of them, tier L3 or level 4 in a release skill.")


class CoverageGapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="Exclusive.")
    ready = serializers.IntegerField(help_text="The fewest ready on shift in the gap.")
    experts = serializers.IntegerField(help_text="The fewest experts on shift in the gap.")


class CoveragePolicySerializer(serializers.Serializer):
    min_ready = serializers.IntegerField(help_text="PREFLIGHT_MIN_READY_ON_SHIFT (0: off).")
    min_experts = serializers.IntegerField(help_text="PREFLIGHT_MIN_EXPERTS_ON_SHIFT (0: off).")


class CoverageSerializer(serializers.Serializer):
    window_start = serializers.DateTimeField(help_text="The customer date's hour, UTC.")
    window_end = serializers.DateTimeField(help_text="PREFLIGHT_COVERAGE_HOURS later.")
    hours = CoverageHourSerializer(many=True)
    gaps = CoverageGapSerializer(
        many=True,
        help_text="Runs of hours short of the policy; with the policy off, the hours "
        "nobody ready is on shift.",
    )
    policy = CoveragePolicySerializer()
    scope = serializers.ChoiceField(choices=["all", "teams"])


class ReleaseConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    blocking = serializers.ListField(child=serializers.CharField(), required=False)
    reasons = ReasonSerializer(many=True, required=False)
    status = serializers.CharField(required=False)


class ReleaseDetailErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


_400 = OpenApiResponse(
    OpenApiTypes.OBJECT, description='Invalid input: {"field": ["message"]}, naming it.'
)
_403 = OpenApiResponse(ReleaseDetailErrorSerializer, description="Not for this client.")
_404 = OpenApiResponse(ReleaseDetailErrorSerializer, description="No such release.")
_409 = OpenApiResponse(ReleaseConflictSerializer, description="The release's state forbids it.")
_PATH = [
    OpenApiParameter(
        "sdk",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="SDK slug.",
        pattern=SLUG_PATTERN,
    ),
    OpenApiParameter(
        "version",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        description="e.g. 2.4.0 or v2.4.0.",
        pattern=VERSION_PATTERN,
    ),
]


# --- reads -------------------------------------------------------------------------


def _releases() -> QuerySet[Release]:
    """Releases joined and prefetched for ReleaseSerializer: a constant number of
    queries for a page of any size."""
    return Release.objects.select_related("sdk").prefetch_related(
        Prefetch("features", queryset=Feature.objects.prefetch_related("skills")),
        Prefetch("courses", queryset=Course.objects.only("id", "slug", "release_id")),
    )


def _no_release(sdk: str, version: str) -> NotFound:
    return NotFound(
        gettext("No release %(version)s of SDK %(sdk)s.") % {"version": version, "sdk": sdk}
    )


def _get_release(sdk: str, version: str, *, queryset: QuerySet[Release] | None = None) -> Release:
    """The release at this address, with its SDK (or from `queryset`: `_releases()`
    to render it); NotFound, naming both, if there is none."""
    if queryset is None:
        # Views that change a release re-read it for the answer (`_render`), and
        # readiness needs none of the features: one query, not four.
        queryset = Release.objects.select_related("sdk")
    try:
        normalised = str(Version.parse(version))
    except InvalidVersion:
        normalised = None
    release = queryset.filter(sdk__slug=sdk, version=normalised).first() if normalised else None
    if release is None:
        raise _no_release(sdk, version)
    return release


def _render(release: Release, code: int) -> Response:
    fresh = _releases().get(pk=release.pk)
    return Response(ReleaseSerializer(fresh).data, status=code)


# --- views -------------------------------------------------------------------------


class ReleaseListView(mixins.ListModelMixin, generics.GenericAPIView):
    scope = Scope.RELEASES
    serializer_class = ReleaseSerializer

    def get_queryset(self):
        filters = ReleaseFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = _releases().order_by("sdk__slug", "-sort_key", "id")
        if sdk := filters.validated_data.get("sdk"):
            queryset = queryset.filter(sdk__slug=sdk)
        if state := filters.validated_data.get("status"):
            queryset = queryset.filter(status=state)
        return queryset

    @extend_schema(
        operation_id="releases_list",
        summary="List releases, newest version first per SDK",
        parameters=[
            OpenApiParameter("sdk", OpenApiTypes.STR, description="SDK slug."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=Release.Status.values),
        ],
        responses={200: ReleaseSerializer(many=True), 400: _400},
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        operation_id="releases_record",
        summary="Record a release (idempotent)",
        request=ReleaseInSerializer,
        responses={
            201: OpenApiResponse(ReleaseSerializer, description="Recorded."),
            200: OpenApiResponse(ReleaseSerializer, description="Already recorded."),
            400: _400,
            409: _409,
        },
    )
    def post(self, request):
        body = ReleaseInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        release, created = release_record(
            sdk=data["sdk"],
            version=data["version"],
            customer_available_at=data["customer_available_at"],
            notes=data["notes"],
            features=data["features"],
            actor=Actor.from_request(request),
            changelog=data["changelog"],
        )
        return _render(release, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ReleaseDetailView(generics.GenericAPIView):
    scope = Scope.RELEASES
    serializer_class = ReleaseSerializer

    @extend_schema(
        operation_id="releases_retrieve",
        parameters=_PATH,
        responses={200: ReleaseSerializer, 404: _404},
    )
    def get(self, request, sdk: str, version: str):
        return Response(ReleaseSerializer(_get_release(sdk, version, queryset=_releases())).data)

    @extend_schema(
        operation_id="releases_update",
        summary="Move the customer date; change notes, or features while a draft",
        parameters=_PATH,
        request=ReleasePatchSerializer,
        responses={200: ReleaseSerializer, 400: _400, 404: _404, 409: _409},
    )
    def patch(self, request, sdk: str, version: str):
        release = _get_release(sdk, version)
        body = ReleasePatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        release = release_update(
            release=release, actor=Actor.from_request(request), **body.validated_data
        )
        return _render(release, status.HTTP_200_OK)


class ReleasePublishView(generics.GenericAPIView):
    scope = Scope.RELEASES
    serializer_class = ReleaseSerializer

    @extend_schema(
        operation_id="releases_publish",
        summary="Publish: assignments follow in the background",
        parameters=_PATH,
        request=None,
        responses={
            202: OpenApiResponse(ReleaseSerializer, description="Published; assigning."),
            200: OpenApiResponse(ReleaseSerializer, description="Was already published."),
            404: _404,
            409: _409,
        },
    )
    def post(self, request, sdk: str, version: str):
        release = _get_release(sdk, version)
        release, published = release_publish(release=release, actor=Actor.from_request(request))
        return _render(release, status.HTTP_202_ACCEPTED if published else status.HTTP_200_OK)


class ReleaseReadinessView(generics.GenericAPIView):
    scope = Scope.RELEASES
    serializer_class = ReadinessSerializer

    @extend_schema(
        operation_id="releases_readiness",
        summary="Is support ready for this release?",
        description=(
            "A token (scope `releases`), staff and support managers see every engineer "
            "(`scope: all`). A "
            "signed-in lead sees their own teams' engineers only (`scope: teams`); "
            "anyone else signed in gets 403."
        ),
        parameters=_PATH,
        responses={200: ReadinessSerializer, 403: _403, 404: _404},
    )
    def get(self, request, sdk: str, version: str):
        release = _get_release(sdk, version)
        if isinstance(request.auth, Token) or sees_everything(request.user):
            return Response(ReadinessSerializer(release_readiness(release)).data)
        lead = lead_scope(user=request.user)
        if lead is None:
            raise exceptions.PermissionDenied(
                gettext("Readiness is for leads and release pipelines.")
            )
        if not lead.releases().filter(pk=release.pk).exists():
            raise _no_release(sdk, version)
        readiness = team_readiness(release, team_ids=lead.team_ids)
        return Response(ReadinessSerializer(readiness).data)


class ReleaseCoverageView(generics.GenericAPIView):
    scope = Scope.RELEASES
    serializer_class = CoverageSerializer

    @extend_schema(
        operation_id="releases_coverage",
        summary="Ready people on shift, every hour of the launch window",
        description=(
            "Who sees which engineers as for readiness: tokens, staff and support "
            "managers all (`scope: all`), a signed-in lead their own teams' (`scope: "
            "teams`); anyone else signed in gets 403."
        ),
        parameters=_PATH,
        responses={200: CoverageSerializer, 403: _403, 404: _404},
    )
    def get(self, request, sdk: str, version: str):
        release = _get_release(sdk, version)
        now = timezone.now()
        if isinstance(request.auth, Token) or sees_everything(request.user):
            coverage = release_coverage(release, now=now)
            return Response(CoverageSerializer({**coverage, "scope": "all"}).data)
        lead = lead_scope(user=request.user)
        if lead is None:
            raise exceptions.PermissionDenied(
                gettext("Coverage is for leads and release pipelines.")
            )
        if not lead.releases().filter(pk=release.pk).exists():
            raise _no_release(sdk, version)
        coverage = release_coverage(release, now=now, team_ids=lead.team_ids)
        return Response(CoverageSerializer({**coverage, "scope": "teams"}).data)


class ReleaseAvailabilityView(generics.GenericAPIView):
    # `releases:override` exists to mark releases available; it needs no second scope.
    scope = (Scope.RELEASES, Scope.RELEASES_OVERRIDE)
    read_scope = Scope.RELEASES
    serializer_class = ReleaseSerializer

    @extend_schema(
        operation_id="releases_availability",
        summary="Let customers have the release (the readiness gate)",
        description=(
            "200 when support is ready; otherwise 409 with `blocking`. "
            '`{"override": true, "reason": "…"}` needs the `releases:override` scope '
            "and is kept on the record with the readiness at that moment."
        ),
        parameters=_PATH,
        request=AvailabilityInSerializer,
        responses={
            200: ReleaseSerializer,
            400: _400,
            403: OpenApiResponse(ReleaseDetailErrorSerializer, description="Override denied."),
            404: _404,
            409: _409,
        },
    )
    def post(self, request, sdk: str, version: str):
        release = _get_release(sdk, version)
        body = AvailabilityInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        override, reason = body.validated_data["override"], body.validated_data["reason"].strip()
        if release.status == Release.Status.AVAILABLE:
            # Asked again (a retry, or an override after another client's): nothing to
            # decide, whatever the body asks for or the token may do.
            return _render(release, status.HTTP_200_OK)
        if override:
            if not token_has_scope(request, Scope.RELEASES_OVERRIDE):
                raise exceptions.PermissionDenied(
                    gettext("Overriding the gate needs the '%(scope)s' scope.")
                    % {"scope": Scope.RELEASES_OVERRIDE}
                )
            if not reason:
                raise exceptions.ValidationError(
                    {"reason": [gettext("Give the reason for overriding the gate.")]}
                )
        release = release_mark_available(
            release=release, actor=Actor.from_request(request), override=override, reason=reason
        )
        return _render(release, status.HTTP_200_OK)


urlpatterns = [
    path("releases/", ReleaseListView.as_view(), name="api-releases"),
    path(
        "releases/<slug:sdk>/<str:version>/",
        ReleaseDetailView.as_view(),
        name="api-release",
    ),
    path(
        "releases/<slug:sdk>/<str:version>/publish/",
        ReleasePublishView.as_view(),
        name="api-release-publish",
    ),
    path(
        "releases/<slug:sdk>/<str:version>/readiness/",
        ReleaseReadinessView.as_view(),
        name="api-release-readiness",
    ),
    path(
        "releases/<slug:sdk>/<str:version>/coverage/",
        ReleaseCoverageView.as_view(),
        name="api-release-coverage",
    ),
    path(
        "releases/<slug:sdk>/<str:version>/availability/",
        ReleaseAvailabilityView.as_view(),
        name="api-release-availability",
    ),
]

"""API v1, playbooks: search and read (any token, any signed-in person); create or
replace from a document (PUT, scope `catalog`)."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.actors import Actor
from courses.api.catalog import CatalogView
from courses.models import Playbook, Scenario
from courses.playbooks import MAX_QUERY, PlaybookDocumentSerializer, playbook_to_document
from courses.selectors.playbooks import (
    PlaybookSearch,
    playbook_get,
    playbook_highlight,
    playbook_search,
)
from courses.services.playbooks import playbook_put


class FeatureRefOutSerializer(serializers.Serializer):
    sdk = serializers.CharField(read_only=True)
    key = serializers.CharField(read_only=True)


class StaleMarkOutSerializer(serializers.Serializer):
    sdk = serializers.CharField(read_only=True)
    version = serializers.CharField(read_only=True)
    symbols = serializers.ListField(child=serializers.CharField(), read_only=True)


class PlaybookSerializer(serializers.Serializer):
    """A playbook as its document reads, plus verification and timestamps."""

    slug = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True, help_text="Markdown.")
    language = serializers.ChoiceField(choices=Playbook.Language.choices, read_only=True)
    scenarios = serializers.ListField(
        child=serializers.ChoiceField(choices=Scenario.choices), read_only=True
    )
    sdks = serializers.ListField(child=serializers.CharField(), read_only=True)
    features = FeatureRefOutSerializer(many=True, read_only=True)
    skills = serializers.ListField(child=serializers.CharField(), read_only=True)
    owner = serializers.CharField(read_only=True, allow_null=True)
    verified_at = serializers.DateTimeField(read_only=True, allow_null=True)
    verify_every_days = serializers.IntegerField(read_only=True)
    verify_by = serializers.DateTimeField(
        read_only=True, help_text="When it next needs verifying by its owner."
    )
    stale = StaleMarkOutSerializer(
        many=True,
        read_only=True,
        help_text="Releases that removed, deprecated or changed API this playbook names, "
        "first first; empty once it is verified.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Playbook):
        marks = sorted(instance.stale_marks.all(), key=lambda mark: mark.release.sort_key)
        return {
            **playbook_to_document(instance),
            "verified_at": serializers.DateTimeField().to_representation(instance.verified_at)
            if instance.verified_at
            else None,
            "verify_every_days": instance.verify_every_days,
            "verify_by": serializers.DateTimeField().to_representation(instance.verify_by),
            "stale": [
                {
                    "sdk": mark.release.sdk.slug,
                    "version": mark.release.version,
                    "symbols": mark.symbols,
                }
                for mark in marks
            ],
            "created_at": serializers.DateTimeField().to_representation(instance.created_at),
            "updated_at": serializers.DateTimeField().to_representation(instance.updated_at),
        }


class PlaybookResultSerializer(serializers.Serializer):
    """A search result: what the playbook is and where it applies, and the piece of
    its body that matched (the whole playbook is at its own address)."""

    slug = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    language = serializers.ChoiceField(choices=Playbook.Language.choices, read_only=True)
    scenarios = serializers.ListField(
        child=serializers.ChoiceField(choices=Scenario.choices), read_only=True
    )
    sdks = serializers.ListField(child=serializers.CharField(), read_only=True)
    owner = serializers.CharField(read_only=True, allow_null=True)
    verified_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_at = serializers.DateTimeField(read_only=True)
    rank = serializers.FloatField(read_only=True)
    highlight = serializers.CharField(
        read_only=True,
        help_text="HTML: the matching piece of the body, escaped, matches in <mark>.",
    )

    def to_representation(self, instance: Playbook):
        when = serializers.DateTimeField()
        return {
            "slug": instance.slug,
            "title": instance.title,
            "language": instance.language,
            "scenarios": [s.scenario for s in instance.scenarios.all()],
            "sdks": [s.slug for s in instance.sdks.all()],
            "owner": instance.owner.get_username() if instance.owner else None,
            "verified_at": when.to_representation(instance.verified_at)
            if instance.verified_at
            else None,
            "updated_at": when.to_representation(instance.updated_at),
            "rank": round(float(getattr(instance, "rank", 0.0)), 6),
            "highlight": playbook_highlight(instance, self.context["search"]),
        }


class PlaybookFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=MAX_QUERY, required=False, allow_blank=True, default="", trim_whitespace=True
    )
    scenario = serializers.ChoiceField(
        choices=Scenario.choices, required=False, allow_blank=True, default=""
    )
    sdk = serializers.SlugField(max_length=64, required=False, allow_blank=True, default="")


class PlaybookListView(CatalogView):
    serializer_class = PlaybookResultSerializer

    @extend_schema(
        operation_id="playbooks_list",
        parameters=[
            OpenApiParameter(
                "q",
                str,
                description=f"Words to find (English or Chinese), at most {MAX_QUERY} "
                "characters. Results are ranked, best first.",
            ),
            OpenApiParameter(
                "scenario", str, enum=Scenario.values, description="Only this scenario's."
            ),
            OpenApiParameter("sdk", str, description="Only playbooks linked to this SDK."),
        ],
        responses={200: PlaybookResultSerializer(many=True)},
    )
    def get(self, request):
        filters = PlaybookFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        search = PlaybookSearch(**filters.validated_data)
        page = self.paginate_queryset(playbook_search(search))
        data = PlaybookResultSerializer(page, many=True, context={"search": search}).data
        return self.get_paginated_response(data)


class PlaybookDetailView(CatalogView):
    serializer_class = PlaybookSerializer

    @extend_schema(operation_id="playbooks_retrieve", responses={200: PlaybookSerializer})
    def get(self, request, slug: str):
        return Response(PlaybookSerializer(playbook_get(slug=slug)).data)

    @extend_schema(
        operation_id="playbooks_put",
        description="Create or replace the playbook from a document.",
        request=PlaybookDocumentSerializer,
        responses={
            201: OpenApiResponse(PlaybookSerializer, description="Created."),
            200: OpenApiResponse(PlaybookSerializer, description="Replaced."),
        },
    )
    def put(self, request, slug: str):
        playbook, created = playbook_put(
            slug=slug, document=request.data, actor=Actor.from_request(request)
        )
        return Response(
            PlaybookSerializer(playbook_get(slug=playbook.slug)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


urlpatterns = [
    path("playbooks/", PlaybookListView.as_view(), name="api-playbooks"),
    path("playbooks/<slug:slug>/", PlaybookDetailView.as_view(), name="api-playbook"),
]

"""API v1: a course's questions from Moodle files (GIFT or Moodle XML) into its
pools, and out as GIFT. Scope `catalog` both ways: the export is the answer key."""

from typing import Any

from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers, renderers, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from core.actors import Actor
from courses.services.questions import (
    FileFormat,
    questions_export_gift,
    questions_import,
)

# A Moodle bank of a few thousand questions is a few MB; more is not a question file.
MAX_FILE_BYTES = 5 * 1024 * 1024
GIFT_TYPES = ("text/plain",)
XML_TYPES = ("application/xml", "text/xml")


# The body of the one error path (training.api.schema's "Error"), for the answers
# this view documents itself.
ERROR_BODY = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


class FileTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is too large."
    default_code = "too_large"


class _FileParser(parsers.BaseParser):
    """The body as bytes, at most MAX_FILE_BYTES of them: the service reads it."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = stream.read(MAX_FILE_BYTES + 1) if stream is not None else b""
        if len(data) > MAX_FILE_BYTES:
            raise FileTooLarge(
                gettext("A question file may be at most %(mb)d MB.")
                % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
            )
        return data


class GiftParser(_FileParser):
    media_type = "text/plain"


class MoodleXmlParser(_FileParser):
    media_type = "application/xml"


class MoodleTextXmlParser(_FileParser):
    media_type = "text/xml"


class SkippedSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Moodle's name of the question (or its place).")
    reason = serializers.CharField(help_text="Why Preflight cannot hold it.")


class ImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField(help_text="Questions written into the pools.")
    replaced = serializers.IntegerField(
        help_text="Of those, how many replaced a question of the same id (Moodle's idnumber)."
    )
    pools = serializers.ListField(child=serializers.CharField(), help_text="The pools written to.")
    skipped = SkippedSerializer(many=True, help_text="Questions of kinds Preflight lacks.")


class ImportQuerySerializer(serializers.Serializer):
    pool = serializers.CharField(
        max_length=100,
        required=False,
        help_text="The pool to import into; default the file's category, else `imported`.",
    )


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["gift"], default="gift")
    pool = serializers.CharField(max_length=100, required=False)


class QuestionsView(GenericAPIView):
    scope = "catalog"
    # The export is the answer key: a token with `catalog`, or staff.
    read_scope = "catalog"
    session_read = False


class QuestionImportView(QuestionsView):
    parser_classes = [GiftParser, MoodleXmlParser, MoodleTextXmlParser]
    serializer_class = ImportResultSerializer

    @extend_schema(
        operation_id="courses_questions_import",
        description=(
            "Add the questions of a Moodle file to the course's pools: GIFT as text/plain "
            "(UTF-8), Moodle XML as application/xml. Kinds Preflight lacks (cloze, "
            "calculated, …) are skipped and listed; a file that cannot be read, or a "
            "question that is not valid, is a 400 naming the line or element, and nothing "
            "is imported."
        ),
        parameters=[
            OpenApiParameter(
                "pool", str, description="Pool to import into; default the file's category."
            )
        ],
        request={
            "text/plain": OpenApiTypes.STR,
            "application/xml": OpenApiTypes.STR,
        },
        responses={
            201: OpenApiResponse(ImportResultSerializer, description="Imported."),
            409: OpenApiResponse(ERROR_BODY, description="The course has no quiz to hold pools."),
            413: OpenApiResponse(ERROR_BODY, description="The file is larger than 5 MB."),
            415: OpenApiResponse(
                ERROR_BODY,
                description="The body is neither text/plain (GIFT) nor application/xml.",
            ),
        },
        examples=[
            OpenApiExample(
                "GIFT",
                value="::reconnect::Which state follows DISCONNECTED?{=RECONNECTING ~CONNECTED}",
                request_only=True,
                media_type="text/plain",
            )
        ],
    )
    def post(self, request, slug: str):
        media_type = (request.content_type or "").split(";")[0].strip().lower()
        file_format: FileFormat
        if media_type in GIFT_TYPES:
            file_format = "gift"
        elif media_type in XML_TYPES:
            file_format = "xml"
        else:
            raise exceptions.UnsupportedMediaType(media_type or "none")
        query = ImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = request.data
        if not isinstance(data, bytes) or not data.strip():
            raise exceptions.ValidationError({"detail": gettext("The file is empty.")})
        result = questions_import(
            slug=slug,
            data=data,
            file_format=file_format,
            pool=query.validated_data.get("pool"),
            actor=Actor.from_request(request),
        )
        return Response(ImportResultSerializer(result).data, status=status.HTTP_201_CREATED)


class GiftRenderer(renderers.BaseRenderer):
    media_type = "text/plain"
    format = "gift"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode() if isinstance(data, str) else b""


class _GiftOnly(BaseContentNegotiation):
    """GIFT whatever the client accepts; `?format=` is checked by the view (DRF's
    negotiation would answer an unknown format with a bare 404)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class QuestionExportView(QuestionsView):
    renderer_classes = [GiftRenderer, renderers.JSONRenderer]
    content_negotiation_class = _GiftOnly

    def handle_exception(self, exc):
        # Errors keep the API's JSON body, whatever the export's own type.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="courses_questions_export",
        description=(
            "The course's questions as GIFT (its own questions, then each pool under its "
            "$CATEGORY). Ordering questions have no GIFT form: a comment says each was "
            "left out."
        ),
        parameters=[
            OpenApiParameter("format", str, enum=["gift"], description="gift (the default)."),
            OpenApiParameter("pool", str, description="Only this pool's questions."),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="GIFT text.")
        },
    )
    def get(self, request, slug: str):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        text = questions_export_gift(slug=slug, pool=query.validated_data.get("pool"))
        response = Response(text, content_type="text/plain; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{slug}.gift.txt"'
        return response


urlpatterns = [
    path(
        "courses/<slug:slug>/questions/import/",
        QuestionImportView.as_view(),
        name="api-course-questions-import",
    ),
    path(
        "courses/<slug:slug>/questions/export/",
        QuestionExportView.as_view(),
        name="api-course-questions-export",
    ),
]

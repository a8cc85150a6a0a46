"""API v1: a course saved from its document (PUT), which assigns it to the engineers
of its release when that release is published. Reading courses is the catalog's
(courses.api.catalog); this view adds the write to the same address."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.actors import Actor
from courses.api.catalog import CourseDetailView, CourseSerializer, course_context
from courses.documents import CourseDocumentSerializer
from courses.selectors import catalog as selectors
from training.services.courses import course_save


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


urlpatterns = [
    path("courses/<slug:slug>/", CourseDocumentView.as_view(), name="api-course"),
]

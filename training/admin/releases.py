"""Releases and courses in the admin, as content (courses.admin) plus what they do
to people: publishing queues the fan-out, a new customer date moves due dates, a
course saved for a published release is assigned, and the gate's decisions are on
the record. Every write here is a service of training.services."""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext

from core.actors import Actor
from core.errors import PreflightError
from courses.admin import CourseAdminBase, ReleaseAdminBase
from courses.models import Course, Release
from courses.services.releases import OPEN
from training.models import AuditEvent
from training.selectors.authoring import releases_waiting_on_course
from training.services.courses import course_assign_if_released
from training.services.releases import release_publish, release_update


def _actor(request) -> Actor:
    return Actor(user=request.user)


class WaitingOnCourseFilter(admin.SimpleListFilter):
    """Published releases whose course is a draft, has no quiz, or is missing: what
    authors must write next (training.selectors.authoring)."""

    title = "waiting on a course"
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("yes", "Yes: a draft, quiz-less or missing course")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        waiting = releases_waiting_on_course(releases=queryset)
        return queryset.filter(pk__in=[item.release.pk for item in waiting])


@admin.register(Release)
class ReleaseAdmin(ReleaseAdminBase):
    actions = ["publish_selected"]
    list_filter = [WaitingOnCourseFilter, *ReleaseAdminBase.list_filter]
    readonly_fields = [*ReleaseAdminBase.readonly_fields, "decisions"]

    @admin.display(description="availability decisions and gate overrides")
    def decisions(self, obj):
        """Who marked the release available, when, why, and how ready support was
        then (the readiness kept by release_mark_available): the record."""
        if obj is None or obj.pk is None:
            return "—"
        events = AuditEvent.objects.filter(
            release=obj,
            kind__in=[AuditEvent.Kind.RELEASE_OVERRIDE, AuditEvent.Kind.RELEASE_AVAILABLE],
        ).order_by("created_at")
        rows = [
            (
                event.created_at,
                event.get_kind_display(),
                event.details.get("by", ""),
                event.details.get("reason", ""),
                "{:.0%}".format(event.details.get("readiness", {}).get("completion", 0)),
                "; ".join(event.details.get("readiness", {}).get("blocking", [])),
            )
            for event in events
        ]
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>when</th><th>what</th><th>by</th><th>why</th>"
            "<th>completion then</th><th>blocking then</th></tr>{}</table>",
            format_html_join("", "<tr>" + "<td>{}</td>" * 6 + "</tr>", rows),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        if obj.status not in OPEN:
            return  # nothing editable
        # A new customer date moves the due dates of the release's assignments:
        # the same service as the API's PATCH, never a raw save.
        release_update(
            release=obj,
            actor=_actor(request),
            customer_available_at=form.cleaned_data["customer_available_at"],
            notes=form.cleaned_data["notes"],
        )

    @admin.action(description="Publish selected releases", permissions=["change"])
    def publish_selected(self, request, queryset):
        published, already = 0, 0
        for release in queryset.select_related("sdk"):
            try:
                with transaction.atomic():
                    _, newly = release_publish(release=release, actor=_actor(request))
            except PreflightError as exc:
                self.message_user(request, f"{release}: {exc.detail}", messages.ERROR)
                continue
            if newly:
                published += 1
            else:
                already += 1
        if published:
            self.message_user(
                request,
                ngettext(
                    "Published %d release; its training is being assigned.",
                    "Published %d releases; their training is being assigned.",
                    published,
                )
                % published,
                messages.SUCCESS,
            )
        if already:
            self.message_user(
                request,
                ngettext(
                    "%d release was already published; nothing changed.",
                    "%d releases were already published; nothing changed.",
                    already,
                )
                % already,
                messages.INFO,
            )


@admin.register(Course)
class CourseAdmin(CourseAdminBase):
    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A course added to a release already out is assigned like the release's
        # other training.
        course_assign_if_released(course=form.instance)

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class AuditEvent(models.Model):
    """What was done that someone must be able to account for later.

    Written in the same transaction as the change it records (overrides, manual
    assignments, exemptions, cancellations).
    """

    class Kind(models.TextChoices):
        RELEASE_OVERRIDE = "release_override"
        ASSIGNMENT_MANUAL = "assignment_manual"
        ASSIGNMENT_CANCELLED = "assignment_cancelled"
        ASSIGNMENT_EXEMPT = "assignment_exempt"
        RELEASE_PUBLISHED = "release_published"
        RELEASE_AVAILABLE = "release_available"
        AUTHORS_TOLD = "authors_told"
        ASSIGNMENT_ATTEMPTS_GRANTED = "assignment_attempts_granted"
        ASSIGNMENT_EXTENDED = "assignment_extended"
        ASSIGNMENT_NUDGED = "assignment_nudged"
        MANAGER_GRANTED = "manager_granted"
        MANAGER_REVOKED = "manager_revoked"
        CONTENT_STALE = "content_stale"
        COURSE_VERIFIED = "course_verified"
        PLAYBOOK_VERIFIED = "playbook_verified"
        ENGINEER_SHIFT = "engineer_shift"
        ENGINEER_TIME_OFF = "engineer_time_off"
        # An author regraded the attempts that answered a question (training.services.regrade).
        QUESTION_REGRADED = "question_regraded"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token = models.ForeignKey(
        "training.ApiToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    release = models.ForeignKey(
        "courses.Release", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    # The assignment a grant or an extension changed: the engineer's dashboard shows
    # them, and the assignment's history reads them back.
    assignment = models.ForeignKey(
        "training.Assignment",
        # The record outlives the assignment (a lead may cancel it later).
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,  # auditevent_assignment_idx below serves the lookups
    )
    # The course a verification confirmed.
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Release page and admin: a release's events, newest first.
            models.Index(fields=["release", "created_at"], name="auditevent_release_idx"),
            # The engineer's dashboard: the grants and extensions of their assignments.
            models.Index(
                fields=["assignment", "created_at"],
                condition=Q(assignment__isnull=False),
                name="auditevent_assignment_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"

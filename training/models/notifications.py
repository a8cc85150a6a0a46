import uuid

from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """A reminder or escalation that was sent, so that it is sent exactly once.

    The task claims the (assignment, kind) row with INSERT ... ON CONFLICT DO NOTHING
    before sending; a second beat tick or a retried task finds the row and sends
    nothing. The mail is sent after the claim commits.
    """

    class Kind(models.TextChoices):
        REMINDER = "reminder"
        ESCALATION = "escalation"

    assignment = models.ForeignKey(
        "training.Assignment", on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # For reminders, the offset in hours before the due date it was sent for, against
    # the due date at the time; a slipped date gives a new due date and new reminders.
    offset_hours = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField()
    recipients = models.JSONField(default=list)
    sent_at = models.DateTimeField(default=timezone.now)
    # Which run claimed the row: the claiming task reads back exactly its own rows.
    claim = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "kind", "offset_hours", "due_at"],
                name="notification_unique_assignment_kind_offset_due",
            ),
        ]
        indexes = [models.Index(fields=["claim"], name="notification_claim_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.assignment_id}"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookDelivery(models.Model):
    """One event about a release, POSTed to its SDK's webhook (Standard Webhooks).

    One row per (release, event) is a database rule, so a release is announced
    ready (at risk, available, overridden) once whichever run gets there first.
    `message_id` is the `webhook-id` header: the same on every attempt and on
    "send again", so a receiver can drop a duplicate. The row is the delivery log:
    status, attempts, the last answer's code and time, the last error.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    class Event(models.TextChoices):
        READY = "release.ready"
        AT_RISK = "release.at_risk"
        AVAILABLE = "release.available"
        OVERRIDDEN = "release.overridden"

    release = models.ForeignKey(
        "courses.Release", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    event = models.CharField(max_length=32, choices=Event.choices, default=Event.READY)
    message_id = models.CharField(max_length=64, unique=True, default=new_message_id)
    url = models.URLField()
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "event"], name="webhookdelivery_once_per_release_event"
            ),
        ]
        indexes = [
            # The beat's sweep: pending deliveries lost or abandoned, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="webhookdelivery_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.release_id} → {self.url} ({self.status})"

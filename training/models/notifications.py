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


class WebhookDelivery(models.Model):
    """The one 'release is ready' call to an SDK's webhook. One row per release."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    release = models.OneToOneField(
        "courses.Release", on_delete=models.CASCADE, related_name="webhook_delivery"
    )
    url = models.URLField()
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.release_id} → {self.url} ({self.status})"

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Assignment(models.Model):
    """One engineer must complete one course by a due date, and why."""

    class Reason(models.TextChoices):
        RELEASE = "release"
        LEAD = "lead"
        ONBOARDING = "onboarding"
        # A skill record of the engineer expires soon and the course renews it
        # (courses.Course.recertifies): training.services.recertification.
        RECERTIFICATION = "recertification"

    class Status(models.TextChoices):
        ASSIGNED = "assigned"
        IN_PROGRESS = "in_progress"
        COMPLETE = "complete"
        EXEMPT = "exempt"

    DONE = (Status.COMPLETE, Status.EXEMPT)

    engineer = models.ForeignKey(
        "training.Engineer", on_delete=models.CASCADE, related_name="assignments"
    )
    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="assignments"
    )
    # Copied from course.release so readiness and filters need no join through courses.
    release = models.ForeignKey(
        "courses.Release",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignments",
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    mandatory = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ASSIGNED)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who assigned it when a machine client (not a person) did: API.md's
    # `assigned_by` is the username, else the token's name, else "system". A foreign
    # key rather than a copied name, as AuditEvent.token: the row says which
    # credential acted, and a deleted token falls back to "system" while the audit
    # event keeps the name it had.
    assigned_by_token = models.ForeignKey(
        "training.ApiToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Why a lead assigned it, shown to the engineer. A database default as well: the
    # set-based INSERTs of the fan-out need not name it.
    note = models.TextField(blank=True, default="", db_default="")
    assigned_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    # Set when a lead moved this one person's due date by hand (assignment_extend): a
    # later slip of the customer date leaves it alone unless the release's due date
    # moves past it (training.services.releases._move_due_dates).
    extended_at = models.DateTimeField(null=True, blank=True)
    # Attempts granted on top of the quiz's max_attempts, for this assignment only.
    extra_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    # The last reminder a lead sent by hand (training.services.nudges): the claim
    # that allows one nudge per assignment per 24 h is a conditional UPDATE on it.
    nudged_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    exempt_reason = models.TextField(blank=True)
    # For a recertification: the skill-record expiry it was assigned for. The
    # (engineer, course) row is reused for each later expiry (the unique constraint
    # allows one row), reopened when this is older than the record's expiry now.
    recertifies_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # The fan-out relies on this for ON CONFLICT DO NOTHING: never two
            # assignments of one course to one engineer, however often it runs.
            models.UniqueConstraint(
                fields=["engineer", "course"], name="assignment_unique_engineer_course"
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=F("assigned_at")), name="assignment_due_after_assigned"
            ),
            models.CheckConstraint(
                condition=Q(extra_attempts__gte=0), name="assignment_extra_attempts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["complete", "exempt"], completed_at__isnull=False)
                | (~Q(status__in=["complete", "exempt"]) & Q(completed_at__isnull=True)),
                name="assignment_completed_at_iff_done",
            ),
        ]
        indexes = [
            # Readiness: a release's assignments by status.
            models.Index(fields=["release", "status"], name="assignment_release_status_idx"),
            # Readiness: the count of training.readiness.counts.count_by_region (the recount
            # and the gate's fresh count) reads a release's mandatory release
            # assignments from this index alone, in engineer order.
            models.Index(
                fields=["release", "engineer"],
                include=["course", "status", "due_at"],
                condition=Q(reason="release", mandatory=True),
                name="assignment_readiness_idx",
            ),
            # Dashboard: an engineer's assignments by status, soonest first.
            models.Index(fields=["engineer", "status", "due_at"], name="assignment_engineer_idx"),
            # Reminders and escalations scan open assignments by due date.
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["assigned", "in_progress"]),
                name="assignment_open_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engineer} → {self.course}"

    @property
    def is_done(self) -> bool:
        return self.status in self.DONE

    @property
    def overdue(self) -> bool:
        return not self.is_done and self.due_at < timezone.now()

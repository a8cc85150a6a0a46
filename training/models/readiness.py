from django.db import models


class ReadinessSnapshot(models.Model):
    """The counts a release's readiness is made of, kept between reads.

    Counting readiness folds every in-scope engineer's assignments (at 100,000
    engineers, about 0.2 s of PostgreSQL work), so the readiness selector keeps its
    last count here and serves it while nothing it depends on has changed:

    - `version` is raised by `training.readiness.keep.readiness_changed`, in the
      same transaction as every write that can change the counts (the fan-out, a
      completed release assignment, moved due dates, an engineer joining, leaving or
      changing region, a team's SDKs);
    - `counts` holds while `counted_version == version`, and until `valid_until`:
      the first due time of an open assignment after the count (when `overdue`
      changes by the clock alone), and at most PREFLIGHT_READINESS_MAX_AGE_SECONDS
      after it, a bound on how long a write made outside the services could go
      unnoticed.

    The gate (`release_mark_available`) never reads this: it counts afresh under the
    release's row lock.
    """

    release = models.OneToOneField(
        "courses.Release",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="readiness_snapshot",
    )
    version = models.BigIntegerField(default=0)
    counted_version = models.BigIntegerField(null=True, blank=True)
    # {region: {"required", "complete", "exempt", "overdue"}}: training.readiness.counts.
    counts = models.JSONField(default=dict, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"readiness of release {self.release_id} (version {self.version})"

import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Asia/Shanghai).")


def new_calendar_token() -> str:
    return secrets.token_urlsafe(24)


class Tier(models.TextChoices):
    L1 = "L1", "L1 — front line"
    L2 = "L2", "L2 — engineer"
    L3 = "L3", "L3 — expert"


def display_name(first_name: str, last_name: str, username: str) -> str:
    """How an engineer is named on pages and in mails: the full name, or the
    username without one. (For rows read as tuples, with no User to ask.)"""
    return f"{first_name} {last_name}".strip() or username


class Region(models.TextChoices):
    # Labelled as written: without a label Django would show "Apac", "Emea", "Amer".
    APAC = "APAC", "APAC"
    EMEA = "EMEA", "EMEA"
    AMER = "AMER", "AMER"


class SkillLevel(models.IntegerChoices):
    AWARE = 1, "Aware"
    PRACTITIONER = 2, "Practitioner"
    PROFICIENT = 3, "Proficient"
    EXPERT = 4, "Expert"


class Team(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    sdks = models.ManyToManyField("courses.Sdk", related_name="teams", blank=True)
    leads = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="led_teams", blank=True)
    onboarding_courses = models.ManyToManyField(
        "courses.Course", related_name="onboarding_teams", blank=True
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    # The identity provider's own id for the group this team is (SCIM externalId).
    external_id = models.CharField(max_length=255, blank=True, default="", db_default="")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Engineer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="engineer"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="engineers"
    )
    tier = models.CharField(max_length=2, choices=Tier.choices, default=Tier.L1)
    region = models.CharField(max_length=4, choices=Region.choices)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    active = models.BooleanField(default=True)
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_at = models.DateTimeField(default=dj_timezone.now)
    # The weekly shift, in the engineer's own time zone (training.shifts). All three
    # null: the region's default (training.shifts.REGION_DEFAULT_SHIFTS). Days are a
    # bit mask, Monday = 1 … Sunday = 64, so engineers of one pattern group in SQL.
    shift_days = models.PositiveSmallIntegerField(null=True, blank=True)
    shift_start = models.TimeField(null=True, blank=True)
    shift_end = models.TimeField(null=True, blank=True)
    # The identity provider's own id for this person (SCIM externalId).
    external_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    # Set when the identity provider deleted this person (SCIM DELETE): they are
    # inactive and no longer a SCIM resource, but their training history stays.
    deprovisioned_at = models.DateTimeField(null=True, blank=True)
    # SCIM attributes Preflight does not use (displayName, an e-mail's type, …), kept
    # as the identity provider last sent them so that a GET returns what a PUT sent.
    scim_attributes = models.JSONField(default=dict, blank=True, db_default={})

    class Meta:
        ordering = ["user__username"]
        indexes = [
            # SCIM: `externalId eq "…"` from an identity provider looking its user up.
            models.Index(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="engineer_external_id_idx",
            ),
            # Release fan-out: active engineers of the teams that support an SDK.
            models.Index(fields=["team", "active"], name="engineer_team_active_idx"),
        ]
        constraints = [
            # A shift is all given or all default; never half of one.
            models.CheckConstraint(
                condition=(
                    Q(shift_days__isnull=True, shift_start__isnull=True, shift_end__isnull=True)
                    | Q(
                        shift_days__gte=1,
                        shift_days__lte=127,
                        shift_start__isnull=False,
                        shift_end__isnull=False,
                    )
                ),
                name="engineer_shift_whole",
            ),
        ]

    def __str__(self) -> str:
        return self.user.username

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def name(self) -> str:
        user = self.user
        return display_name(user.first_name, user.last_name, user.username)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class PersonPreferences(models.Model):
    """The time zone and language of someone who is not an engineer (a lead, a
    support manager, an admin): the lead pages render in them. An engineer's own
    profile wins over this row (training.selectors.access.lead_scope)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    updated_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name_plural = "person preferences"

    def __str__(self) -> str:
        return f"{self.user} {self.timezone} {self.language}"


class SkillRecord(models.Model):
    engineer = models.ForeignKey(Engineer, on_delete=models.CASCADE, related_name="skill_records")
    skill = models.ForeignKey("courses.Skill", on_delete=models.CASCADE, related_name="records")
    level = models.PositiveSmallIntegerField(choices=SkillLevel.choices)
    evidence = models.ForeignKey(
        "training.Attempt", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["engineer", "skill"]
        constraints = [
            models.UniqueConstraint(
                fields=["engineer", "skill"], name="skillrecord_unique_engineer_skill"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=4), name="skillrecord_level_range"
            ),
        ]
        indexes = [
            # Expert finder and exemptions: who holds a skill at a level.
            models.Index(fields=["skill", "level"], name="skillrecord_skill_level_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.engineer} {self.skill} {self.get_level_display()}"


class SupportManager(models.Model):
    """A support manager: sees every team, region, release and engineer; may assign,
    grant attempts, extend due dates and override a release gate everywhere; is
    read-only otherwise on teams they do not lead (training.selectors.access).

    A row of its own, not a Django group or permission: the grant is a fact with an
    author and a date that the API and the admin create idempotently (a unique
    user), and SCIM's group sync cannot take it away as a side effect.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_manager"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return self.user.get_username()


class TimeOff(models.Model):
    """Days an engineer is away: `start` to `end`, both included, in the engineer's
    own local dates. A night shift belongs to the day it starts on."""

    engineer = models.ForeignKey(Engineer, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateField()
    end = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        ordering = ["engineer", "start"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="timeoff_end_after_start"
            ),
        ]
        indexes = [
            # Coverage: the time off that overlaps a launch window (end >= its first day).
            models.Index(fields=["end", "start"], name="timeoff_end_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.engineer} off {self.start} to {self.end}"

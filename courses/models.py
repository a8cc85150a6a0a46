"""Content: SDKs, skills, releases and their features, courses, lessons and quizzes.

Content is kept apart from assignments (who must do what by when) and from attempts
(what happened): attempts snapshot what they were graded against, so editing a quiz
here never rewrites history.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from courses.versions import MAX_VERSION_LENGTH, SORT_KEY_LENGTH, Version


class Sdk(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    webhook_url = models.URLField(
        blank=True,
        help_text="Told (a Standard Webhooks POST) when a release of this SDK is ready, at "
        "risk, available or overridden.",
    )
    webhook_secret = models.CharField(
        # 300: a 200-character secret from before Standard Webhooks, in base64.
        max_length=300,
        blank=True,
        help_text="Standard Webhooks signing secret (whsec_ and base64); required with a URL.",
    )
    # Which skills a changelog entry trains: {"skill-slug": ["keyword", ...]}, matched
    # case-insensitively against the entry's title, module and API symbols
    # (courses.services.releases.features_from_changelog).
    skill_rules = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]
        verbose_name = "SDK"
        constraints = [
            # An unsigned delivery is one no receiver can trust: no URL without a secret.
            models.CheckConstraint(
                condition=Q(webhook_url="") | Q(webhook_secret__startswith="whsec_"),
                name="sdk_webhook_url_needs_secret",
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class Skill(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


# The earliest training due date a release may have (see `due_at_in_range`).
EARLIEST_DUE_AT = datetime(1000, 1, 1, tzinfo=UTC)
DUE_AT_OUT_OF_RANGE = gettext_lazy(
    "Too early: the training due date (this time less the lead time) would fall before the "
    "year 1000."
)


def due_at_in_range(customer_available_at: datetime) -> bool:
    """Whether a release available to customers then has a due date we can hold.

    The due date is the customer date less the lead time. In the first days of
    year 1 that underflows Python's datetime (OverflowError); before the year 1000
    the API would write it with fewer than four year digits (strftime's %Y), which
    is not ISO 8601. No real release is due before 1000: such a date is refused.
    """
    try:
        due_at = customer_available_at.astimezone(UTC) - settings.PREFLIGHT_DUE_LEAD
    except OverflowError:
        return False
    return due_at >= EARLIEST_DUE_AT


class Release(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        AVAILABLE = "available"
        WITHDRAWN = "withdrawn"

    sdk = models.ForeignKey(Sdk, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(max_length=MAX_VERSION_LENGTH)
    # SemVer precedence as a collation-proof string (see courses.versions).
    sort_key = models.CharField(max_length=SORT_KEY_LENGTH, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    customer_available_at = models.DateTimeField()
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    available_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sdk__slug", "-sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["sdk", "version"], name="release_unique_sdk_version"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="release_published_has_published_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="available") | Q(available_at__isnull=False),
                name="release_available_has_available_at",
            ),
        ]
        indexes = [
            # Newest-first release lists per SDK.
            models.Index(fields=["sdk", "sort_key"], name="release_sdk_sort_idx"),
            # Readiness consoles and reconcile: releases published, not yet available.
            models.Index(
                fields=["status", "customer_available_at"], name="release_status_date_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sdk_id and self.sdk.slug} {self.version}"

    @property
    def parsed_version(self) -> Version:
        return Version.parse(self.version)

    @property
    def due_at(self):
        """When training on this release is due: the customer date less the lead time."""
        return self.customer_available_at - settings.PREFLIGHT_DUE_LEAD


class Feature(models.Model):
    class Kind(models.TextChoices):
        """Keep a Changelog's sections (courses.changelog)."""

        ADDED = "added"
        CHANGED = "changed"
        DEPRECATED = "deprecated"
        REMOVED = "removed"
        FIXED = "fixed"
        SECURITY = "security"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="features")
    key = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    skills = models.ManyToManyField(Skill, related_name="features", blank=True)
    position = models.PositiveIntegerField(default=0)
    # From the release's changelog (blank when given by hand without one).
    kind = models.CharField(max_length=16, choices=Kind.choices, blank=True)
    breaking = models.BooleanField(default=False)
    symbols = models.JSONField(default=list, blank=True)
    module = models.CharField(max_length=100, blank=True)
    # Whether the drafted course teaches it: a fix is not trained unless marked so.
    train = models.BooleanField(default=True)

    class Meta:
        ordering = ["release", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "key"], name="feature_unique_release_key"),
        ]

    def __str__(self) -> str:
        return self.key


class Course(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "简体中文"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, null=True, blank=True, related_name="courses"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PUBLISHED)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    # Skills whose records passing this course renews: engineers whose record in one
    # of them is about to expire are assigned the course (training's
    # `assign_recertification`).
    recertifies = models.ManyToManyField(
        Skill,
        related_name="recertified_by",
        blank=True,
        help_text="Skills whose records a pass of this course renews.",
    )
    # Who keeps it true, and how often they confirm it still is (as knowledge bases
    # verify their cards): past `verified_at + verify_every_days` it is listed for the
    # owner and the managers; verifying also clears its stale marks.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_courses",
    )
    verify_every_days = models.PositiveIntegerField(
        default=180, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def verify_by(self) -> datetime:
        """When it next needs verifying: from its last verification, else its creation."""
        return (self.verified_at or self.created_at) + timedelta(days=self.verify_every_days)


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    feature = models.ForeignKey(
        Feature, on_delete=models.SET_NULL, null=True, blank=True, related_name="lessons"
    )

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "position"], name="lesson_unique_course_position"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Quiz(models.Model):
    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="quiz")
    pass_mark = models.PositiveSmallIntegerField(
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Percentage of questions to answer right to pass.",
    )
    max_attempts = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Review(models.TextChoices):
        # Moodle's review options: the key and explanations after the engineer passes
        # or has used every attempt, or on every result.
        AFTER_PASS = "after_pass"
        IMMEDIATE = "immediate"

    review = models.CharField(
        max_length=16,
        choices=Review.choices,
        default=Review.AFTER_PASS,
        help_text="When a result shows the correct choices and the explanations.",
    )

    class Meta:
        verbose_name_plural = "quizzes"
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_mark__gte=1, pass_mark__lte=100), name="quiz_pass_mark_range"
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__gte=1), name="quiz_max_attempts_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Quiz of {self.course}"


class QuestionPool(models.Model):
    """A named set of questions of a quiz, that the quiz's slots draw from.

    A course has one quiz, so a pool is the course's: "draw 3 from `reconnect`"."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="pools")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "name"], name="pool_unique_quiz_name"),
            models.UniqueConstraint(fields=["quiz", "position"], name="pool_unique_quiz_position"),
        ]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """One question of a quiz: asked as it is (no pool), or drawn from its pool.

    What a kind needs beyond prompt and choices (the accepted short answers, the
    numeric value and tolerance, the ordering's items, the matching pairs, the
    essay's rubric, a scenario's log and the question asked about it) is `spec`,
    validated by courses.documents; it is the answer key, never sent to a page
    before submission. `uid` names the question across replacements of its course
    (the document's `id`, else its place), and `version` goes up whenever a
    replacement changes it (`digest` differs): attempts record both, so history can
    tell which version an engineer answered.
    """

    class Kind(models.TextChoices):
        SINGLE = "single"
        MULTIPLE = "multiple"
        TRUE_FALSE = "true_false"
        SHORT_ANSWER = "short_answer"
        NUMERIC = "numeric"
        ORDERING = "ordering"
        MATCHING = "matching"
        SCENARIO = "scenario"
        ESSAY = "essay"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    pool = models.ForeignKey(
        QuestionPool,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="questions",
        help_text="Empty: one of the quiz's own questions; else drawn from this pool.",
    )
    position = models.PositiveIntegerField()
    uid = models.CharField(
        max_length=200, blank=True, help_text="Names the question across edits of its course."
    )
    version = models.PositiveIntegerField(default=1)
    digest = models.CharField(max_length=64, blank=True, editable=False)
    prompt = models.TextField(help_text="Markdown.")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SINGLE)
    skill = models.ForeignKey(
        Skill, on_delete=models.PROTECT, null=True, blank=True, related_name="questions"
    )
    feature = models.ForeignKey(
        Feature, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions"
    )
    explanation = models.TextField(blank=True, help_text="Markdown, shown after submission.")
    spec = models.JSONField(
        default=dict, blank=True, help_text="The kind's own fields (see the README)."
    )

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "position"], name="question_unique_quiz_position"
            ),
        ]
        indexes = [
            # A draw reads a pool's question ids and features (attempt start).
            models.Index(fields=["pool", "feature"], name="question_pool_feature_idx"),
        ]

    def __str__(self) -> str:
        return self.prompt[:60]


class QuizSlot(models.Model):
    """A place in a quiz: one fixed question, or `draw` questions from a pool
    (only those of `feature` when set). A quiz without slots asks its own
    questions, in order."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="slots")
    position = models.PositiveIntegerField()
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    pool = models.ForeignKey(
        QuestionPool, on_delete=models.CASCADE, null=True, blank=True, related_name="slots"
    )
    draw = models.PositiveSmallIntegerField(null=True, blank=True)
    feature = models.ForeignKey(
        Feature, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [
            models.UniqueConstraint(fields=["quiz", "position"], name="slot_unique_quiz_position"),
            models.CheckConstraint(
                condition=Q(question__isnull=False, pool__isnull=True, draw__isnull=True)
                | Q(question__isnull=True, pool__isnull=False, draw__gte=1),
                name="slot_question_or_draw",
            ),
        ]

    def __str__(self) -> str:
        return f"slot {self.position} of {self.quiz}"


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveIntegerField()
    text = models.TextField()
    correct = models.BooleanField(default=False)
    # Moodle's per-choice grade: picking the choice adds this share of the mark
    # (negative for a wrong pick); the question's total is clamped to 0..1. Empty:
    # the question is all or nothing, as before fractions existed.
    fraction = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "position"], name="choice_unique_question_position"
            ),
            models.CheckConstraint(
                condition=Q(fraction__isnull=True) | Q(fraction__gte=-1, fraction__lte=1),
                name="choice_fraction_range",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class StaleMark(models.Model):
    """A lesson or question of a published course that names API symbols a later
    release removed, deprecated or changed (courses.services.stale). Verifying the
    course clears its marks."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="stale_marks")
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, null=True, blank=True, related_name="stale_marks"
    )
    question = models.ForeignKey(
        "Question", on_delete=models.CASCADE, null=True, blank=True, related_name="stale_marks"
    )
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="stale_marks")
    symbols = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Lessons first, then questions, each in course order (NULLs last on both
        # databases: SQLite puts them first by default).
        ordering = [
            "course",
            models.F("lesson__position").asc(nulls_last=True),
            models.F("question__position").asc(nulls_last=True),
            "id",
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lesson__isnull=False, question__isnull=True)
                | Q(lesson__isnull=True, question__isnull=False),
                name="stale_mark_lesson_or_question",
            ),
            models.UniqueConstraint(
                fields=["lesson", "release"], name="stale_mark_unique_lesson_release"
            ),
            models.UniqueConstraint(
                fields=["question", "release"], name="stale_mark_unique_question_release"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id}: stale since release {self.release_id}"


class Scenario(models.TextChoices):
    """The customer scenarios playbooks are filed under. A fixed vocabulary, so search
    filters and the API can refuse a misspelt one; add a member (and its zh-hans label)
    to extend it — values are stored as they are, no migration of data needed."""

    SOCIAL_CHAT = "social-chat", gettext_lazy("Social chat")
    LIVE_STREAMING = "live-streaming", gettext_lazy("Live streaming")
    ONLINE_EDUCATION = "online-education", gettext_lazy("Online education")
    VOICE_ROOMS = "voice-rooms", gettext_lazy("Voice rooms")
    ONE_ON_ONE_CALLS = "one-on-one-calls", gettext_lazy("One-on-one calls")
    CUSTOMER_SERVICE = "customer-service", gettext_lazy("Customer service")
    GAMING = "gaming", gettext_lazy("In-game chat")
    IOT = "iot", gettext_lazy("IoT devices")


class Playbook(models.Model):
    """What support learned about one customer scenario or symptom: a short Markdown
    article beside the courses, linked to the SDKs, features and skills it is about.

    Searched by courses.selectors.playbooks: on PostgreSQL `search_vector` (a weighted
    tsvector of the title's and body's English words and Chinese character bigrams,
    kept by a trigger and GIN-indexed; see migration 0006) serves both languages, and
    trigram GIN indexes on title and body serve the other words of a Chinese query.
    """

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "简体中文"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Markdown.")
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    sdks = models.ManyToManyField(Sdk, related_name="playbooks", blank=True)
    features = models.ManyToManyField(Feature, related_name="playbooks", blank=True)
    skills = models.ManyToManyField(Skill, related_name="playbooks", blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="playbooks",
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_every_days = models.PositiveIntegerField(
        default=180, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    # Written by a PostgreSQL trigger (title weight A, body weight B); always NULL on
    # SQLite, where search falls back to substring matching. Never written by Django.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(verify_every_days__gte=1), name="playbook_verify_every_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def verify_by(self) -> datetime:
        """When it next needs verifying: from its last verification, else its creation."""
        return (self.verified_at or self.created_at) + timedelta(days=self.verify_every_days)


class PlaybookStaleMark(models.Model):
    """A playbook that names API symbols a later release of one of its SDKs removed,
    deprecated or changed (courses.services.stale), as StaleMark is for a lesson.
    Verifying the playbook clears its marks."""

    playbook = models.ForeignKey("Playbook", on_delete=models.CASCADE, related_name="stale_marks")
    release = models.ForeignKey(
        Release, on_delete=models.CASCADE, related_name="playbook_stale_marks"
    )
    symbols = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["playbook", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "release"], name="playbook_stale_mark_unique_release"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id}: stale since release {self.release_id}"


class PlaybookScenario(models.Model):
    """One scenario a playbook is filed under (a row, not a JSON list, so the
    `?scenario=` filter is an indexed join on SQLite and PostgreSQL alike)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="scenarios")
    scenario = models.CharField(max_length=32, choices=Scenario.choices)

    class Meta:
        ordering = ["playbook", "scenario"]
        constraints = [
            models.UniqueConstraint(
                fields=["playbook", "scenario"], name="playbook_scenario_unique"
            ),
        ]
        indexes = [
            # The search filter `?scenario=`: playbooks of one scenario.
            models.Index(fields=["scenario", "playbook"], name="playbook_scenario_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id}: {self.scenario}"

from django.conf import settings
from django.db import models
from django.db.models import JSONField, Q, Value
from django.utils import timezone


class LessonProgress(models.Model):
    """An engineer has read a lesson."""

    engineer = models.ForeignKey(
        "training.Engineer", on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey("courses.Lesson", on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["engineer", "lesson"], name="lessonprogress_unique_engineer_lesson"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engineer} read {self.lesson}"


class Attempt(models.Model):
    """One go at a quiz: what was asked, what was answered, how it was graded.

    `snapshot` holds the questions and choices (with the key) as they were when the
    attempt started, in the order shown; grading uses it, never the live quiz, so a
    later edit of the course cannot change a recorded score.

    `lead_notice` is the outbox of the mail to the team's leads after a failed last
    attempt: set to pending by the grading itself, in the same UPDATE, so the mail
    cannot be lost with the task that sends it (a broker outage, a worker killed);
    the sender claims it (pending → sent) before sending, and puts it back if the
    mail fails, for the beat's next pass.
    """

    class LeadNotice(models.TextChoices):
        NONE = "", "none"
        PENDING = "pending"
        SENT = "sent"

    engineer = models.ForeignKey(
        "training.Engineer", on_delete=models.CASCADE, related_name="attempts"
    )
    quiz = models.ForeignKey("courses.Quiz", on_delete=models.CASCADE, related_name="attempts")
    assignment = models.ForeignKey(
        "training.Assignment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attempts",
    )
    number = models.PositiveSmallIntegerField()
    pass_mark = models.PositiveSmallIntegerField()
    snapshot = models.JSONField()
    answers = models.JSONField(default=dict, blank=True)
    skill_scores = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    # A database default as well: set-based INSERTs (the benchmarks' among them) need
    # not name it.
    lead_notice = models.CharField(
        max_length=8,
        choices=LeadNotice.choices,
        default=LeadNotice.NONE,
        db_default=LeadNotice.NONE,
        blank=True,
    )
    # The `uid`s of the questions this attempt drew: the next attempt prefers
    # questions not seen yet (training.services.attempts.draw_questions).
    drawn = models.JSONField(default=list, db_default=Value([], JSONField()), blank=True)
    # Per question id, the share of its mark earned (0..1), or None for an essay
    # not graded yet.
    marks = models.JSONField(default=dict, db_default=Value({}, JSONField()), blank=True)
    # Submitted with an essay: no score or pass until a grader grades it.
    awaiting_grading = models.BooleanField(default=False, db_default=False)
    # Per essay question id: {"score": 0..100, "feedback": "…"}.
    essay_grades = models.JSONField(default=dict, db_default=Value({}, JSONField()), blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["engineer", "quiz", "number"]
        permissions = [
            # The grader role: grade essays of any engineer from the grading queue
            # (leads grade their own teams' without it).
            ("grade_essays", "Can grade essay answers of any engineer"),
        ]
        indexes = [
            # The grading queue: attempts awaiting a grader, oldest submission first.
            models.Index(
                fields=["submitted_at"],
                condition=Q(awaiting_grading=True),
                name="attempt_awaiting_idx",
            ),
            # The beat's pass over the lead notices still to send: a handful of rows.
            models.Index(
                fields=["lead_notice"],
                condition=Q(lead_notice="pending"),
                name="attempt_lead_notice_pending",
            ),
            # Readiness's locked-out count (training.readiness.counts.release_state):
            # the failed attempts at a release's quizzes, without reading the passes.
            models.Index(
                fields=["quiz", "engineer"],
                condition=Q(passed=False),
                name="attempt_failed_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["engineer", "quiz", "number"], name="attempt_unique_engineer_quiz_number"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="attempt_score_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    submitted_at__isnull=True,
                    score__isnull=True,
                    passed__isnull=True,
                    awaiting_grading=False,
                )
                | Q(
                    submitted_at__isnull=False,
                    score__isnull=False,
                    passed__isnull=False,
                    awaiting_grading=False,
                )
                | Q(
                    submitted_at__isnull=False,
                    score__isnull=True,
                    passed__isnull=True,
                    awaiting_grading=True,
                ),
                name="attempt_graded_iff_submitted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engineer} {self.quiz} #{self.number}"


class AttemptAnswer(models.Model):
    """One question of one graded attempt, a row per question: what item analysis
    reads (training.selectors.item_analysis), in SQL, instead of every attempt's
    JSON. Written set-based (one INSERT per attempt) when the attempt is graded —
    on submission, or when its essays are graded — and rewritten by a regrade; an
    attempt awaiting its grader has none yet (training.services.attempt_answers).

    `rest` is the attempt's other questions' marks added up: the discrimination of
    a question is the correlation of `mark` with `rest` over its answers, one
    aggregate with no self-join. `seconds` is the attempt's duration shared
    equally among its questions: the quiz page is one form, so no time per question
    is recorded. `picked` has bit i set when the choice at position i + 1 (the
    author's order, not the attempt's shuffle) was picked; true/false: bit 0 true,
    bit 1 false."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answer_rows")
    quiz = models.ForeignKey(
        "courses.Quiz", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # Indexed: the weakest topics join the engineer's region, and deleting an
    # engineer (the cascade, and PostgreSQL's foreign-key check) finds their rows.
    engineer = models.ForeignKey("training.Engineer", on_delete=models.CASCADE, related_name="+")
    uid = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=16)
    feature = models.CharField(max_length=100, blank=True, default="")
    skill = models.CharField(max_length=64, blank=True, default="")
    mark = models.FloatField()
    rest = models.FloatField()
    picked = models.BigIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    graded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # A regrade rewrites an attempt's rows: never two of one question.
            models.UniqueConstraint(fields=["attempt", "uid"], name="answer_unique_attempt_uid"),
            models.CheckConstraint(condition=Q(mark__gte=0, mark__lte=1), name="answer_mark_range"),
        ]
        indexes = [
            # Item analysis: a quiz's answers grouped by question and version, read
            # from the index alone on PostgreSQL (the aggregates' columns included).
            models.Index(
                fields=["quiz", "uid", "version"],
                include=["mark", "rest", "picked", "seconds"],
                name="answer_quiz_question_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.uid} v{self.version}"

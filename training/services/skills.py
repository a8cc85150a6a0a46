"""Skill records: what a passed attempt proves about an engineer."""

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from courses.models import Course, Skill
from training.models import Attempt, SkillLevel, SkillRecord

# Per-skill score (percent of that skill's questions answered right) → level.
# A quiz proves at most Proficient; Expert is granted by a person.
LEVEL_THRESHOLDS: tuple[tuple[int, SkillLevel], ...] = (
    (90, SkillLevel.PROFICIENT),
    (70, SkillLevel.PRACTITIONER),
    (0, SkillLevel.AWARE),
)


def level_for_score(score: int) -> SkillLevel:
    """The level a per-skill score (0 to 100) shows."""
    for threshold, level in LEVEL_THRESHOLDS:
        if score >= threshold:
            return level
    return SkillLevel.AWARE


# No savepoint of its own when nested: nothing here is caught and carried on from,
# so a failure rolls back the caller's whole transaction (the grade with it).
@transaction.atomic(savepoint=False)
def skill_records_update_from_attempt(*, attempt: Attempt) -> list[SkillRecord]:
    """Raise and renew the engineer's skill records from a passed attempt.

    For each skill the quiz tests (its per-skill scores): a record's level is never
    lowered; the attempt becomes its evidence and `verified_at` its submission time
    whenever it shows at least the recorded level (so a re-verification keeps the
    record fresh). For each skill the course recertifies (`Course.recertifies`), a
    record the engineer holds is renewed by the pass whatever the level shown: the
    attempt becomes its evidence and `verified_at` its submission time, and its
    level is kept (or raised). That moves the record's expiry, which is what the
    recertification assignment asked for. No record is created for a recertified
    skill the quiz does not test: there is no level to give it. A failed or
    unsubmitted attempt changes nothing. Returns the records written.

    Four statements whatever the number of skills: the skills, one INSERT … ON
    CONFLICT DO NOTHING of a record per tested skill (the records held already are
    left to the next two), one SELECT … FOR UPDATE of them all and one UPDATE of
    those raised or renewed. Both the insert and the lock take the rows in skill
    order, so two attempts of the same engineer graded at once cannot deadlock; a
    record the other one creates meanwhile is waited for, then locked and raised here.
    """
    if not attempt.passed:
        return []
    verified_at = attempt.submitted_at or timezone.now()
    scores = attempt.skill_scores or {}
    recertified = Course.recertifies.through.objects.filter(course__quiz=attempt.quiz_id)
    skills = (
        Skill.objects.filter(Q(slug__in=list(scores)) | Q(pk__in=recertified.values("skill_id")))
        .annotate(renews=Exists(recertified.filter(skill_id=OuterRef("pk"))))
        .order_by("pk")
    )
    levels: dict[int, SkillLevel] = {}
    renews: set[int] = set()
    for pk, slug, renew in skills.values_list("pk", "slug", "renews"):
        if slug in scores:
            levels[pk] = level_for_score(int(scores[slug]["score"]))
        if renew:
            renews.add(pk)
    if not levels and not renews:
        return []
    SkillRecord.objects.bulk_create(
        [
            SkillRecord(
                engineer_id=attempt.engineer_id,
                skill_id=skill_id,
                level=level,
                evidence=attempt,
                verified_at=verified_at,
            )
            for skill_id, level in levels.items()
        ],
        ignore_conflicts=True,
    )
    records = list(
        # The records' rows only: SkillRecord's default ordering joins the engineer,
        # user and skill, and a plain FOR UPDATE over it locked the skill's row too,
        # queueing every other engineer's grading of that skill behind this one.
        SkillRecord.objects.select_for_update(of=("self",))
        .filter(engineer_id=attempt.engineer_id, skill_id__in=sorted(levels.keys() | renews))
        .order_by("skill_id")
    )
    written = []
    for record in records:
        if record.evidence_id == attempt.pk:
            continue  # the insert above wrote it
        shown = levels.get(record.skill_id)
        if shown is not None and shown >= record.level:
            record.level = shown
        elif record.skill_id not in renews:
            continue
        record.evidence = attempt
        record.verified_at = verified_at
        written.append(record)
    SkillRecord.objects.bulk_update(written, ["level", "evidence", "verified_at"])
    return [record for record in records if record.evidence_id == attempt.pk]

"""Skill records: what a passed attempt proves about an engineer."""

from django.db import transaction
from django.utils import timezone

from courses.models import Skill
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
    """Raise the engineer's skill records from a passed attempt's per-skill scores.

    A record's level is never lowered; the attempt becomes its evidence and
    `verified_at` its submission time whenever it shows at least the recorded level
    (so a re-verification keeps the record fresh). A failed or unsubmitted attempt
    changes nothing. Returns the records written.

    Four statements whatever the number of skills: the skills, one INSERT … ON
    CONFLICT DO NOTHING of a record per skill (the records held already are left
    to the next two), one SELECT … FOR UPDATE of them all and one UPDATE of those
    raised. Both the insert and the lock take the rows in skill order, so two
    attempts of the same engineer graded at once cannot deadlock; a record the
    other one creates meanwhile is waited for, then locked and raised here.
    """
    if not attempt.passed or not attempt.skill_scores:
        return []
    verified_at = attempt.submitted_at or timezone.now()
    skills = Skill.objects.filter(slug__in=list(attempt.skill_scores)).order_by("pk")
    levels = {
        pk: level_for_score(int(attempt.skill_scores[slug]["score"]))
        for pk, slug in skills.values_list("pk", "slug")
    }
    if not levels:
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
        .filter(engineer_id=attempt.engineer_id, skill_id__in=levels)
        .order_by("skill_id")
    )
    # The insert above wrote the records whose evidence is this attempt.
    raised = [
        record
        for record in records
        if record.evidence_id != attempt.pk and levels[record.skill_id] >= record.level
    ]
    for record in raised:
        record.level = levels[record.skill_id]
        record.evidence = attempt
        record.verified_at = verified_at
    SkillRecord.objects.bulk_update(raised, ["level", "evidence", "verified_at"])
    return [record for record in records if record.evidence_id == attempt.pk]

"""Skill records: what a passed attempt proves about an engineer."""

from django.db import IntegrityError, transaction
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


@transaction.atomic
def skill_records_update_from_attempt(*, attempt: Attempt) -> list[SkillRecord]:
    """Raise the engineer's skill records from a passed attempt's per-skill scores.

    A record's level is never lowered; the attempt becomes its evidence and
    `verified_at` its submission time whenever it shows at least the recorded level
    (so a re-verification keeps the record fresh). A failed or unsubmitted attempt
    changes nothing. Returns the records written.
    """
    if not attempt.passed or not attempt.skill_scores:
        return []
    verified_at = attempt.submitted_at or timezone.now()
    skills = Skill.objects.in_bulk(list(attempt.skill_scores), field_name="slug")
    written = []
    for slug in sorted(skills):  # sorted: rows are locked in one order, no deadlock
        level = level_for_score(int(attempt.skill_scores[slug]["score"]))
        record, created = _lock_or_create(attempt=attempt, skill=skills[slug], level=level)
        if created:
            written.append(record)
        elif level >= record.level:
            record.level = level
            record.evidence = attempt
            record.verified_at = verified_at
            record.save(update_fields=["level", "evidence", "verified_at"])
            written.append(record)
    return written


def _lock_or_create(*, attempt: Attempt, skill: Skill, level: int) -> tuple[SkillRecord, bool]:
    """The engineer's record of the skill, locked, and whether this call created it
    (with the attempt as evidence, which is then the whole update)."""
    record = (
        SkillRecord.objects.select_for_update()
        .filter(engineer_id=attempt.engineer_id, skill=skill)
        .first()
    )
    if record is not None:
        return record, False
    try:
        with transaction.atomic():
            record = SkillRecord.objects.create(
                engineer_id=attempt.engineer_id,
                skill=skill,
                level=level,
                evidence=attempt,
                verified_at=attempt.submitted_at or timezone.now(),
            )
        return record, True
    except IntegrityError:
        # Created concurrently (another passed attempt of another quiz): update it.
        record = SkillRecord.objects.select_for_update().get(
            engineer_id=attempt.engineer_id, skill=skill
        )
        return record, False

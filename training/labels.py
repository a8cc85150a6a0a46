"""Words for stored values, in the active language.

The models' choice labels are English and part of the schema (migrations, the
admin); the pages show these instead. Readiness reasons are data, put into words
by training.readiness.policy.reason_text.
"""

from django.utils.translation import gettext_lazy, pgettext_lazy

from courses.labels import RELEASE_STATUSES
from training.models import Assignment, SkillLevel, Tier

__all__ = [
    "ASSIGNMENT_REASONS",
    "ASSIGNMENT_STATUSES",
    "RELEASE_STATUSES",
    "SKILL_LEVELS",
    "TIERS",
    "tier_choices",
]

SKILL_LEVELS = {
    SkillLevel.AWARE: gettext_lazy("Aware"),
    SkillLevel.PRACTITIONER: gettext_lazy("Practitioner"),
    SkillLevel.PROFICIENT: gettext_lazy("Proficient"),
    SkillLevel.EXPERT: gettext_lazy("Expert"),
}

TIERS = {
    Tier.L1: gettext_lazy("L1 — front line"),
    Tier.L2: gettext_lazy("L2 — engineer"),
    Tier.L3: gettext_lazy("L3 — expert"),
}

ASSIGNMENT_STATUSES = {
    Assignment.Status.ASSIGNED: pgettext_lazy("assignment status", "Assigned"),
    Assignment.Status.IN_PROGRESS: pgettext_lazy("assignment status", "In progress"),
    Assignment.Status.COMPLETE: pgettext_lazy("assignment status", "Complete"),
    Assignment.Status.EXEMPT: pgettext_lazy("assignment status", "Exempt"),
}

ASSIGNMENT_REASONS = {
    Assignment.Reason.RELEASE: gettext_lazy("Release training"),
    Assignment.Reason.LEAD: gettext_lazy("Assigned by a lead"),
    Assignment.Reason.ONBOARDING: gettext_lazy("Onboarding"),
    Assignment.Reason.RECERTIFICATION: gettext_lazy("Recertification"),
}


def tier_choices() -> list[tuple[str, str]]:
    return [(tier.value, TIERS[tier]) for tier in Tier]

"""Words for stored values, in the active language.

The models' choice labels are English and part of the schema (migrations, the
admin); the pages show these instead. Readiness's blocking reasons are English
too: they are API v1 text (`blocking`) and kept in the audit record of an
override, so they are translated only where a person reads them.
"""

import re

from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from courses.models import Release
from training.models import Assignment, SkillLevel, Tier

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

RELEASE_STATUSES = {
    Release.Status.DRAFT: pgettext_lazy("release status", "draft"),
    Release.Status.PUBLISHED: pgettext_lazy("release status", "published"),
    Release.Status.AVAILABLE: pgettext_lazy("release status", "available"),
    Release.Status.WITHDRAWN: pgettext_lazy("release status", "withdrawn"),
}

ASSIGNMENT_REASONS = {
    Assignment.Reason.RELEASE: gettext_lazy("Release training"),
    Assignment.Reason.LEAD: gettext_lazy("Assigned by a lead"),
    Assignment.Reason.ONBOARDING: gettext_lazy("Onboarding"),
}


def tier_choices() -> list[tuple[str, str]]:
    return [(tier.value, TIERS[tier]) for tier in Tier]


_BLOCKING = [
    (
        re.compile(r"^completion (?P<shown>\d+)% is below (?P<needed>[\d.]+%)$"),
        lambda m: gettext("completion %(shown)s%% is below %(needed)s") % m.groupdict(),
    ),
    (
        re.compile(r"^(?P<region>[A-Z]+) has no complete engineer$"),
        lambda m: gettext("%(region)s has no complete engineer") % m.groupdict(),
    ),
    (
        re.compile(
            r"^(?P<region>[A-Z]+) has (?P<complete>\d+) complete engineers, "
            r"fewer than (?P<needed>\d+)$"
        ),
        lambda m: (
            gettext("%(region)s has %(complete)s complete engineers, fewer than %(needed)s")
            % m.groupdict()
        ),
    ),
]


def blocking_reason(text: str) -> str:
    """A readiness reason (training.selectors.readiness) in the active language;
    one this does not know comes back as it is."""
    for pattern, words in _BLOCKING:
        match = pattern.match(text)
        if match:
            return words(match)
    return text

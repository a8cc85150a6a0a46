"""The repair pass beat runs every few minutes.

Whatever a lost task, a broker outage, a new hire or a team move left unassigned is
assigned here, with the same set-based, conflict-ignoring statements the fan-out
uses, so it can run any number of times, alongside anything else.
"""

from courses.models import Release
from training.services.assignments import onboarding_assign, release_assign_training


def reconcile() -> dict[str, int]:
    """Assign what is missing: onboarding, and the training of every published release
    not yet with customers. Returns how many assignments it created, by reason."""
    created = {"onboarding": onboarding_assign(), "release": 0}
    for release in Release.objects.filter(status=Release.Status.PUBLISHED):
        # One statement per open release (a handful), each set-based over engineers.
        created["release"] += release_assign_training(release=release)
    return created

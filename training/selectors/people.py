"""Reading people: teams, engineers and their skill records, joined for the API."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from core.errors import NotFound
from training.models import Engineer, SkillRecord, SupportManager, Team

User = get_user_model()


def team_list() -> QuerySet[Team]:
    return Team.objects.prefetch_related(
        "sdks",
        Prefetch("leads", queryset=User.objects.order_by("username")),
        "onboarding_courses",
    ).order_by("slug")


def team_get(*, slug: str) -> Team:
    team = team_list().filter(slug=slug).first()
    if team is None:
        raise NotFound(f"No team '{slug}'.")
    return team


def engineer_list(
    *, team: str | None = None, region: str | None = None, active: bool | None = None
) -> QuerySet[Engineer]:
    engineers = (
        Engineer.objects.select_related("user", "team")
        .prefetch_related("time_off")
        .order_by("user__username")
    )
    if team:
        engineers = engineers.filter(team__slug=team)
    if region:
        engineers = engineers.filter(region=region)
    if active is not None:
        engineers = engineers.filter(active=active)
    return engineers


def engineer_get(*, username: str) -> Engineer:
    engineer = engineer_list().filter(user__username=username).first()
    if engineer is None:
        raise NotFound(f"No engineer '{username}'.")
    return engineer


def engineer_skill_records(*, engineer: Engineer) -> QuerySet[SkillRecord]:
    """An engineer's skill records, by skill, with the skill joined."""
    return (
        SkillRecord.objects.filter(engineer=engineer)
        .select_related("skill")
        .order_by("skill__slug")
    )


def user_get(*, username: str):
    """An existing user by username (any user: a manager need not be an engineer)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"No user '{username}'.")
    return user


def manager_get(*, user) -> SupportManager:
    """The user's support-manager row, with who granted it."""
    return SupportManager.objects.select_related("user", "granted_by").get(user=user)

"""Who may see what: the one place that answers it.

A lead sees the teams they lead, those teams' engineers, and the releases of the
SDKs those teams support. Staff and support managers (training.models.SupportManager)
see everything. A manager acts everywhere only where the role says so — assign,
grant attempts, extend due dates (`manageable_assignments`) and override a release
gate; elsewhere (cancelling a lead's assignment) they act on the teams they lead
only (`cancellable_assignments`). An engineer sees their own assignments and
skills. Every lead page, the skill matrix, the experts page and the API ask here;
none of them filters by `leads=` on its own.
"""

import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from courses.models import Course, Release, Sdk
from training.models import Assignment, Attempt, Engineer, SupportManager, Team


def is_support_manager(user: Any) -> bool:
    """Whether `user` is an active support manager. One query per user object at
    most: Django keeps the reverse one-to-one (or its absence) on the instance."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return hasattr(user, "support_manager")


def sees_everything(user: Any) -> bool:
    """Staff and support managers see every team, engineer and release."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_staff) or is_support_manager(user)


def led_teams(user: Any) -> QuerySet[Team]:
    """The teams `user` leads (a lead's own, whatever else they may see)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Team.objects.none()
    return Team.objects.filter(leads=user)


def visible_teams(user: Any) -> QuerySet[Team]:
    """The teams `user` may see on the lead pages and in the API: every team for
    those who see everything, the teams they lead for anyone else."""
    if sees_everything(user):
        return Team.objects.all()
    return led_teams(user)


def has_lead_pages_expression(user_ref: str = "pk") -> Q:
    """An annotation for the menu: does the user at `user_ref` lead a team or manage
    support (staff, a plain attribute, the caller adds without a query)?"""
    return Q(Exists(Team.objects.filter(leads=OuterRef(user_ref)))) | Q(
        Exists(SupportManager.objects.filter(user=OuterRef(user_ref)))
    )


def visible_engineers(user: Any) -> QuerySet[Engineer]:
    """Engineers on the teams `user` may see (all for those who see everything)."""
    if sees_everything(user):
        return Engineer.objects.all()
    # A subquery, not a join through team.leads: the join would repeat an engineer
    # once per lead of their team.
    return Engineer.objects.filter(team__in=led_teams(user).values("pk"))


def may_see_engineer(user: Any, engineer: Engineer) -> bool:
    """Oneself, or an engineer of a team `user` may see."""
    if engineer.user_id == getattr(user, "pk", None):
        return True
    if sees_everything(user):
        return True
    return engineer.team_id is not None and led_teams(user).filter(pk=engineer.team_id).exists()


def visible_assignments(user: Any) -> QuerySet[Assignment]:
    """A signed-in person's own assignments and those of the engineers they may see;
    everything for those who see everything (and for a machine client: user None)."""
    queryset = Assignment.objects.all()
    if user is None or sees_everything(user):
        return queryset
    return queryset.filter(
        Q(engineer__user=user) | Q(engineer__team__in=led_teams(user).values("pk"))
    )


GRADER_PERMISSION = "training.grade_essays"


def is_grader(user: Any) -> bool:
    """Holds the grader role: the `training.grade_essays` permission (given to a
    user or a group in the admin; superusers have it)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.has_perm(GRADER_PERMISSION))


def may_use_grading_queue(user: Any) -> bool:
    """Graders, and leads (for their own teams). Staff and support managers open it
    too (the menu offers it to everyone with lead pages); without the role it
    lists only the teams they lead."""
    return is_grader(user) or sees_everything(user) or led_teams(user).exists()


def gradable_attempts(user: Any) -> QuerySet[Attempt]:
    """The attempts awaiting grading that `user` may grade: every engineer's for a
    grader, those of the engineers of the teams a lead leads; never one's own."""
    queryset = Attempt.objects.filter(awaiting_grading=True)
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return queryset.none()
    if not is_grader(user):
        queryset = queryset.filter(engineer__team__in=led_teams(user).values("pk"))
    return queryset.exclude(engineer__user=user)


def is_author(user: Any) -> bool:
    """Staff (who write courses in the admin and through the API) and the owner of
    any course: the authoring pages are theirs."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_staff) or Course.objects.filter(owner=user).exists()


def may_use_authoring_pages(user: Any) -> bool:
    """Authors, support managers (who read the item analysis of every course), and
    leads, whose menu offers the pages: they see the courses they own (often none)."""
    return is_support_manager(user) or is_author(user) or led_teams(user).exists()


def authoring_courses(user: Any) -> QuerySet[Course]:
    """The courses whose item analysis `user` may read: every course for staff and
    support managers, the courses they own for anyone else."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return Course.objects.none()
    if sees_everything(user):
        return Course.objects.all()
    return Course.objects.filter(owner=user)


def may_regrade(user: Any, course: Course) -> bool:
    """Staff and the course's owner: regrading changes engineers' recorded results,
    so it is the authors' (a support manager reads the analysis, regrades nothing)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_staff) or course.owner_id == user.pk


def may_manage_assignments(user: Any) -> bool:
    """Whether a signed-in person may grant attempts or extend due dates at all:
    those who see everything, and leads."""
    return sees_everything(user) or led_teams(user).exists()


def manageable_assignments(user: Any) -> QuerySet[Assignment]:
    """The assignments a person may change by hand (grant attempts, extend): every
    one for those who see everything and for a machine client (user None); a
    lead's, those of the engineers of the teams they lead — never their own, even
    on a team they lead (nobody grants themselves another go)."""
    queryset = Assignment.objects.all()
    if user is None or sees_everything(user):
        return queryset
    return queryset.filter(engineer__team__in=led_teams(user).values("pk")).exclude(
        engineer__user=user
    )


def cancellable_assignments(user: Any) -> QuerySet[Assignment]:
    """The assignments a person may cancel: every one for staff; for anyone else
    (leads, and support managers, who are read-only outside their own teams but for
    assigning, granting and extending) those of the teams they lead."""
    queryset = Assignment.objects.all()
    if getattr(user, "is_authenticated", False) and user.is_active and user.is_staff:
        return queryset
    return queryset.filter(engineer__team__in=led_teams(user).values("pk"))


@dataclass(frozen=True, slots=True)
class LeadScope:
    """What a signed-in lead (or someone who sees everything) may see on the lead
    pages: their teams, and the time zone and language the pages use — the lead's
    engineer profile's when they are also an engineer, else their preferences'
    (training.models.PersonPreferences), else UTC and the browser's language."""

    user: Any
    teams: tuple[Team, ...]
    staff: bool
    """Sees everything: staff, or a support manager (`sees_everything`)."""
    timezone_name: str | None
    """The zone the lead pages use; None when neither a profile nor preferences set one."""
    is_engineer: bool = False
    language: str | None = None
    """The language the lead pages use; None leaves it to the cookie or the browser."""
    manager: bool = False
    """A support manager (shown as such; `staff` is true for them too)."""

    @property
    def everything(self) -> bool:
        return self.staff

    @property
    def team_ids(self) -> list[int]:
        return [team.pk for team in self.teams]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone_name or "UTC")

    def engineers(self) -> QuerySet[Engineer]:
        """The engineers of my teams (every team's for those who see everything)."""
        return Engineer.objects.filter(team_id__in=self.team_ids)

    def teams_queryset(self) -> QuerySet[Team]:
        if self.everything:
            return Team.objects.all()
        return Team.objects.filter(pk__in=self.team_ids)

    def releases(self) -> QuerySet[Release]:
        """Releases of the SDKs my teams support (all for those who see everything)."""
        releases = Release.objects.select_related("sdk")
        if self.everything:
            return releases
        # A subquery on the SDKs, not a join through teams: a join would repeat a
        # release once per team of mine that supports its SDK.
        return releases.filter(sdk__in=Sdk.objects.filter(teams__in=self.team_ids))


def lead_teams(*, user: Any) -> QuerySet[Team]:
    """The teams on `user`'s lead pages, by name."""
    return visible_teams(user).order_by("name", "slug")


def lead_scope(*, user: Any) -> LeadScope | None:
    """The lead's scope, or None for someone who leads nothing and does not see
    everything (the lead pages answer them 404). Two queries: the teams, then the
    engineer profile and the preferences together (two outer joins on one-to-ones)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    everything = sees_everything(user)
    teams = tuple(lead_teams(user=user))
    if not teams and not everything:
        return None
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list(
            "engineer__pk",
            "engineer__timezone",
            "engineer__language",
            "preferences__timezone",
            "preferences__language",
        )
        .first()
    ) or (None, None, None, None, None)
    engineer_pk, engineer_zone, engineer_language, zone, language = row
    if engineer_pk is not None:
        zone, language = engineer_zone, engineer_language
    return LeadScope(
        user=user,
        teams=teams,
        staff=everything,
        timezone_name=zone,
        is_engineer=engineer_pk is not None,
        language=language,
        # Staff stay "staff" on the pages, and asking costs them no query.
        manager=everything and not user.is_staff,
    )

"""What SCIM lists and reads: provisioned engineers as Users, teams as Groups,
joined for the page that shows them (one query per page, whatever its size)."""

from django.db.models import Prefetch, QuerySet

from training.models import Engineer, Team


def scim_engineers() -> QuerySet[Engineer]:
    """Engineers an identity provider sees: every one not deprovisioned, oldest first
    (a stable order for startIndex paging)."""
    return (
        Engineer.objects.filter(deprovisioned_at=None)
        .select_related("user", "team")
        .order_by("user_id")
    )


def scim_teams() -> QuerySet[Team]:
    members = Engineer.objects.filter(deprovisioned_at=None).select_related("user")
    return Team.objects.prefetch_related(
        Prefetch("engineers", queryset=members.order_by("user_id"), to_attr="scim_members")
    ).order_by("pk")

"""Support managers: making a user one and taking it back (the people API and the
admin both call these).

Both are idempotent and audited: a grant writes AuditEvent(manager_granted) and a
revocation AuditEvent(manager_revoked), in the same transaction as the change, and
only when something changed — a retried PUT or DELETE leaves no second event.
No side effects after commit: the role is read at each request
(training.selectors.access.sees_everything).
"""

from typing import Any

from django.db import transaction

from core.actors import Actor
from training.models import AuditEvent, SupportManager


@transaction.atomic
def manager_grant(*, user: Any, actor: Actor) -> tuple[SupportManager, bool]:
    """Make `user` a support manager; (the row, whether it is new). Safe to race:
    the one-to-one is unique, and get_or_create re-reads the winner's row."""
    manager, created = SupportManager.objects.get_or_create(
        user=user, defaults={"granted_by": actor.user}
    )
    if created:
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.MANAGER_GRANTED,
            details={"user": user.get_username(), "by": actor.label},
            **actor.audit_fields(),
        )
    return manager, created


@transaction.atomic
def manager_revoke(*, user: Any, actor: Actor) -> bool:
    """Take the support-manager role from `user`; whether they had it. Leads keep
    their own teams."""
    deleted, _ = SupportManager.objects.filter(user=user).delete()
    if deleted:
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.MANAGER_REVOKED,
            details={"user": user.get_username(), "by": actor.label},
            **actor.audit_fields(),
        )
    # The user object may carry the old answer in its one-to-one cache.
    user._state.fields_cache.pop("support_manager", None)
    return bool(deleted)

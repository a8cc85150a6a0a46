"""Writing playbooks from their documents (see courses.playbooks)."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.actors import Actor
from core.errors import InvalidInput
from courses.models import Playbook, PlaybookScenario
from courses.playbooks import playbook_document_validate


def playbook_put(*, slug: str, document: Any, actor: Actor) -> tuple[Playbook, bool]:
    """Create the playbook `slug` from a document, or replace it. Returns
    (playbook, created).

    Guarantees: the document is validated first (InvalidInput with field errors),
    then written in one transaction, links (scenarios, SDKs, features, skills)
    replaced as a whole; concurrent PUTs of one slug are serialized by a row lock,
    and the loser of a race to create it replaces the winner's. Verification
    (`verified_at`) is left as it is: saving is not verifying. On PostgreSQL a
    trigger refreshes the search vector in the same statement. Queues nothing.
    `actor` is accepted for the audit trail the owners/verification work adds.
    """
    del actor
    if isinstance(document, dict):
        if document.get("slug", slug) != slug:
            raise InvalidInput(
                {
                    "slug": [
                        gettext("The document's slug '%(given)s' does not match '%(slug)s'.")
                        % {"given": document["slug"], "slug": slug}
                    ]
                }
            )
        document = {**document, "slug": slug}
    spec = playbook_document_validate(document)
    with transaction.atomic():
        playbook = Playbook.objects.select_for_update().filter(slug=slug).first()
        created = playbook is None
        if playbook is None:
            try:
                with transaction.atomic():
                    playbook = Playbook.objects.create(
                        slug=slug, title=spec["title"], body=spec["body"]
                    )
            except IntegrityError:
                playbook = Playbook.objects.select_for_update().get(slug=slug)
                created = False
        playbook.title = spec["title"]
        playbook.body = spec["body"]
        playbook.language = spec["language"]
        playbook.owner = spec["owner"]
        playbook.updated_at = timezone.now()
        playbook.save(update_fields=["title", "body", "language", "owner", "updated_at"])
        playbook.sdks.set(spec["sdks"])
        playbook.features.set(spec["features"])
        playbook.skills.set(spec["skills"])
        PlaybookScenario.objects.filter(playbook=playbook).exclude(
            scenario__in=spec["scenarios"]
        ).delete()
        PlaybookScenario.objects.bulk_create(
            [PlaybookScenario(playbook=playbook, scenario=s) for s in spec["scenarios"]],
            ignore_conflicts=True,
        )
    return playbook, created

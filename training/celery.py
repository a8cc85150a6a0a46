"""The Celery application: `celery -A training worker` and `celery -A training beat`."""

import logging
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "training.settings")

logger = logging.getLogger(__name__)

app = Celery("training")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queue_reconcile(queues: list[str]) -> None:
    """Queue one reconcile pass on the first of `queues` (the default queue if none)."""
    from core.queue import BROKER_ERRORS
    from training.tasks import reconcile

    try:
        reconcile.apply_async(queue=queues[0] if queues else None)
    except BROKER_ERRORS:
        logger.exception("could not queue a reconcile pass; beat will run one")


class ReconcileOnConnect(bootsteps.StartStopStep):
    """Each time a worker connects to the broker, it queues one reconcile pass.

    Its consumer starts this step when the worker starts and again after every
    reconnection, which covers two ways of losing work:

    - A worker killed mid-task (SIGKILL, OOM, a lost machine) leaves its message
      unacknowledged in Redis, redelivered only after the visibility timeout
      (30 min). The fan-out it ran rolled back whole (one statement, one
      transaction), so the release's engineers are simply unassigned; the worker
      the supervisor starts instead assigns them within seconds.
    - While the broker was down, requests kept succeeding but could not queue their
      tasks (core.queue). When it comes back, every worker reconnects, and the
      first pass assigns what those tasks would have.

    Reconcile is set-based and idempotent: many workers connecting at once cost a
    few cheap statements, and a redelivered message, when it comes, changes nothing.
    Beat runs it every PREFLIGHT_RECONCILE_SECONDS as well.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, c) -> None:
        from django.conf import settings

        if settings.PREFLIGHT_RECONCILE_ON_CONNECT:
            # The queues this worker consumes, so that this very worker can run it.
            queue_reconcile(list(c.app.amqp.queues.consume_from or {}))


app.steps["consumer"].add(ReconcileOnConnect)

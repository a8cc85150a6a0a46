"""Queueing Celery tasks from services.

Tasks are sent only after the surrounding transaction commits (a worker must never
see ids the database does not yet hold, and a rolled-back change must never be acted
on). Sending happens after the commit, so a broker outage cannot undo the change the
request made: it is logged, and the reconcile pass redoes the work once the broker is
back. The caller's request still succeeds.

Services name the task (`"training.tasks.reconcile"`) instead of importing it: the
tasks module imports the services, and the layers run one way (see the
import-linter contracts in pyproject.toml). The name is the task's dotted path
(also its Celery name), imported when it is sent; tests/test_layers.py checks
every name used.
"""

import logging

from celery import Task
from django.db import transaction
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BROKER_ERRORS = (KombuOperationalError, RedisError, ConnectionError, OSError, TimeoutError)


def enqueue_on_commit(task: Task | str, *args, **kwargs) -> None:
    """Send `task` (a task or its registered name) with these arguments once the
    current transaction commits; nothing if it rolls back."""

    def send() -> None:
        resolved = import_string(task) if isinstance(task, str) else task
        try:
            resolved.apply_async(args=args, kwargs=kwargs)
        except BROKER_ERRORS:
            logger.exception("could not queue %s%r; reconcile will redo it", resolved.name, args)

    transaction.on_commit(send, robust=False)

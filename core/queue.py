"""Queueing Celery tasks from services.

Tasks are sent only after the surrounding transaction commits (a worker must never
see ids the database does not yet hold, and a rolled-back change must never be acted
on). Sending happens after the commit, so a broker outage cannot undo the change the
request made: it is logged, and the reconcile pass redoes the work once the broker is
back. The caller's request still succeeds.
"""

import logging

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BROKER_ERRORS = (KombuOperationalError, RedisError, ConnectionError, OSError, TimeoutError)


def enqueue_on_commit(task: Task, *args, **kwargs) -> None:
    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except BROKER_ERRORS:
            logger.exception("could not queue %s%r; reconcile will redo it", task.name, args)

    transaction.on_commit(send, robust=False)

"""Celery settings that recovery depends on: late acknowledgement, retry countdowns
below the visibility timeout, and a reconcile pass each time a worker connects."""

from unittest import mock

from django.conf import settings
from kombu.exceptions import OperationalError

from tests.settings_process import start_settings
from training import tasks
from training.celery import ReconcileOnConnect, app, queue_reconcile


def _our_tasks():
    return [task for name, task in app.tasks.items() if name.startswith("training.")]


def test_every_task_is_acknowledged_late_and_requeued_if_its_worker_dies():
    assert _our_tasks()
    for task in _our_tasks():
        assert task.acks_late, task.name
        assert task.reject_on_worker_lost, task.name


def test_every_retry_countdown_stays_below_the_visibility_timeout():
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > settings.PREFLIGHT_MAX_RETRY_COUNTDOWN
    assert timeout > settings.CELERY_TASK_TIME_LIMIT
    for task in _our_tasks():
        if getattr(task, "autoretry_for", ()):
            assert task.retry_backoff_max <= settings.PREFLIGHT_MAX_RETRY_COUNTDOWN, task.name
    # The webhook's own backoff, at its last retry, is capped too.
    task = tasks.deliver_webhook
    with (
        mock.patch.object(
            tasks.webhooks, "webhook_deliver", side_effect=tasks.webhooks.WebhookFailed
        ),
        mock.patch.object(tasks.WebhookDelivery.objects, "select_related") as query,
        mock.patch.object(task, "retry", side_effect=RuntimeError) as retry,
    ):
        query.return_value.filter.return_value.first.return_value = object()
        task.push_request(retries=settings.PREFLIGHT_WEBHOOK_RETRIES - 1)
        try:
            task.run(1)
        except RuntimeError:
            pass
        finally:
            task.pop_request()
    assert retry.call_args.kwargs["countdown"] == settings.PREFLIGHT_MAX_RETRY_COUNTDOWN


def test_a_visibility_timeout_below_a_countdown_stops_the_process():
    result = start_settings({"SECRET_KEY": "x" * 50, "CELERY_VISIBILITY_TIMEOUT": "700"}, drop=())
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT must be between 960" in result.stderr


def test_a_worker_queues_a_reconcile_each_time_it_connects():
    assert ReconcileOnConnect in app.steps["consumer"]
    consumer = mock.Mock()
    consumer.app.amqp.queues.consume_from = {"preflight-q": object()}
    with mock.patch.object(tasks.reconcile, "apply_async") as send:
        ReconcileOnConnect(consumer).start(consumer)
    send.assert_called_once_with(queue="preflight-q")


def test_a_broker_gone_again_while_queueing_the_reconcile_is_only_logged(caplog):
    with mock.patch.object(tasks.reconcile, "apply_async", side_effect=OperationalError("down")):
        queue_reconcile([])
    assert "could not queue a reconcile pass" in caplog.text

"""Thin Celery tasks: parse plain JSON, call harness/, raise on failure."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from harness.alert_log import AlertLog
from harness.alerts import Alert
from harness.errors import ServiceUnavailable
from harness.ingest import judge_and_store
from harness.model import Submission, utcnow
from harness.scans import find_change_points, find_missing
from workers import NOTIFY_ALERT


@shared_task(
    bind=True,
    name="workers.tasks.process_submission",
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=None,
    acks_late=True,
)
def process_submission(self: Task, payload: dict[str, Any]) -> None:
    """Judge and store one submission; outages retry, anything else marks it failed."""
    context = self.app.harness
    submission = Submission.from_json(payload)
    try:
        catalog = context.catalog_for(m.metric for m in submission.measurements)
        outcome = judge_and_store(submission, catalog, context.store, context.registry,
                                  context.blobs)
    except ServiceUnavailable:
        raise
    except Exception as error:
        context.registry.mark_failed(submission, f"{type(error).__name__}: {error}")
        raise
    if context.settings.slack_webhook_url:
        for alert in outcome.alerts:
            if alert.severity != "info":
                self.app.send_task(NOTIFY_ALERT, args=[alert.to_json(), "opened"])


@shared_task(bind=True, name="workers.tasks.check_missing", autoretry_for=(ServiceUnavailable,),
             retry_backoff=True, max_retries=5, acks_late=True)
def check_missing(self: Task) -> int:
    """Open a `missing` alert for each new gap of a metric expected on a cadence."""
    context = self.app.harness
    return _open_new(self, find_missing(context.store, context.catalog, utcnow()))


@shared_task(bind=True, name="workers.tasks.scan_change_points",
             autoretry_for=(ServiceUnavailable,), retry_backoff=True, max_retries=5,
             acks_late=True)
def scan_change_points(self: Task) -> int:
    """Open a `changepoint` alert for each new change point in a default-branch history."""
    context = self.app.harness
    return _open_new(self, find_change_points(context.store, context.catalog,
                                              AlertLog(context.store)))


def _open_new(task: Task, alerts: list[Alert]) -> int:
    """Store the alerts not seen before and send them to Slack; returns how many."""
    context = task.app.harness
    log = AlertLog(context.store)
    known = {alert.id for alert in log.find()}
    new = [alert for alert in alerts if alert.id not in known]
    log.open(new)
    if context.settings.slack_webhook_url:
        for alert in new:
            if alert.severity != "info":
                task.app.send_task(NOTIFY_ALERT, args=[alert.to_json(), "opened"])
    return len(new)

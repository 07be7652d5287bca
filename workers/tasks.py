"""Thin Celery tasks: parse plain JSON, call harness/, raise on failure."""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from celery import Task, shared_task
from kombu.exceptions import KombuError

from harness.alerting.alerts import Alert
from harness.alerting.log import AlertLog
from harness.detection.scans import find_change_points, find_missing
from harness.errors import BrokerUnavailable, ServiceUnavailable
from harness.ingest import judge_and_store
from harness.model import Submission, utcnow
from workers import (
    CHECK_MISSING,
    LATE_ALERT_GRACE_S,
    LOST_AFTER_S,
    NOTIFY_ALERT,
    NOTIFY_GROUP,
    PROCESS_SUBMISSION,
    REQUEUE_LOST,
    SCAN_CHANGE_POINTS,
    retry_later,
)

log = logging.getLogger(__name__)

SCAN_RETRIES = 5  # a periodic scan that keeps failing waits for its next run


@shared_task(bind=True, name=PROCESS_SUBMISSION, acks_late=True,
             max_retries=None)
def process_submission(self: Task, payload: dict[str, Any]) -> None:
    """Judge and store one submission; outages retry, anything else marks it failed."""
    context = self.app.harness
    submission = Submission.from_json(payload)
    try:
        catalog = context.catalog_for(m.metric for m in submission.measurements)
        outcome = judge_and_store(submission, catalog, context.store, context.registry,
                                  context.blobs)
        announce(self, outcome.alerts, outcome.provisional)
    except ServiceUnavailable as error:
        # judging again is idempotent: same points, same alert ids, Slack sent once
        retry_later(self, error, factor=2)
    except Exception as error:
        context.registry.mark_failed(submission, f"{type(error).__name__}: {error}")
        raise


@shared_task(bind=True, name=CHECK_MISSING, acks_late=True,
             max_retries=SCAN_RETRIES)
def check_missing(self: Task) -> int:
    """Open a `missing` alert for each new gap of a metric expected on a cadence."""
    context = self.app.harness
    try:
        return _open_new(self, find_missing(context.store, context.catalog, utcnow()))
    except ServiceUnavailable as error:
        retry_later(self, error)


@shared_task(bind=True, name=SCAN_CHANGE_POINTS, acks_late=True,
             max_retries=SCAN_RETRIES)
def scan_change_points(self: Task) -> int:
    """Open a `changepoint` alert for each new change point in a default-branch history."""
    context = self.app.harness
    try:
        return _open_new(self, find_change_points(context.store, context.catalog,
                                                  AlertLog(context.store)))
    except ServiceUnavailable as error:
        retry_later(self, error)


@shared_task(bind=True, name=REQUEUE_LOST, acks_late=True)
def requeue_lost(self: Task) -> int:
    """Queue again the submissions that wait for judging but whose task Redis no longer
    holds anywhere (kombu's Redis transport can lose a task handed to a worker that dies at
    that instant); judging is idempotent, so a task found twice does no harm."""
    registry = self.app.harness.registry
    pending = registry.pending(older_than_s=LOST_AFTER_S)
    if not pending:
        return 0
    lost = set(pending) - registry.in_broker(set(pending))
    for submission_id in sorted(lost):
        log.warning("submission %s is queued but its task is gone: queueing it again",
                    submission_id)
        self.app.send_task(PROCESS_SUBMISSION, args=[pending[submission_id]],
                           task_id=submission_id)
        registry.requeued(submission_id)
    return len(lost)


def _open_new(task: Task, alerts: list[Alert]) -> int:
    """Store the alerts not seen before and send them to Slack; returns how many."""
    context = task.app.harness
    log = AlertLog(context.store)
    known = {alert.id for alert in log.find()}
    new = [alert for alert in alerts if alert.id not in known]
    log.open(new)
    announce(task, new)
    return len(new)


def announce(task: Task, alerts: list[Alert], provisional: Collection[str] = ()) -> None:
    """Queue Slack messages for the alerts worth a message: one, or one per build; those
    found on late data after a grace period, and only if still open then."""
    if not task.app.harness.settings.slack_webhook_url:
        return
    worth = [alert for alert in alerts if alert.worth_a_message]
    builds: dict[tuple[str, bool], list[Alert]] = {}
    for alert in worth:
        late = alert.id in provisional
        builds.setdefault((f"{alert.build_ci}/{alert.build_id}", late), []).append(alert)
    try:
        for (_, late), group in builds.items():
            options: dict[str, Any] = {"countdown": LATE_ALERT_GRACE_S} if late else {}
            if len(group) == 1:
                task.app.send_task(NOTIFY_ALERT, args=[group[0].to_json(), "opened"],
                                   kwargs={"only_open": late}, **options)
            else:
                task.app.send_task(NOTIFY_GROUP, args=[[alert.to_json() for alert in group]],
                                   kwargs={"only_open": late}, **options)
    except (KombuError, OSError) as error:
        raise BrokerUnavailable(f"the broker did not take a Slack message: {error}") from None

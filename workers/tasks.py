"""Thin Celery tasks: parse plain JSON, call harness/, raise on failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from typing import Any

from celery import Task, shared_task
from kombu.exceptions import KombuError

from harness.alerting.alerts import Alert
from harness.alerting.delivery import not_told
from harness.alerting.holding import hold
from harness.alerting.index import AlertIndex
from harness.alerting.log import AlertLog
from harness.alerting.routes import anyone_listens
from harness.alerting.summaries import cause_of
from harness.detection.scans import find_change_points, find_missing
from harness.errors import BrokerUnavailable, ServiceUnavailable
from harness.ingest import judge_and_store
from harness.model import Submission, utcnow
from workers import (
    CHECK_MISSING,
    LATE_ALERT_GRACE_S,
    LOST_AFTER_S,
    NOTIFY_SUMMARY,
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
    """Store the alerts not seen before and send them to Slack; returns how many. Which are
    known is read by their ids (identities are stable), not from the whole log."""
    context = task.app.harness
    log = AlertLog(context.store, AlertIndex(context.registry.redis))
    known = log.get_many([alert.id for alert in alerts])
    new = [alert for alert in alerts if alert.id not in known]
    log.open(new)
    announce(task, new)
    return len(new)


def announce(task: Task, alerts: list[Alert], provisional: Collection[str] = ()) -> None:
    """Hold the alerts worth a message for their summary's (one message per cause and
    destination): it goes out a grace period after the summary's first alert, with the
    alerts of that cause that other builds confirmed meanwhile, for those still open then.
    Alerts found on late data are told no sooner than LATE_ALERT_GRACE_S."""
    context = task.app.harness
    settings = context.settings
    worth = [alert for alert in alerts if alert.worth_a_message]
    if not worth or not anyone_listens(settings):
        return
    # judging a build again finds the alerts it found before: hold only those that a
    # destination they go to was not told of yet
    client = context.registry.redis
    waiting = {alert.id for destination, routed in context.routed(worth).items()
               if destination.url_in(settings)
               for alert in not_told(client, routed, "opened", destination.name)}
    grace = settings.summary_grace_s
    held: dict[tuple[str, bool], list[str]] = {}
    for alert in (alert for alert in worth if alert.id in waiting):
        held.setdefault((cause_of(alert).id, alert.id in provisional), []).append(alert.id)
    try:
        for (summary_id, late), ids in held.items():
            # late ones may be told only after their own wait; the others with the message
            # that the first of their summary's alerts set off, or their own
            delay = LATE_ALERT_GRACE_S if late else 0
            hold(client, summary_id, ids, time.time() + delay)
            task.app.send_task(NOTIFY_SUMMARY, args=[summary_id], countdown=max(grace, delay))
    except (KombuError, OSError) as error:
        raise BrokerUnavailable(f"the broker did not take a Slack message: {error}") from None

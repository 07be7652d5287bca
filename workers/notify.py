"""The Slack delivery task: one alert event, posted exactly once, retried while Slack is down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task

from harness.alerting.alerts import Alert
from harness.alerting.delivery import notify_group_once, notify_once, notify_triage_once
from harness.alerting.log import AlertLog
from harness.alerting.slack import SlackUnavailable
from harness.errors import ServiceUnavailable
from workers import NOTIFY_ALERT, NOTIFY_GROUP, NOTIFY_TRIAGE, retry_later

log = logging.getLogger(__name__)

TASK_OPTIONS: dict[str, Any] = {"bind": True, "acks_late": True, "max_retries": None}


@shared_task(name=NOTIFY_ALERT, **TASK_OPTIONS)
def notify_alert(self: Task, alert: dict[str, Any], event: str, only_open: bool = False
                 ) -> str:
    """Post an alert's `opened` message or a follow-up to Slack, once; unset webhook = no-op.
    With `only_open`, an alert no longer open (withdrawn meanwhile) is not announced."""
    if only_open and not _still_open(self, [alert]):
        log.info("alert %s %s: no longer open, not announced", alert.get("id"), event)
        return "not open"
    outcome = _deliver(self, [alert], lambda kwargs: notify_once(
        Alert.from_json(alert), event, **kwargs))
    log.info("alert %s %s: %s", alert.get("id"), event, outcome)
    return outcome


@shared_task(name=NOTIFY_GROUP, **TASK_OPTIONS)
def notify_group(self: Task, alerts: list[dict[str, Any]], only_open: bool = False) -> str:
    """Post one message for the alerts of one build, once (with `only_open`: for those of
    them still open)."""
    if only_open:
        alerts = _still_open(self, alerts)
    outcome = _deliver(self, alerts, lambda kwargs: notify_group_once(
        [Alert.from_json(alert) for alert in alerts], **kwargs))
    log.info("group of %d alerts: %s", len(alerts), outcome)
    return outcome


@shared_task(name=NOTIFY_TRIAGE, **TASK_OPTIONS)
def notify_triage(self: Task, alerts: list[dict[str, Any]], event: str,
                  summary_id: str | None = None) -> str:
    """Post one follow-up for a triage step taken on several alerts at once (a summary's,
    or a hand-picked set), once; the alerts told of this step before are left out."""
    outcome = _deliver(self, alerts, lambda kwargs: notify_triage_once(
        [Alert.from_json(alert) for alert in alerts], event, summary_id, **kwargs))
    log.info("%s of %d alerts (summary %s): %s", event, len(alerts), summary_id, outcome)
    return outcome


def _still_open(task: Task, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts whose current state is open."""
    try:
        found = AlertLog(task.app.harness.store).states([alert["id"] for alert in alerts])
    except ServiceUnavailable as error:
        retry_later(task, error)
    return [alert for alert in alerts if found.get(alert["id"]) == "open"]


def _deliver(task: Task, alerts: list[dict[str, Any]],
             notify: Callable[[dict[str, Any]], str]) -> str:
    """Run a notification with this worker's Redis, webhook and event log; a 429's
    Retry-After overrides the backoff."""
    context = task.app.harness
    alert_log = AlertLog(context.store)
    metrics = {alert["id"]: alert.get("metric", "") for alert in alerts}
    try:
        return notify({
            "client": context.registry.redis,
            "webhook_url": context.settings.slack_webhook_url,
            "public_url": context.settings.public_url,
            "record": lambda alert_id, what: alert_log.record(
                alert_id, "notified", "slack", what, metric=metrics.get(alert_id, "")),
        })
    except SlackUnavailable as error:
        retry_later(task, error, countdown=error.retry_after_s)
    except ServiceUnavailable as error:
        retry_later(task, error)

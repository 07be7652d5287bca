"""The Slack delivery task: one alert event, posted exactly once, retried while Slack is down."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from harness.alert_log import AlertLog
from harness.alerts import Alert
from harness.errors import ServiceUnavailable
from harness.notify import notify_group_once, notify_once
from harness.slack import SlackUnavailable
from workers import NOTIFY_ALERT, NOTIFY_GROUP

log = logging.getLogger(__name__)

# Seconds before the first retry, doubled on each further one (with jitter) up to the cap.
RETRY_BACKOFF_S = 1
RETRY_BACKOFF_MAX_S = 300


@shared_task(
    bind=True,
    name=NOTIFY_ALERT,
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=RETRY_BACKOFF_S,
    retry_backoff_max=RETRY_BACKOFF_MAX_S,
    retry_jitter=True,
    max_retries=None,
    acks_late=True,
)
def notify_alert(self: Task, alert: dict[str, Any], event: str) -> str:
    """Post an alert's `opened` message or a follow-up to Slack, once; unset webhook = no-op."""
    context = self.app.harness
    settings = context.settings
    alert_log = AlertLog(context.store)
    try:
        outcome = notify_once(
            Alert.from_json(alert), event,
            client=context.registry.redis,
            webhook_url=settings.slack_webhook_url,
            public_url=settings.public_url,
            record=lambda alert_id, what: alert_log.record(alert_id, "notified", "slack", what),
        )
    except SlackUnavailable as error:
        if error.retry_after_s is None:
            raise
        # Slack said when to come back (429 Retry-After): honour it over the backoff.
        raise self.retry(exc=error, countdown=error.retry_after_s) from None
    log.info("alert %s %s: %s", alert.get("id"), event, outcome)
    return outcome


@shared_task(
    bind=True,
    name=NOTIFY_GROUP,
    autoretry_for=(ServiceUnavailable,),
    retry_backoff=RETRY_BACKOFF_S,
    retry_backoff_max=RETRY_BACKOFF_MAX_S,
    retry_jitter=True,
    max_retries=None,
    acks_late=True,
)
def notify_group(self: Task, alerts: list[dict[str, Any]]) -> str:
    """Post one message for the alerts of one build, once."""
    context = self.app.harness
    settings = context.settings
    alert_log = AlertLog(context.store)
    try:
        outcome = notify_group_once(
            [Alert.from_json(alert) for alert in alerts],
            client=context.registry.redis,
            webhook_url=settings.slack_webhook_url,
            public_url=settings.public_url,
            record=lambda alert_id, what: alert_log.record(alert_id, "notified", "slack", what),
        )
    except SlackUnavailable as error:
        if error.retry_after_s is None:
            raise
        raise self.retry(exc=error, countdown=error.retry_after_s) from None
    log.info("group of %d alerts: %s", len(alerts), outcome)
    return outcome

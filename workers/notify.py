"""The notification tasks: a summary's alerts once held for its grace, an alert's event, a
triage step, each posted exactly once to every destination its routes name, retried while
a destination is down."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import Task, shared_task
from kombu.exceptions import KombuError

from harness.alerting.alerts import Alert
from harness.alerting.delivery import (
    DEFAULT,
    announce_summary_once,
    notify_once,
    notify_triage_once,
)
from harness.alerting.holding import claim, hold, settle
from harness.alerting.log import AlertLog
from harness.alerting.summaries import cause_of
from harness.alerting.webhook import WebhookRejected, WebhookUnavailable
from harness.errors import BrokerUnavailable, ServiceUnavailable
from workers import NOTIFY_ALERT, NOTIFY_GROUP, NOTIFY_SUMMARY, NOTIFY_TRIAGE, retry_later

log = logging.getLogger(__name__)

TASK_OPTIONS: dict[str, Any] = {"bind": True, "acks_late": True, "max_retries": None}
# (alerts routed to one destination, the options of a delivery there) → its outcome
Notify = Callable[[list[Alert], dict[str, Any]], str]


@shared_task(name=NOTIFY_SUMMARY, **TASK_OPTIONS)
def notify_summary(self: Task, summary_id: str) -> str:
    """Tell of the alerts held for a summary, those still open: one message per destination,
    the summary's announcement there or the alerts that joined it since."""
    context = self.app.harness
    client = context.registry.redis
    try:
        ids = claim(client, summary_id, self.request.id, time.time())
        if not ids:
            return "nothing held"
        found = AlertLog(context.store).get_many(ids)
    except ServiceUnavailable as error:
        retry_later(self, error)
    still_open = [found[alert_id] for alert_id in ids
                  if alert_id in found and found[alert_id].state == "open"]
    outcome, rejected = _each_destination(self, still_open, lambda alerts, options:
                                          announce_summary_once(alerts, summary_id, **options)) \
        if still_open else ("none open", None)
    try:
        settle(client, summary_id, self.request.id)
    except ServiceUnavailable as error:
        retry_later(self, error)  # told already: the retry finds nothing left to tell
    log.info("summary %s, %d alerts held, %d open: %s", summary_id, len(ids), len(still_open),
             outcome)
    if rejected is not None:
        raise rejected
    return outcome


@shared_task(name=NOTIFY_ALERT, **TASK_OPTIONS)
def notify_alert(self: Task, alert: dict[str, Any], event: str, only_open: bool = False
                 ) -> str:
    """Post an alert's `opened` message or a follow-up to its destinations, once; nowhere
    to post = no-op. With `only_open`, an alert no longer open (withdrawn meanwhile) is not
    announced."""
    if only_open and not _still_open(self, [alert]):
        log.info("alert %s %s: no longer open, not announced", alert.get("id"), event)
        return "not open"
    outcome, rejected = _each_destination(self, [Alert.from_json(alert)], lambda alerts, options:
                                          notify_once(alerts[0], event, **options))
    log.info("alert %s %s: %s", alert.get("id"), event, outcome)
    if rejected is not None:
        raise rejected
    return outcome


@shared_task(name=NOTIFY_GROUP, **TASK_OPTIONS)
def notify_group(self: Task, alerts: list[dict[str, Any]], only_open: bool = False) -> str:
    """Queued by versions before summaries (one message per build): hold the alerts for
    their summaries' messages instead, ready now."""
    causes: dict[str, list[str]] = {}
    for alert in alerts:
        causes.setdefault(cause_of(Alert.from_json(alert)).id, []).append(alert["id"])
    try:
        for summary_id, ids in causes.items():
            hold(self.app.harness.registry.redis, summary_id, ids, time.time())
            self.app.send_task(NOTIFY_SUMMARY, args=[summary_id])
    except (KombuError, OSError) as error:
        retry_later(self, BrokerUnavailable(f"the broker did not take a task: {error}"))
    except ServiceUnavailable as error:
        retry_later(self, error)
    return f"held for {len(causes)} summaries"


@shared_task(name=NOTIFY_TRIAGE, **TASK_OPTIONS)
def notify_triage(self: Task, alerts: list[dict[str, Any]], event: str,
                  summary_id: str | None = None) -> str:
    """Post one follow-up for a triage step taken on several alerts at once (a summary's,
    or a hand-picked set) to each destination their routes name, once; the alerts told of
    this step there before are left out."""
    outcome, rejected = _each_destination(
        self, [Alert.from_json(alert) for alert in alerts], lambda routed, options:
        notify_triage_once(routed, event, summary_id, **options))
    log.info("%s of %d alerts (summary %s): %s", event, len(alerts), summary_id, outcome)
    if rejected is not None:
        raise rejected
    return outcome


def _still_open(task: Task, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The alerts whose current state is open."""
    try:
        found = AlertLog(task.app.harness.store).states([alert["id"] for alert in alerts])
    except ServiceUnavailable as error:
        retry_later(task, error)
    return [alert for alert in alerts if found.get(alert["id"]) == "open"]


def _each_destination(task: Task, alerts: list[Alert], notify: Notify
                      ) -> tuple[str, WebhookRejected | None]:
    """Run a notification for each destination of these alerts (with the alerts routed
    there, this worker's Redis, the destination's URL and the event log): the outcomes, and
    a refusal to raise once all was done. Every destination is tried before a failure
    retries the task (those done are not posted again); a 429's Retry-After overrides the
    backoff."""
    context = task.app.harness
    settings = context.settings
    alert_log = AlertLog(context.store)
    metrics = {alert.id: alert.metric for alert in alerts}
    try:
        plan = context.routed(alerts)
    except ServiceUnavailable as error:
        retry_later(task, error)
    outcomes: dict[str, str] = {}
    failure: ServiceUnavailable | None = None
    rejected: WebhookRejected | None = None
    for destination, routed in plan.items():
        name = destination.name
        actor = "slack" if name == DEFAULT else f"{destination.kind}:{name}"
        if destination.url_env and destination.url_in(settings) is None:
            log.warning("%s: %s is not set; its messages are not sent", name,
                        destination.url_env)
        try:
            outcomes[name] = notify(routed, {
                "client": context.registry.redis,
                "webhook_url": destination.url_in(settings),
                "public_url": settings.public_url,
                "record": lambda alert_id, what, actor=actor: alert_log.record(
                    alert_id, "notified", actor, what, metric=metrics.get(alert_id, "")),
                "destination": name,
                "kind": destination.kind,
            })
        except ServiceUnavailable as error:
            log.warning("%s: %s", name, error)
            failure, outcomes[name] = failure or error, "failed"
        except WebhookRejected as error:
            log.error("%s refused the message: %s", name, error)
            rejected, outcomes[name] = rejected or error, "refused"
    if failure is not None:
        countdown = failure.retry_after_s if isinstance(failure, WebhookUnavailable) else None
        retry_later(task, failure, countdown=countdown)
    if list(outcomes) == [DEFAULT] or not outcomes:
        return outcomes.get(DEFAULT, "disabled"), rejected
    return ", ".join(f"{name}: {outcome}" for name, outcome in outcomes.items()), rejected

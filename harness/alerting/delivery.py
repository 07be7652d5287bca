"""Exactly-once Slack notifications: one message per alert and event, guarded in Redis."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import redis

from harness.alerting.alerts import Alert
from harness.alerting.slack import EVENTS, FOLLOW_UPS, deliver, group_message, message_for
from harness.alerting.triage_messages import triage_message
from harness.errors import BrokerUnavailable, ServiceUnavailable
from harness.storage.redis_errors import redis_errors

log = logging.getLogger(__name__)

KEY_PREFIX = "harness:notified:"
SENDING, SENT = "sending", "sent"
# Far longer than one delivery can take (the webhook timeout), so a live lock always
# belongs to a delivery still in progress; a crashed one frees it when it expires.
LOCK_SECONDS = 300

Outcome = Literal["disabled", "sent", "already sent"]
Send = Callable[[str, Mapping[str, Any]], None]
Record = Callable[[str, str], None]


class NotificationInFlight(ServiceUnavailable):
    """Another task holds the lock of this message: try again after it finished or expired."""


def notified_key(alert_id: str, event: str) -> str:
    """The Redis key that remembers whether an alert's event was announced."""
    return f"{KEY_PREFIX}{alert_id}:{event}"


def notify_once(
    alert: Alert,
    event: str,
    *,
    client: redis.Redis,
    webhook_url: str | None,
    public_url: str,
    record: Record | None = None,
    send: Send = deliver,
    lock_seconds: int = LOCK_SECONDS,
) -> Outcome:
    """Post the alert's message for this event unless it was already posted."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r} (known: {', '.join(EVENTS)})")
    if not webhook_url:
        return "disabled"
    outcome = send_once(notified_key(alert.id, event), message_for(alert, event, public_url),
                        client=client, webhook_url=webhook_url, send=send,
                        lock_seconds=lock_seconds)
    if outcome == "sent" and record is not None:
        _record(record, alert.id, event)
    return outcome


def notify_group_once(
    alerts: Sequence[Alert],
    *,
    client: redis.Redis,
    webhook_url: str | None,
    public_url: str,
    record: Record | None = None,
    send: Send = deliver,
    lock_seconds: int = LOCK_SECONDS,
) -> Outcome:
    """Post one message for the alerts of one build unless it was already posted."""
    if not webhook_url or not alerts:
        return "disabled"
    # alerts announced before (alone, or in a group of another build's judgement) are left
    # out, so that judging a series again never announces an alert twice
    return _once_for_untold(alerts, "opened", "group",
                            lambda untold: group_message(untold, public_url), client=client,
                            webhook_url=webhook_url, record=record, send=send,
                            lock_seconds=lock_seconds)


def notify_triage_once(
    alerts: Sequence[Alert],
    event: str,
    summary_id: str | None,
    *,
    client: redis.Redis,
    webhook_url: str | None,
    public_url: str,
    record: Record | None = None,
    send: Send = deliver,
    lock_seconds: int = LOCK_SECONDS,
) -> Outcome:
    """Post one follow-up for a triage step taken on several alerts (a summary's, or a
    hand-picked set) unless it was already posted. Each alert's own key for the event says
    it was told, as for a single follow-up: an alert told before (alone or in another such
    message) is left out, and is never told again alone."""
    if event not in FOLLOW_UPS:
        raise ValueError(f"unknown follow-up event {event!r} (known: {', '.join(FOLLOW_UPS)})")
    if not webhook_url or not alerts:
        return "disabled"
    scope = f"summary-{summary_id}" if summary_id else "set"
    return _once_for_untold(
        alerts, event, scope, lambda untold: triage_message(untold, event, public_url,
                                                            summary_id),
        client=client, webhook_url=webhook_url, record=record, send=send,
        lock_seconds=lock_seconds)


def _once_for_untold(alerts: Sequence[Alert], event: str, scope: str,
                     message: Callable[[list[Alert]], dict[str, Any]], *,
                     client: redis.Redis, webhook_url: str, record: Record | None,
                     send: Send, lock_seconds: int) -> Outcome:
    """Post one message for the alerts not yet told of `event` (once, keyed by `scope` and
    their ids), then mark each of them told."""
    sent = _redis(client.mget, [notified_key(alert.id, event) for alert in alerts])
    untold = [alert for alert, state in zip(alerts, sent, strict=True) if state != SENT]
    if not untold:
        return "already sent"
    ids = sorted(alert.id for alert in untold)
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:20]
    outcome = send_once(notified_key(f"{scope}-{digest}", event), message(untold),
                        client=client, webhook_url=webhook_url, send=send,
                        lock_seconds=lock_seconds)
    if outcome == "sent":
        _redis(client.mset, {notified_key(alert_id, event): SENT for alert_id in ids})
        if record is not None:
            for alert_id in ids:
                _record(record, alert_id, event)
    return outcome


def send_once(
    key: str,
    message: Mapping[str, Any],
    *,
    client: redis.Redis,
    webhook_url: str,
    send: Send = deliver,
    lock_seconds: int = LOCK_SECONDS,
) -> Outcome:
    """Send a message once per key: a Redis lock while sending, `sent` for ever after."""
    if not _redis(client.set, key, SENDING, nx=True, ex=lock_seconds):
        if _redis(client.get, key) == SENT:
            return "already sent"
        # A live lock: a concurrent task is sending, or a crashed one left it. Retrying
        # (rather than skipping) is what still delivers after a crash.
        raise NotificationInFlight(f"{key} is locked by another delivery")
    try:
        send(webhook_url, message)
    except BaseException:
        # Not sent: free the message for the retry. Should Redis be down too, the lock
        # expires instead, and the original error is the one worth raising.
        with contextlib.suppress(BrokerUnavailable):
            _redis(client.delete, key)
        raise
    _redis(client.set, key, SENT)
    return "sent"


def _record(record: Record, alert_id: str, event: str) -> None:
    # The message is out and marked sent; a lost "notified" log entry must not resend it.
    try:
        record(alert_id, event)
    except Exception:
        log.exception("alert %s: %s was posted to Slack but not recorded", alert_id, event)


def _redis(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with redis_errors():
        return method(*args, **kwargs)

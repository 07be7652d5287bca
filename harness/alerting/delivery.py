"""Exactly-once Slack notifications: one message per alert and event, guarded in Redis."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import redis

from harness.alerting.alerts import Alert
from harness.alerting.slack import EVENTS, deliver, group_message, message_for
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
    sent = _redis(client.mget, [notified_key(alert.id, "opened") for alert in alerts])
    alerts = [alert for alert, state in zip(alerts, sent, strict=True) if state != SENT]
    if not alerts:
        return "already sent"
    ids = sorted(alert.id for alert in alerts)
    group = hashlib.sha256(",".join(ids).encode()).hexdigest()[:20]
    outcome = send_once(notified_key(f"group-{group}", "opened"),
                        group_message(alerts, public_url), client=client,
                        webhook_url=webhook_url, send=send, lock_seconds=lock_seconds)
    if outcome == "sent":
        _redis(client.mset, {notified_key(alert_id, "opened"): SENT for alert_id in ids})
        if record is not None:
            for alert_id in ids:
                _record(record, alert_id, "opened")
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

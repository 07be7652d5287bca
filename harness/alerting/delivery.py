"""Exactly-once notifications: one message per alert, event and destination, guarded in
Redis."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import redis

from harness.alerting.alerts import Alert
from harness.alerting.slack import EVENTS, FOLLOW_UPS, deliver, message_for
from harness.alerting.summaries import cause_of
from harness.alerting.summary_messages import joined_message, summary_message
from harness.alerting.triage_messages import triage_message
from harness.alerting.webhook import notification, post_json
from harness.errors import BrokerUnavailable, ServiceUnavailable
from harness.storage.redis_errors import redis_errors

log = logging.getLogger(__name__)

KEY_PREFIX = "harness:notified:"
LOCK_PREFIX = "harness:lock:announce:"  # one message of a summary at a time per destination
DEFAULT = "default"  # HARNESS_SLACK_WEBHOOK_URL (harness.alerting.routes)
SENDING, SENT = "sending", "sent"
# Far longer than one delivery can take (the webhook timeout), so a live lock always
# belongs to a delivery still in progress; a crashed one frees it when it expires.
LOCK_SECONDS = 300

Outcome = Literal["disabled", "sent", "already sent"]
Kind = Literal["slack", "webhook"]
Send = Callable[[str, Mapping[str, Any]], None]
Record = Callable[[str, str], None]
SENDERS: Mapping[str, Send] = {"slack": deliver, "webhook": post_json}


class NotificationInFlight(ServiceUnavailable):
    """Another task holds the lock of this message: try again after it finished or expired."""


def notified_key(alert_id: str, event: str, destination: str = DEFAULT) -> str:
    """The Redis key that remembers whether an alert's event was told to a destination (the
    default one's keys name none, as before routing)."""
    where = "" if destination == DEFAULT else f"@{destination}"
    return f"{KEY_PREFIX}{alert_id}:{event}{where}"


def notify_once(
    alert: Alert,
    event: str,
    *,
    client: redis.Redis,
    webhook_url: str | None,
    public_url: str,
    record: Record | None = None,
    send: Send | None = None,
    lock_seconds: int = LOCK_SECONDS,
    destination: str = DEFAULT,
    kind: Kind = "slack",
) -> Outcome:
    """Post the alert's message for this event to a destination unless it was already
    posted there."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r} (known: {', '.join(EVENTS)})")
    if not webhook_url:
        return "disabled"
    message = message_for(alert, event, public_url) if kind == "slack" else \
        notification(event, [alert], public_url, cause_of(alert).id)
    outcome = send_once(notified_key(alert.id, event, destination), message,
                        client=client, webhook_url=webhook_url, send=send or SENDERS[kind],
                        lock_seconds=lock_seconds)
    if outcome == "sent" and record is not None:
        _record(record, alert.id, event)
    return outcome


def announce_summary_once(
    alerts: Sequence[Alert],
    summary_id: str,
    *,
    client: redis.Redis,
    webhook_url: str | None,
    public_url: str,
    record: Record | None = None,
    send: Send | None = None,
    lock_seconds: int = LOCK_SECONDS,
    destination: str = DEFAULT,
    kind: Kind = "slack",
) -> Outcome:
    """Post one message for the alerts of a summary not yet told to this destination: the
    summary's announcement the first time, then the alerts that joined it."""
    if not webhook_url or not alerts:
        return "disabled"
    announced = notified_key(f"summary-{summary_id}", "opened", destination)
    # one message of a summary at a time per destination (two tasks may hold some of the
    # same alerts): the second leaves out what the first told, and knows it was announced
    with _exclusive(client, f"{LOCK_PREFIX}{summary_id}@{destination}", lock_seconds):
        joined = _redis(client.get, announced) == SENT

        def message(untold: list[Alert]) -> dict[str, Any]:
            if kind == "webhook":
                return notification("joined" if joined else "opened", untold, public_url,
                                    summary_id)
            return (joined_message if joined else summary_message)(untold, summary_id,
                                                                   public_url)

        return _once_for_untold(alerts, "opened", f"summary-{summary_id}", message,
                                client=client, webhook_url=webhook_url, record=record,
                                send=send or SENDERS[kind], lock_seconds=lock_seconds,
                                destination=destination, also={announced: SENT})


def notify_triage_once(
    alerts: Sequence[Alert],
    event: str,
    summary_id: str | None,
    *,
    client: redis.Redis,
    webhook_url: str | None,
    public_url: str,
    record: Record | None = None,
    send: Send | None = None,
    lock_seconds: int = LOCK_SECONDS,
    destination: str = DEFAULT,
    kind: Kind = "slack",
) -> Outcome:
    """Post one follow-up for a triage step taken on several alerts (a summary's, or a
    hand-picked set) to a destination unless it was already posted there. Each alert's own
    key for the event says it was told, as for a single follow-up: an alert told before
    (alone or in another such message) is left out, and is never told again alone."""
    if event not in FOLLOW_UPS:
        raise ValueError(f"unknown follow-up event {event!r} (known: {', '.join(FOLLOW_UPS)})")
    if not webhook_url or not alerts:
        return "disabled"
    scope = f"summary-{summary_id}" if summary_id else "set"

    def message(untold: list[Alert]) -> dict[str, Any]:
        if kind == "webhook":
            return notification(event, untold, public_url, summary_id)
        return triage_message(untold, event, public_url, summary_id)

    return _once_for_untold(alerts, event, scope, message, client=client,
                            webhook_url=webhook_url, record=record, send=send or SENDERS[kind],
                            lock_seconds=lock_seconds, destination=destination)


def _once_for_untold(alerts: Sequence[Alert], event: str, scope: str,
                     message: Callable[[list[Alert]], dict[str, Any]], *,
                     client: redis.Redis, webhook_url: str, record: Record | None,
                     send: Send, lock_seconds: int, destination: str = DEFAULT,
                     also: Mapping[str, str] | None = None) -> Outcome:
    """Post one message for the alerts not yet told of `event` at this destination (once,
    keyed by `scope` and their ids); each of them is marked told with the message (and the
    keys of `also` set), in one write."""
    untold = not_told(client, alerts, event, destination)
    if not untold:
        return "already sent"
    ids = sorted(alert.id for alert in untold)
    digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:20]
    told = {notified_key(alert_id, event, destination): SENT for alert_id in ids}
    outcome = send_once(notified_key(f"{scope}-{digest}", event, destination), message(untold),
                        client=client, webhook_url=webhook_url, send=send,
                        lock_seconds=lock_seconds, also={**told, **(also or {})})
    if outcome == "sent" and record is not None:
        for alert_id in ids:
            _record(record, alert_id, event)
    return outcome


def not_told(client: redis.Redis, alerts: Sequence[Alert], event: str,
             destination: str = DEFAULT) -> list[Alert]:
    """The alerts that this destination was not told of this event of (one read)."""
    if not alerts:
        return []
    sent = _redis(client.mget, [notified_key(alert.id, event, destination) for alert in alerts])
    return [alert for alert, state in zip(alerts, sent, strict=True) if state != SENT]


def send_once(
    key: str,
    message: Mapping[str, Any],
    *,
    client: redis.Redis,
    webhook_url: str,
    send: Send = deliver,
    lock_seconds: int = LOCK_SECONDS,
    also: Mapping[str, str] | None = None,
) -> Outcome:
    """Send a message once per key: a Redis lock while sending, `sent` for ever after (set
    in the same write as the keys of `also`)."""
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
    _redis(client.mset, {**(also or {}), key: SENT})
    return "sent"


@contextlib.contextmanager
def _exclusive(client: redis.Redis, key: str, lock_seconds: int) -> Iterator[None]:
    """One task at a time past this point: NotificationInFlight while another is (or a
    crashed one's lock has not expired yet)."""
    token = uuid.uuid4().hex
    if not _redis(client.set, key, token, nx=True, ex=lock_seconds):
        raise NotificationInFlight(f"{key} is held by another delivery")
    try:
        yield
    finally:
        with contextlib.suppress(BrokerUnavailable):
            if _redis(client.get, key) == token:
                _redis(client.delete, key)


def _record(record: Record, alert_id: str, event: str) -> None:
    # The message is out and marked sent; a lost "notified" log entry must not resend it.
    try:
        record(alert_id, event)
    except Exception:
        log.exception("alert %s: %s was posted to Slack but not recorded", alert_id, event)


def _redis(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with redis_errors():
        return method(*args, **kwargs)

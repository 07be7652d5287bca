"""The generic JSON webhook: one document per notification (an alert summary that opened,
alerts that joined it, a triage step), for issue trackers and chat systems other than Slack;
and the errors of delivering to any webhook, Slack's included."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import requests

from harness.alerting.alerts import Alert
from harness.alerting.summaries import Summary, cause_of
from harness.errors import HarnessError, ServiceUnavailable
from harness.links import alert_url, api_alert_url, api_summary_url, summary_url

FORMAT = "harness.notification/1"
TIMEOUT_S = 10


class WebhookUnavailable(ServiceUnavailable):
    """The webhook did not answer, was rate-limited, or answered with a server error: retry."""

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # what the receiver asked for (429), else None

    def __reduce__(self) -> tuple[Any, ...]:
        # Celery's prefork pool pickles errors; keep the class and its fields intact.
        return type(self), (str(self), self.retry_after_s)


class WebhookRejected(HarnessError):
    """The webhook refused the message (a 4xx other than 429): retrying would not help."""

    receiver = "the webhook"

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{self.receiver} answered {status}: {body[:200]}")
        self.status_code, self.body = status, body

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.status_code, self.body)


def notification(event: str, alerts: Sequence[Alert], public_url: str,
                 summary_id: str | None = None) -> dict[str, Any]:
    """The document of one notification: `event` is `opened` (a summary's first message),
    `joined` (alerts that joined it since), or a triage step (acknowledged, resolved,
    invalid); `alerts` are the ones it tells of. `summary` is None for a hand-picked set."""
    if not alerts:
        raise ValueError("a notification needs at least one alert")
    base = public_url.rstrip("/")
    summary = Summary(cause_of(alerts[0]), tuple(alerts)) if summary_id else None
    counts = dict(sorted(Counter(alert.metric for alert in alerts).items()))
    return {
        "format": FORMAT,
        "event": event,
        "text": _text(event, alerts, summary, base),
        "summary": _summary_json(summary, base) if summary is not None else None,
        "counts": counts,
        "alerts": [_alert_json(alert, base) for alert in alerts],
    }


def post_json(url: str, document: Mapping[str, Any], timeout_s: int = TIMEOUT_S) -> None:
    """POST a document to a webhook; WebhookUnavailable or WebhookRejected on failure."""
    try:
        response = requests.post(url, json=dict(document), timeout=timeout_s)
    except requests.RequestException as error:
        # not the error's text: it holds the URL, a secret
        raise WebhookUnavailable(f"the webhook did not answer: {type(error).__name__}") from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise WebhookUnavailable(f"the webhook answered {status}: {response.text[:200]}",
                                 retry_after(response.headers))
    if not 200 <= status < 300:
        raise WebhookRejected(status, response.text)


def retry_after(headers: Mapping[str, Any]) -> int | None:
    """The seconds a Retry-After header asks for (at least 1), if it holds a number."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(str(value))) if value is not None else None
    except ValueError:
        return None


def _text(event: str, alerts: Sequence[Alert], summary: Summary | None, base: str) -> str:
    """One line for people."""
    count = f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    if summary is None:
        return f"{event}: {count} · {base}/dash/alerts"
    cause = summary.cause
    where = f"{cause.kind} in {cause.ci} {cause.build_id} on {cause.branch}"
    link = base + summary_url(summary.id)
    if event == "opened":
        return f"[{summary.severity}] {count} in {cause.ci} {cause.build_id} on " \
               f"{cause.branch}: {cause.kind} · {link}"
    if event == "joined":
        return f"[{summary.severity}] {len(alerts)} more joined {where} · {link}"
    return f"{event}: {count} of {where} · {link}"


def _summary_json(summary: Summary, base: str) -> dict[str, Any]:
    data = summary.to_json()
    for key in ("alerts", "counts", "state"):
        data.pop(key)  # the notification's own `alerts` and `counts`; the state is the event's
    data["links"] = {"html": base + summary_url(summary.id),
                     "api": base + api_summary_url(summary.id)}
    return data


def _alert_json(alert: Alert, base: str) -> dict[str, Any]:
    data = alert.to_json()
    data.pop("history")
    data["links"] = {"html": base + alert_url(alert.id), "api": base + api_alert_url(alert.id)}
    return data

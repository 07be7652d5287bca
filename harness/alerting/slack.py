"""Slack Block Kit messages for alerts, and their delivery through an incoming webhook."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any
from urllib.parse import quote

from slack_sdk.webhook import WebhookClient

from harness.alerting.alerts import Alert
from harness.alerting.webhook import WebhookRejected, WebhookUnavailable, retry_after
from harness.links import alert_url, build_url, metric_url, summary_url

log = logging.getLogger(__name__)
WEBHOOK_LOG = logging.getLogger(f"{__name__}.webhook")
WEBHOOK_LOG.setLevel(logging.INFO)

SECTION_LIMIT = 3000  # characters of a section's text
FIELD_LIMIT = 2000  # characters of one section field
BUTTON_LIMIT = 75  # characters of a button's label
FOLLOW_UPS = ("acknowledged", "resolved", "invalid")
EVENTS = ("opened", *FOLLOW_UPS)

KIND_TITLES = {
    "regression": (":red_circle:", "Regression"),
    "improvement": (":large_green_circle:", "Improvement"),
    "spec": (":no_entry:", "Spec not met"),
    "missing": (":grey_question:", "Missing data"),
    "changepoint": (":chart_with_upwards_trend:", "Change point"),
}
SEVERITY_LABELS = {
    "critical": ":rotating_light: critical",
    "warning": ":warning: warning",
    "info": ":information_source: info",
}
FOLLOW_UP_TITLES = {
    "acknowledged": (":eyes:", "Acknowledged"),
    "resolved": (":white_check_mark:", "Resolved"),
    "invalid": (":heavy_multiplication_x:", "Marked invalid"),
}


class SlackUnavailable(WebhookUnavailable):
    """Slack did not answer, was rate-limited, or answered with a server error: retry."""


class SlackRejected(WebhookRejected):
    """Slack refused the message (a 4xx other than 429): retrying would not help."""

    receiver = "Slack"


@dataclass(frozen=True)
class AlertLinks:
    """Every URL a message about one alert points to; the optional ones may be None."""

    alert: str
    api: str
    history: str
    build: str
    ci: str | None
    pull_request: str | None


def alert_links(alert: Alert, public_url: str) -> AlertLinks:
    """The dashboard and API links of an alert, absolute on the harness's public URL."""
    base = public_url.rstrip("/")
    pull_request = alert.pull_request or {}
    return AlertLinks(
        alert=base + alert_url(alert.id),
        api=f"{base}/api/v1/alerts/{_segment(alert.id)}",
        history=base + metric_url(alert.metric, alert.dimensions, alert.branch),
        build=base + build_url(alert.build_ci, alert.build_id),
        ci=alert.build_url or None,
        pull_request=pull_request.get("url") or None,
    )


def headline(alert: Alert) -> str:
    """One line saying what moved, by how much, where and in which build."""
    emoji, title = KIND_TITLES.get(alert.kind, (":bell:", alert.kind.title()))
    where = f"on {alert.branch} in {alert.build_ci} {alert.build_id}"
    if alert.kind == "spec":
        amount = _spec_crossed(alert)
    elif alert.kind == "missing":
        amount = "no measurement"
    else:
        amount = _movement(alert)
    if alert.kind == "changepoint" and alert.started_build:
        where = f"on {alert.branch} since {alert.started_build}"
    return " ".join(part for part in (f"{emoji} {title}: {_series_name(alert)}", amount, where)
                    if part)


def alert_message(alert: Alert, public_url: str, summary_id: str | None = None
                  ) -> dict[str, Any]:
    """The message that announces a newly opened alert: `text` fallback plus `blocks`; with
    the summary it opens, a link to the summary's view."""
    links = alert_links(alert, public_url)
    title = headline(alert)
    # A section, not a header block: a header is cut at 150 characters, a headline is not.
    blocks: list[dict[str, Any]] = [
        _section(f"*<{links.alert}|{_escape(_link_text(title))}>*"),
        {"type": "section", "fields": _fields(alert, links)},
    ]
    if alert.reason:
        blocks.append(_section(_escape(alert.reason)))
    if alert.changes:
        blocks.append(_section(_changes_text(alert.changes)))
    blocks.append({"type": "actions", "elements": _buttons(links)})
    summary = f" · <{public_url.rstrip('/')}{summary_url(summary_id)}|its summary>" \
        if summary_id else ""
    blocks.append({"type": "context", "elements": [_mrkdwn(
        f"alert `{alert.id}` · {alert.kind} · build time {_escape(alert.time)} · "
        f"<{links.api}|API>{summary}")]})
    return {"text": f"[{alert.severity}] {_escape(title)} · {links.alert}", "blocks": blocks,
            "unfurl_links": False}


GROUP_LINES = 15


def alert_list(alerts: Sequence[Alert], public_url: str, rest: str) -> list[dict[str, Any]]:
    """Sections with a linked headline per alert, up to GROUP_LINES of them, then how many
    more there are and where (`rest`, mrkdwn) to see them."""
    lines = [f"• <{alert_links(alert, public_url).alert}|{_escape(_link_text(headline(alert)))}>"
             for alert in alerts[:GROUP_LINES]]
    if len(alerts) > GROUP_LINES:
        lines.append(f"… and {len(alerts) - GROUP_LINES} more: {rest}")
    return [_section(_clip("\n".join(lines[i:i + 5]), 2900)) for i in range(0, len(lines), 5)]


def follow_up_message(alert: Alert, event: str, public_url: str) -> dict[str, Any]:
    """The short message that reports a triage step on an alert already announced."""
    if event not in FOLLOW_UP_TITLES:
        raise ValueError(f"no follow-up message for event {event!r}")
    links = alert_links(alert, public_url)
    emoji, title = FOLLOW_UP_TITLES[event]
    kind = KIND_TITLES.get(alert.kind, ("", alert.kind.title()))[1]
    subject = f"{kind}: {_series_name(alert)} on {alert.branch} in " \
              f"{alert.build_ci} {alert.build_id}"
    text = f"{emoji} *{title}* · <{links.alert}|{_escape(_link_text(subject))}>"
    step: Mapping[str, Any] = next(
        (entry for entry in reversed(alert.history) if entry.get("event") == event), {})
    details = [f"by {_escape(str(step['actor']))}" if step.get("actor") else "",
               _escape(str(step["note"])) if step.get("note") else ""]
    blocks: list[dict[str, Any]] = [_section(text)]
    if any(details):
        blocks.append({"type": "context",
                       "elements": [_mrkdwn(" · ".join(part for part in details if part))]})
    return {"text": f"{title}: {_escape(subject)} · {links.alert}", "blocks": blocks,
            "unfurl_links": False}


def message_for(alert: Alert, event: str, public_url: str) -> dict[str, Any]:
    """The message of one notification event: the full one for `opened`, else a follow-up."""
    if event == "opened":
        return alert_message(alert, public_url)
    return follow_up_message(alert, event, public_url)


def deliver(webhook_url: str, message: Mapping[str, Any], timeout_s: int = 10) -> None:
    """Post one message to an incoming webhook; SlackUnavailable or SlackRejected on failure."""
    # No SDK-internal retries: Celery owns retrying, behind the exactly-once lock. The SDK
    # logs the webhook URL (a secret) at DEBUG whenever its logger's own level allows it:
    # its logger here is never below INFO, whatever the process's logging.
    client = WebhookClient(webhook_url, timeout=timeout_s, retry_handlers=[],
                           logger=WEBHOOK_LOG)
    try:
        response = client.send_dict(dict(message))
    except (OSError, HTTPException) as error:
        raise SlackUnavailable(f"Slack did not answer: {type(error).__name__}: {error}") from None
    status = response.status_code
    if status == 429 or status >= 500:
        raise SlackUnavailable(f"Slack answered {status}: {response.body[:200]}",
                               retry_after(response.headers))
    if not 200 <= status < 300:
        raise SlackRejected(status, response.body)


# --- pieces of a message ----------------------------------------------------------------

def _fields(alert: Alert, links: AlertLinks) -> list[dict[str, Any]]:
    pairs: list[tuple[str, str]] = []
    if alert.value is not None:
        pairs.append(("Value", _quantity(alert.value, alert.unit)))
    if alert.baseline is not None:
        pairs.append(("Baseline", _quantity(alert.baseline, alert.unit)))
    if alert.change is not None:
        pairs.append(("Change", _movement(alert)))
    if alert.spec is not None:
        limit = f" ({_quantity(alert.threshold, alert.unit)})" \
            if alert.threshold is not None else ""
        pairs.append(("Spec", f"{_escape(alert.spec)}{limit}"))
    pairs.append(("Severity", SEVERITY_LABELS.get(alert.severity, alert.severity)))
    pairs.append(("Series", f"<{links.history}|{_escape(_link_text(_series_name(alert)))}> "
                            f"on {_escape(alert.branch)}"))
    build = f"<{links.build}|{_escape(_link_text(f'{alert.build_ci} {alert.build_id}'))}>"
    if alert.commit:
        build += f" · commit `{_escape(alert.commit)}`"
    pairs.append(("Build", build))
    if alert.pull_request:
        pull_request = alert.pull_request
        label = f"#{pull_request['number']}" if pull_request.get("number") is not None else "PR"
        pr_text = f"<{links.pull_request}|{_escape(label)}>" if links.pull_request \
            else _escape(label)
        if pull_request.get("base"):
            pr_text += f" into {_escape(str(pull_request['base']))}"
        pairs.append(("Pull request", pr_text))
    if alert.started_build:
        pairs.append(("Started at", _escape(alert.started_build)))
    # Slack allows at most 10 fields per section.
    return [_mrkdwn(_clip(f"*{name}*\n{value}", FIELD_LIMIT)) for name, value in pairs[:10]]


def _changes_text(changes: Sequence[Mapping[str, Any]]) -> str:
    lines = []
    for change in changes:
        name = _escape(_link_text(str(change.get("package", "?"))))
        package = f"<{change['url']}|{name}>" if change.get("url") else name
        kind = change.get("kind", "changed")
        if kind == "added":
            line = f"• {package} added at `{_escape(str(change.get('to')))}`"
        elif kind == "removed":
            line = f"• {package} removed (was `{_escape(str(change.get('from')))}`)"
        else:
            line = (f"• {package} `{_escape(str(change.get('from')))}` → "
                    f"`{_escape(str(change.get('to')))}`")
        if change.get("compare_url"):
            line += f" (<{change['compare_url']}|diff>)"
        lines.append(line)
    text = "*Package changes*"
    for index, line in enumerate(lines):
        rest = len(lines) - index
        more = f"\n… and {rest - 1} more" if rest > 1 else ""
        if len(text) + 1 + len(line) + len(more) > SECTION_LIMIT:
            return text + f"\n… and {rest} more"
        text += "\n" + line
    return text


def _buttons(links: AlertLinks) -> list[dict[str, Any]]:
    targets = [("open_alert", "Open alert", links.alert), ("history", "History", links.history),
               ("build", "Build", links.build), ("ci_build", "CI build", links.ci),
               ("pull_request", "Pull request", links.pull_request)]
    buttons = []
    for action_id, label, url in targets:
        if url:
            button: dict[str, Any] = {"type": "button", "action_id": action_id,
                                      "text": _plain(label, BUTTON_LIMIT), "url": url}
            if action_id == "open_alert":
                button["style"] = "primary"
            buttons.append(button)
    return buttons


def _movement(alert: Alert) -> str:
    if alert.change is None:
        return ""
    text = _quantity(alert.change, alert.unit, signed=True)
    if alert.relative_change is not None:
        text += f" ({_percent(alert.relative_change)})"
    return text


def _spec_crossed(alert: Alert) -> str:
    """What a spec alert's value did to its spec: a critical one fails it; a warning one
    meets it, and it is the minimum spec (harness.detection.rules.spec_alert)."""
    spec = (alert.spec or "spec").removeprefix(f"{alert.metric}.")
    limit = f" (limit {_quantity(alert.threshold, alert.unit)})" \
        if alert.threshold is not None else ""
    value = _quantity(alert.value, alert.unit)
    if alert.severity == "critical":
        return f"{value} misses {spec}{limit}"
    return f"{value} meets only {spec}{limit}, not design"


def _series_name(alert: Alert) -> str:
    dimensions = ", ".join(f"{key}={value}" for key, value in sorted(alert.dimensions.items()))
    return f"{alert.metric} ({dimensions})" if dimensions else alert.metric


def _quantity(number: float | None, unit: str, signed: bool = False) -> str:
    if number is None:
        return "n/a"
    text = _number(number, signed)
    return f"{text} {unit}" if unit else text


def _number(number: float, signed: bool = False) -> str:
    sign = "+" if signed else ""
    if number == 0:
        return "0"
    if abs(number) >= 1000:
        return f"{number:{sign},.0f}"
    return f"{number:{sign}.3g}"


def _percent(fraction: float) -> str:
    percent = fraction * 100
    return f"{percent:+.0f} %" if abs(percent) >= 10 else f"{percent:+.2g} %"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(_clip(text, SECTION_LIMIT))}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    """Slack's three control characters, escaped as its mrkdwn requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link_text(text: str) -> str:
    # '|' would end a link's URL part early.
    return text.replace("|", "¦")


def _segment(text: str) -> str:
    return quote(text, safe="")

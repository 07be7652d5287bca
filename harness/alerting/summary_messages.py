"""The Slack messages of an alert summary: the one that announces it (counts by metric, a
line per alert, the onset build's package changes, a link to the summary's view), and the
short one that names the alerts that joined it after that."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.alerting.alerts import Alert
from harness.alerting.slack import (
    BUTTON_LIMIT,
    KIND_TITLES,
    _changes_text,
    _escape,
    _link_text,
    _mrkdwn,
    _plain,
    _section,
    alert_list,
    alert_message,
)
from harness.alerting.summaries import Cause, Summary, cause_of
from harness.links import api_summary_url, build_url, summary_url


def cause_title(cause: Cause) -> tuple[str, str]:
    """The emoji and the words of a cause's kind: `Regression`, `Spec not met (critical)`."""
    emoji, kind = KIND_TITLES.get(cause.kind, (":bell:", cause.kind.title()))
    which = f" ({cause.direction})" if cause.kind in ("spec", "changepoint") else ""
    return emoji, kind + which


def summary_message(alerts: Sequence[Alert], summary_id: str, public_url: str
                    ) -> dict[str, Any]:
    """The message that announces a summary with these alerts (one alert: its own full
    message, which links the summary)."""
    if not alerts:
        raise ValueError("a summary message needs at least one alert")
    if len(alerts) == 1:
        return alert_message(alerts[0], public_url, summary_id)
    base = public_url.rstrip("/")
    summary = Summary(cause_of(alerts[0]), tuple(alerts))
    cause = summary.cause
    link = base + summary_url(summary_id)
    emoji, kind = cause_title(cause)
    where = f"{len(alerts)} alerts in {cause.ci} {cause.build_id} on {cause.branch}"
    counts = " · ".join(f"{_escape(metric)} {count}" for metric, count in summary.counts.items())
    blocks: list[dict[str, Any]] = [
        _section(f"*<{link}|{emoji} {_escape(_link_text(f'{kind}: {where}'))}>*"),
        _section(f"*By metric:* {counts}"),
        *alert_list(summary.alerts, public_url, f"<{link}|the summary>"),
    ]
    if summary.changes:
        blocks.append(_section(_changes_text(summary.changes)))
    buttons = [("open_summary", "Open summary", link),
               ("build", "Build", base + build_url(cause.ci, cause.build_id)),
               ("ci_build", "CI build", summary.build["url"])]
    blocks.append({"type": "actions", "elements": [
        {"type": "button", "action_id": action, "text": _plain(label, BUTTON_LIMIT), "url": url,
         **({"style": "primary"} if action == "open_summary" else {})}
        for action, label, url in buttons if url]})
    blocks.append({"type": "context", "elements": [_mrkdwn(
        f"summary `{summary_id}` · {summary.severity} · "
        f"<{base}{api_summary_url(summary_id)}|API>")]})
    return {"text": f"[{summary.severity}] {_escape(where)}: {cause.kind} · {link}",
            "blocks": blocks, "unfurl_links": False}


def joined_message(alerts: Sequence[Alert], summary_id: str, public_url: str
                   ) -> dict[str, Any]:
    """The message that names the alerts that joined a summary after it was announced."""
    if not alerts:
        raise ValueError("a joined message needs at least one alert")
    base = public_url.rstrip("/")
    summary = Summary(cause_of(alerts[0]), tuple(alerts))
    cause = summary.cause
    link = base + summary_url(summary_id)
    emoji, kind = cause_title(cause)
    more = f"{len(alerts)} more alert{'s' if len(alerts) != 1 else ''} joined"
    subject = f"{kind} in {cause.ci} {cause.build_id} on {cause.branch}"
    blocks: list[dict[str, Any]] = [
        _section(f":heavy_plus_sign: *{more}* <{link}|{emoji} {_escape(_link_text(subject))}>"),
        *alert_list(summary.alerts, public_url, f"<{link}|the summary>"),
    ]
    return {"text": f"[{summary.severity}] {more} {_escape(subject)} · {link}",
            "blocks": blocks, "unfurl_links": False}

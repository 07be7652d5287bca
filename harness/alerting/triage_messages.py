"""The Slack follow-up that reports one triage step taken on several alerts at once (an
alert summary, or a hand-picked set): one message, a line per alert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.alerting.alerts import EXCURSION_KINDS, Alert
from harness.alerting.ownership import Ownership, ownership_of
from harness.alerting.slack import (
    FOLLOW_UP_TITLES,
    GROUP_LINES,
    KIND_TITLES,
    _clip,
    _escape,
    _link_text,
    _mrkdwn,
    _section,
    alert_links,
    headline,
)
from harness.alerting.summaries import cause_of
from harness.links import alerts_url, summary_url


def triage_subject(alerts: Sequence[Alert], summary_id: str | None) -> str:
    """What the step was taken on: a summary's cause, or a count of alerts."""
    count = f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}"
    if summary_id is None:
        return count
    cause = cause_of(alerts[0])
    kind = KIND_TITLES.get(cause.kind, ("", cause.kind.title()))[1]
    which = f" ({cause.direction})" if cause.kind in ("spec", "changepoint") else ""
    began = "since" if cause.kind in (*EXCURSION_KINDS, "changepoint") else "in"
    return f"{kind}{which}: {count} on {cause.branch} {began} {cause.ci} {cause.build_id}"


def triage_message(alerts: Sequence[Alert], event: str, public_url: str,
                   summary_id: str | None = None) -> dict[str, Any]:
    """The follow-up of one triage step (acknowledged, resolved, invalid) on these alerts,
    linked to their summary's view when they are one summary's, else to the alert list."""
    if event not in FOLLOW_UP_TITLES:
        raise ValueError(f"no follow-up message for event {event!r}")
    if not alerts:
        raise ValueError("a follow-up needs at least one alert")
    base = public_url.rstrip("/")
    link = base + (summary_url(summary_id) if summary_id else alerts_url(event))
    emoji, title = FOLLOW_UP_TITLES[event]
    subject = triage_subject(alerts, summary_id)
    blocks: list[dict[str, Any]] = [_section(
        f"{emoji} *{title}* · <{link}|{_escape(_link_text(subject))}>")]
    lines = [f"• <{alert_links(alert, public_url).alert}|"
             f"{_escape(_link_text(headline(alert)))}>" for alert in alerts[:GROUP_LINES]]
    if len(alerts) > GROUP_LINES:
        lines.append(f"… and {len(alerts) - GROUP_LINES} more: <{link}|all of them>")
    blocks += [_section(_clip("\n".join(lines[i:i + 5]), 2900))
               for i in range(0, len(lines), 5)]
    step = _step(alerts, event)
    details = [f"by {_escape(str(step['actor']))}" if step.get("actor") else "",
               _escape(str(step["note"])) if step.get("note") else ""]
    owner = ownership_of(alerts, summary_id) if summary_id else Ownership()
    owned = [f"assigned to {_escape(owner.assignee)}" if owner.assignee else "",
             f"<{owner.bug_url}|bug link>" if owner.bug_url else ""]
    if any(details) or any(owned):
        blocks.append({"type": "context", "elements": [
            _mrkdwn(" · ".join(part for part in group if part))
            for group in (details, owned) if any(group)]})
    return {"text": f"{title}: {_escape(subject)} · {link}", "blocks": blocks,
            "unfurl_links": False}


def _step(alerts: Sequence[Alert], event: str) -> Mapping[str, Any]:
    """The logged event of this step (its actor and note), from the first alert that has it."""
    return next((entry for alert in alerts for entry in reversed(alert.history)
                 if entry.get("event") == event), {})

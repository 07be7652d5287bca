"""What the alert pages show of alert summaries, as plain data: which causes a person must
read (open, and paged: worth a message), which are shown but not paged, what triage their
states allow, and each series' open regression. No Flask, no store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.alerting.alerts import ACTIONS, TRANSITIONS, Alert
from harness.alerting.summaries import Summary, cause_of, direction
from harness.links import build_url, summary_url

STANDING = ("open", "acknowledged")  # the states in which an alert still says something now


@dataclass(frozen=True)
class SummaryRow:
    """One summary as a row of a page: its links, its owner, its alerts with those people
    marked as its downstream effects."""

    summary: Summary
    link: str  # the summary's page
    build_link: str  # the onset build's page
    alerts: tuple[Alert, ...]  # its own, then its downstream ones: what its triage changes
    assignee: str | None = None
    bug_url: str | None = None
    relations: Mapping[str, str] = field(default_factory=dict)  # alert id → downstream

    @property
    def label(self) -> str:
        """What the cause is, in a word or two (`changepoint · regression`, `spec`)."""
        summary = self.summary
        if summary.cause.direction in (summary.kind, summary.severity):
            return summary.kind
        return f"{summary.kind} · {summary.cause.direction}"

    @property
    def paged(self) -> bool:
        """Whether people are told of it (Slack): one of its alerts is worth a message."""
        return is_paged(self.summary)

    @property
    def actions(self) -> dict[str, bool]:
        """Each triage action, and whether the states of its alerts allow it."""
        return allowed_actions(alert.state for alert in self.alerts)


def row_of(summary: Summary) -> SummaryRow:
    """A summary as a page row, with its owner and downstream alerts when it has them."""
    data: Mapping[str, Any] = summary.to_json()
    downstream = tuple(Alert.from_json(alert) for alert in data.get("downstream") or ())
    return SummaryRow(summary, summary_url(summary.id),
                      build_url(summary.cause.ci, summary.cause.build_id),
                      (*summary.alerts, *downstream), assignee=data.get("assignee") or None,
                      bug_url=data.get("bug_url") or None,
                      relations={alert.id: "downstream" for alert in downstream})


def is_paged(summary: Summary) -> bool:
    """Whether a summary's alerts page people (the rule Slack applies to each alert)."""
    return any(alert.worth_a_message for alert in summary.alerts)


def needs_reading(summaries: Iterable[Summary]) -> int:
    """How many summaries are open and paged: the items a person must read."""
    return sum(1 for summary in summaries if summary.state == "open" and is_paged(summary))


def allowed_actions(states: Iterable[str]) -> dict[str, bool]:
    """Each triage action, and whether some alert in these states allows it."""
    found = set(states)
    return {action: bool(found & TRANSITIONS[event]) for action, event in ACTIONS.items()}


@dataclass(frozen=True)
class RegressionMark:
    """A series' standing regression: the alert, and the summary page of its cause."""

    alert: Alert
    link: str

    @property
    def title(self) -> str:
        """The badge's tooltip."""
        since = self.alert.started_build or self.alert.build_id
        return f"{self.alert.state} regression since {since}: {self.alert.reason}"


def standing_regressions(alerts: Iterable[Alert]) -> dict[str, RegressionMark]:
    """Series → its regression alert still open or acknowledged (an open one first, then
    the newest), linked to the summary of its cause."""
    marks: dict[str, RegressionMark] = {}
    standing = [alert for alert in alerts
                if alert.state in STANDING and direction(alert) == "regression"]
    for alert in sorted(standing, key=lambda a: (a.state == "open", a.time), reverse=True):
        marks.setdefault(alert.series, RegressionMark(alert, summary_url(cause_of(alert).id)))
    return marks


def of_build(alerts: Iterable[Alert], ci: str, build_id: str) -> list[Alert]:
    """The alerts a build noticed or that began in it (its onset), newest first."""
    return [alert for alert in alerts if alert.build_ci == ci
            and build_id in (alert.build_id, alert.started_build)]

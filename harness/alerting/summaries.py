"""Alert summaries: the alerts that one cause raised, across metrics and series, as one row.

Pure: a summary is computed from alerts as the log gives them (no storage of its own), so it
always agrees with its alerts' states. Alerts share a cause when they have the same branch,
kind, direction (regression or improvement; for spec alerts the severity) and onset build
(where an excursion or a change point began, else the build that noticed the alert)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.alerting.alerts import EXCURSION_KINDS, TRANSITIONS, Alert, AlertState

SEVERITY_ORDER = ("critical", "warning", "info")  # worst first
STATE_ORDER: tuple[AlertState, ...] = ("open", "acknowledged", "resolved")  # else invalid


@dataclass(frozen=True)
class Cause:
    """What the alerts of one summary share."""

    branch: str
    kind: str
    direction: str  # regression / improvement; a spec alert's severity; `missing`
    ci: str  # the onset build's CI and id
    build_id: str

    @property
    def key(self) -> str:
        """The cause as one string (what the summary id hashes)."""
        return f"{self.branch}#{self.kind}#{self.direction}#{self.ci}/{self.build_id}"

    @property
    def id(self) -> str:
        """The summary's id: stable whichever alerts join or in which order."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:20]


def direction(alert: Alert) -> str:
    """Which way the alert's series moved, as far as its cause is concerned."""
    if alert.kind in EXCURSION_KINDS:
        return alert.kind
    if alert.kind == "changepoint":  # the scan makes a worsening a warning, else info
        return "improvement" if alert.severity == "info" else "regression"
    if alert.kind == "spec":
        return alert.severity
    return alert.kind


def cause_of(alert: Alert) -> Cause:
    """The cause of an alert: its onset build is where it began, else where it was noticed."""
    return Cause(alert.branch, alert.kind, direction(alert), alert.build_ci,
                 alert.started_build or alert.build_id)


def summary_state(states: Iterable[str]) -> AlertState:
    """Open while any alert is open; else acknowledged while any is; else resolved if any
    is; else invalid."""
    found = set(states)
    return next((state for state in STATE_ORDER if state in found), "invalid")


def worst_severity(severities: Iterable[str]) -> str:
    """The worst of some severities (critical > warning > info)."""
    found = set(severities)
    return next((severity for severity in SEVERITY_ORDER if severity in found), "info")


@dataclass(frozen=True)
class Summary:
    """The alerts of one cause (at least one), ordered by metric and series."""

    cause: Cause
    alerts: tuple[Alert, ...]

    @property
    def id(self) -> str:
        """The summary's stable id."""
        return self.cause.id

    @property
    def kind(self) -> str:
        """The kind its alerts share."""
        return self.cause.kind

    @property
    def state(self) -> AlertState:
        """Derived from the states of its alerts."""
        return summary_state(alert.state for alert in self.alerts)

    @property
    def severity(self) -> str:
        """The worst severity of its alerts."""
        return worst_severity(alert.severity for alert in self.alerts)

    @property
    def onset_time(self) -> str:
        """When the onset build ran (RFC 3339)."""
        return min(alert.started_time or alert.time for alert in self.alerts)

    @property
    def started_build(self) -> str | None:
        """The onset build's id when the alerts name one as where they began."""
        return next((alert.started_build for alert in self.alerts if alert.started_build),
                    None)

    @property
    def build(self) -> dict[str, str | None]:
        """The onset build: ci, id, time, and the url and commit that the alerts noticed
        there carry (None when every alert was noticed by a later build)."""
        there = [alert for alert in self.alerts if alert.build_id == self.cause.build_id]
        return {"ci": self.cause.ci, "id": self.cause.build_id, "time": self.onset_time,
                "url": next((a.build_url for a in there if a.build_url), None),
                "commit": next((a.commit for a in there if a.commit), None)}

    @property
    def changes(self) -> list[dict[str, Any]]:
        """The package changes of the onset build, as its alerts carry them (each once)."""
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for alert in self.alerts:
            for change in alert.changes:
                key = (change.get("package"), change.get("from"), change.get("to"))
                seen.setdefault(key, dict(change))
        return list(seen.values())

    @property
    def counts(self) -> dict[str, int]:
        """How many of its alerts each metric has."""
        return dict(sorted(Counter(alert.metric for alert in self.alerts).items()))

    def has_metric(self, metric: str) -> bool:
        """Whether one of its alerts is of this metric."""
        return any(alert.metric == metric for alert in self.alerts)

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-able data (the alerts as Alert.to_json gives them)."""
        return {"id": self.id, "state": self.state, "kind": self.kind,
                "direction": self.cause.direction, "branch": self.cause.branch,
                "severity": self.severity, "build": self.build,
                "started_build": self.started_build, "counts": self.counts,
                "changes": self.changes, "alerts": [alert.to_json() for alert in self.alerts]}


def summarize(alerts: Iterable[Alert]) -> list[Summary]:
    """The summaries of some alerts, newest onset first."""
    groups: dict[Cause, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(cause_of(alert), []).append(alert)
    summaries = [Summary(cause, tuple(sorted(group, key=lambda a: (a.metric, a.series, a.id))))
                 for cause, group in groups.items()]
    return sorted(summaries, key=lambda summary: (summary.onset_time, summary.id), reverse=True)


def select(summaries: Iterable[Summary], state: str | None = None, kind: str | None = None,
           metric: str | None = None) -> list[Summary]:
    """The summaries in this state, of this kind, with an alert of this metric."""
    return [summary for summary in summaries
            if (state is None or summary.state == state)
            and (kind is None or summary.kind == kind)
            and (metric is None or summary.has_metric(metric))]


def find_summary(alerts: Iterable[Alert], summary_id: str) -> Summary | None:
    """The summary with this id among the summaries of these alerts, if there is one."""
    return next((summary for summary in summarize(alerts) if summary.id == summary_id), None)


def split_for(alerts: Sequence[Alert], event: str) -> tuple[list[Alert], list[Alert]]:
    """The alerts whose state allows the event, and those it does not (left alone)."""
    allowed = TRANSITIONS[event]
    return ([alert for alert in alerts if alert.state in allowed],
            [alert for alert in alerts if alert.state not in allowed])

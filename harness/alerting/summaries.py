"""Alert summaries: the alerts that one cause raised, across metrics and series, as one row.

Pure: a summary is computed from alerts as the log gives them (no storage of its own), so it
always agrees with its alerts' states. Alerts share a cause when they have the same branch,
kind, direction (regression or improvement; for spec alerts the severity) and onset build
(where an excursion or a change point began, else the build that noticed the alert).

A person may move an alert to another summary, as a member of its cause or as a downstream
effect of it (a `reassigned` event, decision 85), and give a summary an owner
(harness.alerting.ownership)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from harness.alerting.alerts import EXCURSION_KINDS, REASSIGNED, TRANSITIONS, Alert, AlertState
from harness.alerting.ownership import Ownership, ownership_of

SEVERITY_ORDER = ("critical", "warning", "info")  # worst first
STATE_ORDER: tuple[AlertState, ...] = ("open", "acknowledged", "resolved")  # else invalid
Relation = Literal["member", "downstream"]
RELATIONS: tuple[str, ...] = get_args(Relation)


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


@dataclass(frozen=True)
class Placement:
    """Where a person moved an alert: into another summary's cause (member), or under it as
    a downstream effect."""

    summary: str
    relation: Relation


def placement_of(alert: Alert) -> Placement | None:
    """Where the alert's latest reassignment put it; None while it stays with its own cause
    (never moved, or moved back)."""
    latest = next((entry for entry in reversed(alert.history)
                   if entry.get("event") == REASSIGNED), None)
    if latest is None or latest.get("summary") == cause_of(alert).id:
        return None
    relation: Relation = "downstream" if latest.get("relation") == "downstream" else "member"
    return Placement(str(latest.get("summary")), relation)


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
    """The alerts of one cause (at least one), ordered by metric and series; and the alerts
    people marked as its downstream effects, which its state, severity and counts leave
    out."""

    cause: Cause
    alerts: tuple[Alert, ...]
    downstream: tuple[Alert, ...] = ()

    @property
    def id(self) -> str:
        """The summary's stable id."""
        return self.cause.id

    @property
    def kind(self) -> str:
        """The kind its alerts share."""
        return self.cause.kind

    @property
    def every_alert(self) -> tuple[Alert, ...]:
        """Its alerts and its downstream ones: what a triage step on it changes."""
        return (*self.alerts, *self.downstream)

    @property
    def owner(self) -> Ownership:
        """Its assignee and bug link, as its alerts' logs give them."""
        return ownership_of(self.every_alert, self.id)

    @property
    def own_alerts(self) -> tuple[Alert, ...]:
        """Its alerts of its own cause (not moved in), which say where it began."""
        return tuple(a for a in self.alerts if cause_of(a) == self.cause) or self.alerts

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
        return min(alert.started_time or alert.time for alert in self.own_alerts)

    @property
    def started_build(self) -> str | None:
        """The onset build's id when the alerts name one as where they began."""
        return next((alert.started_build for alert in self.own_alerts if alert.started_build),
                    None)

    @property
    def build(self) -> dict[str, str | None]:
        """The onset build: ci, id, time, and the url and commit that the alerts noticed
        there carry (None when every alert was noticed by a later build)."""
        there = [alert for alert in self.own_alerts if alert.build_id == self.cause.build_id]
        return {"ci": self.cause.ci, "id": self.cause.build_id, "time": self.onset_time,
                "url": next((a.build_url for a in there if a.build_url), None),
                "commit": next((a.commit for a in there if a.commit), None)}

    @property
    def changes(self) -> list[dict[str, Any]]:
        """The package changes of the onset build, as its alerts carry them (each once)."""
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for alert in self.own_alerts:
            for change in alert.changes:
                key = (change.get("package"), change.get("from"), change.get("to"))
                seen.setdefault(key, dict(change))
        return list(seen.values())

    @property
    def counts(self) -> dict[str, int]:
        """How many of its alerts each metric has."""
        return dict(sorted(Counter(alert.metric for alert in self.alerts).items()))

    def has_metric(self, metric: str) -> bool:
        """Whether one of its alerts (downstream ones too) is of this metric."""
        return any(alert.metric == metric for alert in self.every_alert)

    def refreshed(self, fresh: Mapping[str, Alert]) -> Summary:
        """The same summary with its alerts as read again (those found in `fresh`)."""
        return Summary(self.cause, tuple(fresh.get(a.id, a) for a in self.alerts),
                       tuple(fresh.get(a.id, a) for a in self.downstream))

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-able data (the alerts as Alert.to_json gives them)."""
        return {"id": self.id, "state": self.state, "kind": self.kind,
                "direction": self.cause.direction, "branch": self.cause.branch,
                "severity": self.severity, "build": self.build,
                "started_build": self.started_build, "counts": self.counts,
                "changes": self.changes, **self.owner.to_json(),
                "alerts": [alert.to_json() for alert in self.alerts],
                "downstream": [alert.to_json() for alert in self.downstream]}


def summarize(alerts: Iterable[Alert]) -> list[Summary]:
    """The summaries of some alerts, newest onset first. A summary is the alerts of its
    cause that stay there, with the alerts moved into it; an alert moved to a summary that
    has no alert of its own cause left stays with its own cause."""
    alerts = list(alerts)
    placed = {alert.id: placement_of(alert) for alert in alerts}
    members: dict[Cause, list[Alert]] = {}
    for alert in alerts:
        if placed[alert.id] is None:
            members.setdefault(cause_of(alert), []).append(alert)
    members, merged = _merge_noisy_onsets(members)
    targets = {cause.id: cause for cause in members} | merged
    downstream: dict[Cause, list[Alert]] = {}
    for alert in alerts:
        where = placed[alert.id]
        if where is None:
            continue
        target = targets.get(where.summary)
        if target is None:
            members.setdefault(cause_of(alert), []).append(alert)
        else:
            into = members if where.relation == "member" else downstream
            into.setdefault(target, []).append(alert)
    summaries = [Summary(cause, _ordered(group), _ordered(downstream.get(cause, ())))
                 for cause, group in members.items()]
    return sorted(summaries, key=lambda summary: (summary.onset_time, summary.id), reverse=True)


def _merge_noisy_onsets(groups: dict[Cause, list[Alert]]
                        ) -> tuple[dict[Cause, list[Alert]], dict[str, Cause]]:
    """The groups with those that one cause split by noise merged: where a shift began is an
    estimate, a build or two off in some series. Two excursion groups (same branch, kind,
    direction, CI) with a metric in common are one cause when one's onset lies between the
    other's onset and its first confirmation; the larger group (else the earlier) names it.
    Returns the groups, and each merged cause's id → the cause it joined."""
    # each group's onset, first confirmation and metrics, read once
    window = {cause: (min(a.started_time or a.time for a in alerts), min(a.time for a in alerts))
              for cause, alerts in groups.items()}
    metrics = {cause: {a.metric for a in alerts} for cause, alerts in groups.items()}
    order = sorted(groups, key=lambda cause: (-len(groups[cause]), window[cause][0], cause.id))
    kept: dict[Cause, list[Alert]] = {}
    alike: dict[tuple[str, ...], list[Cause]] = {}  # kept excursion groups by what they share
    merged: dict[str, Cause] = {}
    for cause in order:
        (onset, confirmed), into = window[cause], None
        if cause.kind in EXCURSION_KINDS:
            peers = alike.setdefault((cause.branch, cause.kind, cause.direction, cause.ci), [])
            into = next((other for other in peers if metrics[cause] & metrics[other]
                         and (onset <= window[other][0] <= confirmed
                              or window[other][0] <= onset <= window[other][1])), None)
            if into is None:
                peers.append(cause)
        if into is None:
            kept[cause] = list(groups[cause])
        else:
            kept[into] += groups[cause]
            merged[cause.id] = into
    return kept, merged


def _ordered(alerts: Iterable[Alert]) -> tuple[Alert, ...]:
    return tuple(sorted(alerts, key=lambda a: (a.metric, a.series, a.id)))


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


def summary_id_of(alert: Alert) -> str:
    """The id of the summary an alert is listed under: where it was moved, else its
    cause's."""
    placement = placement_of(alert)
    return placement.summary if placement else cause_of(alert).id


def reassignment_problem(alert: Alert, summary_id: str, relation: str,
                         summaries: Iterable[Summary]) -> tuple[str, str] | None:
    """Why the alert cannot be moved to this summary with this relation, as (the field at
    fault: summary or relation, why); None when it can. Back to its own cause as a member
    is always allowed: that undoes a move."""
    if relation not in RELATIONS:
        return "relation", f"must be one of {', '.join(RELATIONS)}"
    if summary_id == cause_of(alert).id:
        return ("relation", "an alert cannot be downstream of its own cause") \
            if relation == "downstream" else None
    if not any(summary.id == summary_id for summary in summaries):
        return "summary", f"no alert summary {summary_id!r}"
    return None


def split_for(alerts: Sequence[Alert], event: str) -> tuple[list[Alert], list[Alert]]:
    """The alerts whose state allows the event, and those it does not (left alone)."""
    allowed = TRANSITIONS[event]
    return ([alert for alert in alerts if alert.state in allowed],
            [alert for alert in alerts if alert.state not in allowed])

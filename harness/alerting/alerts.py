"""Alerts: identity, content and lifecycle (open → acknowledged → resolved / invalid)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

AlertKind = Literal["regression", "improvement", "spec", "missing", "changepoint"]
AlertState = Literal["open", "acknowledged", "resolved", "invalid"]
EventKind = Literal["opened", "acknowledged", "resolved", "invalid", "reopened", "notified",
                    "reassigned", "owned"]
Severity = Literal["critical", "warning", "info"]
EXCURSION_KINDS = ("regression", "improvement")
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "acknowledged": frozenset({"open"}),
    "resolved": frozenset({"open", "acknowledged"}),
    "invalid": frozenset({"open", "acknowledged"}),
    "reopened": frozenset({"invalid"}),  # by the harness, for an alert it had withdrawn
}
STATE_AFTER: Mapping[str, AlertState] = {"reopened": "open"}
# a triage action of the API → the event it writes
ACTIONS = {"acknowledge": "acknowledged", "resolve": "resolved", "invalidate": "invalid"}
HARNESS_ACTOR = "harness"  # who withdraws and reopens alerts as later data arrives
# events that change no state: moved to another summary, a summary's owner set
REASSIGNED, OWNED = "reassigned", "owned"


def series_key(metric: str, dimensions: Mapping[str, str], branch: str) -> str:
    """One string naming a series: metric, sorted dimensions, branch."""
    parts = [metric, *(f"{key}={value}" for key, value in sorted(dimensions.items())), branch]
    return "|".join(parts)


def alert_id(metric: str, dimensions: Mapping[str, str], branch: str, build_key: str,
             kind: str) -> str:
    """The identity of an alert: re-processing the same build never makes a second one."""
    text = f"{series_key(metric, dimensions, branch)}#{build_key}#{kind}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Alert:
    """Something a person should look at: what moved, where, by how much, since when."""

    id: str
    kind: AlertKind
    severity: Severity
    metric: str
    dimensions: Mapping[str, str]
    branch: str
    build_ci: str
    build_id: str
    time: str  # the build's time, RFC 3339
    reason: str
    unit: str = ""
    value: float | None = None
    baseline: float | None = None
    change: float | None = None
    relative_change: float | None = None
    spec: str | None = None
    threshold: float | None = None
    build_url: str | None = None
    commit: str | None = None
    pull_request: Mapping[str, Any] | None = None
    started_build: str | None = None  # where an excursion began, when before this build
    started_time: str | None = None  # that build's time: the baseline restarts there on ack
    changes: Sequence[Mapping[str, Any]] = ()  # package changes against the previous build
    state: AlertState = "open"
    history: Sequence[Mapping[str, Any]] = field(default_factory=tuple)

    @property
    def worth_a_message(self) -> bool:
        """Whether people hear of the alert (Slack): warnings and critical ones, not info."""
        return self.severity != "info"

    @property
    def series(self) -> str:
        """The alert's series as one string."""
        return series_key(self.metric, self.dimensions, self.branch)

    def to_json(self) -> dict[str, Any]:
        """The alert as JSON-able data."""
        data = asdict(self)
        data["changes"] = [dict(change) for change in self.changes]
        data["history"] = [dict(event) for event in self.history]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        """The inverse of to_json."""
        fields = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        fields["changes"] = tuple(fields.get("changes", ()))
        fields["history"] = tuple(fields.get("history", ()))
        return cls(**fields)

    @property
    def withdrawn(self) -> bool:
        """Whether the harness itself set this alert aside (later data changed its mind)."""
        step = last_step(self.history)
        return self.state == "invalid" and step is not None and \
            step.get("actor") == HARNESS_ACTOR

    def with_events(self, events: Sequence[Mapping[str, Any]]) -> Alert:
        """The alert with its current state taken from its event log (oldest first)."""
        return replace(self, state=state_after(events), history=tuple(events))


def state_after(events: Sequence[Mapping[str, Any]]) -> AlertState:
    """The state an alert's event log (oldest first) leaves it in."""
    return _replay(events)[0]


def last_step(events: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The last event of the log (oldest first) that changed the alert's state, if any:
    notifications, reassignments and refused transitions after it do not count."""
    return _replay(events)[1]


def _replay(events: Sequence[Mapping[str, Any]]
            ) -> tuple[AlertState, Mapping[str, Any] | None]:
    """The state an event log leaves an alert in, and the event that set it."""
    state: AlertState = "open"
    step: Mapping[str, Any] | None = None
    for event in events:
        name = event["event"]
        if name in TRANSITIONS and state in TRANSITIONS[name]:
            state, step = STATE_AFTER.get(name, name), event
    return state, step

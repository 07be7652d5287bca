"""The verification report as plain data: requirements traced to their metric cells, each
cell judged against the catalog's specs, a status per requirement, fractions, and what
changed since the previous report. No store, Flask or rendering here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.alerting.summaries import Summary as AlertSummary
from harness.catalog import LEVELS, Catalog, Metric, Requirement, Spec
from harness.detection.verdicts import applicable_specs, inside, margin_to, verdict
from harness.links import api_summary_url, summary_url

SCHEMA = "harness.report/1"

Status = Literal["stretch", "design", "minimum", "failed", "not_measured", "no_spec"]
STATUSES: tuple[Status, ...] = (
    "stretch", "design", "minimum", "failed", "not_measured", "no_spec")
STATUS_LABELS: Mapping[str, str] = {
    "stretch": "verified (stretch)", "design": "verified (design)",
    "minimum": "conditional (minimum)", "failed": "failed",
    "not_measured": "not measured", "no_spec": "no spec applies",
}
# How good a judged status is; not_measured and no_spec are not on this scale.
RANK: Mapping[str, int] = {"failed": 0, "minimum": 1, "design": 2, "stretch": 3}
PASSING = ("stretch", "design")  # pass/fail is judged at the design specification
# What the report says of its levels, in words (HTML, Markdown)
LEVEL_RULE = ("Pass/fail is judged at the design specification; meeting only the minimum is "
              "conditional. A metric with no minimum spec has no conditional pass: missing its "
              "design spec is a failure.")


@dataclass(frozen=True)
class BuildRef:
    """The build a cell's value came from."""

    ci: str
    id: str
    branch: str
    time: str  # RFC 3339

    def to_json(self) -> dict[str, str]:
        """The reference as the report shows it."""
        return {"ci": self.ci, "id": self.id, "branch": self.branch, "time": self.time}


@dataclass(frozen=True)
class Observation:
    """One stored value of a metric in one series of one build."""

    metric: str
    dimensions: Mapping[str, str]
    value: float | None
    unit: str
    build: BuildRef

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """What makes two observations the same cell."""
        return self.metric, tuple(sorted(self.dimensions.items()))


@dataclass(frozen=True)
class Step:
    """A spec threshold relative to a value: how far the value is from it, in the metric's
    unit and as a fraction of the threshold (positive: the value meets it)."""

    level: str
    spec: str
    operator: str
    threshold: float
    distance: float
    fraction: float

    @classmethod
    def of(cls, value: float, spec: Spec) -> Step:
        """Where value stands against spec."""
        return cls(spec.level, spec.name, spec.operator, spec.threshold,
                   inside(value, spec.operator, spec.threshold),
                   margin_to(value, spec.operator, spec.threshold))

    def to_json(self) -> dict[str, Any]:
        """The step as the report shows it."""
        return {"level": self.level, "spec": self.spec, "operator": self.operator,
                "threshold": self.threshold, "distance": self.distance,
                "fraction": self.fraction}


@dataclass(frozen=True)
class Cell:
    """One metric in one series (dimensions), judged: the value, the best level it meets,
    the headroom to that level's threshold and the distance to the next better level."""

    metric: str
    dimensions: Mapping[str, str]
    value: float | None
    unit: str
    verdict: str  # stretch, design, minimum, fail, none (no spec applies)
    build: BuildRef
    met: Step | None = None  # the spec of the level it meets (None: fail or none)
    next: Step | None = None  # the next better level to reach (None: stretch or none)
    previous: Cell | None = None  # the same cell in the previous report

    def to_json(self) -> dict[str, Any]:
        """The cell as the report shows it."""
        previous = self.previous
        return {
            "metric": self.metric, "dimensions": dict(self.dimensions), "value": self.value,
            "unit": self.unit, "verdict": self.verdict, "build": self.build.to_json(),
            "met": self.met.to_json() if self.met else None,
            "next": self.next.to_json() if self.next else None,
            "previous": None if previous is None else {
                "value": previous.value, "verdict": previous.verdict,
                "build": previous.build.to_json()},
        }


@dataclass(frozen=True)
class OpenCause:
    """An open alert summary that touches a requirement's metrics: what a reader of the
    report should know is moving now, whatever the cells' verdicts say."""

    id: str
    kind: str
    direction: str
    severity: str
    branch: str
    build: Mapping[str, Any]  # the onset build: ci, id, time
    counts: Mapping[str, int]  # open alerts of each of the requirement's metrics

    @classmethod
    def of(cls, summary: AlertSummary, metrics: Iterable[str]) -> OpenCause:
        """The part of a summary that concerns these metrics."""
        wanted = set(metrics)
        counts = dict(sorted(Counter(alert.metric for alert in summary.alerts
                                     if alert.metric in wanted and alert.state == "open"
                                     ).items()))
        build = summary.build
        return cls(summary.id, summary.kind, summary.cause.direction, summary.severity,
                   summary.cause.branch, {"ci": build["ci"], "id": build["id"],
                                          "time": build["time"]}, counts)

    def to_json(self) -> dict[str, Any]:
        """The cause as the report shows it."""
        return {"id": self.id, "kind": self.kind, "direction": self.direction,
                "severity": self.severity, "branch": self.branch, "build": dict(self.build),
                "counts": dict(self.counts), "links": {"html": summary_url(self.id),
                                                       "api": api_summary_url(self.id)}}


@dataclass(frozen=True)
class RequirementReport:
    """A requirement, the metrics that verify it, their cells and the resulting status, and
    the open alert summaries of its metrics."""

    requirement: Requirement
    metrics: tuple[str, ...]
    cells: tuple[Cell, ...]
    status: Status
    previous_status: Status | None = None  # None: no previous report
    open_causes: tuple[OpenCause, ...] = ()

    @property
    def worst(self) -> Cell | None:
        """The judged cell that sets the status: of the worst level, the one closest to
        dropping below it (or, failing, furthest from the minimum)."""
        judged = [cell for cell in self.cells if cell.verdict in _CELL_STATUS]
        return min(judged, key=_severity) if judged else None

    def to_json(self) -> dict[str, Any]:
        """The requirement's part of the report."""
        worst = self.worst
        return {
            **self.requirement.to_json(), "status": self.status,
            "label": STATUS_LABELS[self.status], "previous_status": self.previous_status,
            "metrics": list(self.metrics),
            "worst_cell": None if worst is None else self.cells.index(worst),
            "cells": [cell.to_json() for cell in self.cells],
            "open_alert_summaries": [cause.to_json() for cause in self.open_causes],
        }


@dataclass(frozen=True)
class Summary:
    """How many requirements have each status, and the fraction verified at each level."""

    total: int
    counts: Mapping[str, int]

    @property
    def at_least(self) -> dict[str, int]:
        """Requirements meeting each level or a better one (stretch ⊂ design ⊂ minimum)."""
        totals, running = {}, 0
        for level in LEVELS:
            running += self.counts[level]
            totals[level] = running
        return totals

    def fraction(self, count: int) -> float:
        """count as a fraction of all requirements (0 when there are none)."""
        return count / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        """The summary as the report shows it."""
        return {
            "requirements": self.total, "counts": dict(self.counts),
            "verified_at_least": {
                level: {"count": count, "fraction": self.fraction(count)}
                for level, count in self.at_least.items()},
            "fractions": {status: self.fraction(count) for status, count in self.counts.items()},
        }


@dataclass(frozen=True)
class Change:
    """A requirement whose status differs from the previous report."""

    requirement: str
    before: Status
    after: Status

    @property
    def kind(self) -> str:
        """newly_failing, newly_passing, better, worse or measurement (measured ↔ not)."""
        if self.after == "failed":
            return "newly_failing"
        if self.after in PASSING and self.before not in PASSING:
            return "newly_passing"
        if self.before in RANK and self.after in RANK:
            return "better" if RANK[self.after] > RANK[self.before] else "worse"
        return "measurement"

    def to_json(self) -> dict[str, str]:
        """The change as the report shows it."""
        return {"requirement": self.requirement, "before": self.before, "after": self.after,
                "kind": self.kind}


@dataclass(frozen=True)
class Report:
    """The verification report of one build or of a set of builds (a release)."""

    title: str
    scope: Mapping[str, Any]  # kind (build / release) and what selected the builds
    builds: tuple[Mapping[str, Any], ...]  # the builds the report reads, as the API shows them
    requirements: tuple[RequirementReport, ...]
    summary: Summary
    previous_builds: tuple[Mapping[str, Any], ...] | None  # None: nothing earlier to compare

    @property
    def changes(self) -> tuple[Change, ...]:
        """Requirements whose status changed since the previous report."""
        return tuple(
            Change(item.requirement.id, item.previous_status, item.status)
            for item in self.requirements
            if item.previous_status is not None and item.previous_status != item.status
        )

    def changes_of(self, kind: str) -> list[str]:
        """The ids of the requirements with one kind of change."""
        return [change.requirement for change in self.changes if change.kind == kind]

    def to_json(self) -> dict[str, Any]:
        """The report as machine-readable JSON (schema harness.report/1)."""
        return {
            "schema": SCHEMA, "title": self.title, "scope": dict(self.scope),
            "builds": list(self.builds), "summary": self.summary.to_json(),
            "requirements": [item.to_json() for item in self.requirements],
            "changes": {
                "previous_builds": (None if self.previous_builds is None
                                    else list(self.previous_builds)),
                "newly_failing": self.changes_of("newly_failing"),
                "newly_passing": self.changes_of("newly_passing"),
                "requirements": [change.to_json() for change in self.changes],
            },
        }


_CELL_STATUS: Mapping[str, Status] = {
    "stretch": "stretch", "design": "design", "minimum": "minimum", "fail": "failed"}


def judge_cell(metric: Metric, observation: Observation, previous: Cell | None = None) -> Cell:
    """One observation against its metric's specs as the catalog has them now."""
    value = observation.value
    level, spec = verdict(value, metric.specs, observation.dimensions)
    met = next_step = None
    if value is not None and level in LEVELS and spec is not None:
        met = Step.of(value, spec)
    if value is not None and level != "none":
        levels = applicable_specs(metric.specs, observation.dimensions)
        better = LEVELS[:LEVELS.index(level)] if level in LEVELS else LEVELS
        reachable = [levels[name] for name in reversed(better) if name in levels]
        next_step = Step.of(value, reachable[0]) if reachable else None
    return Cell(observation.metric, dict(observation.dimensions), value, observation.unit,
                level, observation.build, met, next_step, previous)


def requirement_status(cells: Sequence[Cell]) -> Status:
    """The worst judged cell decides; cells without a value or spec do not verify."""
    measured = [cell for cell in cells if cell.value is not None]
    if not measured:
        return "not_measured"
    judged = [_CELL_STATUS[cell.verdict] for cell in measured if cell.verdict in _CELL_STATUS]
    if not judged:
        return "no_spec"
    return min(judged, key=lambda status: RANK[status])


def latest_cells(observations: Iterable[Observation]) -> dict[Any, Observation]:
    """One observation per cell: the latest build's where several builds measured it."""
    chosen: dict[Any, Observation] = {}
    for observation in sorted(observations, key=lambda o: o.build.time):
        chosen[observation.key] = observation
    return chosen


def build_report(
    catalog: Catalog,
    observations: Iterable[Observation],
    *,
    title: str,
    scope: Mapping[str, Any],
    builds: Sequence[Mapping[str, Any]],
    previous: Iterable[Observation] | None = None,
    previous_builds: Sequence[Mapping[str, Any]] = (),
    open_summaries: Sequence[AlertSummary] = (),
) -> Report:
    """The report of these observations, compared with the previous ones when given; each
    requirement with the open alert summaries that touch its metrics."""
    current = latest_cells(observations)
    before = latest_cells(previous) if previous is not None else {}
    requirements = []
    for requirement, metrics in catalog.traced_requirements().values():
        names = {metric.name: metric for metric in metrics}
        keys = sorted(key for key in current if key[0] in names)
        old = {key: judge_cell(names[key[0]], before[key])
               for key in sorted(before) if key[0] in names}
        old_cells = tuple(old.values())
        cells = tuple(judge_cell(names[key[0]], current[key], old.get(key)) for key in keys)
        requirements.append(RequirementReport(
            requirement, tuple(names), cells, requirement_status(cells),
            requirement_status(old_cells) if previous is not None else None,
            tuple(OpenCause.of(summary, names) for summary in open_summaries
                  if summary.state == "open" and any(map(summary.has_metric, names)))))
    counts: dict[str, int] = {
        status: sum(1 for item in requirements if item.status == status)
        for status in STATUSES}
    return Report(title, scope, tuple(builds), tuple(requirements),
                  Summary(len(requirements), counts),
                  tuple(previous_builds) if previous is not None else None)


def _severity(cell: Cell) -> tuple[int, float]:
    step = cell.met or cell.next
    return RANK[_CELL_STATUS[cell.verdict]], step.fraction if step else 0.0

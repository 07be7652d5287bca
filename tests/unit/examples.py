"""Literal data shared by the unit tests: a small catalog, alerts and builds."""

from __future__ import annotations

from typing import Any

from harness.alerting.alerts import Alert, alert_id
from harness.catalog import Catalog, Dimension, Metric, Requirement, Spec
from harness.detection.rules import BuildRef


def lower_specs(metric: str, minimum: float, design: float, stretch: float,
                **query: str) -> tuple[Spec, ...]:
    """Lower-is-better specs at the three levels, optionally for some dimension values."""
    where = {key: frozenset([value]) for key, value in query.items()}
    return tuple(Spec(f"{metric}.{level}", metric, level, "<=", threshold, where)
                 for level, threshold in (("minimum", minimum), ("design", design),
                                          ("stretch", stretch)))


PA1 = Metric("validate_drp.PA1", "mmag", "lower", dimensions=("dataset", "filter"),
             requirements=("LPM-17-PA1",), specs=lower_specs("validate_drp.PA1", 8.0, 5.0, 3.0))
RUNTIME = Metric("pipe_tasks.runtime", "s", "lower", dimensions=("dataset",))
COMPLETENESS = Metric(
    "validate_drp.completeness", "%", "higher", dimensions=("dataset",),
    specs=tuple(Spec(f"validate_drp.completeness.{level}", "validate_drp.completeness", level,
                     ">=", threshold)
                for level, threshold in (("minimum", 50.0), ("design", 80.0),
                                         ("stretch", 95.0))))

CATALOG = Catalog(
    metrics={metric.name: metric for metric in (PA1, RUNTIME, COMPLETENESS)},
    dimensions={"dataset": Dimension("dataset", aliases=("ci_dataset",)),
                "filter": Dimension("filter", aliases=("filter_name", "band"))},
    requirements={"LPM-17-PA1": Requirement("LPM-17-PA1", "Photometric repeatability")},
)

DIMENSIONS = {"dataset": "hsc_rc2", "filter": "r"}
NOTICED = BuildRef("jenkins", "105", "2026-11-20T03:00:00Z", "https://ci.example.org/105",
                   "3f2c9e1")
ONSET = BuildRef("jenkins", "102", "2026-11-17T03:00:00Z")


def alert(kind: str = "regression", *, series: tuple[str, dict[str, str], str] | None = None,
          build: str = "105", **fields: Any) -> Alert:
    """An alert of PA1 on main (or of another series), with some fields changed."""
    metric, dimensions, branch = series or (PA1.name, DIMENSIONS, "main")
    values: dict[str, Any] = {
        "id": alert_id(metric, dimensions, branch, f"jenkins/{build}", kind), "kind": kind,
        "severity": "warning", "metric": metric, "dimensions": dimensions, "branch": branch,
        "build_ci": "jenkins", "build_id": build, "time": "2026-11-20T03:00:00+00:00",
        "reason": "something moved", "unit": "mmag",
    }
    values.update(fields)
    return Alert(**values)

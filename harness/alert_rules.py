"""Which judged measurements become alerts: excursions and spec breaches, per build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.alerts import Alert, alert_id
from harness.catalog import Metric
from harness.model import Result, Submission
from harness.store import point_time

SPEC_MEMORY = 20  # builds: a series that already sat this low recently does not alert again
VERDICT_RANK = {"stretch": 0, "design": 1, "none": 1, "minimum": 2, "fail": 3}


def alerts_for(
    submission: Submission,
    result: Result,
    metric: Metric,
    history: Sequence[Mapping[str, Any]],
    default_branch: str,
    open_spec_rank: int = 0,
) -> list[Alert]:
    """The alerts one judged measurement raises. PR builds are compared, never alerted."""
    build = submission.build
    if build.pull_request is not None or build.branch != default_branch:
        return []
    alerts = []
    excursion = result.excursion or {}
    decision = excursion.get("decision")
    if decision in ("regression", "improvement"):
        started = int(excursion.get("started") or 0)
        first = history[-started] if 0 < started <= len(history) else None
        alerts.append(_alert(
            submission, result, metric, kind=decision,
            severity="warning" if decision == "regression" else "info",
            reason=_excursion_reason(result, metric),
            started_build=first["build_id"] if first else build.id,
            started_time=point_time(first["time"]) if first else _time(submission),
        ))
    rank = VERDICT_RANK.get(result.verdict, 0)
    recent = max((VERDICT_RANK.get(str(row.get("verdict")), 0)
                  for row in history[-SPEC_MEMORY:]), default=0)
    # only when worse than every recent build and than a spec alert still open: no flapping
    if rank >= 2 and rank > max(recent, open_spec_rank):
        alerts.append(_alert(
            submission, result, metric, kind="spec",
            severity="critical" if result.verdict == "fail" else "warning",
            reason=_spec_reason(result, metric),
        ))
    return alerts


def open_spec_ranks(alerts: Sequence[Alert]) -> dict[str, int]:
    """Series → the worst verdict rank of its spec alerts still open or acknowledged."""
    ranks: dict[str, int] = {}
    for alert in alerts:
        if alert.kind == "spec" and alert.state in ("open", "acknowledged"):
            rank = 3 if alert.severity == "critical" else 2
            ranks[alert.series] = max(rank, ranks.get(alert.series, 0))
    return ranks


def _time(submission: Submission) -> str:
    return submission.time.isoformat().replace("+00:00", "Z")


def _alert(submission: Submission, result: Result, metric: Metric, **fields: Any) -> Alert:
    build = submission.build
    measurement = result.measurement
    excursion = result.excursion or {}
    spec = next((s for s in metric.specs if s.name == result.spec), None)
    pull_request = None
    if build.pull_request is not None:
        pull_request = {"number": build.pull_request.number, "url": build.pull_request.url,
                        "base": build.pull_request.base}
    return Alert(
        id=alert_id(measurement.metric, measurement.dimensions, build.branch, build.key,
                    fields["kind"]),
        metric=measurement.metric, dimensions=dict(measurement.dimensions), branch=build.branch,
        build_ci=build.ci, build_id=build.id, time=_time(submission), unit=measurement.unit,
        value=measurement.value, baseline=excursion.get("baseline"),
        change=excursion.get("change"), relative_change=excursion.get("relative_change"),
        spec=result.spec, threshold=spec.threshold if spec else None, build_url=build.url,
        commit=build.commit, pull_request=pull_request, **fields,
    )


def _excursion_reason(result: Result, metric: Metric) -> str:
    excursion = result.excursion or {}
    change = excursion.get("change") or 0.0
    relative = excursion.get("relative_change")
    direction = "worse" if excursion.get("decision") == "regression" else "better"
    share = f" ({relative:+.1%})" if isinstance(relative, float) else ""
    return (f"{metric.name} moved {change:+.4g} {metric.unit}{share} to "
            f"{result.measurement.value:.4g} {metric.unit}, {direction} than its baseline "
            f"{excursion.get('baseline', float('nan')):.4g} {metric.unit}")


def _spec_reason(result: Result, metric: Metric) -> str:
    spec = next((s for s in metric.specs if s.name == result.spec), None)
    value = result.measurement.value
    if spec is None or value is None:
        return f"{metric.name} is at {result.verdict}"
    if result.verdict == "fail":
        return (f"{metric.name} = {value:.4g} {metric.unit} fails the minimum spec "
                f"({spec.operator} {spec.threshold:.4g} {metric.unit}, {spec.name})")
    return (f"{metric.name} = {value:.4g} {metric.unit} meets only the minimum spec, "
            f"not design ({spec.name})")

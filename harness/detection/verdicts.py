"""Verdicts: the best spec level a measurement meets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from harness.catalog import LEVELS, Catalog, Spec
from harness.model import Measurement, Result, Verdict


def applicable_specs(specs: Iterable[Spec], dimensions: Mapping[str, str]) -> dict[str, Spec]:
    """Level → the most specific spec of that level whose conditions match."""
    chosen: dict[str, Spec] = {}
    for spec in specs:
        if not spec.applies_to(dimensions):
            continue
        current = chosen.get(spec.level)
        if current is None or len(spec.query) > len(current.query):
            chosen[spec.level] = spec
    return chosen


def verdict(
    value: float | None, specs: Iterable[Spec], dimensions: Mapping[str, str]
) -> tuple[Verdict, Spec | None]:
    """The best level that value meets, and the spec that says so."""
    levels = applicable_specs(specs, dimensions)
    if value is None or not levels:
        return "none", None
    for level in LEVELS:
        spec = levels.get(level)
        if spec is not None and spec.is_met_by(value):
            return level, spec  # type: ignore[return-value]
    worst = next(levels[level] for level in reversed(LEVELS) if level in levels)
    return "fail", worst


def inside(value: float, operator: str, threshold: float) -> float:
    """How far value is inside a threshold, in its unit (negative: outside it)."""
    return threshold - value if operator in ("<", "<=") else value - threshold


def margin_to(value: float, operator: str, threshold: float) -> float:
    """inside() as a fraction of the threshold, positive when value meets it."""
    return inside(value, operator, threshold) / (abs(threshold) or 1.0)


def judge(measurement: Measurement, catalog: Catalog) -> Result:
    """The result of one measurement against its metric's specs."""
    metric = catalog.get(measurement.metric)
    specs = metric.specs if metric else ()
    level, spec = verdict(measurement.value, specs, measurement.dimensions)
    return Result(measurement, level, spec.name if spec else None)

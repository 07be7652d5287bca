"""Checks shared by the input formats: a measurement's metric, unit and dimensions."""

from __future__ import annotations

import math
from collections.abc import Mapping

from harness.catalog import Catalog, Metric
from harness.errors import Problem
from harness.units import UnitProblem, converter


def known_metric(name: str, path: str, catalog: Catalog, problems: list[Problem],
                 hint: str = "") -> Metric | None:
    """The catalog's metric of that name, or None with a problem at `path.metric`."""
    metric = catalog.get(name)
    if metric is None:
        problems.append(Problem(f"{path}.metric",
                                f"unknown metric {name!r}: not in the catalog{hint}"))
    return metric


def in_metric_unit(value: float, unit: str | None, metric: Metric, path: str,
                   problems: list[Problem]) -> float | None:
    """The value converted to the metric's unit; None with a problem if it cannot be."""
    if unit is None:
        return value
    try:
        converted = converter(unit, metric.unit)(value)
    except UnitProblem as error:
        problems.append(Problem(f"{path}.unit", f"{error} (the unit of {metric.name})"))
        return None
    if not math.isfinite(converted):
        problems.append(Problem(f"{path}.value", "is not finite in the metric's unit"))
        return None
    return converted


def series_dimensions(metric: Metric, *layers: Mapping[str, str]) -> dict[str, str]:
    """The metric's declared dimensions found in the layers; later layers win."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer)
    return {key: value for key, value in merged.items() if key in metric.dimensions}

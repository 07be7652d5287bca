"""Checks shared by the input formats: a measurement's metric, unit and dimensions (each
declared, not optional one given; the others dropped, with a notice)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from harness.catalog import Catalog, Metric
from harness.errors import Problem
from harness.units import UnitProblem, converter

MAX_IGNORED = 100  # notices of dropped keys in one answer; then one saying how many more


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


def missing_dimensions(metric: Metric, given: Mapping[str, str], problems: list[Problem],
                       place: Callable[[str], str], how: Callable[[str], str]) -> None:
    """A problem at `place(key)` for each dimension the metric requires (declared, not
    optional) that `given` lacks; `how(key)` says where to give it."""
    for key in metric.required_dimensions:
        if key not in given:
            problems.append(Problem(place(key), f"{metric.name} declares dimension {key!r}; "
                                                f"give it ({how(key)})"))


def dropped_dimensions(metric: Metric, given: Mapping[str, str], ignored: list[Problem],
                       place: Callable[[str], str]) -> None:
    """A notice at `place(key)` for each given key the metric does not declare: it is not
    stored."""
    for key in given:
        if key not in metric.dimensions:
            ignored.append(Problem(place(key), f"{metric.name} does not declare dimension "
                                               f"{key!r}; dropped"))


def capped(ignored: list[Problem]) -> tuple[Problem, ...]:
    """The notices once each, at most MAX_IGNORED, then one counting the rest."""
    ignored = list(dict.fromkeys(ignored))
    if len(ignored) <= MAX_IGNORED:
        return tuple(ignored)
    rest = len(ignored) - MAX_IGNORED
    return (*ignored[:MAX_IGNORED], Problem("", f"and {rest} more dropped keys not listed"))

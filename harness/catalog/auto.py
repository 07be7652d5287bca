"""Which new metrics a bare measurement may register on first use (`harness post --metric
mypkg.wall_time=12.5s`): names matching the operator's HARNESS_AUTO_METRICS globs, outside
the packages the catalog itself defines (so that a typo of a KPM's name is refused, not
tracked as a new metric)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from harness.catalog.model import METRIC_NAME, Catalog, Metric

HINT = (" and not defined under `metrics`; a new metric is registered on first use when its "
        "name matches HARNESS_AUTO_METRICS and its package is not one the catalog defines")


def catalog_packages(catalog: Catalog) -> frozenset[str]:
    """The first segments of the catalog's own metric names (not of inline ones)."""
    return frozenset(metric.name.split(".", 1)[0] for metric in catalog.metrics.values()
                     if metric.source == "catalog")


def allowed(name: str, catalog: Catalog, globs: Sequence[str]) -> bool:
    """Whether a measurement may register the metric `name` on first use."""
    return (METRIC_NAME.match(name) is not None
            and name.split(".", 1)[0] not in catalog_packages(catalog)
            and any(fnmatchcase(name, pattern) for pattern in globs))


def auto_metric(name: str, unit: str, better: str | None,
                dimensions: Iterable[str]) -> Metric:
    """A metric registered by its first measurement: unit from the value, lower is better
    unless the measurement says otherwise, the dimension keys it was posted with."""
    return Metric(name=name, unit=unit, better="higher" if better == "higher" else "lower",
                  description="registered on first use", dimensions=tuple(sorted(dimensions)),
                  source="inline")


def declared(keys: Iterable[str], catalog: Catalog) -> list[str]:
    """The keys that are dimensions the catalog declares."""
    return [key for key in keys if key in catalog.dimensions]



"""Shaping what the store and the alert log give into what the figures draw: the specs of
a series as lines, an alert as a marker, labels and times. Shared by the dashboard pages."""

from __future__ import annotations

from collections.abc import Mapping

from dashboards.figures import Marker, SpecLine
from harness.alerting.alerts import Alert
from harness.catalog import Catalog, Metric
from harness.errors import NotFound
from harness.links import alert_url
from harness.times import epoch_ms, parse_utc


def specs_for(metric: Metric, dimensions: Mapping[str, str]) -> list[SpecLine]:
    """The specs that judge this series, as lines to draw."""
    return [SpecLine(s.level, s.operator, s.threshold) for s in metric.specs
            if s.applies_to(dimensions)]


def marker(found: Alert) -> Marker:
    """An alert as the marker a history draws, linking to its page."""
    return Marker(ms(found.time), found.value, found.kind, found.reason, alert_url(found.id))


def metric_or_404(catalog: Catalog, name: str) -> Metric:
    """The catalog's metric of this name; NotFound if there is none."""
    metric = catalog.get(name)
    if metric is None:
        raise NotFound(f"unknown metric {name!r}")
    return metric


def series_label(dimensions: Mapping[str, str]) -> str:
    """A series' dimensions as `k=v · k=v`."""
    return " · ".join(f"{k}={v}" for k, v in sorted(dimensions.items()))


def ms(moment: str) -> float:
    """An RFC 3339 time as milliseconds since the epoch (a Bokeh datetime axis's unit)."""
    return epoch_ms(parse_utc(moment))

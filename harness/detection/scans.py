"""Scheduled checks over whole histories: missing data (deadman) and change points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from harness.alerting.alerts import Alert, alert_id, series_key
from harness.alerting.log import AlertLog
from harness.catalog import Catalog, Metric
from harness.detection.changepoints import change_points
from harness.storage.influx import RESULTS, InfluxStore, dimensions_of
from harness.times import duration_text, parse_utc, point_time

NEAR_EXCURSION_BUILDS = 3


def missing_periods(times: Sequence[datetime], cadence: timedelta, now: datetime
                    ) -> list[tuple[datetime, datetime | None]]:
    """Gaps longer than the cadence: (last value before, next value or None if still open)."""
    ordered = sorted(set(times))
    gaps: list[tuple[datetime, datetime | None]] = []
    for before, after in pairwise(ordered):
        if after - before > cadence:
            gaps.append((before, after))
    if ordered and now - ordered[-1] > cadence:
        gaps.append((ordered[-1], None))
    return gaps


def find_missing(store: InfluxStore, catalog: Catalog, now: datetime) -> list[Alert]:
    """A `missing` alert per gap of each metric that is expected on a cadence."""
    alerts = []
    branch = catalog.default_branch
    for metric in catalog.metrics.values():
        if metric.cadence_s is None:
            continue
        rows = _rows(store, metric.name, branch, "build_id, ci")
        builds = {row["time"]: row for row in rows}
        times = [datetime.fromtimestamp(ns / 1e9, UTC) for ns in builds]
        cadence = timedelta(seconds=metric.cadence_s)
        for before, after in missing_periods(times, cadence, now):
            last = builds[min(builds, key=lambda ns: abs(ns / 1e9 - before.timestamp()))]
            until = f"until {after:%Y-%m-%d %H:%M} UTC" if after else "and still nothing"
            alerts.append(Alert(
                id=alert_id(metric.name, {}, branch, f"missing@{before.isoformat()}", "missing"),
                kind="missing", severity="warning", metric=metric.name, dimensions={},
                branch=branch, build_ci=last["ci"], build_id=last["build_id"],
                time=point_time(last["time"]), unit=metric.unit,
                reason=(f"no value of {metric.name} on {branch} for more than "
                        f"{duration_text(cadence)}: last at {before:%Y-%m-%d %H:%M} UTC, "
                        f"{until}"),
            ))
    return alerts


def find_change_points(store: InfluxStore, catalog: Catalog, log: AlertLog) -> list[Alert]:
    """A `changepoint` alert per change found in a default-branch series, placed on the
    build where it started, unless an excursion alert already covers it."""
    branch = catalog.default_branch
    known = log.find()
    alerts = []
    for metric in catalog.metrics.values():
        if not metric.detection.enabled:
            continue
        for tags, rows in _series(store, metric.name, branch).items():
            alerts += series_change_alerts(metric, dict(tags), branch, rows, known)
    return alerts


def series_change_alerts(metric: Metric, dimensions: Mapping[str, str], branch: str,
                         rows: Sequence[Mapping[str, Any]], known: Sequence[Alert]
                         ) -> list[Alert]:
    """The change-point alerts of one series' points (oldest first: value, build_id, ci,
    time), given the alerts known: none for a change within a few builds of an excursion
    alert's, nor for one the same way as an excursion still open that began before it
    (a drift cut into steps is the story that excursion tells)."""
    key = series_key(metric.name, dimensions, branch)
    covered = _excursion_builds(known, key)
    ongoing = {alert.kind: alert.started_time or alert.time for alert in known
               if alert.series == key and alert.kind in ("regression", "improvement")
               and alert.state in ("open", "acknowledged")}
    alerts = []
    values = [row["value"] for row in rows]
    for change in change_points(values, metric.better, metric.detection.params()):
        start = rows[change.index]
        near = rows[max(0, change.index - NEAR_EXCURSION_BUILDS):
                    change.index + NEAR_EXCURSION_BUILDS + 1]
        began = ongoing.get(change.direction)
        if any(row["build_id"] in covered for row in near) or (
                began is not None and parse_utc(began) <= parse_utc(point_time(start["time"]))):
            continue
        alerts.append(_change_alert(metric, dimensions, branch, start, change))
    return alerts


def _change_alert(metric: Metric, dimensions: Mapping[str, str], branch: str,
                  start: Mapping[str, Any], change: Any) -> Alert:
    build_key = f"{start['ci']}/{start['build_id']}"
    relative = change.relative_change
    share = f" ({relative:+.1%})" if isinstance(relative, float) else ""
    suffix = f" {metric.unit}" if metric.unit else ""
    return Alert(
        id=alert_id(metric.name, dimensions, branch, build_key, "changepoint"),
        kind="changepoint",
        severity="warning" if change.direction == "regression" else "info",
        metric=metric.name, dimensions=dict(dimensions), branch=branch,
        build_ci=start["ci"], build_id=start["build_id"], time=point_time(start["time"]),
        unit=metric.unit, value=change.after, baseline=change.before, change=change.change,
        relative_change=relative, started_build=start["build_id"],
        started_time=point_time(start["time"]),
        reason=(f"{metric.name} shifted from {change.before:.4g} to {change.after:.4g}"
                f"{suffix}{share} starting with build {start['build_id']} "
                f"({change.direction})"),
    )


def _excursion_builds(alerts: Sequence[Alert], key: str) -> set[str]:
    return {
        build for alert in alerts if alert.series == key and not alert.withdrawn
        and alert.kind in ("regression", "improvement")
        for build in (alert.build_id, alert.started_build) if build
    }


def _rows(store: InfluxStore, metric: str, branch: str, columns: str) -> list[Mapping[str, Any]]:
    found = store.query(
        f"SELECT {columns} FROM {RESULTS} WHERE metric = $metric AND branch = $branch",
        {"metric": metric, "branch": branch})
    return [row for series in found for row in series.rows]


def _series(store: InfluxStore, metric: str, branch: str
            ) -> dict[tuple[tuple[str, str], ...], list[Mapping[str, Any]]]:
    found = store.query(
        f"SELECT value, build_id, ci FROM {RESULTS} WHERE metric = $metric "
        "AND branch = $branch GROUP BY *", {"metric": metric, "branch": branch})
    return {
        tuple(sorted(dimensions_of(series.tags).items())):
            [row for row in series.rows if row.get("value") is not None]
        for series in found
    }

"""The worker's job for one submission: keep its blobs, judge every measurement against the
specs and its series' past, store points and new alerts in one write."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from harness.alert_log import AlertLog, acknowledged_since, opened_point
from harness.alert_rules import alerts_for, open_spec_ranks
from harness.alerts import Alert, series_key
from harness.blobs import BlobStore
from harness.catalog import Catalog
from harness.changes import package_changes
from harness.model import Result, Submission
from harness.registry import Registry
from harness.regress import DEFAULT_PARAMS, judge_point
from harness.store import InfluxStore, Row, build_point, nanoseconds, result_point
from harness.tails import Rows, SeriesTails
from harness.verify import judge

KEEP = DEFAULT_PARAMS.history_needed + 24  # cached points per series: room for late builds
NO_ROWS = Rows([], [], [], [], [])


@dataclass(frozen=True)
class Outcome:
    """What judging one submission produced."""

    results: list[Result]
    alerts: list[Alert]


def judge_and_store(
    submission: Submission, catalog: Catalog, store: InfluxStore, registry: Registry,
    blobs: BlobStore,
) -> Outcome:
    """Judge a submission (specs, excursions), write points and alerts in one batch."""
    for blob in submission.blobs.values():
        blobs.put(blob)
    log = AlertLog(store)
    baseline_branch = submission.build.baseline_branch
    build = submission.build
    # Alerts this build opened before (a re-post, or a retry after a crash) are left out,
    # so that judging it again gives the same alerts, with the same ids, as the first time.
    known = [alert for alert in log.affecting(
                 {series_key(m.metric, m.dimensions, baseline_branch)
                  for m in submission.measurements},
                 [m.metric for m in submission.measurements])
             if (alert.build_ci, alert.build_id) != (build.ci, build.id)]
    restarts = acknowledged_since(known)
    spec_ranks = open_spec_ranks(known)
    tails = SeriesTails(registry.redis, KEEP)
    history = _history(submission, store, tails)
    results, alerts = [], []
    for measurement in submission.measurements:
        result = judge(measurement, catalog)
        metric = catalog.get(measurement.metric)
        key = series_key(measurement.metric, measurement.dimensions, baseline_branch)
        restart = restarts.get(key)
        # `started` counts builds with a value
        rows = history.get(key, NO_ROWS).valued_since(
            None if restart is None else nanoseconds(restart))
        if metric is not None and measurement.value is not None:
            values = cast(list[float], rows.values)  # valued_since: no None left
            excursion = judge_point(values, measurement.value, metric.better)
            result = replace(result, excursion=excursion.to_json())
            alerts.extend(alerts_for(submission, result, metric, rows, catalog.default_branch,
                                     spec_ranks.get(key, 0)))
        results.append(result)
    alerts = _with_changes(alerts, submission, store)
    time = nanoseconds(submission.time)
    points = [build_point(submission, time)]
    points += [result_point(submission, result, time) for result in results]
    points += [opened_point(alert) for alert in alerts]
    store.write(points)
    tails.add({
        series_key(result.measurement.metric, result.measurement.dimensions,
                   submission.build.branch): _row(submission, result, time)
        for result in results})
    registry.mark_done(submission, results, alerts)
    return Outcome(results, alerts)


def _history(submission: Submission, store: InfluxStore, tails: SeriesTails
             ) -> dict[str, Rows]:
    """Series key → the points the excursion test reads, oldest first: from the cached
    tails, else (and then cached) from InfluxDB, in one round trip each."""
    branch = submission.build.baseline_branch
    series = {series_key(m.metric, m.dimensions, branch): (m.metric, m.dimensions)
              for m in submission.measurements}
    limit = DEFAULT_PARAMS.history_needed
    history, missing = tails.read(series, nanoseconds(submission.time), limit)
    if missing:
        found, newest = store.series_history({key: series[key] for key in missing}, branch,
                                             submission.time, limit, newest=KEEP)
        history.update((key, Rows.of(rows)) for key, rows in found.items())
        tails.fill(newest)
    return history


def _row(submission: Submission, result: Result, time: int) -> Row:
    """A stored result as a history row."""
    return {"time": time, "value": result.measurement.value, "verdict": result.verdict,
            "ci": submission.build.ci, "build_id": submission.build.id}


def _with_changes(alerts: list[Alert], submission: Submission, store: InfluxStore
                  ) -> list[Alert]:
    """Alerts with the package changes of the build where each one started."""
    if not alerts:
        return alerts
    cache: dict[str, list[dict[str, Any]]] = {}
    done = []
    for alert in alerts:
        started = alert.started_build or alert.build_id
        if started not in cache:
            cache[started] = _changes_at(started, alert.build_ci, submission, store)
        done.append(replace(alert, changes=tuple(cache[started])))
    return done


def _changes_at(build_id: str, ci: str, submission: Submission, store: InfluxStore
                ) -> list[dict[str, Any]]:
    build = submission.build
    if build_id == build.id:
        record: Mapping[str, Any] = {"branch": build.branch, "time": nanoseconds(submission.time)}
        packages = [package.__dict__ for package in build.packages]
    else:
        found = store.build_record(ci, build_id)
        if found is None:
            return []
        record = found
        packages = json.loads(found["packages"])
    previous = store.previous_build(record)
    if previous is None:
        return []
    return package_changes(json.loads(previous["packages"]), packages)

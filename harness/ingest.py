"""The worker's job for one submission: keep its blobs, judge every measurement against the
specs and its series' past, store points and alerts in one write.

A pull request's build is compared with its base branch and never alerts. Any other build
is judged with its series locked (harness.storage.locks), so each judgement sees every point
stored before it; a build older than points already stored is judged, and the builds after
it judged again, from the series as it now is (`judge_series`): the alerts of a series are
those of its stored points, whatever the order in which they arrived. Alerts are named by
the build where their excursion began, so that two judgements of one excursion are one
alert; an alert that the series no longer calls for is withdrawn (docs/decisions.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import median_low
from typing import Any

from influxdb_client.client.write.point import Point

from harness.alerting.alerts import HARNESS_ACTOR, Alert, series_key
from harness.alerting.log import AlertLog, event_point, opened_point
from harness.catalog import Catalog, Metric
from harness.changes import package_changes
from harness.detection.excursions import compare_to_base, judge_series
from harness.detection.params import DEFAULT_PARAMS, DetectionParams, Excursion
from harness.detection.rules import (
    EXCURSION_KINDS,
    BuildRef,
    excursion_alert,
    open_spec_ranks,
    series_findings,
    spec_alert,
)
from harness.detection.verdicts import judge, verdict
from harness.model import Measurement, Result, Submission, utcnow
from harness.storage.blobs import BlobStore
from harness.storage.influx import RESULTS, InfluxStore, Row, build_point, result_point
from harness.storage.locks import SeriesLocks
from harness.storage.registry import Registry
from harness.storage.tails import NO_ROWS, Around, Rows, SeriesTails
from harness.times import nanoseconds, parse_utc, point_time

KEEP = DEFAULT_PARAMS.history_needed + 24  # cached points per series: room for late builds
WITHDRAWN = "withdrawn: the builds stored since no longer show this excursion"
REOPENED = "the builds stored since show this excursion again"


@dataclass(frozen=True)
class Outcome:
    """What judging one submission produced: its results and the alerts its series call for
    from its build on (new, confirmed or moved to another noticing build)."""

    results: list[Result]
    alerts: list[Alert]
    # Alerts found while judging builds that came late (or again): later data may still
    # withdraw them, so they are announced after a grace period, if still open then.
    provisional: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Series:
    """One series' points as judged now: before the build, the build, after it."""

    key: str
    measurement: Measurement
    metric: Metric
    params: DetectionParams
    rows: Rows  # every point judged or read, oldest first, the build's at `first`
    first: int
    last: int  # the last position judged again (== first unless a point came late)
    late: bool  # points after the build's were stored before it


def judge_and_store(
    submission: Submission, catalog: Catalog, store: InfluxStore, registry: Registry,
    blobs: BlobStore,
) -> Outcome:
    """Judge a submission (specs, excursions), write points and alerts in one batch."""
    for blob in submission.blobs.values():
        blobs.put(blob)
    tails = SeriesTails(registry.redis, KEEP)
    results = [judge(measurement, catalog) for measurement in submission.measurements]
    if submission.build.pull_request is not None:
        return _judge_pull_request(submission, catalog, results, store, registry, tails)
    branch = submission.build.branch
    keys = [series_key(m.metric, m.dimensions, branch) for m in submission.measurements]
    with SeriesLocks(registry.redis).hold(keys, owner=submission.id):
        return _judge_series(submission, catalog, results, store, registry, tails)


def _judge_pull_request(
    submission: Submission, catalog: Catalog, results: list[Result], store: InfluxStore,
    registry: Registry, tails: SeriesTails,
) -> Outcome:
    """Each measurement against its base branch's history up to the build; no alerts."""
    base = submission.build.baseline_branch
    history = _around(submission, base, catalog, store, tails)
    judged = []
    for result in results:
        measurement = result.measurement
        metric, params = _detection(catalog, measurement)
        if metric is not None and params is not None and measurement.value is not None:
            rows = history.get(series_key(measurement.metric, measurement.dimensions, base),
                               Around(NO_ROWS, NO_ROWS)).before.valued_since(None)
            sampled = [i for i, count in enumerate(rows.counts) if count > 1]
            excursion = compare_to_base(
                [value for value in rows.values if value is not None], measurement.value,
                metric.better, params, count=measurement.count, spread=measurement.spread,
                base_count=median_low([rows.counts[i] for i in sampled] or [1]),
                base_spread=median_low([rows.spreads[i] for i in sampled] or [0.0]))
            result = replace(result, excursion=excursion.to_json())
        judged.append(result)
    return _store(submission, judged, [], [], store, registry, tails)


def _judge_series(
    submission: Submission, catalog: Catalog, results: list[Result], store: InfluxStore,
    registry: Registry, tails: SeriesTails,
) -> Outcome:
    """Judge each series from its stored points and this build's, the later ones again if
    this build came late; open, confirm and withdraw alerts to match."""
    build = submission.build
    time = nanoseconds(submission.time)
    history = _around(submission, build.branch, catalog, store, tails)
    log = AlertLog(store)
    known = log.of_series({series_key(m.metric, m.dimensions, build.branch)
                           for m in submission.measurements},
                          [m.metric for m in submission.measurements], time)
    # Alerts noticed from this build on are judged again here; the rules read only the rest.
    settled = [alert for alert in known if _noticed(alert) < time]
    restarts = _restarts(settled)
    spec_ranks = open_spec_ranks(settled)
    judged, series = [], []
    for result in results:
        measurement = result.measurement
        metric, params = _detection(catalog, measurement)
        key = series_key(measurement.metric, measurement.dimensions, build.branch)
        if metric is None or measurement.value is None:
            judged.append(result)
            continue
        one = _place(key, measurement, metric, params or DEFAULT_PARAMS, result,
                     history.get(key), time, restarts.get(key), submission)
        excursions: list[Excursion | None] = [None] * (len(one.rows) - one.first)
        if params is not None:  # detection on: else spec alerts only
            excursions = list(judge_series([float(v) for v in one.rows.values if v is not None],
                                           metric.better, params, first=one.first))
            result = replace(result, excursion=_json(excursions[0]))
        judged.append(result)
        series.append((one, excursions))
    alerts: list[Alert] = []
    provisional: set[str] = set()
    rewritten: list[Point] = []
    if build.branch == catalog.default_branch:
        for one, excursions in series:
            found_here = _alerts(one, excursions[:one.last - one.first + 1], submission,
                                 spec_ranks.get(one.key, 0), store)
            alerts += found_here
            if one.late:
                provisional.update(alert.id for alert in found_here)
    for one, excursions in series:
        rewritten += _rejudged_points(one, excursions, build.branch)
    current = {alert.id: alert for alert in known if _noticed(alert) >= time}
    alerts = _with_changes(alerts, submission, store)
    found = {alert.id for alert in alerts}
    last = {one.key: one.rows.times[one.last] for one, _ in series}
    now = utcnow()
    # withdrawn: an open alert of this build, or of a later one judged again, that the
    # series no longer calls for (another build at the very same time is left alone)
    events = [event_point(alert, "invalid", HARNESS_ACTOR, WITHDRAWN, now)
              for alert in current.values()
              if alert.id not in found and alert.state == "open"
              and _noticed(alert) <= last.get(alert.series, time)
              and (_noticed(alert) > time or (alert.build_ci, alert.build_id)
                   == (build.ci, build.id))]
    events += [event_point(alert, "reopened", HARNESS_ACTOR, REOPENED, now)
               for alert in alerts if alert.id in current and current[alert.id].withdrawn]
    # Every alert found is announced: the notifier sends each alert once, so an alert of
    # an earlier attempt that crashed before announcing is announced now.
    outcome = _store(submission, judged, alerts, [*rewritten, *events], store, registry, tails)
    return replace(outcome, provisional=frozenset(provisional))


def _place(key: str, measurement: Measurement, metric: Metric, params: DetectionParams,
           result: Result, around: Around | None, time: int, restart: int | None,
           submission: Submission) -> _Series:
    """The series' points with the build's in its place; the later points are kept (to be
    judged again) unless the build only repeats what is stored."""
    around = around or Around(NO_ROWS, NO_ROWS)
    before = around.before.valued_since(restart if restart is None or restart <= time else None)
    build = submission.build
    own = [i for i, at in enumerate(around.after.times) if at == time]
    repeats = any(around.after.values[i] == measurement.value
                  and around.after.build_ids[i] == build.id for i in own)
    later = [i for i, (at, value) in enumerate(zip(around.after.times, around.after.values,
                                                   strict=True))
             if at > time and value is not None][:params.history_needed]
    point = Rows([time], [measurement.value], [result.verdict], [build.ci], [build.id],
                 [measurement.count], [measurement.spread])
    rows = before + point + around.after.pick([] if repeats else later)
    return _Series(key, measurement, metric, params, rows, len(before), len(rows) - 1,
                   bool(later))


def _alerts(one: _Series, excursions: Sequence[Excursion | None], submission: Submission,
            open_spec_rank: int, store: InfluxStore) -> list[Alert]:
    """The alerts of the judged positions of one series, as Alerts."""
    rows = one.rows
    findings = series_findings([e.decision if e else "ok" for e in excursions],
                               [e.started if e else 0 for e in excursions],
                               rows.verdicts[:one.last + 1], one.first, open_spec_rank)
    measurement = one.measurement
    alerts = []
    for finding in findings:
        noticed = _build_ref(rows, finding.end, one.first, submission, store)
        value = float(rows.values[finding.end])  # type: ignore[arg-type]
        excursion = _json(excursions[finding.end - one.first])
        if finding.kind in EXCURSION_KINDS:
            onset = _build_ref(rows, finding.onset, one.first, submission, store, light=True)
            alerts.append(excursion_alert(finding.kind, one.metric, measurement.dimensions,
                                          submission.build.branch, value, excursion or {},
                                          noticed, onset))
        else:
            level, spec = verdict(value, one.metric.specs, measurement.dimensions)
            alerts.append(spec_alert(one.metric, measurement.dimensions,
                                     submission.build.branch, value, level, spec, noticed,
                                     excursion))
    return alerts


def _build_ref(rows: Rows, position: int, own: int, submission: Submission,
               store: InfluxStore, light: bool = False) -> BuildRef:
    """A build of the series by position: this submission's, else a stored one (with its
    URL and commit read from its record unless `light`)."""
    build = submission.build
    if position == own:
        return BuildRef(build.ci, build.id, _rfc3339(submission.time), build.url, build.commit)
    ci, build_id = str(rows.cis[position]), str(rows.build_ids[position])
    ref = BuildRef(ci, build_id, point_time(rows.times[position]))
    if light:
        return ref
    record = store.build_record(ci, build_id)
    if record is None:
        return ref
    return replace(ref, url=record.get("build_url"), commit=record.get("commit"))


def _rejudged_points(one: _Series, excursions: Sequence[Excursion | None], branch: str
                     ) -> list[Point]:
    """The later points' judgements, written over what they were judged when they came."""
    points = []
    for offset in range(1, one.last - one.first + 1):
        excursion = excursions[offset]
        if excursion is None:
            continue
        point = (Point(RESULTS).tag("metric", one.measurement.metric)
                 .tag("branch", branch))
        for name, value in sorted(one.measurement.dimensions.items()):
            point = point.tag(name, value)
        point = (point.field("baseline", float(excursion.baseline))
                 .field("change", float(excursion.change)).field("score", float(excursion.score))
                 .field("decision", excursion.decision))
        points.append(point.time(one.rows.times[one.first + offset]))
    return points


def _store(submission: Submission, results: list[Result], alerts: list[Alert],
           extra: list[Point], store: InfluxStore, registry: Registry, tails: SeriesTails
           ) -> Outcome:
    """Write the build, its results, the alerts and their events in one request; cache the
    new points; mark the submission done."""
    time = nanoseconds(submission.time)
    points = [build_point(submission, time)]
    points += [result_point(submission, result, time) for result in results]
    points += [opened_point(alert) for alert in alerts]
    store.write([*points, *extra])
    tails.add({
        series_key(result.measurement.metric, result.measurement.dimensions,
                   submission.build.branch): _row(submission, result, time)
        for result in results})
    registry.mark_done(submission, results, alerts)
    return Outcome(results, alerts)


def _detection(catalog: Catalog, measurement: Measurement
               ) -> tuple[Metric | None, DetectionParams | None]:
    """The measurement's metric and its detection parameters (None when switched off)."""
    metric = catalog.get(measurement.metric)
    if metric is None:
        return None, None
    settings = getattr(metric, "detection", None)
    if settings is None:
        return metric, DEFAULT_PARAMS
    if not settings.enabled:
        return metric, None
    return metric, DEFAULT_PARAMS.with_overrides(settings.overrides)


def _around(submission: Submission, branch: str, catalog: Catalog, store: InfluxStore,
            tails: SeriesTails) -> dict[str, Around]:
    """Series key → its points around the build's time on a branch: from the cached tails,
    else (and then cached) from InfluxDB, in one round trip each."""
    series = {series_key(m.metric, m.dimensions, branch): (m.metric, m.dimensions)
              for m in submission.measurements}
    limit = max((params.history_needed for m in submission.measurements
                 if (params := _detection(catalog, m)[1]) is not None),
                default=DEFAULT_PARAMS.history_needed)
    time = nanoseconds(submission.time)
    history, missing = tails.read(series, time, limit)
    if missing:
        found, newest = store.series_history({key: series[key] for key in missing}, branch,
                                             submission.time, limit, newest=KEEP)
        for key, rows in found.items():
            later = [row for row in newest.get(key, ()) if row["time"] >= time]
            history[key] = Around(Rows.of(rows), Rows.of(later))
        tails.fill(newest)
    return history


def _row(submission: Submission, result: Result, time: int) -> Row:
    """A stored result as a history row."""
    measurement = result.measurement
    return {"time": time, "value": measurement.value, "verdict": result.verdict,
            "ci": submission.build.ci, "build_id": submission.build.id,
            "samples": measurement.count, "spread": measurement.spread}


def _noticed(alert: Alert) -> int:
    """When the build that noticed an alert ran, in ns."""
    return nanoseconds(parse_utc(alert.time))


def _restarts(alerts: Sequence[Alert]) -> dict[str, int]:
    """Series → the time (ns) its baseline restarts, from acknowledged regressions."""
    restarts: dict[str, int] = {}
    for alert in alerts:
        if alert.kind == "regression" and alert.state == "acknowledged":
            start = nanoseconds(parse_utc(alert.started_time or alert.time))
            restarts[alert.series] = max(start, restarts.get(alert.series, start))
    return restarts


def _json(excursion: Excursion | None) -> dict[str, Any] | None:
    return excursion.to_json() if excursion is not None else None


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


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

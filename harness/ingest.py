"""The worker's job for one submission, in three phases:

1. read what judging needs, through harness.storage: each series' points around the build's
   time (from the history cache, else InfluxDB, one round trip each) and their alerts;
2. judge the whole submission in harness.detection.judgement, a pure function: verdicts,
   excursions, the alerts to open, confirm, withdraw or reopen;
3. write points, alerts and their events in one request, then the history cache and the
   submission's status.

Only when judging found alerts, the build records they name (links, package changes) are
read in one more round trip before the write (harness.alerting.describe): which builds they
are is known only once judged, and most submissions find none (docs/decisions.md).

A build that is not a pull request's is judged with its series locked
(harness.storage.locks), so each judgement sees every point stored before it."""

from __future__ import annotations

from dataclasses import dataclass

from harness.alerting.alerts import HARNESS_ACTOR, Alert, series_key
from harness.alerting.describe import describe, wanted
from harness.alerting.index import LIVE_STATES, AlertIndex
from harness.alerting.log import AlertLog, event_point, opened_point
from harness.catalog import Catalog
from harness.detection.judgement import Judgement, Stored, history_needed, judge_submission
from harness.detection.params import DEFAULT_PARAMS
from harness.model import Result, Submission, utcnow
from harness.points import Around, Row, Rows
from harness.storage.blobs import BlobStore
from harness.storage.influx import InfluxStore, build_point, rejudged_point, result_point
from harness.storage.locks import SeriesLocks
from harness.storage.registry import Registry
from harness.storage.tails import SeriesTails
from harness.times import nanoseconds

KEEP = DEFAULT_PARAMS.history_needed + 24  # cached points per series: room for late builds
WITHDRAWN = "withdrawn: the builds stored since no longer show this excursion"
REOPENED = "the builds stored since show this excursion again"
MET_AGAIN = "the series meets the spec again: its latest builds all do"


@dataclass(frozen=True)
class Outcome:
    """What judging one submission produced: its results and the alerts its series call for
    from its build on (new, confirmed or moved to another noticing build)."""

    results: list[Result]
    alerts: list[Alert]
    # Alerts found while judging builds that came late (or again): later data may still
    # withdraw them, so they are announced after a grace period, if still open then.
    provisional: frozenset[str] = frozenset()


def judge_and_store(
    submission: Submission, catalog: Catalog, store: InfluxStore, registry: Registry,
    blobs: BlobStore,
) -> Outcome:
    """Keep the submission's blobs; read, judge, write (a PR's build without locks: it is
    compared with its base branch and changes no series' alerts)."""
    blobs.put_many(submission.blobs.values())
    tails = SeriesTails(registry.redis, KEEP)
    build = submission.build
    if build.pull_request is not None:
        return _judged(submission, catalog, store, registry, tails)
    keys = [series_key(m.metric, m.dimensions, build.branch) for m in submission.measurements]
    with SeriesLocks(registry.redis).hold(keys, owner=submission.id):
        return _judged(submission, catalog, store, registry, tails)


def _judged(submission: Submission, catalog: Catalog, store: InfluxStore, registry: Registry,
            tails: SeriesTails) -> Outcome:
    stored = _read(submission, catalog, store, tails)
    judgement = judge_submission(submission, catalog, stored)
    alerts = _described(judgement.alerts, submission, store)
    closed = {alert.id for alert in stored.alerts if alert.state not in LIVE_STATES}
    _write(submission, judgement, alerts, AlertLog(store, AlertIndex(registry.redis)), closed,
           registry, tails)
    return Outcome(judgement.results, alerts, judgement.provisional)


def _read(submission: Submission, catalog: Catalog, store: InfluxStore, tails: SeriesTails
          ) -> Stored:
    """What judging the submission needs from the store: its series' points around the
    build's time on the branch that judges it, and (not for a PR) their alerts."""
    build = submission.build
    history = _around(submission, build.baseline_branch, catalog, store, tails)
    if build.pull_request is not None:
        return Stored(history)
    alerts = AlertLog(store, AlertIndex(tails.redis)).of_series(
        {series_key(m.metric, m.dimensions, build.branch) for m in submission.measurements},
        [m.metric for m in submission.measurements], nanoseconds(submission.time))
    return Stored(history, alerts)


def _around(submission: Submission, branch: str, catalog: Catalog, store: InfluxStore,
            tails: SeriesTails) -> dict[str, Around]:
    """Series key → its points around the build's time on a branch: from the cached tails,
    else (and then cached) from InfluxDB, in one round trip each."""
    series = {series_key(m.metric, m.dimensions, branch): (m.metric, m.dimensions)
              for m in submission.measurements}
    limit = history_needed(submission, catalog)
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


def _described(alerts: list[Alert], submission: Submission, store: InfluxStore) -> list[Alert]:
    """The alerts with the links and package changes of the builds they name."""
    if not alerts:
        return alerts
    want = wanted(alerts, submission)
    records, previous = store.builds_and_previous(want.builds, want.before)
    return describe(alerts, submission, dict(zip(want.builds, records, strict=True)),
                    dict(zip(want.before, previous, strict=True)))


def _write(submission: Submission, judgement: Judgement, alerts: list[Alert],
           log: AlertLog, closed: set[str], registry: Registry, tails: SeriesTails) -> None:
    """Write the build, its results, the alerts, the later points judged again and the
    alerts' events in one request; cache the new points; mark the submission done. Every
    alert found is written: the notifier sends each alert once, so an alert of an earlier
    attempt that crashed before announcing is announced now. The alert index learns of the
    alerts that stay or become live before and after the write, and forgets those withdrawn
    or resolved after it."""
    time = nanoseconds(submission.time)
    now = utcnow()
    live = [alert for alert in alerts if alert.id not in closed]
    log.joined(live)
    log.joined(judgement.reopened)
    log.joined([alert for alert in alerts if alert.id in closed], live=False)
    log.store.write([
        build_point(submission, time),
        *(result_point(submission, result, time) for result in judgement.results),
        *(opened_point(alert) for alert in alerts),
        *(rejudged_point(r.metric, r.dimensions, r.branch, r.time, r.excursion)
          for r in judgement.rejudged),
        *(event_point(alert, "invalid", HARNESS_ACTOR, WITHDRAWN, now)
          for alert in judgement.withdrawn),
        *(event_point(alert, "reopened", HARNESS_ACTOR, REOPENED, now)
          for alert in judgement.reopened),
        *(event_point(alert, "resolved", HARNESS_ACTOR, MET_AGAIN, now)
          for alert in judgement.resolved),
    ])
    log.joined([*live, *judgement.reopened])
    log.closed([*judgement.withdrawn, *judgement.resolved])
    branch = submission.build.branch
    tails.add({series_key(result.measurement.metric, result.measurement.dimensions, branch):
               _row(submission, result, time) for result in judgement.results})
    registry.mark_done(submission, judgement.results, alerts)


def _row(submission: Submission, result: Result, time: int) -> Row:
    """A stored result as a history row."""
    measurement = result.measurement
    return {"time": time, "value": measurement.value, "verdict": result.verdict,
            "ci": submission.build.ci, "build_id": submission.build.id,
            "samples": measurement.count, "spread": measurement.spread}

"""Judging one submission: a pure function of the submission, the catalog and what the store
held when it came (its series' points around the build's time, their alerts). Plain data in,
plain data out: results, the alerts its series call for, the alerts to withdraw or reopen, and
the later points judged again.

A pull request's build is compared with its base branch and never alerts. Any other build
takes its place in each series by time; a build older than points already stored is judged,
and the builds after it judged again, from the series as it now is (`judge_series`; all
series of a submission in one batch, `judge_many`): the alerts of a series are those of its
stored points, whatever the order in which they arrived. Alerts are named by the build where
their excursion began, so that two judgements of one excursion are one alert; an alert that
the series no longer calls for is withdrawn (docs/decisions.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from statistics import median_low

from harness.alerting.alerts import Alert, series_key
from harness.catalog import Catalog, Metric
from harness.detection.excursions import compare_to_base, judge_many
from harness.detection.params import DEFAULT_PARAMS, DetectionParams
from harness.detection.rules import (
    BuildRef,
    excursion_alert,
    met_again,
    open_spec_ranks,
    series_findings,
    shortfalls,
    spec_alert,
)
from harness.detection.verdicts import applicable_specs, judge, verdict
from harness.model import Excursion, Measurement, Result, Submission
from harness.points import NO_ROWS, Around, Rows
from harness.times import nanoseconds, parse_utc, point_time


@dataclass(frozen=True)
class Stored:
    """What judging a submission reads from the store first: each series' points around the
    build's time (series key → Around) and the alerts of its series (none for a PR)."""

    history: Mapping[str, Around]
    alerts: Sequence[Alert] = ()


@dataclass(frozen=True)
class Rejudged:
    """A stored point judged again, because a build older than it came later."""

    metric: str
    dimensions: Mapping[str, str]
    branch: str
    time: int  # ns: the point's time
    excursion: Excursion


@dataclass(frozen=True)
class Judgement:
    """What one submission's judgement decided."""

    results: list[Result]
    # the alerts its series call for from its build on: new, confirmed, or moved to another
    # noticing build; a stored build they name is a light BuildRef (ci, id, time) until
    # described (harness.alerting.describe)
    alerts: list[Alert]
    # alerts found while judging builds that came late (or again): later data may still
    # withdraw them, so they are announced after a grace period, if still open then
    provisional: frozenset[str] = frozenset()
    rejudged: tuple[Rejudged, ...] = ()
    withdrawn: tuple[Alert, ...] = ()  # open alerts the series no longer calls for
    reopened: tuple[Alert, ...] = ()  # withdrawn alerts the series calls for again
    resolved: tuple[Alert, ...] = ()  # spec alerts whose spec the series meets again


@dataclass(frozen=True)
class _Series:
    """One series' points as judged now: before the build, the build, after it."""

    key: str
    measurement: Measurement
    metric: Metric
    rows: Rows  # every point judged or read, oldest first, the build's at `first`
    first: int
    last: int  # the last position judged again (== first unless a point came late)
    late: bool  # points after the build's were stored before it
    excursions: Sequence[Excursion | None]  # of positions first..end (None: detection off)


def detection(catalog: Catalog, measurement: Measurement
              ) -> tuple[Metric | None, DetectionParams | None]:
    """The measurement's metric and its detection parameters (None when switched off)."""
    metric = catalog.get(measurement.metric)
    if metric is None:
        return None, None
    return metric, metric.detection.params() if metric.detection.enabled else None


def history_needed(submission: Submission, catalog: Catalog) -> int:
    """How many earlier points of each series judging the submission reads."""
    return max((params.history_needed for m in submission.measurements
                if (params := detection(catalog, m)[1]) is not None),
               default=DEFAULT_PARAMS.history_needed)


def judge_submission(submission: Submission, catalog: Catalog, stored: Stored) -> Judgement:
    """Judge every measurement of a submission: verdicts against the specs, excursions
    against its series' past (a PR's: its base branch's), and the alerts they call for."""
    results = [judge(measurement, catalog) for measurement in submission.measurements]
    if submission.build.pull_request is not None:
        return Judgement(_against_base(submission, catalog, results, stored.history), [])
    return _judge_series(submission, catalog, results, stored)


def _against_base(submission: Submission, catalog: Catalog, results: list[Result],
                  history: Mapping[str, Around]) -> list[Result]:
    """Each measurement against its base branch's history up to the build."""
    base = submission.build.baseline_branch
    judged = []
    for result in results:
        measurement = result.measurement
        metric, params = detection(catalog, measurement)
        if metric is not None and params is not None and measurement.value is not None:
            rows = history.get(series_key(measurement.metric, measurement.dimensions, base),
                               Around(NO_ROWS, NO_ROWS)).before.valued_since(None)
            sampled = [i for i, count in enumerate(rows.counts) if count > 1]
            excursion = compare_to_base(
                [value for value in rows.values if value is not None], measurement.value,
                metric.better, params, count=measurement.count, spread=measurement.spread,
                base_count=median_low([rows.counts[i] for i in sampled] or [1]),
                base_spread=median_low([rows.spreads[i] for i in sampled] or [0.0]))
            result = replace(result, excursion=excursion)
        judged.append(result)
    return judged


def _judge_series(submission: Submission, catalog: Catalog, results: list[Result],
                  stored: Stored) -> Judgement:
    """Judge each series from its stored points and this build's, the later ones again if
    this build came late; open, confirm, withdraw and reopen alerts to match."""
    build = submission.build
    time = nanoseconds(submission.time)
    # Alerts noticed from this build on are judged again here; the rules read only the rest.
    settled = [alert for alert in stored.alerts if noticed_at(alert) < time]
    restarts = baseline_restarts(settled)
    spec_ranks = open_spec_ranks(settled)
    judged: list[Result] = []
    placed: list[tuple[int, DetectionParams | None, _Series]] = []
    for result in results:
        measurement = result.measurement
        metric, params = detection(catalog, measurement)
        if metric is not None and measurement.value is not None:
            key = series_key(measurement.metric, measurement.dimensions, build.branch)
            placed.append((len(judged), params, _place(
                key, measurement, metric, params, result, stored.history.get(key), time,
                restarts.get(key), submission)))
        judged.append(result)
    series = _judge_all([(params, one) for _, params, one in placed])
    for (index, _, _), one in zip(placed, series, strict=True):
        judged[index] = replace(judged[index], excursion=one.excursions[0])
    alerts: list[Alert] = []
    provisional: set[str] = set()
    resolved: list[Alert] = []
    if build.branch == catalog.default_branch:
        for one in series:
            found_here = _alerts(one, spec_ranks.get(one.key, 0), submission)
            alerts += found_here
            if one.late:
                provisional.update(alert.id for alert in found_here)
            resolved += _met_again(one, stored.alerts)
    last = {one.key: one.rows.times[one.last] for one in series}
    withdrawn, reopened = withdrawals(stored.alerts, alerts, submission, last)
    return Judgement(judged, alerts, frozenset(provisional), _rejudged(series, build.branch),
                     withdrawn, reopened, tuple(resolved))


def withdrawals(known: Sequence[Alert], found: Sequence[Alert], submission: Submission,
                last: Mapping[str, int]) -> tuple[tuple[Alert, ...], tuple[Alert, ...]]:
    """Of the alerts noticed from this build on (`known`), those to withdraw: open ones of
    this build, or of a later one judged again (up to `last`, series key → ns), that the
    series no longer calls for (`found`) — another build at the very same time is left alone;
    and the withdrawn ones it calls for again, to reopen."""
    build = submission.build
    time = nanoseconds(submission.time)
    current = {alert.id: alert for alert in known if noticed_at(alert) >= time}
    ids = {alert.id for alert in found}
    withdrawn = tuple(
        alert for alert in current.values()
        if alert.id not in ids and alert.state == "open"
        and noticed_at(alert) <= last.get(alert.series, time)
        and (noticed_at(alert) > time or (alert.build_ci, alert.build_id) == (build.ci, build.id)))
    reopened = tuple(alert for alert in found
                     if alert.id in current and current[alert.id].withdrawn)
    return withdrawn, reopened


def _place(key: str, measurement: Measurement, metric: Metric, params: DetectionParams | None,
           result: Result, around: Around | None, time: int, restart: int | None,
           submission: Submission) -> _Series:
    """The series' points with the build's in its place, not judged yet (`_judge_all`); the
    later points are kept (and judged again) unless the build only repeats what is stored."""
    around = around or Around(NO_ROWS, NO_ROWS)
    before = around.before.valued_since(restart if restart is None or restart <= time else None)
    build = submission.build
    own = [i for i, at in enumerate(around.after.times) if at == time]
    repeats = any(around.after.values[i] == measurement.value
                  and around.after.build_ids[i] == build.id for i in own)
    needed = (params or DEFAULT_PARAMS).history_needed
    later = [i for i, (at, value) in enumerate(zip(around.after.times, around.after.values,
                                                   strict=True))
             if at > time and value is not None][:needed]
    point = Rows([time], [measurement.value], [result.verdict], [build.ci], [build.id],
                 [measurement.count], [measurement.spread])
    rows = before + point + around.after.pick([] if repeats else later)
    first = len(before)
    return _Series(key, measurement, metric, rows, first, len(rows) - 1, bool(later),
                   [None] * (len(rows) - first))


def _judge_all(placed: Sequence[tuple[DetectionParams | None, _Series]]) -> list[_Series]:
    """The series with their points from the build's on judged, all series in one batch
    (`judge_many`); those with detection off (no parameters) keep no excursions: spec
    alerts only."""
    on = [(params, one) for params, one in placed if params is not None]
    found = iter(judge_many([([float(v) for v in one.rows.values if v is not None],
                              one.metric.better, params, one.first) for params, one in on]))
    return [one if params is None else replace(one, excursions=next(found))
            for params, one in placed]


def _alerts(one: _Series, open_spec_rank: int, submission: Submission) -> list[Alert]:
    """The alerts of the judged positions of one series."""
    rows = one.rows
    excursions = one.excursions[:one.last - one.first + 1]
    measurement = one.measurement
    verdicts = shortfalls(rows.verdicts[:one.last + 1],
                          applicable_specs(one.metric.specs, measurement.dimensions))
    findings = series_findings([e.decision if e else "ok" for e in excursions],
                               [e.started if e else 0 for e in excursions],
                               verdicts, one.first, open_spec_rank)
    branch = submission.build.branch
    alerts = []
    for finding in findings:
        noticed = _build_ref(rows, finding.end, one.first, submission)
        value = float(rows.values[finding.end])  # type: ignore[arg-type]
        excursion = excursions[finding.end - one.first]
        if finding.kind == "spec":
            level, spec = verdict(value, one.metric.specs, measurement.dimensions)
            alerts.append(spec_alert(one.metric, measurement.dimensions, branch, value, level,
                                     spec, noticed, excursion))
        elif excursion is not None:  # always: excursion findings come from excursions
            onset = _build_ref(rows, finding.onset, one.first, submission)
            alerts.append(excursion_alert(finding.kind, one.metric, measurement.dimensions,
                                          branch, value, excursion, noticed, onset))
    return alerts


def _met_again(one: _Series, stored: Sequence[Alert]) -> list[Alert]:
    """The series' stored spec alerts that its latest builds meet again (the alerts found
    by this judgement are left for a later one, so none is opened and resolved at once)."""
    mine = [alert for alert in stored if alert.series == one.key]
    if not mine:
        return []
    end = one.last + 1
    return met_again(mine, one.rows.times[:end], one.rows.verdicts[:end],
                     one.metric.detection.params().resolve_after)


def _build_ref(rows: Rows, position: int, own: int, submission: Submission) -> BuildRef:
    """A build of the series by position: this submission's (with its URL and commit), else
    a stored one as its point names it."""
    if position == own:
        build = submission.build
        return BuildRef(build.ci, build.id, point_time(rows.times[position]), build.url,
                        build.commit)
    return BuildRef(str(rows.cis[position]), str(rows.build_ids[position]),
                    point_time(rows.times[position]))


def _rejudged(series: Sequence[_Series], branch: str) -> tuple[Rejudged, ...]:
    """The later points' judgements, to be written over what they were judged when they came."""
    return tuple(
        Rejudged(one.measurement.metric, one.measurement.dimensions, branch,
                 one.rows.times[one.first + offset], excursion)
        for one in series for offset in range(1, one.last - one.first + 1)
        if (excursion := one.excursions[offset]) is not None)


def noticed_at(alert: Alert) -> int:
    """When the build that noticed an alert ran, in ns."""
    return nanoseconds(parse_utc(alert.time))


def baseline_restarts(alerts: Sequence[Alert]) -> dict[str, int]:
    """Series → the time (ns) its baseline restarts, from acknowledged regressions."""
    restarts: dict[str, int] = {}
    for alert in alerts:
        if alert.kind == "regression" and alert.state == "acknowledged":
            start = nanoseconds(parse_utc(alert.started_time or alert.time))
            restarts[alert.series] = max(start, restarts.get(alert.series, start))
    return restarts


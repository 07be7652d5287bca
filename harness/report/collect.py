"""Reading what a report needs from the store: the results of a set of builds, split by
dataset (different datasets are often different CI jobs), and the previous results of each
dataset on the same branch, and the alert summaries open now. A handful of round trips
whatever the size of the report."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.alerting.log import AlertLog
from harness.alerting.summaries import Summary as AlertSummary
from harness.alerting.summaries import summarize
from harness.catalog import Catalog
from harness.errors import NotFound
from harness.model import BuildRecord
from harness.report.model import BuildRef, Observation, Report, build_report
from harness.storage.influx import BUILDS, RESULTS, InfluxStore, dimensions_of
from harness.storage.retention import Retention
from harness.times import (
    LATEST,
    from_nanoseconds,
    iso_z,
    nanoseconds,
    parse_utc,
    point_time,
    rfc3339,
)

DATASET = "dataset"  # the dimension that tells CI jobs apart; "" = results without one
RELEASE_DAYS = 30  # a release report's window before the branch's newest build
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Part:
    """The results of one build, all of them (dataset None) or one dataset's."""

    ci: str
    build_id: str
    branch: str
    time: int  # ns since the epoch, as stored
    dataset: str | None = None


def build_report_of(store: InfluxStore, catalog: Catalog, ci: str, build_id: str,
                    retention: Retention | None = None, alerts: AlertLog | None = None
                    ) -> Report:
    """The report of one build; NotFound when the store has no such build; with a
    retention, a build whose points expired says so (`expired`)."""
    record = store.build_record(ci, build_id)
    if record is None:
        raise NotFound(f"no build {ci}/{build_id}")
    part = Part(ci, build_id, record.build.branch, record.time)
    return _report(store, catalog, [part], f"Verification report of build {ci}/{build_id}",
                   {"kind": "build", "ci": ci, "id": build_id}, {(ci, build_id): record},
                   retention, alerts)


def release_report(
    store: InfluxStore, catalog: Catalog, branch: str, until: str | None = None,
    name: str | None = None, since: str | None = None, alerts: AlertLog | None = None,
) -> Report:
    """The report over the latest build of each dataset on a branch (at or before until)
    measured since a time, by default in the RELEASE_DAYS before the branch's newest build:
    what is read stays bounded whatever the length of the history."""
    bound = nanoseconds(parse_utc(until)) + 1 if until else nanoseconds(LATEST)
    newest = store.builds_and_previous((), [(branch, bound)])[1][0]
    start = nanoseconds(parse_utc(since)) if since else \
        newest.time - RELEASE_DAYS * DAY_NS if newest else None
    parts = _latest_parts(store, branch, start, bound) if start is not None else []
    if not parts:
        raise NotFound(f"no results on branch {branch}" + (f" until {until}" if until else ""))
    window = iso_z(from_nanoseconds(start)) if start is not None else None
    scope = {"kind": "release", "name": name or branch, "branch": branch, "until": until,
             "since": window, "selection": "the latest build of each dataset",
             "datasets_before_window": sorted(
                 set(_datasets_of(store, branch)) - {str(part.dataset) for part in parts})}
    title = f"Verification report of {name or branch}"
    return _report(store, catalog, parts, title + f" (latest build of each dataset on {branch})",
                   scope, alerts=alerts)


def _latest_parts(store: InfluxStore, branch: str, start: int, bound: int) -> list[Part]:
    """The latest build of each dataset measured on a branch from `start` to before `bound`
    (ns): the time of each dataset's newest value (one field read), then its build."""
    found = store.query(
        f"SELECT last(value) FROM {RESULTS} WHERE branch = $branch AND time >= $start "
        f"AND time < $bound GROUP BY {DATASET}",
        {"branch": branch, "start": rfc3339(start), "bound": rfc3339(bound)})
    return _parts_at(store, sorted((branch, item.tags.get(DATASET, ""), row["time"])
                                   for item in found for row in item.rows[:1]))


def _parts_at(store: InfluxStore, found: Sequence[tuple[str, str, int]]) -> list[Part]:
    """The build of each (branch, dataset, time in ns) that measured the dataset then: the
    one build stored at that time on the branch (the builds: a point a build), else (two
    builds at one time) the build its result points name."""
    params: dict[str, Any] = {}
    for index, (branch, dataset, time) in enumerate(found):
        params.update({f"b{index}": branch, f"d{index}": dataset, f"t{index}": rfc3339(time)})
    builds = store.query_each([f"SELECT build_id FROM {BUILDS} WHERE branch = $b{index} AND "
                               f"time = $t{index} GROUP BY ci" for index in range(len(found))],
                              params) if found else []
    rows = [[(item.tags["ci"], row["build_id"]) for item in series for row in item.rows]
            for series in builds]
    shared = [index for index, at in enumerate(rows) if len(at) != 1]
    named = store.query_each(
        [f"SELECT build_id, ci FROM {RESULTS} WHERE branch = $b{index} AND {DATASET} = "
         f"$d{index} AND time = $t{index} LIMIT 1" for index in shared], params) if shared else []
    for index, series in zip(shared, named, strict=True):
        rows[index] = [(row["ci"], row["build_id"]) for item in series for row in item.rows[:1]]
    return [Part(ci, build_id, branch, time, dataset)
            for (branch, dataset, time), at in zip(found, rows, strict=True)
            for ci, build_id in at[:1]]


def _datasets_of(store: InfluxStore, branch: str) -> list[str]:
    """The datasets ever measured on a branch (from the index: no point is read)."""
    found = store.query(f"SHOW TAG VALUES FROM {RESULTS} WITH KEY = {DATASET} "
                        "WHERE branch = $branch", {"branch": branch})
    return sorted({row["value"] for item in found for row in item.rows})


def builds_report(
    store: InfluxStore, catalog: Catalog, refs: Sequence[tuple[str, str]],
    name: str | None = None, retention: Retention | None = None,
    alerts: AlertLog | None = None,
) -> Report:
    """The report over a named set of builds; NotFound names every unknown build."""
    records = store.build_records(refs)
    missing = [f"{ci}/{build_id}" for (ci, build_id), rec in zip(refs, records, strict=True)
               if rec is None]
    if missing:
        raise NotFound(f"no build {', '.join(missing)}")
    parts = [Part(ci, build_id, rec.build.branch, rec.time)
             for (ci, build_id), rec in zip(refs, records, strict=True) if rec is not None]
    label = name or ", ".join(f"{ci}/{build_id}" for ci, build_id in refs)
    scope = {"kind": "release", "name": label,
             "selection": [{"ci": ci, "id": build_id} for ci, build_id in refs]}
    known = {ref: rec for ref, rec in zip(refs, records, strict=True) if rec is not None}
    return _report(store, catalog, parts, f"Verification report of {label}", scope, known,
                   retention, alerts)


def _report(
    store: InfluxStore, catalog: Catalog, parts: Sequence[Part], title: str,
    scope: Mapping[str, Any],
    known: Mapping[tuple[str, str], BuildRecord] | None = None,
    retention: Retention | None = None,
    alerts: AlertLog | None = None,
) -> Report:
    observations = _observations(store, parts)
    covered = _datasets(parts, observations)
    records: dict[tuple[str, str], BuildRecord | None] = dict(known or {})
    missing = [ref for ref in dict.fromkeys((p.ci, p.build_id) for p in parts)
               if ref not in records]
    records.update(zip(missing, store.build_records(missing), strict=True))
    previous_parts = _previous_parts(store, covered)
    # a branch's first build (a pull request's) is compared with its base branch before it
    found = {(p.branch, p.dataset) for p in previous_parts}
    on_base: dict[tuple[str, str], Part] = {}
    for (branch, dataset), part in covered.items():
        record = records.get((part.ci, part.build_id))
        pull_request = record.build.pull_request if record else None
        base = pull_request.base if pull_request else None
        if (branch, dataset) not in found and base and base != branch:
            on_base[(str(base), dataset)] = part
    previous_parts += _previous_parts(store, on_base) if on_base else []
    previous = _observations(store, previous_parts)
    more = [ref for ref in dict.fromkeys((p.ci, p.build_id) for p in previous_parts)
            if ref not in records]
    records.update(zip(more, store.build_records(more), strict=True))
    return build_report(
        catalog, observations, title=title, scope=scope,
        builds=_with_expiry(_builds_json(parts, covered, records), records, retention,
                            {(o.build.ci, o.build.id) for o in observations}),
        previous=previous if previous_parts else None,
        previous_builds=_builds_json(previous_parts, {}, records),
        open_summaries=_open_summaries(alerts or AlertLog(store),
                                       {part.branch for part in parts}),
    )


def _open_summaries(alerts: AlertLog, branches: Collection[str]) -> list[AlertSummary]:
    """The alert summaries open now on the branches the report reads, made of the alerts
    open or acknowledged (through the alert index when the log has one)."""
    return [summary for summary in summarize(alerts.live())
            if summary.state == "open" and summary.cause.branch in branches]


def _observations(store: InfluxStore, parts: Sequence[Part]) -> list[Observation]:
    """Every stored result of these parts, in one request."""
    if not parts:
        return []
    statements, params = [], {}
    for index, part in enumerate(parts):
        params.update({f"branch{index}": part.branch, f"time{index}": rfc3339(part.time),
                       f"id{index}": part.build_id})
        condition = ""
        if part.dataset is not None:
            params[f"dataset{index}"] = part.dataset
            condition = f" AND {DATASET} = $dataset{index}"
        statements.append(
            f"SELECT value, unit, ci, build_id FROM {RESULTS} WHERE branch = $branch{index} "
            f"AND time = $time{index} AND build_id = $id{index}{condition} GROUP BY *")
    found = []
    for part, series in zip(parts, store.query_each(statements, params), strict=True):
        for item in series:
            for row in item.rows:
                if row.get("ci") != part.ci:
                    continue
                found.append(Observation(
                    item.tags["metric"], dimensions_of(item.tags), row.get("value"),
                    row.get("unit") or "",
                    BuildRef(part.ci, part.build_id, part.branch, point_time(row["time"]))))
    return found


def _datasets(
    parts: Sequence[Part], observations: Iterable[Observation]
) -> dict[tuple[str, str], Part]:
    """(branch, dataset) → the part that covers it (the latest where several do)."""
    covered: dict[tuple[str, str], Part] = {}
    by_build = {(p.ci, p.build_id): p for p in parts}
    for observation in observations:
        part = by_build[(observation.build.ci, observation.build.id)]
        dataset = observation.dimensions.get(DATASET, "")
        key = (part.branch, dataset)
        if key not in covered or covered[key].time < part.time:
            covered[key] = Part(part.ci, part.build_id, part.branch, part.time, dataset)
    return covered


def _previous_parts(store: InfluxStore, covered: Mapping[tuple[str, str], Part]) -> list[Part]:
    """For each (branch, dataset) → part, the latest build in the RELEASE_DAYS before the
    part that measured the dataset on that branch (the time of its newest value, one field
    read, then its build: what is read stays bounded whatever the history's length)."""
    statements, params, keys = [], {}, list(covered)
    for index, (branch, dataset) in enumerate(keys):
        time = covered[(branch, dataset)].time
        params.update({f"branch{index}": branch, f"dataset{index}": dataset,
                       f"time{index}": rfc3339(time),
                       f"from{index}": rfc3339(time - RELEASE_DAYS * DAY_NS)})
        statements.append(
            f"SELECT last(value) FROM {RESULTS} WHERE branch = $branch{index} "
            f"AND {DATASET} = $dataset{index} AND time >= $from{index} AND time < $time{index}")
    found = store.query_each(statements, params) if statements else []
    return _parts_at(store, [(branch, dataset, row["time"])
                             for (branch, dataset), series in zip(keys, found, strict=True)
                             for item in series for row in item.rows[:1]])


def _builds_json(
    parts: Sequence[Part], covered: Mapping[tuple[str, str], Part],
    records: Mapping[tuple[str, str], BuildRecord | None],
) -> list[dict[str, Any]]:
    """Each build once, with the datasets the report takes from it."""
    datasets: dict[tuple[str, str], set[str]] = {(p.ci, p.build_id): set() for p in parts}
    for part in [*covered.values(), *parts]:
        if part.dataset is not None:
            datasets[(part.ci, part.build_id)].add(part.dataset)
    builds = []
    for ref, names in datasets.items():
        record = records.get(ref)
        if record is not None:
            builds.append({**record.to_json(), "datasets": sorted(names)})
    return sorted(builds, key=lambda build: (build["time"], build["ci"], build["id"]))


def _with_expiry(
    builds: list[dict[str, Any]], records: Mapping[tuple[str, str], BuildRecord | None],
    retention: Retention | None, measured: set[tuple[str, str]],
) -> list[dict[str, Any]]:
    """The builds, each whose points the retention deleted with `expired` saying so."""
    if retention is None:
        return builds
    marked = []
    for build in builds:
        ref = (build["ci"], build["id"])
        record = records.get(ref)
        expired = retention.expired_json(record, ref in measured) if record else None
        marked.append({**build, "expired": expired} if expired else build)
    return marked

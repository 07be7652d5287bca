"""What the dashboard pages read from the store, as plain data (one query per question,
bind parameters only, only the columns a page shows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.changes import package_changes
from harness.model import BuildRecord
from harness.points import Rows
from harness.storage.influx import RESULTS, InfluxStore, dimensions_of, identifier
from harness.times import LATEST, nanoseconds, rfc3339, time_literal

DETAIL_FIELDS = ("verdict", "ci", "build_id", "commit", "pr_number", "baseline", "change",
                 "score", "decision", "sample_count", "sample_spread")
HISTORY_FIELDS = ("value", *DETAIL_FIELDS)
# the fields History.columns draws: a bucket extreme reads these for every point it weighs
DRAWN_FIELDS = ("verdict", "ci", "build_id", "commit", "pr_number", "change", "score",
                "sample_count", "sample_spread")
RECENT = 30  # points of a sparkline


@dataclass(frozen=True)
class Latest:
    """A series' newest point, as the overview shows it."""

    time: int  # ns
    value: float | None
    verdict: str
    ci: str
    build_id: str


@dataclass(frozen=True)
class RecentSeries:
    """One stored series: its metric, dimensions and last points (oldest first)."""

    metric: str
    dimensions: Mapping[str, str]
    points: Rows

    @property
    def latest(self) -> Latest:
        """The newest point."""
        points = self.points
        return Latest(points.times[-1], points.values[-1], points.verdicts[-1] or "none",
                      str(points.cis[-1] or ""), str(points.build_ids[-1] or ""))


@dataclass(frozen=True)
class SeriesVerdict:
    """A series and the verdict of its newest result in a window."""

    metric: str
    dimensions: Mapping[str, str]
    verdict: str

    @property
    def sort_key(self) -> tuple[str, list[tuple[str, str]]]:
        """Metric, then dimensions: the overview's order."""
        return self.metric, sorted(self.dimensions.items())


def newest_build(store: InfluxStore, branch: str) -> BuildRecord | None:
    """The newest build of a branch (read from the builds, one point a build)."""
    return store.builds_and_previous((), [(branch, nanoseconds(LATEST))])[1][0]


def latest_verdicts(store: InfluxStore, branch: str, since: int | None,
                    tags: Mapping[str, str]) -> list[SeriesVerdict]:
    """Every series of a branch whose tags match with a result since a time (ns; None:
    ever), and the verdict of its newest one: one row a series, one field read."""
    where, params = _recent_where(branch, since, tags)
    found = store.query(f"SELECT last(verdict) AS verdict FROM {RESULTS} WHERE {where} "
                        "GROUP BY *", params)
    return [SeriesVerdict(item.tags["metric"], dimensions_of(item.tags),
                          str(row.get("verdict") or "none"))
            for item in found for row in item.rows[:1]]


def recent(store: InfluxStore, branch: str, metrics: Sequence[str], since: int | None,
           tags: Mapping[str, str]) -> list[RecentSeries]:
    """The last RECENT points since a time (ns; None: ever) of the series of these metrics
    on a branch whose tags match, in one query."""
    if not metrics:
        return []
    where, params = _recent_where(branch, since, tags)
    names = {f"m{index}": name for index, name in enumerate(sorted(set(metrics)))}
    where += " AND (" + " OR ".join(f"metric = ${key}" for key in names) + ")"
    found = store.query(
        f"SELECT value, verdict, ci, build_id FROM {RESULTS} WHERE {where} "
        f"GROUP BY * ORDER BY time DESC LIMIT {RECENT}", {**params, **names},
        method="POST" if len(names) > 50 else "GET")
    return [RecentSeries(item.tags["metric"], dimensions_of(item.tags),
                         Rows.of(item.rows[::-1])) for item in found if item.rows]


def tag_values(store: InfluxStore, branch: str, keys: Sequence[str]) -> dict[str, list[str]]:
    """Each of these tags' values on a branch (from the index: no point is read)."""
    found = store.query(
        f"SHOW TAG VALUES FROM {RESULTS} WITH KEY IN "
        f"({', '.join(identifier(key) for key in keys)}) WHERE branch = $branch",
        {"branch": branch})
    values: dict[str, set[str]] = {key: set() for key in keys}
    for item in found:
        for row in item.rows:
            values.setdefault(row["key"], set()).add(row["value"])
    return {key: sorted(values[key]) for key in keys}


def _recent_where(branch: str, since: int | None, tags: Mapping[str, str]
                  ) -> tuple[str, dict[str, Any]]:
    """The condition on a branch, a time and some tags' values, and its parameters."""
    conditions, params = ["branch = $branch"], {"branch": branch}
    for position, (key, value) in enumerate(sorted(tags.items())):
        conditions.append(f"{identifier(key)} = $t{position}")
        params[f"t{position}"] = value
    if since is not None:
        conditions.append("time >= $since")
        params["since"] = rfc3339(since)
    return " AND ".join(conditions), params


def branches(store: InfluxStore) -> list[str]:
    """Every branch with results."""
    found = store.query(f'SHOW TAG VALUES FROM {RESULTS} WITH KEY = "branch"')
    return sorted({row["value"] for item in found for row in item.rows})


def series_of(store: InfluxStore, metric: str, branch: str) -> list[dict[str, str]]:
    """The dimension sets of a metric's series on a branch."""
    found = store.query(
        f"SELECT last(verdict) FROM {RESULTS} WHERE metric = $metric AND branch = $branch "
        "GROUP BY *", {"metric": metric, "branch": branch})
    return sorted((dimensions_of(item.tags) for item in found), key=lambda d: sorted(d.items()))


@dataclass(frozen=True)
class History:
    """The rows to draw of one series, and how many builds they stand for."""

    rows: Sequence[Mapping[str, Any]]
    total: int
    bucket_ns: int | None = None  # set when the rows are each bucket's lowest and highest

    def columns(self) -> dict[str, list[Any]]:
        """The rows as the columns history_figure draws."""
        rows = self.rows
        return {
            "time": [row["time"] // 1_000_000 for row in rows],
            "value": [row.get("value") for row in rows],
            "verdict": [row.get("verdict") or "none" for row in rows],
            "ci": [row.get("ci") or "" for row in rows],
            "build_id": [row.get("build_id") or "" for row in rows],
            "commit": [row.get("commit") or "" for row in rows],
            "pr": [f"#{row['pr_number']}" if row.get("pr_number") is not None else ""
                   for row in rows],
            "change": [row.get("change") for row in rows],
            "score": [row.get("score") for row in rows],
            "samples": [_samples(row) for row in rows],
        }


def history(store: InfluxStore, metric: str, dimensions: Mapping[str, str],
            declared: Sequence[str], branch: str | None, *, since: datetime | None = None,
            until: datetime | None = None, pr_base: str | None = None,
            buckets: int | None = None) -> History:
    """The rows of exactly one series (every declared dimension pinned; an undeclared one
    matches the empty tag), oldest first; PR builds against `pr_base` instead of a branch.
    Past 2 × buckets rows InfluxDB itself picks each time bucket's lowest and highest point,
    so a long history never crosses the wire (a point then sits at its bucket's start)."""
    conditions = ["metric = $metric"]
    params: dict[str, Any] = {"metric": metric}
    if branch is not None:
        conditions.append("branch = $branch")
        params["branch"] = branch
    if pr_base is not None:
        conditions.append("pr_base = $base")
        params["base"] = pr_base
    for position, key in enumerate(sorted(declared)):
        conditions.append(f"{identifier(key)} = $d{position}")
        params[f"d{position}"] = dimensions.get(key, "")
    for name, bound, operator in (("since", since, ">="), ("until", until, "<=")):
        if bound is not None:
            conditions.append(f"time {operator} ${name}")
            params[name] = time_literal(bound)
    where = " AND ".join(conditions)
    if buckets is not None:
        counted, first, last = store.query_each(
            [f"SELECT {which}(value) FROM {RESULTS} WHERE {where}"
             for which in ("count", "first", "last")], params)
        total = sum(int(row["count"]) for item in counted for row in item.rows)
        if total > 2 * buckets:
            return _extremes(store, where, params, total, buckets,
                             (first[0].rows[0]["time"], last[0].rows[0]["time"]))
    fields = ", ".join(identifier(name) for name in HISTORY_FIELDS)
    rows = [row for item in store.query(f"SELECT {fields} FROM {RESULTS} WHERE {where}", params)
            for row in item.rows]
    return History(rows, len(rows))


@dataclass(frozen=True)
class SeriesWindow:
    """The builds of one series around a moment: some before it, some from it on."""

    metric: str
    dimensions: Mapping[str, str]
    history: History


def around(store: InfluxStore, metrics: Sequence[str], branch: str, moment: datetime,
           before: int = 20, after: int = 12) -> list[SeriesWindow]:
    """Every series of these metrics on a branch: its last `before` builds before a moment
    and its first `after` builds from it on (one request, two statements)."""
    if not metrics:
        return []
    params: dict[str, Any] = {f"m{index}": name for index, name in enumerate(sorted(metrics))}
    names = " OR ".join(f"metric = ${key}" for key in params)
    params.update(branch=branch, at=time_literal(moment))
    fields = ", ".join(identifier(name) for name in HISTORY_FIELDS)
    where = f"FROM {RESULTS} WHERE branch = $branch AND ({names})"
    earlier, later = store.query_each([
        f"SELECT {fields} {where} AND time < $at GROUP BY * ORDER BY time DESC LIMIT {before}",
        f"SELECT {fields} {where} AND time >= $at GROUP BY * ORDER BY time ASC LIMIT {after}",
    ], params)
    rows: dict[tuple[str, tuple[tuple[str, str], ...]], list[Mapping[str, Any]]] = {}
    for found, newest_first in ((earlier, True), (later, False)):
        for item in found:
            key = (item.tags["metric"], tuple(sorted(dimensions_of(item.tags).items())))
            rows.setdefault(key, []).extend(item.rows[::-1] if newest_first else item.rows)
    return [SeriesWindow(metric, dict(dimensions), History(found, len(found)))
            for (metric, dimensions), found in sorted(rows.items())]


def changes_of(store: InfluxStore, record: BuildRecord
               ) -> tuple[BuildRecord | None, list[dict[str, Any]]]:
    """A build's previous build on its branch, and the package changes since that one."""
    previous = store.previous_build(record)
    return previous, package_changes(previous.build.packages_json() if previous else [],
                                     record.build.packages_json())


def _extremes(store: InfluxStore, where: str, params: Mapping[str, Any], total: int,
              buckets: int, span: tuple[int, int]) -> History:
    """Each bucket's lowest and highest point, with the fields of those very points (a
    selector with other fields returns the selected point's fields); the two queries run
    side by side, as InfluxDB answers them on separate cores. Each reads every point's
    value and drawn fields (InfluxDB 1.x reads a selector's other fields at every point),
    so only the fields drawn are named; the answer is at most one row per bucket."""
    bucket_ns = max(1_000_000_000, -(-(span[1] - span[0] + 1) // buckets))
    details = ", ".join(identifier(name) for name in DRAWN_FIELDS)
    bounded = {**params, "lo": rfc3339(span[0]), "hi": rfc3339(span[1])}
    statements = [
        f"SELECT {which}(value) AS value, {details} FROM {RESULTS} WHERE {where} "
        f"AND time >= $lo AND time <= $hi GROUP BY time({bucket_ns}ns, "
        f"{span[0] % bucket_ns}ns) fill(none)" for which in ("min", "max")]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda statement: store.query(statement, bounded), statements))
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for found in answers:
        for item in found:
            for row in item.rows:
                rows[(row["time"], row.get("build_id") or "")] = dict(row)
    return History([rows[key] for key in sorted(rows)], total, bucket_ns)


def _samples(row: Mapping[str, Any]) -> str:
    """A point's repeated runs, as the hover shows them ('' for a single value)."""
    if not row.get("sample_count"):
        return ""
    return f"n = {row['sample_count']}, sd {float(row.get('sample_spread') or 0.0):.4g}"

"""The InfluxDB store over the 1.x HTTP API: batched line-protocol writes, InfluxQL reads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from influxdb_client.client.write.point import Point

from harness.alerting.alerts import series_key
from harness.errors import StoreError, StoreUnavailable
from harness.model import Build, Result, Submission
from harness.times import rfc3339, time_literal

RESULTS = "results"
BUILDS = "builds"
SHARD_DURATION = "52w"


Row = Mapping[str, Any]


@dataclass(frozen=True)
class Series:
    """One series of rows as InfluxDB returns it: tags plus rows of named columns."""

    tags: Mapping[str, str]
    rows: tuple[Mapping[str, Any], ...]


def identifier(name: str) -> str:
    """A quoted InfluxQL identifier (for catalog-declared names only, never user input)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dimensions_of(tags: Mapping[str, str]) -> dict[str, str]:
    """The dimensions among a stored series' tags (not metric, not branch; not empty)."""
    return {key: value for key, value in tags.items() if key not in ("metric", "branch") and value}


class InfluxStore:
    """Reads and writes the harness's measurements in one InfluxDB database."""

    def __init__(
        self,
        url: str,
        database: str,
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.timeout = timeout
        self.session = session or requests.Session()
        self.auth = (username, password) if username else None

    # --- plumbing -------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(
                method, self.url + path, timeout=self.timeout, auth=self.auth, **kwargs
            )
        except requests.RequestException as error:
            raise StoreUnavailable(f"InfluxDB at {self.url} did not answer: {error}") from None
        if response.status_code >= 500:
            raise StoreUnavailable(f"InfluxDB answered {response.status_code}: {response.text}")
        return response

    def ping(self) -> bool:
        """Whether the server answers /ping."""
        try:
            return self._request("GET", "/ping").status_code == 204
        except StoreUnavailable:
            return False

    def ensure_database(self) -> None:
        """Create the database if it does not exist (idempotent in InfluxDB 1.x), with
        shard groups of a year: a history is a few points a day, and a query over years of
        it should open a handful of shards, not hundreds of weekly ones."""
        name = identifier(self.database)
        self.query(f"CREATE DATABASE {name}", method="POST", database=None)
        self.query(f'ALTER RETENTION POLICY "autogen" ON {name} SHARD DURATION {SHARD_DURATION}',
                   method="POST", database=None)

    def write(self, points: Iterable[Point]) -> int:
        """Write points in one request; returns how many. Creates the database if missing."""
        body = "\n".join(point.to_line_protocol() for point in points)
        if not body:
            return 0
        params = {"db": self.database, "precision": "ns"}
        response = self._request("POST", "/write", params=params, data=body.encode())
        if response.status_code == 404 and "database not found" in response.text:
            self.ensure_database()
            response = self._request("POST", "/write", params=params, data=body.encode())
        if response.status_code != 204:
            raise StoreError(f"InfluxDB refused a write ({response.status_code}): {response.text}")
        return body.count("\n") + 1

    def query(
        self,
        statement: str,
        params: Mapping[str, Any] | None = None,
        *,
        method: str = "GET",
        database: str | None = "",
    ) -> list[Series]:
        """Run one InfluxQL statement with bind parameters; returns its series."""
        return self.query_each([statement], params, method=method, database=database)[0]

    def query_each(
        self,
        statements: Sequence[str],
        params: Mapping[str, Any] | None = None,
        *,
        method: str = "GET",
        database: str | None = "",
    ) -> list[list[Series]]:
        """Run several statements in one request (one round trip); the series of each."""
        form: dict[str, str] = {"q": ";\n".join(statements), "epoch": "ns"}
        if database is not None:
            form["db"] = database or self.database
        if params:
            form["params"] = json.dumps(dict(params))
        if method == "GET":
            response = self._request("GET", "/query", params=form)
        else:
            response = self._request("POST", "/query", data=form)
        try:
            answer = response.json()
        except ValueError:
            raise StoreError(f"InfluxDB answered {response.status_code}: {response.text}") from None
        if "error" in answer:
            raise StoreError(f"InfluxDB: {answer['error']}")
        each: list[list[Series]] = [[] for _ in statements]
        results = answer.get("results", [])
        errors = [result["error"] for result in results if "error" in result]
        if errors:
            # a missing database fails a multi-statement request as "not executed" only
            if all("database not found" in error or error == "not executed" for error in errors):
                return each
            raise StoreError(f"InfluxDB: {next(e for e in errors if e != 'not executed')}")
        for position, result in enumerate(results):
            series = each[result.get("statement_id", position)]
            for item in result.get("series", []):
                columns = item["columns"]
                rows = tuple(dict(zip(columns, values, strict=True))  # none: SHOW of nothing
                             for values in item.get("values", ()))
                series.append(Series(item.get("tags", {}), rows))
        return each

    # --- the harness's data ---------------------------------------------------------

    def series(
        self,
        metric: str,
        dimensions: Mapping[str, str],
        branch: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Series]:
        """The points of every series of a metric that match the given tags."""
        conditions = ["metric = $metric"]
        params: dict[str, Any] = {"metric": metric}
        if branch is not None:
            conditions.append("branch = $branch")
            params["branch"] = branch
        for position, (key, value) in enumerate(sorted(dimensions.items())):
            conditions.append(f"{identifier(key)} = $d{position}")
            params[f"d{position}"] = value
        if since is not None:
            conditions.append("time >= $since")
            params["since"] = time_literal(since)
        statement = f"SELECT * FROM {RESULTS} WHERE {' AND '.join(conditions)} GROUP BY *"
        if limit is not None:
            statement += f" ORDER BY time DESC LIMIT {int(limit)}"
        return self.query(statement, params)

    def series_history(
        self, series: Mapping[str, tuple[str, Mapping[str, str]]], branch: str,
        before: datetime, limit: int, newest: int = 0,
    ) -> tuple[dict[str, list[Row]], dict[str, list[Row]]]:
        """For exact series (series key → metric and dimensions) on a branch, in one request:
        each one's last `limit` points before a time, and (if `newest`) its newest points
        whatever their time; both oldest first, keyed like the request."""
        if not series:
            return {}, {}
        params: dict[str, Any] = {"branch": branch, "before": before.isoformat()}
        groups = []
        for index, (metric, dimensions) in enumerate(series.values()):
            terms = [f"metric = $m{index}"]
            params[f"m{index}"] = metric
            for position, (name, value) in enumerate(sorted(dimensions.items())):
                terms.append(f"{identifier(name)} = $d{index}_{position}")
                params[f"d{index}_{position}"] = value
            groups.append("(" + " AND ".join(terms) + ")")
        where = f"({' OR '.join(groups)}) AND branch = $branch"
        fields = (f"SELECT value, verdict, build_id, ci, sample_count AS samples, "
                  f"sample_spread AS spread FROM {RESULTS} WHERE {where}")
        statements = [f"{fields} AND time < $before GROUP BY * ORDER BY time DESC "
                      f"LIMIT {int(limit)}"]
        if newest:
            statements.append(f"{fields} GROUP BY * ORDER BY time DESC LIMIT {int(newest)}")
        answers = self.query_each(statements, params)
        keyed: list[dict[str, list[Row]]] = [{key: [] for key in series} for _ in statements]
        for found, answer in zip(keyed, answers, strict=True):
            for item in answer:
                key = series_key(item.tags["metric"], dimensions_of(item.tags), branch)
                if key in found:
                    found[key] = list(reversed(item.rows))
        return keyed[0], (keyed[1] if newest else {})

    def build_record(self, ci: str, build_id: str) -> Mapping[str, Any] | None:
        """The stored record of one build, or None."""
        found = self.query(
            f"SELECT * FROM {BUILDS} WHERE ci = $ci AND build_id = $id GROUP BY *",
            {"ci": ci, "id": build_id},
        )
        for series in found:
            for row in series.rows:
                return {**row, **series.tags}
        return None

    def build_results(self, record: Mapping[str, Any]) -> list[Series]:
        """Every result point of a stored build (found by its time and branch)."""
        return self.query(
            f"SELECT * FROM {RESULTS} WHERE branch = $branch AND time = $time "
            "AND build_id = $id GROUP BY *",
            {"branch": record["branch"], "time": rfc3339(record["time"]),
             "id": record["build_id"]},
        )

    def previous_build(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The build before this one on the same branch, or None."""
        found = self.query(
            f"SELECT * FROM {BUILDS} WHERE branch = $branch AND time < $time "
            "GROUP BY * ORDER BY time DESC LIMIT 1",
            {"branch": record["branch"], "time": rfc3339(record["time"])},
        )
        rows = [{**row, **series.tags} for series in found for row in series.rows]
        return max(rows, key=lambda row: row["time"]) if rows else None

    def count(self, measurement: str = RESULTS) -> int:
        """How many points a measurement holds (0 if none), counted by a field all have."""
        found = self.query(f"SELECT count(submission) FROM {identifier(measurement)}")
        return sum(int(row["count"]) for series in found for row in series.rows)


def build_point(submission: Submission, time: int) -> Point:
    """The point that records a build's metadata."""
    build: Build = submission.build
    point = (
        Point(BUILDS).tag("ci", build.ci).tag("branch", build.branch)
        .field("build_id", build.id).field("submission", submission.id)
        .field("received", submission.received.isoformat())
        .field("packages", json.dumps([package.__dict__ for package in build.packages]))
        .field("measurements", len(submission.measurements))
        .time(time)
    )
    return _with_build_fields(point, build)


def result_point(submission: Submission, result: Result, time: int) -> Point:
    """The point of one judged measurement: dimensions and branch are its only tags."""
    measurement = result.measurement
    build = submission.build
    point = Point(RESULTS).tag("metric", measurement.metric).tag("branch", build.branch)
    for key, value in sorted(measurement.dimensions.items()):
        point = point.tag(key, value)
    if measurement.value is not None:
        point = point.field("value", float(measurement.value))
    if measurement.blobs:
        point = point.field("blobs", ",".join(measurement.blobs))
    if measurement.samples:
        point = point.field("sample_count", measurement.count)
        point = point.field("sample_spread", float(measurement.spread))
    excursion = result.excursion or {}
    for key in ("baseline", "change", "score"):
        if isinstance(excursion.get(key), int | float):
            point = point.field(key, float(excursion[key]))
    if excursion.get("decision"):
        point = point.field("decision", str(excursion["decision"]))
    point = (
        point.field("unit", measurement.unit).field("verdict", result.verdict)
        .field("spec", result.spec or "").field("ci", build.ci).field("build_id", build.id)
        .field("submission", submission.id).time(time)
    )
    return _with_build_fields(point, build)


def _with_build_fields(point: Point, build: Build) -> Point:
    if build.url:
        point = point.field("build_url", build.url)
    if build.commit:
        point = point.field("commit", build.commit)
    if build.pull_request is not None:
        point = point.field("pr_number", int(build.pull_request.number))
        if build.pull_request.url:
            point = point.field("pr_url", build.pull_request.url)
        if build.pull_request.base:
            point = point.field("pr_base", build.pull_request.base)
    return point

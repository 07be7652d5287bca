"""The InfluxDB store over the 1.x HTTP API: batched line-protocol writes, InfluxQL reads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests

from harness.alerting.alerts import series_key
from harness.errors import StoreError, StoreUnavailable
from harness.model import (
    Build,
    BuildRecord,
    Excursion,
    Package,
    PullRequest,
    Result,
    StoredResult,
    Submission,
)
from harness.points import Row
from harness.storage.lineprotocol import FieldValue, Line
from harness.times import from_nanoseconds, rfc3339, time_literal

if TYPE_CHECKING:  # others' points (retention's markers); the harness's own are Lines
    from influxdb_client.client.write.point import Point

RESULTS = "results"
BUILDS = "builds"
SHARD_DURATION = "52w"



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

    def write(self, points: Iterable[Line | Point]) -> int:
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
    ) -> list[list[StoredResult]]:
        """The points of every series of a metric that match the given tags, oldest first."""
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
        found = self.query(
            f"SELECT * FROM {RESULTS} WHERE {' AND '.join(conditions)} GROUP BY *", params)
        return [[stored_result(item.tags, row) for row in item.rows] for item in found]

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

    def build_record(self, ci: str, build_id: str) -> BuildRecord | None:
        """The stored record of one build, or None."""
        return self.build_records([(ci, build_id)])[0]

    def build_records(self, refs: Sequence[tuple[str, str]]) -> list[BuildRecord | None]:
        """The stored record of each (ci, id), None where there is none; one request."""
        return self.builds_and_previous(refs, ())[0]

    def previous_build(self, record: BuildRecord) -> BuildRecord | None:
        """The build before this one on the same branch, or None."""
        return self.builds_and_previous((), [(record.build.branch, record.time)])[1][0]

    def builds_and_previous(
        self, refs: Sequence[tuple[str, str]], before: Sequence[tuple[str, int]],
    ) -> tuple[list[BuildRecord | None], list[BuildRecord | None]]:
        """In one request: the stored record of each (ci, id), and of the last build before
        each (branch, time in ns); None where there is none."""
        if not refs and not before:
            return [], []
        statements, params = [], {}
        for index, (ci, build_id) in enumerate(refs):
            params.update({f"ci{index}": ci, f"id{index}": build_id})
            statements.append(f"SELECT * FROM {BUILDS} WHERE ci = $ci{index} "
                              f"AND build_id = $id{index} GROUP BY *")
        for index, (branch, time) in enumerate(before):
            params.update({f"b{index}": branch, f"t{index}": rfc3339(time)})
            statements.append(f"SELECT * FROM {BUILDS} WHERE branch = $b{index} "
                              f"AND time < $t{index} GROUP BY * ORDER BY time DESC LIMIT 1")
        found = [_newest(answer) for answer in self.query_each(statements, params)]
        return found[:len(refs)], found[len(refs):]

    def build_results(self, record: BuildRecord) -> list[StoredResult]:
        """Every result point of a stored build (found by its time and branch), ordered by
        metric and dimensions."""
        found = self.query(
            f"SELECT * FROM {RESULTS} WHERE branch = $branch AND time = $time "
            "AND build_id = $id GROUP BY *",
            {"branch": record.build.branch, "time": rfc3339(record.time), "id": record.build.id},
        )
        results = [stored_result(series.tags, row) for series in found for row in series.rows]
        return sorted(results, key=lambda r: (r.metric, sorted(r.dimensions.items())))

    def count(self, measurement: str = RESULTS) -> int:
        """How many points a measurement holds (0 if none), counted by a field all have."""
        found = self.query(f"SELECT count(submission) FROM {identifier(measurement)}")
        return sum(int(row["count"]) for series in found for row in series.rows)


def stored_result(tags: Mapping[str, str], row: Row) -> StoredResult:
    """A point of the `results` measurement (its series' tags, its columns) as data."""
    return StoredResult(
        metric=tags["metric"], dimensions=dimensions_of(tags), value=row.get("value"),
        unit=row.get("unit") or "", verdict=row.get("verdict") or "none",
        spec=row.get("spec") or None,
        blobs=tuple(blob for blob in (row.get("blobs") or "").split(",") if blob),
        baseline=row.get("baseline"), score=row.get("score"), decision=row.get("decision"),
        change=row.get("change"), time=int(row["time"]), ci=row.get("ci") or "",
        build_id=row.get("build_id") or "", build_url=row.get("build_url"),
        commit=row.get("commit"), submission=row.get("submission"),
        sample_count=row.get("sample_count"), sample_spread=row.get("sample_spread"),
        pull_request=_pull_request(row))


def build_record(row: Row) -> BuildRecord:
    """A point of the `builds` measurement (its tags merged in) as data."""
    pull_request = _pull_request(row)
    packages = tuple(Package(name=p["name"], commit=p.get("commit"), url=p.get("url"),
                             version=p.get("version"))
                     for p in json.loads(row.get("packages") or "[]"))
    build = Build(ci=row["ci"], id=row["build_id"], branch=row["branch"],
                  time=from_nanoseconds(row["time"]), url=row.get("build_url"),
                  commit=row.get("commit"), pull_request=pull_request, packages=packages)
    return BuildRecord(build, int(row["time"]), row.get("submission"))


def _pull_request(row: Row) -> PullRequest | None:
    """The pull request a stored point names, if any."""
    number = row.get("pr_number")
    return None if number is None else PullRequest(int(number), row.get("pr_url"),
                                                   row.get("pr_base"))


def _newest(answer: Sequence[Series]) -> BuildRecord | None:
    """The newest build record among a query's series (tags merged into rows), or None."""
    rows = [{**row, **series.tags} for series in answer for row in series.rows]
    return build_record(max(rows, key=lambda row: row["time"])) if rows else None


def build_point(submission: Submission, time: int) -> Line:
    """The point that records a build's metadata."""
    build: Build = submission.build
    return Line(BUILDS, {"ci": build.ci, "branch": build.branch}, {
        "build_id": build.id, "submission": submission.id,
        "received": submission.received.isoformat(),
        "packages": json.dumps(build.packages_json()),
        "measurements": len(submission.measurements), **_build_fields(build)}, time)


def result_point(submission: Submission, result: Result, time: int) -> Line:
    """The point of one judged measurement: dimensions and branch are its only tags."""
    measurement = result.measurement
    build = submission.build
    fields: dict[str, FieldValue] = {}
    if measurement.value is not None:
        fields["value"] = float(measurement.value)
    if measurement.blobs:
        fields["blobs"] = ",".join(measurement.blobs)
    if measurement.samples:
        fields["sample_count"] = measurement.count
        fields["sample_spread"] = float(measurement.spread)
    fields.update(_excursion_fields(result.excursion), unit=measurement.unit,
                  verdict=result.verdict, spec=result.spec or "", ci=build.ci,
                  build_id=build.id, submission=submission.id, **_build_fields(build))
    return Line(RESULTS, _series_tags(measurement.metric, measurement.dimensions, build.branch),
                fields, time)


def rejudged_point(metric: str, dimensions: Mapping[str, str], branch: str, time: int,
                   excursion: Excursion) -> Line:
    """A stored result's new judgement, written over the one it had (its fields only)."""
    return Line(RESULTS, _series_tags(metric, dimensions, branch), _excursion_fields(excursion),
                time)


def _series_tags(metric: str, dimensions: Mapping[str, str], branch: str) -> dict[str, str]:
    """A result point's series tags (a dimension named like one of them would win)."""
    return {"metric": metric, "branch": branch, **dimensions}


def _excursion_fields(excursion: Excursion | None) -> dict[str, FieldValue]:
    if excursion is None:
        return {}
    return {"baseline": float(excursion.baseline), "change": float(excursion.change),
            "score": float(excursion.score), "decision": excursion.decision}


def _build_fields(build: Build) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {}
    if build.url:
        fields["build_url"] = build.url
    if build.commit:
        fields["commit"] = build.commit
    if build.pull_request is not None:
        fields["pr_number"] = int(build.pull_request.number)
        if build.pull_request.url:
            fields["pr_url"] = build.pull_request.url
        if build.pull_request.base:
            fields["pr_base"] = build.pull_request.base
    return fields

"""Hostile input against the real app, worker, Redis and InfluxDB.

InfluxQL and line-protocol metacharacters in every string field of a native submission and
of a Job document are either refused with a 4xx naming the field (and nothing stored) or
stored verbatim and read back identically through the public read endpoints; no value ever
becomes part of a query's text; oversized, deeply nested, non-finite, surrogate-laden and
duplicate-key bodies are clear 4xx answers that store nothing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import redis
import requests

from harness.links import api_build_url
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.hostile import PAYLOADS
from harness.web import create_app
from tests.conftest import INGEST_SECRET, bearer, submission, wait_done

Document = dict[str, Any]

# What a hostile client puts in a string (PAYLOADS): each is either refused or kept byte
# for byte.
# Which payloads each kind of field must accept (every other one must be refused).
SPACES_AND_CONTROLS = {"newline", "tab", "leading-space"}
ACCEPTS = {
    "label": set(PAYLOADS) - SPACES_AND_CONTROLS,
    "build-id": set(PAYLOADS) - SPACES_AND_CONTROLS - {"regex"},  # no leading "/"
    "tag": set(PAYLOADS) - SPACES_AND_CONTROLS - {"trailing-backslash", "pipe"},
    "ci": set(PAYLOADS) - SPACES_AND_CONTROLS - {"trailing-backslash", "pipe",
                                                 "url-metacharacters", "regex", "double-slash"},
    "url": set(PAYLOADS) - {"newline", "tab"},
    "text": set(PAYLOADS),
    "syntax": set(),  # metric names, units, dimension keys: a grammar of their own
}


@dataclass(frozen=True)
class Place:
    """A string field of a document: how a payload is put there, and the path that a
    refusal must name. `put` returns the query arguments of the request (usually none)."""

    name: str
    path: str
    kind: str
    put: Callable[[Document, str], dict[str, str]]


def _setter(*keys: str | int, prefix: str = "") -> Callable[[Document, str], dict[str, str]]:
    def put(document: Document, payload: str) -> dict[str, str]:
        target: Any = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = prefix + payload
        return {}
    return put


def _rekey(*keys: str | int, old: str) -> Callable[[Document, str], dict[str, str]]:
    def put(document: Document, payload: str) -> dict[str, str]:
        target: Any = document
        for key in keys:
            target = target[key]
        target[payload] = target.pop(old)
        return {}
    return put


def _inline_metric(field: str) -> Callable[[Document, str], dict[str, str]]:
    def put(document: Document, payload: str) -> dict[str, str]:
        definition = {"name": "hostile_pkg.wall_time", "unit": "s", "better": "lower",
                      "description": "wall time"}
        definition[field] = payload
        document["metrics"] = [definition]
        document["measurements"].append({"metric": definition["name"], "value": 2.0})
        return {}
    return put


NATIVE_PLACES = [
    Place("build.ci", "build.ci", "ci", _setter("build", "ci")),
    Place("build.id", "build.id", "build-id", _setter("build", "id")),
    Place("build.url", "build.url", "url",
          _setter("build", "url", prefix="https://ci.example.org/runs/")),
    Place("build.branch", "build.branch", "tag", _setter("build", "branch")),
    Place("build.commit", "build.commit", "label", _setter("build", "commit")),
    Place("pull_request.url", "build.pull_request.url", "url",
          _setter("build", "pull_request", "url", prefix="https://git.example.org/pr/")),
    Place("pull_request.base", "build.pull_request.base", "tag",
          _setter("build", "pull_request", "base")),
    Place("package.name", "build.packages[0].name", "label",
          _setter("build", "packages", 0, "name")),
    Place("package.commit", "build.packages[0].commit", "label",
          _setter("build", "packages", 0, "commit")),
    Place("package.url", "build.packages[0].url", "url",
          _setter("build", "packages", 0, "url", prefix="https://git.example.org/")),
    Place("dimension-key", "dimensions", "syntax", _rekey("dimensions", old="filter")),
    Place("dimension-value", "dimensions.dataset", "tag", _setter("dimensions", "dataset")),
    Place("measurement-dimension-key", "measurements[1].dimensions", "syntax",
          _rekey("measurements", 1, "dimensions", old="filter")),
    Place("measurement-dimension-value", "measurements[1].dimensions.filter", "tag",
          _setter("measurements", 1, "dimensions", "filter")),
    Place("metric", "measurements[0].metric", "syntax", _setter("measurements", 0, "metric")),
    Place("unit", "measurements[0].unit", "syntax", _setter("measurements", 0, "unit")),
    Place("extras-key", "measurements[2].extras", "label",
          _rekey("measurements", 2, "extras", old="per_ccd_s")),
    Place("inline-metric-name", "metrics[0].name", "syntax", _inline_metric("name")),
    Place("inline-metric-description", "metrics[0].description", "text",
          _inline_metric("description")),
    Place("inline-metric-unit", "metrics[0].unit", "syntax", _inline_metric("unit")),
]

JOB: Document = {
    "measurements": [
        {"metric": "validate_drp.PA1", "identifier": "m-pa1", "value": 4.2, "unit": "mmag",
         "blob_refs": ["b-phot"]},
        {"metric": "validate_drp.AM1", "identifier": "m-am1", "value": 0.0121,
         "unit": "arcsec", "blob_refs": []},
    ],
    "blobs": [{"identifier": "b-phot", "name": "MatchedMultiVisitDataset",
               "data": {"mag": {"value": [17.1, 18.4], "unit": "mag", "label": "mag",
                                "description": "PSF magnitude"}}}],
    "meta": {
        "env": {"env_name": "jenkins", "ci_id": "4512", "ci_name": "validate_drp",
                "ci_dataset": "hsc_rc2", "ci_url": "https://ci.lsst.codes/job/4512/",
                "ci_refs": ["main"], "date": "2026-11-18T05:00:00Z"},
        "packages": {"pipe_tasks": {"name": "pipe_tasks", "git_sha": "77ab0e2",
                                    "git_url": "https://github.com/lsst/pipe_tasks.git",
                                    "eups_version": "g77ab0e2+1"}},
        "filter_name": "r",
        "validate_drp.PA1.nStars": 1873,
    },
}


def _branch_argument(document: Document, payload: str) -> dict[str, str]:
    return {"branch": payload}


def _package_key(document: Document, payload: str) -> dict[str, str]:
    document["meta"]["packages"][payload] = {"git_sha": "abc1234"}  # named by its key
    return {}


def _note_key(document: Document, payload: str) -> dict[str, str]:
    document["meta"]["validate_drp.PA1." + payload] = document["meta"].pop(
        "validate_drp.PA1.nStars")
    return {}


JOB_PLACES = [
    Place("env.ci_name", "meta.env.ci_name", "ci", _setter("meta", "env", "ci_name")),
    Place("env.ci_id", "meta.env.ci_id", "build-id", _setter("meta", "env", "ci_id")),
    Place("env.ci_url", "meta.env.ci_url", "url",
          _setter("meta", "env", "ci_url", prefix="https://ci.lsst.codes/job/")),
    Place("env.ci_refs", "meta.env.ci_refs[0]", "tag",
          _setter("meta", "env", "ci_refs", 0)),
    Place("branch-argument", "branch", "tag", _branch_argument),
    Place("env.ci_dataset", "meta.env.ci_dataset", "tag",
          _setter("meta", "env", "ci_dataset")),
    Place("meta.filter_name", "meta.filter_name", "tag", _setter("meta", "filter_name")),
    Place("package.name", "meta.packages.pipe_tasks.name", "label",
          _setter("meta", "packages", "pipe_tasks", "name")),
    Place("package.git_sha", "meta.packages.pipe_tasks.git_sha", "label",
          _setter("meta", "packages", "pipe_tasks", "git_sha")),
    Place("package.git_url", "meta.packages.pipe_tasks.git_url", "url",
          _setter("meta", "packages", "pipe_tasks", "git_url",
                  prefix="https://github.com/lsst/")),
    Place("package-key", "meta.packages", "text", _package_key),
    Place("metric", "measurements[0].metric", "syntax", _setter("measurements", 0, "metric")),
    Place("unit", "measurements[0].unit", "syntax", _setter("measurements", 0, "unit")),
    Place("blob.name", "blobs[0].name", "label", _setter("blobs", 0, "name")),
    Place("blob-data-key", "blobs[0].data", "text", _rekey("blobs", 0, "data", old="mag")),
    Place("note-key", "meta", "text", _note_key),
]


# --- helpers ---------------------------------------------------------------------------

def post(client: Any, endpoint: str, document: Any, query: dict[str, str] | None = None
         ) -> Any:
    """POST a document with the ingest token."""
    return client.post(endpoint, json=document, headers=bearer(), query_string=query or {})


def counts(store: InfluxStore) -> dict[str, int]:
    """Points per measurement, each counted by a field that all its points have."""
    found = store.query_each([f"SELECT count({field}) FROM {measurement}" for measurement, field
                              in (("results", "verdict"), ("builds", "build_id"),
                                  ("alert_events", "event"))])
    return {name: sum(int(row["count"]) for series in answer for row in series.rows)
            for name, answer in zip(("results", "builds", "alert_events"), found, strict=True)}


def statuses(client: redis.Redis) -> list[str]:
    """The submission status documents in Redis."""
    return list(client.scan_iter("harness:submission:*"))


def assert_refused(response: Any, path: str, store: InfluxStore, client: redis.Redis) -> None:
    """A 4xx in the API's error shape that names the field, and nothing stored."""
    assert response.status_code in (400, 409, 413, 422), (response.status_code, response.json)
    body = response.json
    assert set(body) == {"error", "details"}, body
    paths = [detail["path"] for detail in body["details"]]
    assert any(p == path or p.startswith((path + ".", path + "[")) for p in paths), paths
    assert counts(store) == {"results": 0, "builds": 0, "alert_events": 0}
    assert statuses(client) == []


def get_json(client: Any, url: str, query: dict[str, str] | None = None) -> Any:
    """GET that must answer 200; its JSON."""
    response = client.get(url, query_string=query or {})
    assert response.status_code == 200, (url, response.status_code, response.json)
    return response.json


def declared_dimensions(client: Any, metric: str) -> list[str]:
    """The dimensions a metric declares, as the API shows them."""
    return list(get_json(client, f"/api/v1/metrics/{quote(metric, safe='')}")["dimensions"])


def assert_build_reads_back(client: Any, expected: Document, status: Document,
                            measured: list[tuple[str, dict[str, str], float]]) -> None:
    """The build, its results and its series read back identically through the status,
    build and series endpoints; each point's build link leads back to the build."""
    assert status["state"] == "done", status
    for key, value in expected.items():
        assert status["build"][key] == value, (key, status["build"][key])
    url = api_build_url(expected["ci"], expected["id"])
    shown = get_json(client, url)
    for key, value in expected.items():
        assert shown["build"][key] == value, (key, shown["build"][key])
    assert shown["build"]["links"]["self"] == url
    want = sorted((metric, sorted(dims.items()), value) for metric, dims, value in measured)
    judged = sorted((r["metric"], sorted(r["dimensions"].items()), pytest.approx(r["value"]))
                    for r in status["results"])
    listed = sorted((r["metric"], sorted(r["dimensions"].items()), pytest.approx(r["value"]))
                    for r in shown["results"])
    assert judged == want
    assert listed == want
    for metric, dims, value in measured:
        found = get_json(client, f"/api/v1/metrics/{quote(metric, safe='')}/series",
                         {**dims, "branch": expected["branch"]})
        [series] = found["series"]
        assert series["dimensions"] == dims
        [point] = series["points"]
        assert point["value"] == pytest.approx(value)
        assert (point["build"]["ci"], point["build"]["id"]) == (expected["ci"], expected["id"])
        assert get_json(client, point["build"]["link"])["build"]["id"] == expected["id"]


def blobs_of(client: Any, status: Document, metric: str) -> list[Document]:
    """The blobs linked to a metric's result."""
    [result] = [r for r in status["results"] if r["metric"] == metric]
    return [get_json(client, f"/api/v1/blobs/{blob}") for blob in result["blobs"]]


def native_reads_back(client: Any, body: Document, status: Document) -> None:
    """Everything of a native submission that the API shows, as it was sent."""
    build = body["build"]
    expected = {
        "ci": build["ci"], "id": build["id"], "branch": build["branch"], "url": build["url"],
        "commit": build["commit"], "pull_request": build["pull_request"],
        "packages": [{"name": p["name"], "commit": p.get("commit"), "url": p.get("url"),
                      "version": p.get("version")} for p in build["packages"]],
    }
    measured = []
    for item in body["measurements"]:
        declared = declared_dimensions(client, item["metric"])
        merged = {**body["dimensions"], **item.get("dimensions", {})}
        measured.append((item["metric"], {k: v for k, v in merged.items() if k in declared},
                         item["value"]))
    assert_build_reads_back(client, expected, status, measured)
    for item in body["measurements"]:
        if item.get("extras"):
            [blob] = blobs_of(client, status, item["metric"])
            assert blob["data"] == item["extras"]
    for definition in body.get("metrics", []):
        shown = get_json(client, f"/api/v1/metrics/{quote(definition['name'], safe='')}")
        assert (shown["description"], shown["unit"]) == (definition["description"],
                                                         definition["unit"])


def job_reads_back(client: Any, document: Document, query: dict[str, str],
                   status: Document) -> None:
    """Everything of a Job document that the API shows, as it was sent."""
    meta, env = document["meta"], document["meta"]["env"]
    expected = {
        "ci": env["ci_name"], "id": str(env["ci_id"]), "url": env["ci_url"],
        "branch": query.get("branch") or env["ci_refs"][0],
        "packages": [{"name": p.get("name") or key, "commit": p.get("git_sha"),
                      "url": p.get("git_url"), "version": p.get("eups_version")}
                     for key, p in sorted(meta["packages"].items())],
    }
    dims = {"dataset": env["ci_dataset"], "filter": meta["filter_name"]}
    scale = {"mmag": 1.0, "arcsec": 1000.0}
    measured = [(m["metric"], dims, m["value"] * scale[m["unit"]])
                for m in document["measurements"]]
    assert_build_reads_back(client, expected, status, measured)
    blobs = {blob["name"]: blob for blob in blobs_of(client, status, "validate_drp.PA1")}
    sent = document["blobs"][0]
    assert blobs[sent["name"]]["data"].keys() == sent["data"].keys()
    assert blobs[sent["name"]]["identifier"] == sent["identifier"]
    notes = {key.removeprefix("validate_drp.PA1."): {"value": value}
             for key, value in meta.items() if key.startswith("validate_drp.PA1.")}
    assert blobs["notes"]["data"] == notes


def database_exists(store: InfluxStore) -> bool:
    """Whether the harness's database is still there."""
    found = store.query("SHOW DATABASES", database=None)
    return store.database in {row["name"] for series in found for row in series.rows}


# --- every field × every payload ------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS, ids=list(PAYLOADS))
@pytest.mark.parametrize("place", NATIVE_PLACES, ids=[p.name for p in NATIVE_PLACES])
def test_native_field_refuses_or_keeps_the_payload_verbatim(
    client: Any, system: InfluxStore, redis_client: redis.Redis, place: Place, payload: str
) -> None:
    body = submission()
    query = place.put(body, PAYLOADS[payload])

    response = client.post("/api/v1/submissions", json=body, headers=bearer(),
                           query_string=query)

    if payload not in ACCEPTS[place.kind]:
        assert_refused(response, place.path, system, redis_client)
        return
    assert response.status_code == 202, response.json
    native_reads_back(client, body, wait_done(client, response.json["status_url"]))
    assert database_exists(system)


@pytest.mark.parametrize("payload", PAYLOADS, ids=list(PAYLOADS))
@pytest.mark.parametrize("place", JOB_PLACES, ids=[p.name for p in JOB_PLACES])
def test_job_field_refuses_or_keeps_the_payload_verbatim(
    client: Any, system: InfluxStore, redis_client: redis.Redis, place: Place, payload: str
) -> None:
    document = copy.deepcopy(JOB)
    query = place.put(document, PAYLOADS[payload])

    response = post(client, "/api/v1/jobs", document, query)

    if payload not in ACCEPTS[place.kind]:
        assert_refused(response, place.path, system, redis_client)
        return
    assert response.status_code == 202, response.json
    job_reads_back(client, document, query, wait_done(client, response.json["status_url"]))
    assert database_exists(system)


def test_the_database_survives_every_payload_and_earlier_points_stay(
    client: Any, system: InfluxStore
) -> None:
    wait_done(client, post(client, "/api/v1/submissions", submission()).json["status_url"])
    before_build = get_json(client, "/api/v1/builds/github-actions/9187")
    before_series = get_json(client, "/api/v1/metrics/validate_drp.PA1/series",
                             {"dataset": "hsc_rc2"})

    for number, payload in enumerate(PAYLOADS.values()):
        body = submission(id=f"hostile-{number}", commit=payload, branch=payload,
                          dimensions={"dataset": payload, "filter": "r"},
                          time="2026-11-21T03:00:00Z")
        body["build"]["packages"][0]["name"] = payload
        response = post(client, "/api/v1/submissions", body)
        if response.status_code == 202:
            assert wait_done(client, response.json["status_url"])["state"] == "done"
        job = copy.deepcopy(JOB)
        job["meta"]["env"].update(ci_id=f"hostile-{number}", ci_dataset=payload)
        response = post(client, "/api/v1/jobs", job, {"branch": payload})
        if response.status_code == 202:
            assert wait_done(client, response.json["status_url"])["state"] == "done"

    assert database_exists(system)
    assert get_json(client, "/api/v1/builds/github-actions/9187") == before_build
    assert get_json(client, "/api/v1/metrics/validate_drp.PA1/series",
                    {"dataset": "hsc_rc2"}) == before_series


# --- read filters are literals ----------------------------------------------------------

STORED_HOSTILE = "x' OR 1=1 --"
FILTERS = [
    "hsc_rc2' OR '1'='1", 'hsc_rc2" OR "1"="1', "hsc_rc2' OR dataset =~ /.*/ --", "/.*/",
    ".*", "hsc_rc2\\", "$metric", "$d0", "hsc_rc2'; DROP DATABASE harness_test; --",
    "x' OR 1=1", "", "hsc_rc2 ", "HSC_RC2", "ünï\u2028",
]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[str, ...], Any]]:
    """Every InfluxQL request the app makes from now on: its statements and bind
    parameters (recorded on the way to the real InfluxDB)."""
    recorded: list[tuple[tuple[str, ...], Any]] = []
    real = InfluxStore.query_each

    def recording(self: InfluxStore, statements: Any, params: Any = None, **options: Any
                  ) -> Any:
        recorded.append((tuple(statements), dict(params or {})))
        return real(self, statements, params, **options)

    monkeypatch.setattr(InfluxStore, "query_each", recording)
    return recorded


def read_with(client: Any, value: str, statements: list[tuple[tuple[str, ...], Any]]
              ) -> dict[str, tuple[int, Any, list[tuple[tuple[str, ...], Any]]]]:
    """Every public read that filters by a caller's value: the status and JSON of each, and
    the InfluxQL requests it made."""
    ci_id = quote(value, safe="")
    requests = {
        "series-dataset": ("/api/v1/metrics/validate_drp.PA1/series", {"dataset": value}),
        "series-branch": ("/api/v1/metrics/validate_drp.PA1/series", {"branch": value}),
        "series-filter": ("/api/v1/metrics/validate_drp.PA1/series",
                          {"dataset": "hsc_rc2", "filter": value}),
        "build-id": (f"/api/v1/builds/github-actions/{ci_id}", {}),
        "build-ci": (f"/api/v1/builds/{ci_id}/9187", {}),
        "alerts-metric": ("/api/v1/alerts", {"metric": value}),
        "report-build": (f"/api/v1/report/github-actions/{ci_id}", {}),
        "report-branch": ("/api/v1/report", {"branch": value}),
        "dash-overview": ("/dash/", {"branch": value}),
        "dash-metric": ("/dash/metrics/validate_drp.PA1", {"branch": value, "dataset": value}),
        "dash-build": (f"/dash/builds/github-actions/{ci_id}", {}),
    }
    answers = {}
    for name, (url, query) in requests.items():
        statements.clear()
        response = client.get(url, query_string=query)
        assert response.status_code < 500, (name, value, response.status_code)
        answers[name] = (response.status_code, response.json if response.is_json else None,
                         list(statements))
    return answers


def test_hostile_read_filters_are_literals_bound_as_parameters(
    client: Any, system: InfluxStore, statements: list[tuple[tuple[str, ...], Any]]
) -> None:
    wait_done(client, post(client, "/api/v1/submissions", submission()).json["status_url"])
    hostile = submission(id=STORED_HOSTILE, dimensions={"dataset": STORED_HOSTILE, "filter": "r"})
    wait_done(client, post(client, "/api/v1/submissions", hostile).json["status_url"])
    read_with(client, "harmless", statements)  # the alert index is rebuilt on the first read
    harmless = read_with(client, "harmless", statements)

    for value in FILTERS:
        answers = read_with(client, value, statements)

        for name, (status, body, made) in answers.items():
            # the query text never depends on the value, which travels only as a parameter
            # (a value that routes nowhere makes no query at all)
            # ("" is no filter at all where a default applies: it may find data)
            texts = [texts for texts, _ in made]
            if value:
                assert texts in ([texts for texts, _ in harmless[name][2]], []), (name, value)
            routed_whole = "/" not in value or name not in ("build-ci", "build-id",
                                                           "report-build", "dash-build")
            if value and made and routed_whole and name not in ("dash-overview", "dash-metric"):
                assert any(value in params.values() for _, params in made), (name, value)
            if name.startswith("series-"):
                assert status in (200, 422), (name, value)
                assert status == 422 or body["series"] == [], (name, value)
            if name in ("build-id", "build-ci", "report-build"):
                assert status == 404, (name, value)
        assert answers["alerts-metric"][:2] == harmless["alerts-metric"][:2]

    [series] = get_json(client, "/api/v1/metrics/validate_drp.PA1/series",
                        {"dataset": STORED_HOSTILE})["series"]
    assert series["dimensions"] == {"dataset": STORED_HOSTILE, "filter": "r"}
    assert [p["build"]["id"] for p in series["points"]] == [STORED_HOSTILE]
    assert get_json(client, api_build_url("github-actions", STORED_HOSTILE))["build"]["id"] \
        == STORED_HOSTILE


def test_a_build_time_with_an_offset_is_stored_at_its_instant(
    client: Any, system: InfluxStore
) -> None:
    body = submission(time="2026-11-20T17:12:00+14:00")  # 03:12 UTC
    status = wait_done(client, post(client, "/api/v1/submissions", body).json["status_url"])

    assert status["state"] == "done"
    assert get_json(client, "/api/v1/builds/github-actions/9187")["build"]["time"] \
        == "2026-11-20T03:12:00Z"
    [series] = get_json(client, "/api/v1/metrics/validate_drp.PA1/series",
                        {"dataset": "hsc_rc2", "since": "2026-11-20T17:11:00+14:00"})["series"]
    assert [point["time"] for point in series["points"]] == ["2026-11-20T03:12:00Z"]


@pytest.mark.parametrize("since", ["0001-01-01", "9999-12-31T23:59:59Z", "1677-01-01",
                                   "2262-06-01", "1970-01-01T00:00:00+14:00"])
def test_a_time_filter_out_of_influxdb_range_is_answered_not_crashed(
    client: Any, system: InfluxStore, since: str
) -> None:
    wait_done(client, post(client, "/api/v1/submissions", submission()).json["status_url"])
    series = client.get("/api/v1/metrics/validate_drp.PA1/series", query_string={"since": since})
    report = client.get("/api/v1/report", query_string={"branch": "main", "until": since})
    page = client.get("/dash/metrics/validate_drp.PA1",
                      query_string={"dataset": "hsc_rc2", "filter": "r", "since": since,
                                    "until": since})

    assert series.status_code == 200, series.json
    assert report.status_code in (200, 404), report.json
    assert page.status_code == 200
    everything = since < "2000"  # a bound before 1678 or after 2261 means "from the start"
    assert len(series.json["series"]) == (1 if everything else 0)
    assert (report.status_code == 200) == (not everything)


# --- bodies that are not acceptable documents ------------------------------------------

ENDPOINTS = ["/api/v1/submissions", "/api/v1/jobs", "/squash/job"]


def headers_for(client: Any, endpoint: str) -> dict[str, str]:
    """The ingest credentials an endpoint takes: a bearer token, or a /squash/ access token."""
    if endpoint != "/squash/job":
        return bearer()
    answer = client.post("/squash/auth", json={"username": "ci", "password": INGEST_SECRET})
    return {"Authorization": f"JWT {answer.json['access_token']}"}


def send(client: Any, endpoint: str, text: str | bytes) -> Any:
    """POST a raw JSON text with the endpoint's ingest credentials."""
    return client.post(endpoint, data=text, headers=headers_for(client, endpoint),
                       content_type="application/json")


def document_for(endpoint: str) -> Document:
    """A valid document of the endpoint's format."""
    return submission() if endpoint == "/api/v1/submissions" else copy.deepcopy(JOB)


def app_with(settings: Settings, **changes: Any) -> Any:
    """A test client of the real app with some settings changed."""
    return create_app(Settings(**{**settings.__dict__, **changes})).test_client()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_oversized_body_is_413_and_stores_nothing(
    settings: Settings, system: InfluxStore, redis_client: redis.Redis, endpoint: str
) -> None:
    small = app_with(settings, max_body_bytes=2000)
    document = document_for(endpoint)
    document["measurements"] = document["measurements"] * 40

    response = send(small, endpoint, json.dumps(document))

    assert response.status_code == 413
    assert "HARNESS_MAX_BODY_BYTES" in response.json["error"]
    assert_refused(response, "", system, redis_client)


def test_an_oversized_chunked_body_is_413_through_gunicorn(
    web: str, system: InfluxStore, redis_client: redis.Redis
) -> None:
    """No Content-Length to check up front: the limit holds while the body streams in."""
    chunk = b" " * (1 << 20)

    def body() -> Iterator[bytes]:
        yield b'{"build": {}, "padding": "'
        for _ in range(20):  # 20 MiB, over the default 16 MiB
            yield chunk
        yield b'"}'

    response = requests.post(f"{web}/api/v1/submissions", data=body(), timeout=60,
                             headers={**bearer(), "Content-Type": "application/json"})

    assert response.status_code == 413, response.text[:200]
    assert response.json()["details"][0]["path"] == ""
    assert counts(system) == {"results": 0, "builds": 0, "alert_events": 0}
    assert statuses(redis_client) == []


@pytest.mark.parametrize("endpoint", ["/api/v1/submissions", "/api/v1/jobs"])
def test_a_million_measurements_are_refused_and_store_nothing(
    client: Any, settings: Settings, system: InfluxStore, redis_client: redis.Redis,
    endpoint: str
) -> None:
    document = document_for(endpoint)
    one = json.dumps(document["measurements"][0], separators=(",", ":"))
    document["measurements"] = []
    head = json.dumps(document)
    text = head.replace('"measurements": []',
                        '"measurements": [' + ",".join([one] * 1_000_000) + "]")

    over_the_limit = send(client, endpoint, text)  # > 16 MiB: refused before it is read
    roomy = send(app_with(settings, max_body_bytes=256 << 20), endpoint, text)

    assert over_the_limit.status_code == 413
    assert_refused(over_the_limit, "", system, redis_client)
    assert roomy.status_code == 422
    assert_refused(roomy, "measurements", system, redis_client)
    assert "at most 10000 measurements" in roomy.json["details"][0]["message"]


def test_one_measurement_over_a_configured_limit_is_refused(
    settings: Settings, system: InfluxStore, redis_client: redis.Redis
) -> None:
    few = app_with(settings, max_measurements=10)
    body = submission(measurements=[{"metric": "validate_drp.PA1", "value": 4.0}] * 11)
    response = few.post("/api/v1/submissions", json=body, headers=bearer())
    assert response.status_code == 422
    assert_refused(response, "measurements", system, redis_client)


def nested(depth: int) -> str:
    """A JSON array nested `depth` levels deep."""
    return "[" * depth + "1" + "]" * depth


DEEP_TEXTS = {
    "100000-levels": nested(100_000),
    "100000-levels-unclosed": "[" * 100_000,
    "100000-levels-in-a-field": '{"measurements": ' + nested(100_000) + "}",
    "100000-objects": '{"a": ' * 100_000 + "1" + "}" * 100_000,
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("text", DEEP_TEXTS, ids=list(DEEP_TEXTS))
def test_deeply_nested_json_is_400_and_stores_nothing(
    client: Any, system: InfluxStore, redis_client: redis.Redis, endpoint: str, text: str
) -> None:
    response = send(client, endpoint, DEEP_TEXTS[text])
    assert response.status_code == 400
    assert_refused(response, "", system, redis_client)


DEEP_PLACES = {
    "/api/v1/submissions": ("measurements[2].extras.per_ccd_s.value",
                            lambda d: d["measurements"][2]["extras"]["per_ccd_s"]),
    "/api/v1/jobs": ("blobs[0].data.mag.value", lambda d: d["blobs"][0]["data"]["mag"]),
    "/squash/job": ("meta.deep", lambda d: d["meta"]),
}


@pytest.mark.parametrize("depth", [70, 900])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_nested_past_the_limit_inside_a_valid_document_is_400(
    client: Any, system: InfluxStore, redis_client: redis.Redis, endpoint: str, depth: int
) -> None:
    """Nesting that the JSON parser takes but nothing downstream should have to."""
    path, parent = DEEP_PLACES[endpoint]
    document = document_for(endpoint)
    parent(document)[path.rsplit(".", 1)[1]] = "DEEP"
    text = json.dumps(document).replace('"DEEP"', nested(depth))

    response = send(client, endpoint, text)

    assert response.status_code == 400
    assert_refused(response, path, system, redis_client)
    assert "nests deeper than 64 levels" in response.json["details"][0]["message"]


SENTINEL = 123456.789
NUMBER_PLACES = {
    "/api/v1/submissions": {
        "measurements[0].value": lambda d: d["measurements"][0].update(value=SENTINEL),
        "measurements[2].extras.per_ccd_s.value[1]":
            lambda d: d["measurements"][2]["extras"]["per_ccd_s"]["value"].__setitem__(
                1, SENTINEL),
    },
    "/api/v1/jobs": {
        "measurements[1].value": lambda d: d["measurements"][1].update(value=SENTINEL),
        "blobs[0].data.mag.value[0]":
            lambda d: d["blobs"][0]["data"]["mag"]["value"].__setitem__(0, SENTINEL),
        "meta.validate_drp.PA1.nStars": lambda d: d["meta"].update(
            {"validate_drp.PA1.nStars": SENTINEL}),
    },
}
NUMBER_PLACES["/squash/job"] = NUMBER_PLACES["/api/v1/jobs"]
NUMBER_CASES = [(endpoint, path, literal) for endpoint, places in NUMBER_PLACES.items()
                for path in places for literal in ("NaN", "Infinity", "-Infinity")]


@pytest.mark.parametrize(("endpoint", "path", "literal"), NUMBER_CASES)
def test_non_finite_literals_are_refused_at_their_path(
    client: Any, system: InfluxStore, redis_client: redis.Redis, endpoint: str, path: str,
    literal: str
) -> None:
    document = document_for(endpoint)
    NUMBER_PLACES[endpoint][path](document)
    text = json.dumps(document).replace(str(SENTINEL), literal)

    response = send(client, endpoint, text)

    assert response.status_code == 422
    assert {"path": path, "message": "must be a finite number"} in response.json["details"]
    assert_refused(response, path, system, redis_client)


DUPLICATES = {  # (what is repeated, where)
    "/api/v1/submissions": [('"build": {', '"build": {}, "build": {'),
                            ('"ci": "github-actions"', '"ci": "x", "ci": "github-actions"'),
                            ('"value": 4.7', '"value": 4.7, "value": 4.7'),
                            ('"unit": "s"', '"unit": "s", "unit": "s"')],
    "/api/v1/jobs": [('"meta": {', '"meta": {"env": 1, '),
                     ('"ci_name": "validate_drp"', '"ci_name": "a", "ci_name": "validate_drp"'),
                     ('"label": "mag"', '"label": "mag", "label": "mag"'),
                     ('"git_sha": "77ab0e2"', '"git_sha": "77ab0e2", "git_sha": "77ab0e2"')],
}
DUPLICATES["/squash/job"] = DUPLICATES["/api/v1/jobs"]
DUPLICATE_CASES = [(endpoint, old, new) for endpoint, pairs in DUPLICATES.items()
                   for old, new in pairs]


@pytest.mark.parametrize(("endpoint", "old", "new"), DUPLICATE_CASES)
def test_duplicate_keys_at_any_level_are_400(
    client: Any, system: InfluxStore, redis_client: redis.Redis, endpoint: str, old: str,
    new: str
) -> None:
    text = json.dumps(document_for(endpoint))
    assert old in text
    response = send(client, endpoint, text.replace(old, new, 1))
    assert response.status_code == 400
    assert "duplicate key" in response.json["details"][0]["message"]
    assert_refused(response, "", system, redis_client)


SURROGATES = {
    "/api/v1/submissions": [("build.id", lambda d: d["build"].update(id="x\ud800"))],
    "/api/v1/jobs": [("meta.instrument", lambda d: d["meta"].update(instrument="\udc00")),
                     ("blobs[0].data.mag.description",
                      lambda d: d["blobs"][0]["data"]["mag"].update(description="\ud83d")),
                     ("meta.\\udc00", lambda d: d["meta"].update({"\udc00": 1}))],
}
SURROGATES["/squash/job"] = SURROGATES["/api/v1/jobs"]
SURROGATE_CASES = [(endpoint, path, put) for endpoint, places in SURROGATES.items()
                   for path, put in places]


@pytest.mark.parametrize(("endpoint", "path", "put"), SURROGATE_CASES)
def test_lone_surrogates_are_refused_at_their_path(
    client: Any, system: InfluxStore, redis_client: redis.Redis, endpoint: str, path: str,
    put: Callable[[Document], None]
) -> None:
    """"\\ud800" is valid JSON text but no Unicode string: nothing can store it."""
    document = document_for(endpoint)
    put(document)
    response = send(client, endpoint, json.dumps(document))  # ASCII: the escape is kept
    assert response.status_code == 422
    assert_refused(response, path, system, redis_client)


TIMES = {
    "/api/v1/submissions": ("build.time", lambda d, t: d["build"].update(time=t)),
    "/api/v1/jobs": ("meta.env.date", lambda d, t: d["meta"]["env"].update(date=t)),
}


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "1677-09-21T00:00:00Z",
                                    "2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z"])
@pytest.mark.parametrize("endpoint", list(TIMES))
def test_a_build_time_influxdb_cannot_store_is_refused_not_lost(
    client: Any, system: InfluxStore, redis_client: redis.Redis, endpoint: str, moment: str
) -> None:
    """Before: accepted with 202, then the worker's write failed and the build was lost."""
    path, put = TIMES[endpoint]
    document = document_for(endpoint)
    put(document, moment)
    response = send(client, endpoint, json.dumps(document))
    assert response.status_code == 422
    assert_refused(response, path, system, redis_client)


NOT_JSON = {
    "truncated": b'{"build": ',
    "trailing-garbage": b'{"build": {}} {}',
    "invalid-utf-8": b'{"build": "\xff\xfe"}',
    "empty": b"",
    "huge-integer": b'{"measurements": [{"value": ' + b"9" * 5000 + b"}]}",
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("text", NOT_JSON, ids=list(NOT_JSON))
def test_text_that_is_not_json_is_400(
    client: Any, system: InfluxStore, redis_client: redis.Redis, endpoint: str, text: str
) -> None:
    response = send(client, endpoint, NOT_JSON[text])
    assert response.status_code == 400
    assert "not valid JSON" in response.json["details"][0]["message"]
    assert_refused(response, "", system, redis_client)

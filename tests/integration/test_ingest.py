"""Ingest end to end: the real app, a real worker, real Redis and InfluxDB."""

from __future__ import annotations

from typing import Any

import pytest

from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.servers import free_port
from harness.web import create_app
from tests.conftest import ADMIN_SECRET, TRIAGE_SECRET, bearer, submission, wait_done


def post(client: Any, body: Any, secret: str | None = None) -> Any:
    """POST a submission with the ingest token (or another)."""
    headers = bearer(secret) if secret else bearer()
    return client.post("/api/v1/submissions", json=body, headers=headers)


def stored_points(store: InfluxStore) -> list[dict[str, Any]]:
    """Every result point with its tags."""
    return [{**row, **series.tags}
            for series in store.query("SELECT * FROM results GROUP BY *")
            for row in series.rows]


def test_valid_submission_is_judged_and_stored(client: Any, system: InfluxStore) -> None:
    response = post(client, submission())
    assert response.status_code == 202
    assert response.json["status_url"] == f"/api/v1/submissions/{response.json['submission']}"

    status = wait_done(client, response.json["status_url"])

    assert status["state"] == "done"
    verdicts = {(r["metric"], r["dimensions"].get("filter")): r["verdict"]
                for r in status["results"]}
    assert verdicts == {("validate_drp.PA1", "r"): "design",
                        ("validate_drp.AM1", "i"): "design",
                        ("pipe_tasks.runtime", None): "none"}
    points = {p["metric"]: p for p in stored_points(system)}
    assert set(points) == {"validate_drp.PA1", "validate_drp.AM1", "pipe_tasks.runtime"}
    pa1 = points["validate_drp.PA1"]
    assert (pa1["dataset"], pa1["filter"], pa1["branch"]) == ("hsc_rc2", "r", "main")
    assert (pa1["value"], pa1["verdict"], pa1["unit"]) == (4.7, "design", "mmag")
    assert (pa1["build_id"], pa1["commit"], pa1["pr_number"]) == ("9187", "3f2c9e1", 412)
    assert pa1["build_url"] == "https://ci.example.org/runs/9187"
    assert pa1["time"] == 1_795_144_320 * 10**9  # 2026-11-20T03:12:00Z, the build time
    assert points["validate_drp.AM1"]["filter"] == "i"
    assert not points["pipe_tasks.runtime"]["filter"]  # runtime declares only dataset
    build = system.build_record("github-actions", "9187")
    assert build is not None
    assert build.build.packages[0].commit == "77ab0e2"


def test_series_endpoint_reads_back_points(client: Any, system: InfluxStore) -> None:
    wait_done(client, post(client, submission()).json["status_url"])

    response = client.get("/api/v1/metrics/validate_drp.PA1/series?dataset=hsc_rc2&filter=r")

    assert response.status_code == 200
    [series] = response.json["series"]
    assert series["dimensions"] == {"dataset": "hsc_rc2", "filter": "r"}
    [point] = series["points"]
    assert point["value"] == 4.7
    assert point["verdict"] == "design"
    assert point["build"]["url"] == "https://ci.example.org/runs/9187"
    assert point["time"] == "2026-11-20T03:12:00Z"


def test_series_endpoint_names_a_bad_dimension(client: Any, system: InfluxStore) -> None:
    response = client.get("/api/v1/metrics/validate_drp.PA1/series?colour=red")
    assert response.status_code == 422
    assert response.json["details"][0]["path"] == "colour"
    assert client.get("/api/v1/metrics/nope.Nope/series").status_code == 404


@pytest.mark.parametrize(
    ("mutate", "status", "path"),
    [
        (lambda b: b["measurements"][0].update(metric="validate_drp.NOPE"), 422,
         "measurements[0].metric"),
        (lambda b: b["measurements"][1].update(unit="s"), 422, "measurements[1].unit"),
        (lambda b: b["measurements"][1].update(unit="parsecs-ish"), 422, "measurements[1].unit"),
        (lambda b: b["measurements"][1].update(value="8.9"), 422, "measurements[1].value"),
        (lambda b: b["build"].pop("id"), 422, "build.id"),
        (lambda b: b["build"].update(url="javascript:alert(1)"), 422, "build.url"),
        (lambda b: b["measurements"][0].update(dimensions={"colour": "red"}), 422,
         "measurements[0].dimensions.colour"),
        (lambda b: b.update(dimensions={"colour": "red"}), 422, "dimensions.colour"),
        (lambda b: b.update(surprise=1), 422, "surprise"),
        (lambda b: b["dimensions"].pop("filter"), 422, "measurements[0].dimensions"),
    ],
    ids=["unknown-metric", "unit-not-convertible", "unit-unknown", "value-string",
         "missing-build-id", "bad-url", "undeclared-dimension", "unknown-dimension",
         "unknown-field", "missing-declared-dimension"],
)
def test_bad_input_is_refused_with_its_path_and_stores_nothing(
    client: Any, system: InfluxStore, mutate: Any, status: int, path: str
) -> None:
    body = submission()
    mutate(body)

    response = post(client, body)

    assert response.status_code == status
    assert path in [detail["path"] for detail in response.json["details"]]
    assert system.count() == 0
    assert system.count("builds") == 0


def test_a_missing_declared_dimension_is_refused_naming_it(
    client: Any, system: InfluxStore
) -> None:
    body = submission(measurements=[{"metric": "validate_drp.PA1", "value": 4.7,
                                     "dimensions": {"dataset": "hsc_rc2"}}])
    body["dimensions"] = {}
    response = post(client, body)
    assert response.status_code == 422
    assert response.json["details"] == [{
        "path": "measurements[0].dimensions.filter",
        "message": "validate_drp.PA1 declares dimension 'filter'; give it (in the "
                   "submission's or the measurement's `dimensions`; harness post: "
                   "--dimension filter=…)"}]
    assert system.count() == 0


def test_the_answer_names_each_dropped_dimension(client: Any, system: InfluxStore) -> None:
    response = post(client, submission())  # dataset and filter for all: runtime has no filter
    assert response.status_code == 202
    assert response.json["ignored"] == [{
        "path": "measurements[2].dimensions.filter",
        "message": "pipe_tasks.runtime does not declare dimension 'filter'; dropped"}]
    status = wait_done(client, response.json["status_url"])
    runtime = next(r for r in status["results"] if r["metric"] == "pipe_tasks.runtime")
    assert runtime["dimensions"] == {"dataset": "hsc_rc2"}
    clean = post(client, submission(measurements=[{"metric": "validate_drp.PA1", "value": 4.7}]))
    assert clean.status_code == 202 and "ignored" not in clean.json


def test_reposting_a_build_overwrites_instead_of_duplicating(
    client: Any, system: InfluxStore
) -> None:
    wait_done(client, post(client, submission()).json["status_url"])
    assert system.count() == 3
    body = submission()
    body["measurements"][0]["value"] = 5.5
    wait_done(client, post(client, body).json["status_url"])

    assert system.count() == 3
    assert system.count("builds") == 1
    [series] = system.series("validate_drp.PA1", {"filter": "r"}, "main")
    assert [point.value for point in series] == [5.5]


def test_a_build_without_time_keeps_its_first_seen_time(client: Any, system: InfluxStore) -> None:
    body = submission(time=None)
    first = wait_done(client, post(client, body).json["status_url"])
    second = wait_done(client, post(client, body).json["status_url"])
    assert first["time"] == second["time"]
    assert system.count() == 3


def test_units_are_converted_to_the_metric_unit(client: Any, system: InfluxStore) -> None:
    body = submission(measurements=[
        {"metric": "validate_drp.PA1", "value": 0.0047, "unit": "mag"},
        {"metric": "validate_drp.AM1", "value": 0.0089, "unit": "arcsec"},
        {"metric": "dm_latency.OTT1", "value": 1.5, "unit": "min"},
    ])
    status = wait_done(client, post(client, body).json["status_url"])

    values = {r["metric"]: (r["value"], r["unit"], r["verdict"]) for r in status["results"]}
    assert values["validate_drp.PA1"] == (pytest.approx(4.7), "mmag", "design")
    assert values["validate_drp.AM1"] == (pytest.approx(8.9), "marcsec", "design")
    assert values["dm_latency.OTT1"] == (pytest.approx(90.0), "s", "minimum")


def test_band_dependent_specs_judge_each_filter(client: Any, system: InfluxStore) -> None:
    body = submission(measurements=[
        {"metric": "validate_drp.PA1", "value": 6.0, "dimensions": {"filter": f}}
        for f in ("g", "u")
    ])
    status = wait_done(client, post(client, body).json["status_url"])
    verdicts = {r["dimensions"]["filter"]: r["verdict"] for r in status["results"]}
    assert verdicts == {"g": "minimum", "u": "design"}


def test_inline_metric_is_registered_and_kept(client: Any, system: InfluxStore) -> None:
    body = submission(
        metrics=[{"name": "my_pkg.wall_time", "unit": "s", "better": "lower",
                  "description": "wall time of my task"}],
        measurements=[{"metric": "my_pkg.wall_time", "value": 2.0, "unit": "min"}],
    )
    status = wait_done(client, post(client, body).json["status_url"])
    assert status["results"][0]["value"] == 120.0

    later = submission(measurements=[{"metric": "my_pkg.wall_time", "value": 3.0}])
    assert post(client, later).status_code == 202
    listed = {m["name"]: m for m in client.get("/api/v1/metrics").json["metrics"]}
    assert listed["my_pkg.wall_time"]["source"] == "inline"


def test_inline_metric_cannot_redefine_the_catalog(client: Any, system: InfluxStore) -> None:
    body = submission(metrics=[{"name": "validate_drp.PA1", "unit": "mag", "better": "higher"}])
    response = post(client, body)
    assert response.status_code == 409
    assert response.json["details"][0]["path"] == "metrics[0].name"
    assert "better is 'lower' there" in response.json["details"][0]["message"]
    assert system.count() == 0


def test_an_inline_definition_agreeing_with_the_catalog_is_the_catalogs_metric(
        client: Any, system: InfluxStore) -> None:
    body = submission(metrics=[{"name": "validate_drp.PA1", "unit": "mag", "better": "lower"}])
    status = wait_done(client, post(client, body).json["status_url"])
    pa1 = next(r for r in status["results"] if r["metric"] == "validate_drp.PA1")
    assert pa1["unit"] == "mmag" and pa1["spec"]  # the catalog's unit and specs judged it
    assert client.get("/api/v1/metrics/validate_drp.PA1").json["source"] == "catalog"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong-secret-0123456789"}, 401),
     ({"Authorization": "Basic Zm9vOmJhcg=="}, 401), (bearer(TRIAGE_SECRET), 403)],
    ids=["missing", "unknown", "wrong-scheme", "wrong-scope"],
)
def test_tokens_are_required_with_the_ingest_scope(
    client: Any, system: InfluxStore, headers: dict[str, str], status: int
) -> None:
    response = client.post("/api/v1/submissions", json=submission(), headers=headers)
    assert response.status_code == status
    assert system.count() == 0


def test_admin_token_may_ingest(client: Any, system: InfluxStore) -> None:
    assert post(client, submission(), ADMIN_SECRET).status_code == 202


def test_broker_down_answers_503_and_stores_nothing(
    settings: Settings, system: InfluxStore
) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(Settings(**{**settings.__dict__, "broker_url": dead}))

    response = post(app.test_client(), submission())

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert system.count() == 0


def test_status_of_an_unknown_submission_is_404(client: Any, system: InfluxStore) -> None:
    assert client.get("/api/v1/submissions/nope").status_code == 404


def test_healthz_reports_every_component(client: Any, system: InfluxStore) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    components = response.json["components"]
    assert {name: c["ok"] for name, c in components.items()} == {
        "web": True, "broker": True, "store": True, "workers": True}
    assert components["workers"]["names"]


def test_healthz_is_503_when_the_store_is_down(settings: Settings, system: InfluxStore) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    app = create_app(Settings(**{**settings.__dict__, "influxdb_url": dead}))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json is not None
    assert response.json["components"]["store"]["ok"] is False


def test_build_view_shows_results_and_package_changes(client: Any, system: InfluxStore) -> None:
    first = submission(id="100", time="2026-11-19T03:00:00Z", pull_request=None)
    second = submission(id="101", time="2026-11-20T03:00:00Z", pull_request=None, packages=[
        {"name": "pipe_tasks", "commit": "88cd1f3", "url": "https://github.com/lsst/pipe_tasks"},
        {"name": "jointcal", "commit": "1a2b3c4"}])
    for body in (first, second):
        wait_done(client, post(client, body).json["status_url"])

    response = client.get("/api/v1/builds/github-actions/101")

    assert response.status_code == 200
    assert response.json["build"]["time"] == "2026-11-20T03:00:00Z"
    assert response.json["previous"]["id"] == "100"
    assert [(r["metric"], r["verdict"]) for r in response.json["results"]] == [
        ("pipe_tasks.runtime", "none"), ("validate_drp.AM1", "design"),
        ("validate_drp.PA1", "design")]
    assert response.json["changes"] == [
        {"package": "jointcal", "from": None, "to": "1a2b3c4", "url": None, "kind": "added"},
        {"package": "pipe_tasks", "from": "77ab0e2", "to": "88cd1f3",
         "url": "https://github.com/lsst/pipe_tasks", "kind": "changed",
         "compare_url": "https://github.com/lsst/pipe_tasks/compare/77ab0e2...88cd1f3"}]
    assert client.get("/api/v1/builds/github-actions/nope").status_code == 404

"""lsst.verify Job JSON through /api/v1/jobs and /squash/, with blobs, on real servers."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
import requests
from itsdangerous import TimestampSigner

import harness.web.api.squash
from harness.storage.influx import InfluxStore
from tests.conftest import ADMIN_SECRET, INGEST_SECRET, TRIAGE_SECRET, bearer, wait_done

JOB: dict[str, Any] = {
    "measurements": [
        {"metric": "validate_drp.PA1", "identifier": "m-pa1", "value": 4.2, "unit": "mmag",
         "blob_refs": ["b-phot"]},
        {"metric": "validate_drp.AM1", "identifier": "m-am1", "value": 0.0121, "unit": "arcsec",
         "blob_refs": ["b-astrom"]},
        {"metric": "validate_drp.TE1", "identifier": "m-te1", "value": None, "unit": "",
         "blob_refs": []},
        {"metric": "validate_drp.PF1", "identifier": "m-pf1", "value": 7.5, "unit": "%",
         "blob_refs": ["b-phot"]},
    ],
    "blobs": [
        {"identifier": "b-phot", "name": "MatchedMultiVisitDataset",
         "data": {"mag": {"value": [17.1, 18.4, 19.9], "unit": "mag", "label": "mag",
                          "description": "PSF magnitude"},
                  "magrms": {"value": [0.003, 0.005, 0.009], "unit": "mag", "label": "RMS",
                             "description": "RMS over visits"}}},
        {"identifier": "b-astrom", "name": "AnalyticAstrometryModel",
         "data": {"snr": {"value": [12.0, 55.5, 210.0], "unit": "", "label": "SNR",
                          "description": "signal to noise"},
                  "dist": {"value": [30.1, 11.2, 4.4], "unit": "marcsec", "label": "d",
                           "description": "separation"}}},
    ],
    "metrics": [],
    "specs": [],
    "meta": {
        "env": {"env_name": "jenkins", "ci_id": "4512", "ci_name": "validate_drp",
                "ci_dataset": "hsc_rc2", "ci_label": "centos-7",
                "ci_url": "https://ci.lsst.codes/job/validate_drp/4512/",
                "ci_refs": ["main"], "status": 0, "date": "2026-11-18T05:00:00Z"},
        "packages": {
            "pipe_tasks": {"name": "pipe_tasks", "git_sha": "77ab0e2", "git_branch": "main",
                           "git_url": "https://github.com/lsst/pipe_tasks.git",
                           "eups_version": "g77ab0e2+1"},
            "jointcal": {"name": "jointcal", "git_sha": "3d21aa0", "git_branch": "main",
                         "git_url": "https://github.com/lsst/jointcal.git",
                         "eups_version": "g3d21aa0+4"},
        },
        "filter_name": "r",
        "instrument": "HSC",
        "validate_drp.PA1.nStars": 1873,
        "validate_drp.PA1.brightSnr": 100,
    },
}


def job(**meta_env: Any) -> dict[str, Any]:
    """A deep copy of the example job with meta.env keys changed."""
    document = copy.deepcopy(JOB)
    document["meta"]["env"].update(meta_env)
    return document


def post_job(client: Any, document: Any) -> Any:
    """POST a job with the ingest token."""
    return client.post("/api/v1/jobs", json=document, headers=bearer())


def test_job_is_stored_with_dimensions_blobs_and_notes(client: Any, system: InfluxStore) -> None:
    response = post_job(client, JOB)
    assert response.status_code == 202, response.json
    assert response.json["ignored"] == [  # no validate_drp metric is per instrument
        {"path": "meta.instrument",
         "message": f"{item['metric']} does not declare dimension 'instrument'; dropped"}
        for item in JOB["measurements"]]

    status = wait_done(client, response.json["status_url"])

    assert status["build"]["ci"] == "validate_drp"
    assert status["build"]["id"] == "4512"
    assert status["build"]["url"] == "https://ci.lsst.codes/job/validate_drp/4512/"
    assert {p["name"]: p["commit"] for p in status["build"]["packages"]} == {
        "jointcal": "3d21aa0", "pipe_tasks": "77ab0e2"}
    results = {r["metric"]: r for r in status["results"]}
    assert results["validate_drp.PA1"]["dimensions"] == {"dataset": "hsc_rc2", "filter": "r"}
    assert results["validate_drp.AM1"]["value"] == pytest.approx(12.1)  # arcsec → marcsec
    assert results["validate_drp.TE1"]["value"] is None  # NaN stays "no value", never 0
    assert results["validate_drp.TE1"]["verdict"] == "none"
    assert results["validate_drp.PA1"]["verdict"] == "design"

    pa1_blobs = [client.get(f"/api/v1/blobs/{blob}").json
                 for blob in results["validate_drp.PA1"]["blobs"]]
    by_name = {blob["name"]: blob for blob in pa1_blobs}
    assert by_name["MatchedMultiVisitDataset"]["data"]["magrms"]["value"] == [0.003, 0.005, 0.009]
    assert by_name["MatchedMultiVisitDataset"]["identifier"] == "b-phot"
    assert by_name["notes"]["data"] == {"nStars": {"value": 1873}, "brightSnr": {"value": 100}}
    shared = set(results["validate_drp.PA1"]["blobs"]) & set(results["validate_drp.PF1"]["blobs"])
    assert len(shared) == 1  # one blob, referenced by two measurements, stored once

    rows = {s.tags["metric"]: s.rows[0] for s in system.query("SELECT * FROM results GROUP BY *")}
    assert rows["validate_drp.TE1"].get("value") is None
    assert rows["validate_drp.TE1"]["verdict"] == "none"
    assert rows["validate_drp.PA1"]["blobs"] == ",".join(results["validate_drp.PA1"]["blobs"])


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["measurements"][0]["blob_refs"].append("b-missing"),
         "measurements[0].blob_refs[1]"),
        (lambda d: d["measurements"][1].update(metric="validate_drp.NOPE"),
         "measurements[1].metric"),
        (lambda d: d["measurements"][3].update(value="7.5"), "measurements[3].value"),
        (lambda d: d["measurements"][1].update(unit="s"), "measurements[1].unit"),
        (lambda d: d["meta"]["env"].pop("ci_id"), "meta.env.ci_id"),
        (lambda d: d["meta"].pop("env"), "meta.env"),
        (lambda d: d.update(measurements="all of them"), "measurements"),
        (lambda d: d["meta"].pop("filter_name"), "meta.filter"),
    ],
    ids=["dangling-blob-ref", "unknown-metric", "wrong-type", "bad-unit", "no-ci-id",
         "no-env", "not-a-list", "missing-declared-dimension"],
)
def test_bad_jobs_are_refused_with_paths_and_store_nothing(
    client: Any, system: InfluxStore, mutate: Any, path: str
) -> None:
    document = copy.deepcopy(JOB)
    mutate(document)

    response = post_job(client, document)

    assert response.status_code == 422
    assert path in [detail["path"] for detail in response.json["details"]]
    assert system.count() == 0


def test_digest_finds_a_posted_document(client: Any, system: InfluxStore) -> None:
    from harness.model import document_digest

    submission_id = post_job(client, JOB).json["submission"]
    found = client.get(f"/api/v1/submissions?digest={document_digest(JOB)}").json
    assert [item["submission"] for item in found["submissions"]] == [submission_id]
    other = client.get(f"/api/v1/submissions?digest={document_digest(job(ci_id='9'))}").json
    assert other["submissions"] == []
    assert client.get("/api/v1/submissions?digest=nope").status_code == 422


def test_squash_protocol_end_to_end(web: str, system: InfluxStore) -> None:
    """What lsst.verify.squash does: discover, authenticate, post the job."""
    session = requests.Session()
    endpoints = session.get(f"{web}/squash/", timeout=10).json()
    assert endpoints["auth"] == f"{web}/squash/auth"

    wrong = session.post(endpoints["auth"], json={"username": "ci", "password": "nope"},
                         timeout=10)
    assert wrong.status_code == 401
    token = session.post(endpoints["auth"], json={"username": "ci", "password": INGEST_SECRET},
                         timeout=10).json()["access_token"]
    document = {key: JOB[key] for key in ("measurements", "blobs", "meta")}
    headers = {"Authorization": f"JWT {token}", "Accept": "application/json; version=1.0"}

    answer = session.post(endpoints["job"], json=document, headers=headers, timeout=10)

    assert answer.status_code == 202
    assert "accepted" in answer.json()["message"]
    assert len(answer.json()["ignored"]) == 4  # meta.instrument, as on /api/v1/jobs
    deadline = time.monotonic() + 30
    while session.get(f"{web}{answer.json()['status_url']}", timeout=10).json()["state"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert system.count() == 4
    no_token = session.post(endpoints["job"], json=document, timeout=10)
    assert no_token.status_code == 401


def test_squash_access_token_expires_and_carries_scopes(
    client: Any, system: InfluxStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    triage = client.post("/squash/auth", json={"username": "people", "password": TRIAGE_SECRET})
    headers = {"Authorization": f"JWT {triage.json['access_token']}"}
    assert client.post("/squash/job", json=JOB, headers=headers).status_code == 403

    ingest = client.post("/squash/auth", json={"username": "ci", "password": INGEST_SECRET})
    # the token's lifetime passes: the signer's clock, not the test, moves on
    later = int(time.time()) + harness.web.api.squash.ACCESS_TOKEN_SECONDS + 1
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    expired = client.post("/squash/job", json=JOB,
                          headers={"Authorization": f"JWT {ingest.json['access_token']}"})
    assert expired.status_code == 401
    assert "expired" in expired.json["error"]
    assert system.count() == 0


def test_native_extras_become_a_linked_blob(client: Any, system: InfluxStore) -> None:
    from tests.conftest import submission

    status = wait_done(client, client.post("/api/v1/submissions", json=submission(),
                                           headers=bearer()).json["status_url"])
    runtime = next(r for r in status["results"] if r["metric"] == "pipe_tasks.runtime")
    [blob_id] = runtime["blobs"]
    blob = client.get(f"/api/v1/blobs/{blob_id}").json
    assert blob["data"]["per_ccd_s"] == {"value": [3.1, 2.9, 3.4], "unit": "s"}
    assert client.get("/api/v1/blobs/../../etc/passwd").status_code == 404
    assert client.get("/api/v1/blobs/" + "0" * 64).status_code == 404


REGISTERING = {
    **{key: JOB[key] for key in ("blobs", "meta")},
    "measurements": [{"metric": "my_pipe.latency", "identifier": "x", "value": 2.0,
                      "unit": "min", "blob_refs": []}],
    "metrics": [{"name": "my_pipe.latency", "description": "end-to-end latency", "unit": "s",
                 "tags": ["latency"], "reference": {"doc": "DMTN-000", "page": 1, "url": ""}}],
    "specs": [{"name": "my_pipe.latency.design", "type": "threshold",
               "threshold": {"value": 3.0, "unit": "min", "operator": "<="},
               "tags": ["design"], "metadata_query": {}}],
}


def test_job_metrics_and_specs_register_with_an_admin_token(
    client: Any, system: InfluxStore
) -> None:
    refused = client.post("/api/v1/jobs", json=REGISTERING, headers=bearer())
    assert refused.status_code == 422
    assert "?register=true" in refused.json["details"][0]["message"]
    not_admin = client.post("/api/v1/jobs?register=true", json=REGISTERING, headers=bearer())
    assert not_admin.status_code == 403

    response = client.post("/api/v1/jobs?register=true", json=REGISTERING,
                           headers=bearer(ADMIN_SECRET))

    assert response.status_code == 202, response.json
    [result] = wait_done(client, response.json["status_url"])["results"]
    assert (result["value"], result["unit"], result["verdict"]) == (120.0, "s", "design")
    metric = client.get("/api/v1/metrics/my_pipe.latency").json
    assert metric["source"] == "inline"
    assert [(s["level"], s["threshold"]) for s in metric["specs"]] == [("design", 180.0)]
    later = copy.deepcopy(REGISTERING)
    later["meta"]["env"]["ci_id"] = "4513"
    assert client.post("/api/v1/jobs", json=later, headers=bearer()).status_code == 202


def test_registered_definitions_are_validated_like_yaml(client: Any, system: InfluxStore) -> None:
    document = copy.deepcopy(REGISTERING)
    document["specs"][0]["threshold"]["unit"] = "mag"
    document["metrics"].append({"name": "validate_drp.PA1", "unit": "mmag"})
    response = client.post("/api/v1/jobs?register=true", json=document,
                           headers=bearer(ADMIN_SECRET))
    assert response.status_code == 409
    assert response.json["details"][0]["path"] == "metrics[1].name"
    document["metrics"].pop()
    response = client.post("/api/v1/jobs?register=true", json=document,
                           headers=bearer(ADMIN_SECRET))
    assert response.status_code == 422
    assert {"path": "specs[0].threshold.unit",
            "message": "mag does not convert to s"} in response.json["details"]
    assert system.count() == 0

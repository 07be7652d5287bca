"""Verification reports through the real app, worker and InfluxDB, with the project's
catalog (19 requirements): a history of known verdicts in two datasets posted by two CI
jobs, read back as build and release reports, as JSON, Markdown and from the CLI."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.client.cli import main
from harness.links import api_report_url
from harness.markdown import escape
from harness.storage.influx import InfluxStore
from harness.testing.hostile import MARKUP, markdown_problems
from tests.conftest import post_all

T0 = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
GOLDEN = Path(__file__).parent / "golden" / "report_main.md"
PUBLIC_URL = "http://127.0.0.1:5000"  # HARNESS_PUBLIC_URL of the test settings


def job(ci: str, build_id: str, at: timedelta, dataset: str,
        measurements: list[tuple[str, float, str, str | None]]) -> dict[str, Any]:
    """One CI job's submission: (metric, value, unit, filter) measurements of one dataset."""
    return {
        "build": {"ci": ci, "id": build_id, "branch": "main", "time": (T0 + at).isoformat(),
                  "commit": f"c{build_id}", "url": f"https://ci.example.org/{ci}/{build_id}"},
        "dimensions": {"dataset": dataset},
        "measurements": [
            {"metric": metric, "value": value, "unit": unit,
             **({"dimensions": {"filter": band}} if band else {})}
            for metric, value, unit, band in measurements],
    }


HISTORY = [
    # hsc_rc2 by jenkins, nightly
    job("jenkins", "n1", timedelta(0), "hsc_rc2", [
        ("validate_drp.PA1", 2.5, "mmag", "g"), ("validate_drp.PA1", 4.0, "mmag", "r"),
        ("validate_drp.AM1", 12.0, "marcsec", "r"), ("dm_latency.OTT1", 45.0, "s", None)]),
    # dc2_test_med by gitlab, two hours later
    job("gitlab", "d1", timedelta(hours=2), "dc2_test_med", [
        ("validate_drp.PA1", 4.5, "mmag", "i"), ("dm_latency.calProcTime", 1100.0, "s", None)]),
    job("jenkins", "n2", timedelta(days=1), "hsc_rc2", [
        ("validate_drp.PA1", 2.6, "mmag", "g"), ("validate_drp.PA1", 6.0, "mmag", "r"),
        ("validate_drp.AM1", 8.0, "marcsec", "r"), ("dm_latency.OTT1", 130.0, "s", None),
        ("validate_drp.TE1", 5e-6, "", "r")]),
    job("gitlab", "d2", timedelta(days=1, hours=2), "dc2_test_med", [
        ("validate_drp.PA1", 9.0, "mmag", "i"), ("dm_latency.calProcTime", 1300.0, "s", None)]),
]


@pytest.fixture
def history(client: Any, system: InfluxStore) -> InfluxStore:
    """The history above, judged and stored."""
    assert all(status["state"] == "done" for status in post_all(client, HISTORY))
    return system


def statuses(body: dict[str, Any]) -> dict[str, str]:
    """The requirements that were measured, with their status."""
    return {item["id"]: item["status"] for item in body["requirements"]
            if item["status"] != "not_measured"}


def test_build_report_statuses_fractions_and_changes(client: Any, history: InfluxStore) -> None:
    body = client.get("/api/v1/report/jenkins/n2").get_json()
    assert body["schema"] == "harness.report/1"
    assert statuses(body) == {"LPM-17-PA1": "minimum", "LPM-17-AM1": "design",
                              "LPM-17-OTT1": "failed", "DMS-REQ-0004": "failed",
                              "LPM-17-TE1": "stretch"}
    summary = body["summary"]
    assert summary["requirements"] == 19
    assert summary["counts"] == {"stretch": 1, "design": 1, "minimum": 1, "failed": 2,
                                 "not_measured": 14, "no_spec": 0}
    assert {level: v["count"] for level, v in summary["verified_at_least"].items()} == {
        "stretch": 1, "design": 2, "minimum": 3}
    assert summary["verified_at_least"]["design"]["fraction"] == pytest.approx(2 / 19)
    # the previous report of hsc_rc2 is n1, not d1 (another dataset, another CI job)
    assert [(b["ci"], b["id"]) for b in body["changes"]["previous_builds"]] == [("jenkins", "n1")]
    assert body["changes"]["newly_failing"] == ["LPM-17-OTT1", "DMS-REQ-0004"]
    assert body["changes"]["newly_passing"] == ["LPM-17-AM1", "LPM-17-TE1"]
    kinds = {c["requirement"]: c["kind"] for c in body["changes"]["requirements"]}
    assert kinds["LPM-17-PA1"] == "worse"
    assert [(b["ci"], b["id"], b["datasets"]) for b in body["builds"]] == [
        ("jenkins", "n2", ["hsc_rc2"])]
    assert body["links"]["html"] == f"{PUBLIC_URL}/dash/report/jenkins/n2"


def test_release_report_takes_the_latest_build_of_each_dataset(
    client: Any, history: InfluxStore
) -> None:
    body = client.get("/api/v1/report?branch=main").get_json()
    assert [(b["ci"], b["id"], b["datasets"]) for b in body["builds"]] == [
        ("jenkins", "n2", ["hsc_rc2"]), ("gitlab", "d2", ["dc2_test_med"])]
    assert statuses(body) == {"LPM-17-PA1": "failed", "LPM-17-AM1": "design",
                              "LPM-17-OTT1": "failed", "DMS-REQ-0004": "failed",
                              "LPM-17-TE1": "stretch", "DMS-REQ-0131": "failed"}
    pa1 = next(item for item in body["requirements"] if item["id"] == "LPM-17-PA1")
    worst = pa1["cells"][pa1["worst_cell"]]
    assert (worst["dimensions"], worst["value"], worst["build"]["id"]) == (
        {"dataset": "dc2_test_med", "filter": "i"}, 9.0, "d2")
    assert [c["verdict"] for c in pa1["cells"]] == ["fail", "stretch", "minimum"]
    assert worst["next"]["level"] == "minimum" and worst["next"]["distance"] == pytest.approx(-1)
    assert body["summary"]["counts"]["failed"] == 4
    assert sorted(body["changes"]["newly_failing"]) == sorted(
        ["LPM-17-PA1", "LPM-17-OTT1", "DMS-REQ-0004", "DMS-REQ-0131"])
    assert {(b["ci"], b["id"]) for b in body["changes"]["previous_builds"]} == {
        ("jenkins", "n1"), ("gitlab", "d1")}

    until = (T0 + timedelta(days=1, hours=1)).isoformat()
    earlier = client.get("/api/v1/report", query_string={"branch": "main", "until": until})
    assert [b["id"] for b in earlier.get_json()["builds"]] == ["d1", "n2"]


def test_release_report_over_a_named_set_of_builds(client: Any, history: InfluxStore) -> None:
    body = client.get("/api/v1/report?build=jenkins/n1&build=gitlab/d2&name=release%201.0"
                      ).get_json()
    assert body["title"] == "Verification report of release 1.0"
    assert body["scope"]["selection"] == [{"ci": "jenkins", "id": "n1"},
                                          {"ci": "gitlab", "id": "d2"}]
    assert statuses(body) == {"LPM-17-PA1": "failed", "LPM-17-AM1": "minimum",
                              "LPM-17-OTT1": "design", "DMS-REQ-0004": "design",
                              "DMS-REQ-0131": "failed"}
    missing = client.get("/api/v1/report?build=jenkins/n1&build=jenkins/n9")
    assert missing.status_code == 404 and "jenkins/n9" in missing.get_json()["error"]


@pytest.mark.parametrize(("query", "path"), [
    ("build=n1", "build[0]"), ("branch=main&build=jenkins/n1", "branch"),
    ("branch=main&until=yesterday", "until"), ("format=pdf", "format"),
])
def test_bad_report_queries_name_the_argument(
    client: Any, history: InfluxStore, query: str, path: str
) -> None:
    response = client.get(f"/api/v1/report?{query}")
    assert response.status_code == 422
    assert [d["path"] for d in response.get_json()["details"]] == [path]


def test_unknown_build_and_empty_branch_are_404(client: Any, history: InfluxStore) -> None:
    assert client.get("/api/v1/report/jenkins/nope").status_code == 404
    assert client.get("/api/v1/report?branch=nowhere").status_code == 404
    assert client.get("/dash/report/jenkins/nope").status_code == 404


def test_markdown_matches_the_golden_file(client: Any, history: InfluxStore) -> None:
    response = client.get("/api/v1/report?branch=main&format=md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    text = response.get_data(as_text=True).replace(PUBLIC_URL, "{PUBLIC_URL}")
    if os.environ.get("HARNESS_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_cli_and_api_agree(
    client: Any, history: InfluxStore, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "jenkins", "n2", "--format", "json", "--url", web]) == 0
    assert json.loads(capsys.readouterr().out) == client.get(
        "/api/v1/report/jenkins/n2").get_json()
    assert main(["report", "--branch", "main", "--url", web]) == 0
    assert capsys.readouterr().out == client.get(
        "/api/v1/report?branch=main&format=md").get_data(as_text=True)


def test_cli_gate_and_errors(
    history: InfluxStore, web: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--build", "jenkins/n1", "--fail-on", "minimum", "--url", web]) == 0
    assert main(["report", "--build", "jenkins/n1", "--fail-on", "design", "--url", web]) == 1
    assert "LPM-17-AM1 (conditional (minimum))" in capsys.readouterr().err
    assert main(["report", "jenkins", "nope", "--url", web]) == 2
    assert "404 no build jenkins/nope" in capsys.readouterr().err
    assert main(["report", "jenkins", "--url", web]) == 2
    assert main(["report", "--build", "n1", "--url", web]) == 2
    assert "build[0]: must be ci/id" in capsys.readouterr().err


def test_a_pull_request_build_is_compared_with_its_base_branch(
    client: Any, history: InfluxStore
) -> None:
    pr = job("github-actions", "pr7", timedelta(days=1, hours=5), "hsc_rc2", [
        ("validate_drp.PA1", 2.6, "mmag", "g"), ("validate_drp.PA1", 9.0, "mmag", "r")])
    pr["build"].update(branch="tickets/DM-7",
                       pull_request={"number": 7, "url": "https://git.example.org/pr/7",
                                     "base": "main"})
    assert post_all(client, [pr])[0]["state"] == "done"
    body = client.get("/api/v1/report/github-actions/pr7").get_json()
    assert [(b["id"], b["branch"]) for b in body["changes"]["previous_builds"]] == [
        ("n2", "main")]
    assert body["changes"]["newly_failing"] == ["LPM-17-PA1"]
    pa1 = next(item for item in body["requirements"] if item["id"] == "LPM-17-PA1")
    assert (pa1["previous_status"], pa1["status"]) == ("minimum", "failed")
    # requirements the PR did not measure are not measured, not failed
    assert body["summary"]["counts"]["not_measured"] == 18


def test_a_hostile_dataset_build_and_commit_are_plain_text_in_the_markdown(
    client: Any, system: InfluxStore
) -> None:
    hostile = MARKUP["html"]
    body = job("md-hostile", MARKUP["link"], timedelta(0), hostile,
               [("validate_drp.PA1", 4.0, "mmag", MARKUP["emphasis"])])
    body["build"].update(commit=MARKUP["code"], branch=MARKUP["heading"])
    assert post_all(client, [body])[0]["state"] == "done"
    response = client.get(f"{api_report_url('md-hostile', MARKUP['link'])}?format=md")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert markdown_problems(text) == []
    assert "<script" not in text and "<img" not in text
    assert "](javascript:" not in re.sub(r"\\.", "", text)  # escaped characters dropped
    assert f"datasets: {escape(hostile)}\n" in text
    assert f"| dataset={escape(hostile)}, filter={escape(MARKUP['emphasis'])} |" in text
    assert f"[{escape('md-hostile/' + MARKUP['link'])}]({PUBLIC_URL}/dash/builds/md-hostile/" \
        in text

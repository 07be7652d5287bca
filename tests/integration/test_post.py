"""`harness post` end to end: against the real web process and worker, and against a real
local HTTP server where the harness has to misbehave (503s, regressions)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.client.cli import main
from harness.client.gate import NONE
from harness.client.post import prepare
from harness.links import JOBS
from harness.markdown import escape
from harness.testing.hostile import MARKUP, URLS, markdown_problems
from harness.testing.http_stub import JsonHandler, serving
from tests.conftest import CHECKOUT, INGEST_SECRET

CI_VARIABLES = (
    "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILD_TAG", "BUILDKITE", "GITHUB_STEP_SUMMARY",
    "HARNESS_URL", "HARNESS_PUBLIC_URL", "HARNESS_TOKEN",
)
GITHUB_PR = {
    "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "9187", "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "lsst/pipe_tasks", "GITHUB_REF": "refs/pull/412/merge",
    "GITHUB_REF_NAME": "412/merge", "GITHUB_HEAD_REF": "tickets/DM-1234",
    "GITHUB_BASE_REF": "main", "GITHUB_SHA": "3f2c9e1",
}
PA1_R = {"dimensions": {"dataset": "hsc_rc2", "filter": "r"},
         "measurements": [{"metric": "validate_drp.PA1", "value": 6.0, "unit": "mmag"}]}
JOB: dict[str, Any] = {
    "measurements": [{"metric": "validate_drp.PA1", "identifier": "a1b2c3", "value": 4.7,
                      "unit": "mmag", "blob_refs": []}],
    "blobs": [],
    "meta": {"env": {"ci_name": "validate_drp", "ci_id": "1", "ci_url": "https://ci.example.org/1",
                     "ci_dataset": "hsc_rc2", "date": "2026-11-20T03:00:00Z"},
             "filter_name": "r", "packages": {}},
}

FRESH = f"{NONE} (too little history: 20 more build(s) needed)"  # no baseline yet


def linked(web: str, metric: str, query: str, branch: str = "main") -> str:
    """The summary's first cell: the metric, linked to its series' history."""
    return f"| [{metric}]({web}/dash/metrics/{metric}?{query}&branch={branch})"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CI of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name in CI_VARIABLES or name.startswith(("HARNESS_BUILD_", "GITHUB_", "CI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HARNESS_TOKEN", INGEST_SECRET)


def post(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `harness post ARGS` in-process: (exit code, stdout, stderr)."""
    try:
        code = main(["post", *args])
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, document: Any, name: str = "measurements.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def set_build(monkeypatch: pytest.MonkeyPatch, build_id: str) -> None:
    for name, value in {"CI": "laptop", "ID": build_id, "BRANCH": "main"}.items():
        monkeypatch.setenv(f"HARNESS_BUILD_{name}", value)


def test_a_native_file_posted_with_wait_prints_the_verdicts(web, system, capsys, monkeypatch,
                                                            tmp_path):
    for name, value in GITHUB_PR.items():
        monkeypatch.setenv(name, value)
    document = {
        "build": {"packages": [{"name": "pipe_tasks", "commit": "77ab0e2"}]},
        "dimensions": {"dataset": "hsc_rc2", "filter": "r"},
        "measurements": [{"metric": "validate_drp.PA1", "value": 4.7, "unit": "mmag"},
                         {"metric": "validate_drp.PA1", "value": 9.0, "unit": "mmag",
                          "dimensions": {"filter": "g"}},
                         {"metric": "pipe_tasks.runtime", "value": 13.5, "unit": "min"}],
    }
    code, out, err = post(capsys, write(tmp_path, document), "--wait", "--url", web)
    assert code == 0, err
    assert ("**[github-actions 9187](https://github.com/lsst/pipe_tasks/actions/runs/9187)** "
            "on `tickets/DM-1234`, PR [#412](https://github.com/lsst/pipe_tasks/pull/412) "
            "against `main`: done") in out
    assert "| metric | dimensions | value | verdict | change vs baseline |" in out
    assert (f"{linked(web, 'validate_drp.PA1', 'dataset=hsc_rc2&filter=r')} | dataset=hsc_rc2, "
            f"filter=r | 4.7 mmag | design | {FRESH} |") in out
    assert (f"{linked(web, 'validate_drp.PA1', 'dataset=hsc_rc2&filter=g')} | dataset=hsc_rc2, "
            f"filter=g | 9 mmag | fail | {FRESH} |") in out
    assert (f"{linked(web, 'pipe_tasks.runtime', 'dataset=hsc_rc2')} | dataset=hsc_rc2 | 810 s "
            f"| none | {FRESH} |") in out


def test_fail_on_design_fails_a_measurement_that_only_meets_minimum(web, system, capsys,
                                                                    monkeypatch, tmp_path):
    set_build(monkeypatch, "gate-1")
    code, out, err = post(capsys, write(tmp_path, PA1_R), "--fail-on", "design", "--url", web)
    assert code == 1
    assert (f"{linked(web, 'validate_drp.PA1', 'dataset=hsc_rc2&filter=r')} | dataset=hsc_rc2, "
            f"filter=r | 6 mmag | minimum | {FRESH} |") in out
    assert "--fail-on design: validate_drp.PA1 dataset=hsc_rc2, filter=r: verdict minimum" in err


def test_fail_on_minimum_passes_the_same_measurement(web, system, capsys, monkeypatch, tmp_path):
    set_build(monkeypatch, "gate-2")
    code, out, err = post(capsys, write(tmp_path, PA1_R), "--fail-on", "minimum", "--url", web)
    assert code == 0, err
    assert "| minimum |" in out


def test_metric_arguments_become_one_submission_of_the_ci_build(web, system, capsys,
                                                                monkeypatch):
    set_build(monkeypatch, "metrics-1")
    monkeypatch.setenv("HARNESS_URL", web)
    code, out, err = post(capsys, "--metric", "pipe_tasks.runtime=812s",
                          "--metric", "validate_drp.PA1=4.7mmag",
                          "--dimension", "dataset=hsc_rc2", "--dimension", "filter=r", "--wait")
    assert code == 0, err
    assert ("--metric: accepted as submission" in err and "\nharness post:   ignored "
            "measurements[0].dimensions.filter: pipe_tasks.runtime does not declare dimension "
            "'filter'; dropped\n" in err)  # runtime is per dataset only: the filter is not its
    assert "**laptop metrics-1** on `main`: done" in out
    assert (f"{linked(web, 'pipe_tasks.runtime', 'dataset=hsc_rc2')} | dataset=hsc_rc2 | 812 s "
            f"| none | {FRESH} |") in out
    assert (f"{linked(web, 'validate_drp.PA1', 'dataset=hsc_rc2&filter=r')} | dataset=hsc_rc2, "
            f"filter=r | 4.7 mmag | design | {FRESH} |") in out


def test_a_rejected_submission_exits_3_and_prints_the_paths(web, system, capsys, monkeypatch):
    set_build(monkeypatch, "rejected-1")
    code, out, err = post(capsys, "--metric", "validate_drp.NoSuchMetric=3", "--wait", "--url", web)
    assert code == 3
    assert "rejected by the harness (HTTP 422)" in err
    assert "  measurements[0].metric: unknown metric 'validate_drp.NoSuchMetric'" in err
    assert "HARNESS_AUTO_METRICS" in err  # why a catalog package's typo is not a new metric
    assert out == ""


def test_a_metric_of_ones_own_is_registered_by_its_first_value(web, system, client, capsys,
                                                                monkeypatch):
    set_build(monkeypatch, "auto-1")
    code, out, err = post(capsys, "--metric", "mypkg.wall_time=12.5s",
                          "--metric", "mypkg.rate=3,4,5 1/s", "--higher-is-better", "mypkg.rate",
                          "--wait", "--url", web)
    assert code == 0, err
    assert "mypkg.wall_time" in out and "| 12.5 s |" in out
    for name, unit, better in (("mypkg.wall_time", "s", "lower"), ("mypkg.rate", "1/s", "higher")):
        shown = client.get(f"/api/v1/metrics/{name}").json
        assert (shown["unit"], shown["better"], shown["source"]) == (unit, better, "inline")
    names = {metric["name"] for metric in client.get("/api/v1/metrics").json["metrics"]}
    assert {"mypkg.wall_time", "mypkg.rate"} <= names
    set_build(monkeypatch, "auto-2")
    code, _, err = post(capsys, "--metric", "mypkg.wall_time=12.9s", "--url", web, "--wait")
    assert code == 0, err  # the second build is judged against the registered metric


def test_github_step_summary_gets_the_table(web, system, capsys, monkeypatch, tmp_path):
    set_build(monkeypatch, "summary-1")
    summary = tmp_path / "step_summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = post(capsys, write(tmp_path, PA1_R), "--wait", "--url", web)
    assert code == 0
    assert "| [validate_drp.PA1](" in out
    assert summary.read_text() == "earlier step\n" + out


def test_a_job_document_goes_to_the_jobs_endpoint(web, system, capsys, tmp_path):
    code, out, err = post(capsys, write(tmp_path, JOB, "job.json"), "--wait", "--url", web)
    assert code == 0, err
    assert "**[validate_drp 1](https://ci.example.org/1)**" in out
    assert (f"{linked(web, 'validate_drp.PA1', 'dataset=hsc_rc2&filter=r')} | dataset=hsc_rc2, "
            f"filter=r | 4.7 mmag | design | {FRESH} |") in out


def test_a_job_gets_the_identity_it_lacks_from_the_ci(tmp_path):
    job = {**JOB, "meta": {**JOB["meta"], "env": {"ci_dataset": "hsc_rc2"}}}
    env = {"JENKINS_URL": "https://ci.lsst.codes/", "BUILD_TAG": "jenkins-validate_drp-812",
           "BUILD_URL": "https://ci.lsst.codes/job/validate_drp/812/", "GIT_BRANCH": "origin/main"}
    [document] = prepare([Path(write(tmp_path, job, "job.json"))], [], {}, env)
    assert document.path == JOBS + "?branch=main"
    assert document.body["meta"]["env"] == {
        "ci_dataset": "hsc_rc2", "ci_id": "jenkins-validate_drp-812", "ci_name": "jenkins",
        "ci_url": "https://ci.lsst.codes/job/validate_drp/812/"}
    assert document.body["measurements"] == job["measurements"]


def test_an_unreachable_harness_exits_4_after_retries(capsys, monkeypatch, tmp_path):
    set_build(monkeypatch, "unreachable-1")
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = post(capsys, write(tmp_path, PA1_R), "--url", f"http://127.0.0.1:{port}",
                        "--retries", "2", "--backoff", "0.01")
    assert code == 4
    assert "ConnectionError" in err and "after 3 attempts" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--metric", "validate_drp.PA1"], "is not NAME=VALUE[UNIT]"),
    (["--metric", "validate_drp.PA1=fast"], "is not NAME=VALUE[UNIT]"),
    ([], "nothing to post"),
])
def test_usage_errors_exit_2(capsys, monkeypatch, args, message):
    set_build(monkeypatch, "usage-1")
    code, _, err = post(capsys, *args)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not JSON"),
    ('{"meta": {}, "values": [1]}', "neither a native submission"),
    ("[1, 2]", "neither a native submission"),
])
def test_a_file_that_cannot_be_posted_exits_2(capsys, monkeypatch, tmp_path, content, message):
    set_build(monkeypatch, "usage-2")
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, _, err = post(capsys, str(path))
    assert (code, message in err) == (2, True)


def test_no_token_exits_2(capsys, monkeypatch):
    set_build(monkeypatch, "usage-3")
    monkeypatch.delenv("HARNESS_TOKEN")
    code, _, err = post(capsys, "--metric", "x.y=3")
    assert code == 2
    assert "HARNESS_TOKEN" in err


def test_no_build_identity_exits_2_naming_the_variables(capsys):
    code, _, err = post(capsys, "--metric", "validate_drp.PA1=4.7mmag")
    assert code == 2
    assert "no CI detected" in err
    assert "set HARNESS_BUILD_CI, HARNESS_BUILD_ID, HARNESS_BUILD_BRANCH" in err


# --- a real local HTTP server playing a harness that is busy, or that finds regressions --


@contextmanager
def scripted_harness(posts: list[tuple[int, dict[str, str], dict[str, Any]]],
                     status: dict[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Answers POSTs from the script (then 202 "s1"), every GET with the status."""
    received: list[dict[str, Any]] = []

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            received.append(self.json_body())
            self.reply(*(posts.pop(0) if posts else (202, {}, {"submission": "s1"})))

        def do_GET(self) -> None:
            self.reply(200, {}, status)

    with serving(Handler) as url:
        yield url, received


def test_a_busy_harness_is_retried_until_it_takes_the_submission(capsys, monkeypatch, tmp_path):
    set_build(monkeypatch, "busy-1")
    busy = [(503, {"Retry-After": "0"}, {"error": "the broker did not take the work"})]
    with scripted_harness(busy, {}) as (url, received):
        code, _, err = post(capsys, write(tmp_path, PA1_R), "--url", url)
    assert code == 0, err
    assert len(received) == 2
    assert received[0] == received[1]
    assert received[1]["build"] == {"ci": "laptop", "id": "busy-1", "branch": "main"}
    assert "accepted as submission s1" in err


def test_fail_on_regression_fails_on_a_regression_excursion_or_alert(capsys, monkeypatch,
                                                                     tmp_path):
    set_build(monkeypatch, "regression-1")
    excursion = {"decision": "regression", "baseline": 4.1, "change": 0.6,
                 "relative_change": 0.146}
    status = {"state": "done", "build": {"ci": "laptop", "id": "regression-1", "branch": "main"},
              "results": [{"metric": "validate_drp.PA1", "dimensions": {"filter": "r"},
                           "value": 4.7, "unit": "mmag", "verdict": "design",
                           "excursion": excursion}],
              "alerts": [{"kind": "regression", "metric": "validate_drp.PA1",
                          "reason": "PA1 rose 14.6 %"}]}
    with scripted_harness([], status) as (url, _):
        code, out, err = post(capsys, write(tmp_path, PA1_R), "--fail-on", "regression",
                              "--url", url)
        gated_on_design = post(capsys, write(tmp_path, PA1_R), "--fail-on", "design",
                               "--url", url)[0]
    assert code == 1
    assert ("| filter=r | 4.7 mmag | design "
            "| +0.6 mmag (+14.6%) vs 4.1 mmag **regression** |") in out
    assert "- **regression** validate_drp.PA1: PA1 rose 14.6 %" in out
    assert "validate_drp.PA1 filter=r: regression" in err
    assert "alert: validate_drp.PA1 PA1 rose 14.6 %" in err
    assert gated_on_design == 0


def test_the_summary_and_step_summary_show_hostile_strings_as_text(capsys, monkeypatch,
                                                                   tmp_path):
    set_build(monkeypatch, "hostile-1")
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    hostile = MARKUP["html"]
    status = {"state": "done",
              "build": {"ci": hostile, "id": MARKUP["link"], "branch": MARKUP["code"],
                        "url": URLS["javascript"]},
              "results": [{"metric": "validate_drp.PA1", "value": 6.0, "unit": "mmag",
                           "dimensions": {"dataset": hostile, "filter": MARKUP["table-row"]},
                           "verdict": "minimum"}],
              "alerts": [{"kind": "spec", "metric": "validate_drp.PA1", "reason": hostile}]}
    with scripted_harness([], status) as (url, _):
        code, out, _ = post(capsys, write(tmp_path, PA1_R), "--fail-on", "design", "--url", url)
    assert code == 1
    written = summary.read_text()
    assert written.startswith(out.split("\n\n**Gate failed**")[0])
    assert markdown_problems(written) == []
    assert "<script" not in written and "<img" not in written
    assert "](javascript:" not in re.sub(r"\\.", "", written)  # escaped characters dropped
    assert f"dataset={escape(hostile)}" in written
    assert f"first: {escape('validate_drp.PA1 dataset=' + hostile)}" in written


def test_processing_failed_exits_5(capsys, monkeypatch, tmp_path):
    set_build(monkeypatch, "failed-1")
    status = {"state": "failed", "build": {"ci": "laptop", "id": "failed-1", "branch": "main"},
              "results": [], "alerts": [], "error": "the store did not answer"}
    with scripted_harness([], status) as (url, _):
        code, out, err = post(capsys, write(tmp_path, PA1_R), "--wait", "--url", url)
    assert code == 5
    assert "failed (the store did not answer)" in out
    assert "processing failed: the store did not answer" in err


def test_post_imports_no_web_worker_or_science_stack(web, system, monkeypatch):
    script = ("import json, sys\nfrom harness.client.cli import main\n"
              "code = main(['post', '--metric', 'validate_drp.PA1=4.7mmag', '--dimension', "
              "'dataset=hsc_rc2', '--dimension', 'filter=r', '--wait'])\n"
              "heavy = ('flask', 'celery', 'bokeh', 'numpy', 'astropy')\n"
              "print(json.dumps([code, sorted(m for m in heavy if m in sys.modules)]))\n")
    env = {**os.environ, "HARNESS_URL": web, "HARNESS_BUILD_CI": "laptop",
           "HARNESS_BUILD_ID": "imports-1", "HARNESS_BUILD_BRANCH": "main"}
    finished = subprocess.run([sys.executable, "-c", script], cwd=CHECKOUT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    code, heavy = json.loads(finished.stdout.splitlines()[-1])
    assert (code, heavy) == (0, []), finished.stderr

"""`harness post --check --comment` on a pull request, end to end: the real web process,
worker, Redis and InfluxDB judge the PR against its base branch, and a loopback GitHub /
GitLab (harness.testing.forge_server) receives the check run and the one comment that later
runs update in place. Requests are checked field by field."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.client.comments import MARKER
from harness.storage.influx import InfluxStore
from harness.testing.forge_server import ForgeServer, Request
from tests.integration.test_post import clean_env, post
from tests.integration.test_pr_gate import START, base_history

__all__ = ["clean_env"]  # its autouse fixture: no CI of this machine leaks in, a token is set

SECRET = "ghs_forge0123456789abcdefTOKEN"
REPO = "lsst/pipe_tasks"
HEAD_SHA = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"  # the PR's head: where checks show
MERGE_SHA = "1111111111111111111111111111111111111111"  # GITHUB_SHA of a pull_request run
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
PA1 = ("--dimension", "dataset=hsc_rc2", "--dimension", "filter=r")
GATED = ("--check", "--comment", "--fail-on", "regression")


@pytest.fixture
def forge() -> Iterator[ForgeServer]:
    """A loopback GitHub/GitLab that lists two comments per page (pagination happens)."""
    server = ForgeServer(SECRET, page_size=2).start()
    yield server
    server.stop()


def github_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, forge: ForgeServer,
               run_id: str, day: int) -> None:
    """The environment of a pull_request run of PR 412 against main, `day` days after the
    base history began; GitHub's API is the loopback forge."""
    event = tmp_path / f"event-{run_id}.json"
    event.write_text(json.dumps({"action": "synchronize", "number": 412, "pull_request": {
        "number": 412, "head": {"sha": HEAD_SHA, "ref": "tickets/DM-1234"}}}))
    for name, value in {
        "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": run_id, "GITHUB_SERVER_URL":
        "https://github.com", "GITHUB_REPOSITORY": REPO, "GITHUB_REF": "refs/pull/412/merge",
        "GITHUB_REF_NAME": "412/merge", "GITHUB_HEAD_REF": "tickets/DM-1234",
        "GITHUB_BASE_REF": "main", "GITHUB_SHA": MERGE_SHA, "GITHUB_EVENT_PATH": str(event),
        "GITHUB_API_URL": forge.base_url, "GITHUB_TOKEN": SECRET,
        "HARNESS_BUILD_TIME": (START + timedelta(days=day)).isoformat(),
    }.items():
        monkeypatch.setenv(name, value)


def gitlab_run(monkeypatch: pytest.MonkeyPatch, forge: ForgeServer, pipeline: str,
               day: int) -> None:
    """The environment of a merge request pipeline of MR !7 in project 42 against main."""
    for name, value in {
        "GITLAB_CI": "true", "CI_PIPELINE_ID": pipeline,
        "CI_PIPELINE_URL": f"https://gitlab.example.org/g/p/-/pipelines/{pipeline}",
        "CI_COMMIT_SHA": HEAD_SHA, "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/faster",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_PROJECT_URL": "https://gitlab.example.org/g/p",
        "CI_API_V4_URL": forge.gitlab_url, "HARNESS_GITLAB_TOKEN": SECRET,
        "CI_JOB_TOKEN": "job-token-not-to-be-used",
        "HARNESS_BUILD_TIME": (START + timedelta(days=day)).isoformat(),
    }.items():
        monkeypatch.setenv(name, value)


def calls(requests: list[Request]) -> list[tuple[str, str]]:
    """Method and path of each request."""
    return [(request.method, request.path) for request in requests]


def assert_github_headers(request: Request) -> None:
    """The token as GitHub wants it, the API version pinned, the client named."""
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.headers["User-Agent"] == "metric-harness"


def test_a_regressing_pr_fails_its_check_and_comments_once_and_the_fix_updates_the_comment(
        web: str, client: Any, system: InfluxStore, forge: ForgeServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    base_history(client, count=25, level=4.5)  # PA1 meets design (5 mmag) on main
    for author, body in (("alice", "LGTM"), ("bob", f"> {MARKER}\n> quoting the bot"),
                         ("carol", "ship it")):
        forge.add_comment(REPO, 412, body, author)  # not ours, though one quotes the marker
    series = f"{web}/dash/metrics/validate_drp.PA1?dataset=hsc_rc2&filter=r&branch=main"
    comments = f"/repos/{REPO}/issues/412/comments"

    # a quiet run: nothing to say, so no comment; the check run passes
    github_run(monkeypatch, tmp_path, forge, "9186", day=40)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=4.52mmag", *PA1, *GATED,
                          "--url", web)
    assert code == 0, err
    assert SECRET not in out + err
    quiet = forge.requests
    assert calls(quiet) == [("POST", f"/repos/{REPO}/check-runs"),
                            ("PATCH", f"/repos/{REPO}/check-runs/{min(forge.check_runs())}"),
                            ("GET", comments), ("GET", comments)]
    assert [request.query for request in quiet[2:]] == [
        {"per_page": "100"}, {"per_page": "2", "page": "2"}]  # the Link header's next page
    assert quiet[1].body["conclusion"] == "success"
    assert "PR #412: nothing to say (--comment-on change): no comment" in err
    assert len(forge.comments(REPO, 412)) == 3

    # the regression: exit 1, a check run created in progress then completed as failure,
    # one comment created
    github_run(monkeypatch, tmp_path, forge, "9187", day=41)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=9.2mmag", *PA1, *GATED,
                          "--url", web)
    assert code == 1, err
    assert SECRET not in out + err
    failing = forge.requests[len(quiet):]
    create, complete, *listing, commented = failing
    assert [(r.method, r.path) for r in (create, commented)] == [
        ("POST", f"/repos/{REPO}/check-runs"), ("POST", comments)]
    assert calls(listing) == [("GET", comments), ("GET", comments)]
    for request in failing:
        assert_github_headers(request)
    assert create.body == {
        "name": "metric harness", "head_sha": HEAD_SHA, "status": "in_progress",
        "started_at": create.body["started_at"],
        "details_url": f"{web}/dash/builds/github-actions/9187", "external_id": "9187",
        "output": {"title": "Posting measurements", "summary": "Waiting for verdicts."}}
    assert ISO_TIME.fullmatch(create.body["started_at"])
    run_id = max(forge.check_runs())
    assert complete.method == "PATCH" and complete.path == f"/repos/{REPO}/check-runs/{run_id}"
    assert set(complete.body) == {"status", "conclusion", "completed_at", "output"}
    assert (complete.body["status"], complete.body["conclusion"]) == ("completed", "failure")
    assert ISO_TIME.fullmatch(complete.body["completed_at"])
    output = complete.body["output"]
    assert output["title"] == ("Gate failed: 1 regression, 0 improvements, 1 requirement "
                               "changed, 1 result")
    summary = output["summary"]
    assert summary.startswith(f"### \u274c Metric harness: {output['title']}\n\nBuild "
                              f"[github-actions 9187]({web}/dash/builds/github-actions/9187) of "
                              "`tickets/DM-1234`, compared with `main` (commit `1111111111")
    assert "**Gate failed** (`--fail-on regression`):\n\n- validate_drp.PA1 dataset=hsc_rc2, " \
           "filter=r: regression (+4." in summary
    row = next(line for line in summary.splitlines() if line.startswith("| [validate"))
    assert re.fullmatch(
        rf"\| \[validate_drp\.PA1\]\({re.escape(series)}\) \| dataset=hsc_rc2, filter=r \| "
        r"9\.2 mmag \| \*\*\+10\d\.\d%\*\* \(\+4\.\d+ mmag\) \| 4\.\d+ mmag \(base `main`\) \|",
        row), row
    assert "| `LPM-17-PA1` | design | **failed** |" in summary  # vs the PR's quiet run
    assert "<details><summary>All results (1)</summary>" in summary
    assert commented.body == {"body": f"{MARKER}\n{summary}"}
    assert forge.check_runs()[run_id]["conclusion"] == "failure"
    ours = forge.comments(REPO, 412)[3]
    assert ours["body"] == f"{MARKER}\n{summary}" and len(forge.comments(REPO, 412)) == 4
    assert f"PR #412: comment {ours['id']} created" in err
    assert f"check run 'metric harness' on {HEAD_SHA[:12]}: failure" in err

    # the fix: exit 0, a check run that succeeds, the same comment updated in place
    github_run(monkeypatch, tmp_path, forge, "9188", day=42)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=4.52mmag", *PA1, *GATED,
                          "--url", web)
    assert code == 0, err
    assert SECRET not in out + err
    fixed = forge.requests[len(quiet) + len(failing):]
    updated = fixed[-1]
    assert calls(fixed) == [("POST", f"/repos/{REPO}/check-runs"),
                            ("PATCH", f"/repos/{REPO}/check-runs/{max(forge.check_runs())}"),
                            ("GET", comments), ("GET", comments),
                            ("PATCH", f"/repos/{REPO}/issues/comments/{ours['id']}")]
    assert fixed[0].body["details_url"] == f"{web}/dash/builds/github-actions/9188"
    assert fixed[1].body["conclusion"] == "success"
    assert fixed[1].body["output"]["title"] == (
        "Gate passed: 0 regressions, 0 improvements, 1 requirement changed, 1 result")
    assert set(updated.body) == {"body"}
    assert updated.body["body"].startswith(
        f"{MARKER}\n### \u2705 Metric harness: Gate passed: 0 regressions")
    assert "**Gate passed** (`--fail-on regression`)." in updated.body["body"]
    assert "| `LPM-17-PA1` | failed | **design** |" in updated.body["body"]
    assert updated.body["body"] == f"{MARKER}\n{fixed[1].body['output']['summary']}"
    assert [c["body"] for c in forge.comments(REPO, 412)][3] == updated.body["body"]
    assert len(forge.comments(REPO, 412)) == 4  # no second comment
    assert f"PR #412: comment {ours['id']} updated" in err
    assert [run["conclusion"] for run in forge.check_runs().values()] == [
        "success", "failure", "success"]
    assert all(request.headers.get("Authorization") == f"Bearer {SECRET}"
               for request in forge.requests)


def test_a_merge_request_gets_one_note_that_the_fix_updates(
        web: str, client: Any, system: InfluxStore, forge: ForgeServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    base_history(client, count=25, level=4.5)
    notes = "/api/v4/projects/42/merge_requests/7/notes"
    gitlab_run(monkeypatch, forge, "501", day=40)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=9.2mmag", *PA1, *GATED,
                          "--url", web)
    assert code == 1, err
    assert SECRET not in out + err
    assert "--check: GitLab has no check runs" in err
    listed, created = forge.requests
    assert calls(forge.requests) == [("GET", notes), ("POST", notes)]
    for request in (listed, created):
        assert request.headers["PRIVATE-TOKEN"] == SECRET
        assert "JOB-TOKEN" not in request.headers and "Authorization" not in request.headers
    assert listed.query == {"per_page": "100"}
    body = created.body["body"]
    assert set(created.body) == {"body"}
    assert body.startswith(f"{MARKER}\n### \u274c Metric harness: Gate failed: 1 regression, "
                           "0 improvements, 1 requirement changed, 1 result\n\nBuild "
                           f"[gitlab-ci 501]({web}/dash/builds/gitlab-ci/501) of "
                           "`feature/faster`, compared with `main`")
    assert "| `LPM-17-PA1` | design | **failed** |" in body  # the MR's first build vs main
    note = forge.notes("42", 7)
    assert [item["body"] for item in note] == [body]
    assert f"MR !7: comment {note[0]['id']} created" in err

    gitlab_run(monkeypatch, forge, "502", day=41)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=4.52mmag", *PA1, *GATED,
                          "--url", web)
    assert code == 0, err
    assert SECRET not in out + err
    relisted, put = forge.requests[2:]
    assert calls([relisted, put]) == [("GET", notes), ("PUT", f"{notes}/{note[0]['id']}")]
    assert put.headers["PRIVATE-TOKEN"] == SECRET
    assert put.body["body"].startswith(f"{MARKER}\n### \u2705 Metric harness: Gate passed")
    assert "[gitlab-ci 502]" in put.body["body"]
    assert [item["body"] for item in forge.notes("42", 7)] == [put.body["body"]]  # one note
    assert f"MR !7: comment {note[0]['id']} updated" in err


def test_forge_errors_are_warnings_the_exit_code_is_the_gates_and_the_token_never_shows(
        web: str, system: InfluxStore, forge: ForgeServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    # every call answered 500, its message echoing the request's headers (the token too)
    github_run(monkeypatch, tmp_path, forge, "7001", day=40)
    forge.fail(times=100, status=500)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=4.7mmag", *PA1, "--check",
                          "--comment", "--comment-on", "always", "--url", web)
    assert code == 0, err
    assert SECRET not in out + err and SECRET[:12] not in out + err
    assert "warning: GitHub: creating the check run failed: POST /repos/lsst/pipe_tasks/" \
           "check-runs: HTTP 500: failure 500; the request's headers were" in err
    assert '"Authorization": "Bearer ***"' in err  # the echo was there, redacted
    assert "warning: GitHub: completing the check run failed" in err  # created late: 500
    assert "warning: GitHub: commenting on PR #412 failed: GET /repos/lsst/pipe_tasks/" \
           "issues/412/comments: HTTP 500" in err
    assert all(request.status == 500 for request in forge.requests)
    # GET and PATCH are retried twice, POST is not (it could post twice)
    assert calls(forge.requests) == [("POST", f"/repos/{REPO}/check-runs"),
                                     ("POST", f"/repos/{REPO}/check-runs"),
                                     *[("GET", f"/repos/{REPO}/issues/412/comments")] * 3]

    # refused (403): the gate still decides (minimum only: design fails), the hints say why
    forge.heal()
    forge.fail(times=100, status=403)
    before = len(forge.requests)
    github_run(monkeypatch, tmp_path, forge, "7002", day=41)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=6.0mmag", *PA1, *GATED[:2],
                          "--fail-on", "design", "--url", web)
    assert code == 1, err
    assert SECRET not in out + err and SECRET[:12] not in out + err
    assert "HTTP 403" in err and "(the job needs `permissions: checks: write`; a pull " \
                                 "request from a fork gets a read-only token)" in err
    assert "(the job needs `permissions: pull-requests: write`)" in err
    assert calls(forge.requests[before:]) == [  # a refused check run is not asked for again
        ("POST", f"/repos/{REPO}/check-runs"), ("GET", f"/repos/{REPO}/issues/412/comments")]

    # unreachable: a closed port
    forge.heal()
    stopped = ForgeServer(SECRET).start()
    stopped.stop()
    monkeypatch.setenv("GITHUB_API_URL", stopped.base_url)
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=4.7mmag", *PA1, *GATED,
                          "--url", web)
    assert code == 0, err
    assert "warning: GitHub: creating the check run failed: POST /repos/lsst/pipe_tasks/" \
           "check-runs: ConnectionError" in err
    assert SECRET not in out + err


def test_without_a_pull_request_or_a_token_nothing_is_asked_of_the_forge(
        web: str, system: InfluxStore, forge: ForgeServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    github_run(monkeypatch, tmp_path, forge, "8001", day=40)
    monkeypatch.delenv("GITHUB_TOKEN")
    code, _, err = post(capsys, "--metric", "validate_drp.PA1=4.7mmag", *PA1, "--check",
                        "--comment", "--url", web)
    assert code == 0, err
    assert "GitHub: GITHUB_TOKEN (env: GITHUB_TOKEN: ${{ github.token }}) is not set: no " \
           "check run, no comment" in err
    assert forge.requests == []

    monkeypatch.setenv("GITHUB_TOKEN", SECRET)  # a push to main: a check run, no comment
    for name, value in {"GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
                        "GITHUB_HEAD_REF": "", "GITHUB_BASE_REF": "", "GITHUB_RUN_ID": "8002",
                        "GITHUB_EVENT_PATH": ""}.items():
        monkeypatch.setenv(name, value)
    code, _, err = post(capsys, "--metric", "validate_drp.PA1=4.7mmag", *PA1, "--check",
                        "--comment", "--url", web)
    assert code == 0, err
    assert "--comment: this build is not of a pull request: no comment" in err
    assert calls(forge.requests) == [("POST", f"/repos/{REPO}/check-runs"),
                                     ("PATCH", f"/repos/{REPO}/check-runs/"
                                               f"{max(forge.check_runs())}")]
    assert forge.requests[0].body["head_sha"] == MERGE_SHA
    assert forge.requests[1].body["conclusion"] == "neutral"  # no --fail-on: nothing gated


"""What `harness post --check --comment` says and when, on literal statuses
(harness.client.comments), and where it reports, from literal environments
(harness.client.forge). No server: the end to end flow is tests/integration/test_pr_check.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import pytest
import requests

from harness.client import comments
from harness.client.comments import (
    COMMENT_LIMIT,
    MARKER,
    SUMMARY_LIMIT,
    Outcome,
    RequirementChange,
    comment_body,
    conclusion,
    is_ours,
    render,
    render_unjudged,
    requirement_changes,
    truncate,
    worth_commenting,
)
from harness.client.forge import Api, ForgeError, github_env, gitlab_env

ROOT = "https://harness.example.org"
REGRESSION = {"baseline": 4.93, "noise": 0.05, "change": 4.27, "relative_change": 0.866,
              "score": 63.4, "threshold": 2.5, "decision": "regression", "test": "base"}
IMPROVEMENT = {**REGRESSION, "change": -0.5, "relative_change": -0.1014, "score": -7.0,
               "decision": "improvement"}
QUIET = {**REGRESSION, "change": 0.01, "relative_change": 0.002, "score": 0.2,
         "decision": "ok"}
HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
LINK = "[x](javascript:alert(1))"
PR = {"number": 412, "url": "https://github.com/lsst/pipe_tasks/pull/412", "base": "main"}


def result(metric: str = "validate_drp.PA1", value: float = 9.2,
           excursion: dict[str, Any] | None = None, **dimensions: str) -> dict[str, Any]:
    """A result as the status endpoint gives it (verdict fail)."""
    return {"metric": metric, "dimensions": dimensions or {"dataset": "hsc", "filter": "r"},
            "value": value, "unit": "mmag", "verdict": "fail", "excursion": excursion}


def status(*results: dict[str, Any], **build: Any) -> dict[str, Any]:
    """A processed status of PR 412's build with these results."""
    return {"state": "done", "results": list(results), "alerts": [],
            "build": {"ci": "github-actions", "id": "9187", "branch": "tickets/DM-1234",
                      "commit": "3f2c9e1", "pull_request": PR, **build}}


def outcome(*results: dict[str, Any], gates: tuple[str, ...] = ("regression",),
            failures: tuple[tuple[str, str], ...] = (), changes: tuple[Any, ...] = (),
            **build: Any) -> Outcome:
    """A run of one status, gated on regressions unless told."""
    return Outcome([status(*results, **build)], gates, failures, changes, ROOT)


FAILED = outcome(result(excursion=REGRESSION), result("pipe_tasks.runtime", 700, IMPROVEMENT),
                 failures=(("regression", "validate_drp.PA1 dataset=hsc, filter=r: regression "
                                          "(+4.27 mmag (+86.6%) vs base 4.93 mmag)"),),
                 changes=(RequirementChange("LPM-17-PA1", "design", "failed", "newly_failing"),))


# --- what the comment says ------------------------------------------------------------------


def test_the_comment_opens_with_the_marker_then_the_verdict_and_counts() -> None:
    lines = comment_body(render(FAILED)).splitlines()
    assert lines[0] == MARKER
    assert lines[1] == ("### \u274c Metric harness: Gate failed: 1 regression, 1 improvement, "
                        "1 requirement changed, 2 results")
    assert lines[3] == ("Build [github-actions 9187](https://harness.example.org/dash/builds/"
                        "github-actions/9187) of `tickets/DM-1234`, compared with `main` "
                        "(commit `3f2c9e1`).")


def test_the_failing_gate_regressions_and_improvements_show_size_and_baseline() -> None:
    text = render(FAILED)
    assert ("**Gate failed** (`--fail-on regression`):\n\n- validate_drp.PA1 dataset=hsc, "
            "filter=r: regression (+4.27 mmag (+86.6%) vs base 4.93 mmag)") in text
    series = f"{ROOT}/dash/metrics/validate_drp.PA1?dataset=hsc&filter=r&branch=main"
    assert (f"#### Regressions\n\n| metric | dimensions | value | change | baseline |\n"
            f"|---|---|---|---|---|\n| [validate_drp.PA1]({series}) | dataset=hsc, filter=r | "
            "9.2 mmag | **+86.6%** (+4.27 mmag) | 4.93 mmag (base `main`) |") in text
    assert ("#### Improvements\n\n| metric | dimensions | value | change | baseline |\n"
            "|---|---|---|---|---|\n| [pipe_tasks.runtime]") in text
    assert "| 700 mmag | **-10.1%** (-0.5 mmag) | 4.93 mmag (base `main`) |" in text
    assert text.index("#### Regressions") < text.index("#### Improvements")


def test_requirements_whose_status_changed_come_from_the_report() -> None:
    report = {"changes": {"requirements": [
        {"requirement": "LPM-17-PA1", "before": "design", "after": "failed",
         "kind": "newly_failing"}, "not a change"]}}
    assert requirement_changes(report) == [
        RequirementChange("LPM-17-PA1", "design", "failed", "newly_failing")]
    assert requirement_changes({"schema": "harness.report/1"}) == []
    assert ("#### Requirements whose status changed\n\n| requirement | before | now |\n"
            "|---|---|---|\n| `LPM-17-PA1` | design | **failed** |") in render(FAILED)


def test_everything_else_is_folded_in_details_with_the_whole_summary() -> None:
    text = render(FAILED)
    folded = text[text.index("<details>"):]
    assert folded.startswith("<details><summary>All results (2)</summary>\n\n### Metric harness")
    assert "| metric | dimensions | value | verdict | change vs baseline |" in folded
    assert folded.rstrip().endswith("</details>")


def test_a_passing_gate_says_so_and_no_gate_warns_of_regressions() -> None:
    passed = render(outcome(result(value=4.95, excursion=QUIET)))
    assert passed.startswith("### \u2705 Metric harness: Gate passed: 0 regressions, "
                             "0 improvements, 1 result")
    assert "**Gate passed** (`--fail-on regression`)." in passed
    assert "#### Regressions" not in passed
    ungated = render(outcome(result(excursion=REGRESSION), gates=()))
    assert ungated.startswith("### \u26a0\ufe0f Metric harness: No gate: 1 regression")


def test_a_run_not_judged_says_why_instead_of_stale_verdicts() -> None:
    text = render_unjudged("rejected by the harness", status()["build"], ROOT)
    assert text.startswith("### \u26a0\ufe0f Metric harness: not judged: rejected by the "
                           "harness\n")
    assert f"[github-actions 9187]({ROOT}/dash/builds/github-actions/9187)" in text


@pytest.mark.parametrize(("comment_on", "run", "existing", "posted"), [
    ("change", FAILED, False, True),  # a failed gate
    ("change", outcome(result(excursion=IMPROVEMENT)), False, True),  # an improvement
    ("change", outcome(result(excursion=QUIET), changes=(
        RequirementChange("R", "minimum", "design", "newly_passing"),)), False, True),
    ("change", outcome(result(excursion=QUIET)), False, False),  # nothing to say
    ("change", outcome(result(excursion=QUIET)), True, True),  # but the old one is updated
    ("failure", outcome(result(excursion=REGRESSION), gates=()), False, False),  # no gate
    ("failure", FAILED, False, True),
    ("failure", outcome(result(excursion=QUIET)), True, True),
    ("always", outcome(result(excursion=QUIET)), False, True),
    ("change", None, False, False),  # not judged: only an earlier comment is updated
    ("change", None, True, True),
    ("always", None, False, True),
])
def test_a_comment_is_posted_only_with_something_to_say_and_an_old_one_always_updated(
        comment_on: str, run: Outcome | None, existing: bool, posted: bool) -> None:
    assert worth_commenting(run, comment_on, existing) is posted


def test_the_check_run_concludes_failure_success_or_neutral() -> None:
    assert conclusion(FAILED) == "failure"
    assert conclusion(outcome(result(excursion=QUIET))) == "success"
    assert conclusion(outcome(result(excursion=REGRESSION), gates=())) == "neutral"
    assert conclusion(outcome()) == "neutral"  # nothing judged
    assert conclusion(None) == "neutral"


def test_only_a_body_that_starts_with_the_marker_is_ours() -> None:
    assert is_ours(comment_body("hello"))
    assert not is_ours(f"> {MARKER}\n> quoted by a reviewer")
    assert not is_ours(None)


# --- limits ---------------------------------------------------------------------------------


def test_long_lists_stop_at_max_rows_and_point_to_the_folded_summary() -> None:
    many = [result(f"pkg.m{index:03d}", excursion=REGRESSION) for index in range(40)]
    failures = tuple(("regression", f"pkg.m{index:03d}: regression") for index in range(40))
    text = render(outcome(*many, failures=failures))
    own = text[:text.index("<details>")]
    assert own.count("| [pkg.m") == comments.MAX_ROWS and own.count("- pkg.m") == 25
    assert own.count("\u2026 and 15 more: see all results below.") == 2
    assert text[text.index("<details>"):].count("| [pkg.m") == 40


def test_a_long_comment_is_cut_to_the_limit_at_a_line_end_with_details_closed() -> None:
    many = [result(f"pkg.metric_{index:05d}", excursion=QUIET, dataset="x" * 40)
            for index in range(2000)]
    text = render(outcome(*many))
    assert comments.length(text) > COMMENT_LIMIT
    body = comment_body(text)
    assert comments.length(body) <= COMMENT_LIMIT
    assert body.startswith(MARKER + "\n### \u2705 Metric harness: Gate passed")
    assert body.rstrip().endswith(
        "</details>\n\n*Cut to fit the forge's size limit: every result is on the build page.*")
    assert body.count("<details>") == body.count("</details>") == 1
    last_row = body[:body.index("\n\n</details>")].splitlines()[-1]
    assert last_row.startswith("| [pkg.metric_") and last_row.endswith(" |")  # a whole row
    summary = truncate(text, SUMMARY_LIMIT)
    assert comments.length(summary) <= SUMMARY_LIMIT and summary.count("</details>") == 1


def test_characters_beyond_the_basic_plane_count_twice() -> None:
    text = "\U0001f4c8" * 40_000  # 80 000 UTF-16 code units on one line
    cut = truncate(text, 1000)
    assert comments.length(cut) <= 1000
    assert truncate("short", 1000) == "short"


# --- hostile names --------------------------------------------------------------------------


def hostile_outcome() -> Outcome:
    """Every name a string that would be HTML, a link or a table cell boundary."""
    row = result(HOSTILE, excursion=REGRESSION, dataset="a|b", filter=LINK)
    row["unit"] = "<u>"
    return Outcome(
        [status(row, id=LINK, branch=HOSTILE, commit="<b>",
                pull_request={"number": 1, "base": "a|b"})],
        ("regression",), (("regression", f"{HOSTILE} dataset=a|b: regression"),),
        (RequirementChange(HOSTILE, LINK, "a|b", "worse"),), ROOT)


def assert_inert(markdown: str) -> None:
    """No HTML tag and no link or image from a hostile name."""
    for tag in ("<script", "<img", "<u>", "<b>"):
        assert tag not in markdown
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown)
    assert not re.search(r"(?<!\\)\[x", markdown)


def test_hostile_names_come_out_as_text_in_what_the_comment_adds() -> None:
    text = render(hostile_outcome())
    own = text[:text.index("<details>")]
    assert_inert(own)
    assert ("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&gt;&lt;img src=x "
            "onerror=alert(2)&gt;") in own
    rows = [line for line in own.splitlines() if line.startswith("| [")]
    assert len(rows) == 1 and rows[0].count("|") - rows[0].count("\\|") == 6  # 5 cells
    assert "| dataset=a\\|b, filter=\\[x\\](javascript:alert(1)) |" in rows[0]
    assert "compared with a\\|b" in own and "Build [github-actions \\[x\\]" in own


def test_hostile_names_come_out_as_text_in_the_whole_comment() -> None:
    assert_inert(comment_body(render(hostile_outcome())))


# --- where to report ------------------------------------------------------------------------


def github(tmp_path: Path, event: dict[str, Any] | None = None, **env: str) -> dict[str, str]:
    """A GitHub Actions environment, with an event file when given one."""
    variables = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "lsst/pipe_tasks",
                 "GITHUB_RUN_ID": "9187", "GITHUB_SHA": "merge0", "GITHUB_TOKEN": "ghs_secret",
                 "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main"}
    if event is not None:
        path = tmp_path / "event.json"
        path.write_text(json.dumps(event))
        variables["GITHUB_EVENT_PATH"] = str(path)
    return {**variables, **env}


def test_github_reports_on_the_pull_requests_head_commit_from_the_event(tmp_path: Path) -> None:
    event = {"pull_request": {"number": 412, "head": {"sha": "head1"}}}
    found = github_env(github(tmp_path, event))
    assert found is not None
    assert (found.api, found.repository, found.sha, found.pull_request) == (
        "https://api.github.com", "lsst/pipe_tasks", "head1", 412)
    assert "ghs_secret" not in repr(found)


def test_github_takes_the_number_from_the_ref_or_the_override(tmp_path: Path) -> None:
    found = github_env(github(tmp_path, GITHUB_REF="refs/pull/77/merge",
                              GITHUB_API_URL="https://ghe.example.org/api/v3/"))
    assert found is not None
    assert (found.api, found.sha, found.pull_request) == (
        "https://ghe.example.org/api/v3", "merge0", 77)
    overridden = github_env(github(tmp_path, {"pull_request": {"number": 5}},
                                   HARNESS_BUILD_PR_NUMBER="9"))
    assert overridden is not None and overridden.pull_request == 9
    push = github_env(github(tmp_path, {"ref": "refs/heads/main"}))
    assert push is not None and push.pull_request is None and push.sha == "merge0"
    assert github_env({"GITLAB_CI": "true"}) is None


def test_gitlab_prefers_a_private_token_over_the_job_token() -> None:
    env = {"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.org/",
           "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_PROJECT_ID": "7",
           "CI_MERGE_REQUEST_IID": "3", "CI_PIPELINE_ID": "1", "CI_JOB_TOKEN": "job"}
    found = gitlab_env(env)
    assert found is not None
    assert (found.api, found.project, found.token_header, found.token, found.merge_request) == (
        "https://gitlab.example.org/api/v4", "7", "JOB-TOKEN", "job", 3)
    private = gitlab_env({**env, "HARNESS_GITLAB_TOKEN": "glpat",
                          "CI_API_V4_URL": "https://g/api/v4"})
    assert private is not None
    assert (private.api, private.token_header, private.token) == (
        "https://g/api/v4", "PRIVATE-TOKEN", "glpat")
    assert gitlab_env({"GITHUB_ACTIONS": "true"}) is None


# --- errors never show the token ------------------------------------------------------------


def answer(status: int, text: str) -> requests.Response:
    """A response as requests would build it, without a server."""
    response = requests.Response()
    response.status_code, response._content = status, text.encode()
    return response


@pytest.mark.parametrize("offset", [0, 260, 270, 2000])  # 260, 270: the cut falls in it
def test_an_error_that_echoes_the_token_is_redacted_before_it_is_cut(offset: int) -> None:
    secret = "ghs_0123456789abcdefSECRET"
    with requests.Session() as session:
        api = Api("GitHub", "https://api.github.com", {"Authorization": f"Bearer {secret}"},
                  secret, session)
        message = "x" * offset + f"Authorization: Bearer {secret} " + "y" * 50
        for text in (json.dumps({"message": message}), message):
            with pytest.raises(ForgeError) as raised:
                api.check("PATCH", "/repos/a/b/check-runs/1", answer(403, text))
            assert raised.value.status == 403
            assert str(raised.value).startswith("PATCH /repos/a/b/check-runs/1: HTTP 403: ")
            assert "ghs_0" not in str(raised.value) and "SECRET" not in str(raised.value)
            assert "Bearer ***" in str(raised.value) or offset > 270
        api.check("GET", "/x", answer(200, "[]"))  # 2xx: no error


class OnePage:
    """A session whose every GET answers one comment and a Link to a next page elsewhere."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def request(self, method: str, url: str, **_: Any) -> requests.Response:
        """Record the URL; answer the page."""
        self.urls.append(url)
        response = answer(200, json.dumps([{"id": 1, "body": "LGTM"}]))
        response.headers["Link"] = '<https://elsewhere.example.org/steal?page=2>; rel="next"'
        return response


def test_a_next_page_on_another_host_is_not_fetched_with_the_token() -> None:
    session = OnePage()
    api = Api("GitHub", "https://api.github.com", {"Authorization": "Bearer s3cret"}, "s3cret",
              cast(requests.Session, session))
    listing = api.pages("/repos/a/b/issues/1/comments")
    assert next(listing) == {"id": 1, "body": "LGTM"}
    with pytest.raises(ForgeError, match="the next page is on another host"):
        next(listing)
    assert session.urls == ["https://api.github.com/repos/a/b/issues/1/comments"]

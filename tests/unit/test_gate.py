"""The summary `harness post --wait` prints and its --fail-on gates, on literal statuses
(harness.client.gate)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.client.gate import GATES, gate_failures, gate_line, summary_markdown
from harness.markdown import code, escape
from harness.testing.hostile import STRINGS, URLS, markdown_problems

EXCURSION = {"baseline": 4.2, "noise": 0.13, "change": 0.55, "relative_change": 0.1309,
             "score": 4.1, "threshold": 3.35, "decision": "regression", "test": "history"}


def status(*results: dict[str, Any], alerts: list[Any] | None = None,
           **build: Any) -> dict[str, Any]:
    return {"state": "done", "build": {"ci": "jenkins", "id": "9187", "branch": "main",
                                       **build},
            "results": list(results), "alerts": alerts or []}


def result(metric: str = "validate_drp.PA1", value: float | None = 4.75,
           verdict: str = "design", **extra: Any) -> dict[str, Any]:
    return {"metric": metric, "dimensions": {"filter": "r", "dataset": "hsc"}, "value": value,
            "unit": "mmag", "verdict": verdict, **extra}


# --- gates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("verdict", "failing"), [
    ("stretch", set()), ("design", set()), ("none", set()),
    ("minimum", {"design"}), ("fail", {"design", "minimum"}),
])
def test_each_gate_fails_on_the_verdicts_below_it(verdict: str, failing: set[str]) -> None:
    statuses = [status(result(verdict=verdict))]
    assert {gate for gate in GATES if gate_failures(statuses, gate)} == failing


def test_a_failure_names_the_series_and_verdict() -> None:
    assert gate_failures([status(result(verdict="fail"))], "minimum") == [
        "validate_drp.PA1 dataset=hsc, filter=r: verdict fail"]


def test_the_regression_gate_fails_on_a_regressing_result_and_on_regression_alerts() -> None:
    statuses = [status(result(excursion=EXCURSION),
                       alerts=[{"kind": "regression", "metric": "pkg.m", "reason": "rose"},
                               {"kind": "spec", "metric": "pkg.m", "reason": "missed"},
                               "not an alert"])]
    assert gate_failures(statuses, "regression") == [
        "validate_drp.PA1 dataset=hsc, filter=r: regression (+0.55 mmag (+13.1%) vs 4.20 "
        "mmag, z = +4.1 (threshold 3.35))",
        "alert: pkg.m rose"]


def test_an_improvement_does_not_fail_the_regression_gate() -> None:
    improvement = {**EXCURSION, "change": -0.5, "decision": "improvement"}
    assert gate_failures([status(result(excursion=improvement))], "regression") == []


def test_statuses_without_results_pass_every_gate() -> None:
    assert all(gate_failures([{"state": "failed", "results": None}], gate) == []
               for gate in GATES)


def test_the_gate_line_says_passed_or_counts_the_failures() -> None:
    assert gate_line(["design"], []).startswith("**Gate passed** (`--fail-on design`)")
    failures = [("design", "a: verdict minimum"), ("regression", "b: regression"),
                ("regression", "alert: c"), ("design", "d: verdict fail")]
    assert gate_line(["design", "regression"], failures) == (
        "**Gate failed** (`--fail-on design,regression`): 2 below design; 2 regressions; "
        "first: a: verdict minimum.")
    assert gate_line(["minimum", "regression"], [("regression", "x")]) == (
        "**Gate failed** (`--fail-on minimum,regression`): 1 regression; first: x.")


# --- the summary ------------------------------------------------------------------------------


def test_a_summary_has_a_build_line_and_a_row_per_result() -> None:
    text = summary_markdown([status(result(excursion=EXCURSION), url="https://ci/9187",
                                    commit="abc")])
    lines = text.splitlines()
    assert lines[0] == "### Metric harness"
    assert lines[2] == "**[jenkins 9187](https://ci/9187)** on `main`: done"
    assert lines[6] == ("| validate_drp.PA1 | dataset=hsc, filter=r | 4.75 mmag | design | "
                        "+0.55 mmag (+13.1%) vs 4.20 mmag, z = +4.1 (threshold 3.35) "
                        "**regression** |")


def test_with_a_base_url_the_summary_links_the_build_page_and_each_series() -> None:
    text = summary_markdown([status(result())], "https://harness.example.org/")
    assert "· [build page](https://harness.example.org/dash/builds/jenkins/9187)" in text
    assert ("[validate_drp.PA1](https://harness.example.org/dash/metrics/validate_drp.PA1?"
            "dataset=hsc&filter=r&branch=main)") in text


def test_a_pull_request_links_series_on_its_base_branch() -> None:
    pull = {"number": 412, "url": "https://git/pr/412", "base": "release"}
    text = summary_markdown([status(result(), branch="feature", pull_request=pull)],
                            "https://h")
    assert ("on `feature`, PR [#412](https://git/pr/412) against `release`: done") in text
    assert "branch=release" in text and "branch=feature" not in text


def test_values_without_history_samples_or_value_read_plainly() -> None:
    insufficient = {"decision": "insufficient", "needed": 12}
    rows = [result(excursion=insufficient, samples={"count": 5, "spread": 0.25}),
            result(value=None, verdict="none")]
    text = summary_markdown([status(*rows)])
    assert "| 4.75 mmag (n = 5, sd 0.25) | design | – (too little history: 12 more build(s) " \
        "needed) |" in text
    assert "| no value | none | – |" in text


def test_alerts_and_errors_are_listed() -> None:
    failed = {**status(alerts=[{"kind": "spec", "metric": "pkg.m", "reason": "fails"}]),
              "state": "failed", "error": "store down"}
    text = summary_markdown([failed])
    assert ": failed (store down)" in text
    assert "Alerts:\n\n- **spec** pkg.m: fails" in text


def test_table_cells_escape_pipes_and_newlines() -> None:
    text = summary_markdown([status({**result(), "dimensions": {"dataset": "a|b\nc"}})])
    assert "dataset=a\\|b c" in text


def test_a_change_is_rounded_to_a_tenth_of_the_noise() -> None:
    fine = {**EXCURSION, "noise": 0.0013, "change": 0.01234, "baseline": 4.56789}
    text = summary_markdown([status(result(excursion=fine))])
    assert "+0.0123 mmag (+13.1%) vs 4.5679 mmag" in text


@pytest.mark.parametrize("hostile", list(STRINGS.values()), ids=list(STRINGS))
def test_every_string_of_a_status_is_shown_escaped(hostile: str) -> None:
    row = result(metric=hostile, verdict=hostile, unit=hostile, dimensions={hostile: hostile},
                 excursion={**EXCURSION, "decision": hostile})
    pull = {"number": hostile, "url": URLS["javascript"], "base": hostile}
    alerts = [{"kind": hostile, "metric": hostile, "reason": hostile}]
    state = {**status(row, alerts=alerts, ci=hostile, id=hostile, branch=hostile,
                      url=URLS["breaks-out"], pull_request=pull),
             "state": hostile, "error": hostile}
    text = summary_markdown([state], "https://harness.example.org") + gate_line(
        ["design"], [("design", hostile)])
    assert markdown_problems(text) == []
    assert f"**[{escape(f'{hostile} {hostile}')}](https://ci.example.org/x%29%20" in text
    assert f", PR {escape('#' + hostile)} ({escape(URLS['javascript'])}) against " \
           f"{code(hostile)}: {escape(hostile)} ({escape(hostile)})" in text
    assert f"| {escape(f'{hostile}={hostile}')} | {escape(f'4.75 {hostile}')} | " \
           f"{escape(hostile)} |" in text
    assert f"- **{escape(hostile)}** {escape(hostile)}: {escape(hostile)}" in text
    assert text.endswith(f"first: {escape(hostile)}.")

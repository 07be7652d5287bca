"""The report as Markdown (harness.report.markdown)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.alerting.summaries import summarize
from harness.catalog import Requirement
from harness.markdown import code, escape
from harness.report.markdown import percent, quantity, render_markdown, step_text
from harness.report.model import BuildRef, Observation, Step, build_report
from harness.testing.hostile import STRINGS, URLS, markdown_problems

from ..examples import CATALOG, PA1, RUNTIME, alert

BUILD = {"ci": "jenkins", "id": "9", "branch": "main", "time": "2026-11-20T03:00:00Z",
         "commit": "abc", "datasets": ["hsc"]}


def observation(value: float, build: str = "9") -> Observation:
    return Observation(PA1.name, {"dataset": "hsc", "filter": "r"}, value, "mmag",
                       BuildRef("jenkins", build, "main", f"2026-11-2{build[-1]}T03:00:00Z"))


def test_quantities_and_percentages() -> None:
    assert quantity(4.123456, "mmag") == "4.123 mmag"
    assert quantity(12.0, "") == "12"
    assert quantity(None, "s") == "–"
    assert percent(0.375) == "37.5 %"


def test_a_step_as_headroom_or_as_a_shortfall() -> None:
    step = Step("design", "p.design", "<=", 5.0, -1.5, -0.3)
    assert step_text(step, "mmag", "short") == "1.5 mmag (30.0 %) short of design ≤ 5 mmag"
    assert step_text(step, "mmag", "above") == "1.5 mmag (30.0 %) inside design ≤ 5 mmag"
    assert step_text(None, "mmag", "above") == "–"


def test_a_report_renders_builds_summary_changes_requirements_and_cells() -> None:
    report = build_report(CATALOG, [observation(6.0)], title="Nightly 9",
                          scope={"kind": "build"}, builds=[BUILD],
                          previous=[observation(4.0, "8")],
                          previous_builds=[{**BUILD, "id": "8"}])
    text = render_markdown(report, "https://h.example/")
    assert text.startswith("# Nightly 9\n\n- [jenkins/9](https://h.example/dash/builds/jenkins/9)"
                           " on `main`, 2026-11-20T03:00:00Z, commit `abc`; datasets: hsc\n")
    assert "- compared with the previous report: [jenkins/8](" in text
    assert "| conditional (minimum) | 1 | 100.0 % |" in text
    assert ("- **Worse**: LPM-17-PA1 (verified (design) → conditional (minimum))") in text
    assert ("| LPM-17-PA1 | Photometric repeatability | conditional (minimum) | "
            "`validate_drp.PA1` (dataset=hsc, filter=r) = 6 mmag, minimum | "
            "`validate_drp.PA1` |") in text
    assert ("(https://h.example/dash/metrics/validate_drp.PA1?dataset=hsc&filter=r&branch=main)"
            in text)
    assert "| 4 mmag, design |" in text and text.endswith("</details>\n")


def test_a_report_with_nothing_to_compare_says_so() -> None:
    report = build_report(CATALOG, [], title="t", scope={}, builds=[])
    text = render_markdown(report, "")
    assert "- no builds" in text
    assert "No earlier results on this branch to compare with." in text
    assert "## Cells\n" in text and "<details>" not in text


@pytest.mark.parametrize("hostile", list(STRINGS.values()), ids=list(STRINGS))
def test_every_submitted_string_is_shown_escaped(hostile: str) -> None:
    build = {"ci": hostile, "id": hostile, "branch": hostile, "time": hostile,
             "commit": hostile, "datasets": [hostile], "expired": {"message": "expired"}}
    ref = BuildRef(hostile, hostile, hostile, "2026-11-20T03:00:00Z")
    judged = Observation(PA1.name, {"dataset": hostile, "filter": hostile}, 6.0, hostile, ref)
    requirement = Requirement("LPM-17-PA1", hostile, url=URLS["javascript"])
    catalog = replace(CATALOG, requirements={"LPM-17-PA1": requirement})
    report = build_report(catalog, [judged], title=hostile, scope={}, builds=[build],
                          previous=[judged], previous_builds=[build])
    text = render_markdown(report, "https://h.example")
    assert markdown_problems(text) == []
    assert f"# {escape(hostile)}\n" in text
    assert f"datasets: {escape(hostile)} — expired\n" in text
    assert f"dataset={escape(hostile)}, filter={escape(hostile)}" in text
    assert f"| LPM-17-PA1 ({escape(URLS['javascript'])}) | {escape(hostile)} |" in text
    assert f", commit {code(hostile)};" in text


def test_each_requirement_names_the_open_summaries_of_its_metrics() -> None:
    regression = alert(series=(PA1.name, {"dataset": "hsc", "filter": "r"}, "main"),
                       build="n12", started_build="n10", started_time="2026-11-18T03:00:00Z")
    elsewhere = alert(series=(RUNTIME.name, {"dataset": "hsc"}, "main"), build="n12")
    closed = replace(alert(build="n02", time="2026-10-01T03:00:00Z"), state="resolved")
    summaries = summarize([regression, elsewhere, closed])
    report = build_report(CATALOG, [observation(4.0)], title="t", scope={}, builds=[BUILD],
                          open_summaries=summaries)
    (requirement,) = report.requirements
    (cause,) = requirement.open_causes
    assert cause.id == summaries[[s.cause.build_id for s in summaries].index("n10")].id
    assert cause.to_json() == {
        "id": cause.id, "kind": "regression", "direction": "regression",
        "severity": "warning", "branch": "main",
        "build": {"ci": "jenkins", "id": "n10", "time": "2026-11-18T03:00:00Z"},
        "counts": {PA1.name: 1}, "links": {"html": f"/dash/summaries/{cause.id}",
                                          "api": f"/api/v1/alert-summaries/{cause.id}"}}
    text = render_markdown(report, "https://h.example")
    assert (f"- LPM-17-PA1: [regression](https://h.example/dash/summaries/{cause.id}) (warning)"
            f" since build jenkins n10 on `main`: `{PA1.name}` × 1") in text
    quiet = build_report(CATALOG, [observation(4.0)], title="t", scope={}, builds=[BUILD])
    assert "No alert summary is open on these metrics." in render_markdown(quiet, "https://h")


def test_the_report_says_that_missing_design_without_a_minimum_spec_fails() -> None:
    text = render_markdown(build_report(CATALOG, [], title="t", scope={}, builds=[]), "h")
    assert "A metric with no minimum spec has no conditional pass: missing its design spec " \
           "is a failure." in text

"""The alert rules on literal judgements: which points alert, under which identity, saying
what (harness.detection.rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.alerting.alerts import alert_id
from harness.catalog import LEVELS, Metric, Spec
from harness.detection.rules import (
    SPEC_MEMORY,
    VERDICT_RANK,
    BuildRef,
    Finding,
    excursion_alert,
    excursion_reason,
    met_again,
    open_spec_ranks,
    series_findings,
    spec_alert,
    spec_reason,
)
from harness.detection.verdicts import verdict
from harness.model import Excursion

from .examples import COMPLETENESS, DIMENSIONS, NOTICED, ONSET, PA1, alert

EXCURSION = Excursion(baseline=5.0, noise=0.3, change=1.2, relative_change=0.24, score=4.56,
                      decision="regression", started=3, threshold=3.35)


def findings(verdicts: Sequence[str | None], first: int = 0, open_spec_rank: int = 0,
             decisions: list[str] | None = None, started: list[int] | None = None
             ) -> list[Finding]:
    """series_findings with every judged point `ok` unless decisions are given."""
    judged = len(verdicts) - first
    return series_findings(decisions or ["ok"] * judged, started or [0] * judged, verdicts,
                           first, open_spec_rank)


# --- series_findings: excursions --------------------------------------------------------


def test_points_that_are_ok_and_meet_design_call_for_nothing() -> None:
    assert findings(["design"] * 30) == []


def test_a_regression_is_found_at_its_build_and_named_by_its_onset() -> None:
    decisions = ["ok", "ok", "regression", "ok"]
    found = findings(["design"] * 14, first=10, decisions=decisions, started=[0, 0, 3, 4])
    assert found == [Finding("regression", 12, 9)]


def test_an_improvement_is_found_like_a_regression() -> None:
    found = findings(["stretch"] * 3, decisions=["ok", "improvement", "ok"], started=[0, 0, 0])
    assert found == [Finding("improvement", 1, 1)]


@pytest.mark.parametrize("decision", ["ok", "insufficient"])
def test_decisions_other_than_an_excursion_are_not_findings(decision: str) -> None:
    assert findings(["design"] * 2, decisions=[decision] * 2, started=[5, 5]) == []


def test_decisions_and_onsets_must_pair_up() -> None:
    with pytest.raises(ValueError):
        series_findings(["ok", "ok"], [0], ["design", "design"], 0)


# --- series_findings: specs ---------------------------------------------------------------


def test_the_first_build_meeting_only_the_minimum_is_a_spec_alert() -> None:
    assert findings(["design"] * 5 + ["minimum"]) == [Finding("spec", 5, 5)]


def test_a_build_that_fails_every_spec_is_a_spec_alert() -> None:
    assert findings(["stretch", "design", "fail"]) == [Finding("spec", 2, 2)]


def test_a_series_that_stays_at_the_minimum_alerts_once() -> None:
    assert findings(["design", *["minimum"] * 10]) == [Finding("spec", 1, 1)]


def test_falling_from_minimum_to_fail_alerts_again() -> None:
    found = findings(["design", "minimum", "minimum", "fail", "fail"])
    assert found == [Finding("spec", 1, 1), Finding("spec", 3, 3)]


def test_a_minimum_within_the_spec_memory_of_another_does_not_alert() -> None:
    verdicts = ["minimum", *["design"] * (SPEC_MEMORY - 1), "minimum"]
    assert findings(verdicts, first=len(verdicts) - 1) == []


def test_a_minimum_older_than_the_spec_memory_is_forgotten() -> None:
    verdicts = ["minimum", *["design"] * SPEC_MEMORY, "minimum"]
    assert findings(verdicts, first=len(verdicts) - 1) == [Finding("spec", len(verdicts) - 1,
                                                                    len(verdicts) - 1)]


def test_a_spec_alert_found_in_the_same_pass_counts_as_still_open() -> None:
    """The first spec alert is not triaged yet: the same verdict much later stays quiet."""
    verdicts = ["minimum", *["design"] * (SPEC_MEMORY + 5), "minimum"]
    assert findings(verdicts) == [Finding("spec", 0, 0)]


@pytest.mark.parametrize(("open_rank", "verdict", "alerts"), [
    (2, "minimum", False), (2, "fail", True), (3, "fail", False), (0, "minimum", True),
])
def test_an_open_spec_alert_silences_verdicts_no_worse_than_its_own(
        open_rank: int, verdict: str, alerts: bool) -> None:
    found = findings(["design", verdict], first=1, open_spec_rank=open_rank)
    assert (found == [Finding("spec", 1, 1)]) is alerts


def test_verdicts_before_first_are_remembered_but_never_alerted() -> None:
    assert findings(["fail", "design", "fail"], first=1) == []
    assert findings(["fail", "design", "design"], first=2) == []


@pytest.mark.parametrize("verdict", [None, "none", "stretch", "design", "no-such-verdict"])
def test_only_minimum_and_fail_rank_as_spec_alerts(verdict: str | None) -> None:
    assert findings(["stretch", verdict]) == []


def test_the_ranks_order_the_levels() -> None:
    ranks = [VERDICT_RANK[level] for level in ("stretch", "design", "minimum", "fail")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 4


@given(st.lists(st.sampled_from(["stretch", "design", "none", "minimum", "fail", None]),
                min_size=1, max_size=60), st.data())
def test_spec_findings_are_judged_points_worse_than_their_recent_past(
        verdicts: list[str | None], data: st.DataObject) -> None:
    first = data.draw(st.integers(0, len(verdicts) - 1))
    ranks = [VERDICT_RANK.get(str(v), 0) for v in verdicts]
    found = findings(verdicts, first=first)
    for finding in found:
        assert finding.kind == "spec" and finding.onset == finding.end
        assert first <= finding.end < len(verdicts)
        assert ranks[finding.end] >= 2
        assert ranks[finding.end] > max(ranks[max(0, finding.end - SPEC_MEMORY):finding.end],
                                        default=0)
    ends = [finding.end for finding in found]
    assert ends == sorted(set(ends))


@given(st.lists(st.tuples(st.sampled_from(["ok", "regression", "improvement", "insufficient"]),
                          st.integers(0, 50)), min_size=1, max_size=40),
       st.integers(0, 30))
def test_excursion_findings_begin_at_or_before_their_end(
        judged: list[tuple[str, int]], first: int) -> None:
    decisions = [decision for decision, _ in judged]
    found = series_findings(decisions, [back for _, back in judged],
                            ["design"] * (first + len(judged)), first)
    assert [f.end for f in found] == [first + i for i, d in enumerate(decisions)
                                      if d in ("regression", "improvement")]
    assert all(f.onset == f.end - judged[f.end - first][1] for f in found)


# --- open_spec_ranks --------------------------------------------------------------------


def test_open_spec_ranks_takes_the_worst_open_or_acknowledged_spec_alert_per_series() -> None:
    other = ("pipe_tasks.runtime", {"dataset": "hsc_rc2"}, "main")
    alerts = [
        alert("spec", severity="warning", build="101"),
        alert("spec", severity="critical", build="102", state="acknowledged"),
        alert("spec", severity="warning", series=other),
    ]
    assert open_spec_ranks(alerts) == {alerts[0].series: 3, alerts[2].series: 2}


@pytest.mark.parametrize("state", ["resolved", "invalid"])
def test_closed_spec_alerts_do_not_count(state: str) -> None:
    assert open_spec_ranks([alert("spec", severity="critical", state=state)]) == {}


def test_excursion_alerts_are_not_spec_alerts() -> None:
    assert open_spec_ranks([alert("regression"), alert("improvement", severity="info")]) == {}


# --- excursion_alert ----------------------------------------------------------------------


def test_an_excursion_alert_is_named_by_its_onset_and_dated_by_the_build_that_saw_it() -> None:
    made = excursion_alert("regression", PA1, DIMENSIONS, "main", 6.2, EXCURSION, NOTICED, ONSET)
    assert made.id == alert_id(PA1.name, DIMENSIONS, "main", "jenkins/102", "regression")
    assert (made.kind, made.severity, made.build_id, made.time) == (
        "regression", "warning", "105", NOTICED.time)
    assert (made.started_build, made.started_time) == ("102", ONSET.time)
    assert (made.baseline, made.change, made.relative_change) == (5.0, 1.2, 0.24)
    assert (made.build_url, made.commit, made.unit, made.value) == (
        NOTICED.url, "3f2c9e1", "mmag", 6.2)


def test_two_builds_noticing_one_excursion_make_one_alert() -> None:
    later = BuildRef("jenkins", "107", "2026-11-22T03:00:00Z")
    first = excursion_alert("regression", PA1, DIMENSIONS, "main", 6.2, EXCURSION, NOTICED, ONSET)
    again = excursion_alert("regression", PA1, DIMENSIONS, "main", 6.4, EXCURSION, later, ONSET)
    assert first.id == again.id and first.build_id != again.build_id


def test_an_improvement_is_information_and_differs_from_a_regression_at_the_same_onset() -> None:
    better = replace(EXCURSION, change=-1.0, decision="improvement")
    made = excursion_alert("improvement", PA1, DIMENSIONS, "main", 4.0, better, NOTICED, ONSET)
    worse = excursion_alert("regression", PA1, DIMENSIONS, "main", 6.2, EXCURSION, NOTICED, ONSET)
    assert made.severity == "info" and made.id != worse.id


def test_the_alert_copies_the_dimensions_it_was_given() -> None:
    dimensions = dict(DIMENSIONS)
    made = excursion_alert("regression", PA1, dimensions, "main", 6.2, EXCURSION, NOTICED, ONSET)
    dimensions["filter"] = "i"
    assert made.dimensions == DIMENSIONS


# --- spec_alert -----------------------------------------------------------------------------


def test_a_failed_spec_is_critical_and_names_the_spec_and_threshold() -> None:
    minimum = PA1.specs[0]
    made = spec_alert(PA1, DIMENSIONS, "main", 9.5, "fail", minimum, NOTICED, EXCURSION)
    assert (made.kind, made.severity, made.spec, made.threshold) == (
        "spec", "critical", "validate_drp.PA1.minimum", 8.0)
    assert made.id == alert_id(PA1.name, DIMENSIONS, "main", NOTICED.key, "spec")
    assert made.baseline == 5.0 and made.started_build is None


def test_meeting_only_the_minimum_is_a_warning_without_an_excursion() -> None:
    made = spec_alert(PA1, DIMENSIONS, "main", 6.0, "minimum", PA1.specs[0], NOTICED)
    assert made.severity == "warning"
    assert (made.baseline, made.change, made.relative_change) == (None, None, None)


def test_a_spec_alert_without_a_spec_still_says_the_verdict() -> None:
    made = spec_alert(PA1, DIMENSIONS, "main", 9.5, "fail", None, NOTICED)
    assert (made.spec, made.threshold) == (None, None)
    assert made.reason == "validate_drp.PA1 is at fail"


# --- reasons -----------------------------------------------------------------------------------


def test_an_excursion_reason_says_what_moved_by_how_much_since_when_and_how_sure() -> None:
    assert excursion_reason("validate_drp.PA1", "mmag", 6.2, EXCURSION, "102", "105", "main") == (
        "validate_drp.PA1 rose by 1.2 mmag (+24.0%) to 6.2 mmag, worse than its baseline 5 mmag "
        "on main (noise σ 0.3 mmag); the shift began at build 102, confirmed at build 105 "
        "(z = 4.6)")


def test_an_excursion_noticed_where_it_began_is_not_confirmed_later() -> None:
    better = Excursion(5.0, 0.0, -1.0, -0.2, -3.5, "improvement", 0, 3.35)
    text = excursion_reason("pkg.m", "", 4.0, better, "7", "7", "main")
    assert text == ("pkg.m fell by 1 (-20.0%) to 4, better than its baseline 5 on main "
                    "(noise σ 0); the shift began at build 7 (z = 3.5)")


def test_an_excursion_from_a_zero_baseline_has_no_share() -> None:
    from_zero = Excursion(0.0, 0.1, 1.0, None, 10.0, "regression", 0, 3.35)
    text = excursion_reason("pkg.m", "s", 1.0, from_zero, "1", "2", "main")
    assert text.startswith("pkg.m rose by 1 s to 1 s, worse than its baseline 0 s on main")


def test_a_spec_reason_names_the_operator_threshold_and_spec() -> None:
    minimum = PA1.specs[0]
    assert spec_reason(PA1.name, "mmag", 9.5, "fail", minimum) == (
        "validate_drp.PA1 = 9.5 mmag fails the minimum spec (<= 8 mmag, "
        "validate_drp.PA1.minimum)")
    assert spec_reason(PA1.name, "mmag", 6.0, "minimum", minimum) == (
        "validate_drp.PA1 = 6 mmag meets only the minimum spec (<= 8 mmag, "
        "validate_drp.PA1.minimum), not design")


def test_a_spec_reason_of_a_higher_is_better_metric() -> None:
    minimum = COMPLETENESS.specs[0]
    assert spec_reason(COMPLETENESS.name, "%", 42.0, "fail", minimum) == (
        "validate_drp.completeness = 42 % fails the minimum spec (>= 50 %, "
        "validate_drp.completeness.minimum)")


# a metric with a design spec only, like the LSE-61 latencies (metrics/specs/dm_latency)
CAL_PROC_TIME = Metric("calProcTime", "s", "lower", specs=(
    Spec("calProcTime.design", "calProcTime", "design", "<=", 30.0),))


def crossed(metric: Metric, value: float, unit: str | None = None) -> tuple[str, str]:
    """The severity and reason of the spec alert a value of the metric gets, its verdict
    and spec chosen as judging chooses them."""
    level, spec = verdict(value, metric.specs, {})
    made = spec_alert(replace(metric, unit=metric.unit if unit is None else unit), {}, "main",
                      value, level, spec, NOTICED)
    return made.severity, made.reason


def test_failing_the_only_spec_a_metric_has_names_that_spec_not_the_minimum() -> None:
    assert crossed(CAL_PROC_TIME, 40.0) == (
        "critical", "calProcTime = 40 s fails its design spec (<= 30 s, calProcTime.design)")


def test_failing_every_spec_of_a_metric_with_a_minimum_names_the_minimum() -> None:
    assert crossed(PA1, 9.5) == (
        "critical", "validate_drp.PA1 = 9.5 mmag fails the minimum spec (<= 8 mmag, "
                    "validate_drp.PA1.minimum)")
    assert crossed(PA1, 6.0) == (
        "warning", "validate_drp.PA1 = 6 mmag meets only the minimum spec (<= 8 mmag, "
                   "validate_drp.PA1.minimum), not design")


def test_a_stretch_only_spec_that_fails_is_named_by_its_level() -> None:
    stretch = Spec("pkg.m.stretch", "pkg.m", "stretch", ">=", 0.9)
    assert spec_reason("pkg.m", "", 0.5, "fail", stretch) == (
        "pkg.m = 0.5 fails its stretch spec (>= 0.9, pkg.m.stretch)")


def test_a_spec_reason_without_a_unit_has_no_double_space() -> None:
    assert crossed(PA1, 9.5, unit="")[1] == (
        "validate_drp.PA1 = 9.5 fails the minimum spec (<= 8, validate_drp.PA1.minimum)")
    assert crossed(PA1, 6.0, unit="")[1] == (
        "validate_drp.PA1 = 6 meets only the minimum spec (<= 8, validate_drp.PA1.minimum), "
        "not design")
    assert crossed(CAL_PROC_TIME, 40.0, unit="")[1] == (
        "calProcTime = 40 fails its design spec (<= 30, calProcTime.design)")


@given(st.sets(st.sampled_from(LEVELS), min_size=1), st.floats(-1e6, 1e6),
       st.sampled_from(["", "s", "mmag"]))
def test_a_spec_alert_names_the_spec_it_crossed_and_no_other_level(
        levels: set[str], value: float, unit: str) -> None:
    # thresholds 1 (stretch) < 2 (design) < 3 (minimum), lower is better
    specs = tuple(Spec(f"m.{level}", "m", level, "<=", float(3 - LEVELS[::-1].index(level)))
                  for level in levels)
    level, spec = verdict(value, specs, {})
    if level not in ("fail", "minimum"):
        return
    assert spec is not None
    reason = spec_reason("m", unit, value, level, spec)
    assert f"{spec.operator} {spec.threshold:.4g}" in reason and f", m.{spec.level})" in reason
    assert ("minimum" in reason) == (spec.level == "minimum")
    if level == "fail":
        assert (("fails the minimum spec" in reason) if spec.level == "minimum"
                else (f"fails its {spec.level} spec" in reason))
    assert "  " not in reason and not reason.endswith(" ")


# --- spec alerts that the series meets again ---------------------------------------------

DAY_NS = 86_400 * 10**9
NOTICED_NS = 1_795_143_600 * 10**9  # 2026-11-20T03:00Z, the example alert's build


def latest(verdicts: Sequence[str], start: int = 1) -> tuple[list[int], list[str]]:
    """Times of builds a day apart from `start` days after the alert's, and their verdicts."""
    return [NOTICED_NS + (start + i) * DAY_NS for i in range(len(verdicts))], list(verdicts)


def test_a_spec_alert_is_met_again_after_three_builds_that_meet_its_spec() -> None:
    spec = alert("spec")
    assert met_again([spec], *latest(["design", "stretch", "design"]), 3) == [spec]
    assert met_again([spec], *latest(["design", "minimum", "design"]), 3) == []
    assert met_again([spec], *latest(["design", "design"]), 3) == []


def test_the_builds_that_meet_it_again_must_all_come_after_the_alert() -> None:
    spec = alert("spec")
    assert met_again([spec], *latest(["design"] * 3, start=-1), 3) == []
    assert met_again([spec], *latest(["design"] * 3, start=-1), 1) == [spec]


def test_a_critical_alert_is_met_again_once_the_minimum_spec_is() -> None:
    failed = alert("spec", severity="critical")
    assert met_again([failed], *latest(["minimum"] * 3), 3) == [failed]
    assert met_again([failed], *latest(["minimum", "fail", "minimum"]), 3) == []


def test_only_open_or_acknowledged_spec_alerts_are_met_again() -> None:
    times, verdicts = latest(["design"] * 3)
    alerts = [alert("spec", state="resolved"), alert("spec", state="invalid"), alert(),
              alert("spec", state="acknowledged")]
    assert met_again(alerts, times, verdicts, 3) == [alerts[3]]

"""The verification report's pieces on literal cells (harness.report.model)."""

from __future__ import annotations

import pytest

from harness.report.model import (
    BuildRef,
    Cell,
    Change,
    Observation,
    Step,
    Summary,
    judge_cell,
    latest_cells,
    requirement_status,
)

from ..examples import COMPLETENESS, PA1, RUNTIME

BUILD = BuildRef("jenkins", "9", "main", "2026-11-20T03:00:00Z")


def observation(value: float | None, day: int = 20, metric: str = PA1.name,
                **dimensions: str) -> Observation:
    build = BuildRef("jenkins", str(day), "main", f"2026-11-{day:02d}T03:00:00Z")
    return Observation(metric, {"dataset": "hsc", **dimensions}, value, "mmag", build)


def cell(verdict: str, value: float | None = 1.0) -> Cell:
    return Cell(PA1.name, {}, value, "mmag", verdict, BUILD)


def test_a_cell_at_design_knows_its_headroom_and_the_way_to_stretch() -> None:
    judged = judge_cell(PA1, observation(4.0, filter="r"))
    assert judged.verdict == "design"
    assert judged.met == Step("design", "validate_drp.PA1.design", "<=", 5.0, 1.0, 0.2)
    assert judged.next is not None and judged.next.level == "stretch"
    assert judged.next.distance == pytest.approx(-1.0)


def test_a_failing_cell_has_no_met_level_and_aims_at_the_minimum() -> None:
    judged = judge_cell(PA1, observation(10.0))
    assert (judged.verdict, judged.met) == ("fail", None)
    assert judged.next is not None and (judged.next.level, judged.next.distance) == (
        "minimum", -2.0)


def test_a_stretch_cell_has_nowhere_further_to_go() -> None:
    judged = judge_cell(COMPLETENESS, observation(97.0, metric=COMPLETENESS.name))
    assert judged.verdict == "stretch" and judged.next is None
    assert judged.met is not None and judged.met.distance == pytest.approx(2.0)


def test_a_cell_without_a_value_or_spec_is_none_with_no_steps() -> None:
    for judged in (judge_cell(PA1, observation(None)),
                   judge_cell(RUNTIME, observation(5.0, metric=RUNTIME.name))):
        assert (judged.verdict, judged.met, judged.next) == ("none", None, None)


@pytest.mark.parametrize(("verdicts", "status"), [
    ([], "not_measured"),
    (["design", "stretch"], "design"),
    (["stretch", "fail", "design"], "failed"),
    (["none"], "no_spec"),
    (["none", "minimum"], "minimum"),
])
def test_the_worst_judged_cell_sets_the_status(verdicts: list[str], status: str) -> None:
    assert requirement_status([cell(v) for v in verdicts]) == status


def test_cells_without_a_value_are_not_measured() -> None:
    assert requirement_status([cell("none", value=None)]) == "not_measured"


def test_the_latest_build_of_each_cell_is_kept() -> None:
    chosen = latest_cells([observation(3.0, 21, filter="r"), observation(9.0, 19, filter="r"),
                           observation(5.0, 20, filter="i")])
    assert {key[1]: o.value for key, o in chosen.items()} == {
        (("dataset", "hsc"), ("filter", "r")): 3.0, (("dataset", "hsc"), ("filter", "i")): 5.0}


@pytest.mark.parametrize(("before", "after", "kind"), [
    ("design", "failed", "newly_failing"),
    ("not_measured", "failed", "newly_failing"),
    ("minimum", "design", "newly_passing"),
    ("no_spec", "stretch", "newly_passing"),
    ("design", "stretch", "better"),
    ("stretch", "design", "worse"),
    ("design", "minimum", "worse"),
    ("failed", "minimum", "better"),
    ("design", "not_measured", "measurement"),
])
def test_a_status_change_has_a_kind(before: str, after: str, kind: str) -> None:
    assert Change("R", before, after).kind == kind  # type: ignore[arg-type]


def test_a_summary_counts_levels_cumulatively_and_as_fractions() -> None:
    counts = {"stretch": 1, "design": 2, "minimum": 1, "failed": 3, "not_measured": 1,
              "no_spec": 0}
    summary = Summary(8, counts)
    assert summary.at_least == {"stretch": 1, "design": 3, "minimum": 4}
    shown = summary.to_json()
    assert shown["verified_at_least"]["design"] == {"count": 3, "fraction": 0.375}
    assert shown["fractions"]["failed"] == 0.375
    assert Summary(0, counts).fraction(3) == 0.0


def test_a_cell_as_json_shows_its_previous_value() -> None:
    previous = judge_cell(PA1, observation(6.0, 19))
    current = judge_cell(PA1, observation(4.0), previous)
    shown = current.to_json()
    assert shown["previous"] == {"value": 6.0, "verdict": "minimum",
                                 "build": previous.build.to_json()}
    assert shown["met"]["spec"] == "validate_drp.PA1.design"

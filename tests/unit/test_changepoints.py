"""Change points over short literal histories (harness.detection.changepoints)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from harness.detection.changepoints import ChangePoint, change_points
from harness.detection.params import DEFAULT_PARAMS
from harness.detection.scans import series_change_alerts
from harness.times import point_time

from .examples import DIMENSIONS, RUNTIME, alert

WOBBLE = [0.5 * ((i * 7) % 5 - 2) for i in range(200)]


def level(value: float, count: int, start: int = 0) -> list[float]:
    return [value + w for w in WOBBLE[start:start + count]]


def test_one_step_is_one_change_point_at_the_first_value_after_it() -> None:
    assert change_points(level(100, 30) + level(110, 30, 30), "lower") == [
        ChangePoint(30, 100.0, 110.0, 10.0, 0.1, "regression")]


def test_a_drop_of_a_higher_is_better_metric_is_a_regression() -> None:
    [found] = change_points(level(100, 30) + level(90, 30, 30), "higher")
    assert (found.index, found.direction, found.change) == (30, "regression", -10.0)


def test_a_step_back_and_forth_is_two_change_points() -> None:
    found = change_points(level(100, 25) + level(110, 25, 25) + level(100, 25, 50), "lower")
    assert [(c.index, c.direction) for c in found] == [(25, "regression"), (50, "improvement")]


def test_a_step_from_zero_has_no_relative_change() -> None:
    [found] = change_points([0.0] * 20 + [10.0] * 20, "lower")
    assert (found.index, found.before, found.relative_change) == (20, 0.0, None)


def test_a_flat_or_too_short_history_has_none() -> None:
    assert change_points(level(100, 60), "lower") == []
    assert change_points([5.0] * 40, "lower") == []
    assert change_points([1.0, 50.0, 1.0, 50.0, 1.0], "lower") == []


def test_a_shift_smaller_than_the_minimum_effect_is_merged_away() -> None:
    tiny = [1000.0 + 0.001 * w for w in WOBBLE[:30]] + [1001.0 + 0.001 * w
                                                        for w in WOBBLE[30:60]]
    assert change_points(tiny, "lower") == []
    loose = DEFAULT_PARAMS.with_overrides({"min_relative": 0.0001})
    assert [c.index for c in change_points(tiny, "lower", loose)] == [30]


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        change_points([1.0] * 10 + [float("inf")], "lower")


def test_a_change_point_is_json() -> None:
    [found] = change_points(level(100, 30) + level(110, 30, 30), "lower")
    assert found.to_json() == {"index": 30, "before": 100.0, "after": 110.0, "change": 10.0,
                               "relative_change": 0.1, "direction": "regression"}


def test_a_few_values_at_either_end_are_no_lasting_shift() -> None:
    # as sure as the excursion test must be: three values, one an outlier, are not
    assert change_points([*level(100, 60), 100.0, 101.0, 130.0], "lower") == []
    assert change_points([101.0, 99.0, 103.0, *level(100, 60)], "lower") == []


def test_a_small_shift_needs_long_segments_to_count() -> None:
    # 2 (σ of the wobble from its differences ≈ 1.1): over 6 values no, over 30 yes
    assert change_points(level(100, 60) + level(102, 6, 60), "lower") == []
    [found] = change_points(level(100, 60) + level(102, 30, 60), "lower")
    assert found.index in (60, 61)


# --- the scan's rules on one series (harness.detection.scans) ----------------------------

def rows_of(values: list[float]) -> list[dict[str, Any]]:
    """Stored points of builds n000, n001, … one a day."""
    return [{"value": value, "build_id": f"n{i:03d}", "ci": "jenkins",
             "time": (1_790_000_000 + 86_400 * i) * 10**9} for i, value in enumerate(values)]


def test_a_change_after_an_open_excursion_the_same_way_is_that_excursion() -> None:
    steps = rows_of(level(100, 30) + level(110, 30, 30) + level(120, 30, 60))
    both = series_change_alerts(RUNTIME, DIMENSIONS, "main", steps, [])
    assert [alert.started_build for alert in both] == ["n030", "n060"]
    drift = alert("regression", series=(RUNTIME.name, DIMENSIONS, "main"), build="n035",
                  started_build="n028", started_time=point_time(steps[28]["time"]))
    assert series_change_alerts(RUNTIME, DIMENSIONS, "main", steps, [drift]) == []
    closed = replace(drift, state="resolved")
    later = series_change_alerts(RUNTIME, DIMENSIONS, "main", steps, [closed])
    assert [alert.started_build for alert in later] == ["n060"]  # n030 is near its builds

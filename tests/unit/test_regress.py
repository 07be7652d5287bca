"""The excursion test on short literal series (harness.detection.excursions): the same
judgement whole or build by build, symmetric in direction, insufficient history, pull requests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.detection.excursions import _onset, compare_to_base, judge_point, judge_series
from harness.detection.params import DEFAULT_PARAMS, DetectionParams
from harness.detection.robust import robust_noise

# a deterministic wobble of ±1 around 0, period 5
WOBBLE = [0.5 * ((i * 7) % 5 - 2) for i in range(200)]
STEP = [100 + w for w in WOBBLE[:40]] + [106 + w for w in WOBBLE[40:60]]


def excursions(values: list[float], better: str = "lower") -> list[tuple[int, str, int]]:
    """(end, decision, onset) of each alerting end."""
    return [(i, e.decision, i - e.started)
            for i, e in enumerate(judge_series(values, better))  # type: ignore[arg-type]
            if e.decision in ("regression", "improvement")]


def test_a_step_of_six_noise_units_is_one_regression_dated_at_its_first_build() -> None:
    assert excursions(STEP) == [(43, "regression", 40)]


def test_a_baseline_off_the_level_does_not_date_a_step_back_to_the_first_build() -> None:
    # the level sits 0.7 noise units above the baseline the test used: every suffix of the
    # history stands above it, the longest most of all; the step still began at build 82
    values = np.r_[[14.2 + 0.42 * w for w in WOBBLE[:82]], [16.0, 16.7, 16.8, 16.3]]
    assert _onset(values, 0, 13.9, 0.42, DEFAULT_PARAMS) == 3


def test_the_same_step_of_a_higher_is_better_metric_is_an_improvement() -> None:
    assert excursions(STEP, "higher") == [(43, "improvement", 40)]


def test_mirroring_the_values_and_the_direction_changes_nothing() -> None:
    assert excursions([-v for v in STEP], "higher") == excursions(STEP, "lower")


def test_shifting_the_whole_series_changes_baselines_not_decisions() -> None:
    shifted = judge_series([v + 50.0 for v in STEP], "lower")
    original = judge_series(STEP, "lower")
    assert [e.decision for e in shifted] == [e.decision for e in original]
    assert shifted[50].baseline == pytest.approx(original[50].baseline + 50.0)


def test_a_flat_wobble_never_alerts() -> None:
    assert excursions([100 + w for w in WOBBLE]) == []


def test_judging_from_a_later_first_gives_the_tail_of_the_whole_judgement() -> None:
    assert judge_series(STEP, "lower", first=38) == judge_series(STEP, "lower")[38:]


def test_judge_point_is_the_last_judgement_of_its_series() -> None:
    assert judge_point(STEP[:45], STEP[45], "lower") == judge_series(STEP[:46], "lower")[-1]


def test_the_first_builds_are_insufficient_and_say_how_many_more_are_needed() -> None:
    judged = judge_series(STEP[:DEFAULT_PARAMS.min_history + 1], "lower")
    assert [e.decision for e in judged[:-1]] == ["insufficient"] * DEFAULT_PARAMS.min_history
    assert [e.needed for e in judged[:3]] == [20, 19, 18]
    assert judged[-1].decision == "ok" and judged[-1].needed == 0


def test_the_very_first_build_is_its_own_baseline() -> None:
    first = judge_series([7.5], "lower")[0]
    assert (first.baseline, first.change, first.relative_change) == (7.5, 0.0, 0.0)


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        judge_series([1.0, float("nan"), 2.0], "lower")
    with pytest.raises(ValueError, match="finite"):
        judge_point([1.0, 2.0], float("inf"), "lower")


def test_an_excursion_is_json_with_every_field() -> None:
    data = judge_series(STEP, "lower")[43].to_json()
    assert data["decision"] == "regression" and data["test"] == "history"
    assert set(data) == {"baseline", "noise", "change", "relative_change", "score",
                         "decision", "started", "threshold", "test", "needed"}


def test_a_zero_baseline_has_no_relative_change() -> None:
    assert judge_series([0.0, 0.0, 1.0], "lower")[2].relative_change is None


def test_parameters_with_overrides() -> None:
    assert DEFAULT_PARAMS.with_overrides({}) is DEFAULT_PARAMS
    stricter = DEFAULT_PARAMS.with_overrides({"threshold": 5.0, "scan": (4, 8)})
    assert (stricter.threshold, stricter.scan, stricter.window) == (5.0, (4, 8), 232)
    assert DetectionParams(window=10, span=5, noise_window=12).reach == 15
    assert DetectionParams(window=10, span=5, noise_window=12, memory=4).history_needed == 35


def test_a_higher_threshold_silences_the_step() -> None:
    calm = DEFAULT_PARAMS.with_overrides({"threshold": 50.0})
    assert all(e.decision == "ok" for e in judge_series(STEP, "lower", calm)[20:])


def test_the_robust_noise_of_a_flat_series_is_zero() -> None:
    import numpy as np

    assert robust_noise(np.array([3.0] * 10)) == 0.0
    assert robust_noise(np.array([3.0])) == 0.0
    assert robust_noise(np.array(WOBBLE)) > 0.5


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=45),
       st.sampled_from(["lower", "higher"]))
def test_judging_build_by_build_is_judging_whole(values: list[float], better: str) -> None:
    whole = judge_series(values, better)  # type: ignore[arg-type]
    assert len(whole) == len(values)
    last = judge_point(values[:-1], values[-1], better)  # type: ignore[arg-type]
    assert last == whole[-1]
    for excursion in whole:
        assert excursion.started >= 0
        assert (excursion.decision == "insufficient") is (excursion.needed > 0)


# --- pull requests against their base ---------------------------------------------------------


def test_a_pull_request_value_within_the_noise_is_ok() -> None:
    judged = compare_to_base(STEP[:40], 100.2, "lower")
    assert (judged.decision, judged.test, judged.threshold) == ("ok", "base", 2.5)
    assert judged.baseline == pytest.approx(100.0)


def test_a_pull_request_value_far_above_the_base_is_a_regression_or_an_improvement() -> None:
    assert compare_to_base(STEP[:40], 104.0, "lower").decision == "regression"
    assert compare_to_base(STEP[:40], 104.0, "higher").decision == "improvement"
    assert compare_to_base(STEP[:40], 96.0, "lower").decision == "improvement"


def test_a_pull_request_against_a_short_base_is_insufficient() -> None:
    judged = compare_to_base(STEP[:5], 200.0, "lower")
    assert (judged.decision, judged.test, judged.needed) == ("insufficient", "base", 15)


def test_more_samples_in_the_pull_request_tighten_its_test() -> None:
    one = compare_to_base(STEP[:40], 103.0, "lower", base_count=4, base_spread=2.0)
    many = compare_to_base(STEP[:40], 103.0, "lower", count=16, base_count=4, base_spread=2.0)
    assert many.noise < one.noise and many.score > one.score


def test_a_non_finite_pull_request_value_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        compare_to_base(STEP, float("nan"), "lower")

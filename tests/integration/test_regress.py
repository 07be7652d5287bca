"""Excursion tests and change points on literal and seeded series."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.detection.changepoints import ChangePoint, change_points
from harness.detection.excursions import compare_to_base, judge_point, judge_series
from harness.detection.params import DEFAULT_PARAMS, Better, DetectionParams
from harness.model import Excursion


def noise(n: int, seed: int = 4, level: float = 100.0, sigma: float = 1.0) -> list[float]:
    """Gaussian noise around a level, reproducible."""
    return list(level + sigma * np.random.default_rng(seed).standard_normal(n))


def with_step(values: list[float], at: int, by: float) -> list[float]:
    """values shifted by `by` from index `at` on."""
    return [v + (by if i >= at else 0.0) for i, v in enumerate(values)]


def judged(values: list[float], better: Better = "lower") -> list[Excursion]:
    """Each value judged against the values before it, as the worker does build by build."""
    return [judge_point(values[:i], values[i], better) for i in range(len(values))]


def alerts(excursions: list[Excursion]) -> list[tuple[int, str, int]]:
    """(index, decision, index where it started) of every alerting build."""
    return [(i, e.decision, i - e.started) for i, e in enumerate(excursions)
            if e.decision in ("regression", "improvement")]


def test_a_3_sigma_step_alerts_once_at_the_step() -> None:
    excursions = judged(with_step(noise(220), at=150, by=3.0))
    assert len(alerts(excursions)) == 1
    index, decision, started = alerts(excursions)[0]
    assert decision == "regression"
    assert 150 <= index <= 155
    assert started == 150


def test_later_builds_at_the_new_level_are_ok_with_the_score_still_showing() -> None:
    excursions = judged(with_step(noise(220), at=150, by=3.0))
    index = alerts(excursions)[0][0]
    later = excursions[index + 1:index + 20]
    assert {e.decision for e in later} == {"ok"}
    # the score describes the direction of each value's change: up here, but for a value
    # that noise put back at the old level
    assert all(e.score > DEFAULT_PARAMS.threshold for e in later if e.change > 1.0)
    assert all(e.score <= 0 for e in later if e.change < 0)
    assert np.mean([e.change for e in later]) == pytest.approx(3.0, abs=0.6)


def test_a_lone_outlier_does_not_alert() -> None:
    values = noise(200)
    values[150] += 15.0
    assert alerts(judged(values)) == []
    assert judge_point(values[:150], values[150], "lower").decision == "ok"


def test_a_step_in_the_better_direction_is_an_improvement() -> None:
    found = alerts(judged(with_step(noise(220), at=150, by=-3.0)))
    assert [(decision, started) for _, decision, started in found] == [("improvement", 150)]


def test_higher_is_better_turns_a_drop_into_a_regression() -> None:
    found = alerts(judged(with_step(noise(220), at=150, by=-3.0), better="higher"))
    assert [(decision, started) for _, decision, started in found] == [("regression", 150)]


def test_after_acknowledgement_the_new_level_is_the_baseline() -> None:
    values = with_step(noise(260), at=150, by=3.0)
    since = values[150:]  # what the worker passes once the regression is acknowledged
    excursions = [judge_point(since[:i], since[i], "lower") for i in range(len(since))]
    needed = DEFAULT_PARAMS.min_history
    assert {e.decision for e in excursions[:needed]} == {"insufficient"}
    assert {e.decision for e in excursions[needed:]} == {"ok"}
    assert excursions[-1].baseline == pytest.approx(103.0, abs=0.5)


def test_too_little_history_is_insufficient() -> None:
    for history in ([], [1.0], noise(DEFAULT_PARAMS.min_history - 1)):
        excursion = judge_point(history, 120.0, "lower")
        assert excursion.decision == "insufficient"
        assert excursion.score == 0.0 and excursion.started == 0


def test_a_constant_series_has_a_floored_noise_and_alerts_on_a_real_shift() -> None:
    flat = [50.0] * 60
    quiet = judge_point(flat, 50.0, "lower")
    assert quiet.decision == "ok" and quiet.change == 0.0 and quiet.noise > 0.0
    shifted = judged(flat + [51.0] * 10)  # +2 %, above the 1 % minimum effect
    assert [(d, s) for _, d, s in alerts(shifted)] == [("regression", 60)]


def test_a_shift_below_the_minimum_effect_is_not_an_alert() -> None:
    params = DetectionParams(min_relative=0.05)  # 5 % of the baseline, here 5σ
    values = with_step(noise(220), at=150, by=3.0)
    excursions = [judge_point(values[:i], values[i], "lower", params) for i in range(220)]
    assert alerts(excursions) == []


def test_a_literal_series_with_a_step() -> None:
    calm = [10.1, 9.9, 10.0, 10.2, 9.8, 10.0, 10.1, 9.9, 10.0, 10.0] * 4
    high = [11.1, 10.9, 11.0, 11.2, 10.8, 11.0, 11.1, 10.9]
    assert [(d, s) for _, d, s in alerts(judged(calm + high))] == [("regression", 40)]


def test_only_the_recent_history_counts() -> None:
    values = with_step(noise(DEFAULT_PARAMS.history_needed + 400), at=20, by=50.0)
    recent = values[-DEFAULT_PARAMS.history_needed:]
    assert judge_point(values, 101.0, "lower") == judge_point(recent, 101.0, "lower")


def test_non_finite_history_is_ignored_and_a_non_finite_value_refused() -> None:
    values = noise(100)
    assert judge_point([*values, float("nan")], 100.0, "lower") == judge_point(
        values, 100.0, "lower")
    with pytest.raises(ValueError, match="finite"):
        judge_point(values, float("inf"), "lower")


def test_an_excursion_is_json() -> None:
    data = json.loads(json.dumps(judge_point(noise(100), 104.0, "lower").to_json()))
    assert set(data) == {"baseline", "noise", "change", "relative_change", "score",
                         "decision", "started", "threshold", "test", "needed"}
    assert data["change"] == pytest.approx(104.0 - data["baseline"])


def test_change_points_finds_both_steps_of_a_two_step_series() -> None:
    values = with_step(with_step(noise(300, seed=5), at=100, by=3.0), at=200, by=-5.0)
    found = change_points(values, "lower")
    assert [c.direction for c in found] == ["regression", "improvement"]
    assert [abs(c.index - at) <= 2 for c, at in zip(found, (100, 200), strict=True)] == [
        True, True]
    assert found[0].before == pytest.approx(100.0, abs=0.5)
    assert found[0].after == pytest.approx(103.0, abs=0.5)
    assert found[1].change == pytest.approx(-5.0, abs=0.6)


def test_change_points_of_pure_noise_and_of_outliers_are_none() -> None:
    values = noise(2000, seed=6)
    for index in (300, 301, 900, 1500):
        values[index] += 12.0
    assert change_points(values, "lower") == []
    assert change_points([1.0, 1.0], "lower") == []


def test_a_change_point_is_json() -> None:
    point = ChangePoint(index=3, before=1.0, after=2.0, change=1.0, relative_change=1.0,
                        direction="regression")
    assert json.loads(json.dumps(point.to_json()))["index"] == 3


def test_judging_a_whole_series_is_judging_it_build_by_build() -> None:
    values = with_step(with_step(noise(700, seed=9), at=300, by=3.0), at=560, by=-4.0)
    assert judge_series(values, "lower", first=250) == judged(values)[250:]
    assert judge_series(values, "lower") == judged(values)


def test_score_onset_and_decision_describe_one_direction() -> None:
    rng = np.random.default_rng(12)
    values = list(100 + rng.standard_normal(3000))
    for at in range(100, 3000, 60):  # steps both ways, some reverting within the window
        values = with_step(values, at, float(rng.choice([-4.0, -2.0, 2.0, 4.0])))
    for better in ("lower", "higher"):
        for excursion in judge_series(values, better):
            worse = excursion.change if better == "lower" else -excursion.change
            if excursion.decision == "regression":
                assert excursion.score > 0
            elif excursion.decision == "improvement":
                assert excursion.score < 0
            elif excursion.score != 0:
                assert (excursion.score > 0) == (worse > 0)


def test_insufficient_says_how_many_builds_are_still_needed() -> None:
    excursion = judge_point(noise(5), 100.0, "lower")
    assert (excursion.decision, excursion.needed) == ("insufficient", 15)
    pr = compare_to_base(noise(8), 100.0, "lower")
    assert (pr.decision, pr.needed, pr.test) == ("insufficient", 12, "base")


def test_one_pull_request_value_far_beyond_its_base_is_a_regression() -> None:
    base = noise(60, level=4.93, sigma=0.05)
    far = compare_to_base(base, 9.2, "lower")
    assert (far.decision, far.test) == ("regression", "base")
    assert far.score > far.threshold and far.relative_change == pytest.approx(0.87, abs=0.02)
    better = compare_to_base(base, 4.5, "lower")
    assert better.decision == "improvement" and better.score < 0
    assert compare_to_base(base, 4.96, "lower").decision == "ok"
    assert compare_to_base(base, 4.5, "higher").decision == "regression"


def test_a_pull_request_follows_the_base_branch_current_level() -> None:
    base = with_step(noise(200, sigma=0.5), at=150, by=5.0)  # the base moved 50 builds ago
    assert compare_to_base(base, 105.2, "lower").decision == "ok"
    assert compare_to_base(base, 100.2, "lower").decision == "improvement"


def test_samples_make_a_small_shift_conclusive() -> None:
    rng = np.random.default_rng(3)
    base = list(100 + 0.3 * rng.standard_normal(60))  # means of 10 samples each
    shifted = 102.0  # +2 %
    with_samples = compare_to_base(base, shifted, "lower", count=10, spread=1.4,
                                   base_count=10, base_spread=1.4)
    one_value = compare_to_base(base, shifted, "lower", count=1, base_count=10,
                                base_spread=1.4)
    assert with_samples.decision == "regression"
    assert one_value.decision == "ok"


# Series real CI produces: no alert but the one a real change deserves.

def quiet_alerts(series: list[np.ndarray]) -> int:
    """Alerts of the production rule over several series."""
    return sum(len(alerts(judge_series(values, "lower"))) for values in series)


def with_outliers(n: int, seed: int) -> np.ndarray:
    """Gaussian noise (σ 1 around 100) with 1 % outliers of 5–15σ, either sign."""
    rng = np.random.default_rng(seed)
    values = 100 + rng.standard_normal(n)
    hit = rng.random(n) < 0.01
    values[hit] += rng.uniform(5, 15, hit.sum()) * rng.choice([-1, 1], hit.sum())
    return values


def test_noise_with_outliers_alerts_at_most_once_per_thousand_builds() -> None:
    assert quiet_alerts([with_outliers(2000, seed) for seed in range(5)]) <= 10


def test_heavy_tails_alert_at_most_once_per_thousand_builds() -> None:
    series = [100 + np.random.default_rng(seed).standard_t(3, 2000) for seed in range(5)]
    assert quiet_alerts(series) <= 10


def test_a_count_that_rarely_moves_by_one_never_alerts() -> None:
    rng = np.random.default_rng(8)
    moves = (rng.random(3000) < 1 / 50) * rng.choice([-1.0, 1.0], 3000)
    count = 1203.0 + np.cumsum(moves)
    assert set(np.diff(count)) == {-1.0, 0.0, 1.0}
    assert quiet_alerts([count]) == 0


def test_two_runner_types_at_random_alert_at_most_once_per_thousand_builds() -> None:
    series = []
    for seed, gap in enumerate((3.0, 4.0, 5.0, 6.0, 6.0)):  # Δ in σ of each runner's noise
        rng = np.random.default_rng(20 + seed)
        second = rng.random(2000) < 0.3  # 70/30, chosen at random per build
        series.append(100 + rng.standard_normal(2000) + gap * second)
    assert quiet_alerts(series) <= 10


def test_a_weekly_rhythm_does_not_alert() -> None:
    series = [100 + np.random.default_rng(30 + seed).standard_normal(2000)
              + 2.0 * (np.arange(2000) % 7 >= 5) for seed in range(3)]
    assert quiet_alerts(series) <= 2


@pytest.mark.parametrize(("slope", "seed"), [(0.02, 40), (0.02, 41), (0.05, 42)])
def test_a_steady_drift_is_one_regression_started_near_its_start(slope: float,
                                                                 seed: int) -> None:
    values = list(noise(900, seed=seed))
    drifting = [v + slope * max(0, i - 199) for i, v in enumerate(values)]  # from build 200
    found = alerts(judge_series(drifting, "lower"))
    assert len(found) == 1
    index, decision, started = found[0]
    assert decision == "regression"
    assert 200 <= started <= 240 and index < 300


def test_judging_a_drift_whole_is_judging_it_build_by_build() -> None:
    values = [v + 0.01 * max(0, i - 100) for i, v in enumerate(with_outliers(650, seed=7))]
    assert judge_series(values, "lower") == judged(values)


def test_change_points_do_not_cut_a_steady_trend() -> None:
    rng = np.random.default_rng(50)
    for slope in (0.01, 0.05, 0.2):
        assert change_points(100 + slope * np.arange(2000) + rng.standard_normal(2000),
                             "lower") == []
    assert change_points(np.arange(1.0, 501.0), "lower") == []  # a count of builds


def test_change_points_do_not_cut_values_alternating_between_two_levels() -> None:
    rng = np.random.default_rng(51)
    strict = 100 + 4.0 * (np.arange(2000) % 2) + rng.standard_normal(2000)  # A, B, A, B
    random = 100 + 4.5 * (rng.random(2000) < 0.3) + rng.standard_normal(2000)
    assert change_points(strict, "lower") == []
    assert change_points(random, "lower") == []


def test_change_points_find_a_step_on_a_trend() -> None:
    rng = np.random.default_rng(52)
    values = 100 + 0.02 * np.arange(1000) + rng.standard_normal(1000)
    values[600:] += 4.0
    assert [(abs(c.index - 600) <= 2, c.direction) for c in change_points(values, "lower")] == [
        (True, "regression")]

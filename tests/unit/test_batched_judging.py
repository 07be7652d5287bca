"""Judging many series in one batch (harness.detection.excursions.judge_many) gives each series
exactly what judging it alone (judge_series) gives: every field, every float to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.detection.excursions import Job, judge_many, judge_series
from harness.detection.params import DEFAULT_PARAMS, DetectionParams

PARAMS = (
    DEFAULT_PARAMS,
    DEFAULT_PARAMS.with_overrides({"threshold": 4}),  # metrics/validate_drp.yaml
    DetectionParams(window=60, noise_window=80, memory=30, min_history=12, min_absolute=0.5),
)


@st.composite
def series(draw: st.DrawFn) -> Job:
    """A series with steps, a drift, outliers or none, constant or rounded, and the position
    from which it is judged (mostly its last few points, as late builds make them)."""
    length = draw(st.integers(0, 600))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    level = draw(st.sampled_from([0.0, 1.0, 100.0, -50.0, 1e6]))
    sigma = draw(st.sampled_from([0.0, 0.01, 1.0, 2.0])) * max(abs(level), 1.0)
    values = level + sigma * rng.standard_normal(length)
    for _ in range(draw(st.integers(0, 3))):  # steps of up to 20 σ either way
        at = draw(st.integers(0, max(length - 1, 0)))
        values[at:] += draw(st.floats(-20, 20)) * max(sigma, 0.5)
    if draw(st.booleans()):  # a drift from somewhere on
        at = draw(st.integers(0, max(length - 1, 0)))
        values[at:] += draw(st.floats(-0.2, 0.2)) * max(sigma, 0.5) * np.arange(length - at)
    outliers = rng.random(length) < draw(st.sampled_from([0.0, 0.02, 0.1]))
    values[outliers] += 15 * max(sigma, 1.0) * rng.choice([-1.0, 1.0], outliers.sum())
    if draw(st.booleans()):
        values = np.round(values)
    first = draw(st.one_of(st.integers(max(length - 3, 0), length),
                           st.integers(max(length - 40, 0), length),
                           st.integers(max(length - 80, 0), length)))
    return values, draw(st.sampled_from(["lower", "higher"])), draw(st.sampled_from(PARAMS)), first


def alone(jobs: list[Job]) -> list[str]:
    """The judgements of each series judged on its own, to the bit (repr of every float)."""
    return [repr(judge_series(values, better, params, first))
            for values, better, params, first in jobs]


@settings(max_examples=30, deadline=None)
@given(st.lists(series(), max_size=6))
def test_a_batch_judges_each_series_as_judging_it_alone_does(jobs: list[Job]) -> None:
    assert [repr(excursions) for excursions in judge_many(jobs)] == alone(jobs)


def test_a_submission_of_fifty_series_some_stepping_is_judged_as_one_by_one() -> None:
    rng = np.random.default_rng(5)
    jobs: list[Job] = []
    for index in range(50):
        values = 100 + 2 * rng.standard_normal(300)
        values[300 - index % 25:] += 12.0 if index % 5 == 0 else 0.0  # steps 1-24 builds old
        jobs.append((values, "lower" if index % 2 else "higher", PARAMS[index % 2], 280))
    judged = judge_many(jobs)
    assert [repr(excursions) for excursions in judged] == alone(jobs)
    assert {e.decision for one in judged for e in one} == {"ok", "regression", "improvement"}


def test_more_ends_than_one_evaluation_holds_are_split_between_evaluations() -> None:
    # and a series judged from its first value on walks in blocks, as judging it alone does
    rng = np.random.default_rng(6)
    jobs: list[Job] = [(50 + rng.standard_normal(300), "lower", DEFAULT_PARAMS,
                        300 - 30 - index % 7) for index in range(40)]  # ~1,300 ends
    jobs.append((np.r_[rng.standard_normal(300), 3 + rng.standard_normal(300)], "higher",
                 DEFAULT_PARAMS, 0))
    assert [repr(excursions) for excursions in judge_many(jobs)] == alone(jobs)


def test_a_value_that_is_not_finite_is_refused_like_judging_alone() -> None:
    with pytest.raises(ValueError, match="finite"):
        judge_many([([1.0] * 30, "lower", DEFAULT_PARAMS, 29),
                    ([1.0, float("nan")] * 15, "lower", DEFAULT_PARAMS, 29)])


def test_no_series_is_no_judgement() -> None:
    assert judge_many([]) == []

"""What the excursion test is given: its parameters (catalog `detection:` settings map onto
them). What it answers, the Excursion of one build, is plain data of a Result (harness.model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

Better = Literal["lower", "higher"]
Direction = Literal["regression", "improvement"]
Values = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class DetectionParams:
    """Every knob of the excursion test and of change-point search."""

    window: int = 232  # baseline values, before the recent span
    span: int = 24  # the most recent values, kept out of the baseline
    scan: tuple[int, ...] = (6, 12, 21)  # lengths of the recent windows tested (≤ span)
    threshold: float = 3.35  # z of a recent window's mean against the baseline
    long_relief: float = 0.93  # the longest window's bar, relative to threshold
    persistence: int = 3  # values of that window beyond the minimum effect, at least
    clip: float = 3.0  # each standardized value is clipped to ±clip: outliers count little
    min_relative: float = 0.01  # smallest practical shift, relative to |baseline|
    min_sigmas: float = 0.5  # smallest practical shift, in noise σ
    noise_window: int = 256  # values (up to the tested build) whose differences give σ
    noise_floor: float = 1e-6  # σ is at least this × |baseline| (constant series)
    split: float = 4.0  # z of a level shift inside the baseline window that splits it
    min_level: int = 16  # values after such a shift before they alone are the baseline
    min_history: int = 20  # fewer earlier values: insufficient
    memory: int = 96  # builds back within which an excursion holding again is the same one
    min_absolute: float = 0.0  # smallest practical shift in the metric's unit (catalog)
    pr_threshold: float = 2.5  # z of one pull-request value against its base's level
    min_segment: int = 3  # change points: the shortest segment kept
    penalty: float = 3.0  # change points: penalty = penalty × σ̂² × ln n
    resolve_after: int = 3  # spec alerts: builds in a row meeting the spec again resolve one

    def with_overrides(self, overrides: Mapping[str, Any]) -> DetectionParams:
        """These parameters with some replaced (e.g. a metric's catalog settings)."""
        return replace(self, **overrides) if overrides else self

    @property
    def reach(self) -> int:
        """How many values one test looks at, up to the tested build."""
        return max(self.window + self.span, self.noise_window)

    @property
    def history_needed(self) -> int:
        """How many earlier values `judge_point` uses; more are ignored."""
        return self.reach + max(max(self.scan) - 1, self.memory)


DEFAULT_PARAMS = DetectionParams()

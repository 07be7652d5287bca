"""Change points over a whole history: lasting level shifts found by ruptures' binary
segmentation on a robustly scaled series, cuts that only follow a steady slope merged away.
Pure functions of numbers (numpy); the beat's scan runs them nightly."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from harness.detection.excursions import TREND_Z
from harness.detection.params import DEFAULT_PARAMS, Better, DetectionParams, Direction, Values
from harness.detection.robust import TINY, robust_noise

MEDIAN_ERROR = math.sqrt(math.pi / 2)  # a median's standard error, in σ/√n of Gaussian values


@dataclass(frozen=True)
class ChangePoint:
    """A lasting shift of a series' level found over its whole history."""

    index: int  # first point of the new segment
    before: float  # median of the segment before
    after: float  # median of the segment after
    change: float  # after − before
    relative_change: float | None  # change / |before|; None when before is 0
    direction: Direction

    def to_json(self) -> dict[str, Any]:
        """The change point as JSON-able data."""
        return asdict(self)


def change_points(
    values: Values, better: Better, params: DetectionParams = DEFAULT_PARAMS,
) -> list[ChangePoint]:
    """Lasting level shifts over a whole history (binary segmentation, L2, robust penalty)."""
    series = np.asarray(values, dtype=float)
    if not np.isfinite(series).all():
        raise ValueError("values must be finite")
    if series.size < 2 * params.min_segment:
        return []
    middle = float(np.median(series))
    noise = max(robust_noise(series), params.noise_floor * abs(middle), TINY)
    clipped = _winsorized(series, noise, params)
    import ruptures  # only the scans need it: `harness replay` runs without it

    search = ruptures.Binseg(custom_cost=_squared_error()(), min_size=params.min_segment, jump=1)
    penalty = params.penalty * math.log(series.size)  # in units of σ², the signal is scaled
    edges = search.fit((clipped - middle) / noise).predict(pen=penalty)
    starts = [0, *edges[:-1]]
    stops = [*edges]
    medians = [float(np.median(series[a:b])) for a, b in zip(starts, stops, strict=True)]

    def strength(i: int) -> float:  # of the cut between segments i and i + 1; ≥ 1 is kept
        before, after = medians[i], medians[i + 1]
        a, c, b = starts[i], starts[i + 1], stops[i + 1]
        jump = min(abs(after - before), _jump_beyond_trend(clipped[a:c], clipped[c:b], noise))
        effect = jump / max(params.min_relative * abs(before), params.min_sigmas * noise,
                            params.min_absolute)
        # as sure as the excursion test must be: the segments' medians z apart (a short
        # segment at either end of the history, an outlier or two, is no lasting shift)
        z = abs(after - before) / (MEDIAN_ERROR * noise * math.sqrt(1 / (c - a) + 1 / (b - c)))
        return min(effect, z / params.threshold)

    strengths = [strength(i) for i in range(len(starts) - 1)]
    while strengths and min(strengths) < 1.0:  # merge the weakest cut away, then look again
        weakest = int(np.argmin(strengths))
        del starts[weakest + 1], stops[weakest], medians[weakest + 1], strengths[weakest]
        medians[weakest] = float(np.median(series[starts[weakest]:stops[weakest]]))
        for i in (weakest - 1, weakest):
            if 0 <= i < len(strengths):
                strengths[i] = strength(i)
    return [_change_point(start, before, after, better) for start, before, after
            in zip(starts[1:], medians, medians[1:], strict=False)]


def _jump_beyond_trend(left: np.ndarray, right: np.ndarray, noise: float) -> float:
    """The size of the jump between two adjacent segments beyond what a slope common to both
    explains, when they share a clear slope (a steady trend cut by binary segmentation: no
    jump); infinite otherwise (then their medians alone say how far the level moved)."""
    centred = [part - part.mean() for part in (left, right)]
    times = [np.arange(part.size) - (part.size - 1) / 2 for part in (left, right)]
    spread = sum(float(t @ t) for t in times)
    if spread <= 0:
        return math.inf
    slope = sum(float(t @ c) for t, c in zip(times, centred, strict=True)) / spread
    if abs(slope) * math.sqrt(spread) < TREND_Z * noise:
        return math.inf
    gap = (left.size + right.size) / 2  # between the two segments' middles
    return abs(float(right.mean() - left.mean()) - slope * gap)


def _change_point(index: int, before: float, after: float, better: Better) -> ChangePoint:
    """A change point from the medians either side of it."""
    change = after - before
    worse = change > 0 if better == "lower" else change < 0
    return ChangePoint(index=index, before=before, after=after, change=change,
                       relative_change=change / abs(before) if before else None,
                       direction="regression" if worse else "improvement")


def _winsorized(series: np.ndarray, noise: float, params: DetectionParams) -> np.ndarray:
    """series with each value clipped to ±clip σ around the running median of its neighbours."""
    reach = params.min_segment
    padded = np.pad(series, reach, mode="edge")
    local = np.median(sliding_window_view(padded, 2 * reach + 1), axis=1)
    return local + np.clip(series - local, -params.clip * noise, params.clip * noise)


@functools.cache
def _squared_error() -> type:
    """ruptures' L2 cost from cumulative sums: O(1) per segment instead of O(length)."""
    from ruptures.base import BaseCost

    class SquaredError(BaseCost):
        model = "l2_cumulative"
        min_size = 1

        def fit(self, signal: np.ndarray) -> SquaredError:
            """Precompute the cumulative sums of the (1-D) signal."""
            flat = np.asarray(signal, dtype=float).ravel()
            self.signal = flat.reshape(-1, 1)
            self.sums = np.concatenate([[0.0], np.cumsum(flat)])
            self.squares = np.concatenate([[0.0], np.cumsum(flat * flat)])
            return self

        def error(self, start: int, end: int) -> float:
            """Sum of squared deviations from the mean of signal[start:end]."""
            total = self.sums[end] - self.sums[start]
            return float(self.squares[end] - self.squares[start] - total * total
                         / (end - start))

    return SquaredError

"""Excursion tests and change points over one series: pure functions of numbers (numpy).

The per-build test is a robust two-sided CUSUM: the last `span` values, clipped and scaled
by the series' own noise, accumulate against the robust centre of the `window` values
before them. It is stateless — a caller passes the recent history — and yet alerts once per
excursion: the same test is re-run, from the history alone, on the earlier builds of the
current CUSUM run, and only the first build where it holds is a regression / improvement.
Rationale and measured performance: docs/decisions.md, docs/performance.md ("Detection").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import ruptures as rpt
from ruptures.base import BaseCost

Better = Literal["lower", "higher"]
Decision = Literal["ok", "regression", "improvement", "insufficient_history"]
Direction = Literal["regression", "improvement"]

_MAD_TO_SIGMA = 1.4826  # MAD of Gaussian noise × this = σ
_HUBER = 1.5  # clipping (in σ) of the one Huber step that refines the baseline median
_WINSOR = 2.5  # differences are capped at this many σ (first guess) in the noise estimate
_WINSOR_VARIANCE = (math.erf(_WINSOR / math.sqrt(2)) * (1 - _WINSOR**2) + _WINSOR**2
                    - 2 * _WINSOR * math.exp(-_WINSOR**2 / 2) / math.sqrt(2 * math.pi))
_TINY = 1e-12


@dataclass(frozen=True)
class DetectionParams:
    """Every knob of the excursion test and of change-point search."""

    window: int = 128  # baseline values (before the CUSUM span)
    span: int = 32  # most recent values the CUSUM accumulates over, kept out of the baseline
    min_history: int = 20  # fewer earlier values: insufficient_history
    k: tuple[float, ...] = (0.5, 1.0)  # CUSUM allowances in σ: half the shifts to find fast
    h: tuple[float, ...] = (8.0, 3.5)  # the threshold of each of those CUSUMs, in σ
    clip: float = 3.0  # each standardized value is clipped to ±clip: outliers count little
    persistence: int = 3  # an excursion spans at least this many builds
    min_relative: float = 0.01  # smallest practical shift, relative to |baseline|
    min_sigmas: float = 0.5  # smallest practical shift, in noise σ
    noise_floor: float = 1e-6  # σ is at least this × |baseline| (constant series)
    min_segment: int = 3  # change points: the shortest segment kept
    penalty: float = 3.0  # change points: penalty = penalty × σ̂² × ln n

    @property
    def history_needed(self) -> int:
        """How many earlier values `judge_point` uses; more are ignored."""
        return self.window + 2 * self.span - 1


DEFAULT_PARAMS = DetectionParams()


@dataclass(frozen=True)
class Excursion:
    """How one value compares with its series' recent past."""

    baseline: float  # robust centre of the recent history
    noise: float  # robust σ of the series (from first differences), floored
    change: float  # value − baseline
    relative_change: float | None  # change / |baseline|; None when the baseline is 0
    score: float  # CUSUM in σ: positive = evidence of a regression, negative = improvement
    decision: Decision
    started: int  # builds back where the current excursion began (0 = this build)

    def to_json(self) -> dict[str, Any]:
        """The excursion as JSON-able data."""
        return asdict(self)


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


def robust_noise(values: np.ndarray) -> float:
    """σ of a series from its first differences (robust to steps and outliers), 0 if flat."""
    if values.size < 2:
        return 0.0
    return float(_row_noise(np.asarray(values, dtype=float)[None, :])[0])


def change_points(
    values: Sequence[float], better: Better, params: DetectionParams = DEFAULT_PARAMS,
) -> list[ChangePoint]:
    """Lasting level shifts over a whole history (binary segmentation, L2, robust penalty)."""
    series = np.asarray(values, dtype=float)
    if not np.isfinite(series).all():
        raise ValueError("values must be finite")
    if series.size < 2 * params.min_segment:
        return []
    middle = float(np.median(series))
    noise = max(robust_noise(series), params.noise_floor * abs(middle), _TINY)
    clipped = _winsorized(series, noise, params)
    search = rpt.Binseg(custom_cost=_SquaredError(), min_size=params.min_segment, jump=1)
    penalty = params.penalty * math.log(series.size)  # in units of σ², the signal is scaled
    edges = search.fit((clipped - middle) / noise).predict(pen=penalty)
    starts = [0, *edges[:-1]]
    while len(starts) > 1:
        medians = [float(np.median(series[a:b])) for a, b in zip(starts, [*starts[1:], None],
                                                                  strict=True)]
        steps = [abs(after - before) / max(params.min_relative * abs(before),
                                            params.min_sigmas * noise)
                 for before, after in zip(medians, medians[1:], strict=False)]
        weakest = int(np.argmin(steps))
        if steps[weakest] >= 1.0:
            return [_change_point(start, before, after, better) for start, before, after
                    in zip(starts[1:], medians, medians[1:], strict=False)]
        del starts[weakest + 1]
    return []


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
    local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1), axis=1)
    return local + _clipped(series - local, params.clip * noise)


class _SquaredError(BaseCost):  # type: ignore[misc]
    """ruptures' L2 cost from cumulative sums: O(1) per segment instead of O(length)."""

    model = "l2_cumulative"
    min_size = 1

    def fit(self, signal: np.ndarray) -> _SquaredError:
        """Precompute the cumulative sums of the (1-D) signal."""
        flat = np.asarray(signal, dtype=float).ravel()
        self.signal = flat.reshape(-1, 1)
        self.sums = np.concatenate([[0.0], np.cumsum(flat)])
        self.squares = np.concatenate([[0.0], np.cumsum(flat * flat)])
        return self

    def error(self, start: int, end: int) -> float:
        """Sum of squared deviations from the mean of signal[start:end]."""
        total = self.sums[end] - self.sums[start]
        return float(self.squares[end] - self.squares[start] - total * total / (end - start))


def judge_point(
    history: Sequence[float], value: float, better: Better,
    params: DetectionParams = DEFAULT_PARAMS,
) -> Excursion:
    """Judge value against the earlier values of its series (oldest first); O(window)."""
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, not {value!r}")
    recent = np.asarray(history[-params.history_needed:], dtype=float)
    recent = recent[np.isfinite(recent)]
    series = np.append(recent, float(value))
    if recent.size < params.min_history:
        return _insufficient(recent, float(value), params)
    first = max(params.min_history, series.size - 1 - params.span)
    ends = np.arange(first, series.size)
    tests = _tests(series, ends, params)
    fired = [_fires(series, tests, row, params) for row in (0, 1)]
    worse = 0 if better == "lower" else 1  # row 0 of the tests looks upwards, row 1 downwards
    scores = tests.score[:, -1]
    decision: Decision = "ok"
    if fired[worse] and (not fired[1 - worse] or scores[worse] >= scores[1 - worse]):
        decision = "regression"
    elif fired[1 - worse]:
        decision = "improvement"
    leading = worse if scores[worse] >= scores[1 - worse] else 1 - worse
    score = float(scores[worse] if leading == worse else -scores[1 - worse])
    started = _onset(tests, leading) if scores[leading] > 0 else 0
    baseline = float(tests.baseline[-1])
    change = float(value) - baseline
    return Excursion(
        baseline=baseline, noise=float(tests.noise[-1]), change=change,
        relative_change=change / abs(baseline) if baseline else None, score=score,
        decision=decision, started=started,
    )


@dataclass(frozen=True)
class _Tests:
    """The CUSUM test evaluated at several ends; arrays are [direction (up, down), end]."""

    baseline: np.ndarray
    noise: np.ndarray
    score: np.ndarray  # CUSUM at each end
    holds: np.ndarray  # score ≥ h, persistent and large enough
    run: np.ndarray  # length of the current excursion at each end (best-scoring CUSUM)
    reach: np.ndarray  # the longest current run of any of the CUSUMs
    z: np.ndarray  # [end, span] standardized, clipped values of the last end's span


def _tests(series: np.ndarray, ends: np.ndarray, params: DetectionParams) -> _Tests:
    """The CUSUM test at each end of series, each from the values up to that end only."""
    length = ends + 1
    base_len = np.minimum(params.window,
                          np.maximum(length - params.span, (length + 1) // 2))
    span_len = np.minimum(params.span, length - base_len)
    base_start = length - span_len - base_len
    base = _padded(series, base_start, base_len, params.window, align="left")
    tail = _padded(series, length - span_len, span_len, params.span, align="right")
    stretch = _padded(series, base_start, base_len + span_len,
                      params.window + params.span, align="left")
    centre = _nan_median(base)
    noise = _row_noise(stretch)
    noise = np.maximum(noise, np.maximum(params.noise_floor * np.abs(centre), _TINY))
    pull = _clipped((base - centre[:, None]) / noise[:, None], _HUBER)
    baseline = centre + noise * np.nansum(pull, axis=1) / base_len
    z = _clipped((tail - baseline[:, None]) / noise[:, None], params.clip)
    # one CUSUM per (direction, allowance): axis 0 is up k1, up k2, …, down k1, down k2, …
    sign = np.repeat([1.0, -1.0], len(params.k))[:, None, None]
    allowance = np.tile(params.k, 2)[:, None, None]
    threshold = np.tile(params.h, 2)[:, None]
    steps = np.where(np.isnan(z), 0.0, sign * z - allowance)
    walk = np.cumsum(steps, axis=2)
    cusum = walk - np.minimum(np.minimum.accumulate(walk, axis=2), 0.0)
    at_zero = np.concatenate([np.ones(cusum.shape[:2] + (1,), bool), cusum <= 0.0], axis=2)
    run = params.span - (at_zero.shape[2] - 1 - np.argmax(at_zero[:, :, ::-1], axis=2))
    in_run = np.arange(params.span) >= params.span - run[:, :, None]
    shift = sign[:, :, 0] * (_nan_median(np.where(in_run, tail, np.nan)) - baseline)
    large = shift >= _minimum_effect(baseline, noise, params)
    score = cusum[:, :, -1] / threshold  # in units of each CUSUM's own threshold
    holds = (score >= 1.0) & (run >= params.persistence) & large
    pairs = len(params.k)
    by_direction = score.reshape(2, pairs, -1)
    best = np.argmax(by_direction, axis=1)
    return _Tests(
        baseline=baseline, noise=noise, score=np.max(by_direction, axis=1),
        holds=holds.reshape(2, pairs, -1).any(axis=1),
        run=np.take_along_axis(run.reshape(2, pairs, -1), best[:, None, :], axis=1)[:, 0],
        reach=run.reshape(2, pairs, -1).max(axis=1),
        z=z,
    )


def _clipped(values: np.ndarray, bound: float) -> np.ndarray:
    """values limited to ±bound (NaN stays NaN); np.clip costs more on small arrays."""
    return np.minimum(np.maximum(values, -bound), bound)


def _last_true(flags: np.ndarray) -> np.ndarray:
    """Per row, the column of the last True (flags[:, 0] must be True)."""
    return flags.shape[1] - 1 - np.argmax(flags[:, ::-1], axis=1)


def _fires(series: np.ndarray, tests: _Tests, row: int, params: DetectionParams) -> bool:
    """Whether the test first holds now: once per CUSUM run, and once per level."""
    holds = tests.holds[row]
    if not holds[-1] or holds[-1 - int(tests.reach[row, -1]):-1].any():
        return False  # no excursion, or this CUSUM run already alerted
    if not holds[:-1].any():
        return True
    # The test held recently, in another run: while a baseline absorbs a new level the test
    # flickers. Only a fresh step from the level just before this run alerts again.
    start = series.size - 1 - _onset(tests, row)
    before = series[max(0, start - params.span):start]
    if before.size == 0:
        return True
    shift = (1.0 if row == 0 else -1.0) * (np.median(series[start:]) - np.median(before))
    return bool(shift >= _minimum_effect(tests.baseline[-1], tests.noise[-1], params))


def _minimum_effect(baseline: float | np.ndarray, noise: float | np.ndarray,
                    params: DetectionParams) -> float | np.ndarray:
    """The smallest shift of the level that matters."""
    return np.maximum(params.min_relative * np.abs(baseline), params.min_sigmas * noise)


def _onset(tests: _Tests, row: int) -> int:
    """Builds back where the current excursion began: its first clearly shifted value."""
    run = int(tests.run[row, -1])
    if run == 0:
        return 0
    pushed = (1.0 if row == 0 else -1.0) * tests.z[-1, -run:]
    typical = float(np.median(pushed))
    first = int(np.argmax(pushed >= typical / 2)) if typical > 0 else 0
    return run - 1 - first


def _padded(series: np.ndarray, starts: np.ndarray, lengths: np.ndarray, width: int,
            align: Literal["left", "right"]) -> np.ndarray:
    """Rows series[start:start + length], NaN-padded to width (on the right or the left)."""
    columns = np.arange(width)[None, :]
    offset = columns if align == "left" else columns - (width - lengths[:, None])
    inside = (offset >= 0) & (offset < lengths[:, None])
    index = np.minimum(np.maximum(starts[:, None] + offset, 0), series.size - 1)
    return np.where(inside, series[index], np.nan)


def _nan_median(rows: np.ndarray) -> np.ndarray:
    """Median along the last axis, ignoring NaN (NaN where all are NaN)."""
    count = np.sum(~np.isnan(rows), axis=-1, keepdims=True)
    ordered = np.sort(rows, axis=-1)  # NaN sorts last
    lower = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0), axis=-1)
    upper = np.take_along_axis(ordered, np.minimum(count // 2, rows.shape[-1] - 1), axis=-1)
    return np.where(count > 0, (lower + upper) / 2, np.nan)[..., 0]


def _row_noise(rows: np.ndarray) -> np.ndarray:
    """robust_noise of each NaN-padded row."""
    diffs = np.diff(rows, axis=1)
    deviations = np.abs(diffs - _nan_median(diffs)[:, None])
    count = np.maximum(np.sum(~np.isnan(deviations), axis=1), 1)
    rough = _MAD_TO_SIGMA * _nan_median(deviations)
    fallback = np.nansum(deviations, axis=1) / count * math.sqrt(math.pi / 2)
    rough = np.where(rough > 0, rough, fallback)
    # one winsorized-RMS step: nearly the efficiency of a standard deviation, still robust
    capped = np.minimum(deviations, _WINSOR * rough[:, None])
    return np.sqrt(np.nansum(capped * capped, axis=1) / count / _WINSOR_VARIANCE / 2)


def _insufficient(recent: np.ndarray, value: float, params: DetectionParams) -> Excursion:
    """An excursion without a decision: too little history to judge."""
    baseline = float(np.median(recent)) if recent.size else value
    noise = max(robust_noise(recent), params.noise_floor * abs(baseline), _TINY)
    change = value - baseline
    return Excursion(
        baseline=baseline, noise=noise, change=change,
        relative_change=change / abs(baseline) if baseline else None, score=0.0,
        decision="insufficient_history", started=0,
    )

"""Excursion tests and change points over one series: pure functions of numbers (numpy).

The per-build test scans the means of the last 4, 5, 6, … 24 values (clipped, in units of
the series' own noise) against the robust centre of the `window` values before them, as
two-sample z statistics. It is stateless — a caller passes the recent history — and yet
alerts once per excursion: the same test is re-run, from the history alone, on the builds
before this one, and only the first build of an excursion is a regression / improvement.
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
_HUBER = 1.5  # clipping (in σ) of the one Huber step that refines a median
_CENTRE_VARIANCE = 1.1  # variance of that centre × n / σ² (Huber at 1.5σ: ~95 % efficient)
_WINSOR = 2.5  # differences are capped at this many σ (first guess) in the noise estimate
_WINSOR_VARIANCE = (math.erf(_WINSOR / math.sqrt(2)) * (1 - _WINSOR**2) + _WINSOR**2
                    - 2 * _WINSOR * math.exp(-_WINSOR**2 / 2) / math.sqrt(2 * math.pi))
_TINY = 1e-12


@dataclass(frozen=True)
class DetectionParams:
    """Every knob of the excursion test and of change-point search."""

    window: int = 128  # baseline values, before the recent span
    span: int = 24  # the most recent values: kept out of the baseline, the longest scan
    scan: tuple[int, ...] = (4, 5, 6, 8, 12, 16, 24)  # lengths of the recent windows tested
    threshold: float = 3.5  # z of a recent window's mean against the baseline: an excursion
    persistence: int = 4  # no excursion is shorter: a window shorter than this is not tested
    memory: int = 96  # an excursion this recent makes a new one prove it is a fresh step
    latest: int = 0  # if > 0: the centre of the newest baseline values bounds the baseline
    min_history: int = 20  # fewer earlier values: insufficient_history
    clip: float = 3.0  # each standardized value is clipped to ±clip: outliers count little
    min_relative: float = 0.01  # smallest practical shift, relative to |baseline|
    min_sigmas: float = 0.5  # smallest practical shift, in noise σ
    noise_floor: float = 1e-6  # σ is at least this × |baseline| (constant series)
    min_segment: int = 3  # change points: the shortest segment kept
    penalty: float = 3.0  # change points: penalty = penalty × σ̂² × ln n

    @property
    def windows(self) -> tuple[int, ...]:
        """The recent-window lengths actually tested."""
        return tuple(sorted({m for m in self.scan if self.persistence <= m <= self.span}))

    @property
    def history_needed(self) -> int:
        """How many earlier values `judge_point` uses; more are ignored."""
        return self.window + self.span + max(self.memory, self.span) - 1


DEFAULT_PARAMS = DetectionParams()


@dataclass(frozen=True)
class Excursion:
    """How one value compares with its series' recent past."""

    baseline: float  # robust centre of the recent history
    noise: float  # robust σ of the series (from first differences), floored
    change: float  # value − baseline
    relative_change: float | None  # change / |baseline|; None when the baseline is 0
    score: float  # z of the recent level: positive = towards a regression, negative = better
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
    last = series.size - 1
    # every build of the recent span (one excursion alerts once), and a sample of older ones
    older = np.arange(last - params.span - params.persistence, last - params.memory - 1,
                      -params.persistence)[::-1]
    ends = np.concatenate([older, np.arange(last - params.span, last + 1)])
    tests = _tests(series, ends[ends >= params.min_history], params)
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
    baseline = float(tests.baseline[leading, -1])
    change = float(value) - baseline
    return Excursion(
        baseline=baseline, noise=float(tests.noise[-1]), change=change,
        relative_change=change / abs(baseline) if baseline else None, score=score,
        decision=decision, started=started,
    )


@dataclass(frozen=True)
class _Tests:
    """The excursion test evaluated at several ends."""

    baseline: np.ndarray  # [direction (up, down), end]: what each direction is judged against
    noise: np.ndarray  # [end]
    score: np.ndarray  # [direction, end]: z of the most telling recent window
    holds: np.ndarray  # [direction, end]: an excursion (score ≥ threshold, large enough)
    size: np.ndarray  # [direction, end]: length of that window
    z: np.ndarray  # [direction, end, span]: standardized, clipped recent values


def _tests(series: np.ndarray, ends: np.ndarray, params: DetectionParams) -> _Tests:
    """The excursion test at each end of series, each from the values up to that end only."""
    length = ends + 1
    base_len = np.minimum(params.window,
                          np.maximum(length - params.span, (length + 1) // 2))
    span_len = np.minimum(params.span, length - base_len)
    base_start = length - span_len - base_len
    recent_len = np.minimum(params.latest, base_len)
    base = _padded(series, base_start, base_len, params.window, align="left")
    recent = _padded(series, length - span_len - recent_len, recent_len, max(params.latest, 1),
                     "left")
    tail = _padded(series, length - span_len, span_len, params.span, align="right")
    stretch = _padded(series, base_start, base_len + span_len,
                      params.window + params.span, align="left")
    noise = _row_noise(stretch)
    centre = _robust_centre(base, base_len, noise)
    noise = np.maximum(noise, np.maximum(params.noise_floor * np.abs(centre), _TINY))
    # Each direction is judged against the less favourable of the whole window's centre and
    # its newest values' centre: a level that the window is still absorbing raises no alert.
    latest = _robust_centre(recent, recent_len, noise) if params.latest else centre
    baseline = np.stack([np.maximum(centre, latest), np.minimum(centre, latest)])
    sign = np.array([1.0, -1.0])[:, None, None]
    z = _clipped((tail[None] - baseline[:, :, None]) / noise[:, None], params.clip)
    pushed = np.where(np.isnan(z), 0.0, sign * z)
    totals = np.cumsum(pushed[:, :, ::-1], axis=2)  # sums of the last 1, 2, … values
    windows = np.array(params.windows)
    usable = windows[None, :] <= span_len[:, None]  # [end, window]
    spread = np.sqrt(1.0 / windows[None, :] + _CENTRE_VARIANCE / base_len[:, None])
    stats = totals[:, :, windows - 1] / windows / spread  # [direction, end, window]
    stats = np.where(usable, stats, -np.inf)
    best = np.argmax(stats, axis=2)
    score = np.max(stats, axis=2)
    size = np.where(np.isfinite(score), windows[best], 0)
    shift = np.take_along_axis(totals[:, :, windows - 1] / windows, best[:, :, None], 2)[..., 0]
    large = shift * noise >= _minimum_effect(baseline, noise, params)  # the clipped mean
    holds = (score >= params.threshold) & large
    return _Tests(baseline=baseline, noise=noise, score=np.where(size > 0, score, 0.0),
                  holds=holds, size=size, z=z)


def _robust_centre(rows: np.ndarray, counts: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Median of each NaN-padded row refined by one Huber step (nearly a mean's efficiency)."""
    middle = _nan_median(rows)
    scale = np.maximum(noise, _TINY)[:, None]
    pull = _clipped((rows - middle[:, None]) / scale, _HUBER)
    return middle + scale[:, 0] * np.nansum(pull, axis=1) / np.maximum(counts, 1)


def _clipped(values: np.ndarray, bound: float) -> np.ndarray:
    """values limited to ±bound (NaN stays NaN); np.clip costs more on small arrays."""
    return np.minimum(np.maximum(values, -bound), bound)


def _fires(series: np.ndarray, tests: _Tests, row: int, params: DetectionParams) -> bool:
    """Whether the test first holds now: once per excursion, and once per level."""
    holds = tests.holds[row]
    if not holds[-1] or holds[-int(tests.size[row, -1]):-1].any():
        return False  # no excursion, or one that held earlier in the same recent window
    if not holds[:-1].any():
        return True
    # The test held in the last `memory` builds, before this window: a new excursion only if
    # it is, by the same test, a step from the level just before it (not an old one still
    # being absorbed into the baseline, which lags).
    start = series.size - 1 - _onset(tests, row)
    before = series[max(0, start - params.span):start]
    if before.size < params.persistence:
        return True
    noise = tests.noise[-1]
    centre = float(np.median(before))
    pushed = (1.0 if row == 0 else -1.0) * _clipped((series[start:] - centre) / noise, params.clip)
    spread = math.sqrt(1.0 / pushed.size + _CENTRE_VARIANCE / before.size)
    return bool(pushed.mean() / spread >= params.threshold
                and pushed.mean() * noise >= _minimum_effect(centre, noise, params))


def _minimum_effect(baseline: float | np.ndarray, noise: float | np.ndarray,
                    params: DetectionParams) -> float | np.ndarray:
    """The smallest shift of the level that matters."""
    return np.maximum(params.min_relative * np.abs(baseline), params.min_sigmas * noise)


def _onset(tests: _Tests, row: int) -> int:
    """Builds back where the current excursion began: its first clearly shifted value."""
    run = int(tests.size[row, -1])
    if run == 0:
        return 0
    pushed = (1.0 if row == 0 else -1.0) * tests.z[row, -1, -run:]
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

"""The excursion test evaluated at many ends at once, of one series or of many: a row per end,
each from the values up to that end only (NaN before a series' first value), so that a row
is the same whichever other rows it is evaluated with. Pure numpy; the decisions built on it
are excursions.py's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from harness.detection.params import DetectionParams
from harness.detection.robust import (
    TINY,
    clipped,
    nan_median,
    robust_centre,
    row_noise,
    shape_widening,
)

CENTRE_VARIANCE = 1.1  # variance of the baseline's centre × n / σ² (with margin)
DOF_PER_DIFFERENCE = 0.5  # degrees of freedom of σ per difference (correlated, winsorized)
ROWS = 1024  # ends of several series evaluated together, at most: bounds the memory


@dataclass(frozen=True)
class EndTests:
    """The excursion test evaluated at several ends."""

    baseline: np.ndarray  # [end]
    noise: np.ndarray  # [end]
    score: np.ndarray  # [direction (up, down), end]: z of the most telling recent window
    holds: np.ndarray  # [direction, end]: an excursion (score ≥ threshold, large enough)
    size: np.ndarray  # [direction, end]: length of that window

    def pick(self, rows: slice) -> EndTests:
        """The tests of some ends (a slice of rows)."""
        return EndTests(self.baseline[rows], self.noise[rows], self.score[:, rows],
                        self.holds[:, rows], self.size[:, rows])

    @staticmethod
    def joined(parts: list[EndTests]) -> EndTests:
        """The tests of consecutive parts, as one."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return EndTests(np.zeros(0), np.zeros(0), np.zeros((2, 0)),
                            np.zeros((2, 0), dtype=bool), np.zeros((2, 0), dtype=int))
        return EndTests(*(np.concatenate([getattr(part, name) for part in parts], axis=-1)
                          for name in ("baseline", "noise", "score", "holds", "size")))


def evaluate_many(series: list[np.ndarray], ends: list[np.ndarray], params: DetectionParams
                  ) -> EndTests:
    """The excursion test at the ends of each series, a row per end in order, each from the
    values up to that end only; several series (up to ROWS ends) in one evaluation."""
    chunks: list[list[int]] = [[]]
    rows = 0
    for index in (index for index, at in enumerate(ends) if at.size):
        if chunks[-1] and rows + ends[index].size > ROWS:
            chunks.append([])
            rows = 0
        chunks[-1].append(index)
        rows += ends[index].size
    parts = []
    for chunk in filter(None, chunks):
        values, starts = padded([series[i] for i in chunk], params.reach)
        parts.append(evaluate(values, np.repeat(starts, [ends[i].size for i in chunk]),
                              np.concatenate([ends[i] for i in chunk]), params))
    return EndTests.joined(parts)


def padded(series: list[np.ndarray], reach: int) -> tuple[np.ndarray, np.ndarray]:
    """The series one after another, each after `reach` NaN, and where each one's NaN start."""
    sizes = np.array([0] + [reach + s.size for s in series[:-1]], dtype=np.intp)
    pad = np.full(reach, np.nan)
    return np.concatenate([part for s in series for part in (pad, s)]), np.cumsum(sizes)


def evaluate(values: np.ndarray, starts: np.ndarray, ends: np.ndarray,
             params: DetectionParams) -> EndTests:
    """The excursion test at ends of series laid out by `padded` (`starts`: where the series
    of each end starts in `values`; `ends`: positions in that series)."""
    length = ends + 1
    base_len = np.minimum(params.window,
                          np.maximum(length - params.span, (length + 1) // 2))
    span_len = np.minimum(params.span, length - base_len)
    # Rows of values ending just before each stop; the baseline of a short history starts
    # at its first value, so the NaN before the series is exactly what is not part of it.
    reach = params.reach
    views = sliding_window_view(values, reach)

    def before(stops: np.ndarray, width: int) -> np.ndarray:
        return views[starts + stops, reach - width:]

    base = before(length - span_len, params.window)
    stretch = before(length, params.noise_window)
    tail = before(length, params.span)
    tail = np.where(np.arange(params.span) >= params.span - span_len[:, None], tail, np.nan)
    middle = nan_median(base)
    noise = np.maximum(row_noise(stretch),
                       np.maximum(params.noise_floor * np.abs(middle), TINY))
    base, base_len, middle = current_level(base, base_len, middle, noise, params)
    baseline = robust_centre(base, base_len, middle, noise, params.clip)
    sign = np.array([1.0, -1.0])[:, None, None]
    z = clipped((tail - baseline[:, None]) / noise[:, None], params.clip)
    pushed = np.where(np.isnan(z), 0.0, sign * z[None])
    totals = np.cumsum(pushed[:, :, ::-1], axis=2)  # sums of the last 1, 2, … values
    windows = np.array(sorted(m for m in params.scan if m <= params.span))
    usable = windows[None, :] <= span_len[:, None]  # [end, window]
    spread = np.sqrt(1.0 / windows[None, :] + CENTRE_VARIANCE / base_len[:, None])
    means = totals[:, :, windows - 1] / windows  # [row, end, window], in σ
    # each window's bar; a score is in units of the common threshold, so ≥ threshold decides
    bars = np.where(windows == windows[-1], params.long_relief, 1.0) * params.threshold
    # σ is itself estimated: widen like a Student t (Cornish-Fisher) for its few differences
    freedom = DOF_PER_DIFFERENCE * (np.minimum(length, params.noise_window) - 1)
    widen = 1.0 + (params.threshold**2 + 1.0) / (4.0 * freedom)
    shape = shape_widening(base, base_len, baseline, noise, windows, bars, params.clip)
    stats = np.where(usable, means / (spread * widen[:, None] * shape) * (params.threshold / bars),
                     -np.inf)
    score = np.max(stats, axis=2)
    size = np.where(np.isfinite(score), windows[np.argmax(stats, axis=2)], 0)
    # practical significance, in the series' unit (unclipped: σ may be tiny or floored)
    effect = minimum_effect(baseline, noise, params)[None, :, None]
    shifted = sign * (tail - baseline[:, None])[None]  # [direction, end, span]
    inside = np.arange(params.span) >= params.span - size[:, :, None]
    level = nan_median(np.where(inside, shifted, np.nan))
    beyond = np.sum(inside & (shifted >= effect), axis=2)
    holds = ((score >= params.threshold) & (level >= effect[..., 0])
             & (beyond >= params.persistence))
    return EndTests(baseline=baseline, noise=noise, score=np.where(size > 0, score, 0.0),
                 holds=holds, size=size)


def current_level(base: np.ndarray, counts: np.ndarray, middle: np.ndarray,
                  noise: np.ndarray, params: DetectionParams
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The baseline values of the current level: after a clear shift inside the window,
    with their number and median (`middle` is the median of each whole row).

    A level that moved inside the baseline window is, once `min_level` values long, the
    baseline on its own (so the test forgets an old excursion at once instead of slowly);
    until then the values before the shift are.
    """
    present = ~np.isnan(base)
    values = np.where(present, clipped((base - middle[:, None]) / noise[:, None], params.clip),
                      0.0)
    sums = np.cumsum(values[:, ::-1], axis=1)[:, ::-1]  # sums of the last n values
    counts_after = np.cumsum(present[:, ::-1], axis=1)[:, ::-1]
    cuts = np.arange(params.min_level // 2, base.shape[1], params.min_level // 2)  # columns
    later, number = sums[:, cuts], counts_after[:, cuts]
    earlier, rest = sums[:, :1] - later, counts[:, None] - number
    valid = (number >= params.min_level // 2) & (rest >= params.min_level)
    gap = (later / np.maximum(number, 1) - earlier / np.maximum(rest, 1))
    z = np.where(valid, np.abs(gap) / np.sqrt(1.0 / np.maximum(number, 1)
                                             + 1.0 / np.maximum(rest, 1)), 0.0)
    best = np.argmax(z, axis=1)
    shifted = z[np.arange(z.shape[0]), best] >= params.split
    cut = cuts[best]  # first column of the later level
    keep_later = number[np.arange(z.shape[0]), best] >= params.min_level
    columns = np.arange(base.shape[1])[None, :]
    keep = np.where(keep_later[:, None], columns >= cut[:, None], columns < cut[:, None])
    kept = np.where(shifted[:, None] & ~keep, np.nan, base)
    if shifted.any():
        middle = np.where(shifted, nan_median(kept), middle)
    return kept, np.sum(~np.isnan(kept), axis=1), middle


def minimum_effect(baseline: np.ndarray, noise: np.ndarray, params: DetectionParams
                   ) -> np.ndarray:
    """The smallest shift of the level that matters."""
    return np.maximum(np.maximum(params.min_relative * np.abs(baseline),
                                 params.min_sigmas * noise), params.min_absolute)

"""Robust estimates over NaN-padded rows of a series: noise from first differences, medians,
a clipped (Huber) centre, and how much wider than Gaussian a window's mean spreads. Pure
numpy; the excursion test (excursions.py) and change points (changepoints.py) build on them."""

from __future__ import annotations

import math

import numpy as np

MAD_TO_SIGMA = 1.4826  # MAD of Gaussian noise × this = σ
WINSOR = 2.5  # differences are capped at this many σ (first guess) in the noise estimate
TINY = 1e-12


def robust_noise(values: np.ndarray) -> float:
    """σ of a series from its first differences (robust to steps and outliers), 0 if flat."""
    if values.size < 2:
        return 0.0
    return float(row_noise(np.asarray(values, dtype=float)[None, :])[0])


def shape_widening(kept: np.ndarray, counts: np.ndarray, baseline: np.ndarray,
                    noise: np.ndarray, windows: np.ndarray, bars: np.ndarray, clip: float
                    ) -> np.ndarray:
    """How much wider than on Gaussian noise each recent window's mean spreads [direction,
    end, window], ≥ 1, from the baseline's clipped values: their variance where above a
    Gaussian's (a second runner that σ from differences half discounts, a rhythm), and a
    Cornish-Fisher shift of each bar for their skewness and kurtosis (a rarer runner makes
    upward runs likelier, heavy tails both ways)."""
    present = ~np.isnan(kept)
    number = np.maximum(counts, 1)
    z = np.where(present, clipped((kept - baseline[:, None]) / noise[:, None], clip), 0.0)
    centred = np.where(present, z - (np.sum(z, axis=1) / number)[:, None], 0.0)
    square = centred * centred
    variance = np.maximum(np.sum(square, axis=1) / number, TINY)
    skewness = np.sum(square * centred, axis=1) / number / variance**1.5
    kurtosis = np.sum(square * square, axis=1) / number / variance**2 - 3.0
    scale = np.sqrt(np.maximum(1.0, variance / clipped_variance(clip)))
    # skewness and excess kurtosis of a window's mean: /√m and /m; the sign turns with the row
    k1 = np.array([1.0, -1.0])[:, None, None] * (skewness[:, None] / np.sqrt(windows))[None]
    k2 = kurtosis[:, None] / windows
    t = bars
    shifted = 1.0 + (((t * t - 1) / (6 * t)) * k1 + ((t * t - 3) / 24) * k2
                     - ((2 * t * t - 5) / 36) * k1 * k1)
    return scale[None, :, None] * np.maximum(1.0, shifted)


def clipped_variance(bound: float) -> float:
    """Variance of a standard normal value clipped to ±bound."""
    return (math.erf(bound / math.sqrt(2)) * (1 - bound**2) + bound**2
            - 2 * bound * math.exp(-bound**2 / 2) / math.sqrt(2 * math.pi))


def robust_centre(rows: np.ndarray, counts: np.ndarray, middle: np.ndarray, noise: np.ndarray,
                   bound: float) -> np.ndarray:
    """The median of each NaN-padded row refined by one Huber step clipped at ±bound σ: with
    the recent values' own clip, both sides of the test estimate the same location even
    when the noise is skewed (a second, rarer runner), where a tighter step sits below it."""
    scale = np.maximum(noise, TINY)[:, None]
    pull = clipped((rows - middle[:, None]) / scale, bound)
    # NaN pads short rows at the front and `_current_level` drops either end of a row
    total = np.nansum if np.isnan(rows).any() else np.sum
    return middle + scale[:, 0] * total(pull, axis=1) / np.maximum(counts, 1)


def clipped(values: np.ndarray, bound: float | np.ndarray) -> np.ndarray:
    """values limited to ±bound (NaN stays NaN; bounds broadcast); np.clip costs more on
    small arrays."""
    return np.minimum(np.maximum(values, -bound), bound)


def nan_median(rows: np.ndarray) -> np.ndarray:
    """Median along the last axis, ignoring NaN (NaN where all are NaN)."""
    ordered = np.sort(rows, axis=-1)  # NaN sorts last; np.median is slower on short rows
    width = rows.shape[-1]
    if not np.isnan(ordered[..., -1]).any():
        return (ordered[..., (width - 1) // 2] + ordered[..., width // 2]) / 2
    count = np.sum(~np.isnan(rows), axis=-1, keepdims=True)
    lower = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0), axis=-1)
    upper = np.take_along_axis(ordered, np.minimum(count // 2, rows.shape[-1] - 1), axis=-1)
    return np.where(count > 0, (lower + upper) / 2, np.nan)[..., 0]


def row_noise(rows: np.ndarray) -> np.ndarray:
    """robust_noise of each NaN-padded row."""
    diffs = np.diff(rows, axis=1)
    deviations = np.abs(diffs - nan_median(diffs)[:, None])
    padded = bool(np.isnan(deviations[:, 0]).any())  # NaN pads the front of short rows
    total = np.nansum if padded else np.sum
    count = np.maximum(np.sum(~np.isnan(deviations), axis=1), 1) if padded else diffs.shape[1]
    rough = MAD_TO_SIGMA * nan_median(deviations)
    fallback = total(deviations, axis=1) / count * math.sqrt(math.pi / 2)
    rough = np.where(rough > 0, rough, fallback)
    # one winsorized-RMS step: nearly the efficiency of a standard deviation, still robust
    capped = np.minimum(deviations, WINSOR * rough[:, None])
    return np.sqrt(total(capped * capped, axis=1) / count / clipped_variance(WINSOR) / 2)

"""Server-side downsampling of long series: keep each bucket's extremes, so a spike or a
step survives while a 10,000-point history ships as about a thousand points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def min_max_indices(x: Sequence[float] | Any, y: Sequence[float] | Any, buckets: int,
                    keep: Sequence[int] = ()) -> np.ndarray:
    """Sorted indices of the points to draw: the first and last point, the lowest and the
    highest point of each of `buckets` equal spans of x, and every index in `keep`
    (flagged points: alerts, failures). All indices when there are few points already."""
    count = len(x)
    if count <= 2 * buckets + 2:
        return np.arange(count)
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    edges = np.linspace(xs[0], xs[-1], buckets + 1)
    bucket = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, buckets - 1)
    # NaN (a measurement without a value) must never be chosen as an extreme
    finite = np.where(np.isfinite(ys), ys, np.nan)
    order = np.lexsort((finite, bucket))  # by bucket, then by value, NaN last
    sorted_buckets = bucket[order]
    starts = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
    ends = np.r_[starts[1:], count] - 1
    valid = np.isfinite(finite[order])
    # the last finite value of each bucket: step back over the NaN tail
    last_finite = np.maximum.accumulate(np.where(valid, np.arange(count), -1))[ends]
    last_finite = np.where(last_finite >= starts, last_finite, starts)
    chosen = np.concatenate([order[starts], order[last_finite], [0, count - 1],
                             np.asarray(keep, dtype=int)])
    return np.unique(chosen)

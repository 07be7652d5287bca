"""Excursion tests and change points over one series: pure functions of numbers (numpy).

The per-build test compares the means of the last 6, 12 and 21 values (clipped, in units of
the series' own noise) with the robust centre of the `window` values before them, as
two-sample z statistics, widened for the shape of the noise those values show (a second
runner, heavy tails). It is stateless — a caller passes the values — yet alerts once per
excursion: the test is evaluated at every end of a series from the values up to that end
only, only the first end of an excursion is a regression / improvement, and a test that
holds again while the series keeps moving the same way (a drift) continues the excursion.
So the judgements of a series are a function of its values (`judge_series`; `judge_point`
is its last end; `judge_many` judges many series at once, each exactly as alone). A pull
request's value is compared with its base branch's current level in one calibrated test
(`compare_to_base`), with repeated samples when the builds carry them. Change points over a
whole history come from ruptures' binary segmentation; a cut that a steady trend explains is
dropped. Rationale and measured performance: docs/decisions.md and docs/performance.md
("Detection").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from harness.detection.evaluation import (
    CENTRE_VARIANCE,
    DOF_PER_DIFFERENCE,
    EndTests,
    current_level,
    evaluate_many,
    minimum_effect,
)
from harness.detection.params import DEFAULT_PARAMS, Better, DetectionParams, Values
from harness.detection.robust import (
    TINY,
    clipped,
    nan_median,
    robust_centre,
    robust_noise,
    row_noise,
)
from harness.model import Decision, Excursion

_MEDIAN_SPREAD = 1.2533  # standard error of a median / that of a mean (Gaussian, √(π/2))
TREND_Z = 3.0  # z of a slope that makes a trend (drift, change-point merging)
_RAMP_SHIFT_Z = 2.5  # a trend with a level shift beyond it of this z is steps, not a ramp


BLOCK = 512  # ends evaluated together: bounds the memory of a long series' walk


def judge_point(
    history: Values, value: float, better: Better,
    params: DetectionParams = DEFAULT_PARAMS,
) -> Excursion:
    """Judge value against the earlier values of its series (oldest first); O(window)."""
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, not {value!r}")
    recent = np.asarray(history[-params.history_needed:], dtype=float)
    recent = recent[np.isfinite(recent)]
    return judge_series(np.append(recent, float(value)), better, params, first=recent.size)[0]


def judge_series(
    values: Values, better: Better, params: DetectionParams = DEFAULT_PARAMS, first: int = 0,
) -> list[Excursion]:
    """The judgement of each of values[first:], each from the values up to it only: what
    judging the series build by build, in order, gives; O(window) per end."""
    series = np.asarray(values, dtype=float)
    if not np.isfinite(series).all():
        raise ValueError("values must be finite")
    judged = [_insufficient(series[:end], float(series[end]), params)
              for end in range(first, min(series.size, params.min_history))]
    lookback = max(params.scan) - 1  # earlier ends whose holding `_fires` looks at
    for block in range(max(first, params.min_history), series.size, BLOCK):
        ends = np.arange(max(params.min_history, block - lookback),
                         min(series.size, block + BLOCK))
        tests = evaluate_many([series], [ends], params)
        judged += [_excursion(series, ends, tests, column, better, params)
                   for column in range(block - int(ends[0]), ends.size)]
    return judged


Job = tuple[Values, Better, DetectionParams, int]  # judge_series' arguments: values … first


def judge_many(jobs: Sequence[Job]) -> list[list[Excursion]]:
    """judge_series of each job, with the tests of the series of equal parameters evaluated
    together: at the judged ends first, then at the earlier ends that `_fires` reads only
    for the series whose test holds somewhere; the same judgements, in a few numpy calls."""
    series = [np.asarray(values, dtype=float) for values, _, _, _ in jobs]
    if not all(np.isfinite(one).all() for one in series):
        raise ValueError("values must be finite")
    judged: list[list[Excursion]] = [[] for _ in jobs]
    alike: dict[DetectionParams, list[int]] = {}
    for index, (_, better, params, first) in enumerate(jobs):
        if series[index].size - first > BLOCK:  # a long walk, in blocks
            judged[index] = judge_series(series[index], better, params, first)
        else:
            alike.setdefault(params, []).append(index)
    for params, members in alike.items():
        found = _judge_alike([series[i] for i in members], [jobs[i][1] for i in members],
                             [jobs[i][3] for i in members], params)
        for index, excursions in zip(members, found, strict=True):
            judged[index] = excursions
    return judged


def _judge_alike(series: list[np.ndarray], betters: list[Better], firsts: list[int],
                 params: DetectionParams) -> list[list[Excursion]]:
    """judge_series of series with the same parameters, none with more than BLOCK ends."""
    judged = [[_insufficient(one[:end], float(one[end]), params)
               for end in range(first, min(one.size, params.min_history))]
              for one, first in zip(series, firsts, strict=True)]
    starts = [max(first, params.min_history) for first in firsts]
    ends = [np.arange(start, one.size) for start, one in zip(starts, series, strict=True)]
    tests = evaluate_many(series, ends, params)
    bounds = np.cumsum([0] + [at.size for at in ends])
    holding = np.concatenate([[0], np.cumsum(tests.holds.any(axis=0))])
    loud = holding[bounds[1:]] > holding[bounds[:-1]]  # the test holds at an end of series i
    quiet = [i for i, at in enumerate(ends) if at.size and not loud[i]]
    for i, excursions in zip(quiet, _quiet(series, ends, bounds, tests, quiet, betters, params),
                             strict=True):
        judged[i] += excursions
    # Where a test holds, `_fires` and `_continues` read the earlier ends too: evaluated again
    # with them, then decided end by end as judge_series does.
    noisy = [i for i, at in enumerate(ends) if at.size and loud[i]]
    lookback = max(params.scan) - 1
    walks = [np.arange(max(params.min_history, starts[i] - lookback), series[i].size)
             for i in noisy]
    walked = evaluate_many([series[i] for i in noisy], walks, params)
    offset = 0
    for i, walk in zip(noisy, walks, strict=True):
        mine = walked.pick(slice(offset, offset + walk.size))
        offset += walk.size
        judged[i] += [_excursion(series[i], walk, mine, column, betters[i], params)
                      for column in range(starts[i] - int(walk[0]), walk.size)]
    return judged


def _quiet(series: list[np.ndarray], ends: list[np.ndarray], bounds: np.ndarray,
           tests: EndTests, quiet: list[int], betters: list[Better], params: DetectionParams
           ) -> list[list[Excursion]]:
    """The judgements (all "ok") of series whose test holds at none of their ends: what
    `_excursion` decides there, for all ends at once."""
    if not quiet:
        return []
    rows = np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i in quiet] or [np.arange(0)])
    owner = np.repeat(quiet, [ends[i].size for i in quiet])
    value = np.concatenate([series[i][ends[i]] for i in quiet] or [np.arange(0.0)])
    baseline, noise = tests.baseline[rows], tests.noise[rows]
    change = value - baseline
    row = np.where(change >= 0, 0, 1)  # the direction of the change decides
    raw = tests.score[row, rows]
    level = np.where(raw < 0.0, 0.0, raw)  # max(raw, 0.0), NaN and -0.0 alike
    worse = np.array([0 if better == "lower" else 1 for better in betters])[owner]
    score = np.where(row == worse, level, -level)
    started = np.zeros(rows.size, dtype=int)
    at = np.concatenate([ends[i] for i in quiet] or [np.arange(0)])
    back = params.memory + params.span  # the values `_onset` looks at, when there are as many
    whole = (at + 1 >= back) & (back >= 2)
    full = np.nonzero((level > 0) & whole)[0]
    if full.size:
        recent = np.stack([series[owner[k]][at[k] + 1 - back:at[k] + 1] for k in full])
        started[full] = _onsets(recent, row[full], baseline[full], noise[full], params)
    for k in np.nonzero((level > 0) & ~whole)[0]:
        started[k] = _onset(series[owner[k]][:at[k] + 1], int(row[k]), float(baseline[k]),
                            float(noise[k]), params)
    judged: dict[int, list[Excursion]] = {i: [] for i in quiet}
    for i, b, n, c, s, st in zip(owner.tolist(), baseline.tolist(), noise.tolist(),
                                 change.tolist(), score.tolist(), started.tolist(), strict=True):
        judged[i].append(Excursion(
            baseline=b, noise=n, change=c, relative_change=c / abs(b) if b else None, score=s,
            decision="ok", started=st, threshold=params.threshold))
    return [judged[i] for i in quiet]


def compare_to_base(
    history: Values, value: float, better: Better, params: DetectionParams = DEFAULT_PARAMS,
    *, count: int = 1, spread: float = 0.0, base_count: int = 1, base_spread: float = 0.0,
) -> Excursion:
    """A pull request's value (the mean of `count` samples with standard deviation `spread`)
    against its base branch's history (oldest first): one calibrated test of one build.

    The base's noise σ is that of its builds' values; when those are means of
    `base_count` samples with spread `base_spread`, a PR value of another sample count has
    the variance σ² + s²(1/count − 1/base_count) (σ² holds s²/base_count of sampling noise)."""
    if not math.isfinite(value):
        raise ValueError(f"value must be finite, not {value!r}")
    recent = np.asarray(history[-params.reach:], dtype=float)
    recent = recent[np.isfinite(recent)]
    if recent.size < params.min_history:
        return replace(_insufficient(recent, float(value), params), test="base",
                       threshold=params.pr_threshold)
    base = recent[None, -params.window:]
    middle = nan_median(base)
    noise = np.maximum(row_noise(recent[None, -params.noise_window:]),
                       np.maximum(params.noise_floor * np.abs(middle), TINY))
    kept, counts, middle = current_level(base, np.array([base.shape[1]]), middle, noise, params)
    baseline = float(robust_centre(kept, counts, middle, noise, params.clip)[0])
    sigma = float(noise[0])
    if base_count > 1 and base_spread > 0:  # the samples tell the within-build noise
        within = base_spread * base_spread * (1.0 / max(count, 1) - 1.0 / base_count)
        sigma = math.sqrt(max(sigma * sigma + within, (sigma * sigma) / 4))
    freedom = DOF_PER_DIFFERENCE * (min(recent.size, params.noise_window) - 1)
    widen = 1.0 + (params.pr_threshold**2 + 1.0) / (4.0 * freedom)
    spread_of_difference = sigma * math.sqrt(1.0 + CENTRE_VARIANCE / float(counts[0])) * widen
    change = float(value) - baseline
    worse = change if better == "lower" else -change  # > 0: towards a regression
    score = worse / spread_of_difference
    effect = float(minimum_effect(np.array([baseline]), np.array([sigma]), params)[0])
    decision: Decision = "ok"
    if abs(score) >= params.pr_threshold and abs(change) >= effect:
        decision = "regression" if score > 0 else "improvement"
    return Excursion(
        baseline=baseline, noise=sigma, change=change,
        relative_change=change / abs(baseline) if baseline else None, score=score,
        decision=decision, started=0, threshold=params.pr_threshold, test="base",
    )


def _excursion(series: np.ndarray, ends: np.ndarray, tests: EndTests, column: int,
               better: Better, params: DetectionParams) -> Excursion:
    """The judgement at one end of evaluated tests; score, onset and decision all describe
    the one direction that decides (the fired one, else the direction of the change)."""
    worse = 0 if better == "lower" else 1  # row 0 of the tests looks upwards, row 1 downwards
    fired = [_fires(tests, row, column) and not _continues(series, ends, tests, column, row,
                                                           params)
             for row in (0, 1)]
    value = float(series[ends[column]])
    scores = tests.score[:, column]
    baseline = float(tests.baseline[column])
    change = value - baseline
    decision: Decision = "ok"
    if fired[worse] and (not fired[1 - worse] or scores[worse] >= scores[1 - worse]):
        decision, row = "regression", worse
    elif fired[1 - worse]:
        decision, row = "improvement", 1 - worse
    else:
        row = 0 if change >= 0 else 1
    level = float(scores[row]) if decision != "ok" else max(float(scores[row]), 0.0)
    score = level if row == worse else -level
    started = (_onset(series[:int(ends[column]) + 1], row, baseline, float(tests.noise[column]),
                      params) if level > 0 else 0)
    return Excursion(
        baseline=baseline, noise=float(tests.noise[column]), change=change,
        relative_change=change / abs(baseline) if baseline else None, score=score,
        decision=decision, started=started, threshold=params.threshold,
    )


def _fires(tests: EndTests, row: int, column: int) -> bool:
    """Whether the test holds at an end and held at no earlier end of its most telling
    window (those ends are evaluated too: see judge_series)."""
    holds = tests.holds[row]
    earliest = max(0, column - int(tests.size[row, column]) + 1)
    return bool(holds[column] and not holds[earliest:column].any())


def _continues(series: np.ndarray, ends: np.ndarray, tests: EndTests, column: int, row: int,
               params: DetectionParams) -> bool:
    """Whether an excursion firing at this end continues one the series is still moving
    with, so that it was alerted already: the test held the same way within `memory`
    builds, this excursion had begun by then and is no new step on top of it, or the
    series has been on a steady ramp that way both now and `memory` builds ago (a drift
    whose test pauses longer). Ends not evaluated yet (before the block; in `judge_point`,
    all but the last 21) are evaluated here: rarely, only when a test fires."""
    end = int(ends[column])
    first = max(params.min_history, end - params.memory)
    last = end - int(tests.size[row, column])  # later ends are `_fires`' own
    if last < first:
        return False
    known = int(ends[0])
    picked = np.arange(max(first, known), last + 1) - known
    holds, baselines = tests.holds[row, picked], tests.baseline[picked]
    if first < known:
        earlier = evaluate_many([series], [np.arange(first, min(known, last + 1))], params)
        holds = np.concatenate([earlier.holds[row], holds])
        baselines = np.concatenate([earlier.baseline, baselines])
    noise = float(tests.noise[column])
    held = np.nonzero(holds)[0]
    if held.size:
        last_held = first + int(held[-1])
        # against the baseline alone: the two-segment split dates a drift's onset mid-ramp,
        # later than the end that held, and the drift would alert again (decision 94)
        began = end - _onset(series[:end + 1], row, float(baselines[held[-1]]), noise, params,
                             split=False)
        if began <= last_held and not _stepped(series, row, end, int(tests.size[row, column]),
                                               float(tests.baseline[column]), noise, params):
            return True
    if first != end - params.memory:
        return False
    return all(_ramps(series[:stop], row, noise, params) for stop in (end + 1, first + 1))


def _stepped(series: np.ndarray, row: int, end: int, size: int, baseline: float, noise: float,
             params: DetectionParams) -> bool:
    """Whether the window firing at end (size values) is a new step from a level the series
    had settled at: the median of the `max(scan)` values just before it sits at the
    baseline (within two standard errors) and the window's median stands far beyond it the
    firing way (z ≥ twice the threshold: the firing window is the extreme one, and a
    drift's pause can look settled). Medians, not clipped means: a step may be any size."""
    window = max(params.scan)
    sign = 1.0 if row == 0 else -1.0
    level = [sign * (float(np.median(series[max(0, stop + 1 - width):stop + 1])) - baseline)
             / noise for stop, width in ((end, size), (end - size, window))]
    settled = level[1] < 2.0 * _MEDIAN_SPREAD / math.sqrt(window)
    return settled and (level[0] - level[1] >= 2 * params.threshold * _MEDIAN_SPREAD
                        * math.sqrt(1 / size + 1 / window))


ONSET_CLIP = 1.5  # × the shift's size in σ: where values are clipped when dating an onset


def _onset(values: np.ndarray, row: int, baseline: float, noise: float,
           params: DetectionParams, split: bool = True) -> int:
    """Builds back where an excursion from baseline began, looking back up to `memory` +
    `span` values (a drift began before the recent span): the start of the most telling
    suffix, short of all of them."""
    recent = values[-(params.memory + params.span):]
    pushed = (1.0 if row == 0 else -1.0) * (recent - baseline) / noise
    # Values are clipped (an outlier must not drag the onset to itself), but not below the
    # size of the shift: clipped at 3σ, a step of 14σ would look no taller than the noise
    # of the build before it, and the onset would often come one build early.
    shift = float(np.median(pushed[-params.persistence:]))
    pushed = clipped(pushed, max(params.clip, ONSET_CLIP * shift))
    suffix = np.cumsum(pushed[::-1])
    if suffix.size < 2:
        return 0
    # A suffix must stand beyond the baseline and beyond the values before it (a two-segment
    # split): the baseline alone would date a shift back to the start of the history when
    # it sits a little off the series' level (each suffix's excess over it grows with its
    # length); the split alone, to an older step the baseline has already absorbed.
    size, total = suffix.size, suffix[-1]
    ahead = np.arange(1, size)
    beyond = suffix[:-1] / np.sqrt(ahead)
    if not split:
        return int(np.argmax(beyond))
    two = (suffix[:-1] / ahead - (total - suffix[:-1]) / (size - ahead)) \
        * np.sqrt(ahead * (size - ahead) / size)
    return int(np.argmax(np.minimum(beyond, two)))


def _onsets(recent: np.ndarray, rows: np.ndarray, baseline: np.ndarray, noise: np.ndarray,
            params: DetectionParams) -> np.ndarray:
    """`_onset` of each row of recent values (`memory` + `span` of them, the same for all)."""
    sign = np.where(rows == 0, 1.0, -1.0)[:, None]
    pushed = sign * (recent - baseline[:, None]) / noise[:, None]
    shift = ONSET_CLIP * np.median(pushed[:, -params.persistence:], axis=1)
    pushed = clipped(pushed, np.where(shift > params.clip, shift, params.clip)[:, None])
    suffix = np.cumsum(pushed[:, ::-1], axis=1)
    size, total, head = suffix.shape[1], suffix[:, -1:], suffix[:, :-1]
    ahead = np.arange(1, size)
    beyond = head / np.sqrt(ahead)
    split = (head / ahead - (total - head) / (size - ahead)) \
        * np.sqrt(ahead * (size - ahead) / size)
    return np.argmax(np.minimum(beyond, split), axis=1)


def _ramps(values: np.ndarray, row: int, noise: float, params: DetectionParams) -> bool:
    """Whether the last `window` values move steadily one way (row 0 up, 1 down): a slope of
    z ≥ 3, and beyond that line no shift between two levels (z < 2.5; a staircase of
    steps is not a ramp)."""
    if values.size < params.window:
        return False
    recent = values[-params.window:]
    pushed = (1.0 if row == 0 else -1.0) * clipped((recent - np.median(recent)) / noise,
                                                    params.clip)
    size = pushed.size
    time = np.arange(size) - (size - 1) / 2
    slope = float(time @ pushed) / float(time @ time)
    if slope * math.sqrt(float(time @ time)) < TREND_Z:
        return False
    rest = pushed - pushed.mean() - slope * time
    sums = np.cumsum(rest)[:-1]  # a step after k values explains sums² n / (k (n − k))
    before = np.arange(1, size)
    return float(np.max(sums * sums * size / (before * (size - before)))) < _RAMP_SHIFT_Z**2


def _insufficient(recent: np.ndarray, value: float, params: DetectionParams) -> Excursion:
    """An excursion without a decision: too little history to judge."""
    baseline = float(np.median(recent)) if recent.size else value
    noise = max(robust_noise(recent), params.noise_floor * abs(baseline), TINY)
    change = value - baseline
    return Excursion(
        baseline=baseline, noise=noise, change=change,
        relative_change=change / abs(baseline) if baseline else None, score=0.0,
        decision="insufficient", started=0, threshold=params.threshold,
        needed=params.min_history - recent.size,
    )

"""Detection benchmark: labelled synthetic series through the production rule (`judge_series`:
an alert is a build judged a regression or improvement) beside a reference that knows the
true mean and σ (a clipped two-sided CUSUM tuned to our false-alert rate), pull requests
through `compare_to_base`, and the targets of the issue on trustworthy verdicts.
`python -m bench.detection [--quick]` prints the tables and writes them into the
"Detection" section of docs/performance.md."""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from bench.report import write_section
from harness.detection.changepoints import change_points
from harness.detection.excursions import compare_to_base, judge_point, judge_series
from harness.detection.params import DEFAULT_PARAMS, DetectionParams

LEVEL, SIGMA = 100.0, 2.0  # σ = 2 % of the level: a 1σ step is twice the 1 % minimum effect
FIRST_STEP, STEP_EVERY = 120, 200  # steps at 120, 320, 520, …
DRIFT_START, DRIFT_LENGTH = 150, 600
STEP_SIZES, DRIFT_SLOPES = (1.0, 2.0, 4.0), (0.005, 0.01, 0.02, 0.05)
GAUSSIAN, OUTLIERS = "gaussian", "outliers 1 %"
STEP_NOISES = (GAUSSIAN, OUTLIERS)
QUIET = (GAUSSIAN, OUTLIERS, "student t, 3 dof", "bimodal 70/30, Δ 3–6σ",
         "weekly rhythm, +2σ 2 days in 7", "count 1203, ±1 once in ~50")
COUNT = QUIET[-1]
OURS, REFERENCE = "harness", "CUSUM"
CUSUM_K, CUSUM_CLIP = 0.5, 3.0  # reference value and clipping of the reference, in σ
PR_SHIFT, PR_THRESHOLDS = 4.0, (2.4, 2.45, 2.5, 2.6, 2.75)
SAMPLES, SAMPLE_SPREAD, MEANS_SPREAD, SAMPLES_SHIFT = 10, 0.014, 0.003, 0.02


@dataclass(frozen=True)
class Plan:
    """How much of each family a run generates."""

    steps: dict[int, int]  # series length: how many series, per noise and step size
    noise: dict[int, int]  # the same, per quiet kind
    drift: int  # series per slope
    prs: int  # pull requests of each kind
    samples: int  # bases of the samples case


PLANS = {
    "full": Plan(steps={1000: 40, 5000: 8}, noise={1000: 30, 5000: 8}, drift=40, prs=20_000,
                 samples=2_000),
    "quick": Plan(steps={1000: 8, 5000: 1}, noise={1000: 6, 5000: 1}, drift=6, prs=2_000,
                  samples=300),
}
Spec = tuple[str, str, float, int, int]  # family, noise, size, length, seed
Alert = tuple[int, str, int]  # index of the alerting build, kind, index where it started


@dataclass(frozen=True)
class Case:
    """A generated series, what is in it, and the true level and σ behind each value."""

    family: str  # "step", "noise" or "drift"
    noise: str
    size: float  # step size in σ, or drift slope in σ per build
    values: np.ndarray
    expected: np.ndarray  # the true mean of each value without the events (a rhythm, say)
    shift: np.ndarray  # what the events (steps, a drift) add to it
    sigma: float  # the true standard deviation around it (0: none, the reference abstains)
    steps: tuple[tuple[int, bool], ...] = ()  # (index, worse?)


@dataclass(frozen=True)
class Score:
    """One detector on one case: (delay, placement error) per event, other alerts."""

    events: tuple[tuple[int, int] | None, ...]
    false: int  # alerts before the first event (all alerts, on noise)
    extra: int  # alerts after an event that are not its first detection


@dataclass
class Tally:
    """Counts for one row of a table."""

    builds: int = 0
    scores: dict[str, list[Score]] = field(default_factory=lambda: {OURS: [], REFERENCE: []})

    def delays(self, name: str) -> list[int]:
        """Delays of the detected events."""
        return [e[0] for s in self.scores[name] for e in s.events if e is not None]

    def events(self) -> int:
        """How many events the cases held."""
        return sum(len(s.events) for s in self.scores[OURS])

    def rate(self, name: str, test: Callable[[tuple[int, int]], bool]) -> float:
        """Percentage of all events detected and passing test."""
        hits = sum(1 for s in self.scores[name] for e in s.events if e is not None and test(e))
        return 100 * hits / self.events() if self.events() else float("nan")

    def per_thousand(self, name: str, what: str) -> float:
        """False (or extra) alerts per 1,000 builds."""
        return 1000 * sum(getattr(s, what) for s in self.scores[name]) / self.builds

    def alerts_per_series(self, name: str) -> list[int]:
        """Alerts of each drift series from the drift on (its detection and any other)."""
        return [(1 if s.events[0] is not None else 0) + s.extra for s in self.scores[name]]


def make_noise(kind: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                     float]:
    """Quiet values of one kind around LEVEL, with their true means and σ (for the
    reference): σ = SIGMA for Gaussian noise and noise with 1 % outliers of 5–15σ; Student t
    (3 dof) of scale SIGMA; two runners (70/30) at LEVEL and LEVEL + Δ, Δ of 3–6σ; a weekly
    rhythm 2σ higher on 2 days of 7; a count that moves by ±1 once in ~50 builds."""
    flat = np.full(n, LEVEL)
    if kind == COUNT:
        count = 1203.0 + np.cumsum((rng.random(n) < 1 / 50) * rng.choice([-1.0, 1.0], n))
        return count, count, 0.0
    if kind == "student t, 3 dof":
        return LEVEL + SIGMA * rng.standard_t(3, n), flat, SIGMA * np.sqrt(3.0)
    noise = SIGMA * rng.standard_normal(n)
    if kind.startswith("bimodal"):
        delta, share = SIGMA * rng.uniform(3, 6), 0.3
        mean = LEVEL + share * delta
        return (LEVEL + noise + delta * (rng.random(n) < share), np.full(n, mean),
                float(np.sqrt(SIGMA**2 + share * (1 - share) * delta**2)))
    if kind.startswith("weekly"):
        rhythm = 2 * SIGMA * (np.arange(n) % 7 >= 5)
        return LEVEL + noise + rhythm, LEVEL + rhythm, SIGMA
    if kind == OUTLIERS:
        hit = rng.random(n) < 0.01
        noise[hit] += SIGMA * rng.uniform(5, 15, hit.sum()) * rng.choice([-1, 1], hit.sum())
    return LEVEL + noise, flat, SIGMA


def make_case(family: str, noise: str, size: float, length: int, seed: int) -> Case:
    """One labelled series; lower is better, so a worse step goes up."""
    rng = np.random.default_rng(seed)
    values, expected, sigma = make_noise(noise, length, rng)
    shift: np.ndarray = np.zeros(length)
    if family == "noise":
        return Case(family, noise, size, values, expected, shift, sigma)
    if family == "drift":
        shift = np.clip(np.arange(length) - DRIFT_START + 1, 0, None) * size * SIGMA
        return Case(family, noise, size, values + shift, expected, shift, sigma,
                    ((DRIFT_START, True),))
    steps = []
    for index in range(FIRST_STEP, length - 30, STEP_EVERY):
        worse = bool(rng.random() < 0.5) if abs(shift[-1]) < 10 * SIGMA else shift[-1] < 0
        shift[index:] += (1 if worse else -1) * size * SIGMA
        steps.append((index, worse))
    return Case(family, noise, size, values + shift, expected, shift, sigma, tuple(steps))


def harness_alerts(values: np.ndarray, params: DetectionParams = DEFAULT_PARAMS) -> list[Alert]:
    """Alerts of the production rule: builds `judge_series` judges a regression or an
    improvement, with the build where the excursion started."""
    return [(index, e.decision, index - e.started)
            for index, e in enumerate(judge_series(values, "lower", params))
            if e.decision in ("regression", "improvement")]


def cusum_alerts(case: Case, h: float | np.ndarray) -> list[list[Alert]]:
    """The reference, for each decision interval h: two one-sided CUSUMs (k = 0.5σ) of the
    values standardized by the true mean and σ and clipped at ±3σ (outliers would otherwise
    alarm at once), restarting after each alarm; it knows the mean without the events (a
    rhythm too), and what an event added once it has alarmed on it."""
    intervals = np.atleast_1d(np.asarray(h, dtype=float))
    found: list[list[Alert]] = [[] for _ in intervals]
    if case.sigma <= 0:
        return found
    up, down = np.zeros(intervals.size), np.zeros(intervals.size)
    known = np.zeros(intervals.size)  # the part of the events it has seen
    for index, value in enumerate(case.values):
        z = np.clip((value - case.expected[index] - known) / case.sigma, -CUSUM_CLIP,
                    CUSUM_CLIP)
        up, down = np.maximum(0.0, up + z - CUSUM_K), np.maximum(0.0, down - z - CUSUM_K)
        for which in np.nonzero((up > intervals) | (down > intervals))[0]:
            kind = "regression" if up[which] > intervals[which] else "improvement"
            found[which].append((index, kind, index))
            up[which] = down[which] = 0.0
            known[which] = case.shift[index]
    return found


def score_case(case: Case, alerts: list[Alert]) -> Score:
    """Detections (delay, placement error), false and other alerts of one detector."""
    if not case.steps:
        return Score((), len(alerts), 0)
    starts = [index for index, _ in case.steps]
    events, extra = [], 0
    for (start, worse), end in zip(case.steps, [*starts[1:], len(case.values)], strict=True):
        kind = "regression" if worse else "improvement"
        inside = [(i, k, s) for i, k, s in alerts if start <= i < end]
        hits = [(i - start, s - start) for i, k, s in inside if k == kind]
        events.append(hits[0] if hits else None)
        extra += len(inside) - (1 if hits else 0)
    return Score(tuple(events), sum(1 for i, _, _ in alerts if i < starts[0]), extra)


def run_case(spec: Spec, h: float) -> tuple[tuple[str, str, float], Score, Score, int]:
    """Generate and score one case with both detectors (a process-pool task)."""
    case = make_case(*spec)
    ours = score_case(case, harness_alerts(case.values))
    reference = score_case(case, cusum_alerts(case, h)[0])
    return spec[:3], ours, reference, len(case.values)


def case_specs(plan: Plan) -> list[Spec]:
    """Every case of a plan, each with its own seed."""
    specs: list[Spec] = []
    for noise in STEP_NOISES:
        for size in STEP_SIZES:
            specs += [("step", noise, size, length, 0) for length, count in
                      plan.steps.items() for _ in range(count)]
    for noise in QUIET:
        specs += [("noise", noise, 0.0, length, 0) for length, count in
                  plan.noise.items() for _ in range(count)]
    for slope in DRIFT_SLOPES:
        specs += [("drift", GAUSSIAN, slope, DRIFT_LENGTH, 0) for _ in range(plan.drift)]
    return [(*spec[:4], 1000 + seed) for seed, spec in enumerate(specs)]


def false_alerts(spec: Spec, intervals: np.ndarray) -> tuple[int, list[int], int]:
    """Our alerts and the reference's, for each interval, on one quiet series."""
    case = make_case(*spec)
    reference = cusum_alerts(case, intervals)
    return len(harness_alerts(case.values)), [len(a) for a in reference], len(case.values)


def tune_reference(specs: Sequence[Spec], executor: ProcessPoolExecutor) -> tuple[float, float,
                                                                                  float]:
    """The reference's decision interval: the smallest (step 0.05) whose false-alert rate on
    the 1 %-outlier quiet series is at most ours there. Returns h and both rates."""
    quiet = [spec for spec in specs if spec[0] == "noise" and spec[1] == OUTLIERS]
    intervals = np.round(np.arange(4.0, 9.01, 0.05), 2)
    counted = list(executor.map(partial(false_alerts, intervals=intervals), quiet))
    builds = sum(n for _, _, n in counted)
    ours = 1000 * sum(c for c, _, _ in counted) / builds
    theirs = 1000 * np.sum([r for _, r, _ in counted], axis=0) / builds
    pick = int(np.argmax(theirs <= max(ours, 1000 / builds)))
    return float(intervals[pick]), ours, float(theirs[pick])


def tally(results: Iterable[tuple[tuple[str, str, float], Score, Score, int]]
          ) -> dict[tuple[str, str, float], Tally]:
    """Aggregate per (family, noise, size)."""
    rows: dict[tuple[str, str, float], Tally] = {}
    for key, ours, ref, length in results:
        row = rows.setdefault(key, Tally())
        row.builds += length
        row.scores[OURS].append(ours)
        row.scores[REFERENCE].append(ref)
    return rows


@dataclass(frozen=True)
class GateRates:
    """Pull-request gate outcomes: share of PRs judged a regression."""

    unshifted: dict[float, float]  # pr_threshold → % of PRs from the base's distribution
    shifted: dict[float, float]  # pr_threshold → % of PRs moved PR_SHIFT σ worse
    reference: tuple[float, float]  # the same two with μ and σ known, at our false-fail rate


def pr_trials(seed: int, count: int) -> list[tuple[float, float, list[tuple[bool, bool]]]]:
    """count PRs against bases of 60–300 builds (1 %-outlier noise), each value drawn from
    the base's own distribution, and the same draw moved PR_SHIFT σ worse; per PR: the
    standardized values (for the reference) and, per pr_threshold, (unshifted fails,
    shifted fails)."""
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(count):
        base, _, _ = make_noise(OUTLIERS, int(rng.integers(60, 301)), rng)
        value = float(make_noise(OUTLIERS, 1, rng)[0][0])
        moved = value + PR_SHIFT * SIGMA
        outcomes = []
        for threshold in PR_THRESHOLDS:
            params = DEFAULT_PARAMS.with_overrides({"pr_threshold": threshold})
            outcomes.append((compare_to_base(base, value, "lower", params).decision
                             == "regression",
                             compare_to_base(base, moved, "lower", params).decision
                             == "regression"))
        trials.append(((value - LEVEL) / SIGMA, (moved - LEVEL) / SIGMA, outcomes))
    return trials


def gate_rates(count: int, executor: ProcessPoolExecutor) -> GateRates:
    """The PR gate over count PRs of each kind, in a few process-pool tasks."""
    chunks = [(seed, count // 8) for seed in range(8)]
    trials = [t for part in executor.map(pr_trials, *zip(*chunks, strict=True)) for t in part]
    fails = np.array([outcomes for _, _, outcomes in trials], dtype=float)  # [pr, thr, kind]
    unshifted, shifted = (100 * fails[:, :, 0].mean(axis=0), 100 * fails[:, :, 1].mean(axis=0))
    ours = float(unshifted[PR_THRESHOLDS.index(DEFAULT_PARAMS.pr_threshold)])
    nulls = np.array([z for z, _, _ in trials])
    bar = float(np.quantile(nulls, 1 - max(ours, 0.01) / 100))  # same false-fail rate
    reference = (100 * float(np.mean(nulls >= bar)),
                 100 * float(np.mean(np.array([z for _, z, _ in trials]) >= bar)))
    return GateRates(dict(zip(PR_THRESHOLDS, unshifted, strict=True)),
                     dict(zip(PR_THRESHOLDS, shifted, strict=True)), reference)


def sample_trials(seed: int, count: int) -> list[tuple[bool, bool, bool]]:
    """count bases of 60 builds whose values are means of 10 samples (sample spread 1.4 % of
    the level, means varying 0.3 % from build to build); per base: does a PR of 10 samples
    moved +2 %, the same PR unshifted, and a single value at +2 % judge a regression?"""
    rng = np.random.default_rng(seed)
    spread = SAMPLE_SPREAD * LEVEL
    found = []
    for _ in range(count):
        base = LEVEL * (1 + MEANS_SPREAD * rng.standard_normal(60))
        own = LEVEL * (1 + MEANS_SPREAD * rng.standard_normal())
        sampled = partial(compare_to_base, base, better="lower", count=SAMPLES, spread=spread,
                          base_count=SAMPLES, base_spread=spread)
        found.append((
            sampled(own + SAMPLES_SHIFT * LEVEL).decision == "regression",
            sampled(own).decision == "regression",
            compare_to_base(base, LEVEL * (1 + SAMPLES_SHIFT), "lower", count=1,
                            base_count=SAMPLES, base_spread=spread).decision == "regression"))
    return found


def sample_rates(count: int, executor: ProcessPoolExecutor) -> tuple[list[float], list[float]]:
    """Regression rates of the samples case (ours) and of a z test knowing the build-to-build
    σ and the sample spread (reference), each in the order of sample_trials."""
    chunks = [(100 + seed, count // 4) for seed in range(4)]
    found = np.array([t for part in executor.map(sample_trials, *zip(*chunks, strict=True))
                      for t in part], dtype=float)
    ours = list(100 * found.mean(axis=0))
    sigma = MEANS_SPREAD * LEVEL
    single = np.sqrt(sigma**2 + (SAMPLE_SPREAD * LEVEL) ** 2 * (1 - 1 / SAMPLES))
    bar = 2.576  # a one-sided 0.5 % test
    normal = np.random.default_rng(9).standard_normal(100_000)
    reference = [100 * float(np.mean(SAMPLES_SHIFT * LEVEL / sigma + normal >= bar)),
                 100 * float(np.mean(normal >= bar)),
                 100 * float(np.mean(SAMPLES_SHIFT * LEVEL / single + normal >= bar))]
    return ours, reference


def _cpu_time(work: Callable[[], object], repeat: int) -> float:
    """CPU seconds per call of work."""
    start = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - start) / repeat


def cost_rows(quick: bool) -> list[list[str]]:
    """CPU time of judge_point as history grows (and on a build that alerts, when it also
    judges the ends before its window), and of change_points on 10,000 points."""
    rng = np.random.default_rng(7)
    rows = []
    repeat, rounds = (100, 3) if quick else (300, 5)
    for size in (100, 1_000, 10_000, 100_000):
        history = list(make_noise(GAUSSIAN, size, rng)[0])
        per_point = min(_cpu_time(partial(judge_point, history, LEVEL, "lower"), repeat)
                        for _ in range(rounds))  # the least disturbed of a few rounds
        rows.append([f"judge_point, history of {size:,}", f"{per_point * 1e6:.0f} µs", ""])
    alerting = [*history[:-2], LEVEL + 8 * SIGMA, LEVEL + 8 * SIGMA]
    decision = judge_point(alerting, LEVEL + 8 * SIGMA, "lower").decision
    per_point = min(_cpu_time(partial(judge_point, alerting, LEVEL + 8 * SIGMA, "lower"),
                              repeat // 3) for _ in range(rounds))
    rows.append(["judge_point, history of 100,000, a build that alerts",
                 f"{per_point * 1e6:.0f} µs", decision])
    change_points(make_noise(GAUSSIAN, 100, rng)[0], "lower")  # ruptures loads on first use
    for noise, steps in ((OUTLIERS, 0), (OUTLIERS, 10), ("student t, 3 dof", 0),
                         ("student t, 3 dof", 10)):
        values = make_noise(noise, 10_000, rng)[0]
        truth = list(range(900, 10_000, 900))[:steps]
        # the level alternates between LEVEL and LEVEL + 2σ at each true change point
        values += 2 * SIGMA * (np.searchsorted(truth, np.arange(10_000), side="right") % 2)
        spent = _cpu_time(partial(change_points, values, "lower"), 1)
        found = change_points(values, "lower")
        hits = sum(1 for c in found if any(abs(c.index - t) <= 5 for t in truth))
        rows.append([f"change_points, 10,000 points, {noise}, {steps} 2σ steps",
                     f"{spent:.2f} s", f"{hits}/{len(truth)} found (±5), "
                                       f"{len(found) - hits} false"])
    for name, values in (("a steady trend (0.02σ/build)",
                          LEVEL + SIGMA * (0.02 * np.arange(10_000)
                                           + rng.standard_normal(10_000))),
                         ("two levels alternating (A, B, A, B; 4σ apart)",
                          LEVEL + SIGMA * (4 * (np.arange(10_000) % 2)
                                           + rng.standard_normal(10_000))),
                         ("two runners at random (70/30)",
                          make_noise(QUIET[3], 10_000, rng)[0])):
        spent = _cpu_time(partial(change_points, values, "lower"), 1)
        rows.append([f"change_points, 10,000 points, {name}", f"{spent:.2f} s",
                     f"{len(change_points(values, 'lower'))} change points"])
    return rows


Block = tuple[str, list[str], list[list[str]]]


def _pct(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:.1f} %"


def _met(ok: bool) -> str:
    return "yes" if ok else "no"


def tables(rows: dict[tuple[str, str, float], Tally], gates: GateRates,
           samples: tuple[list[float], list[float]], costs: list[list[str]]) -> list[Block]:
    """The result tables: (title, header, body)."""
    def median(delays: Sequence[int]) -> str:
        return f"{np.median(delays):.0f}" if delays else "–"

    steps, noise, drift = [], [], []
    for (family, kind, size), row in sorted(rows.items()):
        if family == "step":
            steps.append([kind, f"{size:g}σ", str(row.events()),
                          _pct(row.rate(OURS, lambda e: e[0] <= 5)),
                          _pct(row.rate(OURS, lambda e: e[0] <= 20)), median(row.delays(OURS)),
                          _pct(row.rate(OURS, lambda e: e[0] <= 20 and abs(e[1]) <= 1)),
                          f"{row.per_thousand(OURS, 'extra'):.2f}",
                          _pct(row.rate(REFERENCE, lambda e: e[0] <= 5)),
                          _pct(row.rate(REFERENCE, lambda e: e[0] <= 20)),
                          f"{row.per_thousand(REFERENCE, 'extra'):.2f}"])
        elif family == "noise":
            reference = (f"{row.per_thousand(REFERENCE, 'false'):.2f}" if kind != COUNT
                         else "– (no noise)")
            noise.append([kind, f"{row.builds:,}", f"{row.per_thousand(OURS, 'false'):.2f}",
                          reference])
        else:
            counts = row.alerts_per_series(OURS)
            delays = row.delays(OURS)
            placed = [e[1] for s in row.scores[OURS] for e in s.events if e is not None]
            drift.append([f"{size:g}σ/build", str(row.events()),
                          _pct(100 * float(np.mean(np.array(counts) == 1))),
                          f"{np.mean(counts):.2f}", str(max(counts)), median(delays),
                          f"{size * (np.median(delays) + 1):.1f}σ" if delays else "–",
                          median(placed), f"{row.per_thousand(OURS, 'false'):.2f}",
                          f"{np.mean(row.alerts_per_series(REFERENCE)):.2f}"])
    prs = [[f"{threshold:g}" + (" (default)" if threshold == DEFAULT_PARAMS.pr_threshold
                                else ""),
            _pct(gates.unshifted[threshold]), _pct(gates.shifted[threshold])]
           for threshold in PR_THRESHOLDS]
    prs.append(["reference (μ, σ known, same false-fail rate)", _pct(gates.reference[0]),
                _pct(gates.reference[1])])
    sampled = [[what, _pct(a), _pct(b)] for what, a, b in zip(
        ("10 samples moved +2 %", "the same 10 samples unshifted", "one value at +2 %"),
        *samples, strict=True)]
    return [
        ("Targets", ["target", "harness", REFERENCE + " / reference", "met"],
         targets(rows, gates, samples)),
        ("Steps (share of steps alerted within 5 / 20 builds; delay 0 = the step's build)",
         ["noise", "step", "steps", "≤ 5", "≤ 20", "median delay", "≤ 20, placed ±1",
          "other alerts /1000", f"{REFERENCE} ≤ 5", f"{REFERENCE} ≤ 20",
          f"{REFERENCE} other /1000"], steps),
        ("False alerts on quiet series", ["noise", "builds", "alerts /1000",
                                          f"{REFERENCE} /1000"], noise),
        (f"Slow drifts (Gaussian noise, from build {DRIFT_START} of {DRIFT_LENGTH})",
         ["slope", "series", "exactly one alert", "alerts per series", "most in one series",
          "median delay", "drift at detection", "started, builds after the drift's start",
          "alerts before it /1000", f"{REFERENCE} alerts per series"], drift),
        ("Pull requests against bases of 60–300 builds (1 %-outlier noise): share judged a "
         "regression",
         ["pr_threshold", "false fails (value from the base's distribution)",
          f"fails when moved {PR_SHIFT:g}σ worse"], prs),
        ("Samples (bases of 60 builds, each the mean of 10 samples: sample spread 1.4 %, "
         "means varying 0.3 %)", ["pull request", "judged a regression",
                                  "reference (z test, σ known)"], sampled),
        ("Cost (CPU, one core)", ["what", "time", "result"], costs),
    ]


def targets(rows: dict[tuple[str, str, float], Tally], gates: GateRates,
            samples: tuple[list[float], list[float]]) -> list[list[str]]:
    """The issue's targets: ours, the reference's figure, met."""
    body = []
    for title, size, builds, goal in (("≥ 90 % of 2σ steps within 5 builds, outliers 1 %",
                                       2.0, 5, 90.0),
                                      ("≥ 85 % of 1σ steps within 20 builds, outliers 1 %",
                                       1.0, 20, 85.0)):
        row = rows[("step", OUTLIERS, size)]
        found = row.rate(OURS, within(builds))
        body.append([title, _pct(found), _pct(row.rate(REFERENCE, within(builds))),
                     _met(found >= goal)])
    for (family, kind, _), row in sorted(rows.items()):
        if family == "noise":
            rate = row.per_thousand(OURS, "false")
            body.append([f"≤ 1 false alert per 1,000 builds, {kind}", f"{rate:.2f}",
                         f"{row.per_thousand(REFERENCE, 'false'):.2f}" if kind != COUNT
                         else "–", _met(rate <= 1.0)])
    drifts = [row for (family, _, _), row in rows.items() if family == "drift"]
    ours_one = [n == 1 for row in drifts for n in row.alerts_per_series(OURS)]
    theirs_one = [n == 1 for row in drifts for n in row.alerts_per_series(REFERENCE)]
    body.append(["drift: one alert per drift series (share of series)",
                 _pct(100 * float(np.mean(ours_one))), _pct(100 * float(np.mean(theirs_one))),
                 _met(all(ours_one))])
    default = DEFAULT_PARAMS.pr_threshold
    body.append(["PR from the base's own distribution: ≤ 1 % fail",
                 _pct(gates.unshifted[default]), _pct(gates.reference[0]),
                 _met(gates.unshifted[default] <= 1.0)])
    body.append([f"PR moved {PR_SHIFT:g}σ worse: ≥ 90 % fail", _pct(gates.shifted[default]),
                 _pct(gates.reference[1]), _met(gates.shifted[default] >= 90.0)])
    ours, reference = samples
    body += [["samples: 10 samples moved +2 % is a regression, ≥ 90 %", _pct(ours[0]),
              _pct(reference[0]), _met(ours[0] >= 90.0)],
             ["samples: the same unshifted is not, ≤ 1 %", _pct(ours[1]), _pct(reference[1]),
              _met(ours[1] <= 1.0)],
             ["samples: one value at +2 % mostly not conclusive, < 50 %", _pct(ours[2]),
              _pct(reference[2]), _met(ours[2] < 50.0)]]
    return body


def within(builds: int) -> Callable[[tuple[int, int]], bool]:
    """Whether a detection (delay, placement) came within that many builds."""
    return lambda event: event[0] <= builds


def reading(target_rows: list[list[str]], rows: dict[tuple[str, str, float], Tally],
            gates: GateRates, h: float) -> str:
    """A short reading of the results: which targets are missed, by how much, and why."""
    missed = [f"{title}: {ours}, {_shortfall(title, ours)} (reference {theirs})"
              for title, ours, theirs, met in target_rows if met == "no"]
    text = [f"Reading the numbers: {len(target_rows) - len(missed)} of {len(target_rows)} "
            f"targets met" + (f"; missed: {'; '.join(missed)}." if missed else ".")]
    if any("steps" in item for item in missed):
        quiet = {kind: row.per_thousand(OURS, "false") for (family, kind, _), row in rows.items()
                 if family == "noise"}
        worst = max(quiet, key=lambda kind: quiet[kind])
        text.append(
            "The step targets are read on 1 %-outlier noise, where they are hardest; the "
            f"reference, which knows the true mean and σ, finds {target_rows[0][2]} and "
            f"{target_rows[1][2]} there at our false-alert rate (h = {h:.2f}). The test must "
            "estimate both from the series (σ from differences, inflated about 5 % by the "
            "outliers it caps; the level from the baseline window), and one false-alert "
            f"budget serves every quiet kind: the highest rate ({worst}, "
            f"{quiet[worst]:.2f} per 1,000 builds) sets the threshold. The longest window's "
            "lower bar (`long_relief`) buys 1σ recall with a little 2σ recall.")
    if any(item.startswith("drift") for item in missed):
        slow = rows.get(("drift", GAUSSIAN, DRIFT_SLOPES[0]))
        share = (100 * float(np.mean(np.array(slow.alerts_per_series(OURS)) == 1))
                 if slow else float("nan"))
        text.append(
            f"Drifts: the slowest ({DRIFT_SLOPES[0]:g}σ/build; {share:.0f} % of its series with "
            "exactly one alert) can alert again when its test pauses for longer than `memory` "
            "builds and the ramp rule will not bridge the pause: over a 232-build window a "
            "ramp that slow is hard to tell from a staircase of 1σ steps, and the staircase "
            "must keep one alert per step. A series that alerts before the drift starts "
            "(a false alert) can absorb the drift's alert.")
    default = DEFAULT_PARAMS.pr_threshold
    if any(item.startswith("PR") for item in missed):
        text.append(
            "Pull requests: no `pr_threshold` meets both gate targets with margin. Half the "
            "1 % of outlying PR values lie on the worse side, so 0.5 % of unshifted PRs fail "
            "any gate that catches 4σ shifts, and the rest of the 1 % budget leaves the bar "
            "near 2.6σ of the true σ; the estimated σ (inflated by the base's outliers) and "
            "centre of a 60–300-build base cost the remaining points. The PR table shows the "
            f"trade-off; the default {default:g} keeps false fails at or under 1 %.")
    return " ".join(text)


def _shortfall(title: str, achieved: str) -> str:
    """How far a figure misses its target, read from the target's title (`≥ 90 %`: short,
    `≤ 1`: over; no bound: all of the series)."""
    bound = re.search(r"([≥≤<]) ?([\d.,]+)", title)
    goal = float(bound.group(2).replace(",", "")) if bound else 100.0
    value = float(achieved.split()[0])
    unit = " points" if "%" in achieved else ""
    return f"{abs(goal - value):.1f}{unit} {'over' if bound and bound.group(1) != '≥' else 'short'}"


def markdown(blocks: list[Block], note: str) -> str:
    """The tables as the Markdown of the Detection section."""
    lines = ["## Detection", "", note, ""]
    for title, header, body in blocks:
        lines += [f"### {title}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the tables, write them into docs/performance.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.detection", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller run (< 1 min)")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    plan = PLANS["quick" if args.quick else "full"]
    specs = case_specs(plan)
    with ProcessPoolExecutor(os.cpu_count() or 1) as executor:
        h, ours_false, theirs_false = tune_reference(specs, executor)
        results = list(executor.map(partial(run_case, h=h), specs, chunksize=4))
        gates = gate_rates(plan.prs, executor)
        samples = sample_rates(plan.samples, executor)
    rows = tally(results)
    blocks = tables(rows, gates, samples, cost_rows(args.quick))
    p = DEFAULT_PARAMS
    note = (f"`python -m bench.detection{' --quick' if args.quick else ''}`: {len(specs)} "
            f"series, {sum(r[3] for r in results):,} builds, {plan.prs:,} pull requests "
            f"of each kind, {time.perf_counter() - started:.0f} s on {os.cpu_count()} CPU(s) "
            f"(load average {os.getloadavg()[0]:.1f} at the end: other work shares them, so "
            f"Cost times vary; measured side by side when this version was written, "
            f"`judge_point` took ~1.2× the time of the previous one, and ~3× a quiet build's "
            f"on a build that alerts). "
            f"Level {LEVEL:g}, noise σ {SIGMA:g}, lower is better; steps every {STEP_EVERY} "
            f"builds from build {FIRST_STEP}, each up or down at random; outliers are 5–15σ, "
            f"either sign. Ours: `judge_series` with `DEFAULT_PARAMS`, an alert being a build "
            f"judged a regression or an improvement (baseline of {p.window} builds before the "
            f"last {p.span}, recent windows {p.scan}, z ≥ {p.threshold} ({p.long_relief} × "
            f"that for the longest), clip {p.clip}σ, minimum effect max({p.min_relative:.0%}, "
            f"{p.min_sigmas}σ), σ from {p.noise_window} builds, an excursion that holds "
            f"again within {p.memory} builds or on a steady ramp is the same one). "
            f"Reference ({REFERENCE}): knows the true mean and σ of every value; two "
            f"one-sided CUSUMs with k = {CUSUM_K}σ on values clipped at ±{CUSUM_CLIP:g}σ, "
            f"restarting after each alarm from the true mean; its decision interval h = "
            f"{h:.2f} is the smallest whose false-alert rate on the 1 %-outlier quiet series "
            f"is at most ours there ({theirs_false:.2f} vs {ours_false:.2f} per 1,000 "
            f"builds). \"Placed ±1\": the alert's started build is within one build of the "
            f"step. \"Other alerts\": alerts in step series that are not the first detection "
            f"of a step (false or repeated).")
    text = markdown(blocks, note + "\n\n" + reading(blocks[0][2], rows, gates, h))
    print(text)
    if not args.no_write:
        write_section("Detection", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

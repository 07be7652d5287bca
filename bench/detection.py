"""Detection benchmark: labelled synthetic series through `replay_series` (what `harness
replay` runs), with a plain z > 5 lookback as reference. `python -m bench.detection [--quick]`
prints the tables and writes them into the "Detection" section of docs/performance.md."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from bench.report import write_section
from harness.regress import DEFAULT_PARAMS, DetectionParams, change_points, judge_point
from harness.replay import SeriesPoint, replay_series

LEVEL, SIGMA = 100.0, 2.0  # σ = 2 % of the level: a 1σ step is twice the 1 % minimum effect
FIRST_STEP, STEP_EVERY = 120, 200  # steps at 120, 320, 520, …
DRIFT_START, DRIFT_LENGTH = 150, 600
STEP_SIZES, DRIFT_SLOPES = (1.0, 2.0, 4.0), (0.005, 0.01, 0.02, 0.05)
NOISES = ("gaussian", "outliers 1 %", "student t, 3 dof")
OURS, REFERENCE = "harness", "z > 5 lookback"
# (series length: how many series) per family; --quick runs the small plan
PLANS = {
    "full": {"steps": {200: 30, 1000: 10, 5000: 3}, "noise": {200: 40, 1000: 15, 5000: 6},
             "drift": 30},
    "quick": {"steps": {200: 6, 1000: 2}, "noise": {200: 10, 1000: 3, 5000: 1}, "drift": 5},
}
LIMITS = (
    "Reading the numbers: the pooled targets hide the hard case, 2σ steps with 1 % outliers "
    "(about 87 % within 5 builds; 95 % on Gaussian noise) and 1σ steps with outliers (about "
    "78 % within 20 builds; 86 % on Gaussian noise). At ≤ 1 false alert per 1,000 builds "
    "that is near what any test can do: a simulation with σ known exactly and the mean of "
    "a 6-build window against a 128-build baseline finds 93–95 % of 2σ steps by their 6th "
    "build on Gaussian noise. A 5–15σ outlier among the builds after a step (6 % of steps "
    "for 6 builds) is clipped to 3σ but still pulls the window's mean back, so those steps "
    "are found a few builds later; within 20 builds all 2σ steps are, but for the odd one "
    "merged into a false alert just before it. Lowering the "
    "threshold from 3.3 to 3.25 adds about 15 % more false alerts for half a point of 2σ "
    "recall. Where a small step began is estimated less well (\"placed ±1\": ~40 % for "
    "1σ, ~80 % for 2σ, 95 % for 4σ).")
Spec = tuple[str, str, float, int, int]  # family, noise, size, length, seed
Alert = tuple[int, str, int]  # index of the alerting build, kind, index where it started


@dataclass(frozen=True)
class Case:
    """A generated series and what is in it."""

    family: str  # "step", "noise" or "drift"
    noise: str
    size: float  # step size in σ, or drift slope in σ per build
    values: np.ndarray
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

    def share(self, name: str, test: Callable[[tuple[int, int]], bool]) -> str:
        """Percentage of all events detected and passing test."""
        hits = sum(1 for s in self.scores[name] for e in s.events if e is not None and test(e))
        return f"{100 * hits / self.events():.0f} %" if self.events() else "–"

    def per_thousand(self, name: str, what: str) -> str:
        """False (or extra) alerts per 1,000 builds."""
        return f"{1000 * sum(getattr(s, what) for s in self.scores[name]) / self.builds:.2f}"


def make_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise of σ = SIGMA: Gaussian, Gaussian with 1 % outliers of 5–15σ, or Student t(3)."""
    if kind == "student t, 3 dof":
        return SIGMA * rng.standard_t(3, n)
    noise = SIGMA * rng.standard_normal(n)
    if kind == "outliers 1 %":
        hit = rng.random(n) < 0.01
        noise[hit] += SIGMA * rng.uniform(5, 15, hit.sum()) * rng.choice([-1, 1], hit.sum())
    return noise


def make_case(family: str, noise: str, size: float, length: int, seed: int) -> Case:
    """One labelled series; lower is better, so a worse step goes up."""
    rng = np.random.default_rng(seed)
    values = LEVEL + make_noise(noise, length, rng)
    if family == "noise":
        return Case(family, noise, size, values)
    if family == "drift":
        ramp = np.clip(np.arange(length) - DRIFT_START + 1, 0, None) * size * SIGMA
        return Case(family, noise, size, values + ramp, ((DRIFT_START, True),))
    steps, level = [], 0.0
    for index in range(FIRST_STEP, length - 30, STEP_EVERY):
        worse = bool(rng.random() < 0.5) if abs(level) < 10 * SIGMA else level < 0
        level += (1 if worse else -1) * size * SIGMA
        values[index:] += (1 if worse else -1) * size * SIGMA
        steps.append((index, worse))
    return Case(family, noise, size, values, tuple(steps))


def harness_alerts(values: np.ndarray, params: DetectionParams = DEFAULT_PARAMS) -> list[Alert]:
    """Alerts of the production detection, through replay_series."""
    points = [SeriesPoint(str(i), float(v)) for i, v in enumerate(values)]
    return [(int(a["build_id"]), a["kind"], int(a["started_build"]))
            for a in replay_series(points, params=params)]


def reference_alerts(values: np.ndarray, window: int = 64, threshold: float = 5.0
                     ) -> list[Alert]:
    """Conbench-style: |value − mean| > 5 sd of the previous `window` values, every build."""
    past = np.lib.stride_tricks.sliding_window_view(values[:-1], window)
    z = (values[window:] - past.mean(axis=1)) / np.maximum(past.std(axis=1, ddof=1), 1e-12)
    return [(window + int(i), "regression" if z[i] > 0 else "improvement", window + int(i))
            for i in np.nonzero(np.abs(z) > threshold)[0]]


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


def run_case(spec: Spec) -> tuple[tuple[str, str, float], Score, Score, int]:
    """Generate and score one case with both detectors (a process-pool task)."""
    case = make_case(*spec)
    ours = score_case(case, harness_alerts(case.values))
    return spec[:3], ours, score_case(case, reference_alerts(case.values)), len(case.values)


def case_specs(plan: dict) -> list[Spec]:
    """Every case of a plan, each with its own seed."""
    specs: list[Spec] = []
    for noise in NOISES[:2]:
        for size in STEP_SIZES:
            specs += [("step", noise, size, length, 0) for length, count in
                      plan["steps"].items() for _ in range(count)]
    for noise in NOISES:
        specs += [("noise", noise, 0.0, length, 0) for length, count in
                  plan["noise"].items() for _ in range(count)]
    for slope in DRIFT_SLOPES:
        specs += [("drift", "gaussian", slope, DRIFT_LENGTH, 0) for _ in range(plan["drift"])]
    return [(*spec[:4], 1000 + seed) for seed, spec in enumerate(specs)]


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


def _cpu_time(work: Callable[[], object], repeat: int) -> float:
    """CPU seconds per call of work."""
    start = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - start) / repeat


def cost_rows(quick: bool) -> list[list[str]]:
    """CPU time of judge_point as history grows, and of change_points on 10,000 points."""
    rng = np.random.default_rng(7)
    rows = []
    for size in (100, 1_000, 10_000, 100_000):
        history = list(LEVEL + make_noise("gaussian", size, rng))
        repeat, rounds = (100, 3) if quick else (300, 5)
        per_point = min(_cpu_time(partial(judge_point, history, LEVEL, "lower"), repeat)
                        for _ in range(rounds))  # the least disturbed of a few rounds
        rows.append([f"judge_point, history of {size:,}", f"{per_point * 1e6:.0f} µs", ""])
    for noise, steps in (("outliers 1 %", 0), ("outliers 1 %", 10), ("student t, 3 dof", 0),
                         ("student t, 3 dof", 10)):
        values = LEVEL + make_noise(noise, 10_000, rng)
        truth = list(range(900, 10_000, 900))[:steps]
        # the level alternates between LEVEL and LEVEL + 2σ at each true change point
        values += 2 * SIGMA * (np.searchsorted(truth, np.arange(10_000), side="right") % 2)
        spent = _cpu_time(partial(change_points, values, "lower"), 1)
        found = change_points(values, "lower")
        hits = sum(1 for c in found if any(abs(c.index - t) <= 5 for t in truth))
        rows.append([f"change_points, 10,000 points, {noise}, {steps} 2σ steps",
                     f"{spent:.2f} s", f"{hits}/{len(truth)} found (±5), "
                                       f"{len(found) - hits} false"])
    return rows


def tables(rows: dict[tuple[str, str, float], Tally], costs: list[list[str]]
           ) -> list[tuple[str, list[str], list[list[str]]]]:
    """The result tables: (title, header, body)."""
    def median(delays: Sequence[int]) -> str:
        return f"{np.median(delays):.0f}" if delays else "–"

    steps, noise, drift = [], [], []
    for (family, kind, size), row in sorted(rows.items()):
        if family == "step":
            steps.append([kind, f"{size:g}σ", str(row.events()),
                          row.share(OURS, lambda e: e[0] <= 5),
                          row.share(OURS, lambda e: e[0] <= 20), median(row.delays(OURS)),
                          row.share(OURS, lambda e: e[0] <= 20 and abs(e[1]) <= 1),
                          row.per_thousand(OURS, "extra"),
                          row.share(REFERENCE, lambda e: e[0] <= 5),
                          row.share(REFERENCE, lambda e: e[0] <= 20)])
        elif family == "noise":
            noise.append([kind, f"{row.builds:,}", row.per_thousand(OURS, "false"),
                          row.per_thousand(REFERENCE, "false")])
        else:
            delays = row.delays(OURS)
            drift.append([f"{size:g}σ/build", str(row.events()), row.share(OURS, bool),
                          median(delays),
                          f"{size * (np.median(delays) + 1):.1f}σ" if delays else "–",
                          row.per_thousand(OURS, "false"), row.share(REFERENCE, bool)])
    return [
        ("Targets", ["target", "achieved", "met"], targets(rows)),
        ("Steps (share of steps alerted within 5 / 20 builds; delay 0 = the step's build)",
         ["noise", "step", "steps", "≤ 5", "≤ 20", "median delay", "≤ 20, placed ±1",
          "other alerts /1000", f"{REFERENCE} ≤ 5", f"{REFERENCE} ≤ 20"], steps),
        ("False alerts on noise", ["noise", "builds", "alerts /1000", f"{REFERENCE} /1000"],
         noise),
        (f"Slow drifts (Gaussian noise, from build {DRIFT_START} of {DRIFT_LENGTH})",
         ["slope", "series", "detected", "median delay", "drift at detection",
          "alerts before it /1000", f"{REFERENCE} detected"], drift),
        ("Cost (CPU, one core)", ["what", "time", "result"], costs),
    ]


def targets(rows: dict[tuple[str, str, float], Tally]) -> list[list[str]]:
    """The project's targets against the pooled results."""
    def recall(sizes: Sequence[float], within: int, noises: Sequence[str]) -> float:
        picked = [row for (family, noise, size), row in rows.items()
                  if family == "step" and size in sizes and noise in noises]
        events = sum(row.events() for row in picked)
        found = sum(1 for row in picked for d in row.delays(OURS) if d <= within)
        return 100 * found / events if events else 0.0

    body = []
    for title, sizes, within, goal in (("≥ 95 % of ≥ 2σ steps within 5 builds", (2.0, 4.0), 5,
                                        95.0),
                                       ("≥ 80 % of 1σ steps within 20 builds", (1.0,), 20,
                                        80.0)):
        pooled = recall(sizes, within, NOISES)
        parts = ", ".join(f"{noise} {recall(sizes, within, (noise,)):.0f} %"
                          for noise in NOISES[:2])
        body.append([title, f"{pooled:.1f} % ({parts})", "yes" if pooled >= goal else "no"])
    for (family, noise, _), row in sorted(rows.items()):
        if family == "noise":
            rate = float(row.per_thousand(OURS, "false"))
            body.append([f"≤ 1 false alert per 1,000 builds, {noise}", f"{rate:.2f}",
                         "yes" if rate <= 1.0 else "no"])
    return body


def markdown(blocks: list[tuple[str, list[str], list[list[str]]]], note: str) -> str:
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
    parser.add_argument("--quick", action="store_true", help="a smaller run (< 30 s)")
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    specs = case_specs(PLANS["quick" if args.quick else "full"])
    with ProcessPoolExecutor(os.cpu_count() or 1) as executor:
        results = list(executor.map(run_case, specs, chunksize=4))
    blocks = tables(tally(results), cost_rows(args.quick))
    p = DEFAULT_PARAMS
    note = (f"`python -m bench.detection{' --quick' if args.quick else ''}`: {len(specs)} "
            f"series, {sum(r[3] for r in results):,} builds, "
            f"{time.perf_counter() - started:.0f} s on {os.cpu_count()} CPU(s). Level "
            f"{LEVEL:g}, noise σ {SIGMA:g}, lower is better; steps every {STEP_EVERY} builds "
            f"from build {FIRST_STEP}, each up or down at random; outliers are 5–15σ. "
            f"Detector: `DEFAULT_PARAMS` (baseline of {p.window} builds before the last "
            f"{p.span}, recent windows {p.scan}, z ≥ {p.threshold}, clip {p.clip}σ, "
            f"minimum effect max({p.min_relative:.0%}, {p.min_sigmas}σ), σ from "
            f"{p.noise_window} builds). Reference: {REFERENCE} (mean and sd of the previous "
            f"64 builds, alerting on every build past 5 sd). \"Placed ±1\": the alert's "
            f"`started_build` is within one build of the step. \"Other alerts\": alerts in "
            f"step series that are not the first detection of a step (false or repeated).")
    text = markdown(blocks, note + "\n\n" + LIMITS)
    print(text)
    if not args.no_write:
        write_section("Detection", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

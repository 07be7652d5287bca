"""A believable, seeded history of nightly and PR builds (posting it: harness.client.http)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any, Literal

import numpy as np

from harness.tools.demo_blobs import STAR_EXTRAS, star_rng

DATASETS = ("hsc_rc2", "dc2_test_med")
FILTERS = ("u", "g", "r", "i", "z", "y")
BRANCH = "main"
NIGHTLY_CI = "jenkins"
PR_CI = "github-actions"

# Expected merges per night into each package; its commit changes on nights with at least one.
MERGE_RATES: Mapping[str, float] = {
    "pipe_tasks": 0.35,
    "meas_algorithms": 0.2,
    "jointcal": 0.08,
    "ip_diffim": 0.15,
    "obs_subaru": 0.12,
    "daf_butler": 0.4,
}
CCDS = {"hsc_rc2": 20, "dc2_test_med": 18}
STAR_DATASET = "hsc_rc2"  # its AM1 and PA1 carry per-star arrays (harness.tools.demo_blobs)

REGRESSION_AT = 0.7
REGRESSION_PACKAGE = "jointcal"
DEGRADED_METRICS = ("validate_drp.AM1", "validate_drp.AD1")
REGRESSION_SHIFT = 2.5  # marcsec, added to every degraded series from the regression on
IMPROVEMENT_AT = 0.55  # a meas_algorithms change lowers the outlier fraction PF1 …
IMPROVEMENT_PACKAGE = "meas_algorithms"
IMPROVED_METRIC = "validate_drp.PF1"
IMPROVEMENT_FACTOR = 0.75  # … by a quarter in every series
MISSING_AT = 0.42
DRIFTING_METRIC = "pipe_tasks.peak_memory"
DRIFT_AT = 0.3  # a daf_butler change starts a slow growth of the peak memory …
DRIFT_PACKAGE = "daf_butler"
DRIFT = 0.10  # … by this much (relative) …
DRIFT_NIGHTS = 20  # … over this many nights, where it stays
OUTLIER_RATE = 0.006
MIN_NIGHTS = 14

_EPOCH = date(2020, 1, 1)  # Jenkins build numbers and Actions run ids count days from here


@dataclass(frozen=True)
class MetricModel:
    """How one demo metric behaves: unit, typical level, relative scatter."""

    name: str
    unit: str
    level: float  # typical value in g, r, i, or in every band
    level_uzy: float | None = None  # typical value in u, z, y where it differs
    per_filter: bool = True
    scatter: float = 0.025
    better: Literal["lower", "higher"] = "lower"
    digits: int = 4  # significant digits posted

    def typical(self, band: str | None) -> float:
        """The typical value of this metric in a band (None: no band)."""
        if self.level_uzy is not None and band in ("u", "z", "y"):
            return self.level_uzy
        return self.level


METRICS: tuple[MetricModel, ...] = (
    MetricModel("validate_drp.PA1", "mmag", 4.5, 7.0, scatter=0.03),
    MetricModel("validate_drp.PF1", "%", 6.0, scatter=0.04),
    MetricModel("validate_drp.PA2", "mmag", 11.0, 17.0),
    MetricModel("validate_drp.AM1", "marcsec", 7.0),
    MetricModel("validate_drp.AM2", "marcsec", 6.5),
    MetricModel("validate_drp.AM3", "marcsec", 9.0),
    MetricModel("validate_drp.AD1", "marcsec", 15.0),
    MetricModel("validate_drp.AD2", "marcsec", 15.0),
    MetricModel("validate_drp.AD3", "marcsec", 24.0),
    MetricModel("validate_drp.AF1", "%", 6.0, scatter=0.04),
    MetricModel("validate_drp.AF2", "%", 6.0, scatter=0.04),
    MetricModel("validate_drp.AF3", "%", 6.0, scatter=0.04),
    MetricModel("validate_drp.TE1", "", 1.6e-5, scatter=0.03),
    MetricModel("validate_drp.TE2", "", 8e-8, scatter=0.04),
    MetricModel("dm_latency.OTT1", "s", 45.0, per_filter=False, scatter=0.05),
    MetricModel("dm_latency.calProcTime", "s", 900.0, per_filter=False, scatter=0.04),
    MetricModel("dm_latency.dataQualityReportTime", "h", 2.5, per_filter=False, scatter=0.05),
    MetricModel("dm_latency.solarSystemObjectLatency", "h", 14.0, per_filter=False, scatter=0.04),
    MetricModel("pipe_tasks.runtime", "s", 800.0, per_filter=False, scatter=0.03),
    MetricModel("pipe_tasks.wall_time", "s", 940.0, per_filter=False, scatter=0.04),
    MetricModel("pipe_tasks.peak_memory", "MB", 3500.0, per_filter=False, scatter=0.015),
    MetricModel(
        "pipe_tasks.n_sources",
        "",
        120_000.0,
        per_filter=False,
        scatter=0.01,
        better="higher",
        digits=6,
    ),
)

# Series whose level sits near a spec threshold, each on one side of it with a margin of
# about three times its scatter (a well-run project: no series parked at a threshold,
# flapping between minimum and design), or at a stretch threshold, where a verdict that
# varies between stretch and design is no alert.
NEAR_SPEC: Mapping[tuple[str, str, str | None], float] = {
    ("hsc_rc2", "validate_drp.PA1", "r"): 4.6,  # design 5 mmag (gri)
    ("hsc_rc2", "validate_drp.PA1", "g"): 3.05,  # stretch 3 mmag (gri)
    ("dc2_test_med", "validate_drp.PA1", "y"): 6.8,  # design 7.5 mmag (uzy)
    ("hsc_rc2", "validate_drp.AD3", "z"): 27.5,  # design 30 marcsec
    ("dc2_test_med", "validate_drp.PF1", "i"): 5.05,  # stretch 5 %
    ("dc2_test_med", "validate_drp.AF2", "u"): 8.6,  # design 10 %
    ("hsc_rc2", "validate_drp.TE1", "i"): 1.8e-5,  # design 2e-5
    ("dc2_test_med", "dm_latency.OTT1", None): 50.0,  # design 1 min
}


@dataclass(frozen=True)
class PullRequestPlan:
    """One pull request that gets a PR build: where in the history, and what it does."""

    at: float  # fraction of the history
    number: int
    ticket: str
    pa1_factor: float = 1.0  # > 1: the PR worsens PA1 in every band

    @property
    def url(self) -> str:
        """The pull request's page."""
        return f"https://github.com/lsst/pipe_tasks/pull/{self.number}"


PULL_REQUESTS: tuple[PullRequestPlan, ...] = (
    PullRequestPlan(0.22, 1012, "DM-41234"),
    PullRequestPlan(0.51, 1019, "DM-41502", pa1_factor=1.35),
    PullRequestPlan(0.81, 1027, "DM-42017"),
    PullRequestPlan(0.93, 1033, "DM-42260"),
)


@dataclass(frozen=True)
class DemoEvents:
    """The events injected into a demo history, for tests and tours to find."""

    regression_build_id: str  # the nightly where a jointcal change degrades AM1 and AD1
    drift_build_id: str  # the nightly where a daf_butler change starts the memory drift
    improvement_build_id: str  # the nightly where a meas_algorithms change improves PF1
    missing_night: date  # no build posted that night
    pr_build_ids: tuple[str, ...]  # github-actions run ids, in time order
    pa1_pr_build_id: str  # the PR build that worsens PA1
    regression_package: str = REGRESSION_PACKAGE
    degraded_metrics: tuple[str, ...] = DEGRADED_METRICS
    drifting_metric: str = DRIFTING_METRIC


@dataclass(frozen=True)
class _Schedule:
    nights: tuple[date, ...]
    missing: int
    regression: int
    drift: int
    improvement: int
    pull_requests: tuple[tuple[int, PullRequestPlan], ...]  # (night index, plan)

    def events(self) -> DemoEvents:
        runs = [(_run_id(self.nights[i], plan), plan) for i, plan in self.pull_requests]
        return DemoEvents(
            regression_build_id=_nightly_id(self.nights[self.regression]),
            drift_build_id=_nightly_id(self.nights[self.drift]),
            improvement_build_id=_nightly_id(self.nights[self.improvement]),
            missing_night=self.nights[self.missing],
            pr_build_ids=tuple(run for run, _ in runs),
            pa1_pr_build_id=next(run for run, plan in runs if plan.pa1_factor > 1.0),
        )


@dataclass(frozen=True)
class _Series:
    level: float
    scatter: float
    regression_shift: float


@dataclass(frozen=True)
class _Build:
    info: dict[str, Any]  # the submission's "build" object
    time: datetime
    drifted: float  # 0 until the drift's night, then up to 1 at the last
    improved: bool
    degraded: bool
    pa1_factor: float


def demo_events(nights: int = 120, end: datetime | None = None) -> DemoEvents:
    """The injected events of generate_history(nights, end=end), for any seed."""
    return _schedule(nights, end).events()


def generate_history(nights: int = 120, seed: int = 7, end: datetime | None = None) -> list[dict]:
    """Native submissions of a nightly pipeline and a few PR builds, ordered by build time."""
    schedule = _schedule(nights, end)
    rng = np.random.default_rng(seed)
    series = _series(rng)
    builds = _builds(rng, schedule, _package_history(rng, schedule))
    return [
        {
            "build": copy.deepcopy(build.info),
            "dimensions": {"dataset": dataset},
            "measurements": _measurements(rng, seed, build, dataset, series),
        }
        for build in builds
        for dataset in DATASETS
    ]


def _schedule(nights: int, end: datetime | None) -> _Schedule:
    if nights < MIN_NIGHTS:
        raise ValueError(f"nights must be at least {MIN_NIGHTS}, got {nights}")
    end = datetime.now(UTC) if end is None else _utc(end)
    # The last night is the latest whose 03:00 build (jitter included) is already over.
    last = (end - timedelta(hours=4)).date()
    dates = tuple(last - timedelta(days=nights - 1 - i) for i in range(nights))
    missing = round(MISSING_AT * (nights - 1))
    regression = round(REGRESSION_AT * (nights - 1))
    drift = round(DRIFT_AT * (nights - 1))
    improvement = round(IMPROVEMENT_AT * (nights - 1))
    taken = {missing, regression, drift, improvement}
    placed = []
    for plan in PULL_REQUESTS:
        index = round(plan.at * (nights - 1))
        while index in taken:
            index += 1
        taken.add(index)
        placed.append((index, plan))
    return _Schedule(dates, missing, regression, drift, improvement, tuple(placed))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _nightly_id(night: date) -> str:
    return f"nightly-{night.isoformat()}"


def _run_id(night: date, plan: PullRequestPlan) -> str:
    return str(9_000_000 + (night - _EPOCH).days * 100 + plan.number % 100)


def _commit(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(0, 16**7)):07x}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _series(rng: np.random.Generator) -> dict[tuple[str, str, str | None], _Series]:
    table = {}
    for dataset in DATASETS:
        for model in METRICS:
            for band in FILTERS if model.per_filter else (None,):
                key = (dataset, model.name, band)
                level = NEAR_SPEC.get(key, model.typical(band) * rng.normal(1.0, 0.05))
                shift = rng.normal(REGRESSION_SHIFT, 0.1) if model.name in DEGRADED_METRICS else 0.0
                scatter = model.scatter * rng.uniform(0.7, 1.3)
                table[key] = _Series(float(level), float(scatter), float(shift))
    return table


def _package_history(rng: np.random.Generator, schedule: _Schedule) -> list[dict[str, str]]:
    """The package commits on main each night; a night without merges keeps the commit."""
    current = {name: _commit(rng) for name in MERGE_RATES}
    history = [dict(current)]
    for index in range(1, len(schedule.nights)):
        for name, rate in MERGE_RATES.items():
            merged = rng.poisson(rate) > 0
            if merged or (index, name) in ((schedule.regression, REGRESSION_PACKAGE),
                                           (schedule.drift, DRIFT_PACKAGE),
                                           (schedule.improvement, IMPROVEMENT_PACKAGE)):
                current[name] = _commit(rng)
        history.append(dict(current))
    return history


def _packages(commits: Mapping[str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "commit": commit, "url": f"https://github.com/lsst/{name}"}
        for name, commit in commits.items()
    ]


def _builds(
    rng: np.random.Generator, schedule: _Schedule, packages: Sequence[Mapping[str, str]]
) -> list[_Build]:
    builds = []
    for index, night in enumerate(schedule.nights):
        if index == schedule.missing:
            continue
        moment = datetime.combine(night, clock(3), UTC) + timedelta(
            seconds=int(rng.uniform(-300, 2400))
        )
        # The nightly's own commit is that of the product that pins every package.
        pinned = hashlib.sha1("".join(packages[index].values()).encode()).hexdigest()[:7]
        info: dict[str, Any] = {
            "ci": NIGHTLY_CI,
            "id": _nightly_id(night),
            "url": f"https://ci.example.org/job/nightly/{(night - _EPOCH).days}/",
            "time": _iso(moment),
            "branch": BRANCH,
            "commit": pinned,
            "packages": _packages(packages[index]),
        }
        builds.append(_Build(info, moment, _drifted(index, schedule),
                             index >= schedule.improvement, index >= schedule.regression, 1.0))
    for index, plan in schedule.pull_requests:
        night = schedule.nights[index]
        moment = datetime.combine(night, clock(13), UTC) + timedelta(
            seconds=int(rng.uniform(0, 6 * 3600))
        )
        head = _commit(rng)
        run = _run_id(night, plan)
        info = {
            "ci": PR_CI,
            "id": run,
            "url": f"https://github.com/lsst/pipe_tasks/actions/runs/{run}",
            "time": _iso(moment),
            "branch": f"tickets/{plan.ticket}",
            "commit": head,
            "pull_request": {"number": plan.number, "url": plan.url, "base": BRANCH},
            "packages": _packages({**packages[index], "pipe_tasks": head}),
        }
        degraded = index >= schedule.regression
        builds.append(_Build(info, moment, _drifted(index, schedule),
                             index >= schedule.improvement, degraded, plan.pa1_factor))
    return sorted(builds, key=lambda build: build.time)


def _drifted(index: int, schedule: _Schedule) -> float:
    """How far the memory drift has gone at a night: 0 until it starts, 1 from
    `DRIFT_NIGHTS` later on."""
    return min(1.0, max(0.0, (index - schedule.drift) / DRIFT_NIGHTS))


def _measurements(
    rng: np.random.Generator,
    seed: int,
    build: _Build,
    dataset: str,
    series: Mapping[tuple[str, str, str | None], _Series],
) -> list[dict[str, Any]]:
    measurements: list[dict[str, Any]] = []
    for model in METRICS:
        for band in FILTERS if model.per_filter else (None,):
            shape = series[(dataset, model.name, band)]
            level = shape.level
            if model.name == DRIFTING_METRIC:
                level *= 1.0 + DRIFT * build.drifted
            if model.name == "validate_drp.PA1":
                level *= build.pa1_factor
            if model.name == IMPROVED_METRIC and build.improved:
                level *= IMPROVEMENT_FACTOR
            if build.degraded:
                level += shape.regression_shift
            value = level * (1.0 + shape.scatter * rng.normal())
            if rng.random() < OUTLIER_RATE:
                worse = rng.uniform(1.25, 1.6)
                value = value * worse if model.better == "lower" else value / worse
            value = max(value, 0.1 * level)
            measurement: dict[str, Any] = {
                "metric": model.name,
                "value": float(f"{value:.{model.digits}g}"),
                "unit": model.unit,
            }
            if band is not None:
                measurement["dimensions"] = {"filter": band}
            if model.name == "pipe_tasks.runtime":
                measurement["extras"] = _per_ccd(rng, measurement["value"], CCDS[dataset])
            if dataset == STAR_DATASET and model.name in STAR_EXTRAS:
                stars = star_rng(seed, build.info["id"], dataset, model.name, band)
                measurement["extras"] = STAR_EXTRAS[model.name](stars, measurement["value"])
            measurements.append(measurement)
    return measurements


def _per_ccd(rng: np.random.Generator, runtime: float, ccds: int) -> dict[str, Any]:
    """Per-CCD times that add up to the runtime, the slowest a few times the fastest."""
    shares = rng.gamma(12.0, size=ccds)
    seconds = runtime * shares / shares.sum()
    return {"per_ccd_s": {"value": [round(float(s), 2) for s in seconds], "unit": "s"}}

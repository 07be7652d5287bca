"""The harness's plain data: builds, measurements, submissions, results. Frozen, JSON-able."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from harness.links import api_build_url
from harness.times import parse_utc, point_time

Verdict = Literal["stretch", "design", "minimum", "fail", "none"]
Decision = Literal["ok", "regression", "improvement", "insufficient"]
Test = Literal["history", "base"]


@dataclass(frozen=True)
class PullRequest:
    """The pull request a build was made for."""

    number: int
    url: str | None = None
    base: str | None = None


@dataclass(frozen=True)
class Package:
    """One package that went into a build, at a commit."""

    name: str
    commit: str | None = None
    url: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class Build:
    """One CI build: identity, where it ran, what code went into it."""

    ci: str
    id: str
    branch: str
    time: datetime | None = None
    url: str | None = None
    commit: str | None = None
    pull_request: PullRequest | None = None
    packages: tuple[Package, ...] = ()

    @property
    def key(self) -> str:
        """The build's identity as one string."""
        return f"{self.ci}/{self.id}"

    @property
    def baseline_branch(self) -> str:
        """The branch whose history judges this build: the PR's base, else its own."""
        if self.pull_request is not None and self.pull_request.base:
            return self.pull_request.base
        return self.branch

    def packages_json(self) -> list[dict[str, Any]]:
        """The build's packages as JSON-able data (as stored; what package_changes compares)."""
        return [asdict(package) for package in self.packages]

    def to_json(self) -> dict[str, Any]:
        """The build as JSON-able data."""
        data = asdict(self)
        data["time"] = self.time.isoformat() if self.time else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Build:
        """The inverse of to_json."""
        pull_request = data.get("pull_request")
        return cls(
            ci=data["ci"],
            id=data["id"],
            branch=data["branch"],
            time=parse_utc(data["time"]) if data.get("time") else None,
            url=data.get("url"),
            commit=data.get("commit"),
            pull_request=PullRequest(**pull_request) if pull_request else None,
            packages=tuple(Package(**package) for package in data.get("packages", ())),
        )


@dataclass(frozen=True)
class Measurement:
    """One value of one metric for one series, already in the metric's unit."""

    metric: str
    value: float | None
    unit: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    blobs: tuple[str, ...] = ()
    samples: tuple[float, ...] = ()  # repeated runs in one build, in the metric's unit

    @property
    def count(self) -> int:
        """How many runs the value stands for."""
        return max(len(self.samples), 1)

    @property
    def spread(self) -> float:
        """The standard deviation of the samples (0 for fewer than two)."""
        if len(self.samples) < 2:
            return 0.0
        return statistics.stdev(self.samples)

    def to_json(self) -> dict[str, Any]:
        """The measurement as JSON-able data."""
        data: dict[str, Any] = {
            "metric": self.metric, "value": self.value, "unit": self.unit,
            "dimensions": dict(self.dimensions), "blobs": list(self.blobs),
        }
        if self.samples:
            data["samples"] = list(self.samples)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Measurement:
        """The inverse of to_json."""
        return cls(
            metric=data["metric"], value=data["value"], unit=data["unit"],
            dimensions=dict(data.get("dimensions", {})), blobs=tuple(data.get("blobs", ())),
            samples=tuple(data.get("samples", ())),
        )


@dataclass(frozen=True)
class Submission:
    """One build's measurements, validated and ready for the worker."""

    id: str
    build: Build
    measurements: tuple[Measurement, ...]
    received: datetime
    blobs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def time(self) -> datetime:
        """The time of the build's points: the build's own, else when first seen."""
        return self.build.time or self.received

    def to_json(self) -> dict[str, Any]:
        """The submission as JSON-able data, e.g. for the task queue."""
        return {
            "id": self.id, "build": self.build.to_json(),
            "measurements": [m.to_json() for m in self.measurements],
            "received": self.received.isoformat(),
            "blobs": {key: dict(blob) for key, blob in self.blobs.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Submission:
        """The inverse of to_json."""
        return cls(
            id=data["id"], build=Build.from_json(data["build"]),
            measurements=tuple(Measurement.from_json(m) for m in data["measurements"]),
            received=parse_utc(data["received"]),
            blobs=dict(data.get("blobs", {})),
        )


@dataclass(frozen=True)
class Excursion:
    """How one value compares with its series' recent past (harness.detection.excursions)."""

    baseline: float  # robust centre of the recent history
    noise: float  # robust σ of the series (from first differences), floored
    change: float  # value − baseline
    relative_change: float | None  # change / |baseline|; None when the baseline is 0
    score: float  # z of the recent level: > 0 towards a regression, < 0 an improvement
    decision: Decision
    started: int  # builds back where the current excursion began (0 = this build)
    threshold: float  # the |score| that decides
    test: Test = "history"  # against the series' own past, or (a PR) its base branch
    needed: int = 0  # builds the test still needs, when insufficient

    def to_json(self) -> dict[str, Any]:
        """The excursion as JSON-able data (its fields are scalars: a shallow copy is
        asdict's result without its deep copy, a hot path of every status)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class Result:
    """A judged measurement: its verdict against the specs."""

    measurement: Measurement
    verdict: Verdict
    spec: str | None = None
    excursion: Excursion | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as the status endpoint shows it."""
        m = self.measurement
        data = {
            "metric": m.metric, "dimensions": dict(m.dimensions), "value": m.value,
            "unit": m.unit, "verdict": self.verdict, "spec": self.spec,
            "excursion": self.excursion.to_json() if self.excursion is not None else None,
            "blobs": list(m.blobs),
        }
        if m.samples:
            data["samples"] = {"count": m.count, "spread": m.spread}
        return data


@dataclass(frozen=True)
class BuildRecord:
    """A build as the store keeps it: the build, the time of its points, its submission."""

    build: Build
    time: int  # ns since the epoch: where the build's points sit
    submission: str | None = None

    @property
    def judged_on(self) -> str:
        """The branch whose series hold this build's judgements (a PR's: its base)."""
        return self.build.baseline_branch

    def to_json(self) -> dict[str, Any]:
        """The stored build as the API shows it."""
        build = self.build
        data: dict[str, Any] = {
            "ci": build.ci, "id": build.id, "branch": build.branch,
            "time": point_time(self.time), "url": build.url, "commit": build.commit,
            "packages": build.packages_json(), "links": {"self": api_build_url(build.ci, build.id)},
        }
        if build.pull_request is not None:
            data["pull_request"] = asdict(build.pull_request)
        return data


@dataclass(frozen=True)
class StoredResult:
    """A result as the store keeps it: the measurement's value and how it was judged."""

    metric: str
    dimensions: Mapping[str, str]
    value: float | None
    unit: str
    verdict: Verdict
    spec: str | None = None
    blobs: tuple[str, ...] = ()
    baseline: float | None = None
    score: float | None = None
    decision: Decision | None = None
    change: float | None = None
    time: int = 0  # ns
    ci: str = ""
    build_id: str = ""
    build_url: str | None = None
    commit: str | None = None
    submission: str | None = None
    sample_count: int | None = None
    sample_spread: float | None = None
    pull_request: PullRequest | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as a build's API answer lists it: with its judgement against the
        series' past (a PR's: against its base branch) when it had one."""
        excursion = None if self.decision is None else {
            "decision": self.decision, "baseline": self.baseline, "change": self.change,
            "score": self.score}
        return {"metric": self.metric, "dimensions": dict(self.dimensions), "value": self.value,
                "unit": self.unit, "verdict": self.verdict, "spec": self.spec,
                "excursion": excursion}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def document_digest(document: Any) -> str:
    """The SHA-256 (hex) of a document's canonical JSON: how the harness finds it again."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()

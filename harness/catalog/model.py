"""The catalog's data: metrics, specs, dimensions, requirements."""

from __future__ import annotations

import operator as op
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # numpy: the catalog loads without it
    from harness.detection.params import DetectionParams

LEVELS = ("stretch", "design", "minimum")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": op.lt, "<=": op.le, ">": op.gt, ">=": op.ge, "==": op.eq, "!=": op.ne,
}
METRIC_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$")
SETTINGS_FILE = "_catalog.yaml"  # a catalog folder's settings: dimensions, requirements, branch
ROUTES_FILE = "routes.yaml"  # where alerts go (harness.alerting.routes); no package of metrics
# The knobs of harness.detection.params.DetectionParams that a metric's catalog entry may set.
DETECTION_KNOBS = ("threshold", "pr_threshold", "min_relative", "min_absolute", "persistence",
                   "window", "span", "scan", "min_history", "noise_window", "resolve_after")


@dataclass(frozen=True)
class Spec:
    """A threshold at one level (stretch / design / minimum), in the metric's unit."""

    name: str
    metric: str
    level: str
    operator: str
    threshold: float
    query: Mapping[str, frozenset[str]] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    def is_met_by(self, value: float) -> bool:
        """Whether value (in the metric's unit) meets this spec."""
        return OPERATORS[self.operator](value, self.threshold)

    def applies_to(self, dimensions: Mapping[str, str]) -> bool:
        """Whether every metadata condition matches these dimensions."""
        return all(dimensions.get(key) in allowed for key, allowed in self.query.items())

    def to_json(self) -> dict[str, Any]:
        """The spec as the API shows it."""
        return {
            "name": self.name, "level": self.level, "operator": self.operator,
            "threshold": self.threshold,
            "metadata_query": {k: sorted(v) for k, v in self.query.items()},
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class DetectionSettings:
    """A metric's excursion test: on or off, and the knobs its catalog entry sets, named as
    harness.detection.params.DetectionParams fields (min_absolute in the metric's unit)."""

    enabled: bool = True
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def params(self) -> DetectionParams:
        """The parameters in force: the defaults with these overrides."""
        # numpy: the CLI imports this package, and its `harness post` must not load numpy
        # (tests/integration/test_post.py)
        from harness.detection.params import DEFAULT_PARAMS

        return DEFAULT_PARAMS.with_overrides(self.overrides)

    def to_json(self) -> dict[str, Any]:
        """The settings as the API shows them: every knob in force, and those set."""
        params = self.params()
        return {
            "enabled": self.enabled,
            "settings": _knobs_json({knob: getattr(params, knob) for knob in DETECTION_KNOBS}),
            "overrides": _knobs_json(self.overrides),
        }


def _knobs_json(knobs: Mapping[str, Any]) -> dict[str, Any]:
    return {knob: list(value) if isinstance(value, tuple) else value
            for knob, value in knobs.items()}


@dataclass(frozen=True)
class Metric:
    """A metric: its unit, better-direction, dimensions, requirements and specs."""

    name: str
    unit: str
    better: Literal["lower", "higher"]
    description: str = ""
    dimensions: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    reference: Mapping[str, Any] = field(default_factory=dict)
    specs: tuple[Spec, ...] = ()
    source: Literal["catalog", "inline"] = "catalog"
    cadence_s: float | None = None  # expected at least this often on the default branch
    detection: DetectionSettings = DetectionSettings()
    optional_dimensions: tuple[str, ...] = ()  # of `dimensions`: a measurement may omit them

    @property
    def package(self) -> str:
        """The package part of the name."""
        return self.name.rsplit(".", 1)[0]

    @property
    def required_dimensions(self) -> tuple[str, ...]:
        """The dimensions every measurement must give: a catalog metric's, but its optional
        ones; none of an inline metric's (its list may be the catalog's, by default)."""
        if self.source != "catalog":
            return ()
        return tuple(key for key in self.dimensions if key not in self.optional_dimensions)

    def to_json(self, *, definition_only: bool = False) -> dict[str, Any]:
        """The metric as the API shows it; with `definition_only`, without its source,
        cadence and detection settings: as the registry keeps a metric registered inline
        (read back by harness.catalog.definitions.metric_from_json)."""
        described: dict[str, Any] = {
            "name": self.name, "unit": self.unit, "better": self.better,
            "description": self.description, "dimensions": list(self.dimensions),
            "requirements": list(self.requirements), "tags": list(self.tags),
            "reference": dict(self.reference),
        }
        specs = [spec.to_json() for spec in self.specs]
        if definition_only:
            return {**described, "specs": specs}
        return {**described, "optional_dimensions": list(self.optional_dimensions),
                "source": self.source, "specs": specs, "cadence_s": self.cadence_s,
                "detection": self.detection.to_json()}


@dataclass(frozen=True)
class Dimension:
    """A metadata key that identifies a series, with its Job JSON aliases."""

    name: str
    description: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requirement:
    """A requirement that metrics verify."""

    id: str
    title: str = ""
    document: str = ""
    url: str = ""

    def to_json(self) -> dict[str, str]:
        """The requirement as the API shows it."""
        return {"id": self.id, "title": self.title, "document": self.document, "url": self.url}


@dataclass(frozen=True)
class Pattern:
    """What the catalog gives the metrics registered on first use (adapters, `--metric`)
    whose name matches a glob: tags, detection settings, specs (in the metric's unit)."""

    glob: str
    tags: tuple[str, ...] = ()
    detection: DetectionSettings | None = None
    specs: tuple[tuple[str, str, float], ...] = ()  # (level, operator, threshold)

    def matches(self, metric: Metric) -> bool:
        """Whether this pattern applies to a metric: registered on use, its name matching."""
        return metric.source == "inline" and fnmatchcase(metric.name, self.glob)

    def applied(self, metric: Metric) -> Metric:
        """The metric with this pattern's tags, detection settings and specs."""
        specs = tuple(Spec(f"{metric.name}.{level}", metric.name, level, operator, threshold)
                      for level, operator, threshold in self.specs)
        return replace(metric, tags=tuple(dict.fromkeys((*metric.tags, *self.tags))),
                       detection=self.detection or metric.detection,
                       specs=(*metric.specs, *specs))


@dataclass(frozen=True)
class Catalog:
    """Every known metric, with the catalog's dimensions and requirements."""

    metrics: Mapping[str, Metric]
    dimensions: Mapping[str, Dimension] = field(default_factory=dict)
    requirements: Mapping[str, Requirement] = field(default_factory=dict)
    default_branch: str = "main"
    patterns: tuple[Pattern, ...] = ()  # for metrics registered on first use, first match

    def get(self, name: str) -> Metric | None:
        """The metric of that name, or None."""
        return self.metrics.get(name)

    def traced_requirements(self) -> dict[str, tuple[Requirement, tuple[Metric, ...]]]:
        """Every requirement → the metrics verifying it: the declared ones in the order of
        the catalog file, then those only named by a metric, by id."""
        verifying: dict[str, list[Metric]] = {rid: [] for rid in self.requirements}
        undeclared: dict[str, list[Metric]] = {}
        for metric in sorted(self.metrics.values(), key=lambda m: m.name):
            for rid in metric.requirements:
                (verifying if rid in verifying else undeclared).setdefault(rid, []).append(metric)
        verifying.update(sorted(undeclared.items()))
        return {
            rid: (self.requirements.get(rid, Requirement(rid)), tuple(metrics))
            for rid, metrics in verifying.items()
        }

    def with_metrics(self, extra: Iterable[Metric]) -> Catalog:
        """This catalog plus metrics registered inline (the catalog's own win), each with
        what the first pattern matching it gives."""
        merged = {metric.name: self._patterned(metric) for metric in extra}
        merged.update(self.metrics)
        return replace(self, metrics=merged)

    def _patterned(self, metric: Metric) -> Metric:
        for pattern in self.patterns:
            if pattern.matches(metric):
                return pattern.applied(metric)
        return metric


CADENCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def parse_cadence(text: str) -> float:
    """`36h`, `1d`, `90m` → seconds; a ValueError names the accepted forms."""
    match = CADENCE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 36h, 1d or 90m")
    return float(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86_400}[match[2]]

"""The native submission format (API.md, "Ingest") → a validated Submission."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from harness.catalog import METRIC_NAME, Catalog, Metric, auto
from harness.catalog.definitions import same_definition
from harness.errors import InvalidInput, MetricConflict, Problem
from harness.formats.common import (
    capped,
    dropped_dimensions,
    in_metric_unit,
    known_metric,
    missing_dimensions,
    series_dimensions,
)
from harness.formats.fields import (
    BuildId,
    CiName,
    Label,
    Moment,
    TagValue,
    Text,
    WebUrl,
    check_document,
    problems_from,
)
from harness.model import Build, Measurement, Package, PullRequest, Submission
from harness.storage.blobs import blob_document
from harness.units import UnitProblem, converter, parse_unit

FiniteNumber = Annotated[float, Strict(), Field(allow_inf_nan=False)]
MAX_SAMPLES = 10_000  # repeated runs of one measurement


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PullRequestIn(_Model):
    number: Annotated[int, Strict(), Field(gt=0)]
    url: WebUrl | None = None
    base: TagValue | None = None


class PackageIn(_Model):
    name: Label
    commit: Label | None = None
    url: WebUrl | None = None
    version: Label | None = None


class BuildIn(_Model):
    ci: CiName
    id: BuildId
    branch: TagValue
    url: WebUrl | None = None
    time: Moment | None = None
    commit: Label | None = None
    pull_request: PullRequestIn | None = None
    packages: list[PackageIn] = Field(default=[], max_length=1000)


class ExtraIn(_Model):
    value: FiniteNumber | list[FiniteNumber] | Text
    unit: str = ""
    label: Text | None = None
    description: Text | None = None


class MeasurementIn(_Model):
    metric: Label
    value: FiniteNumber | None = None
    samples: list[FiniteNumber] | None = Field(default=None, min_length=1,
                                               max_length=MAX_SAMPLES)
    unit: str | None = None
    dimensions: dict[Label, TagValue] = Field(default={}, max_length=32)
    extras: dict[Label, ExtraIn] = Field(default={}, max_length=64)
    better: Literal["lower", "higher"] | None = None  # for a metric it registers (auto)


class MetricIn(_Model):
    name: Label
    unit: str = ""
    better: Literal["lower", "higher"]
    description: Text = ""
    dimensions: list[Label] | None = None


class SubmissionIn(_Model):
    build: BuildIn
    dimensions: dict[Label, TagValue] = Field(default={}, max_length=32)
    measurements: list[MeasurementIn] = Field(min_length=1)
    metrics: list[MetricIn] = Field(default=[], max_length=1000)


@dataclass(frozen=True)
class ParsedSubmission:
    """A valid submission, the inline metrics it defines for the first time, and notices of
    the keys it gave that were dropped (a dimension its metric does not declare)."""

    submission: Submission
    new_metrics: tuple[Metric, ...]
    ignored: tuple[Problem, ...] = ()


def parse_submission(
    body: Any, catalog: Catalog, *, received: datetime, max_measurements: int = 10_000,
    auto_metrics: Sequence[str] = (),
) -> ParsedSubmission:
    """Validate a native submission against the catalog; raises InvalidInput with paths.
    A measurement of a metric neither known nor defined inline registers it when its name
    matches one of the `auto_metrics` globs (harness.catalog.auto)."""
    if not isinstance(body, dict):
        raise InvalidInput([Problem("", "the body must be a JSON object")])
    measurements = body.get("measurements")
    if isinstance(measurements, list) and len(measurements) > max_measurements:
        raise InvalidInput([Problem(
            "measurements", f"at most {max_measurements} measurements, got {len(measurements)}")])
    check_document(body)
    try:
        parsed = SubmissionIn.model_validate(body)
    except ValidationError as error:
        raise InvalidInput(problems_from(error, body)) from None
    new_metrics = _inline_metrics(parsed.metrics, catalog)
    new_metrics += _auto_metrics(parsed, catalog.with_metrics(new_metrics), auto_metrics)
    catalog = catalog.with_metrics(new_metrics)
    problems: list[Problem] = []
    ignored: list[Problem] = []
    for key in parsed.dimensions:
        if key not in catalog.dimensions:
            problems.append(Problem(f"dimensions.{key}", _undeclared(key, catalog)))
    measurements = []
    blobs: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(parsed.measurements):
        measurement = _measurement(item, f"measurements[{index}]", parsed, catalog, problems,
                                   blobs)
        if measurement is not None:
            measurements.append(measurement)
        _check_dimensions(item, f"measurements[{index}]", parsed, catalog, problems, ignored)
    if problems:
        raise InvalidInput(problems)
    submission = Submission(
        id=uuid.uuid4().hex,
        build=_build(parsed.build),
        measurements=tuple(measurements),
        received=received,
        blobs=blobs,
    )
    return ParsedSubmission(submission, new_metrics, capped(ignored))


def _build(build: BuildIn) -> Build:
    time = build.time
    if time is not None and time.tzinfo is None:
        time = time.replace(tzinfo=UTC)
    pr = build.pull_request
    return Build(
        ci=build.ci, id=build.id, branch=build.branch, time=time, url=build.url,
        commit=build.commit,
        pull_request=PullRequest(pr.number, pr.url, pr.base) if pr else None,
        packages=tuple(Package(p.name, p.commit, p.url, p.version) for p in build.packages),
    )


def _measurement(
    item: MeasurementIn,
    path: str,
    parsed: SubmissionIn,
    catalog: Catalog,
    problems: list[Problem],
    blobs: dict[str, dict[str, Any]],
) -> Measurement | None:
    metric = known_metric(item.metric, path, catalog, problems, auto.HINT)
    if metric is None:
        return None
    value, samples = _values(item, metric, path, problems)
    for key in item.dimensions:
        if key not in metric.dimensions:
            declared = ", ".join(metric.dimensions) or "none"
            problems.append(Problem(f"{path}.dimensions.{key}",
                                    f"not a dimension of {metric.name} (declared: {declared})"))
    for key, extra in item.extras.items():
        try:
            parse_unit(extra.unit)
        except UnitProblem as error:
            problems.append(Problem(f"{path}.extras.{key}.unit", str(error)))
    if value is None:
        return None
    blob_ids: tuple[str, ...] = ()
    if item.extras:
        blob = blob_document("extras", {key: extra.model_dump(exclude_none=True)
                                        for key, extra in item.extras.items()})
        blobs[blob["id"]] = blob
        blob_ids = (blob["id"],)
    dimensions = series_dimensions(metric, parsed.dimensions, item.dimensions)
    return Measurement(metric.name, value, metric.unit, dimensions, blob_ids, samples)


def _values(item: MeasurementIn, metric: Metric, path: str, problems: list[Problem]
            ) -> tuple[float | None, tuple[float, ...]]:
    """The value and samples in the metric's unit; the value defaults to the samples' mean."""
    if item.value is None and item.samples is None:
        problems.append(Problem(f"{path}.value", "required: give a `value` or `samples`"))
        return None, ()
    raw = item.samples or []
    first = item.value if item.value is not None else raw[0]
    if in_metric_unit(first, item.unit, metric, path, problems) is None:
        return None, ()  # the unit's problem is said once
    convert = converter(item.unit, metric.unit) if item.unit is not None else float
    samples = tuple(convert(sample) for sample in raw)
    if any(not math.isfinite(sample) for sample in samples):
        problems.append(Problem(f"{path}.samples", "are not finite in the metric's unit"))
        return None, ()
    if item.value is not None:
        return in_metric_unit(item.value, item.unit, metric, path, problems), samples
    return math.fsum(samples) / len(samples), samples


def _inline_metrics(definitions: list[MetricIn], catalog: Catalog) -> tuple[Metric, ...]:
    """Inline definitions not yet known; a redefinition raises MetricConflict."""
    new = []
    problems = []
    for index, item in enumerate(definitions):
        path = f"metrics[{index}]"
        if not METRIC_NAME.match(item.name):
            problems.append(Problem(f"{path}.name", "must look like package.Metric"))
            continue
        try:
            parse_unit(item.unit)
        except UnitProblem as error:
            problems.append(Problem(f"{path}.unit", str(error)))
            continue
        dimensions = item.dimensions if item.dimensions is not None else list(catalog.dimensions)
        for position, key in enumerate(dimensions):
            if key not in catalog.dimensions:
                problems.append(
                    Problem(f"{path}.dimensions[{position}]", _undeclared(key, catalog)))
        metric = Metric(
            name=item.name, unit=item.unit, better=item.better, description=item.description,
            dimensions=tuple(dimensions), source="inline",
        )
        known = catalog.get(item.name)
        if known is None:
            new.append(metric)
        elif known.source == "catalog":
            # the catalog may give an adapter's metric specs, tags and detection settings:
            # a definition that agrees with it is the catalog's metric, used as it is
            disagreement = _disagreement(known, metric)
            if disagreement:
                raise MetricConflict(f"{path}.name", f"{item.name} is defined in the catalog "
                                                     f"and cannot be redefined: {disagreement}")
        elif not same_definition(known, metric):
            raise MetricConflict(f"{path}.name",
                                 f"{item.name} is already registered with another definition")
    if problems:
        raise InvalidInput(problems)
    return tuple(new)


def _auto_metrics(parsed: SubmissionIn, catalog: Catalog, globs: Sequence[str]
                  ) -> tuple[Metric, ...]:
    """The metrics that measurements register on first use: unknown, allowed by the globs,
    with a unit astropy knows (a bad unit is reported as the measurement's)."""
    found: dict[str, Metric] = {}
    problems = []
    for index, item in enumerate(parsed.measurements):
        if item.metric in found or catalog.get(item.metric) is not None:
            continue
        if not auto.allowed(item.metric, catalog, globs):
            continue
        try:
            parse_unit(item.unit or "")
        except UnitProblem as error:
            problems.append(Problem(f"measurements[{index}].unit", str(error)))
            continue
        keys = auto.declared({**parsed.dimensions, **item.dimensions}, catalog)
        found[item.metric] = auto.auto_metric(item.metric, item.unit or "", item.better, keys)
    if problems:
        raise InvalidInput(problems)
    return tuple(found.values())


def _check_dimensions(item: MeasurementIn, path: str, parsed: SubmissionIn, catalog: Catalog,
                      problems: list[Problem], ignored: list[Problem]) -> None:
    """A declared, not optional dimension that the measurement lacks is a problem (at
    `measurements[i].dimensions.<key>`, or at `measurements[i].dimensions` when it has
    none); one of the submission's `dimensions` that its metric does not declare is dropped,
    with a notice (the measurement's own undeclared keys are problems of `_measurement`)."""
    metric = catalog.get(item.metric)
    if metric is None:
        return
    own = "dimensions" in item.model_fields_set  # else the path ends at the missing object
    missing_dimensions(metric, {**parsed.dimensions, **item.dimensions}, problems,
                       lambda key: f"{path}.dimensions" + (f".{key}" if own else ""), _how)
    shared = {key: value for key, value in parsed.dimensions.items()
              if key not in item.dimensions}
    dropped_dimensions(metric, shared, ignored, lambda key: f"{path}.dimensions.{key}")


def _how(key: str) -> str:
    return (f"in the submission's or the measurement's `dimensions`; harness post: "
            f"--dimension {key}=…")


def _disagreement(catalog_metric: Metric, inline: Metric) -> str:
    """How an inline definition contradicts the catalog's metric of that name ("" if not):
    another better-direction, or a unit that does not convert to the catalog's."""
    if inline.better != catalog_metric.better:
        return f"better is {catalog_metric.better!r} there, {inline.better!r} here"
    try:
        converter(inline.unit, catalog_metric.unit)
    except UnitProblem:
        return f"its unit is {catalog_metric.unit or 'dimensionless'}, not {inline.unit!r}"
    return ""


def _undeclared(key: str, catalog: Catalog) -> str:
    return f"{key!r} is not a declared dimension (declared: {', '.join(catalog.dimensions)})"

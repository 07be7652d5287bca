"""Validated metric and spec documents → the catalog's metrics with their specs (shared by
catalog folders and JSON definitions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import ValidationError

from harness.catalog.documents import MetricDoc, SettingsDoc, SpecDoc, document_problems
from harness.catalog.inheritance import RawDoc
from harness.catalog.model import (
    LEVELS,
    SETTINGS_FILE,
    DetectionSettings,
    Metric,
    Spec,
    parse_cadence,
)
from harness.errors import Problem
from harness.units import UnitProblem, converter


def build_metrics(
    metric_docs: Mapping[str, tuple[str, MetricDoc]],
    spec_docs: list[RawDoc],
    settings: SettingsDoc,
    problems: list[Problem],
    detections: Mapping[str, DetectionSettings] | None = None,
) -> dict[str, Metric]:
    """Metrics named by `metric_docs` (name → (`file.key`, document)), each with the specs
    of `spec_docs` that measure it; what is wrong is added to problems, naming the place."""
    detections = detections or {}
    aliases = {
        alias: name for name, doc in settings.dimensions.items() for alias in [name, *doc.aliases]
    }
    specs_by_metric: dict[str, list[Spec]] = {}
    for raw in spec_docs:
        spec = _build_spec(raw, metric_docs, aliases, problems)
        if spec is not None:
            specs_by_metric.setdefault(spec.metric, []).append(spec)
    metrics = {}
    for name, (key, doc) in metric_docs.items():
        for index, dimension in enumerate(doc.dimensions):
            if dimension not in settings.dimensions:
                problems.append(Problem(f"{key}.dimensions[{index}]",
                                        f"{dimension!r} is not declared in {SETTINGS_FILE}"))
        for index, dimension in enumerate(doc.optional_dimensions):
            if dimension not in doc.dimensions:
                problems.append(Problem(f"{key}.optional_dimensions[{index}]",
                                        f"{dimension!r} is not one of the metric's dimensions"))
        for index, requirement in enumerate(doc.requirements):
            if settings.requirements and requirement not in settings.requirements:
                problems.append(Problem(f"{key}.requirements[{index}]",
                                        f"{requirement!r} is not declared in {SETTINGS_FILE}"))
        specs = tuple(specs_by_metric.get(name, ()))
        better = doc.better or _better_from_specs(specs)
        if better is None:
            problems.append(Problem(f"{key}.better", "required (lower or higher) without specs"))
            continue
        metrics[name] = Metric(
            name=name, unit=doc.unit, better=better, description=doc.description,
            dimensions=tuple(doc.dimensions), requirements=tuple(doc.requirements),
            optional_dimensions=tuple(dict.fromkeys(doc.optional_dimensions)),
            tags=tuple(doc.tags), reference=dict(doc.reference), specs=specs,
            cadence_s=parse_cadence(doc.cadence) if doc.cadence else None,
            detection=detections.get(name, DetectionSettings()),
        )
    return metrics


def _build_spec(
    raw: RawDoc,
    metric_docs: Mapping[str, tuple[str, MetricDoc]],
    aliases: Mapping[str, str],
    problems: list[Problem],
) -> Spec | None:
    """A spec document as a Spec in its metric's unit; None (with the problem) if invalid."""
    try:
        doc = SpecDoc.model_validate(raw.body)
    except ValidationError as error:
        problems.extend(document_problems(error, raw.where, raw.body))
        return None
    metric_name = doc.metric if "." in doc.metric else f"{raw.package}.{doc.metric}"
    if metric_name not in metric_docs:
        package, short = metric_name.rsplit(".", 1)
        already_reported = any(p.path.startswith(f"{package}.yaml.{short}") for p in problems)
        if not already_reported:
            problems.append(Problem(f"{raw.where}.metric", f"{doc.metric!r} is not a known metric"))
        return None
    levels = [tag for tag in doc.tags if tag in LEVELS]
    if len(levels) != 1:
        problems.append(Problem(f"{raw.where}.tags",
                                "must hold exactly one of minimum, design, stretch"))
        return None
    unit = metric_docs[metric_name][1].unit
    try:
        threshold_unit = unit if doc.threshold.unit is None else doc.threshold.unit
        threshold = converter(threshold_unit, unit)(doc.threshold.value)
    except UnitProblem as error:
        problems.append(Problem(f"{raw.where}.threshold.unit", str(error)))
        return None
    query: dict[str, frozenset[str]] = {}
    for key, wanted in doc.metadata_query.items():
        if key not in aliases:
            problems.append(Problem(f"{raw.where}.metadata_query.{key}",
                                    f"not a dimension declared in {SETTINGS_FILE}"))
            return None
        values = wanted if isinstance(wanted, list) else [wanted]
        query[aliases[key]] = frozenset(str(value) for value in values)
    return Spec(
        name=f"{metric_name}.{doc.name}", metric=metric_name, level=levels[0],
        operator=doc.threshold.operator, threshold=threshold, query=query, tags=tuple(doc.tags),
    )


def _better_from_specs(specs: Iterable[Spec]) -> Literal["lower", "higher"] | None:
    """The better-direction the first spec's operator implies, if any."""
    for spec in specs:
        if spec.operator in ("<", "<="):
            return "lower"
        if spec.operator in (">", ">="):
            return "higher"
    return None

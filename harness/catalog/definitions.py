"""Metric and spec definitions that arrive as JSON (lsst.verify Job `metrics` / `specs`),
validated exactly like catalog YAML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from harness.catalog.documents import (
    DimensionDoc,
    MetricDoc,
    RequirementDoc,
    SettingsDoc,
    document_problems,
)
from harness.catalog.inheritance import RawDoc
from harness.catalog.metrics import build_metrics
from harness.catalog.model import METRIC_NAME, Catalog, Metric, Spec
from harness.errors import InvalidInput, Problem


def metrics_from_json(
    metrics: Sequence[Any], specs: Sequence[Any], catalog: Catalog
) -> tuple[Metric, ...]:
    """Job-style definitions → metrics with specs; raises InvalidInput with paths."""
    problems: list[Problem] = []
    metric_docs: dict[str, tuple[str, MetricDoc]] = {}
    for index, body in enumerate(metrics):
        where = f"metrics[{index}]"
        if not isinstance(body, dict) or not METRIC_NAME.match(str(body.get("name", ""))):
            problems.append(Problem(f"{where}.name", "needs a name like package.Metric"))
            continue
        fields = {key: value for key, value in body.items() if key != "name"}
        fields.setdefault("dimensions", list(catalog.dimensions))
        try:
            metric_docs[body["name"]] = (where, MetricDoc.model_validate(fields))
        except ValidationError as error:
            problems.extend(document_problems(error, where, fields))
    raw_specs = []
    for index, body in enumerate(specs):
        where = f"specs[{index}]"
        name = str(body.get("name", "")) if isinstance(body, dict) else ""
        metric, _, short = name.rpartition(".")
        if not METRIC_NAME.match(metric) or not short:
            problems.append(Problem(f"{where}.name", "needs a name like package.Metric.spec"))
            continue
        if body.get("type", "threshold") != "threshold":
            problems.append(Problem(f"{where}.type", "only threshold specs are supported"))
            continue
        fields = {key: value for key, value in body.items() if key not in ("type", "name")}
        raw_specs.append(RawDoc(where, metric.split(".")[0],
                                  {**fields, "name": short, "metric": metric}))
    settings = SettingsDoc(
        default_branch=catalog.default_branch,
        dimensions={name: DimensionDoc(description=d.description, aliases=list(d.aliases))
                    for name, d in catalog.dimensions.items()},
        requirements={rid: RequirementDoc(title=r.title, document=r.document, url=r.url)
                      for rid, r in catalog.requirements.items()},
    )
    built = build_metrics(metric_docs, raw_specs, settings, problems)
    if problems:
        raise InvalidInput(problems, "invalid metric definitions")
    return tuple(Metric(**{**metric.__dict__, "source": "inline"}) for metric in built.values())


def spec_from_json(data: Mapping[str, Any], metric: str) -> Spec:
    """A spec as Spec.to_json wrote it."""
    return Spec(
        name=data["name"], metric=metric, level=data["level"], operator=data["operator"],
        threshold=float(data["threshold"]),
        query={key: frozenset(values) for key, values in data.get("metadata_query", {}).items()},
        tags=tuple(data.get("tags", ())),
    )


def metric_from_json(data: Mapping[str, Any]) -> Metric:
    """A metric registered inline, as `Metric.to_json(definition_only=True)` kept it."""
    return Metric(name=data["name"], unit=data["unit"], better=data["better"],
                  description=data.get("description", ""),
                  dimensions=tuple(data.get("dimensions", ())),
                  requirements=tuple(data.get("requirements", ())),
                  tags=tuple(data.get("tags", ())), reference=dict(data.get("reference", {})),
                  specs=tuple(spec_from_json(spec, data["name"])
                              for spec in data.get("specs", ())),
                  source="inline")


def same_definition(first: Metric, second: Metric) -> bool:
    """Whether two inline definitions agree on what matters for the series."""
    return (first.unit, first.better, first.dimensions) == (
        second.unit, second.better, second.dimensions)

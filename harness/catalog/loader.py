"""Loading a catalog folder: YAML documents, `base:` inheritance, validation naming file and
key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from harness.catalog.detection import parse_detection
from harness.catalog.documents import (
    MetricDoc,
    SettingsDoc,
    SpecDoc,
)
from harness.catalog.inheritance import RawDoc, index_by_name, resolve_metric, resolve_spec
from harness.catalog.model import (
    LEVELS,
    METRIC_NAME,
    Catalog,
    DetectionSettings,
    Dimension,
    Metric,
    Requirement,
    Spec,
    parse_cadence,
)
from harness.errors import CatalogError, Problem
from harness.units import UnitProblem, converter

SETTINGS_FILE = "_catalog.yaml"
_UNSET = object()  # a metric without a `detection:` key

def _problems(error: ValidationError, where: str, body: Any = None) -> list[Problem]:
    """Pydantic's errors as problems under `where`; with the validated body, only the parts
    of each location that are places in it (not pydantic's union-member tags)."""
    problems = []
    for item in error.errors():
        loc = item["loc"] if body is None else in_body(body, item["loc"],
                                                       missing=item["type"] == "missing")
        path = "".join(f"[{part}]" if isinstance(part, int) else '[""]' if part == ""
                       else f".{part}" for part in loc)  # like the API's: specs[0].tags[1]
        problems.append(Problem(f"{where}{path}", item["msg"]))
    return problems


def in_body(body: Any, loc: Sequence[int | str], missing: bool) -> tuple[int | str, ...]:
    """The parts of a pydantic error location that are places in the body: what pydantic
    adds of its own (a union member's tag like `bool` or `list[float]`, a `[key]`) is left
    out; a missing field's name is kept."""
    kept: list[int | str] = []
    node = body
    for position, part in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif not (missing and position == len(loc) - 1):
            continue  # not in the body: pydantic's own
        kept.append(part)
    return tuple(kept)


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> list[Any]:
    try:
        with path.open(encoding="utf-8") as stream:
            return [doc for doc in yaml.safe_load_all(stream) if doc is not None]
    except yaml.YAMLError as error:
        problems.append(Problem(str(path.relative_to(root)), f"not valid YAML: {error}"))
        return []


# --- loading ---------------------------------------------------------------------------


def load_catalog(directory: Path) -> Catalog:
    """Read and validate a catalog folder; raises CatalogError naming file and key."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CatalogError([Problem(str(directory), "is not a directory")])
    problems: list[Problem] = []
    settings = _load_settings(directory, problems)
    metric_docs, detections = _load_metric_docs(directory, problems)
    spec_docs = _load_spec_docs(directory, problems)
    metrics = _build_metrics(metric_docs, spec_docs, settings, problems, detections)
    if not metric_docs and not problems:
        problems.append(Problem(str(directory), "holds no metric files (<package>.yaml)"))
    if problems:
        raise CatalogError(problems)
    return Catalog(
        metrics=metrics,
        dimensions={
            name: Dimension(name, doc.description, tuple(doc.aliases))
            for name, doc in settings.dimensions.items()
        },
        requirements={
            rid: Requirement(rid, doc.title, doc.document, doc.url)
            for rid, doc in settings.requirements.items()
        },
        default_branch=settings.default_branch,
    )


def _load_settings(directory: Path, problems: list[Problem]) -> SettingsDoc:
    path = directory / SETTINGS_FILE
    if not path.exists():
        return SettingsDoc()
    docs = _read_yaml(path, directory, problems)
    try:
        return SettingsDoc.model_validate(docs[0] if docs else {})
    except ValidationError as error:
        problems.extend(_problems(error, SETTINGS_FILE))
        return SettingsDoc()


def _load_metric_docs(
    directory: Path, problems: list[Problem]
) -> tuple[dict[str, tuple[str, MetricDoc]], dict[str, DetectionSettings]]:
    """Metric name → (`file.key` it came from, document with its bases applied), and the
    detection settings of the metrics that have some."""
    raw = _read_metric_bodies(directory, problems)
    found: dict[str, tuple[str, MetricDoc]] = {}
    detections: dict[str, DetectionSettings] = {}
    for name, entry in raw.items():
        body = resolve_metric(entry, raw, problems)
        if body is None:
            continue
        detection = body.pop("detection", _UNSET)
        try:
            doc = MetricDoc.model_validate(body)
        except ValidationError as error:
            problems.extend(_problems(error, entry.where))
            continue
        found[name] = (entry.where, doc)
        if detection is not _UNSET:
            try:
                detections[name] = parse_detection(detection, doc.unit, f"{entry.where}.detection")
            except CatalogError as error:
                problems.extend(error.problems)
    return found, detections


def _read_metric_bodies(directory: Path, problems: list[Problem]) -> dict[str, RawDoc]:
    """Metric name → its document as written, in every package file."""
    found: dict[str, RawDoc] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        where = path.name
        package = path.stem
        docs = _read_yaml(path, directory, problems)
        if not docs:
            continue
        if len(docs) > 1 or not isinstance(docs[0], dict):
            problems.append(Problem(where, "must be one mapping of metric name to definition"))
            continue
        for key, body in docs[0].items():
            key = str(key)
            name = key if "." in key else f"{package}.{key}"
            if not METRIC_NAME.match(name) or not name.startswith(package + "."):
                problems.append(
                    Problem(f"{where}.{key}", f"not a metric name of package {package}"))
            elif not isinstance(body, dict | None):
                problems.append(Problem(f"{where}.{key}", "must be a mapping of the metric's keys"))
            elif name in found:
                problems.append(Problem(f"{where}.{key}", f"also defined in {found[name].where}"))
            else:
                found[name] = RawDoc(f"{where}.{key}", package, body or {})
    return found


def _load_spec_docs(directory: Path, problems: list[Problem]) -> list[RawDoc]:
    """Every spec document, with inheritance resolved, in file order."""
    partials: dict[tuple[str, str], RawDoc] = {}
    named: list[RawDoc] = []
    specs_dir = directory / "specs"
    for path in sorted(specs_dir.rglob("*.yaml")) if specs_dir.is_dir() else []:
        package = path.relative_to(specs_dir).parts[0]
        relative = str(path.relative_to(directory))
        for index, body in enumerate(_read_yaml(path, directory, problems)):
            where = f"{relative}[{index}]"
            if not isinstance(body, dict):
                problems.append(Problem(where, "a spec document must be a mapping"))
                continue
            raw = RawDoc(where, package, body)
            if "id" in body and "name" not in body:
                if (package, str(body["id"])) in partials:
                    other = partials[(package, str(body["id"]))].where
                    problems.append(Problem(f"{where}.id", f"also used by {other}"))
                partials[(package, str(body["id"]))] = raw
            elif "name" in body:
                named.append(raw)
            else:
                problems.append(Problem(where, "needs `name` (a spec) or `id` (a partial)"))
    by_name = index_by_name(named, partials)
    return [
        RawDoc(raw.where, raw.package, merged)
        for raw in named
        if (merged := resolve_spec(raw, partials, by_name, problems, ())) is not None
    ]


def _build_metrics(
    metric_docs: Mapping[str, tuple[str, MetricDoc]],
    spec_docs: list[RawDoc],
    settings: SettingsDoc,
    problems: list[Problem],
    detections: Mapping[str, DetectionSettings] | None = None,
) -> dict[str, Metric]:
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
    try:
        doc = SpecDoc.model_validate(raw.body)
    except ValidationError as error:
        problems.extend(_problems(error, raw.where))
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
    for spec in specs:
        if spec.operator in ("<", "<="):
            return "lower"
        if spec.operator in (">", ">="):
            return "higher"
    return None

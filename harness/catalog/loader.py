"""Loading a catalog folder: YAML documents, spec inheritance, validation naming file and key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from harness.catalog.documents import (
    MetricDoc,
    SettingsDoc,
    SpecDoc,
)
from harness.catalog.model import (
    LEVELS,
    METRIC_NAME,
    Catalog,
    Dimension,
    Metric,
    Requirement,
    Spec,
    parse_cadence,
)
from harness.errors import CatalogError, Problem
from harness.units import UnitProblem, converter

SETTINGS_FILE = "_catalog.yaml"

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
    metric_docs = _load_metric_docs(directory, problems)
    spec_docs = _load_spec_docs(directory, problems)
    metrics = _build_metrics(metric_docs, spec_docs, settings, problems)
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
) -> dict[str, tuple[str, MetricDoc]]:
    """Metric name → (`file.key` it came from, document)."""
    found: dict[str, tuple[str, MetricDoc]] = {}
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
                continue
            try:
                doc = MetricDoc.model_validate(body if body is not None else {})
            except ValidationError as error:
                problems.extend(_problems(error, f"{where}.{key}"))
                continue
            if name in found:
                problems.append(Problem(f"{where}.{key}", f"also defined in {found[name][0]}"))
                continue
            found[name] = (f"{where}.{key}", doc)
    return found


@dataclass(frozen=True)
class _RawSpec:
    where: str
    package: str
    body: dict[str, Any]


def _load_spec_docs(directory: Path, problems: list[Problem]) -> list[_RawSpec]:
    """Every spec document, with inheritance resolved, in file order."""
    partials: dict[tuple[str, str], _RawSpec] = {}
    named: list[_RawSpec] = []
    specs_dir = directory / "specs"
    for path in sorted(specs_dir.rglob("*.yaml")) if specs_dir.is_dir() else []:
        package = path.relative_to(specs_dir).parts[0]
        relative = str(path.relative_to(directory))
        for index, body in enumerate(_read_yaml(path, directory, problems)):
            where = f"{relative}[{index}]"
            if not isinstance(body, dict):
                problems.append(Problem(where, "a spec document must be a mapping"))
                continue
            raw = _RawSpec(where, package, body)
            if "id" in body and "name" not in body:
                if (package, str(body["id"])) in partials:
                    other = partials[(package, str(body["id"]))].where
                    problems.append(Problem(f"{where}.id", f"also used by {other}"))
                partials[(package, str(body["id"]))] = raw
            elif "name" in body:
                named.append(raw)
            else:
                problems.append(Problem(where, "needs `name` (a spec) or `id` (a partial)"))
    by_name = _index_by_name(named, partials)
    return [
        _RawSpec(raw.where, raw.package, merged)
        for raw in named
        if (merged := _resolve(raw, partials, by_name, problems, ())) is not None
    ]


def _index_by_name(
    named: list[_RawSpec], partials: Mapping[tuple[str, str], _RawSpec]
) -> dict[str, _RawSpec]:
    """Qualified spec name → document; a spec's metric may come from its bases."""
    index: dict[str, _RawSpec] = {}
    pending = list(named)
    while pending:
        unresolved = []
        for raw in pending:
            metric = _metric_of(raw, partials, index, depth=0)
            if metric is None:
                unresolved.append(raw)
            else:
                qualified = metric if "." in metric else f"{raw.package}.{metric}"
                index[f"{qualified}.{raw.body['name']}"] = raw
        if len(unresolved) == len(pending):
            break
        pending = unresolved
    return index


def _metric_of(
    raw: _RawSpec, partials: Mapping[tuple[str, str], _RawSpec],
    index: Mapping[str, _RawSpec], depth: int,
) -> str | None:
    if "metric" in raw.body:
        return str(raw.body["metric"])
    bases = raw.body.get("base", [])
    for reference in reversed([bases] if isinstance(bases, str) else list(bases)):
        reference = str(reference)
        if reference.startswith("#"):
            base = partials.get((raw.package, reference[1:]))
        else:
            base = index.get(reference) or index.get(f"{raw.package}.{reference}")
        if base is not None and depth < 20:
            found = _metric_of(base, partials, index, depth + 1)
            if found is not None:
                return found
    return None


def _resolve(
    raw: _RawSpec,
    partials: Mapping[tuple[str, str], _RawSpec],
    by_name: Mapping[str, _RawSpec],
    problems: list[Problem],
    seen: tuple[str, ...],
) -> dict[str, Any] | None:
    """The document merged over its bases, in order."""
    bases = raw.body.get("base", [])
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(bases, list):
        problems.append(Problem(f"{raw.where}.base", "must be a reference or a list of them"))
        return None
    merged: dict[str, Any] = {}
    for reference in bases:
        reference = str(reference)
        if reference.startswith("#"):
            base = partials.get((raw.package, reference[1:]))
        else:
            base = by_name.get(reference) or by_name.get(f"{raw.package}.{reference}")
        if base is None:
            problems.append(
                Problem(f"{raw.where}.base", f"{reference!r} names no spec or partial"))
            return None
        if base.where in seen:
            problems.append(Problem(f"{raw.where}.base", f"{reference!r} inherits from itself"))
            return None
        resolved = _resolve(base, partials, by_name, problems, (*seen, raw.where))
        if resolved is None:
            return None
        merged = _merge(merged, resolved)
    own = {key: value for key, value in raw.body.items() if key not in ("base", "id")}
    own_tags = own.get("tags")
    if isinstance(own_tags, list) and set(own_tags) & set(LEVELS) and "tags" in merged:
        # a spec's own level replaces the one it inherits instead of adding a second
        merged["tags"] = [tag for tag in merged["tags"] if tag not in LEVELS]
    return _merge(merged, own)


def _merge(lower: Mapping[str, Any], upper: Mapping[str, Any]) -> dict[str, Any]:
    """Later documents override scalars, append lists and merge dicts."""
    result = dict(lower)
    for key, value in upper.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = [*result[key], *(item for item in value if item not in result[key])]
        else:
            result[key] = value
    return result


def _build_metrics(
    metric_docs: Mapping[str, tuple[str, MetricDoc]],
    spec_docs: list[_RawSpec],
    settings: SettingsDoc,
    problems: list[Problem],
) -> dict[str, Metric]:
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
        )
    return metrics


def _build_spec(
    raw: _RawSpec,
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

"""Loading a catalog folder: YAML documents, `base:` inheritance, validation naming file and
key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harness.catalog.detection import parse_detection
from harness.catalog.documents import MetricDoc, SettingsDoc, document_problems
from harness.catalog.inheritance import RawDoc, index_by_name, resolve_metric, resolve_spec
from harness.catalog.metrics import build_metrics
from harness.catalog.model import (
    METRIC_NAME,
    ROUTES_FILE,
    SETTINGS_FILE,
    Catalog,
    DetectionSettings,
    Dimension,
    Pattern,
    Requirement,
)
from harness.errors import CatalogError, Problem

_UNSET = object()  # a metric without a `detection:` key
GLOB = re.compile(r"[A-Za-z0-9_.*?\[\]!-]+")  # a name glob of `registered:`


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> list[Any]:
    """The YAML documents of a file; nothing (with the problem) if it is not valid YAML."""
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
    metrics = build_metrics(metric_docs, spec_docs, settings, problems, detections)
    patterns = _patterns(settings, problems)
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
        patterns=patterns,
    )


def _patterns(settings: SettingsDoc, problems: list[Problem]) -> tuple[Pattern, ...]:
    """The `registered:` globs of the settings file as patterns, in the file's order."""
    patterns = []
    for glob, doc in settings.registered.items():
        where = f"{SETTINGS_FILE}.registered.{glob}"
        if not GLOB.fullmatch(glob):
            problems.append(Problem(where, "must be a metric name glob, e.g. go_test.*"))
            continue
        detection = None
        if doc.detection is not None:
            try:
                detection = parse_detection(doc.detection, "", f"{where}.detection")
            except CatalogError as error:
                problems.extend(error.problems)
                continue
        patterns.append(Pattern(glob, tuple(doc.tags), detection, tuple(
            (spec.level, spec.operator, spec.threshold) for spec in doc.specs)))
    return tuple(patterns)


def _load_settings(directory: Path, problems: list[Problem]) -> SettingsDoc:
    path = directory / SETTINGS_FILE
    if not path.exists():
        return SettingsDoc()
    docs = _read_yaml(path, directory, problems)
    try:
        return SettingsDoc.model_validate(docs[0] if docs else {})
    except ValidationError as error:
        problems.extend(document_problems(error, SETTINGS_FILE))
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
            problems.extend(document_problems(error, entry.where, body))
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
        if path.name.startswith("_") or path.name == ROUTES_FILE:
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

"""`harness replay`: a recorded series through the production detection, one line per alert."""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from harness.catalog import DetectionSettings, Metric, Spec, parse_detection
from harness.errors import HarnessError
from harness.links import METRICS
from harness.settings import Settings
from harness.times import parse_utc

# The detection (numpy) loads when the command runs: the CLI imports this module to declare
# `harness replay`, and its other commands must not load numpy (tests/integration/test_post.py).
if TYPE_CHECKING:
    from harness.detection.params import Better, DetectionParams

DEFAULT_BRANCH = "main"
COLUMNS = ("build_id", "time", "value")
EXIT_OK, EXIT_USAGE = 0, 2


class ReplayInputError(Exception):
    """A file that cannot be read as a series; the message names the file and line."""


@dataclass(frozen=True)
class SeriesPoint:
    """One build's value of the replayed series."""

    build_id: str
    value: float
    branch: str = DEFAULT_BRANCH
    time: str = ""
    samples: int = 0  # repeated runs behind the value, when the file says
    spread: float = 0.0  # their standard deviation


def replay_series(
    points: Iterable[SeriesPoint], better: Better = "lower", specs: Sequence[Spec] = (),
    *, metric: str = "value", unit: str = "", default_branch: str = DEFAULT_BRANCH,
    params: DetectionParams | None = None, summary: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """The alerts the worker would raise on these points (in build-time order), one dict per
    alert, from the worker's own rules (judge_series, series_findings); builds of other
    branches are pull requests: compared with the default branch, never alerted. When
    `summary` is given, it is filled with the number of builds judged."""
    from harness.detection.excursions import judge_series
    from harness.detection.params import DEFAULT_PARAMS
    from harness.detection.rules import (
        BuildRef,
        excursion_alert,
        series_findings,
        shortfalls,
        spec_alert,
    )
    from harness.detection.verdicts import applicable_specs, verdict

    params = params or DEFAULT_PARAMS
    main = [point for point in points if point.branch == default_branch]
    definition = Metric(name=metric, unit=unit, better=better, specs=tuple(specs))
    judged = [verdict(point.value, specs, {}) for point in main]
    excursions = judge_series([point.value for point in main], better, params)
    findings = series_findings([e.decision for e in excursions], [e.started for e in excursions],
                               shortfalls([level for level, _ in judged],
                                          applicable_specs(specs, {})), 0)
    if summary is not None:
        summary["builds"] = len(main)
    for finding in sorted(findings, key=lambda found: (found.end, found.kind != "spec")):
        point = main[finding.end]
        noticed = BuildRef("replay", point.build_id, point.time)
        excursion = excursions[finding.end]
        fields = {"time": point.time, "branch": point.branch, "value": point.value,
                  "baseline": excursion.baseline, "change": excursion.change,
                  "relative_change": excursion.relative_change, "noise": excursion.noise,
                  "score": excursion.score}
        if point.samples:
            fields["samples"] = {"count": point.samples, "spread": point.spread}
        if finding.kind == "spec":
            level, spec = judged[finding.end]
            alert = spec_alert(definition, {}, default_branch, point.value, level, spec,
                               noticed)
            yield {"build_id": point.build_id, "kind": "spec", "reason": alert.reason,
                   **fields, "started_build": point.build_id, "verdict": level,
                   "spec": alert.spec, "threshold": alert.threshold}
            continue
        onset = main[finding.onset]
        alert = excursion_alert(finding.kind, definition, {}, default_branch, point.value,
                                excursion, noticed,
                                BuildRef("replay", onset.build_id, onset.time))
        yield {"build_id": point.build_id, "kind": finding.kind, "reason": alert.reason,
               **fields, "started_build": onset.build_id}


def load_points(path: Path) -> list[SeriesPoint]:
    """The points of a CSV or JSON-lines file, in build-time order (stable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ReplayInputError(f"{path}: cannot read ({error})") from error
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        raise ReplayInputError(f"{path}: empty file")
    if first.startswith("{"):
        document = _series_document(path, text)
        rows = _json_rows(path, text) if document is None else document
    else:
        rows = _csv_rows(path, text)
    points = []
    for line, row in rows:
        point = _point(f"{path}:{line}", row)
        if point is not None:
            points.append((_instant(f"{path}:{line}", row.get("time")), point))
    if not points:
        raise ReplayInputError(f"{path}: no values")
    points.sort(key=lambda item: item[0])
    return [point for _, point in points]


def _series_document(path: Path, text: str) -> list[tuple[int, dict[str, Any]]] | None:
    """The rows of what GET /api/v1/metrics/<metric>/series answers (one series), or None
    when the text is not such a document."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("series"), list):
        return None
    found = document["series"]
    if len(found) != 1:
        raise ReplayInputError(
            f"{path}: holds {len(found)} series; ask the API for one (add each dimension "
            "to the query, e.g. ?dataset=hsc_rc2&filter=r)")
    branch = str(document.get("branch") or DEFAULT_BRANCH)
    rows = []
    for number, point in enumerate(found[0].get("points") or (), start=1):
        build = point.get("build") or {} if isinstance(point, dict) else {}
        if not isinstance(point, dict) or not isinstance(build, dict):
            raise ReplayInputError(f"{path}: series[0].points[{number - 1}]: not a point")
        samples = point.get("samples") or {}
        rows.append((number, {"build_id": build.get("id"), "time": point.get("time"),
                              "value": point.get("value"), "branch": branch,
                              "samples": samples.get("count"),
                              "spread": samples.get("spread")}))
    return rows


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise ReplayInputError(f"{path}:1: the header must be build_id,time,value[,branch] "
                               f"(missing {', '.join(missing)})")
    return [(reader.line_num, dict(row)) for row in reader]


def _json_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ReplayInputError(f"{path}:{number}: not JSON ({error.msg})") from error
        if not isinstance(row, dict):
            raise ReplayInputError(f"{path}:{number}: must be a JSON object")
        rows.append((number, row))
    return rows


def _point(where: str, row: dict[str, Any]) -> SeriesPoint | None:
    """A row as a point; None for a build without a value (null or empty)."""
    for column in COLUMNS:
        if column not in row:
            raise ReplayInputError(f"{where}: {column}: missing")
    build_id, raw = row["build_id"], row["value"]
    if build_id in (None, ""):
        raise ReplayInputError(f"{where}: build_id: must not be empty")
    if raw is None or raw == "":
        return None
    try:
        value = float(raw) if not isinstance(raw, bool) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ReplayInputError(f"{where}: value: must be a finite number, not {raw!r}")
    branch = row.get("branch") or DEFAULT_BRANCH
    try:
        samples = int(row.get("samples") or 0)
        spread = float(row.get("spread") or 0.0)
    except (TypeError, ValueError):
        raise ReplayInputError(f"{where}: samples, spread: must be numbers") from None
    return SeriesPoint(str(build_id), value, str(branch), str(row["time"]), samples, spread)


def _instant(where: str, raw: Any) -> float:
    """A time as seconds since the epoch: ISO 8601 (UTC unless stated) or a number."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    text = str(raw or "").strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_utc(text).timestamp()
    except ValueError as error:
        raise ReplayInputError(f"{where}: time: not ISO 8601 or a number: {raw!r}") from error


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments and set `run`."""
    parser.add_argument("file", type=Path, metavar="FILE",
                        help="CSV (build_id,time,value[,branch]), JSON lines with those keys, "
                             "or what GET /api/v1/metrics/<metric>/series answers (JSON)")
    parser.add_argument("--metric", metavar="NAME",
                        help="catalog metric whose better-direction, specs and detection "
                             "settings apply (default: lower is better, no specs)")
    parser.add_argument("--url", default=None,
                        help="with --metric: read the metric from this harness's API "
                             "(default: $HARNESS_URL; without either, the local catalog "
                             "folder $HARNESS_METRICS_DIR, which needs the server install)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="settings", type=_setting,
                        help="a detection setting to try instead of the catalog's, e.g. "
                             "threshold=4 or min_effect=2%% (repeatable)")
    parser.set_defaults(run=run)


def _metric_from_catalog(name: str) -> tuple[Metric, str]:
    """A metric of the local catalog folder, and the catalog's default branch."""
    try:
        from harness.catalog import load_catalog
    except ImportError as error:  # the light client has no YAML / pydantic
        raise ReplayInputError(f"--metric: reading the catalog folder needs the server "
                               f"install ({error}); or give --url of a harness") from None
    catalog = load_catalog(Settings.from_env().metrics_dir)
    metric = catalog.get(name)
    if metric is None:
        raise ReplayInputError(f"--metric: unknown metric {name!r}")
    return metric, catalog.default_branch


def _metric_from_api(url: str, name: str) -> tuple[Metric, str]:
    """A metric as a harness's API shows it (better, unit, specs, detection settings), and
    the catalog's default branch."""
    base = url.rstrip("/") + METRICS
    try:
        answer = requests.get(f"{base}/{quote(name, safe='')}", timeout=30)
        if answer.status_code == 404:
            raise ReplayInputError(f"--metric: unknown metric {name!r} at {url}")
        answer.raise_for_status()
        data = answer.json()
        catalog = requests.get(base, timeout=30)
        catalog.raise_for_status()
        default_branch = str(catalog.json().get("default_branch") or DEFAULT_BRANCH)
    except (requests.RequestException, ValueError) as error:
        raise ReplayInputError(f"--metric: {url} did not answer the metric: {error}") from None
    specs = tuple(
        Spec(name=spec["name"], metric=data["name"], level=spec["level"],
             operator=spec["operator"], threshold=float(spec["threshold"]),
             query={key: frozenset(values)
                    for key, values in (spec.get("metadata_query") or {}).items()},
             tags=tuple(spec.get("tags") or ()))
        for spec in data.get("specs") or ())
    detection = data.get("detection") or {}
    overrides = {key: tuple(value) if isinstance(value, list) else value
                 for key, value in (detection.get("overrides") or {}).items()}
    metric = Metric(name=data["name"], unit=data.get("unit") or "", better=data["better"],
                    specs=specs, detection=DetectionSettings(
                        enabled=bool(detection.get("enabled", True)), overrides=overrides))
    return metric, default_branch


def _setting(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not (key.strip() and equals and value.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE, e.g. threshold=4")
    return key.strip(), value.strip()


def run(args: argparse.Namespace) -> int:
    """Replay the file, print the alerts as JSON lines, then one summary line; returns the
    exit code."""
    try:
        points = load_points(args.file)
    except ReplayInputError as error:
        print(f"harness replay: {error}", file=sys.stderr)
        return EXIT_USAGE
    better: Better = "lower"
    specs: Sequence[Spec] = ()
    options: dict[str, Any] = {}
    unit = ""
    detection = DetectionSettings()
    if args.metric:
        url = args.url or os.environ.get("HARNESS_URL")
        try:
            metric, default_branch = (_metric_from_api(url, args.metric) if url
                                      else _metric_from_catalog(args.metric))
        except (HarnessError, ReplayInputError) as error:
            print(f"harness replay: {error}", file=sys.stderr)
            return EXIT_USAGE
        better, specs, unit, detection = metric.better, metric.specs, metric.unit, \
            metric.detection
        options = {"metric": metric.name, "unit": metric.unit, "default_branch": default_branch}
    try:
        tried = parse_detection(dict(args.settings), unit, "--set") if args.settings \
            else DetectionSettings()
    except HarnessError as error:
        print(f"harness replay: {error}", file=sys.stderr)
        return EXIT_USAGE
    overrides = {**detection.overrides, **tried.overrides}
    params = DetectionSettings(overrides=overrides).params()
    counts: dict[str, int] = {}
    summary: dict[str, Any] = {}
    for alert in replay_series(points, better, specs, params=params, summary=summary,
                               **options):
        counts[alert["kind"]] = counts.get(alert["kind"], 0) + 1
        print(json.dumps(alert, ensure_ascii=False))
    print(json.dumps({"summary": {
        "alerts": counts, "builds_judged": summary.get("builds", 0),
        "other_branch_builds": len(points) - summary.get("builds", 0),
        "settings": {key: list(value) if isinstance(value, tuple) else value
                     for key, value in overrides.items()}}}, ensure_ascii=False))
    return EXIT_OK

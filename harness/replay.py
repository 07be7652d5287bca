"""`harness replay`: a recorded series through the production detection, one line per alert."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy and the catalog (pydantic, astropy) load when the command runs
    from harness.catalog import Spec
    from harness.regress import Better, DetectionParams, Excursion

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


def replay_series(
    points: Iterable[SeriesPoint], better: Better = "lower", specs: Sequence[Spec] = (),
    *, metric: str = "value", unit: str = "", default_branch: str = DEFAULT_BRANCH,
    params: DetectionParams | None = None,
) -> Iterator[dict[str, Any]]:
    """Judge each point as the worker would, in order; yield one dict per alert."""
    from harness.regress import DEFAULT_PARAMS, judge_point

    params = params or DEFAULT_PARAMS
    if specs:  # the worker's spec rule, with nobody triaging: an alert stays open
        from harness.alert_rules import SPEC_MEMORY, VERDICT_RANK
        from harness.verify import verdict
    values: list[float] = []  # the default branch's history
    builds: list[str] = []
    ranks: list[int] = []  # verdict ranks of the default branch's builds
    open_rank = 0  # the worst spec alert raised so far
    for point in points:
        excursion = judge_point(values, point.value, better, params)
        base = _fields(point, excursion, builds)
        if excursion.decision in ("regression", "improvement"):
            yield {"build_id": point.build_id, "kind": excursion.decision,
                   "reason": _excursion_reason(point, excursion, base, metric, unit,
                                               default_branch), **base}
        if point.branch != default_branch:
            continue
        if specs:
            level, spec = verdict(point.value, specs, {})
            rank = VERDICT_RANK[level]
            if spec is not None and rank >= 2 and rank > max([open_rank, *ranks[-SPEC_MEMORY:]]):
                open_rank = rank
                yield {"build_id": point.build_id, "kind": "spec",
                       "reason": _spec_reason(point, level, spec, metric, unit),
                       **base, "verdict": level, "spec": spec.name,
                       "threshold": spec.threshold}
            ranks.append(rank)
        values.append(point.value)
        builds.append(point.build_id)


def _fields(point: SeriesPoint, excursion: Excursion, builds: Sequence[str]) -> dict[str, Any]:
    """What every alert line carries besides its kind and reason."""
    started = excursion.started
    started_build = builds[-started] if 0 < started <= len(builds) else point.build_id
    return {"time": point.time, "branch": point.branch, "value": point.value,
            "baseline": excursion.baseline, "change": excursion.change,
            "relative_change": excursion.relative_change, "noise": excursion.noise,
            "score": excursion.score, "started_build": started_build}


def _excursion_reason(point: SeriesPoint, excursion: Excursion, base: dict[str, Any],
                      metric: str, unit: str, default_branch: str) -> str:
    """A sentence: what moved, by how much, against which baseline, since when."""
    suffix = f" {unit}" if unit else ""
    relative = excursion.relative_change
    share = f" ({relative:+.1%})" if relative is not None else ""
    moved = "rose" if excursion.change >= 0 else "fell"
    worse = "worse" if excursion.decision == "regression" else "better"
    since = (f"build {base['started_build']}, {excursion.started} build(s) earlier"
             if excursion.started else "this build")
    return (f"{metric} {moved} by {abs(excursion.change):.4g}{suffix}{share} to "
            f"{point.value:.4g}{suffix}, {worse} than its baseline {excursion.baseline:.4g}"
            f"{suffix} (robust centre of the previous builds on {default_branch}, noise σ "
            f"{excursion.noise:.3g}{suffix}); the shift began at {since} "
            f"(z = {abs(excursion.score):.1f})")


def _spec_reason(point: SeriesPoint, level: str, spec: Spec, metric: str, unit: str) -> str:
    """A sentence naming the spec that is missed."""
    suffix = f" {unit}" if unit else ""
    target = f"{spec.operator} {spec.threshold:.4g}{suffix}"
    if level == "fail":
        return (f"{metric} = {point.value:.4g}{suffix} fails the minimum spec "
                f"({target}, {spec.name})")
    return (f"{metric} = {point.value:.4g}{suffix} meets only the minimum spec "
            f"({target}, {spec.name}), not design")


def load_points(path: Path) -> list[SeriesPoint]:
    """The points of a CSV or JSON-lines file, in build-time order (stable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ReplayInputError(f"{path}: cannot read ({error})") from error
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        raise ReplayInputError(f"{path}: empty file")
    rows = _json_rows(path, text) if first.startswith("{") else _csv_rows(path, text)
    points = []
    for line, row in rows:
        point = _point(f"{path}:{line}", row)
        if point is not None:
            points.append((_instant(f"{path}:{line}", row.get("time")), point))
    if not points:
        raise ReplayInputError(f"{path}: no values")
    points.sort(key=lambda item: item[0])
    return [point for _, point in points]


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
    return SeriesPoint(str(build_id), value, str(branch), str(row["time"]))


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
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ReplayInputError(f"{where}: time: not ISO 8601 or a number: {raw!r}") from error
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments and set `run`."""
    parser.add_argument("file", type=Path, metavar="FILE",
                        help="CSV (build_id,time,value[,branch]) or JSON lines with those keys")
    parser.add_argument("--metric", metavar="NAME",
                        help="catalog metric whose better-direction and specs apply "
                             "(default: lower is better, no specs)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Replay the file and print the alerts as JSON lines; returns the exit code."""
    try:
        points = load_points(args.file)
    except ReplayInputError as error:
        print(f"harness replay: {error}", file=sys.stderr)
        return EXIT_USAGE
    better: Better = "lower"
    specs: Sequence[Spec] = ()
    options: dict[str, Any] = {}
    if args.metric:
        from harness.catalog import load_catalog
        from harness.errors import HarnessError
        from harness.settings import Settings

        try:
            catalog = load_catalog(Settings.from_env().metrics_dir)
        except HarnessError as error:
            print(f"harness replay: {error}", file=sys.stderr)
            return EXIT_USAGE
        metric = catalog.get(args.metric)
        if metric is None:
            print(f"harness replay: --metric: unknown metric {args.metric!r}", file=sys.stderr)
            return EXIT_USAGE
        better, specs = metric.better, metric.specs
        options = {"metric": metric.name, "unit": metric.unit,
                   "default_branch": catalog.default_branch}
    for alert in replay_series(points, better, specs, **options):
        print(json.dumps(alert, ensure_ascii=False))
    return EXIT_OK

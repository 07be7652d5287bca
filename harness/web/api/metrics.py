"""GET /metrics (the catalog) and GET /metrics/<metric>/series (the stored points)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from harness.errors import InvalidInput, NotFound, Problem
from harness.links import api_build_url
from harness.model import StoredResult
from harness.times import parse_utc, point_time
from harness.web.context import context

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def index() -> ResponseReturnValue:
    """Every metric with unit, description, better-direction, requirements, specs and
    detection settings."""
    catalog = context().full_catalog()
    return {
        "metrics": [metric.to_json() for metric in catalog.metrics.values()],
        "dimensions": {name: {"description": d.description, "aliases": list(d.aliases)}
                       for name, d in catalog.dimensions.items()},
        "default_branch": catalog.default_branch,
    }


@bp.get("/metrics/<metric_name>")
def show(metric_name: str) -> ResponseReturnValue:
    """One metric of the catalog."""
    metric = context().full_catalog().get(metric_name)
    if metric is None:
        raise NotFound(f"unknown metric {metric_name!r}")
    return metric.to_json()


@bp.get("/metrics/<metric_name>/series")
def series(metric_name: str) -> ResponseReturnValue:
    """The points of each series of a metric matching the query's dimensions and branch."""
    ctx = context()
    catalog = ctx.full_catalog()
    metric = catalog.get(metric_name)
    if metric is None:
        raise NotFound(f"unknown metric {metric_name!r}")
    problems = []
    dimensions = {}
    for key, value in request.args.items():
        if key in ("branch", "since", "format"):
            continue
        if key not in metric.dimensions:
            declared = ", ".join(metric.dimensions) or "none"
            problems.append(Problem(key, f"not a dimension of {metric.name} "
                                         f"(declared: {declared}; also: branch, since)"))
        dimensions[key] = value
    since = None
    if "since" in request.args:
        try:
            since = parse_utc(request.args["since"])
        except ValueError:
            problems.append(Problem("since", "must be an ISO 8601 date or time"))
    answer = request.args.get("format", "json")
    if answer not in ("json", "csv"):
        problems.append(Problem("format", "must be json or csv"))
    if problems:
        raise InvalidInput(problems, "bad query")
    branch = request.args.get("branch", catalog.default_branch)
    found = ctx.store.series(metric.name, dimensions, branch, since)
    if answer == "csv":
        return _csv(found, metric.name, metric.dimensions, branch)
    return {
        "metric": metric.name, "unit": metric.unit, "better": metric.better,
        "branch": branch,
        "series": [_series_json(item, metric.dimensions) for item in found],
    }


def _csv(found: list[list[StoredResult]], metric: str, declared: tuple[str, ...], branch: str
         ) -> ResponseReturnValue:
    """One series as the CSV that `harness replay` reads (build_id,time,value,branch, then
    the build's CI and the samples' count and spread)."""
    if len(found) > 1:
        named = ", ".join(declared) or "none"
        raise InvalidInput([Problem("format", f"csv holds one series; this query matches "
                                              f"{len(found)} of {metric} (give each of its "
                                              f"dimensions: {named})")], "bad query")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["build_id", "time", "value", "branch", "ci", "samples", "spread"])
    for point in (found[0] if found else ()):
        writer.writerow([point.build_id, point_time(point.time),
                         "" if point.value is None else repr(float(point.value)), branch,
                         point.ci, point.sample_count or "",
                         "" if point.sample_spread is None else point.sample_spread])
    return Response(text.getvalue(), mimetype="text/csv")


def _series_json(points: list[StoredResult], declared: tuple[str, ...]) -> dict[str, Any]:
    dimensions = points[0].dimensions if points else {}
    return {
        "dimensions": {k: v for k, v in dimensions.items() if k in declared},
        "points": [_point_json(point) for point in points],
    }


def _point_json(point: StoredResult) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "time": point_time(point.time), "value": point.value, "verdict": point.verdict,
        "spec": point.spec,
        "build": {"ci": point.ci, "id": point.build_id, "url": point.build_url,
                  "commit": point.commit, "link": api_build_url(point.ci, point.build_id)},
        "submission": point.submission,
    }
    if point.sample_count is not None:
        shown["samples"] = {"count": point.sample_count, "spread": point.sample_spread}
    if point.decision:
        shown["excursion"] = {"decision": point.decision, "baseline": point.baseline,
                              "change": point.change, "score": point.score}
    if point.pull_request is not None:
        shown["pull_request"] = asdict(point.pull_request)
    return shown

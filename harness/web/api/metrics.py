"""GET /metrics (the catalog) and GET /metrics/<metric>/series (the stored points)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from harness.errors import InvalidInput, NotFound, Problem
from harness.links import api_build_url
from harness.storage.influx import Series
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


def _csv(found: list[Series], metric: str, declared: tuple[str, ...], branch: str
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
    for row in (found[0].rows if found else ()):
        writer.writerow([row.get("build_id"), point_time(row["time"]),
                         "" if row.get("value") is None else repr(float(row["value"])), branch,
                         row.get("ci"), row.get("sample_count") or "",
                         "" if row.get("sample_spread") is None else row["sample_spread"]])
    return Response(text.getvalue(), mimetype="text/csv")


def _series_json(item: Series, declared: tuple[str, ...]) -> dict[str, Any]:
    return {
        "dimensions": {k: v for k, v in item.tags.items() if k in declared and v},
        "points": [_point_json(row) for row in item.rows],
    }


def _point_json(row: Mapping[str, Any]) -> dict[str, Any]:
    point: dict[str, Any] = {
        "time": point_time(row["time"]), "value": row.get("value"), "verdict": row.get("verdict"),
        "spec": row.get("spec") or None,
        "build": {"ci": row.get("ci"), "id": row.get("build_id"), "url": row.get("build_url"),
                  "commit": row.get("commit"),
                  "link": api_build_url(str(row.get("ci")), str(row.get("build_id")))},
        "submission": row.get("submission"),
    }
    if row.get("sample_count") is not None:
        point["samples"] = {"count": row["sample_count"], "spread": row.get("sample_spread")}
    if row.get("decision"):
        point["excursion"] = {key: row.get(key)
                              for key in ("decision", "baseline", "change", "score")}
    if row.get("pr_number") is not None:
        point["pull_request"] = {"number": row["pr_number"], "url": row.get("pr_url"),
                                 "base": row.get("pr_base")}
    return point

"""GET /builds/<ci>/<id>: a build, its PR and packages, its results, what changed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue

from harness.api.context import context
from harness.changes import package_changes
from harness.errors import NotFound
from harness.store import dimensions_of, point_time

bp = Blueprint("builds", __name__)


@bp.get("/builds/<ci>/<path:build_id>")
def show(ci: str, build_id: str) -> ResponseReturnValue:
    """One build with all its results and its changes against the previous build."""
    store = context().store
    record = store.build_record(ci, build_id)
    if record is None:
        raise NotFound(f"no build {ci}/{build_id}")
    results = [
        {"metric": series.tags.get("metric"), "dimensions": dimensions_of(series.tags),
         "value": row.get("value"), "unit": row.get("unit"), "verdict": row.get("verdict"),
         "spec": row.get("spec") or None}
        for series in store.build_results(record) for row in series.rows
    ]
    previous = store.previous_build(record)
    return {
        "build": build_json(record),
        "results": sorted(results, key=lambda r: (r["metric"], sorted(r["dimensions"].items()))),
        "previous": build_json(previous) if previous else None,
        "changes": package_changes(json.loads(previous["packages"]) if previous else [],
                                   json.loads(record["packages"])),
    }


def build_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored build record as the API shows it."""
    build: dict[str, Any] = {
        "ci": record["ci"], "id": record["build_id"], "branch": record["branch"],
        "time": point_time(record["time"]), "url": record.get("build_url"),
        "commit": record.get("commit"), "packages": json.loads(record["packages"]),
        "links": {"self": f"/api/v1/builds/{record['ci']}/{record['build_id']}"},
    }
    if record.get("pr_number") is not None:
        build["pull_request"] = {"number": record["pr_number"], "url": record.get("pr_url"),
                                 "base": record.get("pr_base")}
    return build

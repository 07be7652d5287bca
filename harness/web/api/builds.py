"""GET /builds/<ci>/<id>: a build, its PR and packages, its results, what changed."""

from __future__ import annotations

import json

from flask import Blueprint
from flask.typing import ResponseReturnValue

from harness.changes import package_changes
from harness.errors import NotFound
from harness.model import build_json
from harness.storage.influx import dimensions_of
from harness.web.context import context

bp = Blueprint("builds", __name__)


@bp.get("/builds/<ci>/<path:build_id>")
def show(ci: str, build_id: str) -> ResponseReturnValue:
    """One build with all its results and its changes against the previous build."""
    ctx = context()
    store = ctx.store
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
        "expired": ctx.retention().expired_json(record, bool(results)),
        "previous": build_json(previous) if previous else None,
        "changes": package_changes(json.loads(previous["packages"]) if previous else [],
                                   json.loads(record["packages"])),
    }

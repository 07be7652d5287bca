"""GET /builds/<ci>/<id>: a build, its PR and packages, its results, what changed."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from harness.changes import package_changes
from harness.errors import NotFound
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
    results = store.build_results(record)
    previous = store.previous_build(record)
    return {
        "build": record.to_json(),
        "results": [result.to_json() for result in results],
        "expired": ctx.retention().expired_json(record, bool(results)),
        "previous": previous.to_json() if previous else None,
        "changes": package_changes(previous.build.packages_json() if previous else [],
                                   record.build.packages_json()),
    }

"""GET /blobs/<id>: a measurement's detail data."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from harness.errors import NotFound
from harness.web.context import context

bp = Blueprint("blobs", __name__)


@bp.get("/blobs/<blob_id>")
def show(blob_id: str) -> ResponseReturnValue:
    """One blob: its name, producer identifier and `{key: {value, unit, label, description}}`."""
    blob = context().blobs.get(blob_id)
    if blob is None:
        raise NotFound(f"no blob {blob_id!r}")
    return blob

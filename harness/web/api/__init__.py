"""The HTTP API: one blueprint per resource (its errors are mapped in harness.web.errors)."""

from __future__ import annotations

from flask import Blueprint, Flask

from harness.web.api import (
    alerts,
    blobs,
    builds,
    health,
    metrics,
    openapi,
    reports,
    squash,
    submissions,
    summaries,
)


def register_api(app: Flask) -> None:
    """Attach every API blueprint to the app."""
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.register_blueprint(submissions.bp)
    api.register_blueprint(metrics.bp)
    api.register_blueprint(builds.bp)
    api.register_blueprint(blobs.bp)
    api.register_blueprint(alerts.bp)
    api.register_blueprint(summaries.bp)
    api.register_blueprint(reports.bp)
    api.register_blueprint(openapi.bp)
    app.register_blueprint(api)
    app.register_blueprint(health.bp)
    app.register_blueprint(squash.bp)

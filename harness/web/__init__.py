"""The web app: create_app() joins the ingest API (api/) and the dashboards."""

from __future__ import annotations

from flask import Flask

from dashboards import register_dashboards
from harness.settings import Settings
from harness.web import errors
from harness.web.api import register_api
from harness.web.context import WebContext


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask app for these settings (default: from the environment)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.url_map.merge_slashes = False  # a build id may hold "//": /builds/<ci>/<path:id>
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["harness"] = WebContext.create(settings)
    register_api(app)
    errors.register(app)
    register_dashboards(app)
    return app

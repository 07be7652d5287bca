"""The metric harness: create_app() builds the web app (ingest API + dashboards)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from harness.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask app for these settings (default: from the environment)."""
    from flask import Flask

    from dashboards import register_dashboards
    from harness.api import register_api
    from harness.api.context import WebContext
    from harness.settings import Settings

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.url_map.merge_slashes = False  # a build id may hold "//": /builds/<ci>/<path:id>
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["harness"] = WebContext.create(settings)
    register_api(app)
    register_dashboards(app)
    return app

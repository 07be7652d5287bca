"""Dashboard pages under /dash: Bokeh figures built server-side, BokehJS served locally."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from dashboards.page import BOKEH_STATIC
from harness.errors import HarnessError, ServiceUnavailable

log = logging.getLogger(__name__)


def register_dashboards(app: Flask) -> None:
    """Attach the dashboard pages and the BokehJS files to the app."""
    # Imported here, not above: the pages use harness.web.context, and harness.web (whose
    # create_app calls this) imports this package; at the top, `import dashboards` fails.
    from dashboards import alert_pages, reports, views

    dash = Blueprint("dash", __name__, url_prefix="/dash", template_folder="templates",
                     static_folder="assets", static_url_path="/assets")
    dash.register_blueprint(views.bp)
    dash.register_blueprint(alert_pages.bp)
    dash.register_blueprint(reports.bp)
    dash.add_url_rule("/static/<path:filename>", "bokehjs", _bokehjs)
    dash.register_error_handler(HarnessError, _error_page)
    app.register_blueprint(dash)


def _bokehjs(filename: str) -> ResponseReturnValue:
    """A file of the installed BokehJS (versioned URLs: cached for a day)."""
    return send_from_directory(BOKEH_STATIC, filename, max_age=86_400)


def _error_page(error: HarnessError) -> ResponseReturnValue:
    headers = {}
    if isinstance(error, ServiceUnavailable):
        status, message = 503, f"{error.summary or error}. This page works again once it is back."
        headers["Retry-After"] = str(error.retry_after)
        log.warning("page answered 503: %s", error)
    elif error.status < 500:
        status, message = error.status, str(error)
    else:
        status, message = 500, "internal error"
        log.error("page failed: %s", error)
    page = render_template("error.html", crumbs=[("Overview", "/dash/"), ("Error", None)],
                           status=status, message=message, bokeh_scripts=[])
    return page, status, headers

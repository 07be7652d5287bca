"""Dashboard pages under /dash: Bokeh figures built server-side, BokehJS served locally."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from dashboards.page import BOKEH_STATIC
from harness.errors import HarnessError


def register_dashboards(app: Flask) -> None:
    """Attach the dashboard pages and the BokehJS files to the app."""
    from dashboards import reports, views

    dash = Blueprint("dash", __name__, url_prefix="/dash", template_folder="templates",
                     static_folder="assets", static_url_path="/assets")
    dash.register_blueprint(views.bp)
    dash.register_blueprint(reports.bp)
    dash.add_url_rule("/static/<path:filename>", "bokehjs", _bokehjs)
    dash.register_error_handler(HarnessError, _error_page)
    app.register_blueprint(dash)


def _bokehjs(filename: str) -> ResponseReturnValue:
    """A file of the installed BokehJS (versioned URLs: cached for a day)."""
    return send_from_directory(BOKEH_STATIC, filename, max_age=86_400)


def _error_page(error: HarnessError) -> ResponseReturnValue:
    status = error.status if error.status < 500 else 500
    message = str(error) if status < 500 else "internal error"
    return render_template("error.html", crumbs=[("Overview", "/dash/"), ("Error", None)],
                           status=status, message=message, bokeh_scripts=[]), status

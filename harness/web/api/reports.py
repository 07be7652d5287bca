"""GET /report/<ci>/<id> and GET /report?branch=…|build=…: verification reports, as JSON
(schema harness.report/1) or Markdown (`?format=md`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from harness.errors import InvalidInput, Problem
from harness.links import release_report_url, report_url
from harness.report.collect import build_report_of
from harness.report.markdown import render_markdown
from harness.report.model import Report
from harness.report.selection import Selection, parse_selection
from harness.web.context import context

bp = Blueprint("reports", __name__)
FORMATS = ("json", "md")


@bp.get("/report/<ci>/<path:build_id>")
def of_build(ci: str, build_id: str) -> ResponseReturnValue:
    """The verification report of one build."""
    answer = _format()
    ctx = context()
    report = build_report_of(ctx.store, ctx.catalog, ci, build_id, ctx.retention(),
                             alerts=ctx.alert_log())
    html = report_url(ci, build_id)
    return _answer(report, answer, {"self": request.full_path.rstrip("?"), "html": html})


@bp.get("/report")
def of_release() -> ResponseReturnValue:
    """The report of a named set of builds, or of the latest build of each dataset."""
    answer = _format()
    selection = parse_selection(request.args)
    ctx = context()
    report = selection.report(ctx.store, ctx.catalog, ctx.retention(), ctx.alert_log())
    return _answer(report, answer,
                   {"self": request.full_path.rstrip("?"), "html": _html(selection)})


def _html(selection: Selection) -> str:
    return release_report_url(selection.branch, selection.builds, selection.name,
                              selection.until, selection.since)


def _format() -> str:
    answer = request.args.get("format", "json")
    if answer not in FORMATS:
        raise InvalidInput([Problem("format", f"must be one of {', '.join(FORMATS)}")],
                           "bad query")
    return answer


def _answer(report: Report, answer: str, links: dict[str, str]) -> ResponseReturnValue:
    base = context().settings.public_url
    if answer == "md":
        return Response(render_markdown(report, base), mimetype="text/markdown")
    body: dict[str, Any] = report.to_json()
    body["links"] = {key: base + value for key, value in links.items()}
    return body

"""The verification report pages: /dash/report/<ci>/<id> and /dash/report?branch=|build=,
printable, with the JSON and Markdown of the same report one click away."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from dashboards.page import Crumbs, embed, page
from dashboards.summary import RequirementBar, requirements_figure
from harness.links import REPORT, api_report_url, build_url, metric_url
from harness.report.collect import build_report_of
from harness.report.markdown import percent, quantity, step_text
from harness.report.model import LEVEL_RULE, STATUS_LABELS, STATUSES, Report, RequirementReport
from harness.report.selection import parse_selection
from harness.web.context import context

bp = Blueprint("dash_reports", __name__)


@bp.get("/report/<ci>/<path:build_id>")
def of_build(ci: str, build_id: str) -> ResponseReturnValue:
    """The report of one build."""
    ctx = context()
    report = build_report_of(ctx.store, ctx.catalog, ci, build_id, ctx.retention(),
                             alerts=ctx.alert_log())
    return _page(report, api_report_url(ci, build_id), [("Overview", "/dash/"),
                               (f"{ci} / {build_id}", build_url(ci, build_id)),
                               ("Verification report", None)])


@bp.get("/report")
def of_release() -> ResponseReturnValue:
    """The report of a named set of builds, or of the latest build of each dataset."""
    selection = parse_selection(request.args)
    ctx = context()
    report = selection.report(ctx.store, ctx.catalog, ctx.retention(), ctx.alert_log())
    query = request.query_string.decode()
    return _page(report, REPORT + (f"?{query}" if query else ""),
                 [("Overview", "/dash/"), ("Verification report", None)])


def _page(report: Report, api: str, crumbs: Crumbs) -> str:
    sections = [_section(item) for item in report.requirements]
    bars = [RequirementBar(s["id"], s["label"], s["verdicts"], f"#req-{s['anchor']}")
            for s in sections]
    plot = requirements_figure(bars, "Cells of each requirement by verdict (click: its cells)")
    summary = report.summary
    joiner = "&" if "?" in api else "?"
    return page(
        "report.html", crumbs, report=report, sections=sections, plot=embed(plot),
        statuses=[(s, STATUS_LABELS[s], summary.counts[s], percent(summary.fraction(
            summary.counts[s]))) for s in STATUSES],
        at_least=[(level, count, percent(summary.fraction(count)))
                  for level, count in summary.at_least.items()],
        changes=report.changes, labels=STATUS_LABELS, level_rule=LEVEL_RULE,
        anchors={s["id"]: s["anchor"] for s in sections},
        json_url=api, markdown_url=f"{api}{joiner}format=md",
        build_link=lambda b: build_url(b["ci"], b["id"]))


def _section(item: RequirementReport) -> dict[str, Any]:
    """One requirement, with its cells ready to show."""
    cells = []
    worst = item.worst
    for cell in item.cells:
        cells.append({
            "metric": cell.metric, "dimensions": cell.dimensions,
            "value": quantity(cell.value, cell.unit), "verdict": cell.verdict,
            "headroom": step_text(cell.met, cell.unit, "above"),
            "next": step_text(cell.next, cell.unit, "short"),
            "previous": None if cell.previous is None else {
                "value": quantity(cell.previous.value, cell.previous.unit),
                "verdict": cell.previous.verdict},
            "link": metric_url(cell.metric, cell.dimensions, cell.build.branch),
            "build": cell.build, "build_link": build_url(cell.build.ci, cell.build.id),
            "worst": cell is worst,
        })
    requirement = item.requirement
    return {
        "id": requirement.id, "anchor": "".join(c if c.isalnum() else "-" for c in requirement.id),
        "title": requirement.title, "document": requirement.document, "url": requirement.url,
        "status": item.status, "label": STATUS_LABELS[item.status],
        "previous": STATUS_LABELS[item.previous_status] if item.previous_status else None,
        "metrics": item.metrics, "cells": cells,
        "worst": next((c for c in cells if c["worst"]), None),
        "verdicts": Counter(cell.verdict for cell in item.cells),
        "open_causes": [cause.to_json() for cause in item.open_causes],
    }

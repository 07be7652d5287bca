"""Verification reports: requirements traced to metric cells, statuses, fractions, changes;
as JSON (schema harness.report/1), Markdown and the dashboard's HTML."""

from harness.report.collect import build_report_of, builds_report, release_report
from harness.report.markdown import render_markdown
from harness.report.model import SCHEMA, STATUS_LABELS, STATUSES, Report

__all__ = [
    "SCHEMA", "STATUSES", "STATUS_LABELS", "Report", "build_report_of", "builds_report",
    "release_report", "render_markdown",
]

"""The report as Markdown, for pull requests and release notes: a summary a reader can
check by hand, what changed, one line per requirement, then every cell behind it. Every
string from a submission or the catalog goes through harness.markdown (escaped, links
only to http(s))."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.catalog import LEVELS
from harness.links import build_url, metric_url, summary_url
from harness.markdown import code, escape, link
from harness.report.model import (
    LEVEL_RULE,
    STATUS_LABELS,
    STATUSES,
    Cell,
    OpenCause,
    Report,
    Step,
)

OPERATORS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "=", "!=": "≠"}


def render_markdown(report: Report, base_url: str) -> str:
    """The whole report; links are absolute on base_url (the harness's public URL)."""
    base = base_url.rstrip("/")
    lines = [f"# {escape(report.title)}", "", *_builds(report, base), "", "## Summary", ""]
    lines += _summary(report)
    lines += ["", "## Changes since the previous report", "", *_changes(report)]
    lines += ["", "## Requirements", "",
              "| requirement | title | status | worst cell | metrics |",
              "|---|---|---|---|---|"]
    for item in report.requirements:
        requirement = item.requirement
        worst = item.worst
        lines.append(
            f"| {link(requirement.id, requirement.url)} | {escape(requirement.title)} | "
            f"{STATUS_LABELS[item.status]} | {_describe(worst) if worst else '–'} | "
            f"{', '.join(code(m) for m in item.metrics) or '–'} |")
    lines += ["", "## Open alerts", "", *_open_causes(report, base)]
    lines += ["", "## Cells", ""]
    for item in report.requirements:
        if not item.cells:
            continue
        lines += [f"### {escape(item.requirement.id)}: {STATUS_LABELS[item.status]}", "",
                  f"<details><summary>{len(item.cells)} cells</summary>", "",
                  "| metric | dimensions | value | verdict | headroom | to the next level "
                  "| previous |",
                  "|---|---|---:|---|---|---|---|"]
        for cell in item.cells:
            url = base + metric_url(cell.metric, cell.dimensions, cell.build.branch)
            lines.append(
                f"| {link(cell.metric, url, as_code=True)} | {_dimensions(cell.dimensions)} | "
                f"{escape(quantity(cell.value, cell.unit))} | {escape(cell.verdict)} | "
                f"{escape(step_text(cell.met, cell.unit, 'above'))} | "
                f"{escape(step_text(cell.next, cell.unit, 'short'))} | "
                f"{_previous(cell)} |")
        lines += ["", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def _open_causes(report: Report, base: str) -> list[str]:
    """Each requirement's open alert summaries, a line each."""
    lines = []
    for item in report.requirements:
        for cause in item.open_causes:
            counts = ", ".join(f"{code(metric)} × {count}" for metric, count in
                               cause.counts.items())
            url = base + summary_url(cause.id)
            lines.append(
                f"- {escape(item.requirement.id)}: {link(_cause_title(cause), url)}"
                f" ({escape(cause.severity)}) since build {escape(cause.build['ci'])} "
                f"{escape(cause.build['id'])} on {code(cause.branch)}: {counts}")
    return lines or ["No alert summary is open on these metrics."]


def _cause_title(cause: OpenCause) -> str:
    """A cause as a few words: its kind, and its direction where the kind does not say."""
    if cause.kind in ("regression", "improvement"):
        return cause.kind
    return f"{cause.kind} ({cause.direction})"


def _builds(report: Report, base: str) -> list[str]:
    lines = []
    for build in report.builds:
        lines.append(f"- {_build_link(build, base)} on {code(build['branch'])}, "
                     f"{escape(build['time'])}{_commit(build)}; datasets: "
                     f"{', '.join(map(escape, build.get('datasets', []))) or '–'}"
                     f"{_expired(build)}")
    if report.previous_builds:
        previous = ", ".join(f"{_build_link(build, base)} on {code(build['branch'])}"
                             for build in report.previous_builds)
        lines.append(f"- compared with the previous report: {previous}")
    return lines or ["- no builds"]


def _build_link(build: Mapping[str, Any], base: str) -> str:
    return link(f"{build['ci']}/{build['id']}", base + build_url(build['ci'], build['id']))


def _expired(build: Mapping[str, Any]) -> str:
    # the harness's own words (harness.storage.retention), not a submission's
    return f" — {build['expired']['message']}" if build.get("expired") else ""


def _commit(build: Mapping[str, Any]) -> str:
    return f", commit {code(build['commit'])}" if build.get("commit") else ""


def _summary(report: Report) -> list[str]:
    summary = report.summary
    lines = [f"{summary.total} requirements. {LEVEL_RULE}", "",
             "| status | requirements | fraction |", "|---|---:|---:|"]
    for status in STATUSES:
        count = summary.counts[status]
        lines.append(f"| {STATUS_LABELS[status]} | {count} | {percent(summary.fraction(count))} |")
    lines += [f"| **total** | **{summary.total}** | **100.0 %** |", ""]
    at_least = summary.at_least
    lines.append("Verified at least at: " + "; ".join(
        f"{level} {at_least[level]} of {summary.total} "
        f"({percent(summary.fraction(at_least[level]))})" for level in LEVELS) + ".")
    return lines


def _changes(report: Report) -> list[str]:
    if report.previous_builds is None:
        return ["No earlier results on this branch to compare with."]
    changes = report.changes
    if not changes:
        return ["No requirement changed status."]
    titles = {"newly_failing": "Newly failing", "newly_passing": "Newly passing",
              "worse": "Worse", "better": "Better", "measurement": "Measured / not measured"}
    lines = []
    for kind, title in titles.items():
        items = [c for c in changes if c.kind == kind]
        if items:
            lines.append(f"- **{title}**: " + ", ".join(
                f"{escape(c.requirement)} "
                f"({STATUS_LABELS[c.before]} → {STATUS_LABELS[c.after]})"
                for c in items))
    return lines


def _describe(cell: Cell) -> str:
    where = f" ({_dimensions(cell.dimensions)})" if cell.dimensions else ""
    return f"{code(cell.metric)}{where} = {escape(quantity(cell.value, cell.unit))}, " \
        f"{escape(cell.verdict)}"


def _dimensions(dimensions: Mapping[str, str]) -> str:
    return ", ".join(f"{escape(key)}={escape(value)}"
                     for key, value in sorted(dimensions.items())) or "–"


def step_text(step: Step | None, unit: str, side: str) -> str:
    """A threshold relative to a value: `side` is above (headroom) or short (to reach)."""
    if step is None:
        return "–"
    limit = f"{step.level} {OPERATORS.get(step.operator, step.operator)} " \
            f"{quantity(step.threshold, unit)}"
    distance = quantity(abs(step.distance), unit)
    if side == "above":
        return f"{distance} ({percent(abs(step.fraction))}) inside {limit}"
    return f"{distance} ({percent(abs(step.fraction))}) short of {limit}"


def _previous(cell: Cell) -> str:
    previous = cell.previous
    if previous is None:
        return "–"
    return escape(f"{quantity(previous.value, previous.unit)}, {previous.verdict}")


def quantity(value: float | None, unit: str) -> str:
    """A value with its unit, to 4 significant digits."""
    if value is None:
        return "–"
    return f"{value:.4g} {unit}".strip()


def percent(fraction: float) -> str:
    """A fraction as a percentage with one decimal."""
    return f"{100 * fraction:.1f} %"

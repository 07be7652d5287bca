"""The summary `harness post --wait` prints for processed submissions (Markdown: per build
a line, a table of results, alerts, with links), and the `--fail-on` gates judged on it.
Every string from the build or the harness's answer is escaped (harness.markdown): the
summary goes to $GITHUB_STEP_SUMMARY. Standard library only, like the rest of the CI
client."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeGuard

from harness import links
from harness.markdown import code, escape, link

GATES = ("design", "minimum", "regression")
GATE_VERDICTS = {"design": frozenset({"minimum", "fail"}), "minimum": frozenset({"fail"})}
NONE = "\u2013"  # an en dash: no value, no change


def gate_line(gates: Sequence[str], failures: Sequence[tuple[str, str]]) -> str:
    """The summary's last line: whether the gate passed, and why."""
    named = ",".join(gates)
    if not failures:
        return (f"**Gate passed** (`--fail-on {named}`): no verdict below the gated specs and "
                "no regression.")
    counts = {gate: sum(1 for failed, _ in failures if failed == gate) for gate in gates}
    why = "; ".join(f"{count} {gate if gate == 'regression' else 'below ' + gate}"
                    + ("s" if gate == "regression" and count > 1 else "")
                    for gate, count in counts.items() if count)
    return f"**Gate failed** (`--fail-on {named}`): {why}; first: {escape(failures[0][1])}."


def summary_markdown(statuses: Sequence[Mapping[str, Any]], base_url: str = "") -> str:
    """The processed submissions as Markdown: per build a line, a table of results, alerts;
    links to the build's page and to each series' history."""
    root = base_url.rstrip("/")
    lines = ["### Metric harness", ""]
    for status in statuses:
        build = status.get("build") or {}
        lines += [_build_line(build, status, root), ""]
        lines += ["| metric | dimensions | value | verdict | change vs baseline |",
                  "|---|---|---|---|---|"]
        pull_request = build.get("pull_request")
        branch = str((pull_request or {}).get("base") or build.get("branch") or "main") \
            if isinstance(pull_request, dict | None) else str(build.get("branch") or "main")
        for result in status.get("results") or ():
            unit = str(result.get("unit") or "")
            dimensions = result.get("dimensions") if isinstance(result.get("dimensions"),
                                                                dict) else {}
            name = str(result.get("metric"))
            series = link(name, root and root + links.metric_url(name, dimensions, branch))
            cells = (series, escape(_dimensions(result.get("dimensions"))),
                     escape(_value(result, unit)), escape(result.get("verdict") or NONE),
                     _change_cell(result.get("excursion"), unit))
            lines.append(f"| {' | '.join(cells)} |")
        alerts = [alert for alert in status.get("alerts") or () if isinstance(alert, dict)]
        if alerts:
            lines += ["", "Alerts:", ""]
            lines += [f"- **{escape(alert.get('kind', 'alert'))}** "
                      f"{escape(alert.get('metric', ''))}: "
                      f"{escape(alert.get('reason') or alert.get('message') or '')}".rstrip(": ")
                      for alert in alerts]
        lines.append("")
    return "\n".join(lines)


def gate_failures(statuses: Sequence[Mapping[str, Any]], gate: str) -> list[str]:
    """What fails one --fail-on gate, one line each; empty when the gate passes."""
    failures = []
    for status in statuses:
        for result in status.get("results") or ():
            what = f"{result.get('metric')} {_dimensions(result.get('dimensions'))}"
            verdict = result.get("verdict")
            if verdict in GATE_VERDICTS.get(gate, ()):
                failures.append(f"{what}: verdict {verdict}")
            excursion = result.get("excursion")
            if (gate == "regression" and isinstance(excursion, dict)
                    and excursion.get("decision") == "regression"):
                unit = str(result.get("unit") or "")
                failures.append(f"{what}: regression ({_change(excursion, unit)})")
        if gate == "regression":
            failures += [f"alert: {alert.get('metric', '')} {alert.get('reason', '')}".strip()
                         for alert in status.get("alerts") or ()
                         if isinstance(alert, dict) and alert.get("kind") == "regression"]
    return failures


def _build_line(build: Mapping[str, Any], status: Mapping[str, Any], root: str = "") -> str:
    name = f"{build.get('ci', '?')} {build.get('id', '?')}"
    line = f"**{link(name, build.get('url'))}**"
    if build.get("branch"):
        line += f" on {code(build['branch'])}"
    pull_request = build.get("pull_request")
    if isinstance(pull_request, dict) and pull_request.get("number"):
        line += f", PR {link('#' + str(pull_request['number']), pull_request.get('url'))}"
        if pull_request.get("base"):
            line += f" against {code(pull_request['base'])}"
    line += f": {escape(status.get('state'))}"
    if status.get("error"):
        line += f" ({escape(status['error'])})"
    if root and build.get("ci") and build.get("id"):
        url = root + links.build_url(str(build["ci"]), str(build["id"]))
        line += f" · {link('build page', url)}"
    return line


def _change_cell(excursion: Any, unit: str) -> str:
    """The change as a table cell: escaped, a regression or improvement in bold."""
    text = escape(_change(excursion, unit))
    if isinstance(excursion, dict) and excursion.get("decision") in ("regression",
                                                                     "improvement"):
        text += f" **{excursion['decision']}**"
    return text


def _change(excursion: Any, unit: str) -> str:
    """The change against the baseline that an excursion object tells (by how much, against
    what, how sure), rounded to a tenth of the series' noise; a dash without one."""
    if not isinstance(excursion, dict):
        return NONE
    decision = excursion.get("decision")
    if decision in ("insufficient", "insufficient_history"):
        needed = excursion.get("needed")
        more = f": {needed} more build(s) needed" if _is_number(needed) and needed else ""
        return f"{NONE} (too little history{more})"
    shown = _rounding(excursion.get("noise"))
    parts = []
    if _is_number(change := excursion.get("change")):
        parts.append(f"{'+' if change >= 0 else ''}{shown(change)} {unit}".strip())
    if _is_number(relative := excursion.get("relative_change")):
        parts.append(f"({relative:+.1%})")
    if _is_number(baseline := excursion.get("baseline")):
        against = "base " if excursion.get("test") == "base" else ""
        parts.append(f"vs {against}{shown(baseline)} {unit}".strip())
    if _is_number(score := excursion.get("score")) and _is_number(
            threshold := excursion.get("threshold")):
        if parts:
            parts[-1] += ","
        parts.append(f"z = {score:+.1f} (threshold {threshold:g})")
    return " ".join(parts) or json.dumps(excursion, sort_keys=True)


def _rounding(noise: Any) -> Callable[[float], str]:
    """How to show numbers of a series: to a tenth of its noise σ, else as they are."""
    if not _is_number(noise) or noise <= 0:
        return lambda number: f"{number:g}"
    digits = max(0, min(6, 1 - math.floor(math.log10(noise))))
    return lambda number: f"{number:.{digits}f}"


def _value(result: Mapping[str, Any], unit: str) -> str:
    """The value, with the number of samples and their spread when it has samples."""
    if result.get("value") is None:
        return "no value"
    text = f"{_number(result.get('value'))} {unit}".strip()
    samples = result.get("samples")
    if isinstance(samples, dict) and _is_number(samples.get("count")):
        text += f" (n = {samples['count']}, sd {_number(samples.get('spread'))})"
    return text


def _dimensions(dimensions: Any) -> str:
    if not isinstance(dimensions, dict) or not dimensions:
        return NONE
    return ", ".join(f"{key}={value}" for key, value in sorted(dimensions.items()))


def _number(value: Any) -> str:
    return f"{value:g}" if _is_number(value) else str(value)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)

"""What `harness post --check --comment` says on a pull request: the comment (a GitHub PR
comment or a GitLab MR note) and the check run's title, summary and conclusion, rendered from
the processed submissions, the --fail-on gates and the requirements whose status changed;
and when a comment is worth posting (`--comment-on`). Pure functions; standard library only.

Every string a CI job or a harness user chose (metric, dimension, build id, branch,
requirement) goes through harness.markdown (escape, code, link): GitHub and GitLab render
a comment's Markdown and HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness import links
from harness.client.gate import NONE, summary_markdown
from harness.markdown import code, escape, link

MARKER = "<!-- metric-harness -->"  # the first line of our comment: how later runs find it
COMMENT_ON = ("change", "failure", "always")
COMMENT_LIMIT = 65536  # characters of a GitHub issue comment (GitLab allows more)
SUMMARY_LIMIT = 65535  # characters of a check run's output.summary
DECISIONS = ("regression", "improvement")
MAX_ROWS = 25  # of each list above the fold; the rest is in the folded summary


@dataclass(frozen=True)
class RequirementChange:
    """A requirement whose verification status differs from the previous report's."""

    requirement: str
    before: str
    after: str
    kind: str  # newly_failing, newly_passing, better, worse, measurement


@dataclass(frozen=True)
class Finding:
    """A result whose excursion test decided: a regression or an improvement."""

    metric: str
    dimensions: Mapping[str, str]
    value: Any
    unit: str
    decision: str
    excursion: Mapping[str, Any]
    branch: str  # the branch of the series it was compared with (a PR's: its base)


@dataclass(frozen=True)
class Outcome:
    """A processed run: the statuses, the gates asked for and what failed them, the
    requirements whose status changed, and the harness URL that links point to."""

    statuses: Sequence[Mapping[str, Any]]
    gates: Sequence[str]
    failures: Sequence[tuple[str, str]]
    changes: Sequence[RequirementChange] = ()
    harness_url: str = ""

    @property
    def results(self) -> list[Mapping[str, Any]]:
        """Every result of every status."""
        return [result for status in self.statuses for result in status.get("results") or ()
                if isinstance(result, dict)]

    @property
    def findings(self) -> list[Finding]:
        """The regressions, then the improvements."""
        found = [finding for status in self.statuses for finding in _findings(status)]
        return sorted(found, key=lambda finding: DECISIONS.index(finding.decision))

    @property
    def gate_failed(self) -> bool:
        """Whether a --fail-on gate failed."""
        return bool(self.gates and self.failures)


def requirement_changes(report: Mapping[str, Any]) -> list[RequirementChange]:
    """The changes of a verification report (GET /api/v1/report/<ci>/<id>, harness.report/1)."""
    changes = report.get("changes")
    items = changes.get("requirements") if isinstance(changes, dict) else None
    return [RequirementChange(str(item.get("requirement")), str(item.get("before")),
                              str(item.get("after")), str(item.get("kind")))
            for item in items or () if isinstance(item, dict)]


def worth_commenting(outcome: Outcome | None, comment_on: str, existing: bool) -> bool:
    """Whether to post (or update) the comment: an earlier comment is always brought up to
    date; otherwise `always`, or `failure` when a gate failed, or `change` (the default)
    when there is something to say: a failed gate, a regression or improvement, a
    requirement whose status changed. A run that was not judged (outcome None) only updates."""
    if existing or comment_on == "always":
        return True
    if outcome is None:
        return False
    if comment_on == "failure":
        return outcome.gate_failed
    return outcome.gate_failed or bool(outcome.findings) or bool(outcome.changes)


def conclusion(outcome: Outcome | None) -> str:
    """The check run's conclusion: failure when a gate failed, success when gates were
    asked for and passed, neutral when nothing was gated or judged."""
    if outcome is None or not outcome.results or not outcome.gates:
        return "neutral"
    return "failure" if outcome.failures else "success"


def title(outcome: Outcome) -> str:
    """One plain line (the check run's title): the verdict and the counts."""
    findings = outcome.findings
    regressions = sum(1 for finding in findings if finding.decision == "regression")
    counts = [_count(regressions, "regression"),
              _count(len(findings) - regressions, "improvement")]
    if outcome.changes:
        counts.append(_count(len(outcome.changes), "requirement") + " changed")
    counts.append(_count(len(outcome.results), "result"))
    if not outcome.gates:
        verdict = "No gate"
    else:
        verdict = "Gate failed" if outcome.failures else "Gate passed"
    return f"{verdict}: {', '.join(counts)}"


def render(outcome: Outcome) -> str:
    """The Markdown of the comment and the check run's summary (without the marker)."""
    root = outcome.harness_url.rstrip("/")
    icon = "\u274c" if outcome.gate_failed else "\u2705"
    if not outcome.gates and any(f.decision == "regression" for f in outcome.findings):
        icon = "\u26a0\ufe0f"
    lines = [f"### {icon} Metric harness: {title(outcome)}", ""]
    builds = {_build_line(status, root): None for status in outcome.statuses}
    lines.append("\n\n".join(builds))
    if outcome.gates:
        named = ",".join(outcome.gates)
        if outcome.failures:
            lines += ["", f"**Gate failed** (`--fail-on {named}`):", ""]
            lines += [f"- {escape(failure)}" for _, failure in outcome.failures[:MAX_ROWS]]
            lines += _more(len(outcome.failures))
        else:
            lines += ["", f"**Gate passed** (`--fail-on {named}`)."]
    for decision, heading in (("regression", "Regressions"), ("improvement", "Improvements")):
        chosen = [finding for finding in outcome.findings if finding.decision == decision]
        if chosen:
            lines += ["", f"#### {heading}", "", "| metric | dimensions | value | change | "
                      "baseline |", "|---|---|---|---|---|"]
            lines += [_finding_row(finding, root) for finding in chosen[:MAX_ROWS]]
            lines += _more(len(chosen))
    if outcome.changes:
        lines += ["", "#### Requirements whose status changed", "",
                  "| requirement | before | now |", "|---|---|---|"]
        lines += [f"| {code(change.requirement)} | {escape(change.before)} | "
                  f"**{escape(change.after)}** |" for change in outcome.changes[:MAX_ROWS]]
        lines += _more(len(outcome.changes))
    lines += ["", f"<details><summary>All results ({len(outcome.results)})</summary>", "",
              summary_markdown(outcome.statuses, root).rstrip("\n"), "", "</details>", ""]
    return "\n".join(lines)


def render_unjudged(reason: str, build: Mapping[str, Any], harness_url: str) -> str:
    """The Markdown of a run whose measurements were not judged (rejected, unreachable,
    failed or timed out): the comment then says so instead of showing stale verdicts."""
    root = harness_url.rstrip("/")
    return "\n".join([f"### \u26a0\ufe0f Metric harness: not judged: {escape(reason)}", "",
                      _build_line({"build": build}, root),
                      "", "The job's log says why; the verdicts of earlier runs no longer "
                          "describe this pull request.", ""])


def comment_body(markdown: str, limit: int = COMMENT_LIMIT) -> str:
    """The comment: the marker line, then the Markdown cut to the forge's limit."""
    head = MARKER + "\n"
    return head + truncate(markdown, limit - length(head))


def is_ours(body: Any) -> bool:
    """Whether a comment's body is one this command wrote (it starts with the marker)."""
    return isinstance(body, str) and body.startswith(MARKER)


def truncate(markdown: str, limit: int) -> str:
    """The Markdown at most limit characters long (counted as UTF-16 code units, as
    conservative as any forge counts), cut at a line end with a note, an open
    `<details>` closed."""
    if length(markdown) <= limit:
        return markdown
    note = "\n\n*Cut to fit the forge's size limit: every result is on the build page.*\n"
    closing = "\n\n</details>"
    room = max(0, limit - length(note) - length(closing))
    cut = markdown
    while length(cut) > room:  # shrink by what is over, in characters: few passes
        cut = cut[:max(0, len(cut) - (length(cut) - room))]
    if "\n" in cut:
        cut = cut[:cut.rindex("\n")]
    if cut.count("<details>") > cut.count("</details>"):
        cut += closing
    return cut + note


def length(text: str) -> int:
    """The length in UTF-16 code units (an emoji beyond the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _findings(status: Mapping[str, Any]) -> list[Finding]:
    """The regressions and improvements of one status."""
    build = _object(status.get("build"))
    pull_request = build.get("pull_request")
    base = pull_request.get("base") if isinstance(pull_request, dict) else None
    branch = str(base or build.get("branch") or "main")
    found = []
    for result in status.get("results") or ():
        excursion = result.get("excursion") if isinstance(result, dict) else None
        if isinstance(excursion, dict) and excursion.get("decision") in DECISIONS:
            dimensions = result.get("dimensions")
            found.append(Finding(
                str(result.get("metric")), dimensions if isinstance(dimensions, dict) else {},
                result.get("value"), str(result.get("unit") or ""),
                str(excursion["decision"]), excursion, branch))
    return found


def _finding_row(finding: Finding, root: str) -> str:
    """One table row: the series (linked), its dimensions, value, change and baseline."""
    dimensions = {str(key): str(value) for key, value in finding.dimensions.items()}
    name = link(finding.metric,
                root and root + links.metric_url(finding.metric, dimensions, finding.branch))
    shown = ", ".join(f"{key}={value}" for key, value in sorted(dimensions.items()))
    unit = f" {escape(finding.unit)}" if finding.unit else ""  # none: no double space
    excursion = finding.excursion
    change = _number(excursion.get("change"), "+.4g")
    relative = excursion.get("relative_change")
    size = f"**{relative:+.1%}**" if _is_number(relative) else ""
    size = f"{size} ({change}{unit})".strip() if change else size
    baseline = _number(excursion.get("baseline"), ".4g")
    against = f"base {code(finding.branch)}" if excursion.get("test") == "base" else "history"
    return (f"| {name} | {escape(shown) or NONE} | {_number(finding.value, 'g')}{unit} | "
            f"{size or NONE} | {baseline}{unit} ({against}) |")


def _build_line(status: Mapping[str, Any], root: str) -> str:
    """The build (linked to its page), its branch, base and commit."""
    build = _object(status.get("build"))
    ci, build_id = str(build.get("ci") or "?"), str(build.get("id") or "?")
    line = "Build " + link(f"{ci} {build_id}", root and root + links.build_url(ci, build_id))
    if build.get("branch"):
        line += f" of {code(build['branch'])}"
    pull_request = build.get("pull_request")
    if isinstance(pull_request, dict) and pull_request.get("base"):
        line += f", compared with {code(pull_request['base'])}"
    if build.get("commit"):
        line += f" (commit {code(str(build['commit'])[:12])})"
    return line + "."


def _more(count: int) -> list[str]:
    """The line that says how many rows are only in the folded summary."""
    return ["", f"\u2026 and {count - MAX_ROWS} more: see all results below."] \
        if count > MAX_ROWS else []


def _object(value: Any) -> Mapping[str, Any]:
    """A JSON object as it is; anything else as {}."""
    return value if isinstance(value, dict) else {}


def _count(count: int, noun: str) -> str:
    """"1 regression", "2 regressions"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _number(value: Any, form: str) -> str:
    """A number in a format; "" for anything else."""
    return format(value, form) if _is_number(value) else ""


def _is_number(value: Any) -> bool:
    """An int or float, not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)

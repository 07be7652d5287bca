"""Which judged points of a series become alerts: one set of rules, pure, shared by the
worker, `harness backfill` (through the worker) and `harness replay`.

The rules read a series' judged points only (never the order in which they were judged):
an excursion alert where a build's decision is a regression or an improvement, named by the
build where the excursion began; a spec alert where a build is worse than every build of the
`SPEC_MEMORY` before it (and than a spec alert still open), named by that build; and a spec
alert resolved once the series has met its spec again for `resolve_after` builds."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.alerting.alerts import Alert, alert_id
from harness.catalog import Metric, Spec
from harness.model import Excursion
from harness.times import nanoseconds, parse_utc

SPEC_MEMORY = 20  # builds: a series that already sat this low recently does not alert again
VERDICT_RANK = {"stretch": 0, "design": 1, "none": 1, "minimum": 2, "fail": 3}
EXCURSION_KINDS = ("regression", "improvement")
FindingKind = Literal["regression", "improvement", "spec"]


@dataclass(frozen=True)
class Finding:
    """An alert that a series' points call for."""

    kind: FindingKind
    end: int  # position of the build whose judgement shows it
    onset: int  # position of the build where it began (the end itself for spec alerts)


@dataclass(frozen=True)
class BuildRef:
    """What an alert says of one build of its series."""

    ci: str
    id: str
    time: str  # RFC 3339
    url: str | None = None
    commit: str | None = None

    @property
    def key(self) -> str:
        """The build's identity as one string (Build.key)."""
        return f"{self.ci}/{self.id}"


def series_findings(
    decisions: Sequence[str], started: Sequence[int], verdicts: Sequence[str | None],
    first: int, open_spec_rank: int = 0,
) -> list[Finding]:
    """The alerts of the points from position `first` on. `decisions` and `started` are the
    excursion judgements of those points (judge_series), `verdicts` those of every point."""
    findings = []
    for offset, (decision, back) in enumerate(zip(decisions, started, strict=True)):
        end = first + offset
        if decision in EXCURSION_KINDS:
            findings.append(Finding(decision, end, end - back))  # type: ignore[arg-type]
    base = max(0, first - SPEC_MEMORY)  # the earliest point a judged one looks back to
    ranks = [VERDICT_RANK.get(str(verdict), 0) for verdict in verdicts[base:]]
    for end in range(first, len(verdicts)):
        at = end - base
        recent = max(ranks[max(0, at - SPEC_MEMORY):at], default=0)
        # only when worse than every recent build and than a spec alert still open (the
        # ones found here are: nobody triaged them yet)
        if ranks[at] >= 2 and ranks[at] > max(recent, open_spec_rank):
            findings.append(Finding("spec", end, end))
            open_spec_rank = ranks[at]
    return findings


def met_again(alerts: Sequence[Alert], times: Sequence[int], verdicts: Sequence[str | None],
              resolve_after: int) -> list[Alert]:
    """Of one series' spec alerts still open or acknowledged, those that its latest
    `resolve_after` builds (`times` in ns and `verdicts`, oldest first), all after the alert's
    own, meet again: a warning's design spec, a critical alert's minimum spec. A series that
    dips below a spec and back within its noise thus keeps one alert, not one per dip."""
    if len(times) < resolve_after:
        return []
    latest = [VERDICT_RANK.get(str(verdict), 0) for verdict in verdicts[-resolve_after:]]
    since = times[-resolve_after]
    return [alert for alert in alerts
            if alert.kind == "spec" and alert.state in ("open", "acknowledged")
            and since > nanoseconds(parse_utc(alert.time))
            and max(latest) < spec_rank(alert)]


def spec_rank(alert: Alert) -> int:
    """The verdict rank a spec alert stands for: critical (fail) 3, else (minimum) 2."""
    return 3 if alert.severity == "critical" else 2


def shortfalls(verdicts: Sequence[str | None], levels: Collection[str]) -> list[str | None]:
    """The verdicts as the spec rules read them, given the spec levels a series has: without
    a design spec, meeting the minimum is meeting the best there is, no shortfall."""
    if "design" in levels:
        return list(verdicts)
    return ["design" if verdict == "minimum" else verdict for verdict in verdicts]


def open_spec_ranks(alerts: Sequence[Alert]) -> dict[str, int]:
    """Series → the worst verdict rank of its spec alerts still open or acknowledged."""
    ranks: dict[str, int] = {}
    for alert in alerts:
        if alert.kind == "spec" and alert.state in ("open", "acknowledged"):
            rank = spec_rank(alert)
            ranks[alert.series] = max(rank, ranks.get(alert.series, 0))
    return ranks


def excursion_alert(
    kind: str, metric: Metric, dimensions: Mapping[str, str], branch: str, value: float,
    excursion: Excursion, noticed: BuildRef, onset: BuildRef,
) -> Alert:
    """The alert of an excursion: one per series, kind and build where it began."""
    return Alert(
        id=alert_id(metric.name, dimensions, branch, onset.key, kind),
        kind=kind,  # type: ignore[arg-type]
        severity="warning" if kind == "regression" else "info",
        reason=excursion_reason(metric.name, metric.unit, value, excursion, onset.id,
                                noticed.id, branch),
        metric=metric.name, dimensions=dict(dimensions), branch=branch, build_ci=noticed.ci,
        build_id=noticed.id, time=noticed.time, unit=metric.unit, value=value,
        baseline=excursion.baseline, change=excursion.change,
        relative_change=excursion.relative_change, build_url=noticed.url,
        commit=noticed.commit, started_build=onset.id, started_time=onset.time,
    )


def spec_alert(
    metric: Metric, dimensions: Mapping[str, str], branch: str, value: float, verdict: str,
    spec: Spec | None, noticed: BuildRef, excursion: Excursion | None = None,
) -> Alert:
    """The alert of a build that meets only the minimum spec, or fails it."""
    return Alert(
        id=alert_id(metric.name, dimensions, branch, noticed.key, "spec"), kind="spec",
        severity="critical" if verdict == "fail" else "warning",
        reason=spec_reason(metric.name, metric.unit, value, verdict, spec),
        metric=metric.name, dimensions=dict(dimensions), branch=branch, build_ci=noticed.ci,
        build_id=noticed.id, time=noticed.time, unit=metric.unit, value=value,
        baseline=excursion.baseline if excursion else None,
        change=excursion.change if excursion else None,
        relative_change=excursion.relative_change if excursion else None,
        spec=spec.name if spec else None, threshold=spec.threshold if spec else None,
        build_url=noticed.url, commit=noticed.commit,
    )


def excursion_reason(name: str, unit: str, value: float, excursion: Excursion,
                     onset: str, noticed: str, branch: str) -> str:
    """A sentence: what moved, by how much, against which baseline, since when, how sure."""
    suffix = f" {unit}" if unit else ""
    change = float(excursion.change)
    relative = excursion.relative_change
    share = f" ({relative:+.1%})" if isinstance(relative, float) else ""
    moved = "rose" if change >= 0 else "fell"
    worse = "worse" if excursion.decision == "regression" else "better"
    since = f"build {onset}" + ("" if onset == noticed else f", confirmed at build {noticed}")
    return (f"{name} {moved} by {abs(change):.4g}{suffix}{share} to {value:.4g}{suffix}, "
            f"{worse} than its baseline {float(excursion.baseline):.4g}{suffix} on {branch} "
            f"(noise σ {float(excursion.noise):.3g}{suffix}); the shift began at {since} "
            f"(z = {abs(float(excursion.score)):.1f})")


def spec_reason(name: str, unit: str, value: float, verdict: str, spec: Spec | None) -> str:
    """A sentence naming the spec that is crossed: the one failed (`verdict` "fail": the
    minimum spec, or the lowest level the metric has), or the minimum spec that is all a
    value meets (`verdict` "minimum")."""
    if spec is None:
        return f"{name} is at {verdict}"
    target = f"{spec.operator} {_quantity(spec.threshold, unit)}"
    measured = f"{name} = {_quantity(value, unit)}"
    if verdict == "fail":
        which = "the minimum spec" if spec.level == "minimum" else f"its {spec.level} spec"
        return f"{measured} fails {which} ({target}, {spec.name})"
    return f"{measured} meets only the minimum spec ({target}, {spec.name}), not design"


def _quantity(number: float, unit: str) -> str:
    """A number to 4 significant digits, with its unit when it has one."""
    return f"{number:.4g} {unit}" if unit else f"{number:.4g}"

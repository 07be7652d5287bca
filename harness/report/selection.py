"""Which builds a release report reads, from query arguments (API, dashboard, CLI alike)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from harness.alerting.log import AlertLog
from harness.catalog import Catalog
from harness.errors import InvalidInput, Problem
from harness.report.collect import builds_report, release_report
from harness.report.model import Report
from harness.storage.influx import InfluxStore
from harness.storage.retention import Retention
from harness.times import clamp, iso_z, parse_utc

MAX_BUILDS = 100


class QueryArgs(Protocol):
    """Query arguments with repeatable keys (what werkzeug's MultiDict offers)."""

    def get(self, key: str) -> str | None:
        """The first value of a key, or None."""

    def getlist(self, key: str) -> list[str]:
        """Every value of a key."""


@dataclass(frozen=True)
class Selection:
    """A named set of builds, or the latest build of each dataset on a branch (measured
    since a time: by default in the window before the branch's newest build)."""

    branch: str | None = None
    builds: tuple[tuple[str, str], ...] = ()
    until: str | None = None
    name: str | None = None
    since: str | None = None

    def report(self, store: InfluxStore, catalog: Catalog,
               retention: Retention | None = None, alerts: AlertLog | None = None) -> Report:
        """The report of this selection (named builds whose points expired say so); its
        open alert summaries read through `alerts` (give the log with its index)."""
        if self.builds:
            return builds_report(store, catalog, self.builds, self.name, retention, alerts)
        return release_report(store, catalog, self.branch or catalog.default_branch,
                              self.until, self.name, self.since, alerts)


def parse_selection(args: QueryArgs) -> Selection:
    """`build=ci/id` (repeatable) or `branch=` with `until=` and `since=`; `name=` labels
    the report. Raises InvalidInput naming each bad argument."""
    problems: list[Problem] = []
    builds = _builds(args.getlist("build"), problems)
    branch, until, name = args.get("branch"), args.get("until"), args.get("name")
    since = args.get("since")
    if builds and (branch or until or since):
        problems.append(Problem("branch", "give either build=… or branch=/until=/since=, not both"))
    bounds = {}
    for key, text in (("until", until), ("since", since)):
        if text:
            try:
                # clamped to what InfluxDB can compare: a later bound means the same as the limit
                bounds[key] = iso_z(clamp(parse_utc(text)))
            except ValueError:
                problems.append(Problem(key, "must be an ISO 8601 time like 2026-11-20T12:00:00Z"))
    until, since = bounds.get("until", until), bounds.get("since", since)
    if name is not None and not 0 < len(name) <= 200:
        problems.append(Problem("name", "must be 1 to 200 characters"))
    if problems:
        raise InvalidInput(problems, "bad report selection")
    return Selection(branch or None, builds, until or None, name, since or None)


def _builds(values: Sequence[str], problems: list[Problem]) -> tuple[tuple[str, str], ...]:
    if len(values) > MAX_BUILDS:
        problems.append(Problem("build", f"at most {MAX_BUILDS} builds per report"))
        return ()
    builds = []
    for index, value in enumerate(values):
        ci, _, build_id = value.partition("/")
        if not ci or not build_id:
            problems.append(Problem(f"build[{index}]", "must be ci/id, e.g. jenkins/1234"))
        else:
            builds.append((ci, build_id))
    return tuple(dict.fromkeys(builds))

"""What an alert says of the builds it names, besides their identity: the noticing build's
CI link and commit, and the package changes of the build where it began (against the build
before that one). Judging names a stored build by its point only (ci, id, time); the records
these need are read in one round trip after judging (`wanted`), then added here (`describe`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from harness.alerting.alerts import Alert
from harness.changes import package_changes
from harness.model import BuildRecord, Submission
from harness.times import nanoseconds, parse_utc

BuildKey = tuple[str, str]  # (ci, id)
Moment = tuple[str, int]  # (branch, ns): the build before this time on this branch


@dataclass(frozen=True)
class Wanted:
    """The stored records describing some alerts needs: builds, and the builds before times."""

    builds: tuple[BuildKey, ...]
    before: tuple[Moment, ...]


def wanted(alerts: Sequence[Alert], submission: Submission) -> Wanted:
    """The records that `describe` needs for these alerts (none for this submission's build
    but the build before it)."""
    own = (submission.build.ci, submission.build.id)
    builds: dict[BuildKey, None] = {}
    before: dict[Moment, None] = {}
    for alert in alerts:
        noticed, onset = (alert.build_ci, alert.build_id), _onset(alert)
        builds.update({key: None for key in (noticed, onset) if key != own})
        before[(alert.branch, _onset_time(alert))] = None
    return Wanted(tuple(builds), tuple(before))


def describe(alerts: Sequence[Alert], submission: Submission,
             records: Mapping[BuildKey, BuildRecord | None],
             previous: Mapping[Moment, BuildRecord | None]) -> list[Alert]:
    """The alerts with their noticing build's link and commit and their onset's package
    changes, from the records `wanted` named (a build without a record: none)."""
    own = (submission.build.ci, submission.build.id)
    described = []
    for alert in alerts:
        noticed = (alert.build_ci, alert.build_id)
        if noticed != own and (record := records.get(noticed)) is not None:
            alert = replace(alert, build_url=record.build.url, commit=record.build.commit)
        onset = _onset(alert)
        build = (submission.build if onset == own
                 else record.build if (record := records.get(onset)) is not None else None)
        before = previous.get((alert.branch, _onset_time(alert)))
        if build is not None and before is not None:
            alert = replace(alert, changes=tuple(package_changes(
                before.build.packages_json(), build.packages_json())))
        described.append(alert)
    return described


def _onset(alert: Alert) -> BuildKey:
    """The build where an alert began (a spec alert's: the one that noticed it)."""
    return alert.build_ci, alert.started_build or alert.build_id


def _onset_time(alert: Alert) -> int:
    return nanoseconds(parse_utc(alert.started_time or alert.time))

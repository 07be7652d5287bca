"""Retention tiers: the default branch's points are kept forever; the points of other
branches and of pull-request builds expire `days` after their build's time.

Expiry is a scheduled InfluxQL DELETE on the `branch` tag (docs/decisions.md), so every
query reads one measurement as before. A build's record (one `builds` point) is kept, so
that its pages can say that its points expired instead of not knowing the build."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from influxdb_client.client.write.point import Point

from harness.errors import BrokerUnavailable
from harness.model import BuildRecord, utcnow
from harness.storage.influx import BUILDS, RESULTS, InfluxStore
from harness.storage.tails import SeriesTails
from harness.times import nanoseconds, rfc3339, time_literal

# The field that marks a pull-request build on the default branch whose points were deleted,
# so that the next run does not delete them again.
EXPIRED_FIELD = "points_expired"
DELETES_PER_REQUEST = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """How long the points of builds outside the default branch are kept."""

    default_branch: str
    days: int

    def cutoff(self, now: datetime) -> datetime:
        """The time before which such points have expired."""
        return now - timedelta(days=self.days)

    def applies_to(self, record: BuildRecord) -> bool:
        """Whether a stored build's points expire: another branch's, or a pull request's."""
        build = record.build
        return build.branch != self.default_branch or build.pull_request is not None

    def has_expired(self, record: BuildRecord, now: datetime | None = None) -> bool:
        """Whether a stored build (its record) is older than its points are kept."""
        moment = nanoseconds(self.cutoff(now or utcnow()))
        return self.applies_to(record) and record.time < moment

    def notice(self) -> str:
        """What a page says of a build whose points expired."""
        days = f"{self.days} day" + ("" if self.days == 1 else "s")
        return f"this build's points expired after {days} (branch retention)"

    def expired_json(self, record: BuildRecord, has_results: bool
                     ) -> dict[str, Any] | None:
        """The `expired` member of a build's API answer: None unless its points are gone."""
        if has_results or not self.has_expired(record):
            return None
        return {"after_days": self.days, "message": self.notice()}


@dataclass(frozen=True)
class Expiry:
    """What one run of `expire` deleted."""

    cutoff: datetime
    branch_points: int  # result points of other branches
    pull_request_builds: int  # pull-request builds on the default branch


def expire(store: InfluxStore, tails: SeriesTails, retention: Retention,
           now: datetime | None = None) -> Expiry:
    """Delete the result points that have expired, and the cached history that held them."""
    cutoff = retention.cutoff(now or utcnow())
    params = {"branch": retention.default_branch, "cutoff": time_literal(cutoff)}
    found = store.query(f"SELECT count(submission) FROM {RESULTS} "
                        "WHERE branch != $branch AND time < $cutoff", params)
    points = sum(int(row["count"]) for series in found for row in series.rows)
    store.query(f"DELETE FROM {RESULTS} WHERE branch != $branch AND time < $cutoff",
                params, method="POST")
    if points:
        _forget(tails, keep=retention.default_branch)
    builds = _expire_pull_requests(store, retention.default_branch, params)
    if builds:
        _forget(tails, keep=None)
    return Expiry(cutoff, points, builds)


def _forget(tails: SeriesTails, keep: str | None) -> None:
    """Drop the cached history of every branch but `keep` (all if None). A Redis outage
    is logged, not raised: the points are gone from the store either way, and a stale
    cached point only feeds the judging of its series' later builds until it is trimmed."""
    try:
        if keep is None:
            tails.clear()
        else:
            tails.clear_other_branches(keep)
    except (BrokerUnavailable, redis.RedisError) as error:
        log.warning("retention: the cached history was not cleared: %s", error)


def _expire_pull_requests(store: InfluxStore, branch: str, params: Mapping[str, str]) -> int:
    """Delete the points of pull-request builds stored on the default branch, found by their
    time (a field cannot select what a DELETE removes); a time that a build of the branch
    itself shares is left alone. Returns how many builds were expired."""
    found = store.query(f"SELECT build_id, pr_number, {EXPIRED_FIELD} FROM {BUILDS} "
                        "WHERE branch = $branch AND time < $cutoff GROUP BY *", params)
    at: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for series in found:
        for row in series.rows:
            at[int(row["time"])].append({**row, **series.tags})
    due = {time: rows for time, rows in at.items()
           if all(row.get("pr_number") is not None for row in rows)
           and not all(row.get(EXPIRED_FIELD) for row in rows)}
    for times in _chunks(sorted(due)):
        statements = [f"DELETE FROM {RESULTS} WHERE branch = $branch AND time = $t{index}"
                      for index in range(len(times))]
        store.query_each(statements, {"branch": branch, **{
            f"t{index}": rfc3339(time) for index, time in enumerate(times)}}, method="POST")
        store.write(_marker(row, time) for time in times for row in due[time])
    return sum(len(rows) for rows in due.values())


def _marker(record: Mapping[str, Any], time: int) -> Point:
    """The field added to a build's record once its points were deleted."""
    return (Point(BUILDS).tag("ci", record["ci"]).tag("branch", record["branch"])
            .field(EXPIRED_FIELD, True).time(time))


def _chunks(times: Sequence[int]) -> Iterator[Sequence[int]]:
    """Times in groups of at most DELETES_PER_REQUEST."""
    for start in range(0, len(times), DELETES_PER_REQUEST):
        yield times[start:start + DELETES_PER_REQUEST]

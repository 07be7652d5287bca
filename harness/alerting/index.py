"""An index of the alert log in Redis, so that reads do not grow with the log's past
(docs/decisions.md, decision 91).

The log in InfluxDB stays the truth; the index only says which alerts to read there:
- `live`: the ids of the alerts open or acknowledged (any kind), and one such set per series;
- `noticed:<series>`: every alert of a series, scored by the time of the build that
  noticed it (what judging a late build, or a metric page's window, asks for).

The index may hold more than it should (readers check each alert's state in its log), never
less: an alert joins before its `opened` (or `reopened`) event is written and again after,
and leaves only when its log shows it closed and no alert joined meanwhile (`rev`, a
counter every join increments, is watched by the removal). Lost or never built (old data, a
restore, a flushed Redis): `built` is absent and the next reader builds it from the log."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, cast

import redis

from harness.alerting.alerts import Alert
from harness.storage.redis_errors import redis_errors
from harness.times import nanoseconds, parse_utc

PREFIX = "harness:alert-index:"
LIVE, REV, BUILT = PREFIX + "live", PREFIX + "rev", PREFIX + "built"
SERIES_LIVE, NOTICED = PREFIX + "live:", PREFIX + "noticed:"
LIVE_STATES = ("open", "acknowledged")


@dataclass(frozen=True)
class Entry:
    """What the index keeps of one alert."""

    id: str
    series: str
    noticed: int  # ns: the time of the build that noticed it
    live: bool

    @classmethod
    def of(cls, alert: Alert, live: bool = True) -> Entry:
        """The entry of an alert (live unless told otherwise)."""
        return cls(alert.id, alert.series, nanoseconds(parse_utc(alert.time)), live)


class AlertIndex:
    """Which alerts are live, and which each series noticed when."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def built(self) -> bool:
        """Whether the index holds the whole log (else build it first)."""
        with redis_errors():
            return bool(self.redis.exists(BUILT))

    def add(self, entries: Iterable[Entry], built: bool = False) -> None:
        """Index these alerts (a union: nothing leaves); `built` marks the index whole."""
        entries = list(entries)
        pipe = self.redis.pipeline(transaction=True)
        for entry in entries:
            pipe.zadd(NOTICED + entry.series, {entry.id: entry.noticed})
            if entry.live:
                pipe.sadd(LIVE, entry.id)
                pipe.sadd(SERIES_LIVE + entry.series, entry.id)
        if entries:
            pipe.incr(REV)
        if built:
            pipe.set(BUILT, "1")
        with redis_errors():
            pipe.execute()

    def revision(self) -> int:
        """The join counter, read before the log when removing alerts."""
        with redis_errors():
            return int(cast(Any, self.redis.get(REV)) or 0)

    def remove(self, closed: Collection[Entry], revision: int) -> bool:
        """Drop these alerts from the live sets, unless an alert joined since `revision`
        was read (then nothing is dropped: a later removal will); whether they were."""
        if not closed:
            return True
        with redis_errors(), self.redis.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(REV)
                if int(cast(Any, pipe.get(REV)) or 0) != revision:
                    return False
                pipe.multi()
                pipe.srem(LIVE, *(entry.id for entry in closed))
                for entry in closed:
                    pipe.srem(SERIES_LIVE + entry.series, entry.id)
                pipe.execute()
            except redis.WatchError:
                return False
        return True

    def live(self) -> set[str]:
        """The ids of the alerts that may be open or acknowledged."""
        with redis_errors():
            return set(cast(set[str], self.redis.smembers(LIVE)))

    def of_series(self, series: Collection[str], noticed_from: int | None = None,
                  newest: int | None = None) -> set[str]:
        """The ids of these series' alerts that may be live, and of those noticed at or
        after a time (ns), or the `newest` noticed of each."""
        keys = sorted(series)
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.smembers(SERIES_LIVE + key)
            if noticed_from is not None:
                pipe.zrangebyscore(NOTICED + key, noticed_from, "+inf")
            if newest is not None:
                pipe.zrevrange(NOTICED + key, 0, newest - 1)
        with redis_errors():
            answers = pipe.execute()
        return {alert for answer in answers for alert in answer}

    def clear(self) -> int:
        """Drop the whole index (after a restore replaced the log); returns keys dropped."""
        with redis_errors():
            keys = list(self.redis.scan_iter(match=PREFIX + "*", count=1000))
            return int(cast(Any, self.redis.delete(*keys))) if keys else 0

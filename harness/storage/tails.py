"""The newest points of every series, kept in Redis beside InfluxDB, so that judging a
submission reads the history of all its series in one Redis round trip instead of an
InfluxDB query of ~14,000 rows (the worker's main cost; docs/performance.md).

Each series is a sorted set scored by time. Writers add every point they store (after the
InfluxDB write), so points stored while a reader fills a series from InfluxDB are never
lost: the fill and the writers' additions are a union. Two sentinel members say what a set
holds: `filled` (+inf) once it was filled from InfluxDB, `start` (-inf) while it still holds
the series from its first point (trimming to the newest `keep` removes it first). A read the
set cannot answer (never filled, or older than what it keeps) is answered by InfluxDB."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import redis

from harness.points import COLUMNS, Around, Row, Rows
from harness.storage.redis_errors import redis_errors

PREFIX = "harness:tail:v2:"  # v2: members carry the sample count and spread
TTL_S = 30 * 86_400  # a series nobody wrote to for a month is dropped (PR branches)
FILLED, START = "filled", "start"
SEPARATOR = "\x1f"



class SeriesTails:
    """Read, fill and extend the cached newest points of series (keys: alerts.series_key)."""

    def __init__(self, client: redis.Redis, keep: int) -> None:
        self.redis = client
        self.keep = keep

    def read(self, keys: Iterable[str], at_ns: int, limit: int
             ) -> tuple[dict[str, Around], list[str]]:
        """Series key → its last `limit` points before a time and its points from that time
        on (both oldest first), for the series the cache can answer; and the keys it cannot."""
        keys = sorted(set(keys))
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.zscore(PREFIX + key, FILLED)
            pipe.zrevrangebyscore(PREFIX + key, at_ns, "-inf", start=0, num=limit + 3)
            pipe.zrangebyscore(PREFIX + key, at_ns, "(inf")
        answers = _run(pipe)
        found: dict[str, Around] = {}
        missing = []
        for position, key in enumerate(keys):
            filled, members, later = answers[3 * position:3 * position + 3]
            rows, complete = _rows(members, at_ns, limit)
            if filled is not None and (complete or len(rows) == limit):
                found[key] = Around(rows, _rows(later[::-1], None, len(later))[0])
            else:
                missing.append(key)
        return found, missing

    def fill(self, newest: Mapping[str, Sequence[Row]]) -> None:
        """Add what InfluxDB holds of series (each one's newest `keep` points, any order) and
        mark them filled; complete when InfluxDB had fewer than `keep`."""
        pipe = self.redis.pipeline(transaction=True)
        for key, rows in newest.items():
            members: dict[str, float] = {FILLED: float("inf")}
            if len(rows) < self.keep:
                members[START] = float("-inf")
            for row in rows:
                member = _member(row)
                if member is None:
                    pipe.delete(PREFIX + key)
                    break
                members[member] = row["time"]
            else:
                pipe.zadd(PREFIX + key, members)
                self._trim(pipe, key)
        _run(pipe)

    def add(self, rows: Mapping[str, Row]) -> None:
        """Add the point just stored in each series, replacing one of the same time."""
        pipe = self.redis.pipeline(transaction=True)
        for key, row in rows.items():
            member = _member(row)
            if member is None:
                pipe.delete(PREFIX + key)  # not representable: InfluxDB answers for it
                continue
            pipe.zremrangebyscore(PREFIX + key, row["time"], row["time"])
            pipe.zadd(PREFIX + key, {member: row["time"]})
            self._trim(pipe, key)
        _run(pipe)

    def _trim(self, pipe: Any, key: str) -> None:
        # the newest `keep` points, `filled` and (while within them) `start` stay
        pipe.zremrangebyrank(PREFIX + key, 0, -(self.keep + 3))
        pipe.expire(PREFIX + key, TTL_S)

    def clear(self) -> int:
        """Drop every cached series (after InfluxDB data was deleted or restored)."""
        keys = list(self.redis.scan_iter(PREFIX + "*", count=1000))
        deleted: Any = self.redis.delete(*keys) if keys else 0
        return int(deleted)

    def clear_other_branches(self, branch: str) -> int:
        """Drop every cached series but those of one branch (after the others' points
        expired); a series key ends with its branch (alerts.series_key)."""
        with redis_errors():
            keys = [key for key in self.redis.scan_iter(PREFIX + "*", count=1000)
                    if not _text(key).endswith("|" + branch)]
            deleted: Any = self.redis.delete(*keys) if keys else 0
        return int(deleted)


def _text(key: str | bytes) -> str:
    """A Redis key as text, whether the client decodes responses or not."""
    return key.decode(errors="replace") if isinstance(key, bytes) else key


def _member(row: Row) -> str | None:
    """One point as a set member; None if a field holds the separator."""
    value = row.get("value")
    fields = [str(int(row["time"])), "" if value is None else repr(float(value)),
              str(row.get("verdict") or ""), str(row.get("ci") or ""),
              str(row.get("build_id") or ""), str(int(row.get("samples") or 1)),
              repr(float(row.get("spread") or 0.0))]
    if any(SEPARATOR in field for field in fields):
        return None
    return SEPARATOR.join(fields)


def _rows(members: list[str], before_ns: int | None, limit: int) -> tuple[Rows, bool]:
    """The newest `limit` points before a time (any time if None), from members newest
    first (split in one pass: ~14,000 of them per submission); whether the series' start
    was reached."""
    complete = bool(members) and members[-1] == START
    points = [member for member in (members[:-1] if complete else members)
              if member != FILLED]
    width = len(COLUMNS)
    fields = SEPARATOR.join(points).split(SEPARATOR) if points else []
    times = list(map(int, fields[0::width]))
    first = 0
    while before_ns is not None and first < len(times) and times[first] >= before_ns:
        first += 1
    chosen = slice(first, first + limit)

    def column(values: list[str]) -> list[Any]:
        return [value or None for value in values[chosen][::-1]]
    values = [float(value) if value else None for value in fields[1::width][chosen][::-1]]
    return Rows(times[chosen][::-1], values, column(fields[2::width]), column(fields[3::width]),
                column(fields[4::width]), [int(n) for n in fields[5::width][chosen][::-1]],
                [float(x) for x in fields[6::width][chosen][::-1]]), complete


def _run(pipe: Any) -> list[Any]:
    with redis_errors():
        return list(pipe.execute())

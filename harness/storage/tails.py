"""The newest points of every series, kept in Redis beside InfluxDB, so that judging a
submission reads the history of all its series in one Redis round trip instead of an
InfluxDB query of ~14,000 rows (the worker's main cost; docs/performance.md).

Each series is a sorted set scored by time. Writers add every point they store (after the
InfluxDB write), so points stored while a reader fills a series from InfluxDB are never
lost: the fill and the writers' additions are a union. Two sentinel members say what a set
holds: `filled` (+inf) once it was filled from InfluxDB, `start` (-inf) while it still holds
the series from its first point (trimming to the newest `keep` removes it first). A read the
set cannot answer (never filled, or older than what it keeps) is answered by InfluxDB.

A point is one binary member: a fixed-width packed head (`POINT`: the time, offset so that
the members of one score sort by time; the value; spread; sample count; which fields are
None; the byte lengths of the verdict, CI and build id), then those three strings in UTF-8.
A read parses the heads of all its ~14,000 members at once with numpy and decodes each
distinct string tail once. A point that cannot be packed (an integer beyond 64 bits, a
string over 65,535 bytes or not encodable) drops its series: InfluxDB answers for it."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import redis
from redis.client import NEVER_DECODE

from harness.points import Around, Row, Rows
from harness.storage.redis_errors import redis_errors

PREFIX = "harness:tail:v3:"  # v3: binary members (v2 keys, text joined by \x1f, are not read)
ALL_VERSIONS = "harness:tail:*"
TTL_S = 30 * 86_400  # a series nobody wrote to for a month is dropped (PR branches)
FILLED, START = b"filled", b"start"  # shorter than any point's member

POINT = np.dtype([("time", ">u8"), ("value", ">f8"), ("spread", ">f8"), ("samples", ">i8"),
                  ("flags", "u1"), ("lengths", ">u2", (3,))])
_HEAD = struct.Struct(">QddqB3H")  # POINT, packed one at a time by writers
_TEXTS = ("verdict", "ci", "build_id")
_TIME_BIAS = 1 << 63  # time + 2**63 as unsigned: byte order is time order, negatives too
_NO_VALUE = 1  # flag bits; 2, 4, 8: verdict, ci, build_id is None
_TAIL_HEAD = struct.Struct(">B3H")  # a member's tail: flags, string lengths, the strings
_HEAD_BYTES = itemgetter(slice(0, POINT.itemsize))
_TAIL = itemgetter(slice(_HEAD.size - _TAIL_HEAD.size, None))
_RAW: dict[str, Any] = {NEVER_DECODE: []}  # members are bytes whatever the client decodes
assert _HEAD.size == POINT.itemsize


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
            pipe.execute_command("ZREVRANGEBYSCORE", PREFIX + key, at_ns, "-inf",
                                 "LIMIT", 0, limit + 3, **_RAW)
            pipe.execute_command("ZRANGEBYSCORE", PREFIX + key, at_ns, "(inf", **_RAW)
        answers = _run(pipe)
        members: list[bytes] = []
        spans = []
        for position, key in enumerate(keys):
            filled, before, later = answers[3 * position:3 * position + 3]
            complete = bool(before) and before[-1] == START
            if complete:
                before.pop()
            spans.append((key, filled is not None, complete, len(members), len(before),
                          len(later)))
            members += reversed(before)  # oldest first, as the later ones
            members += later
        try:
            batch = _columns(members)
        except ValueError:  # not members this version wrote
            return {}, keys
        times = batch.times
        found: dict[str, Around] = {}
        missing = []
        for key, filled, complete, first, count, later_count in spans:
            end = first + count  # points of a score ≤ at_ns: drop those at or after it
            while end > first and times[end - 1] >= at_ns:
                end -= 1
            start, stop = first + count, first + count + later_count
            while start < stop and times[start] < at_ns:  # of a score ≥ at_ns, before it
                start += 1
            if filled and (complete or end - first >= limit):
                found[key] = Around(_rows(batch, max(first, end - limit), end),
                                    _rows(batch, start, stop))
            else:
                missing.append(key)
        return found, missing

    def fill(self, newest: Mapping[str, Sequence[Row]]) -> None:
        """Add what InfluxDB holds of series (each one's newest `keep` points, any order) and
        mark them filled; complete when InfluxDB had fewer than `keep`."""
        pipe = self.redis.pipeline(transaction=True)
        for key, rows in newest.items():
            members: dict[bytes, float] = {FILLED: float("inf")}
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
        """Drop every cached series, of every member format (after InfluxDB data was deleted
        or restored)."""
        keys = list(self.redis.scan_iter(ALL_VERSIONS, count=1000))
        deleted: Any = self.redis.delete(*keys) if keys else 0
        return int(deleted)

    def clear_other_branches(self, branch: str) -> int:
        """Drop every cached series but those of one branch (after the others' points
        expired); a series key ends with its branch (alerts.series_key)."""
        with redis_errors():
            keys = [key for key in self.redis.scan_iter(ALL_VERSIONS, count=1000)
                    if not _text(key).endswith("|" + branch)]
            deleted: Any = self.redis.delete(*keys) if keys else 0
        return int(deleted)


def _text(key: str | bytes) -> str:
    """A Redis key as text, whether the client decodes responses or not."""
    return key.decode(errors="replace") if isinstance(key, bytes) else key


def _member(row: Row) -> bytes | None:
    """One point as a set member; None if it cannot be packed."""
    value = row.get("value")
    texts = [row.get(name) for name in _TEXTS]
    flags = (_NO_VALUE if value is None else 0) | sum(
        2 << bit for bit, text in enumerate(texts) if text is None)
    try:
        encoded = [b"" if text is None else str(text).encode() for text in texts]
        head = _HEAD.pack(int(row["time"]) + _TIME_BIAS,
                          0.0 if value is None else float(value),
                          float(row.get("spread") or 0.0), int(row.get("samples") or 1),
                          flags, *map(len, encoded))
    except (struct.error, UnicodeEncodeError, OverflowError):
        return None
    return head + b"".join(encoded)


def _columns(members: list[bytes]) -> Rows:
    """The points of members: their heads parsed at once, each distinct string tail decoded
    once. ValueError if a member is not a point's."""
    if not members:
        return Rows([], [], [], [], [])
    heads = np.frombuffer(b"".join(map(_HEAD_BYTES, members)), POINT)
    if len(heads) != len(members):
        raise ValueError("a member shorter than a point")
    times = (heads["time"].astype(np.uint64) ^ np.uint64(_TIME_BIAS)).view(np.int64)
    values = heads["value"].astype(np.float64)
    no_value = (heads["flags"] & _NO_VALUE).astype(bool)
    if no_value.any():
        values = values.astype(object)
        values[no_value] = None
    tails = list(map(_TAIL, members))
    index_of = {tail: index for index, tail in enumerate(set(tails))}
    distinct = np.empty((len(index_of), 3), dtype=object)  # verdict, ci, build_id
    distinct[:] = [_texts(tail) for tail in index_of]
    texts = distinct[np.fromiter(map(index_of.__getitem__, tails), np.intp, len(tails))]
    return Rows(times.tolist(), values.tolist(), texts[:, 0].tolist(), texts[:, 1].tolist(),
                texts[:, 2].tolist(), heads["samples"].astype(np.int64).tolist(),
                heads["spread"].astype(np.float64).tolist())


def _texts(tail: bytes) -> tuple[str | None, str | None, str | None]:
    """The verdict, CI and build id of a member's tail (its flags, lengths and strings)."""
    flags, verdict_size, ci_size, build_id_size = _TAIL_HEAD.unpack_from(tail)
    ci_at = _TAIL_HEAD.size + verdict_size
    build_id_at = ci_at + ci_size
    if build_id_at + build_id_size != len(tail):
        raise ValueError("a member whose strings are not as long as its head says")
    return (None if flags & 2 else tail[_TAIL_HEAD.size:ci_at].decode(),
            None if flags & 4 else tail[ci_at:build_id_at].decode(),
            None if flags & 8 else tail[build_id_at:].decode())


def _rows(batch: Rows, start: int, stop: int) -> Rows:
    """The points from one position to another of a batch."""
    return Rows(batch.times[start:stop], batch.values[start:stop],
                batch.verdicts[start:stop], batch.cis[start:stop],
                batch.build_ids[start:stop], batch.counts[start:stop],
                batch.spreads[start:stop])


def _run(pipe: Any) -> list[Any]:
    with redis_errors():
        return list(pipe.execute())

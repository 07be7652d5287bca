"""The Redis state that matters, as JSON lines: which `harness:*` keys are durable state,
which are caches or locks, and how to write them out and load them back. Celery's own keys
(the queue, `unacked`, kombu bindings) are never touched: tasks are not backed up."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from fnmatch import fnmatchcase
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import redis

from harness.alerting.delivery import SENT
from harness.alerting.index import AlertIndex
from harness.storage.backup.errors import BackupError
from harness.storage.tails import SeriesTails

BATCH = 500
OTHER = "other"  # a harness:* key of no known kind: kept, and named in a warning
# (kind, key pattern, kept?) in the order they are tried; docs/decisions.md, "Backups"
KINDS: tuple[tuple[str, str, bool], ...] = (
    ("inline_metrics", "harness:metrics", True),
    ("build_first_seen", "harness:build:*", True),
    ("submission_statuses", "harness:submission:*", True),
    ("document_digests", "harness:digest:*", True),
    ("pending_submissions", "harness:pending", True),
    ("pending_submissions", "harness:pending:*", True),
    ("slack_delivered", "harness:notified:*", True),  # "sent" markers only (see kind_of)
    ("series_cache", "harness:tail:*", False),  # rebuilt from InfluxDB on demand
    ("alert_index", "harness:alert-index:*", False),  # likewise (harness.alerting.index)
    ("locks", "harness:lock:*", False),
    ("worker_leases", "harness:lease:*", False),  # liveness of running workers (workers/leases)
    # alerts held for a few seconds until their summary's message (harness.alerting.holding)
    ("held_announcements", "harness:announce:*", False),
)
SLACK_IN_FLIGHT = "slack_in_flight"  # a `sending` marker: a delivery lock, not a fact


def kind_of(key: str, value: str | None = None) -> tuple[str, bool]:
    """The kind of a harness key and whether a backup keeps it."""
    for kind, pattern, kept in KINDS:
        if fnmatchcase(key, pattern):
            if kind == "slack_delivered" and value is not None and value != SENT:
                return SLACK_IN_FLIGHT, False
            return kind, kept
    return OTHER, True


def connect(url: str) -> redis.Redis:
    """A Redis client of the broker URL that answers text."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=30,
                                socket_connect_timeout=5)


def where(client: redis.Redis) -> str:
    """host:port/db of a client, for messages (never its password)."""
    options = client.connection_pool.connection_kwargs
    return f"{options.get('host')}:{options.get('port')}/{options.get('db', 0)}"


def server_version(client: redis.Redis) -> str:
    """The Redis server's version."""
    return str(_call(client, lambda: client.info("server"))["redis_version"])


def clear_series_cache(client: redis.Redis) -> int:
    """Drop the cached series tails (a cache of InfluxDB data a restore replaces)."""
    return int(_call(client, lambda: SeriesTails(client, keep=0).clear()))


def clear_alert_index(client: redis.Redis) -> int:
    """Drop the alert index (built again from the restored alert log on first read)."""
    return int(_call(client, lambda: AlertIndex(client).clear()))


def durable_keys(client: redis.Redis) -> list[str]:
    """The harness keys of kinds a backup keeps that this Redis already holds."""
    keys = _call(client, lambda: list(client.scan_iter(match="harness:*", count=1000)))
    return sorted(key for key in keys if kind_of(key)[1])


def export(client: redis.Redis, stream: TextIO,
           progress: Callable[[Iterable[str]], Iterable[str]]) -> tuple[Counter[str], Counter[str]]:
    """Write every kept harness key as one JSON line; returns kept and skipped counts by kind."""
    kept: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    keys = _call(client, lambda: sorted(client.scan_iter(match="harness:*", count=1000)))
    for batch in batched(progress(keys), BATCH):
        wanted = []
        for key in batch:  # a kind not kept is not even read (the series cache is binary)
            kind, keep = kind_of(key)
            if keep:
                wanted.append(key)
            else:
                skipped[kind] += 1
        for record in _records(client, wanted):
            kind, keep = kind_of(record["key"],
                                 record["value"] if record["type"] == "string" else None)
            if not keep:
                skipped[kind] += 1
                continue
            kept[kind] += 1
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    return kept, skipped


def load(client: redis.Redis, path: Path,
         progress: Callable[[Iterable[dict[str, Any]]], Iterable[dict[str, Any]]]
         ) -> Counter[str]:
    """Write every key of a JSON-lines export into Redis (replacing a key of the same name,
    keeping each key's expiry time); returns the counts by kind."""
    loaded: Counter[str] = Counter()
    now_ms = int(time.time() * 1000)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for batch in batched(progress(records), BATCH):
        pipe = client.pipeline(transaction=False)
        for record in batch:
            expires = record["expires_at_ms"]
            if expires is not None and expires <= now_ms:
                continue  # it would have expired by now on the old server too
            _write(pipe, record)
            loaded[kind_of(record["key"])[0]] += 1
        _call(client, pipe.execute)
    return loaded


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Items in lists of at most size (itertools.batched arrived in Python 3.12)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _records(client: redis.Redis, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Type, expiry time and value of each key (a key that vanished meanwhile is left out)."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        pipe.pttl(key)
    answers = _call(client, pipe.execute)
    now_ms = int(time.time() * 1000)
    typed = [(key, kind, ttl) for key, kind, ttl in zip(keys, answers[::2], answers[1::2],
                                                        strict=True) if kind != "none"]
    pipe = client.pipeline(transaction=False)
    for key, kind, _ in typed:
        _read(pipe, key, kind)
    values = _call(client, pipe.execute)
    for (key, kind, ttl), value in zip(typed, values, strict=True):
        if value is None:
            continue
        if isinstance(value, set):
            value = sorted(value)
        yield {"key": key, "type": kind, "expires_at_ms": now_ms + ttl if ttl >= 0 else None,
               "value": value}


def _read(pipe: Any, key: str, kind: str) -> None:
    readers = {"string": lambda: pipe.get(key), "hash": lambda: pipe.hgetall(key),
               "list": lambda: pipe.lrange(key, 0, -1), "set": lambda: pipe.smembers(key),
               "zset": lambda: pipe.zrange(key, 0, -1, withscores=True)}
    if kind not in readers:
        raise BackupError(f"Redis key {key} is a {kind}, which a backup cannot keep")
    readers[kind]()


def _write(pipe: Any, record: dict[str, Any]) -> None:
    key, kind, value = record["key"], record["type"], record["value"]
    pipe.delete(key)
    if kind == "string":
        pipe.set(key, value)
    elif kind == "hash" and value:
        pipe.hset(key, mapping=value)
    elif kind == "list" and value:
        pipe.rpush(key, *value)
    elif kind == "set" and value:
        pipe.sadd(key, *value)
    elif kind == "zset" and value:
        pipe.zadd(key, {member: score for member, score in value})
    if record["expires_at_ms"] is not None:
        pipe.pexpireat(key, record["expires_at_ms"])


def _call(client: redis.Redis, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except redis.RedisError as error:
        raise BackupError(f"Redis at {where(client)}: {type(error).__name__}: {error}") from None

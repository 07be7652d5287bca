"""Per-series mutual exclusion in Redis: the judgements of one series are made one at a
time, whatever the number of worker processes, so that each sees every point stored before
it (docs/decisions.md, "Order independence")."""

from __future__ import annotations

import random
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis

from harness.errors import BrokerUnavailable, ServiceUnavailable
from harness.storage.redis_errors import redis_errors

PREFIX = "harness:lock:series:"
STRIPES = 4096  # series share a lock when their keys hash alike: bounded keys, rare waits
# Far longer than judging one submission takes; a worker killed while holding the locks
# delays its series by at most this.
TTL_MS = 30_000
WAIT_S = 60.0

# All or nothing: a submission takes the locks of all its series at once, so two
# submissions can never each hold a part of what the other needs.
# A lock its owner already holds is free to it: a task run again after its worker died or
# lost Redis (its locks could not be released) takes over its own locks at once.
_ACQUIRE = """
for _, key in ipairs(KEYS) do
  local holder = redis.call('get', key)
  if holder and holder ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('set', key, ARGV[1], 'PX', ARGV[2])
end
return 1
"""
_RELEASE = """
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then redis.call('del', key) end
end
return 1
"""


# (keys, token) of locks this process took and could not release: Redis went away meanwhile.
_UNRELEASED: list[tuple[list[str], str]] = []


class SeriesBusy(ServiceUnavailable):
    """The series stayed locked by other judgements for longer than a judgement can take."""


class SeriesLocks:
    """Locks over series keys (alerts.series_key)."""

    def __init__(self, client: redis.Redis, ttl_ms: int = TTL_MS, wait_s: float = WAIT_S
                 ) -> None:
        self.redis = client
        self.ttl_ms = ttl_ms
        self.wait_s = wait_s
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)

    @contextmanager
    def hold(self, series: Iterable[str], owner: str | None = None) -> Iterator[None]:
        """Hold the locks of these series for the duration of the block, as `owner` (a
        submission id: a judgement of the same submission takes over its locks; default:
        a new owner)."""
        keys = sorted({f"{PREFIX}{zlib.crc32(key.encode()) % STRIPES}" for key in series})
        if not keys:
            yield
            return
        token = owner or uuid.uuid4().hex
        self._release_unreleased()
        deadline = time.monotonic() + self.wait_s
        pause = 0.002
        while not self._call(self._acquire, keys, [token, self.ttl_ms]):
            if time.monotonic() > deadline:
                raise SeriesBusy(f"{len(keys)} series locks stayed taken for {self.wait_s:g} s")
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.05)
        try:
            yield
        finally:
            try:
                self._call(self._release, keys, [token])
            except BrokerUnavailable:  # released by this process's next judgement, or expire
                _UNRELEASED.append((keys, token))

    def _release_unreleased(self) -> None:
        """Release the locks this process could not release when Redis was away (another
        submission of the same builds, a client's retry, would wait for their expiry)."""
        while _UNRELEASED:
            keys, token = _UNRELEASED[-1]
            try:
                self._call(self._release, keys, [token])
            except BrokerUnavailable:
                return  # still away: the next judgement tries again
            _UNRELEASED.pop()

    @staticmethod
    def _call(script: object, keys: list[str], args: list[object]) -> int:
        with redis_errors():
            return int(script(keys=keys, args=args))  # type: ignore[operator]

"""Per-series mutual exclusion in Redis: the judgements of one series are made one at a
time, whatever the number of worker processes, so that each sees every point stored before
it (docs/decisions.md, "Order independence")."""

from __future__ import annotations

import contextlib
import random
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import redis

from harness.errors import BrokerUnavailable, ServiceUnavailable
from harness.storage import redis_errors

PREFIX = "harness:lock:series:"
STRIPES = 4096  # series share a lock when their keys hash alike: bounded keys, rare waits
# Far longer than judging one submission takes; a worker killed while holding the locks
# delays its series by at most this.
TTL_MS = 30_000
WAIT_S = 60.0

# All or nothing: a submission takes the locks of all its series at once, so two
# submissions can never each hold a part of what the other needs.
_ACQUIRE = """
for _, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then return 0 end
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
    def hold(self, series: Iterable[str]) -> Iterator[None]:
        """Hold the locks of these series for the duration of the block."""
        keys = sorted({f"{PREFIX}{zlib.crc32(key.encode()) % STRIPES}" for key in series})
        if not keys:
            yield
            return
        token = uuid.uuid4().hex
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
            with contextlib.suppress(BrokerUnavailable):  # else they expire by themselves
                self._call(self._release, keys, [token])

    @staticmethod
    def _call(script: object, keys: list[str], args: list[object]) -> int:
        with redis_errors():
            return int(script(keys=keys, args=args))  # type: ignore[operator]

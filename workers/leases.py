"""Work a dead worker held goes back to the queue within seconds, not after the visibility
timeout.

kombu keeps each message it hands to a worker in Redis (the `unacked` hash, indexed by
delivery time) until the worker acknowledges it, and hands it out again only after the
broker's visibility timeout (900 s by default: it must outlast the longest task and the
longest retry countdown). Each worker process therefore keeps a lease in Redis — the
delivery tags it holds, refreshed every `REFRESH_S`, expiring after `LEASE_TTL_S` — and
every `SWEEP_S` gives back to the queue the messages held for `GRACE_S` by no live lease:
those of a worker that was killed, or of a task whose acknowledgement was lost with a
broker connection. Giving back is kombu's own atomic restore (WATCH/MULTI), so two
workers sweeping at once give a message back once; a task run twice by mistake is
harmless, as judging and notifying are idempotent. See docs/decisions.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from celery.worker import state

from workers.broker import UNSETTLED

log = logging.getLogger(__name__)

PREFIX = "harness:lease:"
REFRESH_S = 2.0  # how often a worker writes its lease
LEASE_TTL_S = 10  # a lease not refreshed for this long is a dead worker's
SWEEP_S = 5.0  # how often each worker looks for messages no lease holds
GRACE_S = 15.0  # a message is given back once held this long by no lease


@dataclass(frozen=True)
class Lease:
    """What one worker process held when it last wrote its lease."""

    at: float  # when it wrote it (time.time())
    tags: frozenset[str]

    def to_json(self) -> str:
        """The lease as stored."""
        return json.dumps({"at": self.at, "tags": sorted(self.tags)})

    @classmethod
    def from_json(cls, text: str | bytes) -> Lease:
        """A stored lease."""
        document = json.loads(text)
        return cls(float(document["at"]), frozenset(map(str, document["tags"])))


def orphans(delivered: Iterable[tuple[str, float]], leases: Sequence[Lease], now: float,
            grace_s: float = GRACE_S) -> list[str]:
    """The delivery tags, of (tag, delivery time) pairs, that no live worker holds: held for
    `grace_s` and named by no lease, while every lease was written after the delivery (a
    lease written before it cannot name it yet)."""
    held = frozenset().union(*(lease.tags for lease in leases))
    oldest_lease = min((lease.at for lease in leases), default=now)
    return [tag for tag, at in delivered
            if at <= now - grace_s and tag not in held and at < oldest_lease]


def held_tags(consumer: Any) -> set[str]:
    """The delivery tags this worker process holds: the messages of its channel not yet
    acknowledged (including those waiting for a retry countdown) and those of the tasks it
    runs (which may have come on a channel lost since)."""
    tags: set[str] = set()
    task_consumer = getattr(consumer, "task_consumer", None)
    channel = getattr(task_consumer, "channel", None)
    qos = getattr(channel, "_qos", None)
    if qos is not None:
        tags.update(map(str, list(qos._delivered)))
    tags.update(running_tags(state.reserved_requests), running_tags(state.active_requests))
    return tags | UNSETTLED.held


def running_tags(requests: Iterable[Any]) -> set[str]:
    """The delivery tags of these Celery requests."""
    tags = set()
    for request in list(requests):
        tag = getattr(getattr(request, "message", None), "delivery_tag", None)
        if tag is not None:
            tags.add(str(tag))
    return tags


class Leases(threading.Thread):
    """The lease writer and sweeper of one worker process (a daemon thread)."""

    def __init__(self, app: Celery, consumer: Any) -> None:
        super().__init__(name="harness-leases", daemon=True)
        self.app, self.consumer = app, consumer
        self.key = f"{PREFIX}{consumer.hostname}:{os.getpid()}"
        self.redis = redis.Redis.from_url(app.conf.broker_url, socket_timeout=3,
                                          socket_connect_timeout=3)
        self._stopping = threading.Event()
        self._connection: Any = None

    def run(self) -> None:
        """Write the lease every REFRESH_S and sweep every SWEEP_S until stopped."""
        next_sweep = time.monotonic() + SWEEP_S
        while True:
            try:
                self.write()
                self.settle()
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_S
                    self.sweep()
            except Exception as error:  # the broker is unreachable: try again later
                log.info("leases: %s: %s", type(error).__name__, error)
                self._drop_connection()
            if self._stopping.wait(REFRESH_S):
                return

    def stop(self) -> None:
        """Stop, and remove the lease (the worker gives its messages back as it stops)."""
        self._stopping.set()
        with contextlib.suppress(redis.RedisError):
            self.redis.delete(self.key)

    def write(self) -> None:
        """Write this process's lease."""
        lease = Lease(time.time(), frozenset(held_tags(self.consumer)))
        self.redis.set(self.key, lease.to_json(), ex=LEASE_TTL_S)

    def settle(self) -> None:
        """Acknowledge, or give back, the messages whose acknowledgement or give-back failed
        with the broker (workers.broker.UNSETTLED); those of tasks still running wait."""
        to_ack, to_restore = UNSETTLED.take()
        running = running_tags(state.active_requests)
        UNSETTLED.add(to_restore & running, done=False)
        to_restore -= running
        if not (to_ack or to_restore):
            return
        qos = self._channel().qos
        try:
            for tag in to_ack:
                qos._remove_from_indices(tag).execute()
            for tag in to_restore:
                qos.restore_by_tag(tag)
        except Exception:
            UNSETTLED.add(to_ack, done=True)
            UNSETTLED.add(to_restore, done=False)
            raise
        log.info("settled after a broker outage: %d acknowledged, %d given back",
                 len(to_ack), len(to_restore))

    def sweep(self) -> int:
        """Give back the messages no live worker holds; returns how many."""
        channel = self._channel()
        delivered: list[tuple[bytes, float]] = self.redis.zrangebyscore(  # type: ignore[assignment]
            channel.unacked_index_key, "-inf", time.time() - GRACE_S, withscores=True)
        if not delivered:
            return 0
        keys = list(self.redis.scan_iter(f"{PREFIX}*", count=1000))
        stored: list[bytes | None] = self.redis.mget(keys) if keys else []  # type: ignore[assignment]
        leases = [Lease.from_json(text) for text in stored if text]
        lost = orphans(((tag.decode(), at) for tag, at in delivered), leases, time.time())
        for tag in lost:
            log.warning("giving back message %s: held by no live worker", tag)
            channel.qos.restore_by_tag(tag)
        return len(lost)

    def _channel(self) -> Any:
        if self._connection is None:
            self._connection = self.app.connection_for_write()
        return self._connection.default_channel

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already broken; nothing more to close
                self._connection.release()
            self._connection = None


_running: list[Leases] = []


@worker_ready.connect
def _start(sender: Any, **_: Any) -> None:
    """Start the leases of this worker process once it consumes."""
    leases = Leases(sender.app, sender)
    leases.start()
    _running.append(leases)


@worker_shutdown.connect
def _stop(**_: Any) -> None:
    while _running:
        _running.pop().stop()

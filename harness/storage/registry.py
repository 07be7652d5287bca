"""Small state kept in Redis (AOF-persisted): build first-seen times, submission status,
metrics registered inline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import redis

from harness.alerting.alerts import Alert
from harness.catalog import Metric
from harness.catalog.definitions import metric_from_json, same_definition
from harness.errors import MetricConflict
from harness.model import Result, Submission
from harness.storage.redis_errors import redis_errors
from harness.times import parse_utc

PREFIX = "harness:"
STATUS_TTL_S = 90 * 86_400
PENDING = f"{PREFIX}pending"  # sorted set: submission id → when it was queued


class Registry:
    """The harness's keys in Redis; every method raises BrokerUnavailable on outages."""

    def __init__(self, url: str, timeout_s: float = 3.0) -> None:
        self.redis = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            decode_responses=True,
        )

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with redis_errors():
            return getattr(self.redis, method)(*args, **kwargs)

    def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False

    def queue_depth(self, queue: str = "celery") -> int:
        """How many tasks wait in a Celery queue."""
        return int(self._call("llen", queue))

    # --- builds ---------------------------------------------------------------------

    def first_seen(self, build_key: str, now: datetime) -> datetime:
        """When the harness first saw this build (now, if this is the first time)."""
        previous = self._call("set", f"{PREFIX}build:{build_key}", now.isoformat(), nx=True,
                              get=True)
        return parse_utc(previous) if previous else now

    # --- submissions ----------------------------------------------------------------

    def _status_key(self, submission_id: str) -> str:
        return f"{PREFIX}submission:{submission_id}"

    def mark_queued(self, submission: Submission, digest: str | None = None) -> None:
        """Record a submission as queued, findable by the digest of its document, and keep
        its task's payload until it is done (see `pending`)."""
        with self._transaction() as pipe:  # one round trip; never a status without payload
            self._put(submission.id, {"state": "queued", "build": submission.build.to_json(),
                                      "time": submission.time.isoformat(), "results": [],
                                      "alerts": []}, pipe)
            pipe.set(f"{PENDING}:{submission.id}", json.dumps(submission.to_json()),
                     ex=STATUS_TTL_S)
            pipe.zadd(PENDING, {submission.id: time.time()})
            if digest is not None:
                key = f"{PREFIX}digest:{digest}"
                pipe.lpush(key, submission.id)
                pipe.expire(key, STATUS_TTL_S)

    def submissions_of(self, digest: str) -> list[str]:
        """The submissions made of the document with this digest, newest first."""
        return list(self._call("lrange", f"{PREFIX}digest:{digest}", 0, 20))

    def mark_done(self, submission: Submission, results: Sequence[Result],
                  alerts: Sequence[Alert] = ()) -> None:
        """Record a submission as judged and stored, with the alerts it raised."""
        with self._transaction() as pipe:
            self._put(submission.id, {"state": "done", "build": submission.build.to_json(),
                                      "time": submission.time.isoformat(),
                                      "results": [result.to_json() for result in results],
                                      "alerts": [alert.to_json() for alert in alerts]}, pipe)
            self._settled(submission.id, pipe)

    def mark_failed(self, submission: Submission, reason: str) -> None:
        """Record a submission that could not be processed, with why."""
        with self._transaction() as pipe:
            self._put(submission.id, {"state": "failed", "build": submission.build.to_json(),
                                      "time": submission.time.isoformat(), "results": [],
                                      "alerts": [], "error": reason}, pipe)
            self._settled(submission.id, pipe)

    def forget(self, submission_id: str) -> None:
        """Drop a submission's status (its enqueue failed)."""
        with self._transaction() as pipe:
            pipe.delete(self._status_key(submission_id))
            self._settled(submission_id, pipe)

    @staticmethod
    def _settled(submission_id: str, pipe: redis.client.Pipeline) -> None:
        pipe.zrem(PENDING, submission_id)
        pipe.delete(f"{PENDING}:{submission_id}")

    def pending(self, older_than_s: float) -> dict[str, dict[str, Any]]:
        """Submission id → task payload of the submissions queued longer ago than this and
        not yet done or failed: what to look for when a task may have been lost."""
        ids = self._call("zrangebyscore", PENDING, "-inf", time.time() - older_than_s)
        if not ids:
            return {}
        texts = self._call("mget", [f"{PENDING}:{submission_id}" for submission_id in ids])
        expired = [submission_id for submission_id, text in zip(ids, texts, strict=True)
                   if not text]
        if expired:  # their payload expired: nothing can be done for them
            self._call("zrem", PENDING, *expired)
        return {submission_id: json.loads(text)
                for submission_id, text in zip(ids, texts, strict=True) if text}

    def requeued(self, submission_id: str) -> None:
        """Restart a pending submission's clock after its task was queued again."""
        self._call("zadd", PENDING, {submission_id: time.time()}, xx=True)

    def in_broker(self, task_ids: set[str], queue: str = "celery") -> set[str]:
        """The ones of these task ids that Redis holds as a queued or a delivered task
        (kombu's `unacked` hash: running, reserved or waiting for a retry's countdown)."""
        found: set[str] = set()

        def look(raw: str) -> None:
            found.update(task_id for task_id in task_ids if task_id in raw)

        length = int(self._call("llen", queue))
        for start in range(0, length, 500):
            for raw in self._call("lrange", queue, start, start + 499):
                look(raw)
        for raw in self._call("hvals", "unacked"):
            look(raw)
        return found

    def status(self, submission_id: str) -> dict[str, Any] | None:
        """A submission's status document, or None."""
        text = self._call("get", self._status_key(submission_id))
        return json.loads(text) if text else None

    def _put(self, submission_id: str, document: dict[str, Any],
             pipe: redis.client.Pipeline) -> None:
        pipe.set(self._status_key(submission_id), json.dumps(document), ex=STATUS_TTL_S)

    @contextmanager
    def _transaction(self) -> Iterator[redis.client.Pipeline]:
        """A MULTI/EXEC pipeline, executed when the block ends; Redis errors become
        BrokerUnavailable."""
        with redis_errors(), self.redis.pipeline() as pipe:
            yield pipe
            pipe.execute()

    # --- inline metrics -------------------------------------------------------------

    def inline_metrics(self) -> list[Metric]:
        """Every metric registered inline."""
        stored = self._call("hgetall", f"{PREFIX}metrics")
        return [metric_from_json(json.loads(text)) for text in stored.values()]

    def register(self, metrics: Sequence[Metric]) -> None:
        """Register new inline metrics; a concurrent different definition raises 409."""
        for index, metric in enumerate(metrics):
            added = self._call("hsetnx", f"{PREFIX}metrics", metric.name,
                               json.dumps(metric.to_json(definition_only=True)))
            if not added:
                text = self._call("hget", f"{PREFIX}metrics", metric.name)
                if not same_definition(metric_from_json(json.loads(text)), metric):
                    raise MetricConflict(f"metrics[{index}].name",
                                         f"{metric.name} is already registered differently")

"""Small state kept in Redis (AOF-persisted): build first-seen times, submission status,
metrics registered inline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis

from harness.alerts import Alert
from harness.catalog import Metric
from harness.errors import BrokerUnavailable, MetricConflict
from harness.formats.native import metric_from_json, metric_to_json, same_definition
from harness.model import Result, Submission

PREFIX = "harness:"
STATUS_TTL_S = 90 * 86_400


class Registry:
    """The harness's keys in Redis; every method raises BrokerUnavailable on outages."""

    def __init__(self, url: str, timeout_s: float = 3.0) -> None:
        self.redis = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
            decode_responses=True,
        )

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.redis, method)(*args, **kwargs)
        except redis.RedisError as error:
            raise BrokerUnavailable(f"Redis did not answer: {type(error).__name__}") from None

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
        return datetime.fromisoformat(previous) if previous else now

    # --- submissions ----------------------------------------------------------------

    def _status_key(self, submission_id: str) -> str:
        return f"{PREFIX}submission:{submission_id}"

    def mark_queued(self, submission: Submission, digest: str | None = None) -> None:
        """Record a submission as queued, findable by the digest of its document."""
        self._put(submission.id, {"state": "queued", "build": submission.build.to_json(),
                                  "time": submission.time.isoformat(), "results": [],
                                  "alerts": []})
        if digest is not None:
            key = f"{PREFIX}digest:{digest}"
            self._call("lpush", key, submission.id)
            self._call("expire", key, STATUS_TTL_S)

    def submissions_of(self, digest: str) -> list[str]:
        """The submissions made of the document with this digest, newest first."""
        return list(self._call("lrange", f"{PREFIX}digest:{digest}", 0, 20))

    def mark_done(self, submission: Submission, results: Sequence[Result],
                  alerts: Sequence[Alert] = ()) -> None:
        """Record a submission as judged and stored, with the alerts it raised."""
        self._put(submission.id, {"state": "done", "build": submission.build.to_json(),
                                  "time": submission.time.isoformat(),
                                  "results": [result.to_json() for result in results],
                                  "alerts": [alert.to_json() for alert in alerts]})

    def mark_failed(self, submission: Submission, reason: str) -> None:
        """Record a submission that could not be processed, with why."""
        self._put(submission.id, {"state": "failed", "build": submission.build.to_json(),
                                  "time": submission.time.isoformat(), "results": [],
                                  "alerts": [], "error": reason})

    def forget(self, submission_id: str) -> None:
        """Drop a submission's status (its enqueue failed)."""
        self._call("delete", self._status_key(submission_id))

    def status(self, submission_id: str) -> dict[str, Any] | None:
        """A submission's status document, or None."""
        text = self._call("get", self._status_key(submission_id))
        return json.loads(text) if text else None

    def _put(self, submission_id: str, document: dict[str, Any]) -> None:
        self._call("set", self._status_key(submission_id), json.dumps(document),
                   ex=STATUS_TTL_S)

    # --- inline metrics -------------------------------------------------------------

    def inline_metrics(self) -> list[Metric]:
        """Every metric registered inline."""
        stored = self._call("hgetall", f"{PREFIX}metrics")
        return [metric_from_json(json.loads(text)) for text in stored.values()]

    def register(self, metrics: Sequence[Metric]) -> None:
        """Register new inline metrics; a concurrent different definition raises 409."""
        for index, metric in enumerate(metrics):
            added = self._call("hsetnx", f"{PREFIX}metrics", metric.name,
                               json.dumps(metric_to_json(metric)))
            if not added:
                text = self._call("hget", f"{PREFIX}metrics", metric.name)
                if not same_definition(metric_from_json(json.loads(text)), metric):
                    raise MetricConflict(f"metrics[{index}].name",
                                         f"{metric.name} is already registered differently")

"""Retries: never longer than half the visibility timeout, never dropped when the broker
cannot take them, and a task Redis lost is queued again (a real Celery app and the real
Flask app against a real or a missing Redis)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import cast

import pytest
import redis
from celery import Celery
from celery.exceptions import Reject, Retry

from harness.errors import StoreUnavailable
from harness.model import Submission
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.storage.registry import PENDING, Registry
from harness.testing.servers import free_port
from harness.web import create_app
from tests.conftest import bearer, submission
from workers import LOST_AFTER_S, PROCESS_SUBMISSION, REQUEUE_LOST, create_celery, retry_later

IDLE_DB = 7  # a Redis database no worker listens on


def _celery(settings: Settings) -> Celery:
    """The workers' Celery app, with its tasks loaded as a worker loads them."""
    app = create_celery(settings)
    app.loader.import_default_modules()
    return app


@pytest.fixture
def idle_celery(settings: Settings) -> Iterator[Celery]:
    """A Celery app on a Redis database without workers, emptied after."""
    url = settings.broker_url.rsplit("/", 1)[0] + f"/{IDLE_DB}"
    yield _celery(replace(settings, broker_url=url, broker_visibility_timeout=10))
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def test_the_backoff_stays_below_half_the_visibility_timeout(idle_celery: Celery) -> None:
    task = idle_celery.tasks[PROCESS_SUBMISSION]
    waits = []
    for retries in (0, 3, 8, 20):
        task.push_request(id=f"t{retries}", retries=retries, args=[{}], kwargs={},
                          delivery_info={}, called_directly=False)
        try:
            with pytest.raises(Retry) as raised:
                retry_later(task, StoreUnavailable("down"), factor=2)
        finally:
            task.pop_request()
        waits.append(float(raised.value.when))

    assert all(0 <= wait <= 5 for wait in waits), waits
    queued = redis.Redis.from_url(idle_celery.conf.broker_url).llen("celery")
    assert queued == 4  # each retry was published as a new message


def test_a_retry_the_broker_cannot_take_gives_the_task_back(settings: Settings) -> None:
    dead = _celery(replace(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0"))
    dead.conf.broker_transport_options = {**dead.conf.broker_transport_options,
                                          "max_retries": 1}
    task = dead.tasks[PROCESS_SUBMISSION]
    task.push_request(id="t1", retries=0, delivery_info={}, called_directly=False)
    try:
        with pytest.raises(Reject) as raised:
            retry_later(task, StoreUnavailable("down"))
    finally:
        task.pop_request()

    assert raised.value.requeue is True  # Celery alone would drop it (requeue=False)


def test_a_task_redis_lost_is_queued_again(idle_celery: Celery, settings: Settings,
                                           system: InfluxStore) -> None:
    app = create_app(replace(settings, broker_url=idle_celery.conf.broker_url))
    response = app.test_client().post("/api/v1/submissions", json=submission(),
                                      headers=bearer())
    assert response.json is not None
    submission_id = response.json["submission"]
    broker = redis.Redis.from_url(idle_celery.conf.broker_url, decode_responses=True)
    requeue = idle_celery.tasks[REQUEUE_LOST]
    assert requeue.apply().get() == 0  # just queued: not even a candidate

    broker.zadd(PENDING, {submission_id: time.time() - LOST_AFTER_S - 1})
    assert requeue.apply().get() == 0  # old, but its task is still in the queue
    # as if handed to a worker that died at that instant
    lost = cast(str | None, broker.lpop("celery"))
    assert lost is not None and submission_id in lost

    assert requeue.apply().get() == 1
    again = cast(list[str], broker.lrange("celery", 0, -1))
    assert len(again) == 1 and submission_id in again[0]
    assert json.loads(again[0])["headers"]["id"] == submission_id
    assert requeue.apply().get() == 0  # its clock restarted; and it is queued anyway

    registry = Registry(idle_celery.conf.broker_url)
    registry.mark_done(Submission.from_json(registry.pending(0)[submission_id]), [])
    assert registry.pending(0) == {} and broker.zcard(PENDING) == 0
    broker.close()

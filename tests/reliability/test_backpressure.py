"""Back-pressure: when the broker or the store is down, or the queue is full, the API and
the dashboards say so with 503 and Retry-After, store nothing, and /healthz shows why.
(That the CI client retries through such answers to a real server is proved in
test_faults.py: the Redis and web restarts.)"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis

from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.servers import free_port
from harness.web import create_app
from tests.conftest import TRIAGE_SECRET, bearer, submission

IDLE_DB = 6  # a Redis database no worker listens on


def _app(settings: Settings, **changes: Any) -> Any:
    return create_app(replace(settings, **changes)).test_client()


READS = ["/api/v1/metrics/validate_drp.PA1/series", "/api/v1/builds/github-actions/1",
         "/api/v1/alerts", "/api/v1/alerts/abc", "/api/v1/report/github-actions/1",
         "/api/v1/report", "/dash/", "/dash/metrics/validate_drp.PA1", "/dash/alerts",
         "/dash/builds/github-actions/1", "/dash/report/github-actions/1"]


@pytest.mark.parametrize("url", READS)
def test_reads_answer_503_with_retry_after_when_the_store_is_down(
        settings: Settings, url: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    response = _app(settings, influxdb_url=dead).get(url)

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    text = response.get_data(as_text=True)
    assert "InfluxDB" in text and "try again" in text
    assert dead.rsplit(":", 1)[1] not in text  # where the store lives stays in the log


def test_triage_answers_503_when_the_store_is_down(settings: Settings) -> None:
    client = _app(settings, influxdb_url=f"http://127.0.0.1:{free_port()}")
    response = client.post("/api/v1/alerts/abc/acknowledge", headers=bearer(TRIAGE_SECRET))
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("endpoint", ["/api/v1/submissions", "/api/v1/jobs"])
def test_ingest_answers_503_when_the_broker_is_down_and_stores_nothing(
        settings: Settings, system: InfluxStore, endpoint: str) -> None:
    client = _app(settings, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    response = client.post(endpoint, json=submission(), headers=bearer())

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["error"] == "the broker (Redis) did not answer; try again later"
    health = client.get("/healthz")
    assert health.status_code == 503 and health.headers["Retry-After"]
    assert health.json["components"]["broker"]["ok"] is False
    assert system.count() == 0


@pytest.fixture
def idle_broker(settings: Settings) -> Iterator[Settings]:
    """Settings whose broker is a Redis database without workers, emptied after."""
    url = settings.broker_url.rsplit("/", 1)[0] + f"/{IDLE_DB}"
    yield replace(settings, broker_url=url)
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def test_a_full_queue_answers_503_and_healthz_shows_depth_and_limit(
        idle_broker: Settings, system: InfluxStore) -> None:
    client = _app(idle_broker, max_queue_depth=2)
    for n in range(2):
        assert client.post("/api/v1/submissions", json=submission(id=f"q{n}"),
                           headers=bearer()).status_code == 202

    refused = client.post("/api/v1/submissions", json=submission(id="q2"), headers=bearer())

    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 30
    assert "2 tasks are waiting" in refused.json["error"]
    health = client.get("/healthz")
    assert health.status_code == 503
    broker = health.json["components"]["broker"]
    assert (broker["queue_depth"], broker["queue_limit"], broker["ok"]) == (2, 2, False)
    queued = redis.Redis.from_url(idle_broker.broker_url).llen("celery")
    assert queued == 2  # the refused one was not queued
    assert system.count() == 0


def test_healthz_shows_no_live_worker(idle_broker: Settings) -> None:
    health = _app(idle_broker).get("/healthz")

    assert health.status_code == 503
    assert health.json["components"]["workers"] == {
        "ok": False, "names": [], "unserved_queues": ["celery", "notify"]}
    assert health.json["components"]["broker"]["ok"] is True


def test_healthz_names_the_live_workers_and_the_queue(client: Any, system: InfluxStore) -> None:
    health = client.get("/healthz")

    assert health.status_code == 200, health.json
    components = health.json["components"]
    assert components["workers"]["ok"] and components["workers"]["names"]
    assert components["broker"]["queue_depth"] < components["broker"]["queue_limit"]

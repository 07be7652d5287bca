"""Data safety: a failed write inside a submission leaves nothing partial visible and the
retry completes it once; a rejected submission stores nothing; judging a build again
gives the same alerts.

The worker of these tests writes to InfluxDB through a real loopback proxy that breaks
chosen writes; it has a Redis database and an InfluxDB database of its own, so no other
worker takes its tasks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import redis

from harness.alerting.log import EVENTS
from harness.settings import Settings
from harness.storage.influx import BUILDS, InfluxStore
from harness.testing.pools import WorkerPools
from harness.testing.proxy import FaultyProxy
from harness.testing.servers import InfluxServer, RedisServer
from harness.testing.slack_receiver import SlackReceiver
from harness.web import create_app
from tests.conftest import (
    bearer,
    harness_keys,
    submission,
    wait_broker_idle,
    wait_done,
    wait_until,
)

DATABASE = "harness_safety"
REDIS_DB = 5


@dataclass
class Safety:
    """The app, the store behind the proxy, the proxy, and the Slack receiver."""

    client: Any
    store: InfluxStore
    proxy: FaultyProxy
    slack: SlackReceiver
    redis: redis.Redis

    def events(self) -> Counter[str]:
        """How many alert events of each kind (opened, notified, ...) are stored."""
        found = self.store.query(f'SELECT "event" FROM "{EVENTS}"')
        return Counter(str(row["event"]) for series in found for row in series.rows)

    def settled_events(self, timeout_s: float = 10.0) -> Counter[str]:
        """The events once Slack's delivery was recorded and the worker has run every task
        left (a duplicate would come from one of them)."""
        wait_until("Slack's delivery being recorded", lambda: self.events()["notified"],
                   timeout_s)
        wait_broker_idle(self.redis, timeout_s)
        return self.events()

    def points(self) -> int:
        """Every point of every measurement: results, builds and alert events."""
        return self.store.count() + self.store.count(BUILDS) + self.events().total()

    def post(self, body: dict[str, Any]) -> Any:
        """POST a native submission with the ingest token."""
        return self.client.post("/api/v1/submissions", json=body, headers=bearer())


@pytest.fixture(scope="module")
def safety_stack(redis_server: RedisServer, influx_server: InfluxServer, slack: SlackReceiver,
                 harness_env: dict[str, str], servers_dir: Path
                 ) -> Iterator[tuple[Settings, FaultyProxy]]:
    """A worker whose InfluxDB is behind the faulty proxy, and settings for the app."""
    proxy = FaultyProxy(influx_server.url).start()
    broker = redis_server.url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    env = {**harness_env, "HARNESS_BROKER_URL": broker, "HARNESS_INFLUXDB_URL": proxy.url,
           "HARNESS_INFLUXDB_DATABASE": DATABASE, "HARNESS_BROKER_VISIBILITY_TIMEOUT": "10"}
    worker = WorkerPools(env, servers_dir / "safety", concurrency=1,
                         notify_concurrency=1).start()
    settings = replace(Settings.from_env(env), influxdb_url=influx_server.url)
    yield settings, proxy
    worker.stop()
    proxy.stop()


@pytest.fixture
def safety(safety_stack: tuple[Settings, FaultyProxy], slack: SlackReceiver
           ) -> Iterator[Safety]:
    """The stack, emptied: no points, no Redis keys, no Slack messages."""
    settings, proxy = safety_stack
    store = InfluxStore(settings.influxdb_url, DATABASE)
    store.ensure_database()
    store.query("DROP SERIES FROM /.*/", method="POST")
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    client.flushdb()
    slack.clear()
    proxy.reset()
    app = create_app(settings)
    yield Safety(app.test_client(), store, proxy, slack, client)
    client.close()


def test_a_refused_write_shows_nothing_until_the_retry_stores_it_all(safety: Safety) -> None:
    safety.proxy.break_writes("refuse", "refuse", "refuse")
    response = safety.post(submission())
    assert response.status_code == 202

    safety.proxy.wait_broken(1)
    # the first write failed and two more will: nothing of the submission is visible
    assert safety.points() == 0
    assert safety.client.get("/api/v1/builds/github-actions/9187").status_code == 404
    assert safety.client.get(response.json["status_url"]).json["state"] == "queued"

    status = wait_done(safety.client, response.json["status_url"], timeout_s=60)

    assert status["state"] == "done"
    assert safety.proxy.broken == ["refuse"] * 3
    assert safety.store.count() == 3
    build = safety.client.get("/api/v1/builds/github-actions/9187").json
    assert len(build["results"]) == 3


def test_a_write_whose_answer_is_lost_is_stored_once_by_the_retry(safety: Safety) -> None:
    failing = submission(id="9300", pull_request=None)
    failing["measurements"][0]["value"] = 99.0  # PA1 fails its minimum spec: one alert
    safety.proxy.break_writes("drop")

    response = safety.post(failing)
    status = wait_done(safety.client, response.json["status_url"], timeout_s=60)

    assert safety.proxy.broken == ["drop"]
    assert status["state"] == "done"
    assert safety.store.count() == 3
    assert safety.store.count(BUILDS) == 1
    assert [alert["kind"] for alert in status["alerts"]] == ["spec"], status
    safety.slack.wait_for(lambda receiver: len(receiver.messages) >= 1)
    assert len(safety.slack.messages) == 1
    assert safety.settled_events() == {"opened": 1, "notified": 1}


def test_judging_a_build_again_gives_the_same_alerts_and_no_new_message(safety: Safety) -> None:
    failing = submission(id="9400", pull_request=None)
    failing["measurements"][0]["value"] = 99.0
    first = wait_done(safety.client, safety.post(failing).json["status_url"])
    safety.slack.wait_for(lambda receiver: len(receiver.messages) >= 1)

    again = wait_done(safety.client, safety.post(failing).json["status_url"])

    assert [a["id"] for a in again["alerts"]] == [a["id"] for a in first["alerts"]] != []
    assert safety.store.count() == 3
    assert len(safety.slack.messages) == 1
    assert safety.settled_events() == {"opened": 1, "notified": 1}


def _bad_unit(body: dict[str, Any]) -> None:
    body["measurements"][2]["unit"] = "kg"


def _unknown_metric(body: dict[str, Any]) -> None:
    body["measurements"][2]["metric"] = "validate_drp.NOPE"


def _missing_build_id(body: dict[str, Any]) -> None:
    del body["build"]["id"]


def _too_many(body: dict[str, Any]) -> None:
    body["measurements"] = body["measurements"] * 4000


@pytest.mark.parametrize("spoil", [_bad_unit, _unknown_metric, _missing_build_id, _too_many])
def test_a_rejected_submission_stores_nothing(safety: Safety, spoil: Any) -> None:
    body = submission(id="9500")
    spoil(body)

    response = safety.post(body)

    assert response.status_code in (400, 413, 422), response.json
    assert response.json["details"]
    assert safety.points() == 0
    assert safety.redis.llen("celery") == 0
    assert not [key for key in harness_keys(safety.redis)
                if not key.startswith("harness:metric")], "a rejected request left state"

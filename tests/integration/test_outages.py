"""Nothing accepted is lost when the store or the broker restarts."""

from __future__ import annotations

from typing import Any

from harness.storage.influx import InfluxStore
from harness.testing.pools import WorkerPools
from harness.testing.servers import InfluxServer, RedisServer
from tests.conftest import bearer, submission, wait_done, wait_until


def test_store_outage_delays_but_does_not_lose_a_submission(
    client: Any, system: InfluxStore, influx_server: InfluxServer, worker: WorkerPools
) -> None:
    influx_server.stop()
    try:
        response = client.post("/api/v1/submissions", json=submission(), headers=bearer())
        assert response.status_code == 202  # the broker took it; the store is the worker's job
        retried = f"[{response.json['submission']}] retry: Retry in"
        wait_until("the worker trying it and meeting the outage",
                   lambda: retried in worker.new_output())
        assert client.get(response.json["status_url"]).json["state"] == "queued"
    finally:
        influx_server.start()

    status = wait_done(client, response.json["status_url"], timeout_s=60)

    assert status["state"] == "done"
    assert system.count() == 3


def test_status_and_points_survive_restarts(
    client: Any, system: InfluxStore, influx_server: InfluxServer, redis_server: RedisServer
) -> None:
    response = client.post("/api/v1/submissions", json=submission(), headers=bearer())
    wait_done(client, response.json["status_url"])

    redis_server.restart()
    influx_server.restart()

    assert client.get(response.json["status_url"]).json["state"] == "done"
    assert system.count() == 3
    again = client.post("/api/v1/submissions", json=submission(), headers=bearer())
    assert wait_done(client, again.json["status_url"], timeout_s=60)["state"] == "done"
    assert system.count() == 3

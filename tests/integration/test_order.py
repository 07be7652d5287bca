"""Alerts are a function of the stored data: the same history posted one build at a time, as
a burst judged by two worker processes, newest first, or twice gives the same alert and the
same Slack message (real Redis, InfluxDB, Celery worker, Slack receiver)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
import redis

from harness.storage.influx import InfluxStore
from harness.testing.slack_receiver import SlackReceiver
from tests.conftest import bearer, broker_idle, post_all, wait_done
from tests.integration.test_alerts import nightly

STEP_AT, LENGTH = 40, 52


def history() -> list[dict[str, Any]]:
    """40 builds of noise with one lone outlier, then a +6σ step that lasts 12 builds."""
    values = 45.0 + np.random.default_rng(52).standard_normal(LENGTH)
    values[17] += 9.0  # the lone outlier
    values[STEP_AT:] += 6.0
    return [nightly(index, float(value)) for index, value in enumerate(values)]


def post_burst(client: Any, bodies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Post everything at once (parallel CI jobs, a backfill), then wait for every verdict."""
    urls = []
    for body in bodies:
        response = client.post("/api/v1/submissions", json=body, headers=bearer())
        assert response.status_code == 202, response.json
        urls.append(response.json["status_url"])
    return [wait_done(client, url, timeout_s=120) for url in urls]


def wait_idle(redis_client: redis.Redis, timeout_s: float = 90.0) -> None:
    """Wait until the broker holds no task, queued or handed out (Slack tasks waiting out
    their grace period are handed out, unacknowledged, until they ran)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if broker_idle(redis_client):
            return
        time.sleep(0.2)
    raise AssertionError(f"tasks still pending after {timeout_s} s")


def messages_about(slack: SlackReceiver, alert_id: str) -> int:
    """How many delivered Slack messages name an alert."""
    return sum(1 for message in slack.messages if alert_id in json.dumps(message))


Poster = Callable[[Any, list[dict[str, Any]]], Any]
ORDERS: dict[str, Poster] = {
    "one at a time": lambda client, bodies: post_all(client, bodies),
    "as a burst": lambda client, bodies: post_burst(client, bodies),
    "newest first": lambda client, bodies: post_all(client, bodies[::-1]),
    "newest first, as a burst": lambda client, bodies: post_burst(client, bodies[::-1]),
    "twice": lambda client, bodies: (post_all(client, bodies), post_burst(client, bodies)),
}


@pytest.mark.parametrize("order", ORDERS)
def test_the_same_history_gives_the_same_alert_in_any_order(
    order: str, client: Any, system: InfluxStore, slack: SlackReceiver,
    redis_client: redis.Redis,
) -> None:
    slack.clear()
    ORDERS[order](client, history())
    wait_idle(redis_client)

    alerts = client.get("/api/v1/alerts?kind=regression").json["alerts"]
    [alert] = [alert for alert in alerts if alert["state"] == "open"]
    assert alert["started_build"] == f"n{STEP_AT:03d}"
    assert STEP_AT <= int(alert["build_id"][1:]) <= STEP_AT + 5
    assert client.get("/api/v1/alerts?state=open").json["alerts"] == [alert]
    sent = messages_about(slack, alert["id"])
    if order.startswith("newest first"):
        assert sent <= 1
        withdrawn = [a for a in alerts if a["state"] == "invalid"]
        assert all(a["history"][-1]["actor"] == "harness" for a in withdrawn)
        assert all(messages_about(slack, a["id"]) <= 1 for a in withdrawn)
    else:
        assert sent == 1
        assert alerts == [alert]  # nothing was opened and withdrawn on the way

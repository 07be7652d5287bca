"""Routing alerts (metrics/routes.yaml) through a real worker of its own: two Slack
receivers, a JSON webhook and the default webhook each receive exactly the alerts routed to
them, once, while one of them answers 500 for a while; a summary's triage follow-up goes
where its announcement went.

The worker has a Redis database and an InfluxDB database of its own, so no other worker
takes its tasks, and its own metrics folder: the shipped one plus a routes file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis

from harness.alerting.webhook import FORMAT
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.pools import WorkerPools
from harness.testing.servers import RedisServer
from harness.testing.slack_receiver import SlackReceiver, WebhookReceiver
from harness.web import create_app
from tests.conftest import CHECKOUT, TRIAGE_SECRET, bearer, post_all, wait_broker_idle

DATABASE = "harness_routes"
REDIS_DB = 9  # no other test uses it (5-8 are taken)
START = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
STEP_AT, BUILDS = 25, 34
ROUTES = """\
destinations:
  pipelines:
    slack: {{channel: "#pipelines-perf", url_env: HARNESS_WEBHOOK_PIPELINES}}
  latency:
    slack: {{channel: "#alert-latency", url_env: HARNESS_WEBHOOK_LATENCY}}
  tracker:
    webhook: {{url: "{tracker}"}}
routes:
  - match: {{tag: developer, kind: [regression, improvement]}}
    to: pipelines
  - match: {{metric: "dm_latency.*"}}
    to: [latency, tracker]
  - match: {{kind: spec, severity: critical}}
    to: tracker
"""
# metric → (dimensions, level, step at STEP_AT: 10 σ worse)
SERIES = {"pipe_tasks.runtime": ({"dataset": "hsc_rc2"}, 800.0, 80.0),
          "dm_latency.OTT1": ({"dataset": "hsc_rc2"}, 45.0, 8.0),
          "validate_drp.AM1": ({"dataset": "hsc_rc2", "filter": "r"}, 4.0, 2.0)}
UNITS = {"pipe_tasks.runtime": "s", "dm_latency.OTT1": "s", "validate_drp.AM1": "marcsec",
         "validate_drp.PA1": "mmag"}


@dataclass
class Receivers:
    """The destinations: Slack's default webhook, two team channels, an issue tracker."""

    default: SlackReceiver
    pipelines: SlackReceiver
    latency: SlackReceiver
    tracker: WebhookReceiver

    def all(self) -> dict[str, SlackReceiver]:
        return {"default": self.default, "pipelines": self.pipelines, "latency": self.latency,
                "tracker": self.tracker}


@pytest.fixture(scope="module")
def receivers() -> Iterator[Receivers]:
    """Four loopback receivers."""
    found = Receivers(SlackReceiver().start(), SlackReceiver().start(), SlackReceiver().start(),
                      WebhookReceiver().start())
    yield found
    for receiver in found.all().values():
        receiver.stop()


@pytest.fixture(scope="module")
def routed(redis_server: RedisServer, harness_env: dict[str, str], servers_dir: Path,
           receivers: Receivers, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Settings]:
    """A worker whose metrics folder routes alerts, with its own Redis and InfluxDB
    databases; the settings of an app beside it."""
    metrics = tmp_path_factory.mktemp("routed") / "metrics"
    shutil.copytree(CHECKOUT / "metrics", metrics)
    (metrics / "routes.yaml").write_text(ROUTES.format(tracker=receivers.tracker.url))
    env = {**harness_env, "HARNESS_METRICS_DIR": str(metrics),
           "HARNESS_BROKER_URL": redis_server.url.rsplit("/", 1)[0] + f"/{REDIS_DB}",
           "HARNESS_INFLUXDB_DATABASE": DATABASE,
           "HARNESS_SLACK_WEBHOOK_URL": receivers.default.url,
           "HARNESS_WEBHOOK_PIPELINES": receivers.pipelines.url,
           "HARNESS_WEBHOOK_LATENCY": receivers.latency.url}
    settings = Settings.from_env(env)
    InfluxStore(settings.influxdb_url, DATABASE).ensure_database()
    client = redis.Redis.from_url(settings.broker_url)
    client.flushdb()
    client.close()
    worker = WorkerPools(env, servers_dir / "routes").start()
    yield settings
    worker.stop()


def nightly(index: int) -> dict[str, Any]:
    """One nightly build: the three series (worse from STEP_AT on), and PA1 failing its
    minimum spec in the last build."""
    rng = np.random.default_rng(index)
    measurements = [
        {"metric": metric, "value": level + step / 10 * rng.standard_normal()
         + (step if index >= STEP_AT else 0.0), "unit": UNITS[metric], "dimensions": dimensions}
        for metric, (dimensions, level, step) in SERIES.items()]
    if index == BUILDS - 1:
        measurements.append({"metric": "validate_drp.PA1", "value": 99.0, "unit": "mmag",
                             "dimensions": {"dataset": "hsc_rc2", "filter": "r"}})
    return {"build": {"ci": "jenkins", "id": f"r{index:03d}", "branch": "main",
                      "time": (START + timedelta(days=index)).isoformat()},
            "measurements": measurements}


def told_of(receiver: SlackReceiver, alerts: dict[str, str]) -> list[set[str]]:
    """The metrics of the alerts (metric → alert id) that each delivered message names,
    message by message."""
    return [{metric for metric, alert_id in alerts.items() if alert_id in json.dumps(body)}
            for body in receiver.messages]


def test_each_destination_hears_exactly_its_alerts_once(
    routed: Settings, receivers: Receivers
) -> None:
    app = create_app(routed)
    app.config["TESTING"] = True
    client: Any = app.test_client()
    broker = redis.Redis.from_url(routed.broker_url, decode_responses=True)
    receivers.pipelines.fail(times=3, status=500)  # down for the first three tries

    post_all(client, [nightly(index) for index in range(BUILDS)])
    wait_broker_idle(broker, timeout_s=90)

    alerts = client.get("/api/v1/alerts?limit=1000").json["alerts"]
    ids = {alert["metric"]: alert["id"] for alert in alerts}
    assert len(ids) == len(alerts)
    assert sorted(ids) == ["dm_latency.OTT1", "pipe_tasks.runtime", "validate_drp.AM1",
                           "validate_drp.PA1"]
    [regressions] = [s for s in client.get("/api/v1/alert-summaries").json["summaries"]
                     if s["kind"] == "regression"]
    assert len(regressions["alerts"]) == 3  # one cause, three routes
    assert told_of(receivers.pipelines, ids) == [{"pipe_tasks.runtime"}]
    assert [r.status for r in receivers.pipelines.requests] == [500, 500, 500, 200]
    assert told_of(receivers.latency, ids) == [{"dm_latency.OTT1"}]
    assert told_of(receivers.default, ids) == [{"validate_drp.AM1"}]
    assert sorted(map(sorted, told_of(receivers.tracker, ids))) == [
        ["dm_latency.OTT1"], ["validate_drp.PA1"]]
    for document in receivers.tracker.messages:
        assert document["format"] == FORMAT and document["event"] == "opened"
        assert document["summary"]["links"]["html"].endswith(document["summary"]["id"])
    notified = {(e["actor"], e["note"]) for e in client.get(
        f"/api/v1/alerts/{ids['dm_latency.OTT1']}").json["history"]
        if e["event"] == "notified"}
    assert notified == {("slack:latency", "opened"), ("webhook:tracker", "opened")}

    # the summary's follow-up goes where its announcement went, once to each
    for receiver in receivers.all().values():
        receiver.clear()
    acked = client.post(f"/api/v1/alert-summaries/{regressions['id']}/acknowledge",
                        json={"note": "DM-7"}, headers=bearer(TRIAGE_SECRET))
    assert acked.status_code == 200 and acked.json["follow_up"] is True
    wait_broker_idle(broker, timeout_s=60)

    assert told_of(receivers.pipelines, ids) == [{"pipe_tasks.runtime"}]
    assert told_of(receivers.latency, ids) == [{"dm_latency.OTT1"}]
    assert told_of(receivers.default, ids) == [{"validate_drp.AM1"}]
    assert told_of(receivers.tracker, ids) == [{"dm_latency.OTT1"}]
    [document] = receivers.tracker.messages
    assert document["event"] == "acknowledged" and document["summary"]["id"] == regressions["id"]
    assert all(m["text"].startswith("Acknowledged: Regression: 1 alert")
               for name in ("pipelines", "latency", "default")
               for m in receivers.all()[name].messages)
    broker.close()

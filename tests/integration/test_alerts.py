"""Excursions and spec breaches become alerts once, at the right build; triage; PR builds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import redis

from harness.catalog import load_catalog
from harness.detection.verdicts import judge
from harness.formats.native import parse_submission
from harness.storage.influx import InfluxStore, result_point
from harness.testing.pools import WorkerPools
from harness.times import nanoseconds
from harness.web.api.alerts import SCANS
from tests.conftest import (
    CHECKOUT,
    INGEST_SECRET,
    TRIAGE_SECRET,
    bearer,
    post_all,
    run_task,
    wait_broker_idle,
)

START = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)


def nightly(index: int, value: float, metric: str = "dm_latency.OTT1", **build: Any
            ) -> dict[str, Any]:
    """One nightly build's submission of one metric on hsc_rc2."""
    return {
        "build": {"ci": "jenkins", "id": f"n{index:03d}", "branch": "main",
                  "time": (START + timedelta(days=index)).isoformat(),
                  "packages": [{"name": "jointcal", "commit": "c2" if index >= 25 else "c1",
                                "url": "https://github.com/lsst/jointcal"}], **build},
        "dimensions": {"dataset": "hsc_rc2"},
        "measurements": [{"metric": metric, "value": value, "unit": "s"}],
    }


def noisy(count: int, level: float = 45.0, sigma: float = 1.0, seed: int = 3) -> list[float]:
    """A seeded noisy series."""
    return list(level + sigma * np.random.default_rng(seed).standard_normal(count))


def test_a_step_raises_exactly_one_alert_at_the_step(client: Any, system: InfluxStore) -> None:
    values = noisy(40)
    values[25:] = [v + 8.0 for v in values[25:]]  # 8 σ worse from build 25 on

    statuses = post_all(client, [nightly(i, v) for i, v in enumerate(values)])

    alerts = client.get("/api/v1/alerts?kind=regression").json["alerts"]
    assert len(alerts) == 1
    [alert] = alerts
    assert alert["metric"] == "dm_latency.OTT1"
    assert alert["dimensions"] == {"dataset": "hsc_rc2"}
    assert alert["started_build"] == "n025"
    assert int(alert["build_id"][1:]) - 25 <= 5  # confirmed within a few builds
    assert alert["change"] > 5
    assert alert["state"] == "open"
    raised_in = [s["build"]["id"] for s in statuses if s["alerts"]]
    assert raised_in == [alert["build_id"]]
    changes = {c["package"]: (c["from"], c["to"]) for c in alert["changes"]}
    assert changes == {"jointcal": ("c1", "c2")}  # the commit that came with build 25
    step_result = statuses[30]["results"][0]
    assert step_result["excursion"]["baseline"] is not None


def test_a_lone_outlier_does_not_alert(client: Any, system: InfluxStore) -> None:
    values = noisy(40, seed=5)
    values[30] += 15.0
    post_all(client, [nightly(i, v) for i, v in enumerate(values)])
    assert client.get("/api/v1/alerts?kind=regression").json["alerts"] == []


def test_reposting_a_history_raises_nothing_new(client: Any, system: InfluxStore) -> None:
    values = noisy(32, seed=7)
    values[24:] = [v + 8.0 for v in values[24:]]
    bodies = [nightly(i, v) for i, v in enumerate(values)]
    post_all(client, bodies)
    first = client.get("/api/v1/alerts").json["alerts"]
    post_all(client, bodies[-8:])
    assert client.get("/api/v1/alerts").json["alerts"] == first


def test_pr_build_is_compared_with_its_base_branch_and_not_alerted(
    client: Any, system: InfluxStore
) -> None:
    post_all(client, [nightly(i, v) for i, v in enumerate(noisy(30, seed=11))])
    pr = nightly(31, 70.0, branch="tickets/DM-1", ci="github-actions",
                 pull_request={"number": 7, "url": "https://github.com/x/y/pull/7",
                               "base": "main"})

    [status] = post_all(client, [pr])

    excursion = status["results"][0]["excursion"]
    assert abs(excursion["baseline"] - 45.0) < 1.0  # judged against main's history
    assert excursion["change"] > 20
    assert status["alerts"] == []
    assert client.get("/api/v1/alerts").json["alerts"] == []


def test_spec_failure_alerts_on_main_not_on_a_pr(client: Any, system: InfluxStore) -> None:
    history = [nightly(i, v) for i, v in enumerate(noisy(12, seed=2))]
    failing_pr = nightly(12, 150.0, branch="tickets/DM-2", ci="github-actions",
                         pull_request={"number": 8, "base": "main"})
    failing_main = nightly(13, 150.0)
    post_all(client, [*history, failing_pr])
    assert client.get("/api/v1/alerts?kind=spec").json["alerts"] == []

    [status] = post_all(client, [failing_main])

    [alert] = client.get("/api/v1/alerts?kind=spec").json["alerts"]
    assert alert["build_id"] == "n013"
    assert alert["severity"] == "critical"
    assert "fails the minimum spec" in alert["reason"]
    assert [a["id"] for a in status["alerts"] if a["kind"] == "spec"] == [alert["id"]]


def test_triage_lifecycle_and_scopes(client: Any, system: InfluxStore) -> None:
    post_all(client, [*(nightly(i, v) for i, v in enumerate(noisy(12, seed=4))),
                      nightly(12, 150.0)])
    [alert] = client.get("/api/v1/alerts?kind=spec").json["alerts"]
    url = f"/api/v1/alerts/{alert['id']}"
    announced(client, url)  # Slack heard of it: the next event is the person's

    assert client.post(f"{url}/acknowledge", headers=bearer(INGEST_SECRET)).status_code == 403
    assert client.post(f"{url}/acknowledge").status_code == 401
    acked = client.post(f"{url}/acknowledge", json={"note": "looking"},
                        headers=bearer(TRIAGE_SECRET))
    assert acked.status_code == 200
    assert acked.json["state"] == "acknowledged"
    assert acked.json["history"][-1]["actor"] == "people"
    assert acked.json["history"][-1]["note"] == "looking"
    assert client.get("/api/v1/alerts?state=open").json["alerts"] == []
    assert client.get("/api/v1/alerts?state=open&metric=dm_latency.OTT1").json["alerts"] == []
    assert len(client.get("/api/v1/alerts?state=acknowledged&metric=dm_latency.OTT1")
               .json["alerts"]) == 1
    resolved = client.post(f"{url}/resolve", headers=bearer(TRIAGE_SECRET))
    assert resolved.json["state"] == "resolved"
    again = client.post(f"{url}/acknowledge", headers=bearer(TRIAGE_SECRET))
    assert again.status_code == 409
    events = [e["event"] for e in client.get(url).json["history"]]
    assert [e for e in events if e != "notified"] == ["opened", "acknowledged", "resolved"]
    assert client.get("/api/v1/alerts/nope").status_code == 404
    assert client.get("/api/v1/alerts?state=bogus").status_code == 422


def test_acknowledged_regression_resets_the_baseline(client: Any, system: InfluxStore) -> None:
    values = noisy(34, seed=9)
    values[22:] = [v + 8.0 for v in values[22:]]
    post_all(client, [nightly(i, v) for i, v in enumerate(values)])
    [alert] = client.get("/api/v1/alerts?kind=regression").json["alerts"]
    before = post_all(client, [nightly(34, 53.0)])[0]["results"][0]["excursion"]
    assert before["baseline"] < 48  # still judged against the old level

    client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=bearer(TRIAGE_SECRET))
    after = post_all(client, [nightly(35, 53.0)])[0]["results"][0]["excursion"]

    assert after["baseline"] > 50  # the new level is the baseline now


def announced(client: Any, url: str, timeout_s: float = 30.0) -> None:
    """Wait until an alert's Slack message is out (its `notified` event is logged)."""
    deadline = time.monotonic() + timeout_s
    while not any(event["event"] == "notified" for event in client.get(url).json["history"]):
        assert time.monotonic() < deadline, "the alert was not announced"
        time.sleep(0.1)


def wait_for_alerts(client: Any, query: str, count: int, timeout_s: float = 30.0
                    ) -> list[dict[str, Any]]:
    """Poll the alert list until it holds `count` alerts."""
    deadline = time.monotonic() + timeout_s
    while True:
        alerts = client.get(f"/api/v1/alerts?{query}").json["alerts"]
        if len(alerts) >= count or time.monotonic() > deadline:
            return alerts
        time.sleep(0.2)


def scan(client: Any, worker: WorkerPools, name: str) -> int:
    """Run a scan through the API and wait until the worker has run it: how many alerts it
    opened (its return value)."""
    def start() -> None:
        response = client.post(f"/api/v1/scans/{name}", headers=bearer(TRIAGE_SECRET))
        assert response.status_code == 202

    return int(run_task(worker, SCANS[name], start))


def test_a_missing_nightly_value_alerts_once(client: Any, system: InfluxStore,
                                             worker: WorkerPools) -> None:
    values = noisy(20, seed=1)
    post_all(client, [nightly(i, v) for i, v in enumerate(values) if i != 12])

    assert scan(client, worker, "missing") >= 2
    assert scan(client, worker, "missing") == 0  # the same gap again: nothing new
    alerts = client.get("/api/v1/alerts?kind=missing&metric=dm_latency.OTT1").json["alerts"]

    assert len(alerts) == 2  # the night that was skipped, and "nothing since the last build"
    gap = next(a for a in alerts if "until" in a["reason"])
    assert gap["build_id"] == "n011"
    assert "2026-09-12" in gap["reason"]
    assert client.post("/api/v1/scans/nope", headers=bearer(TRIAGE_SECRET)).status_code == 404


def test_change_point_scan_places_a_shift_on_its_build(client: Any, system: InfluxStore) -> None:
    values = noisy(60, sigma=0.5, seed=21)
    values[30:] = [v + 3.0 for v in values[30:]]
    # stored by other means than the worker (an import), so no excursion alert covers it
    catalog = load_catalog(CHECKOUT / "metrics")
    for index, value in enumerate(values):
        parsed = parse_submission(nightly(index, value), catalog, received=START)
        submission = parsed.submission
        system.write([result_point(submission, judge(m, catalog), nanoseconds(submission.time))
                      for m in submission.measurements])
    assert client.get("/api/v1/alerts").json["alerts"] == []

    client.post("/api/v1/scans/change-points", headers=bearer(TRIAGE_SECRET))
    [alert] = wait_for_alerts(client, "kind=changepoint", 1)

    assert alert["build_id"] == "n030"
    assert alert["severity"] == "warning"
    assert alert["change"] == pytest.approx(3.0, abs=0.6)


def test_change_point_scan_does_not_repeat_an_excursion_alert(
    client: Any, system: InfluxStore, worker: WorkerPools
) -> None:
    values = noisy(50, seed=8)
    values[25:] = [v + 8.0 for v in values[25:]]
    post_all(client, [nightly(i, v) for i, v in enumerate(values)])
    assert len(client.get("/api/v1/alerts?kind=regression").json["alerts"]) == 1

    assert scan(client, worker, "change-points") == 0  # it ran, and opened nothing

    assert client.get("/api/v1/alerts?kind=changepoint").json["alerts"] == []


def test_alerts_of_one_build_are_one_slack_message(
    client: Any, system: InfluxStore, slack: Any, redis_client: redis.Redis
) -> None:
    values = noisy(36, seed=13)
    values[24:] = [v + 8.0 for v in values[24:]]
    bodies = []
    for index, value in enumerate(values):
        body = nightly(index, value)
        body["build"]["id"] = f"g{index:03d}"  # ids no other test uses: its messages are ours
        body["measurements"] = [
            {"metric": "dm_latency.OTT1", "value": value, "dimensions": {"dataset": dataset}}
            for dataset in ("hsc_rc2", "dc2_test_med")]
        bodies.append(body)
    slack.clear()

    post_all(client, bodies)

    alerts = client.get("/api/v1/alerts?kind=regression").json["alerts"]
    assert len(alerts) == 2
    assert len({alert["build_id"] for alert in alerts}) == 1
    def ours(receiver: Any) -> list[Any]:
        return [m for m in receiver.messages if "jenkins g" in m["text"]]

    slack.wait_for(lambda receiver: len(ours(receiver)) >= 1)
    wait_broker_idle(redis_client)  # every notification task has run: no second message
    [message] = ours(slack)
    assert message["text"].startswith("[warning] 2 alerts in jenkins g0")
    assert all(f"/dash/alerts/{alert['id']}" in str(message["blocks"]) for alert in alerts)

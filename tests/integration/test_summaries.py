"""Alert summaries and bulk triage against the real app, worker, Redis, InfluxDB and a Slack
receiver: a step in 8 series is one summary; acknowledging it acknowledges the 8 with one
write and one Slack follow-up; a later cause is another summary; bulk triage by ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import redis

from harness.storage.influx import InfluxStore
from harness.testing.slack_receiver import SlackReceiver
from tests.conftest import (
    INGEST_SECRET,
    TRIAGE_SECRET,
    bearer,
    post_all,
    wait_broker_idle,
    wait_until,
)

START = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)
DATASETS = ("hsc_rc2", "dc2_test_med")
# metric → (level, step at the first cause): 10 σ each, worse (n_sources: higher is better)
FIRST = {"pipe_tasks.runtime": (800.0, 80.0), "pipe_tasks.wall_time": (1000.0, 100.0),
         "pipe_tasks.peak_memory": (2000.0, 200.0), "pipe_tasks.n_sources": (50000.0, -5000.0)}
UNITS = {"pipe_tasks.runtime": "s", "pipe_tasks.wall_time": "s", "pipe_tasks.peak_memory": "MB",
         "pipe_tasks.n_sources": "", "dm_latency.calProcTime": "s"}
SECOND = "dm_latency.calProcTime"  # steps two weeks later, in 2 series
FIRST_STEP, SECOND_STEP, BUILDS = 25, 39, 48


def nightly(index: int, prefix: str, values: dict[tuple[str, str], float]) -> dict[str, Any]:
    """One nightly build of main: every series' value, the packages of that night (jointcal
    changes with the first step, afw with the second)."""
    return {
        "build": {"ci": "jenkins", "id": f"{prefix}{index:03d}", "branch": "main",
                  "time": (START + timedelta(days=index)).isoformat(),
                  "url": f"https://ci.example.org/{prefix}{index:03d}",
                  "packages": [
                      {"name": "jointcal", "commit": "c2" if index >= FIRST_STEP else "c1"},
                      {"name": "afw", "commit": "d2" if index >= SECOND_STEP else "d1"}]},
        "measurements": [{"metric": metric, "value": value, "unit": UNITS[metric],
                          "dimensions": {"dataset": dataset}}
                         for (metric, dataset), value in values.items()],
    }


def history(prefix: str) -> list[dict[str, Any]]:
    """48 nightly builds of 10 series: a step at build 25 in 8 of them (4 metrics × 2
    datasets), another at build 39 in the 2 others."""
    rng = np.random.default_rng(17)
    bodies = []
    for index in range(BUILDS):
        values = {}
        for metric, (level, step) in FIRST.items():
            for dataset in DATASETS:
                noise = abs(step) / 10 * rng.standard_normal()
                values[(metric, dataset)] = level + noise + (step if index >= FIRST_STEP else 0)
        for dataset in DATASETS:
            values[(SECOND, dataset)] = 100.0 + rng.standard_normal() + (
                10.0 if index >= SECOND_STEP else 0)
        bodies.append(nightly(index, prefix, values))
    return bodies


def follow_ups(slack: SlackReceiver, title: str, summary_id: str) -> list[Any]:
    """The follow-ups the receiver accepted for one step on one summary."""
    return [m for m in slack.messages
            if m["text"].startswith(f"{title}:") and f"/alert-summaries/{summary_id}" in
            m["text"]]


def told(client: Any, alert_id: str, event: str) -> bool:
    """Whether the alert's log says Slack was told of this event of it."""
    history = client.get(f"/api/v1/alerts/{alert_id}").json["history"]
    return any(e["event"] == "notified" and e["note"] == event for e in history)


def test_a_step_in_eight_series_is_one_summary_triaged_as_one(
    client: Any, system: InfluxStore, slack: SlackReceiver, redis_client: redis.Redis
) -> None:
    post_all(client, history("s"))
    regressions = client.get("/api/v1/alerts?kind=regression&limit=1000").json["alerts"]
    assert len(regressions) == 10

    summaries = client.get("/api/v1/alert-summaries").json["summaries"]

    # a second cause two weeks later is a second summary, listed first (newest onset)
    assert [(s["kind"], s["build"]["id"], len(s["alerts"])) for s in summaries] == [
        ("regression", "s039", 2), ("regression", "s025", 8)]
    later, first = summaries
    assert first["counts"] == {metric: 2 for metric in sorted(FIRST)}
    assert later["counts"] == {SECOND: 2}
    assert {a["id"] for a in first["alerts"] + later["alerts"]} == {a["id"] for a in regressions}
    assert first["state"] == "open" and first["severity"] == "warning"
    assert first["started_build"] == "s025"
    assert first["build"]["ci"] == "jenkins" and first["build"]["time"].startswith("2026-09-26")
    assert [(c["package"], c["from"], c["to"]) for c in first["changes"]] == [
        ("jointcal", "c1", "c2")]
    assert [(c["package"], c["from"], c["to"]) for c in later["changes"]] == [
        ("afw", "d1", "d2")]
    assert client.get(first["links"]["self"]).json == first
    assert client.get(first["links"]["html"]).status_code == 200
    assert [s["id"] for s in client.get(
        f"/api/v1/alert-summaries?metric={SECOND}&state=open&kind=regression"
    ).json["summaries"]] == [later["id"]]
    bad = client.get("/api/v1/alert-summaries?state=shut&colour=red")
    assert bad.status_code == 422
    assert {d["path"] for d in bad.json["details"]} == {"state", "colour"}
    assert client.get("/api/v1/alert-summaries/0123456789abcdef0123").status_code == 404

    # acknowledging the summary acknowledges its 8 alerts: one write, one follow-up
    slack.clear()
    acked = client.post(f"/api/v1/alert-summaries/{first['id']}/acknowledge",
                        json={"note": "jointcal c2, DM-1"}, headers=bearer(TRIAGE_SECRET))

    assert acked.status_code == 200, acked.json
    assert sorted(acked.json["changed"]) == sorted(a["id"] for a in first["alerts"])
    assert acked.json["unchanged"] == [] and acked.json["follow_up"] is True
    assert acked.json["summary"]["state"] == "acknowledged"
    assert {a["state"] for a in acked.json["summary"]["alerts"]} == {"acknowledged"}
    for alert in first["alerts"]:
        steps = [(e["event"], e["actor"], e["note"]) for e in client.get(
            alert["links"]["self"]).json["history"] if e["event"] != "notified"]
        assert steps[-1] == ("acknowledged", "people", "jointcal c2, DM-1")
    wait_until("the follow-up", lambda: all(told(client, a["id"], "acknowledged")
                                            for a in first["alerts"]))
    wait_broker_idle(redis_client)  # every task it set off has run: no second message
    [message] = follow_ups(slack, "Acknowledged", first["id"])
    assert all(f"/dash/alerts/{a['id']}" in str(message["blocks"]) for a in first["alerts"])
    assert [m for m in slack.messages if m["text"].startswith("Acknowledged")] == [message]
    assert client.get(f"/api/v1/alert-summaries/{later['id']}").json["state"] == "open"

    # again: nothing changes, nothing is posted
    again = client.post(f"/api/v1/alert-summaries/{first['id']}/acknowledge",
                        headers=bearer(TRIAGE_SECRET))
    assert again.json["changed"] == [] and again.json["follow_up"] is False
    assert {u["state"] for u in again.json["unchanged"]} == {"acknowledged"}

    # one alert invalidated alone; resolving the summary leaves it alone and says so
    lone = first["alerts"][0]["id"]
    assert client.post(f"/api/v1/alerts/{lone}/invalidate",
                       headers=bearer(TRIAGE_SECRET)).status_code == 200
    resolved = client.post(f"/api/v1/alert-summaries/{first['id']}/resolve",
                           headers=bearer(TRIAGE_SECRET)).json
    assert resolved["unchanged"] == [{"id": lone, "state": "invalid"}]
    assert len(resolved["changed"]) == 7
    assert resolved["summary"]["state"] == "resolved"
    wait_until("the resolve follow-up", lambda: follow_ups(slack, "Resolved", first["id"]))
    wait_broker_idle(redis_client)
    [message] = follow_ups(slack, "Resolved", first["id"])
    assert message["text"].startswith("Resolved: Regression: 7 alerts on main since jenkins "
                                      "s025")
    assert lone not in str(message["blocks"])
    assert [s["id"] for s in client.get("/api/v1/alert-summaries?state=resolved").json[
        "summaries"]] == [first["id"]]


def spec_history(prefix: str) -> list[dict[str, Any]]:
    """Three builds of main; the third fails OTT1's minimum spec on both datasets."""
    return [{"build": {"ci": "jenkins", "id": f"{prefix}{index}", "branch": "main",
                       "time": (START + timedelta(days=index)).isoformat()},
             "measurements": [{"metric": "dm_latency.OTT1", "unit": "s",
                               "value": 150.0 if index == 2 else 45.0,
                               "dimensions": {"dataset": dataset}} for dataset in DATASETS]}
            for index in range(3)]


def test_bulk_triage_checks_every_id_before_writing(
    client: Any, system: InfluxStore, slack: SlackReceiver, redis_client: redis.Redis
) -> None:
    post_all(client, spec_history("b"))
    alerts = client.get("/api/v1/alerts?kind=spec").json["alerts"]
    assert len(alerts) == 2
    ids = [alert["id"] for alert in alerts]
    [summary] = client.get("/api/v1/alert-summaries?kind=spec").json["summaries"]
    assert summary["severity"] == "critical" and len(summary["alerts"]) == 2
    slack.clear()

    refused = [client.post("/api/v1/alerts/bulk", json=body, headers=bearer(TRIAGE_SECRET))
               for body in ({"ids": [*ids, "nope"], "action": "invalidate"},
                            {"ids": ids, "action": "close", "colour": "red"},
                            {"ids": [], "action": "resolve"}, ["x"])]

    assert [r.status_code for r in refused] == [422, 422, 422, 422]
    assert refused[0].json["details"] == [{"path": "ids[2]", "message": "no alert 'nope'"}]
    assert "nope" in refused[0].json["error"]
    assert {d["path"] for d in refused[1].json["details"]} == {"action", "colour"}
    assert {a["state"] for a in client.get("/api/v1/alerts").json["alerts"]} == {"open"}

    done = client.post("/api/v1/alerts/bulk", headers=bearer(TRIAGE_SECRET),
                       json={"ids": ids, "action": "invalidate", "note": "flaky runner"})

    assert done.status_code == 200, done.json
    assert sorted(done.json["changed"]) == sorted(ids) and done.json["unchanged"] == []
    assert [a["state"] for a in done.json["alerts"]] == ["invalid", "invalid"]
    assert client.get(summary["links"]["self"]).json["state"] == "invalid"
    wait_until("the follow-up", lambda: all(told(client, i, "invalid") for i in ids))
    wait_broker_idle(redis_client)
    [message] = [m for m in slack.messages if m["text"].startswith("Marked invalid")]
    assert f"/alert-summaries/{summary['id']}" in message["text"]  # they are one summary's
    assert "flaky runner" in str(message["blocks"])
    again = client.post("/api/v1/alerts/bulk", headers=bearer(TRIAGE_SECRET),
                        json={"ids": ids, "action": "resolve"})
    assert again.json["changed"] == []
    assert again.json["unchanged"] == [{"id": i, "state": "invalid"} for i in ids]


def test_triage_of_summaries_and_sets_needs_a_triage_token(
    client: Any, system: InfluxStore
) -> None:
    post_all(client, spec_history("t"))
    [summary] = client.get("/api/v1/alert-summaries").json["summaries"]
    url = f"/api/v1/alert-summaries/{summary['id']}/acknowledge"
    body = {"ids": [a["id"] for a in summary["alerts"]], "action": "acknowledge"}

    for headers, status in (({}, 401), (bearer(INGEST_SECRET), 403),
                            ({"Authorization": "Bearer not-a-token-0123456789"}, 401)):
        assert client.post(url, json={}, headers=headers).status_code == status
        assert client.post("/api/v1/alerts/bulk", json=body,
                           headers=headers).status_code == status
    now = client.get(summary["links"]["self"]).json  # nothing changed
    assert now["state"] == "open"
    assert {e["event"] for a in now["alerts"] for e in a["history"]} <= {"opened", "notified"}
    assert client.post(f"/api/v1/alert-summaries/{summary['id']}/close",
                       headers=bearer(TRIAGE_SECRET)).status_code == 404
    assert client.post(url, headers=bearer(TRIAGE_SECRET)).json["summary"]["state"] == \
        "acknowledged"

"""Alert summaries and bulk triage against the real app, worker, Redis, InfluxDB and a Slack
receiver: a step in 8 series is one summary; acknowledging it acknowledges the 8 with one
write and one Slack follow-up; a later cause is another summary; bulk triage by ids; an
owner and a bug link that survive a restart and reach the follow-up; alerts moved to
another summary, as members or downstream effects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import redis

from harness.alerting.alerts import Alert, Severity, alert_id
from harness.alerting.log import AlertLog
from harness.alerting.summaries import cause_of
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.slack_receiver import SlackReceiver
from harness.web import create_app
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
            if m["text"].startswith(f"{title}:") and f"/dash/summaries/{summary_id}" in
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
    assert f"/dash/summaries/{summary['id']}" in message["text"]  # they are one summary's
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


# --- ownership and moves, on alerts written to the real store -----------------------------

def literal(metric: str, dataset: str, day: int, severity: Severity = "critical") -> Alert:
    """A spec alert of one series noticed (and begun) at nightly build n<day>."""
    dimensions = {"dataset": dataset}
    return Alert(
        id=alert_id(metric, dimensions, "main", f"jenkins/n{day:03d}", "spec"), kind="spec",
        severity=severity, metric=metric, dimensions=dimensions, branch="main",
        build_ci="jenkins", build_id=f"n{day:03d}",
        time=(START + timedelta(days=day)).isoformat().replace("+00:00", "Z"),
        reason=f"{metric} fails its spec", unit="s", value=150.0)


def two_causes(store: InfluxStore) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two summaries written to the store: spec warnings of OTT1 at n001 (2 alerts), spec
    failures of calProcTime at n002 (2 alerts)."""
    AlertLog(store).open([
        *(literal("dm_latency.OTT1", dataset, 1, "warning") for dataset in DATASETS),
        *(literal("dm_latency.calProcTime", dataset, 2) for dataset in DATASETS)])
    return (summary_of(literal("dm_latency.OTT1", DATASETS[0], 1, "warning")),
            summary_of(literal("dm_latency.calProcTime", DATASETS[0], 2)))


def summary_of(alert: Alert) -> dict[str, Any]:
    """Which summary the alert's cause is: its id and its API URL."""
    summary_id = cause_of(alert).id
    return {"id": summary_id, "url": f"/api/v1/alert-summaries/{summary_id}"}


def histories(client: Any, summary: dict[str, Any]) -> set[str]:
    """The events of every alert of a summary."""
    now = client.get(summary["url"]).json
    return {e["event"] for a in now["alerts"] + now["downstream"] for e in a["history"]}


def test_an_owner_and_a_bug_link_are_stored_and_named_in_the_follow_up(
    client: Any, system: InfluxStore, slack: SlackReceiver, redis_client: redis.Redis,
    settings: Settings
) -> None:
    _, failing = two_causes(system)
    url = failing["url"] + "/owner"
    jane, bug = "Jane Doe <jd@example.org>", "https://jira.example.org/browse/DM-1?focus=1"

    refused = [client.put(url, json=body, headers=bearer(TRIAGE_SECRET)) for body in (
        {"assignee": jane, "owner": "me", "colour": "red"}, {"bug_url": "DM-1"}, {}, [jane])]
    assert [r.status_code for r in refused] == [422, 422, 422, 422]
    assert {d["path"] for d in refused[0].json["details"]} == {"owner", "colour"}
    assert "owner" in refused[0].json["error"] and "colour" in refused[0].json["error"]
    assert [d["path"] for d in refused[1].json["details"]] == ["bug_url"]
    assert client.put(url, json={"assignee": jane}).status_code == 401
    assert client.put(url, json={"assignee": jane},
                      headers=bearer(INGEST_SECRET)).status_code == 403
    assert client.put("/api/v1/alert-summaries/0123456789abcdef0123/owner",
                      json={"assignee": jane}, headers=bearer(TRIAGE_SECRET)).status_code == 404
    assert histories(client, failing) == {"opened"}  # nothing was stored

    answer = client.put(url, json={"assignee": jane, "bug_url": bug},
                        headers=bearer(TRIAGE_SECRET))

    assert answer.status_code == 200, answer.json
    assert (answer.json["assignee"], answer.json["bug_url"]) == (jane, bug)
    assert answer.json["owner_changed"]["by"] == "people"
    assert answer.json == client.get(failing["url"]).json
    # restart-safe: another app (a restarted web process) reads it from the store
    restarted = create_app(settings).test_client()
    again = restarted.get(failing["url"]).get_json()
    assert (again["assignee"], again["bug_url"]) == (jane, bug)
    listed = restarted.get("/api/v1/alert-summaries").get_json()["summaries"]
    assert [(s["assignee"], s["bug_url"]) for s in listed] == [(jane, bug), (None, None)]

    # a field left out stays, null clears
    cleared = client.put(url, json={"bug_url": None}, headers=bearer(TRIAGE_SECRET)).json
    assert (cleared["assignee"], cleared["bug_url"]) == (jane, None)
    client.put(url, json={"bug_url": bug}, headers=bearer(TRIAGE_SECRET))

    # the follow-up of a step on the summary names the assignee and the bug link
    slack.clear()
    acked = client.post(failing["url"] + "/acknowledge", json={"note": "on it"},
                        headers=bearer(TRIAGE_SECRET))
    assert acked.json["follow_up"] is True
    wait_until("the follow-up", lambda: follow_ups(slack, "Acknowledged", failing["id"]))
    wait_broker_idle(redis_client)
    [message] = follow_ups(slack, "Acknowledged", failing["id"])
    text = str(message["blocks"])
    assert "assigned to Jane Doe &lt;jd@example.org&gt;" in text
    assert f"<{bug}|bug link>" in text


def test_an_alert_moved_to_another_summary_is_listed_there_and_not_in_its_own(
    client: Any, system: InfluxStore
) -> None:
    warnings, failing = two_causes(system)
    [first, second] = client.get(failing["url"]).json["alerts"]
    move = f"/api/v1/alerts/{first['id']}/reassign"

    refused = [client.post(move, json=body, headers=bearer(TRIAGE_SECRET)) for body in (
        {"summary": "0123456789abcdef0123"}, {"summary": failing["id"], "relation": "downstream"},
        {"summary": warnings["id"], "relation": "sideways", "colour": 1}, {"relation": "member"})]
    assert [r.status_code for r in refused] == [422, 422, 422, 422]
    assert refused[0].json["details"] == [
        {"path": "summary", "message": "no alert summary '0123456789abcdef0123'"}]
    assert refused[0].json["error"] == "cannot move: no alert summary '0123456789abcdef0123'"
    assert [d["path"] for d in refused[1].json["details"]] == ["relation"]
    assert {d["path"] for d in refused[2].json["details"]} == {"colour", "relation"}
    assert [d["path"] for d in refused[3].json["details"]] == ["summary"]
    assert client.post("/api/v1/alerts/nope/reassign", json={"summary": warnings["id"]},
                       headers=bearer(TRIAGE_SECRET)).status_code == 404
    assert client.post(move, json={"summary": warnings["id"]}).status_code == 401
    assert histories(client, failing) == {"opened"}  # nothing was stored

    answer = client.post(move, json={"summary": warnings["id"], "note": "same cause"},
                         headers=bearer(TRIAGE_SECRET))

    assert answer.status_code == 200, answer.json
    assert answer.json["from"] == failing["id"]
    assert answer.json["alert"]["reassigned"] == {"summary": warnings["id"],
                                                  "relation": "member"}
    assert answer.json["alert"]["history"][-1]["note"] == "same cause"
    there = client.get(warnings["url"]).json
    assert answer.json["summary"] == there
    assert first["id"] in {a["id"] for a in there["alerts"]} and len(there["alerts"]) == 3
    assert there["severity"] == "critical"  # a member counts
    assert there["counts"] == {"dm_latency.OTT1": 2, "dm_latency.calProcTime": 1}
    assert [a["id"] for a in client.get(failing["url"]).json["alerts"]] == [second["id"]]

    # the other one as a downstream effect: its own summary is gone, it is listed apart
    downstream = client.post(f"/api/v1/alerts/{second['id']}/reassign", headers=bearer(
        TRIAGE_SECRET), json={"summary": warnings["id"], "relation": "downstream"}).json
    assert [a["id"] for a in downstream["summary"]["downstream"]] == [second["id"]]
    assert client.get(failing["url"]).status_code == 404
    assert [s["id"] for s in client.get("/api/v1/alert-summaries").json["summaries"]] == [
        warnings["id"]]
    # a step on the summary reaches its downstream alert too
    acked = client.post(warnings["url"] + "/acknowledge", headers=bearer(TRIAGE_SECRET)).json
    assert second["id"] in acked["changed"] and len(acked["changed"]) == 4
    assert acked["summary"]["downstream"][0]["state"] == "acknowledged"

    # back to its own cause: the move is undone
    back = client.post(move, json={"summary": failing["id"]}, headers=bearer(TRIAGE_SECRET))
    assert back.status_code == 200, back.json
    assert back.json["summary"]["id"] == failing["id"] and "reassigned" not in back.json["alert"]
    assert [a["id"] for a in client.get(failing["url"]).json["alerts"]] == [first["id"]]


def test_bulk_moves_hand_picked_alerts_to_a_summary(client: Any, system: InfluxStore) -> None:
    warnings, failing = two_causes(system)
    ids = [a["id"] for a in client.get(failing["url"]).json["alerts"]]

    refused = [client.post("/api/v1/alerts/bulk", json=body, headers=bearer(TRIAGE_SECRET))
               for body in ({"ids": ids, "action": "reassign"},
                            {"ids": ids, "action": "invalidate", "summary": warnings["id"]},
                            {"ids": ids, "action": "reassign", "summary": failing["id"],
                             "relation": "downstream"})]
    assert [r.status_code for r in refused] == [422, 422, 422]
    assert [d["path"] for d in refused[0].json["details"]] == ["summary"]
    assert [d["path"] for d in refused[1].json["details"]] == ["summary"]
    assert [d["path"] for d in refused[2].json["details"]] == ["ids[0]", "ids[1]"]
    assert histories(client, failing) == {"opened"}

    done = client.post("/api/v1/alerts/bulk", headers=bearer(TRIAGE_SECRET), json={
        "ids": ids, "action": "reassign", "summary": warnings["id"], "relation": "downstream"})

    assert done.status_code == 200, done.json
    assert (done.json["event"], sorted(done.json["changed"])) == ("reassigned", sorted(ids))
    assert {a["reassigned"]["relation"] for a in done.json["alerts"]} == {"downstream"}
    there = client.get(warnings["url"]).json
    assert sorted(a["id"] for a in there["downstream"]) == sorted(ids)
    assert (there["severity"], len(there["alerts"])) == ("warning", 2)  # not counted

"""Slack notifications: Block Kit messages, exactly-once delivery through a real worker, and
one message per alert summary however many builds confirm its alerts."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis

from harness.alerting.alerts import Alert, alert_id
from harness.alerting.delivery import notified_key, notify_once
from harness.alerting.slack import alert_message, follow_up_message, headline, message_for
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.pools import WorkerPools
from harness.testing.servers import RedisServer
from harness.testing.slack_receiver import SlackReceiver
from harness.web import create_app
from tests.conftest import graced_env, harness_keys, post_all, wait_broker_idle
from tests.integration.test_alerts import nightly
from tests.integration.test_summaries import history as eight_series
from workers import NOTIFY_ALERT, create_celery

PUBLIC = "http://127.0.0.1:5000"
GRACED_DB = 10  # the broker database of the workers that wait out the shipped grace
BLOCK_TYPES = {"header", "section", "actions", "context", "divider"}
DIMENSIONS = {"dataset": "hsc_rc2", "filter": "r"}
CHANGES = (
    {"package": "meas_astrom", "from": "9c1d2e4", "to": "b7a0f53",
     "url": "https://github.com/lsst/meas_astrom", "kind": "changed",
     "compare_url": "https://github.com/lsst/meas_astrom/compare/9c1d2e4...b7a0f53"},
    {"package": "obs_subaru", "from": None, "to": "41e8c9a",
     "url": "https://github.com/lsst/obs_subaru", "kind": "added"},
)
REGRESSION = Alert(
    id=alert_id("validate_drp.AM1", DIMENSIONS, "main", "jenkins/nightly-2026-06-20",
                "regression"),
    kind="regression", severity="critical", metric="validate_drp.AM1", dimensions=DIMENSIONS,
    branch="main", build_ci="jenkins", build_id="nightly-2026-06-20",
    time="2026-06-20T04:10:00Z", unit="marcsec", value=9.6, baseline=7.0, change=2.6,
    relative_change=0.371,
    reason="9.6 marcsec is 8.7 MAD above the median of the last 20 main builds (7.0 marcsec)",
    build_url="https://ci.lsst.codes/job/nightly/2026-06-20/", commit="3f2c9e1",
    pull_request={"number": 412, "url": "https://github.com/lsst/pipe_tasks/pull/412",
                  "base": "main"},
    changes=CHANGES,
)
KINDS = {
    "regression": REGRESSION,
    "improvement": replace(REGRESSION, kind="improvement", severity="info", value=5.8,
                           change=-1.2, relative_change=-0.171,
                           reason="5.8 marcsec is 4.0 MAD below the median"),
    "spec": replace(REGRESSION, kind="spec", severity="warning", metric="validate_drp.PA1",
                    unit="mmag", value=5.4, baseline=None, change=None, relative_change=None,
                    spec="validate_drp.PA1.minimum", threshold=8.0,
                    reason="validate_drp.PA1 = 5.4 mmag meets only the minimum spec "
                           "(<= 8 mmag, validate_drp.PA1.minimum), not design"),
    "missing": replace(REGRESSION, kind="missing", severity="warning", value=None,
                       baseline=None, change=None, relative_change=None, pull_request=None,
                       changes=(), reason="no measurement on main since 2026-06-18"),
    "changepoint": replace(REGRESSION, kind="changepoint", severity="warning", value=7.8,
                           change=0.8, relative_change=0.114,
                           started_build="jenkins nightly-2026-06-12",
                           reason="E-Divisive change point: mean 7.0 → 7.8 marcsec"),
}


def mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn text of a message's blocks."""
    texts = []
    for block in message["blocks"]:
        items = [block.get("text"), *block.get("fields", ()), *block.get("elements", ())]
        texts += [item["text"] for item in items if item and item.get("type") == "mrkdwn"]
    return texts


def urls(message: dict[str, Any]) -> set[str]:
    """Every link of a message: button URLs and <url|text> links in mrkdwn."""
    found = {element["url"] for block in message["blocks"]
             for element in block.get("elements", ()) if "url" in element}
    for text in mrkdwn_texts(message):
        found |= set(re.findall(r"<(https?://[^|>]+)(?:\|[^>]*)?>", text))
    return found


def assert_valid_block_kit(message: dict[str, Any]) -> None:
    """The structural rules Slack enforces on a webhook payload."""
    assert message["text"]
    assert isinstance(message["blocks"], list)
    assert 0 < len(message["blocks"]) <= 50
    for block in message["blocks"]:
        assert block["type"] in BLOCK_TYPES
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", ())) <= 10
            assert all(len(field["text"]) <= 2000 for field in block.get("fields", ()))
        if block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button" and len(button["text"]["text"]) <= 75
        if block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
    json.dumps(message)


# --- messages ---------------------------------------------------------------------------

def test_regression_headline_says_what_moved_by_how_much_and_where() -> None:
    assert headline(REGRESSION) == (
        ":red_circle: Regression: validate_drp.AM1 (dataset=hsc_rc2, filter=r) "
        "+2.6 marcsec (+37 %) on main in jenkins nightly-2026-06-20")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_valid_block_kit_with_its_own_headline(kind: str) -> None:
    alert = KINDS[kind]
    message = alert_message(alert, PUBLIC)
    assert_valid_block_kit(message)
    header = message["blocks"][0]["text"]["text"]
    assert header == f"*<{PUBLIC}/dash/alerts/{alert.id}|{headline(alert)}>*"
    assert alert.metric in header and "main" in header
    assert headline(alert) in message["text"] and f"[{alert.severity}]" in message["text"]
    assert any(alert.severity in text for text in mrkdwn_texts(message))
    assert len({headline(each).split(":")[1] for each in KINDS.values()}) == len(KINDS)


def test_headlines_of_the_other_kinds() -> None:
    assert headline(KINDS["improvement"]).startswith(":large_green_circle: Improvement: ")
    assert "-1.2 marcsec (-17 %)" in headline(KINDS["improvement"])
    # a warning spec alert meets its (minimum) spec, and no better one
    assert "5.4 mmag meets only minimum (limit 8 mmag), not design on main" in headline(
        KINDS["spec"])
    failed = replace(KINDS["spec"], severity="critical", value=9.5)
    assert "9.5 mmag misses minimum (limit 8 mmag) on main" in headline(failed)
    assert "no measurement on main" in headline(KINDS["missing"])
    assert headline(KINDS["changepoint"]).endswith(
        "+0.8 marcsec (+11 %) on main since jenkins nightly-2026-06-12")


def test_message_shows_value_baseline_change_and_the_build() -> None:
    text = "\n".join(mrkdwn_texts(alert_message(REGRESSION, PUBLIC)))
    assert "*Value*\n9.6 marcsec" in text
    assert "*Baseline*\n7 marcsec" in text
    assert "*Change*\n+2.6 marcsec (+37 %)" in text
    assert "commit `3f2c9e1`" in text
    assert "#412> into main" in text
    assert "meas_astrom" in text and "`9c1d2e4` → `b7a0f53`" in text
    assert "obs_subaru> added at `41e8c9a`" in text


def test_links_are_absolute_and_dashboard_links_use_the_public_url() -> None:
    links = urls(alert_message(REGRESSION, PUBLIC + "/"))
    assert {
        f"{PUBLIC}/dash/alerts/{REGRESSION.id}",
        f"{PUBLIC}/api/v1/alerts/{REGRESSION.id}",
        f"{PUBLIC}/dash/metrics/validate_drp.AM1?dataset=hsc_rc2&filter=r&branch=main",
        f"{PUBLIC}/dash/builds/jenkins/nightly-2026-06-20",
        "https://ci.lsst.codes/job/nightly/2026-06-20/",
        "https://github.com/lsst/pipe_tasks/pull/412",
        "https://github.com/lsst/meas_astrom/compare/9c1d2e4...b7a0f53",
        "https://github.com/lsst/obs_subaru",
    } <= links
    assert all(re.match(r"https?://[^/]+/", url) for url in links)
    assert all(url.startswith(PUBLIC + "/") for url in links if "/dash/" in url or "/api/" in url)


def test_link_parts_are_url_encoded() -> None:
    alert = replace(REGRESSION, build_ci="gitlab ci", build_id="a/b",
                    dimensions={"dataset": "hsc rc2&co"})
    links = urls(alert_message(alert, PUBLIC))
    assert f"{PUBLIC}/dash/builds/gitlab%20ci/a%2Fb" in links
    assert f"{PUBLIC}/dash/metrics/validate_drp.AM1?dataset=hsc+rc2%26co&branch=main" in links


def test_many_package_changes_stay_within_the_section_limit() -> None:
    changes = [{"package": f"package_{index:03d}", "from": "a" * 40, "to": "b" * 40,
                "url": f"https://github.com/lsst/package_{index:03d}", "kind": "changed",
                "compare_url": f"https://github.com/lsst/package_{index:03d}/compare/a...b"}
               for index in range(200)]
    message = alert_message(replace(REGRESSION, changes=changes, reason="x" * 5000), PUBLIC)
    assert_valid_block_kit(message)
    assert any(re.search(r"… and \d+ more$", text) for text in mrkdwn_texts(message))


def test_slack_control_characters_are_escaped() -> None:
    alert = replace(REGRESSION, reason="value <b> & more > baseline")
    assert "value &lt;b&gt; &amp; more &gt; baseline" in mrkdwn_texts(
        alert_message(alert, PUBLIC))


@pytest.mark.parametrize("event", ["acknowledged", "resolved", "invalid"])
def test_follow_ups_are_short_messages_linking_the_alert(event: str) -> None:
    alert = replace(REGRESSION, history=(
        {"event": "opened", "time": "2026-06-20T04:11:00Z", "actor": "", "note": ""},
        {"event": event, "time": "2026-06-20T09:30:00Z", "actor": "people",
         "note": "fixed by DM-45012"}))
    message = message_for(alert, event, PUBLIC)
    assert_valid_block_kit(message)
    assert message != alert_message(alert, PUBLIC)
    assert len(message["blocks"]) <= 2
    assert f"{PUBLIC}/dash/alerts/{alert.id}" in urls(message)
    assert "by people · fixed by DM-45012" in mrkdwn_texts(message)
    assert follow_up_message(alert, event, PUBLIC)["text"].split(":")[0] in (
        "Acknowledged", "Resolved", "Marked invalid")


def test_unset_webhook_sends_nothing(redis_client: redis.Redis) -> None:
    outcome = notify_once(REGRESSION, "opened", client=redis_client, webhook_url=None,
                          public_url=PUBLIC)
    assert outcome == "disabled"
    assert redis_client.get(notified_key(REGRESSION.id, "opened")) is None


def test_unknown_event_is_refused(redis_client: redis.Redis) -> None:
    with pytest.raises(ValueError, match="notified"):
        notify_once(REGRESSION, "notified", client=redis_client,
                    webhook_url="http://127.0.0.1:9/", public_url=PUBLIC)


# --- delivery through the real worker ---------------------------------------------------

def fresh_alert() -> Alert:
    """The regression alert under an id no other test uses."""
    return replace(REGRESSION, id=uuid.uuid4().hex[:20])


def send(settings: Settings, alert: Alert, event: str = "opened") -> str:
    """Queue the notify task as the harness does; returns the task id."""
    app = create_celery(settings)
    try:
        return str(app.send_task(NOTIFY_ALERT, args=[alert.to_json(), event]).id)
    finally:
        app.close()


def finished(worker: WorkerPools, task_id: str, timeout_s: float = 20.0) -> str:
    """The notify worker's log line that ends a task (succeeded or raised), waiting for it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in worker.notify.log_path.read_text(errors="replace").splitlines():
            if f"[{task_id}]" in line and (" succeeded in " in line or " raised " in line):
                return line
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish in {timeout_s} s:\n{worker.log_tail()}")


def about(slack: SlackReceiver, alert: Alert, delivered: bool = True) -> list[Any]:
    """The bodies the receiver got about one alert (accepted ones only, by default)."""
    found = slack.messages if delivered else [request.body for request in slack.requests]
    return [body for body in found if alert.id in json.dumps(body)]


@pytest.fixture
def slack_clean(slack: SlackReceiver, worker: WorkerPools,
                redis_client: redis.Redis) -> SlackReceiver:
    """The receiver with no history, the worker running and no notified keys left."""
    slack.clear()
    return slack


def test_opened_alert_reaches_slack_through_celery(
    settings: Settings, worker: WorkerPools, slack_clean: SlackReceiver,
    redis_client: redis.Redis, influx: InfluxStore,
) -> None:
    alert = fresh_alert()
    assert finished(worker, send(settings, alert)).endswith("'sent'")
    [message] = about(slack_clean, alert)
    assert message["blocks"] == alert_message(alert, settings.public_url)["blocks"]
    assert redis_client.get(notified_key(alert.id, "opened")) == "sent"
    assert redis_client.ttl(notified_key(alert.id, "opened")) == -1
    [series] = influx.query("SELECT * FROM alert_events WHERE alert = $alert",
                            {"alert": alert.id})
    assert [(row["event"], row["note"]) for row in series.rows] == [("notified", "opened")]


def test_slack_down_then_up_delivers_exactly_one_message(
    settings: Settings, worker: WorkerPools, slack_clean: SlackReceiver,
) -> None:
    alert = fresh_alert()
    slack_clean.fail(times=3, status=500)
    assert finished(worker, send(settings, alert)).endswith("'sent'")
    assert [request.status for request in slack_clean.requests] == [500, 500, 500, 200]
    assert len(about(slack_clean, alert)) == 1


def test_rate_limit_is_retried_after_slack_says(
    settings: Settings, worker: WorkerPools, slack_clean: SlackReceiver,
) -> None:
    alert = fresh_alert()
    slack_clean.fail(times=1, status=429)
    assert finished(worker, send(settings, alert)).endswith("'sent'")
    assert [request.status for request in slack_clean.requests] == [429, 200]


def test_the_same_task_twice_delivers_once(
    settings: Settings, worker: WorkerPools, slack_clean: SlackReceiver,
) -> None:
    alert = fresh_alert()
    tasks = [send(settings, alert), send(settings, alert)]
    outcomes = sorted(finished(worker, task).rsplit(": ", 1)[1] for task in tasks)
    assert outcomes == ["'already sent'", "'sent'"]
    assert len(about(slack_clean, alert, delivered=False)) == 1


def test_a_follow_up_is_a_second_different_message(
    settings: Settings, worker: WorkerPools, slack_clean: SlackReceiver,
) -> None:
    alert = fresh_alert()
    finished(worker, send(settings, alert))
    resolved = replace(alert, state="resolved", history=(
        {"event": "resolved", "time": "2026-06-21T08:00:00Z", "actor": "people",
         "note": "reverted in DM-45020"},))
    finished(worker, send(settings, resolved, "resolved"))
    finished(worker, send(settings, resolved, "resolved"))
    opened, follow_up = about(slack_clean, alert)
    assert opened != follow_up
    assert follow_up["text"].startswith("Resolved: Regression: validate_drp.AM1")
    assert "reverted in DM-45020" in json.dumps(follow_up)


def test_slack_refusing_the_message_is_not_retried(
    settings: Settings, worker: WorkerPools, slack_clean: SlackReceiver,
    redis_client: redis.Redis,
) -> None:
    alert = fresh_alert()
    slack_clean.fail(times=1, status=400)
    assert "SlackRejected" in finished(worker, send(settings, alert))
    assert [request.status for request in slack_clean.requests] == [400]
    assert redis_client.get(notified_key(alert.id, "opened")) is None


def test_a_lock_left_by_a_crashed_delivery_delays_but_never_loses_the_message(
    settings: Settings, worker: WorkerPools, slack_clean: SlackReceiver,
    redis_client: redis.Redis,
) -> None:
    alert = fresh_alert()
    redis_client.set(notified_key(alert.id, "opened"), "sending", ex=2)
    assert finished(worker, send(settings, alert)).endswith("'sent'")
    assert len(about(slack_clean, alert, delivered=False)) == 1


# --- one message per alert summary (real app, worker, Redis, InfluxDB) ------------------

def summary_messages(slack: SlackReceiver, prefix: str) -> list[Any]:
    """The delivered messages about the builds whose ids start with prefix."""
    return [message for message in slack.messages if f"jenkins {prefix}" in message["text"]]


def posted(client: Any, bodies: list[dict[str, Any]], slack: SlackReceiver,
           redis_client: redis.Redis) -> None:
    """Post in order, then wait until every task it set off ran (messages held for their
    summary's grace included): nothing is left that could still send a message."""
    slack.clear()
    post_all(client, bodies)
    wait_broker_idle(redis_client, timeout_s=60)


@pytest.fixture(scope="module")
def graced(harness_env: dict[str, str], redis_server: RedisServer, servers_dir: Path
           ) -> Iterator[Settings]:
    """Workers that hold a summary's message for the shipped grace (10 s), on a broker
    database of their own (the session's workers, with no grace, never take their tasks);
    the settings of an app beside them."""
    env = {**graced_env(harness_env),
           "HARNESS_BROKER_URL": redis_server.url.rsplit("/", 1)[0] + f"/{GRACED_DB}"}
    broker = redis.Redis.from_url(env["HARNESS_BROKER_URL"])
    broker.flushdb()
    broker.close()
    settings = Settings.from_env(env)
    assert settings.summary_grace_s == 10
    with WorkerPools(env, servers_dir / "graced"):
        yield settings


@pytest.fixture
def graced_client(graced: Settings, system: InfluxStore) -> Iterator[tuple[Any, redis.Redis]]:
    """A test client of an app beside the graced workers, and their broker, with the
    harness's keys there removed (as `redis_client` does for the session's)."""
    app = create_app(graced)
    app.config["TESTING"] = True
    broker = redis.Redis.from_url(graced.broker_url, decode_responses=True)
    if keys := harness_keys(broker):
        broker.delete(*keys)
    yield app.test_client(), broker
    broker.close()


def test_a_step_in_eight_series_is_one_summary_and_one_message(
    graced_client: tuple[Any, redis.Redis], slack: SlackReceiver,
) -> None:
    client, broker = graced_client
    posted(client, eight_series("m"), slack, broker)

    first, later = (next(s for s in client.get("/api/v1/alert-summaries").json["summaries"]
                         if s["build"]["id"] == build) for build in ("m025", "m039"))
    assert len(first["alerts"]) == 8 and len(later["alerts"]) == 2
    [message] = [m for m in summary_messages(slack, "m") if first["id"] in m["text"]]
    assert message["text"].startswith("[warning] 8 alerts in jenkins m025 on main: regression")
    assert all(f"/dash/alerts/{alert['id']}" in json.dumps(message) for alert in first["alerts"])
    assert "pipe_tasks.runtime 2" in json.dumps(message["blocks"], ensure_ascii=False)
    # the second cause is a message of its own; nothing else was sent
    assert len(summary_messages(slack, "m")) == 2
    assert all(f"/dash/alerts/{alert['id']}" in json.dumps(summary_messages(slack, "m"))
               for alert in later["alerts"])


def two_confirmations(prefix: str) -> list[dict[str, Any]]:
    """36 nightly builds of OTT1 in two data sets, both worse from build 25 on: by 8 σ in
    hsc_rc2 (confirmed at build 29), by 2.5 σ in dc2_test_med (confirmed at build 32)."""
    steps = {"hsc_rc2": (1, 8.0), "dc2_test_med": (5, 2.5)}
    values = {dataset: 45.0 + np.random.default_rng(seed).standard_normal(36)
              + np.where(np.arange(36) >= 25, step, 0.0)
              for dataset, (seed, step) in steps.items()}
    bodies = []
    for index in range(36):
        body = nightly(index, 0.0)
        body["build"]["id"] = f"{prefix}{index:03d}"
        body["measurements"] = [{"metric": "dm_latency.OTT1", "value": float(values[d][index]),
                                 "unit": "s", "dimensions": {"dataset": d}} for d in steps]
        bodies.append(body)
    return bodies


def test_alerts_of_one_cause_confirmed_by_two_builds_are_one_message(
    graced_client: tuple[Any, redis.Redis], slack: SlackReceiver,
) -> None:
    client, broker = graced_client
    posted(client, two_confirmations("k"), slack, broker)

    alerts = client.get("/api/v1/alerts?kind=regression").json["alerts"]
    assert sorted(alert["build_id"] for alert in alerts) == ["k029", "k032"]
    assert {alert["started_build"] for alert in alerts} == {"k025"}
    [message] = summary_messages(slack, "k")
    assert message["text"].startswith("[warning] 2 alerts in jenkins k025 on main")
    assert all(f"/dash/alerts/{alert['id']}" in json.dumps(message) for alert in alerts)
    assert all(told(client, alert["id"]) for alert in alerts)


def test_alerts_that_join_after_the_message_are_one_short_message(
    client: Any, system: InfluxStore, slack: SlackReceiver, redis_client: redis.Redis,
) -> None:
    bodies = two_confirmations("j")
    posted(client, bodies[:30], slack, redis_client)  # hsc_rc2's alert, announced alone
    [opened] = summary_messages(slack, "j")
    [first] = client.get("/api/v1/alerts?kind=regression").json["alerts"]
    assert first["id"] in json.dumps(opened) and told(client, first["id"])

    slack.clear()
    post_all(client, bodies[30:])  # dc2_test_med's joins the same summary
    wait_broker_idle(redis_client, timeout_s=60)

    [joined] = summary_messages(slack, "j")
    [second] = [a for a in client.get("/api/v1/alerts?kind=regression").json["alerts"]
                if a["id"] != first["id"]]
    assert joined["text"].startswith("[warning] 1 more alert joined Regression in jenkins j025")
    assert second["id"] in json.dumps(joined) and first["id"] not in json.dumps(joined)
    summary = client.get("/api/v1/alert-summaries?kind=regression").json["summaries"]
    assert [len(s["alerts"]) for s in summary] == [2]


def told(client: Any, alert_id: str, event: str = "opened") -> bool:
    """Whether the alert's log says Slack was told of this event of it."""
    history = client.get(f"/api/v1/alerts/{alert_id}").json["history"]
    return any(e["event"] == "notified" and e["note"] == event for e in history)

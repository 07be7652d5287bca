"""Auth against the real app, web process, worker, Redis and InfluxDB: no write without a
token (every write route, found from the URL map), scopes kept apart, tokens kept hashed and
compared in constant time, secrets never in an error body or a log, dashboards read-only."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
import requests

import harness.settings
from dashboards.page import BOKEH_STATIC
from harness.alerting.slack import SlackUnavailable, deliver
from harness.errors import SettingsError
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.pools import WorkerPools
from harness.testing.slack_receiver import SlackReceiver
from tests.conftest import (
    ADMIN_SECRET,
    INGEST_SECRET,
    TRIAGE_SECRET,
    bearer,
    broker_idle,
    harness_keys,
    submission,
    wait_done,
)
from workers import DEFAULT_QUEUE, NOTIFY_QUEUE

SECRETS = (INGEST_SECRET, TRIAGE_SECRET, ADMIN_SECRET)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def failing_build(build_id: str = "auth-1") -> dict[str, Any]:
    """A main-branch build whose latency fails its minimum spec: it opens a spec alert."""
    return submission(id=build_id, pull_request=None, measurements=[
        {"metric": "dm_latency.OTT1", "value": 150.0, "unit": "s"},
        {"metric": "pipe_tasks.runtime", "value": 812.0, "unit": "s",
         "extras": {"per_ccd_s": {"value": [3.1, 2.9], "unit": "s"}}}])


def settle(client: redis.Redis, timeout_s: float = 30.0) -> None:
    """Wait until the workers have run every queued task (Slack messages included)."""
    deadline = time.monotonic() + timeout_s
    while not broker_idle(client):
        assert time.monotonic() < deadline, "the worker did not drain its queue"
        time.sleep(0.1)


@pytest.fixture
def world(client: Any, system: InfluxStore, redis_client: redis.Redis) -> dict[str, str]:
    """A stored build with a blob and an open spec alert; the values of every URL
    parameter of the app's routes."""
    status = wait_done(client, client.post("/api/v1/submissions", json=failing_build(),
                                           headers=bearer()).json["status_url"])
    [alert] = client.get("/api/v1/alerts?kind=spec").json["alerts"]
    [summary] = client.get("/api/v1/alert-summaries?kind=spec").json["summaries"]
    [blob] = next(r["blobs"] for r in status["results"] if r["metric"] == "pipe_tasks.runtime")
    settle(redis_client)
    return {
        "alert_id": alert["id"], "summary_id": summary["id"], "action": "acknowledge",
        "name": "missing",
        "ci": "github-actions", "build_id": "auth-1", "metric_name": "dm_latency.OTT1",
        "blob_id": blob, "submission_id": status["submission"],
        "filename": "dash.css",
    }


def url_of(rule: Any, values: dict[str, str]) -> str:
    """A concrete URL of a route, every parameter filled from the known values."""
    missing = set(rule.arguments) - set(values)
    assert not missing, f"give test values for {sorted(missing)} of {rule.rule}"
    if rule.endpoint == "dash.bokehjs":
        values = {**values, "filename": _bokeh_file()}
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>",
                  lambda found: quote(values[found.group(1)], safe=""), rule.rule)


def _bokeh_file() -> str:
    js = Path(BOKEH_STATIC) / "js"
    return "js/" + sorted(name for name in os.listdir(js) if name.endswith(".js"))[0]


def state(store: InfluxStore, client: redis.Redis) -> dict[str, Any]:
    """Everything a write could change: the points of every measurement, the harness's
    Redis keys and values (not the workers' leases, which say only that they are alive),
    the task queue."""
    found = store.query_each([f"SELECT count({field}) FROM {measurement}" for measurement, field
                              in (("results", "verdict"), ("builds", "build_id"),
                                  ("alert_events", "event"))])
    points = [sum(int(row["count"]) for series in answer for row in series.rows)
              for answer in found]
    keys = {}
    # values as bytes: the series tails are binary (harness.storage.tails)
    raw = redis.Redis(**{**client.connection_pool.connection_kwargs, "decode_responses": False})
    for key in sorted(harness_keys(client)):
        kind = client.type(key)
        keys[key] = (raw.get(key) if kind == "string" else raw.hgetall(key)
                     if kind == "hash" else raw.lrange(key, 0, -1) if kind == "list"
                     else raw.zrange(key, 0, -1, withscores=True) if kind == "zset"
                     else raw.smembers(key) if kind == "set" else kind)
    raw.close()
    return {"points": points, "keys": keys,
            "queued": [client.llen(queue) for queue in (DEFAULT_QUEUE, NOTIFY_QUEUE)]}


def write_routes(app: Any) -> list[Any]:
    """Every route of the app that takes a method that writes."""
    return [rule for rule in app.url_map.iter_rules() if rule.methods & WRITE_METHODS]


# --- (a) no write without a token -------------------------------------------------------

def test_every_write_route_needs_a_token(
    app: Any, client: Any, world: dict[str, str], system: InfluxStore,
    redis_client: redis.Redis
) -> None:
    routes = write_routes(app)
    assert {rule.endpoint for rule in routes} >= {
        "api.submissions.create", "api.submissions.create_job", "api.alerts.triage",
        "api.alerts.scan", "squash.auth", "squash.job"}
    before = state(system, redis_client)
    tried = []

    for rule in routes:
        url = url_of(rule, world)
        for method in sorted(rule.methods & WRITE_METHODS):
            for headers in ({}, {"Authorization": "Bearer not-a-token-0123456789"},
                            {"Authorization": f"Basic {INGEST_SECRET}"},
                            {"Authorization": "JWT not.an.access.token"}):
                response = client.open(url, method=method, json={}, headers=headers)
                tried.append((method, url))
                assert response.status_code == 401, (method, url, headers, response.json)
                assert set(response.json) == {"error"}
                assert response.headers["WWW-Authenticate"]
            settle(redis_client)

    assert state(system, redis_client) == before
    alert = client.get(f"/api/v1/alerts/{world['alert_id']}").json
    assert alert["state"] == "open"
    assert len(tried) >= 4 * 6


def test_squash_auth_without_credentials_is_401(client: Any, system: InfluxStore) -> None:
    body: object
    for body in ({}, {"username": "ci"}, {"password": INGEST_SECRET}, [], "x",
                 {"username": "ci", "password": 5}):
        response = client.post("/squash/auth", json=body)
        assert response.status_code == 401, body
    assert client.post("/squash/auth", json={"username": "ci", "password": INGEST_SECRET}
                       ).status_code == 200


# --- (b) scopes -------------------------------------------------------------------------

def test_the_ingest_token_cannot_triage(
    client: Any, world: dict[str, str], system: InfluxStore, redis_client: redis.Redis
) -> None:
    url = f"/api/v1/alerts/{world['alert_id']}"
    before, alert = state(system, redis_client), client.get(url).json

    for action in ("acknowledge", "resolve", "invalidate"):
        response = client.post(f"{url}/{action}", json={"note": "no"}, headers=bearer())
        assert response.status_code == 403, action
        assert "triage" in response.json["error"]
    for scan in ("missing", "change-points"):
        assert client.post(f"/api/v1/scans/{scan}", headers=bearer()).status_code == 403
    settle(redis_client)

    assert client.get(url).json == alert
    assert state(system, redis_client) == before


def test_the_triage_token_cannot_ingest(
    client: Any, world: dict[str, str], system: InfluxStore, redis_client: redis.Redis
) -> None:
    before = state(system, redis_client)
    access = client.post("/squash/auth", json={"username": "people", "password": TRIAGE_SECRET}
                         ).json["access_token"]
    job = {"measurements": [{"metric": "validate_drp.PA1", "value": 4.2, "unit": "mmag"}],
           "meta": {"env": {"ci_name": "validate_drp", "ci_id": "9"}}}
    attempts = [
        client.post("/api/v1/submissions", json=failing_build("auth-2"),
                    headers=bearer(TRIAGE_SECRET)),
        client.post("/api/v1/jobs", json=job, headers=bearer(TRIAGE_SECRET)),
        client.post("/api/v1/jobs?register=true", json=job, headers=bearer(TRIAGE_SECRET)),
        client.post("/squash/job", json=job, headers={"Authorization": f"JWT {access}"}),
    ]
    settle(redis_client)

    assert [response.status_code for response in attempts] == [403, 403, 403, 403]
    assert all("ingest" in response.json["error"] for response in attempts)
    assert state(system, redis_client) == before


def test_the_admin_token_can_ingest_and_triage(
    client: Any, world: dict[str, str], system: InfluxStore
) -> None:
    url = f"/api/v1/alerts/{world['alert_id']}"
    ingested = client.post("/api/v1/submissions", json=failing_build("auth-3"),
                           headers=bearer(ADMIN_SECRET))
    assert ingested.status_code == 202
    assert wait_done(client, ingested.json["status_url"])["state"] == "done"

    acknowledged = client.post(f"{url}/acknowledge", json={"note": "mine"},
                               headers=bearer(ADMIN_SECRET))

    assert acknowledged.status_code == 200
    assert acknowledged.json["state"] == "acknowledged"
    assert acknowledged.json["history"][-1]["actor"] == "ops"
    assert client.post("/api/v1/scans/missing", headers=bearer(ADMIN_SECRET)).status_code == 202


# --- (c) tokens kept hashed, compared in constant time ---------------------------------

def test_the_settings_never_hold_a_secret_in_clear(settings: Settings, app: Any) -> None:
    shown = [repr(settings), str(settings), repr(vars(settings)), repr(settings.api_tokens),
             repr(app.config), repr(app.extensions["harness"])]
    pickled = pickle.dumps(settings)
    for secret in SECRETS:
        assert all(secret not in text for text in shown)
        assert secret.encode() not in pickled
    by_name = {token.name: token.secret_sha256 for token in settings.api_tokens}
    assert by_name == {name: hashlib.sha256(secret.encode()).hexdigest()
                       for name, secret in (("ci", INGEST_SECRET), ("people", TRIAGE_SECRET),
                                            ("ops", ADMIN_SECRET))}
    assert settings.slack_webhook_url is not None
    assert settings.slack_webhook_url not in repr(settings)


def test_token_lookup_compares_fixed_length_digests_of_every_token(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def recording(first: Any, second: Any) -> bool:
        compared.append((first, second))
        return real(first, second)

    monkeypatch.setattr(harness.settings.hmac, "compare_digest", recording)
    candidates = {
        INGEST_SECRET: "ci",
        INGEST_SECRET[:-1] + "X": None,  # same prefix, last character wrong
        INGEST_SECRET + "0": None,
        INGEST_SECRET[:16]: None,
        "": None,
        "x" * 10_000: None,
        "ünïcødé-secret-0123456789": None,
        "\ud800 lone surrogate 0123456789": None,
        ADMIN_SECRET: "ops",
    }
    for secret, name in candidates.items():
        compared.clear()

        token = settings.token_for(secret)

        assert (token.name if token else None) == name, secret[:30]
        # one comparison per configured token, whatever matched: no early exit
        assert len(compared) == len(settings.api_tokens)
        assert all(isinstance(a, str) and isinstance(b, str) and len(a) == len(b) == 64
                   for a, b in compared)


def test_a_wrong_secret_with_the_right_prefix_is_refused(client: Any) -> None:
    for secret in (INGEST_SECRET[:-1] + "X", INGEST_SECRET + " x", INGEST_SECRET.upper(),
                   INGEST_SECRET[:20]):
        response = client.post("/api/v1/submissions", json=submission(),
                               headers=bearer(secret))
        assert response.status_code == 401, secret
    refused = client.post("/squash/auth", json={"username": "ci",
                                                "password": INGEST_SECRET[:-1] + "X"})
    assert refused.status_code == 401
    surrogate = client.post("/squash/auth", data='{"username": "ci", "password": "\\ud800"}',
                            content_type="application/json")
    assert surrogate.status_code == 401


# --- (d) secrets never in error bodies or logs -------------------------------------------

def test_secrets_never_appear_in_error_bodies_or_the_logs_of_web_and_worker(
    web: str, worker: WorkerPools, servers_dir: Path, slack: SlackReceiver,
    system: InfluxStore, redis_client: redis.Redis
) -> None:
    session = requests.Session()
    bodies: list[str] = []

    def call(method: str, path: str, **options: Any) -> requests.Response:
        response = session.request(method, f"{web}{path}", timeout=30, **options)
        bodies.append(response.text + json.dumps(dict(response.headers)))
        return response

    # a Slack that answers 500 three times, then takes the spec alert's message
    slack.clear()
    slack.fail(times=3, status=500)
    accepted = call("POST", "/api/v1/submissions", json=failing_build("auth-log"),
                    headers=bearer())
    assert accepted.status_code == 202
    deadline = time.monotonic() + 30
    while call("GET", accepted.json()["status_url"]).json()["state"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    slack.wait_for(lambda receiver: len(receiver.messages) >= 1, timeout_s=40)
    [alert] = call("GET", "/api/v1/alerts?kind=spec").json()["alerts"]
    access = call("POST", "/squash/auth", json={"username": "ci", "password": INGEST_SECRET}
                  ).json()["access_token"]

    # every way of getting auth wrong, each carrying a real secret somewhere
    alert_url = f"/api/v1/alerts/{alert['id']}"
    refusals = [
        call("POST", "/api/v1/submissions", json={}, headers=bearer(INGEST_SECRET + "x")),
        call("POST", "/api/v1/submissions", json={},
             headers={"Authorization": f"Basic {ADMIN_SECRET}"}),
        call("POST", "/api/v1/submissions", json={}, headers=bearer(TRIAGE_SECRET)),
        call("POST", f"{alert_url}/acknowledge", headers=bearer(INGEST_SECRET)),
        call("POST", "/squash/auth", json={"username": "people", "password": INGEST_SECRET}),
        call("POST", "/squash/auth", json={"username": "ci", "password": TRIAGE_SECRET[:-1]}),
        call("POST", "/squash/job", json={}, headers={"Authorization": f"JWT {INGEST_SECRET}"}),
        call("POST", "/squash/job", json={}, headers={"Authorization": f"JWT {access}x"}),
        call("POST", "/api/v1/scans/missing", headers=bearer(INGEST_SECRET)),
    ]
    assert [r.status_code for r in refusals] == [401, 401, 403, 403, 401, 401, 401, 401, 403]

    # a triage step whose Slack follow-up fails twice before it is delivered
    slack.fail(times=2, status=500)
    assert call("POST", f"{alert_url}/acknowledge", headers=bearer(TRIAGE_SECRET)
                ).status_code == 200
    slack.wait_for(lambda receiver: len(receiver.messages) >= 2, timeout_s=40)
    settle(redis_client)
    assert [r.status for r in slack.requests].count(500) >= 5  # the failures did happen

    logs = {path.name: path.read_text(errors="replace")
            for path in [*(pool.log_path for pool in worker.pools),
                         *sorted((servers_dir / "web").glob("*.log"))]}
    assert "Slack answered 500" in logs[worker.notify.log_path.name]  # the retries were logged
    webhook_path = slack.url.split("://", 1)[1].split("/", 1)[1]
    for secret in (*SECRETS, slack.url, webhook_path, access):
        for name, text in logs.items():
            assert secret not in text, f"{secret[:12]}… appears in the log {name}"
    for secret in (*SECRETS, slack.url, webhook_path):  # (the access token is an answer)
        assert all(secret not in body for body in bodies), f"{secret[:12]}… in an answer"


def test_slack_delivery_never_logs_the_webhook_url_even_at_debug(
    slack: SlackReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """slack_sdk logs the URL at DEBUG when its logger's own level allows it."""
    caplog.set_level(logging.DEBUG)
    slack.fail(times=1, status=500)
    message = {"text": "auth test", "blocks": []}

    with pytest.raises(SlackUnavailable) as failed:
        deliver(slack.url, message)
    deliver(slack.url, message)

    webhook_path = slack.url.split("://", 1)[1].split("/", 1)[1]
    assert webhook_path not in str(failed.value)
    assert logging.getLogger("slack_sdk.webhook.client").isEnabledFor(logging.DEBUG)
    assert webhook_path not in caplog.text


@pytest.mark.parametrize(
    "value",
    [f"ci:{INGEST_SECRET}:ingest+bogus", f"ci:ingest:{INGEST_SECRET}",
     f"{INGEST_SECRET}:ci:ingest", f"ci:{INGEST_SECRET}", f"ci:{INGEST_SECRET}:ingest,"
     f"ci:{ADMIN_SECRET}:admin", f"{INGEST_SECRET}:{ADMIN_SECRET}:admin,"
     f"{INGEST_SECRET}:{ADMIN_SECRET}:admin", f"ci:{INGEST_SECRET[:10]}:ingest"],
    ids=["unknown-scope", "secret-as-scope", "secret-as-name", "no-scope", "name-twice",
         "same-secret-name-twice", "short-secret"],
)
def test_a_malformed_token_setting_never_prints_a_secret(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"HARNESS_API_TOKENS": value})
    message = str(caught.value)
    assert message.startswith("HARNESS_API_TOKENS: ")
    for secret in (INGEST_SECRET, ADMIN_SECRET, INGEST_SECRET[:10]):
        assert secret not in message


@pytest.mark.parametrize(
    ("variable", "value", "secret"),
    [("HARNESS_SLACK_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/SeCrEt0123456789",
      "SeCrEt0123456789"),
     ("HARNESS_SLACK_WEBHOOK_URL", "https://hooks.slack.com:x/services/T0/B0/SeCrEt0123456789",
      "SeCrEt0123456789"),
     ("HARNESS_INFLUXDB_URL", "http://user:SeCrEt0123456789@127.0.0.1:80x6",
      "SeCrEt0123456789")],
)
def test_a_malformed_secret_url_is_named_not_printed(
    variable: str, value: str, secret: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert str(caught.value).startswith(f"{variable}: ")
    assert secret not in str(caught.value)


# --- (e) dashboards are read-only without a token -----------------------------------------

def dash_routes(app: Any) -> list[Any]:
    """Every route under /dash/."""
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/dash/")]


def test_every_dashboard_page_answers_without_a_token(
    app: Any, client: Any, world: dict[str, str]
) -> None:
    routes = dash_routes(app)
    assert len(routes) >= 9
    for rule in routes:
        assert rule.methods & WRITE_METHODS == set(), rule.rule
        url = url_of(rule, world)
        with client.get(url, follow_redirects=True) as response:  # a file answer is closed
            assert response.status_code == 200, (url, response.status_code)
            assert response.data


def test_no_dashboard_url_takes_a_write(
    app: Any, client: Any, world: dict[str, str], system: InfluxStore,
    redis_client: redis.Redis
) -> None:
    before = state(system, redis_client)
    for rule in dash_routes(app):
        url = url_of(rule, world)
        for method in sorted(WRITE_METHODS):
            for headers in ({}, bearer(ADMIN_SECRET)):
                with client.open(url, method=method, json={}, headers=headers) as response:
                    assert response.status_code in (401, 405), (method, url)
    settle(redis_client)
    assert state(system, redis_client) == before


@pytest.fixture(autouse=True)
def _quiet_slack(slack: SlackReceiver) -> Iterator[None]:
    """No failure a test asked Slack for outlives it."""
    yield
    slack.clear()


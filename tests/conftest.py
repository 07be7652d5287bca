"""Fixtures: real Redis, InfluxDB and a Celery worker on free loopback ports; the real app."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from harness.alerting.holding import HELD_PREFIX
from harness.alerting.index import AlertIndex
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.storage.tails import SeriesTails
from harness.testing.pools import WorkerPools
from harness.testing.servers import GunicornServer, InfluxServer, RedisServer
from harness.testing.slack_receiver import SlackReceiver
from harness.web import create_app
from workers import DEFAULT_QUEUE, NOTIFY_QUEUE
from workers.leases import PREFIX as LEASE_PREFIX

collect_ignore = ["data"]  # the benchmark sources the tools ran (tests/data/benchmarks)

INGEST_SECRET = "ingest-secret-0123456789"
TRIAGE_SECRET = "triage-secret-0123456789"
ADMIN_SECRET = "admin-secret-01234567890"
TOKENS = (f"ci:{INGEST_SECRET}:ingest,people:{TRIAGE_SECRET}:triage,"
          f"ops:{ADMIN_SECRET}:admin")
CHECKOUT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One temporary folder for every server's data and logs."""
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def redis_server(servers_dir: Path) -> Iterator[RedisServer]:
    """A real redis-server with AOF on."""
    server = RedisServer(servers_dir / "redis").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influx_server(servers_dir: Path) -> Iterator[InfluxServer]:
    """A real influxd."""
    server = InfluxServer(servers_dir / "influxdb").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def slack() -> Iterator[SlackReceiver]:
    """A stand-in Slack webhook on a free loopback port, recording every POST."""
    receiver = SlackReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def harness_env(redis_server: RedisServer, influx_server: InfluxServer,
                servers_dir: Path, slack: SlackReceiver) -> dict[str, str]:
    """The HARNESS_* environment every process of the test system shares."""
    return {
        "HARNESS_BROKER_URL": redis_server.url,
        "HARNESS_INFLUXDB_URL": influx_server.url,
        "HARNESS_INFLUXDB_DATABASE": "harness_test",
        "HARNESS_METRICS_DIR": str(CHECKOUT / "metrics"),
        "HARNESS_BLOB_DIR": str(servers_dir / "blobs"),
        "HARNESS_API_TOKENS": TOKENS,
        "HARNESS_PUBLIC_URL": "http://127.0.0.1:5000",
        "HARNESS_SLACK_WEBHOOK_URL": slack.url,
        # No test but the grace's own waits out a summary's grace: those run workers of
        # their own with the shipped default (graced_env).
        "HARNESS_SUMMARY_GRACE_S": "0",
    }


def graced_env(env: dict[str, str]) -> dict[str, str]:
    """The environment with the summary grace left at its shipped default."""
    return {key: value for key, value in env.items() if key != "HARNESS_SUMMARY_GRACE_S"}


@pytest.fixture(scope="session")
def settings(harness_env: dict[str, str]) -> Settings:
    """Settings for the test system."""
    return Settings.from_env(harness_env)


@pytest.fixture(scope="session")
def worker(harness_env: dict[str, str], servers_dir: Path) -> Iterator[WorkerPools]:
    """The real Celery workers, as the Procfile runs them: one judging, one notifying."""
    pools = WorkerPools(harness_env, servers_dir / "worker").start()
    yield pools
    pools.stop()


@pytest.fixture(scope="session")
def web(harness_env: dict[str, str], servers_dir: Path, worker: WorkerPools) -> Iterator[str]:
    """The real web process (gunicorn) with a worker behind it; yields its base URL."""
    server = GunicornServer(harness_env, servers_dir / "web", workers=2).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    """The real Flask app wired to the test servers."""
    application = create_app(settings)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app: Any) -> Any:
    """A test client of the real app."""
    return app.test_client()


@pytest.fixture
def influx(settings: Settings) -> Iterator[InfluxStore]:
    """The store, emptied before each test."""
    store = InfluxStore(settings.influxdb_url, settings.influxdb_database)
    store.ensure_database()
    store.query("DROP SERIES FROM /.*/", method="POST")
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    SeriesTails(client, keep=0).clear()  # the cached history of what was just dropped
    AlertIndex(client).clear()  # and the alert index of the log just dropped
    client.close()
    yield store


def harness_keys(client: redis.Redis) -> list[str]:
    """The harness's keys in Redis but the running workers' leases, which say only that
    the workers are alive."""
    return [key for key in client.scan_iter("harness:*") if not key.startswith(LEASE_PREFIX)]


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    """A Redis client with the harness's keys removed before each test (not the leases of
    the running workers: without them a worker's held messages would look abandoned)."""
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    keys = harness_keys(client)
    if keys:
        client.delete(*keys)
    yield client
    client.close()


@pytest.fixture
def system(
    worker: WorkerPools, influx: InfluxStore, redis_client: redis.Redis
) -> Iterator[InfluxStore]:
    """The whole running system with an empty store; yields the store and, after the test,
    waits until the workers have finished everything the test queued. The alerts still held
    for a summary's message (its grace period) are let go, and a message being sent or due
    is waited for, so that no message of this test is recorded in the next one's store."""
    yield influx
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        keys = redis_client.scan_iter("harness:submission:*")
        states = [json.loads(text)["state"] for key in keys
                  if (text := cast(str | None, redis_client.get(key)))]
        if "queued" not in states:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the worker did not finish the test's submissions within 30 s")
    while time.monotonic() < deadline:
        held = list(redis_client.scan_iter(HELD_PREFIX + "*"))
        waiting = [key for key in held if ":" not in key.removeprefix(HELD_PREFIX)]
        if waiting:
            redis_client.delete(*waiting)
        # looked again after a let-go: a task may have claimed the alerts meanwhile
        if not held and not notifying(redis_client):
            return
        time.sleep(0.05)
    raise AssertionError("a message was still being sent 30 s after the test")


def notifying(client: redis.Redis) -> bool:
    """Whether a notification task is queued, or held by a worker and due (running, or
    about to): not one waiting out a countdown (a summary's grace, a retry's wait)."""
    if client.llen(NOTIFY_QUEUE):
        return True
    now = datetime.now(UTC)
    for raw in cast(list[str], client.hvals("unacked")):
        message, _, routing_key = json.loads(raw)
        eta = message.get("headers", {}).get("eta")
        due = eta is None or datetime.fromisoformat(eta).replace(tzinfo=UTC) <= now
        if routing_key == NOTIFY_QUEUE and due:
            return True
    return False


def bearer(secret: str = INGEST_SECRET) -> dict[str, str]:
    """The Authorization header for a token secret."""
    return {"Authorization": f"Bearer {secret}"}


def wait_done(client: Any, status_url: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """Poll a submission's status until the worker has finished with it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(status_url).get_json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"submission still {status['state']} after {timeout_s} s")


def wait_until(what: str, check: Callable[[], object], timeout_s: float = 30.0) -> None:
    """Poll check until it holds; fail naming what did not happen."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:g} s")
        time.sleep(0.05)


def broker_idle(client: redis.Redis, queues: Sequence[str] = (DEFAULT_QUEUE, NOTIFY_QUEUE)
                ) -> bool:
    """Whether no task waits in the broker's queues (judging's, notifying's) or is held by
    a worker (kombu's `unacked` hash, shared by the queues: running, reserved, or waiting
    for a retry's countdown or a summary's grace)."""
    return all(client.llen(queue) == 0 for queue in queues) and client.hlen("unacked") == 0


def wait_broker_idle(client: redis.Redis, timeout_s: float = 30.0, quiet_s: float = 0.3) -> None:
    """Wait until the broker has held no task for quiet_s: everything the test set off has
    run to its end, and nothing is left that could still deliver a duplicate. (Idle for a
    while, not at one look: kombu moves a message from the queue to `unacked` in two steps.)"""
    idle_since: float | None = None

    def quiet() -> bool:
        nonlocal idle_since
        if not broker_idle(client):
            idle_since = None
            return False
        idle_since = idle_since or time.monotonic()
        return time.monotonic() - idle_since >= quiet_s

    wait_until("the broker running out of tasks", quiet, timeout_s)


def task_results(worker: WorkerPools, task: str) -> list[str]:
    """What each run of a task that the workers finished since their start returned, in
    order, as their logs show it (`Task <name>[<id>] succeeded in <s>s: <value>`)."""
    return re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in \S+: (.*)",
                      worker.new_output())


def run_task(worker: WorkerPools, task: str, start: Callable[[], object],
             timeout_s: float = 30.0) -> str:
    """Call start() (which queues a run of the task) and wait for that run to finish; returns
    what it returned, as logged: proof that it ran, and its result."""
    before = len(task_results(worker, task))
    start()
    wait_until(f"a run of {task}", lambda: len(task_results(worker, task)) > before, timeout_s)
    return task_results(worker, task)[before]


def post_all(client: Any, bodies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Post in order, each judged before the next (as nightly CI does)."""
    statuses = []
    for body in bodies:
        response = client.post("/api/v1/submissions", json=body, headers=bearer())
        assert response.status_code == 202, response.json
        statuses.append(wait_done(client, response.json["status_url"]))
    return statuses


SUBMISSION: dict[str, Any] = {
    "build": {
        "ci": "github-actions",
        "id": "9187",
        "url": "https://ci.example.org/runs/9187",
        "time": "2026-11-20T03:12:00Z",
        "branch": "main",
        "commit": "3f2c9e1",
        "pull_request": {"number": 412, "url": "https://git.example.org/pr/412", "base": "main"},
        "packages": [{"name": "pipe_tasks", "commit": "77ab0e2",
                      "url": "https://git.example.org/pipe_tasks"}],
    },
    "dimensions": {"dataset": "hsc_rc2", "filter": "r"},
    "measurements": [
        {"metric": "validate_drp.PA1", "value": 4.7, "unit": "mmag"},
        {"metric": "validate_drp.AM1", "value": 8.9, "unit": "marcsec",
         "dimensions": {"filter": "i"}},
        {"metric": "pipe_tasks.runtime", "value": 812.0, "unit": "s",
         "extras": {"per_ccd_s": {"value": [3.1, 2.9, 3.4], "unit": "s"}}},
    ],
}


def submission(**changes: Any) -> dict[str, Any]:
    """A deep copy of the example submission with top-level or build keys changed."""
    body = copy.deepcopy(SUBMISSION)
    for key, value in changes.items():
        if key in body["build"]:
            body["build"][key] = value
        else:
            body[key] = value
    return body

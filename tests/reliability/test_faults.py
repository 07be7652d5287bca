"""No loss after 202, and recovery within a minute: a steady load of submissions while, in
turn, each server fails.

The servers run as a user runs them: redis-server with AOF, influxd, and the Procfile's
`web`, `worker`, `notify` and `beat` lines exactly as written, with the shipped defaults (no
setting shortened for the test: the visibility timeout is 900 s). Killing them disturbs no other
test. After each fault the test waits until the system has caught up and then counts:
every accepted submission's points in InfluxDB exactly once, its alert once, its Slack
message delivered once, all within RECOVERY_S of the fault's end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import redis
import requests
from celery import Celery

from harness.alerting.alerts import series_key
from harness.alerting.log import EVENTS
from harness.client.http import DeliveryError, PostError, post_submissions
from harness.storage.influx import RESULTS, InfluxStore
from harness.storage.locks import SeriesLocks
from harness.testing.servers import InfluxServer, ProcfileProcess, RedisServer
from harness.testing.slack_receiver import SlackReceiver
from tests.conftest import CHECKOUT, INGEST_SECRET, TOKENS, wait_broker_idle, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

DATABASE = "harness_faults"
RATE_PER_S = 6.0  # submissions a second, from each of two CI clients
SUBMISSIONS = 40  # per client and fault
RECOVERY_S = 60.0  # the promise: all stored and announced this long after a fault ends
CATCH_UP_S = 120.0  # how long the test waits before it counts anyway
BIG = 600  # further measurements in the submission a test holds inside a worker


@dataclass
class Stack:
    """The servers of the fault tests."""

    redis: RedisServer
    influx: InfluxServer
    slack: SlackReceiver
    worker: ProcfileProcess
    notify: ProcfileProcess
    beat: ProcfileProcess
    web: ProcfileProcess
    env: dict[str, str]
    logs: Path

    @property
    def store(self) -> InfluxStore:
        """The stack's InfluxDB database."""
        return InfluxStore(self.influx.url, DATABASE)

    def replace_worker(self) -> None:
        """Start a new worker, as the Procfile does, in place of a dead one."""
        self.worker = ProcfileProcess("worker", self.env, self.logs).start()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Servers that the tests of this module may kill."""
    folder = tmp_path_factory.mktemp("faults")
    redis_server = RedisServer(folder / "redis").start()
    influx = InfluxServer(folder / "influx").start()
    slack = SlackReceiver().start()
    env = {
        "HARNESS_BROKER_URL": redis_server.url,
        "HARNESS_INFLUXDB_URL": influx.url,
        "HARNESS_INFLUXDB_DATABASE": DATABASE,
        "HARNESS_METRICS_DIR": str(CHECKOUT / "metrics"),
        "HARNESS_BLOB_DIR": str(folder / "blobs"),
        "HARNESS_API_TOKENS": TOKENS,
        "HARNESS_PUBLIC_URL": "http://127.0.0.1:5000",
        "HARNESS_SLACK_WEBHOOK_URL": slack.url,
        "HARNESS_VAR_DIR": str(folder),
    }
    assert not any("VISIBILITY" in name or "TIMEOUT" in name for name in env)  # as shipped
    InfluxStore(influx.url, DATABASE).ensure_database()
    logs = folder / "logs"
    worker, notify, beat, web = (ProcfileProcess(name, env, logs).start()
                                 for name in ("worker", "notify", "beat", "web"))
    servers = Stack(redis_server, influx, slack, worker, notify, beat, web, env, logs)
    yield servers
    for server in (servers.web, servers.beat, servers.worker, servers.notify, servers.influx,
                   servers.redis):
        server.stop()
    slack.stop()


def body(fault: str, client: int, n: int, extra: int = 0) -> dict[str, Any]:
    """A nightly submission of its own series: PA1 fails its minimum spec (one critical
    alert, one Slack message), two more measurements, `extra` further runtime series."""
    measurements = [
        {"metric": "validate_drp.PA1", "value": 99.0, "unit": "mmag"},
        {"metric": "validate_drp.AM1", "value": 8.9, "unit": "marcsec"},
        {"metric": "pipe_tasks.runtime", "value": 812.0, "unit": "s"},
    ]
    measurements += [{"metric": "pipe_tasks.runtime", "value": float(i), "unit": "s",
                      "dimensions": {"dataset": f"{fault}-{client}-{n}-{i}"}}
                     for i in range(extra)]
    return {
        "build": {"ci": "faults", "id": f"{fault}-{client}-{n:04d}", "branch": "main",
                  "time": f"2026-11-{1 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z"},
        "dimensions": {"dataset": f"{fault}-{client}-{n}", "filter": "r"},
        "measurements": measurements,
    }


@dataclass
class Load:
    """CI clients posting submissions at a steady rate, with the client's own retries."""

    url: str
    fault: str
    clients: int = 2
    count: int = SUBMISSIONS
    accepted: dict[str, int] = field(default_factory=dict)  # build id → points expected
    gave_up: list[str] = field(default_factory=list)
    rejected: list[PostError] = field(default_factory=list)
    retries: int = 0
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Load:
        """Start posting in the background."""
        for client in range(self.clients):
            thread = threading.Thread(target=self._post, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def post(self, submission: dict[str, Any]) -> None:
        """Post one submission as a CI job does: retrying until it gets a final answer."""
        try:
            summary = post_submissions([submission], self.url, INGEST_SECRET, progress=False,
                                       retries=12, backoff=0.2, timeout=10)
        except DeliveryError:
            with self._lock:
                self.gave_up.append(submission["build"]["id"])
            return
        with self._lock:
            self.rejected.extend(summary.errors)
            if summary.rejected:
                return
            self.accepted[submission["build"]["id"]] = len(submission["measurements"])
            self.retries += summary.retries

    def _post(self, client: int) -> None:
        started = time.monotonic()
        for n in range(self.count):
            time.sleep(max(0.0, started + n / RATE_PER_S - time.monotonic()))
            self.post(body(self.fault, client, n))

    def join(self) -> None:
        """Wait until every client has posted everything."""
        for thread in self._threads:
            thread.join(timeout=180)
            assert not thread.is_alive(), "a CI client is still posting after 180 s"


def run(stack: Stack, fault: str, inflict: Callable[[Stack, Load], None]) -> dict[str, Any]:
    """Post under load while `inflict` breaks something, wait for recovery, count."""
    _wait_healthy(stack)
    load = Load(stack.web.url, fault).start()
    # steady state first: builds all the way through the worker (their Slack messages wait
    # for their summary's grace, longer than the load lasts; each is counted at the end)
    steady = SUBMISSIONS // 2
    ours = _build_ids(fault)
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    wait_until(f"{steady} builds of the {fault} load judged",
               lambda: sum(1 for build in _judged_builds(client) if ours.fullmatch(build))
               >= steady, timeout_s=60)
    client.close()
    inflict(stack, load)
    cleared = time.monotonic()  # `inflict` returns once the broken part is back
    load.join()
    figures = _settle_and_count(stack, load, cleared)
    report = os.environ.get("HARNESS_RELIABILITY_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as out:
            out.write(json.dumps(figures) + "\n")
    print(json.dumps(figures))
    assert figures["accepted"] >= SUBMISSIONS  # the load really ran through the fault
    assert figures["gave_up"] == 0, load.gave_up
    assert not load.rejected, load.rejected
    assert (figures["lost"], figures["duplicated"]) == (0, 0), figures
    assert figures["recovery_s"] <= RECOVERY_S, figures
    return figures


def _wait_healthy(stack: Stack, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{stack.web.url}/healthz", timeout=3).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the stack did not become healthy within {timeout_s} s")


def _settle_and_count(stack: Stack, load: Load, cleared: float) -> dict[str, Any]:
    """Wait until every accepted build is judged and announced (the time from `cleared`
    to then is the recovery); count what was stored."""
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    ids = set(load.accepted)
    deadline = time.monotonic() + CATCH_UP_S
    judged: set[str] = set()
    recovery_s = float("inf")
    while time.monotonic() < deadline:
        judged = _judged_builds(client) & ids
        slack_ids = _slack_builds(stack.slack, load.fault)
        if judged == ids and set(slack_ids) >= ids:
            recovery_s = round(time.monotonic() - cleared, 1)
            break
        time.sleep(0.5)
    # a duplicate would come from a task still queued or held (a lost acknowledgement is
    # given back after leases.GRACE_S): count once the broker has none left
    wait_broker_idle(client, timeout_s=60)
    client.close()

    ours = _build_ids(load.fault)
    points: Counter[tuple[str, str]] = Counter()  # (series, build id) → rows
    per_build: Counter[str] = Counter()
    for tags, build in _builds_of_rows(
            stack.store, ours,
            f'SELECT "value", "build_id" FROM "{RESULTS}" WHERE "ci" = $ci GROUP BY *',
            {"ci": "faults"}):
        points[(tags, build)] += 1
        per_build[build] += 1
    alerts: Counter[str] = Counter(build for _, build in _builds_of_rows(
        stack.store, ours,
        f'SELECT "event", "build_id" FROM "{EVENTS}" WHERE "event" = $event GROUP BY "alert"',
        {"event": "opened"}))
    messages = _slack_builds(stack.slack, load.fault)

    lost = {build for build, expected in load.accepted.items()
            if per_build[build] < expected or alerts[build] == 0 or messages[build] == 0
            or build not in judged}
    duplicated = ({build for (_, build), rows in points.items() if rows > 1}
                  | {build for build, n in alerts.items() if n > 1}
                  | {build for build, n in messages.items() if n > 1})
    return {
        "fault": load.fault, "accepted": len(load.accepted), "gave_up": len(load.gave_up),
        "client_retries": load.retries, "lost": len(lost), "duplicated": len(duplicated),
        "recovery_s": recovery_s,
        "points": sum(points.values()), "alerts": sum(alerts.values()),
        "slack_messages": sum(messages.values()),
        "slack_failures": sum(1 for r in stack.slack.requests
                              if r.status != 200 and f"{load.fault}-" in json.dumps(r.body)),
        "lost_builds": sorted(lost)[:5], "duplicated_builds": sorted(duplicated)[:5],
    }


def _builds_of_rows(store: InfluxStore, ours: re.Pattern[str], statement: str,
                    params: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(series tags as JSON, build id) of each row the query finds of this load's builds."""
    for series in store.query(statement, params):
        for row in series.rows:
            if ours.fullmatch(str(row["build_id"])):
                yield json.dumps(series.tags, sort_keys=True), str(row["build_id"])


def _judged_builds(client: redis.Redis) -> set[str]:
    """Build ids of the submissions whose status is `done`."""
    done = set()
    for key in client.scan_iter("harness:submission:*", count=1000):
        text = cast(str | None, client.get(key))
        if text:
            status = json.loads(text)
            if status.get("state") == "done":
                done.add(status["build"]["id"])
    return done


def _build_ids(fault: str) -> re.Pattern[str]:
    """The build ids that the load of this fault posts (see `body`)."""
    return re.compile(rf"{re.escape(fault)}-\d-\d{{4}}")


def _slack_builds(slack: SlackReceiver, fault: str) -> Counter[str]:
    """Build id → how many delivered Slack messages name it."""
    pattern = _build_ids(fault)
    found: Counter[str] = Counter()
    for message in slack.messages:
        for build in set(pattern.findall(json.dumps(message))):
            found[build] += 1
    return found


def _hold_inside_worker(stack: Stack, load: Load, n: int) -> tuple[threading.Thread, int]:
    """Post a big submission while the test holds the lock of one of its series, so that
    a worker process runs it and waits inside it; returns the posting thread and the PID
    of that process, found by asking the workers what they run."""
    submission = body(load.fault, 9, n, extra=BIG)
    build = submission["build"]["id"]
    poster = threading.Thread(target=load.post, args=(submission,))
    poster.start()
    control = Celery("faults-test", broker=stack.redis.url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for tasks in (control.control.inspect(timeout=1.0).active() or {}).values():
            for task in tasks:
                if build in json.dumps(task.get("args")):
                    return poster, int(task["worker_pid"])
    raise AssertionError(f"no worker ran {build} within 60 s; accepted: "
                         f"{build in load.accepted}, rejected: {load.rejected}")


@contextlib.contextmanager
def _series_locked(stack: Stack, fault: str, n: int) -> Iterator[None]:
    """Hold the lock of the PA1 series of the big submission `n` of a fault (see `body`)."""
    key = series_key("validate_drp.PA1", {"dataset": f"{fault}-9-{n}", "filter": "r"}, "main")
    client = redis.Redis.from_url(stack.redis.url)
    try:
        with SeriesLocks(client, ttl_ms=120_000).hold([key]):
            yield
    finally:
        client.close()


def _outage(down: Callable[[], object], up: Callable[[], object], seconds: float) -> None:
    """Take a server down, and bring it back `seconds` later. The one fixed sleep of these
    tests, on purpose: how long the server stays away IS the fault, nothing is awaited."""
    down()
    time.sleep(seconds)
    up()


def worker_logs(stack: Stack) -> str:
    """Everything every worker of the stack (judging and notifying) logged."""
    return "".join(path.read_text(errors="replace") for pattern in ("worker-*", "notify-*")
                   for path in stack.logs.glob(pattern))


def test_influxd_killed_and_restarted(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        _outage(stack.influx.kill, stack.influx.start, 5.0)

    run(stack, "influxd", inflict)
    assert "retry: Retry in" in worker_logs(stack)  # the outage was met, and waited out


def test_pool_process_killed_mid_task(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        # A pool process killed while it runs a task: its task goes back to the queue at
        # once (reject_on_worker_lost). The test holds the task inside the process.
        with _series_locked(stack, load.fault, 0):
            poster, pid = _hold_inside_worker(stack, load, 0)
            os.kill(pid, signal.SIGKILL)
        poster.join()

    figures = run(stack, "worker", inflict)
    assert "WorkerLostError" in worker_logs(stack)  # a task was running when its process died
    assert figures["points"] >= BIG


def test_whole_worker_killed(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        # The whole worker killed while it holds a task, replaced 3 s later: what it held
        # comes back through its expired lease, not after the 900 s visibility timeout
        # (given back GRACE_S after its delivery: long after the lock is released).
        with _series_locked(stack, load.fault, 1):
            poster, _ = _hold_inside_worker(stack, load, 1)
            _outage(stack.worker.kill, stack.replace_worker, 3.0)
        poster.join()

    notified_before = len(stack.notify.new_output())
    figures = run(stack, "worker-killed", inflict)
    # given back by a lease, swept by the new judging worker or the notify pool
    swept = stack.worker.new_output() + stack.notify.new_output()[notified_before:]
    assert "held by no live worker" in swept
    assert figures["points"] >= BIG


def test_redis_restarted(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        _outage(stack.redis.stop, stack.redis.start, 3.0)

    worker, notify = stack.worker.pid, stack.notify.pid
    figures = run(stack, "redis", inflict)
    assert figures["client_retries"] >= 1  # the web answered 503 (or not at all) meanwhile
    assert stack.worker.running and stack.worker.pid == worker  # it survived, not replaced
    assert stack.notify.running and stack.notify.pid == notify


def test_redis_killed(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        # SIGKILL: only what the AOF holds survives
        _outage(stack.redis.kill, stack.redis.start, 3.0)

    worker, notify = stack.worker.pid, stack.notify.pid
    figures = run(stack, "redis-killed", inflict)
    assert figures["client_retries"] >= 1
    assert stack.worker.running and stack.worker.pid == worker
    assert stack.notify.running and stack.notify.pid == notify


def test_web_restarted(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        stack.web.restart()

    figures = run(stack, "web", inflict)
    assert figures["client_retries"] >= 1  # the CI clients met the restart and retried


def test_slack_answering_500_for_a_while(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        stack.slack.fail(times=25, status=500)

    figures = run(stack, "slack", inflict)
    assert figures["slack_failures"] >= 1  # the failures were met, and then retried

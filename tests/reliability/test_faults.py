"""No loss after 202: a steady load of submissions while, in turn, each server fails.

Every test here runs its own servers (Redis with AOF, influxd, a Celery worker, gunicorn, a
Slack receiver) so that killing them disturbs no other test. After each fault the test
waits until the system has caught up and then counts: every accepted submission's points
in InfluxDB exactly once, its alert once, its Slack message delivered once.
"""

from __future__ import annotations

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
from typing import Any

import pytest
import redis
import requests

from harness.alert_log import EVENTS
from harness.client import DeliveryError, PostError, post_submissions
from harness.store import RESULTS, InfluxStore
from tests.conftest import CHECKOUT, INGEST_SECRET, TOKENS
from tests.servers import CeleryWorker, GunicornServer, InfluxServer, RedisServer
from tests.slack_receiver import SlackReceiver

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

DATABASE = "harness_faults"
VISIBILITY_TIMEOUT_S = 10  # short, so that work held by a killed worker comes back quickly
RATE_PER_S = 6.0  # submissions a second, from each of two CI clients
SUBMISSIONS = 40  # per client and fault
CATCH_UP_S = 120.0
BIG = 600  # further measurements in a submission that keeps a worker process busy ~2 s


@dataclass
class Stack:
    """The servers of the fault tests."""

    redis: RedisServer
    influx: InfluxServer
    slack: SlackReceiver
    worker: CeleryWorker
    web: GunicornServer
    env: dict[str, str]
    logs: Path

    @property
    def store(self) -> InfluxStore:
        """The stack's InfluxDB database."""
        return InfluxStore(self.influx.url, DATABASE)

    def replace_worker(self) -> None:
        """Start a new worker process in place of a dead one."""
        self.worker = CeleryWorker(self.env, self.logs, concurrency=2, beat=True).start()


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
        "HARNESS_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
    }
    InfluxStore(influx.url, DATABASE).ensure_database()
    logs = folder / "logs"
    worker = CeleryWorker(env, logs, concurrency=2, beat=True).start()  # beat: requeue_lost
    web = GunicornServer(env, logs, workers=2).start()
    servers = Stack(redis_server, influx, slack, worker, web, env, logs)
    yield servers
    for server in (servers.web, servers.worker, servers.influx, servers.redis):
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
    time.sleep(2.0)  # steady state first
    inflict(stack, load)
    load.join()
    figures = _settle_and_count(stack, load)
    report = os.environ.get("HARNESS_RELIABILITY_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as out:
            out.write(json.dumps(figures) + "\n")
    print(json.dumps(figures))
    assert figures["accepted"] >= SUBMISSIONS  # the load really ran through the fault
    assert figures["gave_up"] == 0, load.gave_up
    assert not load.rejected, load.rejected
    assert (figures["lost"], figures["duplicated"]) == (0, 0), figures
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


def _settle_and_count(stack: Stack, load: Load) -> dict[str, Any]:
    """Wait until every accepted build is judged and announced; count what was stored."""
    client = redis.Redis.from_url(stack.redis.url, decode_responses=True)
    ids = set(load.accepted)
    deadline = time.monotonic() + CATCH_UP_S
    judged: set[str] = set()
    while time.monotonic() < deadline:
        judged = _judged_builds(client) & ids
        slack_ids = _slack_builds(stack.slack, load.fault)
        if judged == ids and set(slack_ids) >= ids:
            break
        time.sleep(0.5)
    time.sleep(3.0)  # a duplicate would arrive now
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
        text = client.get(key)
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


def _busy_child(worker: CeleryWorker, sample_s: float = 0.3) -> int | None:
    """The PID of a pool process of the worker that is using CPU (running a task)."""
    assert worker.pid is not None
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()

    def cpu(pid: str) -> int:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            return 0
        return int(fields[11]) + int(fields[12])  # utime + stime, clock ticks

    # an idle pool process uses no CPU at all; a judging one, even when it mostly waits
    # for InfluxDB on a crowded machine, uses some in every 0.3 s. The big submission
    # keeps its process busy for seconds, the steady load's small ones for a few tens of
    # milliseconds: busy in two samples in a row is the big one.
    busy = set(children)
    for _ in range(2):
        before = {pid: cpu(pid) for pid in busy}
        time.sleep(sample_s)
        busy = {pid for pid in busy if cpu(pid) - before[pid] >= 2}
    return int(min(busy)) if busy else None


def worker_logs(stack: Stack) -> str:
    """Everything every worker of the stack logged."""
    return "".join(path.read_text(errors="replace") for path in stack.logs.glob("celery-*"))


def test_influxd_killed_and_restarted(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        stack.influx.kill()
        time.sleep(4.0)
        stack.influx.start()

    run(stack, "influxd", inflict)
    assert "retry: Retry in" in worker_logs(stack)  # the outage was met, and waited out


def test_worker_sigkilled_mid_task(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        # A pool process killed while it runs a task: its task goes back to the queue
        # at once (reject_on_worker_lost). A big submission keeps a process busy.
        for n in range(2):
            big = threading.Thread(target=load.post, args=(body("worker", 9, n, extra=BIG),))
            big.start()
            deadline = time.monotonic() + 60
            while (pid := _busy_child(stack.worker)) is None:
                assert time.monotonic() < deadline, (
                    f"no pool process got busy within 60 s; big submission accepted: "
                    f"{sorted(b for b in load.accepted if b.startswith('worker-9'))}, "
                    f"rejected: {load.rejected}")
            os.kill(pid, signal.SIGKILL)
            big.join()
        # The whole worker killed: what it held comes back after the visibility timeout.
        time.sleep(1.0)
        stack.worker.kill()
        time.sleep(2.0)
        stack.replace_worker()

    figures = run(stack, "worker", inflict)
    assert "WorkerLostError" in worker_logs(stack)  # a task was running when its process died
    assert figures["points"] >= 2 * BIG


def test_redis_restarted(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        stack.redis.stop()
        time.sleep(2.0)
        stack.redis.start()

    figures = run(stack, "redis", inflict)
    assert figures["client_retries"] >= 1  # the web answered 503 (or not at all) meanwhile


def test_redis_killed(stack: Stack) -> None:
    def inflict(stack: Stack, load: Load) -> None:
        stack.redis.kill()  # SIGKILL: only what the AOF holds survives
        time.sleep(2.0)
        stack.redis.start()

    figures = run(stack, "redis-killed", inflict)
    assert figures["client_retries"] >= 1


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

"""Ingest benchmark, on servers started for the run (redis-server, influxd, gunicorn, Celery,
a Slack receiver): end-to-end ingest against a bare pipe, the worker's InfluxDB writes
against raw /write, latency to judged and to Slack at a steady rate, and scaling with one and
two worker processes. `python -m bench.pipeline [--runs N] [--no-write]`."""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
import requests

from bench.report import machine, spread, table, versions, write_json, write_section
from harness.catalog import Catalog, load_catalog
from harness.detection.verdicts import judge
from harness.formats.native import parse_submission
from harness.model import Submission
from harness.storage.influx import InfluxStore, build_point, result_point
from harness.testing.servers import (
    CeleryWorker,
    GunicornServer,
    InfluxServer,
    ManagedProcess,
    RedisServer,
)
from harness.testing.slack_receiver import SlackReceiver
from harness.times import nanoseconds
from harness.tools.demo import generate_history
from workers import DEFAULT_QUEUE, NOTIFY_QUEUE

SECRET = "bench-secret-0123456789"
DATABASE = "bench"
MEASUREMENTS = 50  # per submission
SEED_NIGHTS = 280  # more builds than the excursion test reads (276) in every series
CLIENTS = 8  # concurrent posters
RATE = 50.0  # submissions per second, for latency
ALERT_LINK = re.compile(r"/dash/alerts/([0-9a-zA-Z_-]+)")
COUNT = "{:,.0f}"  # format of a rate in the tables
TARGETS = {"ingest": 0.5, "write": 0.8, "judged_p99_ms": 150.0, "alert_p99_ms": 250.0,
           "influx_cpu": 3.0}
CHECKOUT = Path(__file__).resolve().parent.parent


# --- servers --------------------------------------------------------------------------


@dataclass
class Pipe:
    """One ingest pipeline: its web server, its worker (and the harness's notify pool, as
    the Procfile runs it) and where its points land."""

    name: str
    web: GunicornServer
    worker: CeleryWorker
    database: str
    headers: dict[str, str] = field(default_factory=dict)
    notify: CeleryWorker | None = None


@dataclass
class Stack:
    """Every server of the run."""

    redis: RedisServer
    influx: InfluxServer
    slack: SlackReceiver
    harness: Pipe
    bare: Pipe
    env: dict[str, str]
    folder: Path

    def processes(self, pipe: Pipe) -> dict[str, list[ManagedProcess]]:
        """The processes whose CPU a run of this pipe is charged with (the notify pool's to
        the worker)."""
        workers: list[ManagedProcess] = [pipe.worker, *([pipe.notify] if pipe.notify else [])]
        return {"web": [pipe.web], "worker": workers, "redis": [self.redis],
                "influxd": [self.influx]}

    def set_workers(self, processes: int) -> None:
        """Restart both pipes' workers with this many worker processes."""
        for pipe in (self.harness, self.bare):
            pipe.worker.stop()
            pipe.worker = CeleryWorker(self.env, self.folder / "logs", concurrency=processes,
                                       app=pipe.worker.app, queues=pipe.worker.queues).start()


@contextmanager
def stack(folder: Path) -> Iterator[Stack]:
    """Start the servers; stop them all on the way out."""
    with ExitStack() as stop:
        redis_server = stop.enter_context(RedisServer(folder / "redis"))
        influx = stop.enter_context(InfluxServer(folder / "influx"))
        slack = SlackReceiver().start()
        stop.callback(slack.stop)
        env = {
            "HARNESS_BROKER_URL": redis_server.url, "HARNESS_INFLUXDB_URL": influx.url,
            "HARNESS_INFLUXDB_DATABASE": DATABASE, "HARNESS_BLOB_DIR": str(folder / "blobs"),
            "HARNESS_METRICS_DIR": str(CHECKOUT / "metrics"),
            "HARNESS_API_TOKENS": f"bench:{SECRET}:ingest",
            "HARNESS_PUBLIC_URL": "http://127.0.0.1:5000", "HARNESS_SLACK_WEBHOOK_URL": slack.url,
            # a summary's message is held for its grace on purpose (10 s, decision 80): with
            # none, POST → Slack is what the harness itself adds
            "HARNESS_SUMMARY_GRACE_S": "0",
        }
        logs = folder / "logs"
        pipes: list[Pipe] = []

        def stop_workers() -> None:
            for pipe in pipes:
                pipe.worker.stop()
                if pipe.notify:
                    pipe.notify.stop()
        stop.callback(stop_workers)
        for name, web_app, worker_app, database in (
                ("harness", "harness.web.wsgi:app", "workers", DATABASE),
                ("bare", "bench.bare:app", "bench.bare:celery", "bare")):
            harness = name == "harness"
            # the harness's two pools as the Procfile runs them: judging, notifying
            worker = CeleryWorker(env, logs, concurrency=2, app=worker_app,
                                  queues=[DEFAULT_QUEUE] if harness else [])
            notify = CeleryWorker(env, logs, concurrency=2, queues=[NOTIFY_QUEUE],
                                  name="notify") if harness else None
            web = GunicornServer(env, logs, app=web_app, workers=2)
            headers = {"Authorization": f"Bearer {SECRET}"} if harness else {}
            pipes.append(Pipe(name, web, worker, database, headers, notify))
            stop.enter_context(web)
            worker.start()
            if notify:
                notify.start()
        for database in (DATABASE, "bare"):
            InfluxStore(influx.url, database).ensure_database()
        yield Stack(redis_server, influx, slack, pipes[0], pipes[1], env, folder)


def cpu_seconds(process: ManagedProcess) -> float:
    """User + system CPU of every process in the server's session (it leads its own)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[3]) == process.pid:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# --- workload -------------------------------------------------------------------------


def workload(nights: int, measurements: int = MEASUREMENTS) -> list[dict[str, Any]]:
    """The demo's nightly submissions (two datasets a night, the odd PR build, a regression,
    a drift, outliers), each cut to its first `measurements` measurements."""
    bodies = generate_history(nights, seed=11, end=datetime(2026, 11, 20, tzinfo=UTC))
    for body in bodies:
        body["measurements"] = body["measurements"][:measurements]
    return bodies


def judged(body: dict[str, Any], catalog: Catalog) -> tuple[Submission, list[Any]]:
    """A body parsed as the API does, with its measurements judged against the specs."""
    submission = parse_submission(body, catalog, received=datetime.now(UTC)).submission
    return submission, [judge(measurement, catalog) for measurement in submission.measurements]


def seed(store: InfluxStore, bodies: Sequence[dict[str, Any]], catalog: Catalog) -> int:
    """Write a history straight into the store (judged against specs), 5,000 points a write."""
    points = []
    for body in bodies:
        submission, results = judged(body, catalog)
        time_ns = nanoseconds(submission.time)
        points.append(build_point(submission, time_ns))
        points += [result_point(submission, result, time_ns) for result in results]
    for start in range(0, len(points), 5000):
        store.write(points[start:start + 5000])
    return len(points)


def chunks(bodies: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Consecutive slices of the workload."""
    for start in range(0, len(bodies), size):
        yield bodies[start:start + size]


# --- end-to-end ingest ----------------------------------------------------------------


class Poster:
    """Posts bodies from a pool of threads, each with its own connection."""

    def __init__(self, clients: int = CLIENTS) -> None:
        self.pool = ThreadPoolExecutor(clients)
        self.local = threading.local()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        """POST one JSON body; raises unless it was accepted."""
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        response = session.post(url, data=body, timeout=30,
                                headers={**headers, "Content-Type": "application/json"})
        if response.status_code != 202:
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
        return response

    def close(self) -> None:
        """Stop the threads."""
        self.pool.shutdown()


def stored(store: InfluxStore, since_ns: int) -> int:
    """Result points stored at or after a time."""
    found = store.query("SELECT count(value) FROM results WHERE time >= $since",
                        {"since": datetime.fromtimestamp(since_ns / 1e9, UTC).isoformat()})
    return sum(int(row["count"]) for series in found for row in series.rows)


def ingest_run(stack: Stack, pipe: Pipe, bodies: list[dict[str, Any]], poster: Poster
               ) -> dict[str, Any]:
    """Post the bodies concurrently; time until every measurement is stored."""
    store = InfluxStore(stack.influx.url, pipe.database)
    encoded = [json.dumps(body).encode() for body in bodies]
    expected = sum(len(body["measurements"]) for body in bodies)
    since = min(nanoseconds(datetime.fromisoformat(body["build"]["time"].replace("Z", "+00:00")))
                for body in bodies)
    processes = stack.processes(pipe)
    before = {name: sum(map(cpu_seconds, group)) for name, group in processes.items()}
    url = pipe.web.url + ("/api/v1/submissions" if pipe.name == "harness" else "/submissions")
    started = time.perf_counter()
    posts = [poster.pool.submit(poster.post, url, body, pipe.headers) for body in encoded]
    for post in posts:
        post.result()
    posted = time.perf_counter()
    deadline = started + 300
    while (count := stored(store, since)) < expected:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{pipe.name}: {count} of {expected} measurements stored after "
                               f"300 s; worker errors:\n{errors(pipe.worker)}")
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    cpu = {name: sum(map(cpu_seconds, group)) - before[name]
           for name, group in processes.items()}
    return {"pipe": pipe.name, "submissions": len(bodies), "measurements": expected,
            "seconds": seconds, "post_seconds": posted - started,
            "rate": expected / seconds, "cpu": cpu}


def errors(process: ManagedProcess, context: int = 25) -> str:
    """The first error in a server's log, with the lines after it."""
    lines = process.new_output().splitlines()
    first = next((n for n, line in enumerate(lines) if "ERROR" in line), None)
    return "\n".join(lines[first:first + context]) if first is not None else "none logged"


def ingest_phase(stack: Stack, bodies: Iterator[list[dict[str, Any]]], runs: int,
                 poster: Poster) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """A warm-up, then `runs` pairs: the harness and the bare pipe, each given the same
    submissions (into its own database)."""
    pairs = []
    for index in range(runs + 1):
        chunk = next(bodies)
        harness = ingest_run(stack, stack.harness, chunk, poster)
        bare = ingest_run(stack, stack.bare, chunk, poster)
        if index:
            pairs.append((harness, bare))
            print(f"  run {index}: harness {harness['rate']:,.0f} measurements/s, "
                  f"bare {bare['rate']:,.0f}/s", flush=True)
    return pairs


# --- store writes ---------------------------------------------------------------------


def write_phase(stack: Stack, bodies: list[dict[str, Any]], catalog: Catalog, runs: int
                ) -> list[dict[str, float]]:
    """The worker's write (points built from judged results, serialised, posted) against a
    raw POST of the same line protocol, batch by batch, alternating."""
    worker_store = InfluxStore(stack.influx.url, "writes_worker")
    raw_store = InfluxStore(stack.influx.url, "writes_raw")
    for store in (worker_store, raw_store):
        store.ensure_database()
    session = requests.Session()
    batches = []
    for body in bodies:
        submission, results = judged(body, catalog)
        time_ns = nanoseconds(submission.time)
        points = [build_point(submission, time_ns)]
        points += [result_point(submission, result, time_ns) for result in results]
        batches.append((submission, results, "\n".join(p.to_line_protocol() for p in points)))

    def worker_writes() -> int:
        written = 0
        for submission, results, _ in batches:
            time_ns = nanoseconds(submission.time)
            points = [build_point(submission, time_ns)]
            points += [result_point(submission, result, time_ns) for result in results]
            written += worker_store.write(points)
        return written

    def raw_writes() -> int:
        written = 0
        for _, _, lines in batches:
            response = session.post(f"{stack.influx.url}/write", data=lines.encode(),
                                    params={"db": "writes_raw", "precision": "ns"}, timeout=10)
            if response.status_code != 204:
                raise RuntimeError(f"raw write answered {response.status_code}")
            written += lines.count("\n") + 1
        return written

    found = []
    worker_writes(), raw_writes()  # warm: connections open, shards created
    for _ in range(runs):
        row = {}
        for name, action in (("worker", worker_writes), ("raw", raw_writes)):
            started = time.perf_counter()
            written = action()
            row[name] = written / (time.perf_counter() - started)
        row["batch"] = written / len(batches)
        found.append(row)
    return found


# --- latency --------------------------------------------------------------------------


class Completions:
    """When each submission's status was last set in Redis (keyspace notifications): the
    second set, after the web's `queued`, is the worker's `done`."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self.client.config_set("notify-keyspace-events", "K$")
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe("__keyspace@0__:harness:submission:*")
        self.sets: dict[str, list[float]] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.stopping.is_set():
            try:
                message = self.pubsub.get_message(timeout=0.1)
            except redis.ConnectionError:
                return  # the server stopped: the run is over
            if message is not None and message["data"] == "set":
                key = message["channel"].rsplit(":", 1)[1]
                self.sets.setdefault(key, []).append(time.monotonic())

    def alerts(self, submission_id: str, dataset: str) -> list[str]:
        """The ids of the alerts a done submission opened in a dataset."""
        text: Any = self.client.get(f"harness:submission:{submission_id}")
        status = json.loads(text or "{}")
        return [alert["id"] for alert in status.get("alerts", [])
                if alert.get("dimensions", {}).get("dataset") == dataset]

    def done_at(self, submission_id: str) -> float | None:
        """When the worker marked the submission done, if it has."""
        sets = self.sets.get(submission_id, [])
        return sets[1] if len(sets) >= 2 else None

    def close(self) -> None:
        """Stop listening."""
        self.stopping.set()
        self.thread.join()
        self.pubsub.close()
        self.client.close()


def with_alert(body: dict[str, Any], tag: str) -> dict[str, Any]:
    """The body plus one measurement that fails its minimum spec in a series of its own,
    so that every submission raises a new critical alert for Slack; a PR build becomes a
    main-branch one (PR builds are compared, never alerted)."""
    failing = {"metric": "validate_drp.AD1", "value": 99.0, "unit": "marcsec",
               "dimensions": {"dataset": tag, "filter": "r"}}
    build = {key: value for key, value in body["build"].items() if key != "pull_request"}
    return {**body, "build": {**build, "branch": "main"},
            "measurements": [*body["measurements"][:MEASUREMENTS - 1], failing]}


def latency_run(stack: Stack, bodies: list[dict[str, Any]], run: int, poster: Poster,
                completions: Completions, rate: float) -> dict[str, Any]:
    """Post at a steady rate; per submission, seconds from POST to judged and to Slack."""
    tags = [f"latency-r{run}-{index:05d}" for index in range(len(bodies))]
    encoded = [json.dumps(with_alert(body, tag)).encode() for body, tag in zip(bodies, tags,
                                                                               strict=True)]
    url = stack.harness.web.url + "/api/v1/submissions"
    sent: list[float] = [0.0] * len(encoded)

    def post(index: int) -> str:
        sent[index] = time.monotonic()
        return str(poster.post(url, encoded[index], stack.harness.headers).json()["submission"])

    start = time.monotonic()
    futures = []
    for index in range(len(encoded)):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        futures.append(poster.pool.submit(post, index))
    ids = [future.result() for future in futures]
    deadline = time.monotonic() + 120
    alerts: dict[str, str] = {}  # the AD1 alert's id → the submission's tag
    slack_at: dict[str, float] = {}
    seen = 0
    while len(slack_at) < len(tags) or not all(completions.done_at(i) for i in ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"latency run {run}: {len(slack_at)} of {len(tags)} alerts in "
                               "Slack after 120 s")
        time.sleep(0.1)
        for submission_id, tag in zip(ids, tags, strict=True):
            if tag not in alerts.values() and completions.done_at(submission_id):
                alerts.update((alert, tag) for alert in completions.alerts(submission_id, tag))
        arrived = stack.slack.requests
        for request in arrived[seen:]:  # one alert's message, or one for a build's alerts
            text = json.dumps(request.body)
            for alert in ALERT_LINK.findall(text):
                if alert in alerts:
                    slack_at.setdefault(alerts[alert], request.at)
        seen = len(arrived) if len(alerts) == len(tags) else seen
    stack.slack.clear()
    return {
        "rate": rate,
        "judged": [completions.done_at(i) - sent[n] for n, i in enumerate(ids)],  # type: ignore[operator]
        "alert": [slack_at[tag] - sent[n] for n, tag in enumerate(tags)],
    }


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# --- the whole run --------------------------------------------------------------------


def run(runs: int, chunk: int, latency_runs: int, latency_seconds: float) -> dict[str, Any]:
    """Every phase on one set of freshly started servers."""
    catalog = load_catalog(CHECKOUT / "metrics")
    latency_size = int(RATE * latency_seconds)
    needed = 2 * (runs + 1) * chunk + 2 * latency_runs * latency_size
    bodies = workload(SEED_NIGHTS + needed // 2 + 20)
    history, rest = bodies[:2 * SEED_NIGHTS], bodies[2 * SEED_NIGHTS:]
    print(f"{len(history)} submissions of history, {len(rest)} to post", flush=True)
    found: dict[str, Any] = {"measurements_per_submission": MEASUREMENTS, "clients": CLIENTS,
                             "chunk": chunk, "rate": RATE}
    with tempfile.TemporaryDirectory() as folder, stack(Path(folder)) as servers:
        found["seeded_points"] = seed(InfluxStore(servers.influx.url, DATABASE), history,
                                      catalog)
        posts = chunks(rest, chunk)
        poster = Poster()
        try:
            print("end-to-end ingest, 2 worker processes", flush=True)
            found["ingest_2"] = ingest_phase(servers, posts, runs, poster)
            print("end-to-end ingest, 1 worker process", flush=True)
            servers.set_workers(1)
            found["ingest_1"] = ingest_phase(servers, posts, runs, poster)
            servers.set_workers(2)
            capacity = statistics.median(h["submissions"] / h["seconds"]
                                         for h, _ in found["ingest_2"])
            completions = Completions(servers.redis.url)
            queue = [body for part in posts for body in part]
            found["latency"], found["latency_half"] = [], []
            for name, rate in (("latency", RATE), ("latency_half", capacity / 2)):
                print(f"latency at {rate:.1f} submissions/s", flush=True)
                size = int(rate * latency_seconds)
                for _ in range(latency_runs):
                    bodies_now, queue = queue[:size], queue[size:]
                    found[name].append(latency_run(
                        servers, bodies_now, len(found["latency"]) + len(found["latency_half"]),
                        poster, completions, rate))
            completions.close()
            print("store writes", flush=True)
            found["writes"] = write_phase(servers, history[:100], catalog, runs)
        finally:
            poster.close()
    return found


def target_rows(found: dict[str, Any]) -> list[list[str]]:
    """The targets table: each figure, its baseline, ratio, target and whether it is met."""
    pairs2 = found["ingest_2"]
    harness2 = [h["rate"] for h, _ in pairs2]
    bare2 = [b["rate"] for _, b in pairs2]
    ratios = [h["rate"] / b["rate"] for h, b in pairs2]
    writes = found["writes"]
    write_ratios = [row["worker"] / row["raw"] for row in writes]
    ratio = statistics.median(ratios)
    write_ratio = statistics.median(write_ratios)
    half = found["latency_half"]
    judged_p99 = [percentile([1000 * s for s in run["judged"]], 0.99) for run in half]
    alert_p99 = [percentile([1000 * s for s in run["alert"]], 0.99) for run in half]
    harness_cpu, bare_cpu = _cpu_per_submission(pairs2)
    influx_ratios = [h["influxd"] / b["influxd"] for h, b in zip(harness_cpu, bare_cpu,
                                                                  strict=True)]
    at = f"at {half[0]['rate']:.1f}/s (half capacity), p99"
    return [
        ["end-to-end ingest, measurements/s", spread(harness2, COUNT), spread(bare2, COUNT),
         spread(ratios, "{:.2f}×"), f"≥ {TARGETS['ingest']:g}×", _met(ratio >= TARGETS["ingest"])],
        [f"InfluxDB writes, points/s (batches of {writes[0]['batch']:.0f})",
         spread([row["worker"] for row in writes], COUNT),
         spread([row["raw"] for row in writes], COUNT), spread(write_ratios, "{:.2f}×"),
         f"≥ {TARGETS['write']:g}×", _met(write_ratio >= TARGETS["write"])],
        [f"POST → verdict (status `done`) {at}", spread(judged_p99, "{:.0f} ms"), "", "",
         f"≤ {TARGETS['judged_p99_ms']:g} ms",
         _met(statistics.median(judged_p99) <= TARGETS["judged_p99_ms"])],
        [f"POST → Slack {at} (no summary grace)", spread(alert_p99, "{:.0f} ms"), "", "",
         f"≤ {TARGETS['alert_p99_ms']:g} ms",
         _met(statistics.median(alert_p99) <= TARGETS["alert_p99_ms"])],
        ["InfluxDB CPU per submission",
         spread([run["influxd"] for run in harness_cpu], "{:.1f} ms"),
         spread([run["influxd"] for run in bare_cpu], "{:.1f} ms"),
         spread(influx_ratios, "{:.1f}×"), f"≤ {TARGETS['influx_cpu']:g}×",
         _met(statistics.median(influx_ratios) <= TARGETS["influx_cpu"])],
    ]


def markdown(found: dict[str, Any], runs: int) -> str:
    """The Ingest section of docs/performance.md."""
    pairs2, pairs1 = found["ingest_2"], found["ingest_1"]
    harness2 = [h["rate"] for h, _ in pairs2]
    bare2 = [b["rate"] for _, b in pairs2]
    harness1 = [h["rate"] for h, _ in pairs1]
    bare1 = [b["rate"] for _, b in pairs1]
    rows = target_rows(found)
    latency_rows = [row for name in ("latency", "latency_half")
                    for row in _latency_rows(found[name])]
    scaling_rows = [
        ["harness", spread(harness1, COUNT), spread(harness2, COUNT),
         f"{statistics.median(harness2) / statistics.median(harness1):.2f}×"],
        ["bare pipe", spread(bare1, COUNT), spread(bare2, COUNT),
         f"{statistics.median(bare2) / statistics.median(bare1):.2f}×"],
    ]
    cpu_rows = [[name, *(f"{statistics.median(run[name] for run in side):.1f} ms"
                         for side in _cpu_per_submission(pairs2))]
                for name in ("web", "worker", "redis", "influxd")]
    return "\n".join([
        "## Ingest", "",
        f"`python -m bench.pipeline`: redis-server, influxd, gunicorn (2 workers) and a "
        f"Celery worker (prefork, 2 processes; for the harness, a second one of 2 processes "
        f"on the notify queue, as the Procfile's `notify` line, its CPU charged to the "
        f"worker) started for the run, for the harness and for a "
        f"**bare pipe** (`bench/bare.py`: POST → JSON → enqueue → one `/write` of the same "
        f"points, no validation, judging, alerts or status) on the same Redis and InfluxDB. "
        f"The workload is the demo's nightly history ({MEASUREMENTS} measurements a "
        f"submission, two datasets a night, the odd PR build, a regression, a drift, "
        f"outliers, spec failures): {found['seeded_points']:,} points of history written "
        f"first (≥ 276 builds in every series, as much as the excursion test reads), then "
        f"chunks of {found['chunk']} submissions posted by {CLIENTS} concurrent clients, "
        f"timed until every measurement is in InfluxDB. Each chunk goes to the harness and "
        f"then, the same bodies, to the bare pipe: {runs} pairs after a warm-up pair; "
        f"medians with min–max; ratios are per pair. {versions()}; {machine()}.", "",
        "### Targets", "",
        *table(["", "harness", "baseline", "ratio", "target", "met"], rows), "",
        "### Latency at a steady rate", "",
        f"{len(found['latency'])} runs at {RATE:g} submissions/s and as many at half the "
        f"capacity the 2-process runs measured ({found['latency_half'][0]['rate']:.1f}/s), "
        f"each of {len(found['latency'][0]['alert'])} and "
        f"{len(found['latency_half'][0]['alert'])} submissions ({MEASUREMENTS} measurements, "
        f"one of them failing its minimum spec in a new series, so that every submission "
        f"opens one critical alert). Judged = the worker's `done` status set in Redis "
        f"(keyspace notification); alert = the Slack receiver got the message, with "
        f"`HARNESS_SUMMARY_GRACE_S=0`: the harness holds a summary's message 10 s by "
        f"default on purpose (decision 80), so that the alerts of one cause are one "
        f"message; without that wait, the figure is what the harness itself adds.", "",
        *table(["rate", "", "p50", "p99", "p99 per run"], latency_rows), "",
        "### Scaling with worker processes", "",
        *table(["measurements/s", "1 worker process", "2 worker processes", "gain"],
               scaling_rows), "",
        "CPU per submission (median over the 2-process runs, all processes of each server):",
        "",
        *table(["server", "harness", "bare pipe"], cpu_rows), "",
        *model(_cpu_per_submission(pairs2)[0]),
    ])


def model(runs: list[dict[str, float]], cores: int = 2) -> list[str]:
    """What N worker hosts would reach against one Redis and one InfluxDB, from the CPU
    each server spent per submission: each resource's ceiling, the lowest one binds."""
    cost = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    ceilings = {  # submissions per second each resource could serve alone
        "Redis (one thread)": 1000 / cost["redis"],
        f"InfluxDB ({cores} cores)": cores * 1000 / cost["influxd"],
        f"gunicorn ({cores}-core host)": cores * 1000 / cost["web"],
    }
    rows = []
    for hosts in (1, 2, 4, 8, 16):
        workers = hosts * cores * 1000 / cost["worker"]
        limit, first = min((value, name) for name, value in ceilings.items())
        reach = min(workers, limit)
        rows.append([str(hosts), f"{workers:,.0f}", f"{reach:,.0f}",
                     f"{reach * MEASUREMENTS:,.0f}",
                     "the workers" if workers <= limit else first])
    return [
        "#### Model: N worker hosts against one Redis and one InfluxDB", "",
        f"Each server's ceiling is its cores over the CPU it spends per submission (above): "
        f"workers {cost['worker']:.1f} ms, InfluxDB {cost['influxd']:.1f} ms, gunicorn "
        f"{cost['web']:.1f} ms, Redis {cost['redis']:.1f} ms on its single thread. With "
        f"{cores}-core hosts and every server on a host of its own (on this one machine they "
        f"share {cores} cores, hence the measured rate is lower):", "",
        *table(["worker hosts", "workers alone, submissions/s", "system, submissions/s",
                "measurements/s", "bound by"], rows), "",
        "Ceilings alone: " + ", ".join(f"{name} {value:,.0f}/s"
                                       for name, value in ceilings.items()) + ". "
        "Web processes scale out like workers (behind a load balancer); Redis and InfluxDB "
        "do not, so the first of them to saturate is the system's limit: more worker hosts "
        "help until then. The model ignores network latency between hosts (each task makes "
        "~5 round trips), which lowers a single worker's rate but not the ceilings.", "",
        *_beyond(ceilings, cost, cores), "",
    ]


def _beyond(ceilings: dict[str, float], cost: dict[str, float], cores: int) -> list[str]:
    """What an operator does when one InfluxDB or one Redis binds, with the settings."""
    name, value = min(ceilings.items(), key=lambda item: item[1])
    return [
        f"**Where it binds.** {name} first, at {value:,.0f} submissions/s "
        f"({value * MEASUREMENTS:,.0f} measurements/s). Next steps, in order of effort:", "",
        f"1. *A bigger InfluxDB host.* Its ceiling grows with its cores ({cost['influxd']:.1f} "
        f"ms a submission: 8 cores ≈ {8 * 1000 / cost['influxd']:,.0f}/s). Nothing changes "
        "in the harness.",
        "2. *An InfluxDB Enterprise cluster* (1.x API, data nodes behind a load balancer): "
        "`HARNESS_INFLUXDB_URL` names the balancer, `HARNESS_INFLUXDB_USERNAME` and "
        "`HARNESS_INFLUXDB_PASSWORD` a cluster user. Writes are replicated (replication "
        "factor 2 doubles their CPU across the cluster), reads spread over the nodes. The "
        "harness reads its own writes right after them (the alert log, build records), so the "
        "write consistency must be `all` or `quorum`, not the default `one`.",
        "3. *InfluxDB 3 behind the same 1.x API* (`/write`, `/query` with InfluxQL): the same "
        "`HARNESS_INFLUXDB_*` settings, a token as the password. Two things differ: the "
        "harness's InfluxQL `DELETE` (branch retention, harness/storage/retention.py) is not "
        "served there, so retention becomes a bucket retention period per branch tier; and "
        "InfluxQL subqueries and `GROUP BY *` should be checked on the target version.",
        f"4. *Redis.* One thread serves ~{ceilings['Redis (one thread)']:,.0f} submissions/s "
        "here. For availability, Redis Sentinel: not a setting yet — `HARNESS_BROKER_URL` "
        "takes `redis://` and `rediss://` only, and Sentinel needs kombu's `sentinel://` URL "
        "with `master_name`, a Sentinel twin of the harness's transport (workers/broker.py) "
        "and `redis.sentinel.Sentinel` for the registry's client. For throughput, one "
        "Redis (and one worker pool) per project: `HARNESS_BROKER_URL` per deployment.",
    ]


def _latency_rows(runs: list[dict[str, Any]]) -> list[list[str]]:
    """p50 and p99 of all runs at one rate, and the p99 of each run."""
    rows = []
    for key, label in (("judged", "POST → judged and stored"),
                       ("alert", "POST → Slack alert delivered")):
        pooled = [1000 * s for run in runs for s in run[key]]
        each = [percentile([1000 * s for s in run[key]], 0.99) for run in runs]
        rows.append([f"{runs[0]['rate']:.1f}/s", label, f"{percentile(pooled, 0.5):.0f} ms",
                     f"{percentile(pooled, 0.99):.0f} ms", spread(each, "{:.0f} ms")])
    return rows


def _cpu_per_submission(pairs: list[tuple[dict[str, Any], dict[str, Any]]]
                        ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Milliseconds of CPU per submission, by server, for each side of each pair."""
    def per(run: dict[str, Any]) -> dict[str, float]:
        return {name: 1000 * seconds / run["submissions"] for name, seconds in run["cpu"].items()}
    return [per(h) for h, _ in pairs], [per(b) for _, b in pairs]


def _met(condition: bool) -> str:
    return "yes" if condition else "no"


def main() -> int:
    """Run, print, write the Ingest section of docs/performance.md and its JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--chunk", type=int, default=150, help="submissions per ingest run")
    parser.add_argument("--latency-runs", type=int, default=2)
    parser.add_argument("--latency-seconds", type=float, default=6.0)
    parser.add_argument("--no-write", action="store_true", help="do not touch the docs")
    args = parser.parse_args()
    found = run(args.runs, args.chunk, args.latency_runs, args.latency_seconds)
    text = markdown(found, args.runs)
    print(text)
    if not args.no_write:
        write_section("Ingest", text)
        write_json("ingest", found)
        write_json("targets_ingest", target_rows(found))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

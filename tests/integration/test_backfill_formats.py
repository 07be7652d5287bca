"""`harness backfill --format github-action-benchmark` against the real system: a data.js
history of 30 commits with a step becomes stored series, an alert at the step, and a re-run
posts nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from harness.client.cli import main
from harness.storage.influx import InfluxStore
from tests.conftest import INGEST_SECRET

START = datetime(2026, 6, 1, 3, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))  # the commits' own offset, as GitHub writes them
STEP = 22  # the commit from which BenchmarkFib20 is 10 % slower
SUITE = "Go Benchmark"
FIB10 = "github_action_benchmark.Go_Benchmark.BenchmarkFib10"
FIB20 = "github_action_benchmark.Go_Benchmark.BenchmarkFib20"


def commit_id(index: int) -> str:
    """A commit hash of its own for each commit of the history."""
    return hashlib.sha1(f"commit {index}".encode()).hexdigest()


def data_js(commits: int = 30) -> tuple[str, dict[str, list[float]]]:
    """The data.js github-action-benchmark keeps for `go test -bench` on `commits` commits
    (1 % noise; a 10 % step of BenchmarkFib20 at STEP), and the values of each bench."""
    noise = random.Random(11)
    values: dict[str, list[float]] = {"BenchmarkFib10": [], "BenchmarkFib20": []}
    entries = []
    for index in range(commits):
        fib10 = round(409.0 * (1 + 0.01 * noise.gauss(0, 1)), 2)
        fib20 = round(50545.0 * (1 + 0.01 * noise.gauss(0, 1)) * (1.1 if index >= STEP else 1),
                      1)
        values["BenchmarkFib10"].append(fib10)
        values["BenchmarkFib20"].append(fib20)
        when = START + timedelta(days=index)
        entries.append({
            "commit": {
                "author": {"email": "dev@example.org", "name": "Dev", "username": "dev"},
                "committer": {"email": "dev@example.org", "name": "Dev", "username": "dev"},
                "distinct": True, "id": commit_id(index), "message": f"change {index}",
                "timestamp": when.astimezone(CEST).isoformat(), "tree_id": commit_id(-index),
                "url": f"https://github.com/example/fib/commit/{commit_id(index)}"},
            "date": int((when + timedelta(minutes=7)).timestamp() * 1000),
            "tool": "go",
            "benches": [
                {"name": "BenchmarkFib10", "value": fib10, "unit": "ns/op",
                 "extra": "2915931 times\n2 procs"},
                {"name": "BenchmarkFib20", "value": fib20, "unit": "ns/op",
                 "extra": "23692 times\n2 procs"},
            ],
        })
    data = {"lastUpdate": 1780000000000, "repoUrl": "https://github.com/example/fib",
            "entries": {SUITE: entries}}
    return "window.BENCHMARK_DATA = " + json.dumps(data, indent=2), values


def backfill(web: str, path: Path) -> int:
    """`harness backfill --format github-action-benchmark` of one file; its exit code."""
    return main(["backfill", "--format", "github-action-benchmark", str(path), "--url", web,
                 "--token", INGEST_SECRET])


def stored_series(client: Any, metric: str) -> list[tuple[str, float]]:
    """(build id, value) of each point of a metric's one series, in time order."""
    answer = client.get(f"/api/v1/metrics/{metric}/series?format=csv&branch=main")
    assert answer.status_code == 200, answer.text
    return [(row["build_id"], float(row["value"]))
            for row in csv.DictReader(io.StringIO(answer.text))]


def test_a_data_js_history_becomes_series_with_an_alert_at_the_step_and_resumes(
    web: str, client: Any, system: InfluxStore, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text, values = data_js()
    path = tmp_path / "data.js"
    path.write_text(text)

    code = backfill(web, path)

    err = capsys.readouterr().err
    assert code == 0, err
    assert "posted 30, skipped 0 (already stored), rejected 0 of 30 documents" in err
    assert "judged: 30 done, 0 failed" in err
    metrics = {metric["name"]: metric for metric in client.get("/api/v1/metrics").json["metrics"]}
    for name in (FIB10, FIB20):
        assert (metrics[name]["unit"], metrics[name]["better"]) == ("ns", "lower")
    commits = [commit_id(index) for index in range(30)]
    assert stored_series(client, FIB20) == list(zip(commits, values["BenchmarkFib20"],
                                                    strict=True))
    assert stored_series(client, FIB10) == list(zip(commits, values["BenchmarkFib10"],
                                                    strict=True))
    assert system.count() == 60
    alerts = client.get("/api/v1/alerts?kind=regression").json["alerts"]
    assert [(alert["metric"], alert["build_ci"], alert["started_build"], alert["state"])
            for alert in alerts] == [(FIB20, "github-action-benchmark", commits[STEP], "open")]
    noticed = commits.index(alerts[0]["build_id"])
    assert STEP < noticed < 30 and alerts[0]["commit"] == commits[noticed]

    again = backfill(web, path)

    err = capsys.readouterr().err
    assert again == 0, err
    assert "posted 0, skipped 30 (already stored), rejected 0 of 30 documents" in err
    assert system.count() == 60
    assert len(client.get("/api/v1/alerts?kind=regression").json["alerts"]) == 1

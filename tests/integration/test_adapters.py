"""`harness post --format F` end to end, on the files the tools wrote (tests/data/benchmarks):
every format's benchmarks become registered metrics with their points, a re-post of the
same build changes nothing, and a developer with `go test -bench` in CI gets a regression
alert on main and a failing check and one comment on the pull request that slows it."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import metric_name, prefix_of, read_files
from harness.client.comments import MARKER
from harness.storage.influx import InfluxStore
from harness.testing.forge_server import ForgeServer
from tests.conftest import CHECKOUT
from tests.integration.test_post import clean_env, post, set_build
from tests.integration.test_pr_check import REPO, SECRET, github_run
from tests.integration.test_pr_gate import START

__all__ = ["clean_env"]  # its autouse fixture: no CI of this machine leaks in, a token is set

DATA = CHECKOUT / "tests" / "data" / "benchmarks"
CRITERION = DATA / "criterion" / "target" / "criterion"
FILES = {
    "pytest-benchmark": [DATA / "pytest-benchmark" / "benchmark.json"],
    "google-benchmark": [DATA / "google-benchmark" / "repetitions.json"],
    "hyperfine": [DATA / "hyperfine" / "runs.json"],
    "go-test": [DATA / "go-test" / "bench-count5.txt"],
    "catch2": [DATA / "catch2" / "results.xml"],
    "asv": sorted((DATA / "asv" / "results" / "testbox").glob("*-existing-*.json"))[:1],
    "criterion": [CRITERION / "parse" / "csv" / "1000" / "new" / "estimates.json",
                  CRITERION / "fib 20" / "new" / "estimates.json"],
    "jmh": [DATA / "jmh" / "jmh-result.json"],
    "bmf": [DATA / "bmf" / "example.json"],
}
GO_BENCH = """goos: linux
goarch: amd64
pkg: example.com/sortbench
cpu: AMD EPYC
{lines}PASS
ok  \texample.com/sortbench\t1.234s
"""


@pytest.fixture
def forge() -> Any:
    """A loopback GitHub (harness.testing.forge_server)."""
    server = ForgeServer(SECRET).start()
    yield server
    server.stop()


def stored(store: InfluxStore, metric: str) -> list[float]:
    """The values stored of a metric, oldest first."""
    return [point.value for series in store.series(metric, {}) for point in series
            if point.value is not None]


@pytest.mark.parametrize("format_name", sorted(FILES))
def test_each_formats_real_output_becomes_metrics_and_a_repost_changes_nothing(
        web: str, client: Any, system: InfluxStore, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, format_name: str) -> None:
    files = FILES[format_name]
    assert files and all(path.exists() for path in files)
    benchmarks = read_files(format_name, files)
    names = [metric_name(prefix_of(format_name), b.name) for b in benchmarks]
    set_build(monkeypatch, f"adapter-{format_name}")
    for attempt in (1, 2):
        code, out, err = post(capsys, "--format", format_name, *map(str, files), "--wait",
                              "--url", web)
        assert code == 0, err
        assert "done" in out
        listed = {m["name"]: m for m in client.get("/api/v1/metrics").json["metrics"]}
        for benchmark, name in zip(benchmarks, names, strict=True):
            assert listed[name]["better"] == benchmark.better and listed[name]["source"] == "inline"
            values = stored(system, name)
            assert len(values) == 1, (attempt, name, values)  # the re-post replaced it
            expected = benchmark.value if benchmark.value is not None else (
                sum(benchmark.samples) / len(benchmark.samples))
            assert values[0] == pytest.approx(expected, rel=1e-9), name


def go_bench(values_ns: list[float]) -> str:
    """The text of `go test -bench . -count N` with these ns/op for BenchmarkSort."""
    lines = "".join(f"BenchmarkSort-2     \t   68625\t{value:10.0f} ns/op\t    8216 B/op\t"
                    f"       2 allocs/op\n" for value in values_ns)
    return GO_BENCH.format(lines=lines)


def test_go_test_in_ci_alerts_on_main_and_fails_the_pull_request_with_one_comment(
        web: str, client: Any, system: InfluxStore, forge: ForgeServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    noise = random.Random(3)
    bench = tmp_path / "bench.txt"
    for day in range(30):  # main: 25 quiet builds, then 20 % slower from day 25
        level = 20_000.0 * (1.2 if day >= 25 else 1.0)
        bench.write_text(go_bench([level * (1 + noise.gauss(0, 0.01)) for _ in range(5)]))
        set_build(monkeypatch, f"go-{day:02d}")
        monkeypatch.setenv("HARNESS_BUILD_TIME", (START + timedelta(days=day)).isoformat())
        code, _, err = post(capsys, "--format", "go-test", str(bench), "--wait", "--url", web)
        assert code == 0, err
    metric = "go_test.example.com_sortbench.BenchmarkSort"
    alerts = client.get(f"/api/v1/alerts?kind=regression&metric={metric}").json["alerts"]
    assert [(a["started_build"], a["state"]) for a in alerts] == [("go-25", "open")]

    for name in ("HARNESS_BUILD_CI", "HARNESS_BUILD_ID", "HARNESS_BUILD_BRANCH"):
        monkeypatch.delenv(name)
    github_run(monkeypatch, tmp_path, forge, "7001", day=40)
    bench.write_text(go_bench([36_000 * (1 + noise.gauss(0, 0.01)) for _ in range(5)]))
    code, out, err = post(capsys, "--format", "go-test", str(bench), "--check", "--comment",
                          "--fail-on", "regression", "--url", web)
    assert code == 1, err
    assert SECRET not in out + err
    (check,) = forge.check_runs().values()
    assert check["conclusion"] == "failure"
    (comment,) = forge.comments(REPO, 412)
    assert comment["body"].startswith(MARKER)
    assert "BenchmarkSort" in comment["body"] and "Regressions" in comment["body"]

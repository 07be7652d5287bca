"""The go-test adapter on the text go 1.19's `go test -bench` really wrote
(tests/data/benchmarks/go-test/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.client import adapters
from harness.client.adapters import AdapterError, Benchmark
from harness.client.adapters.go_test import read

DATA = Path(__file__).parents[3] / "data" / "benchmarks" / "go-test"
ONCE = DATA / "bench.txt"  # go test -bench . -benchmem
COUNT5 = DATA / "bench-count5.txt"  # … -count 5
VERBOSE_CPU = DATA / "bench-verbose-cpu.txt"  # … -v -cpu 1,2
PKG = "example.com/sortbench."
SORT = PKG + "BenchmarkSort"
FIGURES = ["", ".throughput", ".bytes_per_op", ".allocs_per_op"]  # BenchmarkSort's
SEARCH = ["", ".probes_per_op", ".bytes_per_op", ".allocs_per_op"]  # the sub-benchmarks'


def by_name(benchmarks: list[Benchmark]) -> dict[str, Benchmark]:
    """The benchmarks by name."""
    return {benchmark.name: benchmark for benchmark in benchmarks}


def read_text(text: str, path: Path = ONCE) -> list[Benchmark]:
    """`read` of some text, as if it were the file `path`."""
    return read(path, text)


def test_one_repetition() -> None:
    """Names with the package and without -GOMAXPROCS; each figure in its unit and direction;
    one sample each."""
    benchmarks = adapters.read_files("go-test", [ONCE])
    assert [benchmark.name for benchmark in benchmarks] == (
        [SORT + suffix for suffix in FIGURES]
        + [f"{PKG}BenchmarkSearch/size=10{suffix}" for suffix in SEARCH]
        + [f"{PKG}BenchmarkSearch/size=1000{suffix}" for suffix in SEARCH])
    found = by_name(benchmarks)
    assert [(found[SORT + suffix].unit, found[SORT + suffix].better,
             found[SORT + suffix].samples) for suffix in FIGURES] == [
        ("ns", "lower", (8606.0,)), ("MB / s", "higher", (929.63,)),
        ("byte", "lower", (8216.0,)), ("", "lower", (2.0,))]
    probes = found[f"{PKG}BenchmarkSearch/size=1000.probes_per_op"]
    assert (probes.unit, probes.better, probes.samples) == ("", "lower", (10.0,))
    assert found[f"{PKG}BenchmarkSearch/size=10"].samples == (21.34,)
    assert all(benchmark.value is None for benchmark in benchmarks)


def test_each_count_repetition_is_a_sample() -> None:
    """-count 5: five samples per figure, the values of the five lines in order."""
    found = by_name(read(COUNT5, COUNT5.read_text(encoding="utf-8")))
    assert len(found) == 12
    assert {len(benchmark.samples) for benchmark in found.values()} == {5}
    assert found[SORT].samples == (19373.0, 22545.0, 18788.0, 25420.0, 24868.0)
    assert found[SORT + ".throughput"].samples == (412.94, 354.85, 425.79, 314.71, 321.69)
    assert found[SORT + ".bytes_per_op"].samples == (8216.0,) * 5
    assert found[f"{PKG}BenchmarkSearch/size=10"].samples == (52.69, 52.45, 51.73, 41.53, 30.91)


def test_verbose_output_with_several_cpu_values() -> None:
    """-v's name-only lines are skipped; with -cpu 1,2 each benchmark keeps Go's suffix."""
    found = by_name(read(VERBOSE_CPU, VERBOSE_CPU.read_text(encoding="utf-8")))
    assert len(found) == 24
    assert found[SORT].samples == (14979.0,)
    assert found[SORT + "-2"].samples == (23357.0,)
    assert found[f"{PKG}BenchmarkSearch/size=1000-2.probes_per_op"].samples == (10.0,)


def test_metrics_of_a_submission() -> None:
    """Metric names, units and directions of a submission of -count 5."""
    body = adapters.submission_body(adapters.read_files("go-test", [COUNT5]),
                                    adapters.prefix_of("go-test"), str(COUNT5))
    metrics = {metric["name"]: (metric["unit"], metric["better"]) for metric in body["metrics"]}
    base = "go_test.example.com_sortbench."
    assert metrics[base + "BenchmarkSort"] == ("ns", "lower")
    assert metrics[base + "BenchmarkSort.throughput"] == ("MB / s", "higher")
    assert metrics[base + "BenchmarkSort.bytes_per_op"] == ("byte", "lower")
    assert metrics[base + "BenchmarkSort.allocs_per_op"] == ("", "lower")
    assert metrics[base + "BenchmarkSearch_size_10.probes_per_op"] == ("", "lower")
    assert len(metrics) == 12
    first = body["measurements"][0]
    assert first == {"metric": base + "BenchmarkSort", "unit": "ns",
                     "samples": [19373.0, 22545.0, 18788.0, 25420.0, 24868.0]}


def test_packages_custom_metrics_and_ignored_lines() -> None:
    """Each `pkg:` names the benchmarks after it; custom units become suffixes, in their unit
    when adapters.units knows it, else plain numbers (a rate higher-better); lines that are not
    results are ignored."""
    text = "\n".join([
        "Benchmarking is not a benchmark line", "BenchmarkParse-8  100  5 ns/op", "PASS",
        "pkg: example.com/a", "BenchmarkParse-8  \t 200\t 7.5 ns/op\t 3.5e+06 items/s\t 12 %"
        "\t 0.25 ms/op\t 800 B/s", "--- BENCH: BenchmarkParse-8", "    a_test.go:9: logged",
        "ok  \texample.com/a\t1.2s", "pkg: example.com/b", "BenchmarkParse-8  300  9 ns/op",
        "FAIL", ""])
    found = {benchmark.name: (benchmark.unit, benchmark.better, benchmark.samples)
             for benchmark in read_text(text)}
    parse = "example.com/a.BenchmarkParse"
    assert found == {
        "BenchmarkParse": ("ns", "lower", (5.0,)),
        parse: ("ns", "lower", (7.5,)),
        parse + ".items_per_s": ("", "higher", (3.5e6,)),
        parse + ".percent": ("%", "lower", (12.0,)),
        parse + ".ms_per_op": ("ms", "lower", (0.25,)),
        parse + ".B_per_s": ("byte / s", "higher", (800.0,)),
        "example.com/b.BenchmarkParse": ("ns", "lower", (9.0,))}


@pytest.mark.parametrize(("line", "message"), [
    ("BenchmarkSort-2     \thello from the benchmark",
     "BenchmarkSort-2: expected the number of iterations, found 'hello' "
     "(does the benchmark print to stdout?)"),
    ("BenchmarkSort-2  1000", "BenchmarkSort-2: expected `value unit` pairs after the "
                              "iterations, found ''"),
    ("BenchmarkSort-2  1000  12 ns/op  512", "BenchmarkSort-2: expected `value unit` pairs "
                                             "after the iterations, found '12 ns/op 512'"),
    ("BenchmarkSort-2  1000  fast ns/op", "BenchmarkSort-2: expected a number before 'ns/op', "
                                          "found 'fast'"),
    ("BenchmarkSort-2  1000  NaN ns/op", "BenchmarkSort-2: ns/op: nan is not a finite number"),
    ("BenchmarkSort-2  1000  512 B/op", "BenchmarkSort-2: no ns/op figure"),
    ("BenchmarkSort-2  1000  5 ns/op  6 ns/op", "BenchmarkSort-2: ns/op given twice"),
    ("BenchmarkSort-2  0  5 ns/op", "BenchmarkSort-2: expected the number of iterations, "
                                    "found '0' (does the benchmark print to stdout?)"),
])
def test_malformed_result_lines_are_refused_with_their_line(line: str, message: str) -> None:
    """A line that starts like a result but does not parse: file, line number, what is wrong
    (the line replaces the first result of the real file, its line 5)."""
    lines = ONCE.read_text(encoding="utf-8").splitlines()
    assert lines[4].startswith("BenchmarkSort-2")
    lines[4] = line
    with pytest.raises(AdapterError) as refused:
        read_text("\n".join(lines))
    assert str(refused.value) == f"{ONCE}:5: {message}"

"""The pytest-benchmark adapter on the JSON files pytest-benchmark 5.3.1 really wrote
(tests/data/benchmarks/pytest-benchmark/README.md)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.client import adapters
from harness.client.adapters import MAX_SAMPLES, AdapterError
from harness.client.adapters.pytest_benchmark import read
from tests.unit.client.adapters import BENCHMARKS, document, edited, refusal

DATA = BENCHMARKS / "pytest-benchmark"
WITH_DATA = DATA / "benchmark.json"  # --benchmark-json: stats.data of every round
WITHOUT_DATA = DATA / "saved-without-data.json"  # --benchmark-save: no stats.data
NAMES = ["test_tiny.py::test_sort[10]", "test_tiny.py::test_sort[1000]",
         "test_tiny.py::test_join"]
METRICS = ["pytest_benchmark.test_tiny.py_test_sort_10",
           "pytest_benchmark.test_tiny.py_test_sort_1000",
           "pytest_benchmark.test_tiny.py_test_join"]


def test_each_round_is_a_sample_in_seconds() -> None:
    """--benchmark-json: one time figure per benchmark, every round's time as a sample."""
    benchmarks = adapters.read_files("pytest-benchmark", [WITH_DATA])
    stats = [entry["stats"] for entry in document(WITH_DATA)["benchmarks"]]
    assert [benchmark.name for benchmark in benchmarks] == NAMES
    assert [len(benchmark.samples) for benchmark in benchmarks] == [40, 13, 34]
    for benchmark, stat in zip(benchmarks, stats, strict=True):
        assert (benchmark.unit, benchmark.better, benchmark.value) == ("s", "lower", None)
        assert benchmark.samples == tuple(stat["data"])  # per-call times, in seconds
        assert statistics.fmean(benchmark.samples) == pytest.approx(stat["mean"], rel=1e-12)
    assert benchmarks[0].samples[:2] == (2.8772228688467294e-07, 2.76666671399855e-07)


def test_without_data_the_value_is_the_mean() -> None:
    """A saved file without --benchmark-save-data: the value is stats.mean, no samples."""
    benchmarks = read(WITHOUT_DATA, WITHOUT_DATA.read_text(encoding="utf-8"))
    assert [benchmark.name for benchmark in benchmarks] == NAMES
    assert [benchmark.value for benchmark in benchmarks] == [
        3.938384813805803e-07, 1.1928285208081693e-05, 2.028864925320319e-06]
    assert all(benchmark.samples == () for benchmark in benchmarks)
    assert {(benchmark.unit, benchmark.better) for benchmark in benchmarks} == {("s", "lower")}


def test_metrics_of_a_submission() -> None:
    """Metric names, units and directions; samples or value as the measurement; no .ops."""
    body = adapters.submission_body(adapters.read_files("pytest-benchmark", [WITH_DATA]),
                                    adapters.prefix_of("pytest-benchmark"), str(WITH_DATA))
    assert [metric["name"] for metric in body["metrics"]] == METRICS
    assert {(metric["unit"], metric["better"]) for metric in body["metrics"]} == {("s", "lower")}
    first = body["measurements"][0]
    assert (first["metric"], first["unit"], len(first["samples"])) == (METRICS[0], "s", 40)
    assert "value" not in first
    saved = adapters.submission_body(read(WITHOUT_DATA, WITHOUT_DATA.read_text()), "ci.py",
                                     str(WITHOUT_DATA))
    assert saved["measurements"][1] == {"metric": "ci.py.test_tiny.py_test_sort_1000",
                                        "unit": "s", "value": 1.1928285208081693e-05}


def test_name_without_fullname() -> None:
    """An entry without `fullname` is named by `name`."""
    def drop(changed: dict[str, Any]) -> None:
        """Remove the fullname of the first entry."""
        del changed["benchmarks"][0]["fullname"]
    assert read(WITH_DATA, edited(WITH_DATA, drop))[0].name == "test_sort[10]"


def test_beyond_max_samples_the_value_stays_the_mean() -> None:
    """More rounds than a submission holds: the tool's mean is the value, the samples are
    evenly picked by submission_body."""
    def many(changed: dict[str, Any]) -> None:
        """Give the first entry MAX_SAMPLES + 1 rounds."""
        changed["benchmarks"][0]["stats"]["data"] = [1e-6] * MAX_SAMPLES + [1.0]
    benchmark = read(WITH_DATA, edited(WITH_DATA, many))[0]
    assert benchmark.value == document(WITH_DATA)["benchmarks"][0]["stats"]["mean"]
    measurement = adapters.submission_body([benchmark], "p", "f")["measurements"][0]
    assert len(measurement["samples"]) == MAX_SAMPLES


def test_truncated_json_is_refused_with_its_line() -> None:
    """A file cut short: the message names the file and where the JSON stops."""
    text = WITH_DATA.read_text(encoding="utf-8")
    with pytest.raises(AdapterError) as refused:
        read(WITH_DATA, text[: len(text) // 2])
    assert str(refused.value).startswith(f"{WITH_DATA}: not valid JSON: ")
    assert f"line {text[: len(text) // 2].count(chr(10)) + 1} column" in str(refused.value)


def _set(where: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets a dotted path (`benchmarks.1.stats.mean`) to `value`."""
    def change(changed: dict[str, Any]) -> None:
        """Set the path."""
        *parents, last = where.split(".")
        node: Any = changed
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


@pytest.mark.parametrize(("path", "change", "message"), [
    (WITH_DATA, _set("benchmarks.1.stats.data.3", "fast"),
     "benchmarks[1].stats.data[3]: expected a number, found 'fast'"),
    (WITH_DATA, _set("benchmarks.2.stats.data", {"0": 1.0}),
     'benchmarks[2].stats.data: expected an array, found {"0": 1.0}'),
    (WITH_DATA, _set("benchmarks.0.stats", None),
     "benchmarks[0].stats: expected an object (the benchmark's stats), found null"),
    (WITH_DATA, _set("benchmarks.1.fullname", ""),
     "benchmarks[1].fullname: expected the benchmark's name, found ''"),
    (WITH_DATA, _set("benchmarks", {}), "benchmarks: expected an array, found {}"),
    (WITHOUT_DATA, _set("benchmarks.2.stats.mean", "1 ms"),
     "benchmarks[2].stats.mean: expected a number, found '1 ms'"),
    (WITHOUT_DATA, _set("benchmarks.0.stats.mean", float("inf")),
     "benchmarks[0].stats.mean: inf is not a finite number"),
])
def test_wrong_types_are_refused_with_their_json_path(
        path: Path, change: Callable[[dict[str, Any]], None], message: str) -> None:
    """A wrong value deep inside: the message names the file and the value's JSON path."""
    assert refusal(read, path, edited(path, change)) == f"{path}: {message}"


def test_missing_fields_are_refused() -> None:
    """No `benchmarks`, or no `stats.mean` without `stats.data`: named, with the file."""
    with pytest.raises(AdapterError, match=r"saved-without-data.json: benchmarks: required"):
        read(WITHOUT_DATA, "{}")
    with pytest.raises(AdapterError, match=r"benchmarks\[1\]\.stats\.mean: required"):
        read(WITHOUT_DATA, edited(
            WITHOUT_DATA, lambda changed: changed["benchmarks"][1]["stats"].pop("mean")))

"""The hyperfine adapter on the JSON files hyperfine 1.15.0 really wrote
(tests/data/benchmarks/hyperfine/README.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.client import adapters
from harness.client.adapters import AdapterError
from harness.client.adapters.hyperfine import read
from tests.unit.client.adapters import BENCHMARKS, document, edited, refusal

DATA = BENCHMARKS / "hyperfine"
RUNS = DATA / "runs.json"  # 'sleep 0.005' and 'sleep 0.01', 10 runs each
ONE_RUN = DATA / "one-run.json"  # --runs 1 --command-name nap: stddev null
SCAN = DATA / "scan.json"  # -L ms 2,4 'sleep 0.00{ms}', 3 runs each
MEMORY = [2_097_152, 2_101_248, 2_088_960, 2_093_056, 2_097_152,
          2_097_152, 2_101_248, 2_093_056, 2_097_152, 2_105_344]


def test_each_run_is_a_sample_in_seconds() -> None:
    """One time figure per command, named by the command, each run's time a sample."""
    benchmarks = adapters.read_files("hyperfine", [RUNS])
    results = document(RUNS)["results"]
    assert [benchmark.name for benchmark in benchmarks] == ["sleep 0.005", "sleep 0.01"]
    for benchmark, result in zip(benchmarks, results, strict=True):
        assert (benchmark.unit, benchmark.better, benchmark.value) == ("s", "lower", None)
        assert benchmark.samples == tuple(result["times"])
        assert len(benchmark.samples) == 10
    assert benchmarks[0].samples[:2] == (0.007675579219999998, 0.004544648219999998)


def test_a_single_run_and_a_parameter_scan() -> None:
    """--runs 1 (stddev null) is one sample, named by --command-name; a scan's commands carry
    their parameter values."""
    [nap] = read(ONE_RUN, ONE_RUN.read_text(encoding="utf-8"))
    assert (nap.name, nap.unit, nap.value, nap.samples) == ("nap", "s", None, (0.00987036816,))
    scan = read(SCAN, SCAN.read_text(encoding="utf-8"))
    assert [(benchmark.name, len(benchmark.samples)) for benchmark in scan] == [
        ("sleep 0.002", 3), ("sleep 0.004", 3)]
    assert scan[1].samples == (0.004460384259999999, 0.011018992259999999, 0.01019427626)


def test_metrics_of_a_submission() -> None:
    """Metric names (the command's spaces become `_`), units, directions and samples."""
    benchmarks = adapters.read_files("hyperfine", [RUNS, ONE_RUN, SCAN])
    body = adapters.submission_body(benchmarks, adapters.prefix_of("hyperfine"), "files")
    assert [metric["name"] for metric in body["metrics"]] == [
        "hyperfine.sleep_0.005", "hyperfine.sleep_0.01", "hyperfine.nap",
        "hyperfine.sleep_0.002", "hyperfine.sleep_0.004"]
    assert {(metric["unit"], metric["better"]) for metric in body["metrics"]} == {("s", "lower")}
    assert [len(measurement["samples"]) for measurement in body["measurements"]] == [
        10, 10, 1, 3, 3]
    assert not any("value" in measurement for measurement in body["measurements"])


def test_memory_usage_is_a_secondary_figure_in_bytes() -> None:
    """`memory_usage_byte` (newer hyperfine; added here to the real file): one more figure,
    `<command>.memory_usage_bytes`, in bytes, lower is better, each run a sample."""
    def add(changed: dict[str, Any]) -> None:
        """Give the first command the peak memory of each of its 10 runs."""
        changed["results"][0]["memory_usage_byte"] = MEMORY
    benchmarks = read(RUNS, edited(RUNS, add))
    assert [benchmark.name for benchmark in benchmarks] == [
        "sleep 0.005", "sleep 0.005.memory_usage_bytes", "sleep 0.01"]
    memory = benchmarks[1]
    assert (memory.unit, memory.better, memory.value) == ("byte", "lower", None)
    assert memory.samples == tuple(float(size) for size in MEMORY)
    metric = adapters.submission_body(benchmarks, "hyperfine", "runs.json")["metrics"][1]
    assert (metric["name"], metric["unit"], metric["better"]) == (
        "hyperfine.sleep_0.005.memory_usage_bytes", "byte", "lower")


def test_without_times_the_value_is_the_mean() -> None:
    """A result without `times`: the value is `mean`, no samples."""
    [nap] = read(ONE_RUN, edited(ONE_RUN, lambda changed: changed["results"][0].pop("times")))
    assert (nap.value, nap.samples) == (0.00987036816, ())


def test_truncated_json_is_refused_with_its_line() -> None:
    """A file cut short: the message names the file and where the JSON stops."""
    text = RUNS.read_text(encoding="utf-8")
    cut = text[: len(text) * 2 // 3]
    with pytest.raises(AdapterError) as refused:
        read(RUNS, cut)
    assert str(refused.value).startswith(f"{RUNS}: not valid JSON: ")
    assert f"line {cut.count(chr(10)) + 1} column" in str(refused.value)


def _set(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change that sets `results[index][key]` (`times.4`: one element) to `value`."""
    def change(changed: dict[str, Any]) -> None:
        """Set the field."""
        field, _, element = key.partition(".")
        if element:
            changed["results"][index][field][int(element)] = value
        else:
            changed["results"][index][field] = value
    return change


@pytest.mark.parametrize(("change", "message"), [
    (_set(1, "times.4", "slow"), "results[1].times[4]: expected a number, found 'slow'"),
    (_set(0, "times.9", True), "results[0].times[9]: expected a number, found True"),
    (_set(0, "command", 3), "results[0].command: expected the command, found 3"),
    (_set(1, "memory_usage_byte", [1024, "big"]),
     "results[1].memory_usage_byte[1]: expected a number, found 'big'"),
    (_set(0, "memory_usage_byte", []),
     "results[0].memory_usage_byte: expected one number per run, found none"),
    (lambda changed: changed.update(results={"command": "x"}),
     'results: expected an array, found {"command": "x"}'),
    (lambda changed: changed["results"].append("sleep 1"),
     'results[2]: expected an object (a command\'s result), found "sleep 1"'),
])
def test_wrong_types_are_refused_with_their_json_path(
        change: Callable[[dict[str, Any]], None], message: str) -> None:
    """A wrong value deep inside: the message names the file and the value's JSON path."""
    assert refusal(read, RUNS, edited(RUNS, change)) == f"{RUNS}: {message}"


def test_missing_fields_are_refused() -> None:
    """No `results`, or neither `times` nor `mean`: named, with the file."""
    with pytest.raises(AdapterError, match=r"one-run.json: results: required"):
        read(ONE_RUN, '{"benchmarks": []}')

    def strip(changed: dict[str, Any]) -> None:
        """Remove both the runs and the mean."""
        del changed["results"][0]["times"], changed["results"][0]["mean"]
    with pytest.raises(AdapterError) as refused:
        read(ONE_RUN, edited(ONE_RUN, strip))
    assert str(refused.value) == f"{ONE_RUN}: results[0].mean: required without times"

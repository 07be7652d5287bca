"""The google-benchmark adapter on files the tool wrote (libbenchmark 1.7.1, see
tests/data/benchmarks/google-benchmark/README.md) and on small crafted variants."""

from __future__ import annotations

import copy
import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from harness.client import adapters
from harness.client.adapters import AdapterError, Benchmark, google_benchmark

DATA = Path(__file__).resolve().parents[3] / "data" / "benchmarks" / "google-benchmark"
REPETITIONS = DATA / "repetitions.json"
PLAIN = DATA / "plain.json"
AGGREGATES_ONLY = DATA / "aggregates_only.json"
MAIN = ["BM_VectorSum/64", "BM_VectorSum/1024", "BM_StringConcat"]


def read(path: Path) -> list[Benchmark]:
    """The benchmarks of one stored file."""
    return google_benchmark.read(path, path.read_text(encoding="utf-8"))


def by_name(path: Path) -> dict[str, Benchmark]:
    """The benchmarks of one stored file by name."""
    return {benchmark.name: benchmark for benchmark in read(path)}


def entries(path: Path) -> list[dict[str, Any]]:
    """The raw `benchmarks` entries of one stored file."""
    found: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["benchmarks"]
    return found


def refused(data: Any) -> str:
    """The AdapterError message for a crafted file (as JSON text) named `crafted.json`."""
    text = data if isinstance(data, str) else json.dumps(data)
    with pytest.raises(AdapterError) as caught:
        google_benchmark.read(Path("crafted.json"), text)
    return str(caught.value)


def test_the_format_is_registered() -> None:
    """`google-benchmark` in FORMATS leads to this module's read."""
    assert adapters.reader("google-benchmark") is google_benchmark.read


def test_repetitions_give_one_metric_per_run_name_with_the_repetitions_as_samples() -> None:
    """Three repetitions: main names in file order, samples = the iteration entries' real_time,
    aggregates (mean, median, stddev, cv) ignored, the errored benchmark left out."""
    found = by_name(REPETITIONS)
    assert [name for name in found if "." not in name] == MAIN
    assert not any("Unavailable" in name or name.endswith(("_mean", "_cv")) for name in found)
    raw = entries(REPETITIONS)
    for name in ("BM_VectorSum/64", "BM_VectorSum/1024"):
        runs = [e for e in raw if e["run_name"] == name and e["run_type"] == "iteration"]
        assert len(runs) == 3 and all(e["time_unit"] == "ns" for e in runs)
        assert found[name].samples == tuple(e["real_time"] for e in runs)
        assert found[name].value is None  # the server takes the samples' mean
        assert found[f"{name}.cpu_time"].samples == tuple(e["cpu_time"] for e in runs)
        assert found[f"{name}.items_per_second"].samples == tuple(
            e["items_per_second"] for e in runs)
        assert found[f"{name}.bytes_per_second"].samples == tuple(
            e["bytes_per_second"] for e in runs)


def test_microseconds_of_the_tool_become_nanoseconds() -> None:
    """BM_StringConcat is reported in us (->Unit(kMicrosecond)); its metric is in ns."""
    found = by_name(REPETITIONS)
    runs = [e for e in entries(REPETITIONS)
            if e["run_name"] == "BM_StringConcat" and e["run_type"] == "iteration"]
    assert {e["time_unit"] for e in runs} == {"us"}
    assert found["BM_StringConcat"].unit == "ns"
    assert found["BM_StringConcat"].samples == pytest.approx([e["real_time"] * 1e3 for e in runs])
    assert found["BM_StringConcat.cpu_time"].samples == pytest.approx(
        [e["cpu_time"] * 1e3 for e in runs])


def test_units_and_directions() -> None:
    """Times are ns and lower is better; rates are per second and higher is better; the user
    counter `pieces` is not posted."""
    found = by_name(REPETITIONS)
    expected = {"": ("ns", "lower"), ".cpu_time": ("ns", "lower"),
                ".items_per_second": ("1 / s", "higher"),
                ".bytes_per_second": ("byte / s", "higher")}
    for suffix, (unit, better) in expected.items():
        benchmark = found["BM_VectorSum/64" + suffix]
        assert (benchmark.unit, benchmark.better) == (unit, better)
    assert sorted(found) == sorted(
        [*MAIN, *(f"BM_VectorSum/{n}{s}" for n in (64, 1024) for s in list(expected)[1:]),
         "BM_StringConcat.cpu_time"])


def test_a_plain_run_gives_one_sample_each() -> None:
    """Without repetitions each benchmark has one iteration entry: one sample."""
    found = by_name(PLAIN)
    for entry in entries(PLAIN):
        if entry.get("error_occurred"):
            assert entry["run_name"] not in found
            continue
        scale = 1e3 if entry["time_unit"] == "us" else 1.0
        assert found[entry["run_name"]].samples == pytest.approx([entry["real_time"] * scale])


def test_aggregates_only_posts_the_mean_aggregate_as_the_value() -> None:
    """--benchmark_report_aggregates_only=true: no iterations, so the mean is the value;
    median, stddev and cv are not posted; the errored iterations are still left out."""
    found = by_name(AGGREGATES_ONLY)
    assert [name for name in found if "." not in name] == MAIN
    means = {e["run_name"]: e for e in entries(AGGREGATES_ONLY)
             if e.get("aggregate_name") == "mean"}
    for name, mean in means.items():
        scale = 1e3 if mean["time_unit"] == "us" else 1.0
        assert found[name].samples == ()
        assert found[name].value == pytest.approx(mean["real_time"] * scale)
        assert found[f"{name}.cpu_time"].value == pytest.approx(mean["cpu_time"] * scale)
    assert found["BM_VectorSum/64.items_per_second"].value == \
        means["BM_VectorSum/64"]["items_per_second"]


def test_the_submission_body_of_a_real_file() -> None:
    """Through submission_body: stable metric names, units, samples, no value for samples."""
    body = adapters.submission_body(read(REPETITIONS), "google_benchmark", str(REPETITIONS))
    measurements = {m["metric"]: m for m in body["measurements"]}
    assert list(measurements)[:4] == [
        "google_benchmark.BM_VectorSum_64", "google_benchmark.BM_VectorSum_64.cpu_time",
        "google_benchmark.BM_VectorSum_64.items_per_second",
        "google_benchmark.BM_VectorSum_64.bytes_per_second"]
    assert "google_benchmark.BM_StringConcat" in measurements
    main = measurements["google_benchmark.BM_VectorSum_1024"]
    assert main["unit"] == "ns" and "value" not in main and len(main["samples"]) == 3
    metrics = {m["name"]: m for m in body["metrics"]}
    assert metrics["google_benchmark.BM_StringConcat"]["better"] == "lower"
    rate = metrics["google_benchmark.BM_VectorSum_64.bytes_per_second"]
    assert (rate["unit"], rate["better"]) == ("byte / s", "higher")
    aggregated = adapters.submission_body(read(AGGREGATES_ONLY), "gb", "a.json")
    assert {"metric": "gb.BM_StringConcat", "unit": "ns",
            "value": by_name(AGGREGATES_ONLY)["BM_StringConcat"].value} \
        in aggregated["measurements"]


def crafted(unit: str, times: list[float]) -> dict[str, Any]:
    """A small file of one benchmark `BM_Slow` with repetitions of these times in `unit`."""
    runs = [{"name": "BM_Slow", "run_name": "BM_Slow", "run_type": "iteration",
             "repetitions": len(times), "repetition_index": index, "threads": 1,
             "iterations": 10, "real_time": time, "cpu_time": time / 2, "time_unit": unit}
            for index, time in enumerate(times)]
    mean = {**runs[0], "name": "BM_Slow_mean", "run_type": "aggregate",
            "aggregate_name": "mean", "aggregate_unit": "time",
            "real_time": statistics.mean(times), "cpu_time": statistics.mean(times) / 2}
    del mean["repetition_index"]
    return {"context": {"library_version": "v1.8.3"}, "benchmarks": [*runs, mean]}


@pytest.mark.parametrize(("unit", "scale"), [("ms", 1e6), ("s", 1e9), ("us", 1e3), ("ns", 1)])
def test_every_time_unit_is_converted_to_nanoseconds(unit: str, scale: float) -> None:
    """time_unit ms (and s, us, ns): the samples of one metric are always in ns."""
    text = json.dumps(crafted(unit, [2.5, 3.0, 3.5]))
    main, cpu = google_benchmark.read(Path("slow.json"), text)
    assert (main.name, main.unit, cpu.name, cpu.unit) == ("BM_Slow", "ns", "BM_Slow.cpu_time",
                                                          "ns")
    assert main.samples == pytest.approx([2.5 * scale, 3.0 * scale, 3.5 * scale])
    assert cpu.samples == pytest.approx([1.25 * scale, 1.5 * scale, 1.75 * scale])


def test_crafted_aggregates_only_in_milliseconds() -> None:
    """A mean aggregate in ms alone gives the value in ns; a BigO-only group gives nothing."""
    data = crafted("ms", [4.0, 6.0])
    data["benchmarks"] = [data["benchmarks"][-1],
                          {"name": "BM_Slow_BigO", "run_name": "BM_Slow", "run_type": "aggregate",
                           "aggregate_name": "BigO", "cpu_coefficient": 1.0,
                           "real_coefficient": 1.0, "big_o": "N", "time_unit": "ms"},
                          {"name": "BM_Fit_RMS", "run_name": "BM_Fit", "run_type": "aggregate",
                           "aggregate_name": "RMS", "rms": 0.1}]
    (main, cpu) = google_benchmark.read(Path("slow.json"), json.dumps(data))
    assert (main.value, main.samples, cpu.value) == (5e6, (), 2.5e6)


def test_skipped_runs_and_an_empty_file_give_nothing() -> None:
    """`skipped: true` (SkipWithMessage, 1.8) is left out like `error_occurred`; no entries at
    all gives no benchmarks (submission_body then refuses the post)."""
    data = crafted("ns", [1.0])
    data["benchmarks"][0]["skipped"] = True
    data["benchmarks"].pop()
    assert google_benchmark.read(Path("s.json"), json.dumps(data)) == []
    assert google_benchmark.read(Path("s.json"), '{"context": {}, "benchmarks": []}') == []


def test_truncated_json_is_refused_with_its_position() -> None:
    """A run that crashed leaves a cut file: refused with the file, line and column."""
    text = REPETITIONS.read_text(encoding="utf-8")
    cut = text[: len(text) // 2]
    with pytest.raises(AdapterError) as caught:
        google_benchmark.read(REPETITIONS, cut)
    message = str(caught.value)
    assert message.startswith(f"{REPETITIONS}: not valid JSON: ")
    assert f"line {cut.count(chr(10)) + 1} column" in message


def real_entries() -> dict[str, Any]:
    """A deep copy of the real repetitions file's data, to break in one place."""
    data: dict[str, Any] = copy.deepcopy(json.loads(REPETITIONS.read_text(encoding="utf-8")))
    return data


@pytest.mark.parametrize(("index", "key", "bad", "expected"), [
    (1, "real_time", "115.2", "crafted.json: benchmarks[1].real_time: expected a number, "
                              "found '115.2'"),
    (8, "cpu_time", None, "crafted.json: benchmarks[8].cpu_time: expected a number, "
                          "found None"),
    (2, "items_per_second", [1], "crafted.json: benchmarks[2].items_per_second: expected "
                                 "a number"),
    (14, "time_unit", "min", "crafted.json: benchmarks[14].time_unit: expected one of ns, "
                             "us, ms, s, found 'min'"),
    (0, "run_type", "sample", "crafted.json: benchmarks[0].run_type: expected 'iteration' or "
                              "'aggregate', found 'sample'"),
    (7, "run_name", 7, "crafted.json: benchmarks[7].run_name: expected the benchmark's name"),
    (3, "aggregate_name", False, "crafted.json: benchmarks[3].aggregate_name: expected a "
                                 "string, found False"),
])
def test_a_wrong_type_deep_inside_is_refused_naming_its_position(
        index: int, key: str, bad: Any, expected: str) -> None:
    """One wrong value in a real file: the message names the file and the JSON path."""
    data = real_entries()
    data["benchmarks"][index][key] = bad
    assert refused(data).startswith(expected)


def test_missing_and_non_finite_figures_are_refused() -> None:
    """A missing real_time, a rate only some repetitions have, NaN: each named."""
    data = real_entries()
    del data["benchmarks"][9]["real_time"]
    assert refused(data) == ("crafted.json: benchmarks[9].real_time: missing (other runs of "
                             "'BM_VectorSum/1024' have it)")
    data = crafted("ns", [1.0])
    del data["benchmarks"][1]["real_time"]  # the mean aggregate, alone
    data["benchmarks"].pop(0)
    assert refused(data) == "crafted.json: benchmarks[0].real_time: missing"
    data = real_entries()
    del data["benchmarks"][1]["bytes_per_second"]
    assert refused(data).startswith("crafted.json: benchmarks[1].bytes_per_second: missing")
    data = real_entries()
    data["benchmarks"][0]["real_time"] = float("nan")  # the tool writes NaN for it
    assert refused(data) == "crafted.json: benchmarks[0].real_time: nan is not a finite number"


def test_files_of_another_shape_are_refused() -> None:
    """Not an object with a `benchmarks` list, or a non-object entry: refused."""
    assert refused([1, 2]) == ("crafted.json: expected an object (a google-benchmark JSON "
                               "file of --benchmark_format=json), found [1, 2]")
    assert refused({"context": {}}).startswith("crafted.json: benchmarks: required")
    assert refused({"benchmarks": {}}) == "crafted.json: benchmarks: expected an array, found {}"
    assert refused({"benchmarks": [{"run_name": "a", "run_type": "iteration", "real_time": 1,
                                    "cpu_time": 1, "time_unit": "ns"}, 3]}) == \
        "crafted.json: benchmarks[1]: expected an object (a benchmark run), found 3"


def test_a_second_mean_of_one_name_is_refused() -> None:
    """Two mean aggregates of one run_name cannot both be its value."""
    data = crafted("ns", [1.0, 2.0])
    data["benchmarks"] = [data["benchmarks"][-1]] * 2
    assert refused(data) == ("crafted.json: benchmarks[1]: a second mean of 'BM_Slow' "
                             "(the first is crafted.json: benchmarks[0])")


def test_files_before_run_name_group_by_name() -> None:
    """Files of google-benchmark before 1.5 have no run_name: `name` minus `_mean` groups."""
    data = crafted("us", [1.0, 3.0])
    for entry in data["benchmarks"]:
        del entry["run_name"], entry["run_type"]
    data["benchmarks"] = data["benchmarks"][-1:]
    (main, _cpu) = google_benchmark.read(Path("old.json"), json.dumps(data))
    assert (main.name, main.value) == ("BM_Slow", 2000.0)

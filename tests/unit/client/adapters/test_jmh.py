"""The jmh adapter (harness.client.adapters.jmh) on JMH's `-rf json` results."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import AdapterError, Benchmark, jmh, submission_body
from harness.units import parse_unit

RESULT = Path(__file__).resolve().parents[3] / "data" / "benchmarks" / "jmh" / "jmh-result.json"
RUNS = json.loads(RESULT.read_text(encoding="utf-8"))
PARSE = "org.example.CsvBench.parse?format=csv&size=100"


def read(runs: Any = RUNS, path: Path = RESULT) -> list[Benchmark]:
    """The benchmarks of a JMH result, given as JSON data."""
    return jmh.read(path, json.dumps(runs, ensure_ascii=False))


def by_name() -> dict[str, Benchmark]:
    return {benchmark.name: benchmark for benchmark in read()}


def test_each_run_and_its_postable_secondary_metrics_in_order() -> None:
    assert [b.name for b in read()] == [
        PARSE, f"{PARSE}.gc.alloc.rate", f"{PARSE}.gc.alloc.rate.norm", f"{PARSE}.gc.count",
        f"{PARSE}.gc.time",  # the churn ("NaN") and ·cpi (clks/insn) are skipped
        "org.example.CsvBench.write", "org.example.CsvBench.lookup?format=csv&size=100",
        "org.example.CsvBench.coldStart"]


def test_a_throughput_run_is_its_score_per_time_and_higher_is_better() -> None:
    parse = by_name()[PARSE]
    primary = RUNS[0]["primaryMetric"]
    assert (parse.unit, parse.better, parse.value) == ("1 / ms", "higher", primary["score"])
    assert parse.samples == (1523.41, 1530.02, 1519.87, 1541.66, 1538.12, 1544.90)


@pytest.mark.parametrize(("name", "unit", "samples"), [
    ("org.example.CsvBench.write", "us", (12.412, 12.398, 12.455, 12.401, 12.437)),
    ("org.example.CsvBench.coldStart", "s", (0.152, 0.147, 0.149, 0.151, 0.146)),
])
def test_time_runs_are_lower_is_better(name: str, unit: str, samples: tuple[float, ...]) -> None:
    benchmark = by_name()[name]
    assert (benchmark.unit, benchmark.better, benchmark.samples) == (unit, "lower", samples)
    assert benchmark.value == pytest.approx(statistics.fmean(samples))


def test_a_sample_run_has_the_mean_of_each_iterations_histogram() -> None:
    lookup = by_name()["org.example.CsvBench.lookup?format=csv&size=100"]
    assert (lookup.unit, lookup.better, lookup.value) == ("ns", "lower", 257.05)
    assert lookup.samples == pytest.approx([
        (250 * 3 + 251 * 5 + 260 * 2) / 10, (249 * 4 + 255 * 4 + 300 * 2) / 10])


@pytest.mark.parametrize(("suffix", "unit", "better", "value"), [
    (".gc.alloc.rate", "MiB / s", "lower", None),
    (".gc.alloc.rate.norm", "byte", "lower", 1504.0),
    (".gc.count", "", "lower", 72.0),  # JMH's score (a sum), not the samples' mean
    (".gc.time", "ms", "lower", 56.0),
])
def test_secondary_metrics_with_their_units(
        suffix: str, unit: str, better: str, value: float | None) -> None:
    figure = by_name()[PARSE + suffix]
    metric = RUNS[0]["secondaryMetrics"]["·" + suffix[1:]]
    assert (figure.unit, figure.better, figure.value) == (
        unit, better, metric["score"] if value is None else value)
    assert figure.samples == tuple(v for fork in metric["rawData"] for v in fork)


def test_the_submission_names_metrics_stably() -> None:
    body = submission_body(read(), "jmh", str(RESULT))
    names = [m["metric"] for m in body["measurements"]]
    assert names == [
        "jmh.org.example.CsvBench.parse_format_csv_size_100",
        "jmh.org.example.CsvBench.parse_format_csv_size_100.gc.alloc.rate",
        "jmh.org.example.CsvBench.parse_format_csv_size_100.gc.alloc.rate.norm",
        "jmh.org.example.CsvBench.parse_format_csv_size_100.gc.count",
        "jmh.org.example.CsvBench.parse_format_csv_size_100.gc.time",
        "jmh.org.example.CsvBench.write", "jmh.org.example.CsvBench.lookup_format_csv_size_100",
        "jmh.org.example.CsvBench.coldStart"]
    assert [(m["name"], m["better"]) for m in body["metrics"]][::4] == [
        (names[0], "higher"), (names[4], "lower")]
    for metric in body["metrics"]:
        parse_unit(metric["unit"])  # a unit the server knows
    assert body["measurements"][0]["samples"] == list(read()[0].samples)


def test_params_are_sorted_whatever_their_order_in_the_file() -> None:
    runs = json.loads(json.dumps(RUNS[:1]))
    runs[0]["params"] = {"size": "100", "format": "csv"}
    first = read(runs)[0].name
    runs[0]["params"] = {"format": "csv", "size": "100"}
    assert read(runs)[0].name == first == PARSE


def test_newer_jmh_without_the_middle_dot_names_secondaries_alike() -> None:
    runs = json.loads(json.dumps(RUNS[:1]))
    runs[0]["secondaryMetrics"] = {key.lstrip("·"): value
                                   for key, value in runs[0]["secondaryMetrics"].items()}
    assert [b.name for b in read(runs)] == [b.name for b in read(RUNS[:1])]


@pytest.mark.parametrize(("score_unit", "mode", "unit"), [
    ("ops/s", "thrpt", "1 / s"), ("ops/us", "thrpt", "1 / us"), ("ops/min", "thrpt", "1 / min"),
    ("ops/hr", "thrpt", "1 / h"), ("ns/op", "avgt", "ns"), ("ms/op", "ss", "ms"),
    ("min/op", "sample", "min"), ("sec/op", "avgt", "s"),
])
def test_jmh_units_convert(score_unit: str, mode: str, unit: str) -> None:
    runs = [{"benchmark": "b.B.m", "mode": mode,
             "primaryMetric": {"score": 2.0, "scoreUnit": score_unit, "rawData": [[2.0]]}}]
    [figure] = read(runs)
    assert figure.unit == unit
    parse_unit(unit)


def test_raw_data_left_out_posts_the_score_alone() -> None:
    runs = [{"benchmark": "b.B.m", "mode": "avgt", "secondaryMetrics": {},
             "primaryMetric": {"score": 2.5, "scoreError": "NaN", "scoreUnit": "us/op",
                               "rawData": []}}]
    assert read(runs) == [Benchmark("b.B.m", "us", "lower", value=2.5)]


def _run(*keys: str, value: Any) -> list[Any]:
    """The first run of the data with the field at keys replaced (KeyError: removed)."""
    runs = json.loads(json.dumps(RUNS[:1]))
    *parents, last = keys
    place = runs[0]
    for part in parents:
        place = place[part]
    if value is KeyError:
        del place[last]
    else:
        place[last] = value
    return runs


@pytest.mark.parametrize(("runs", "message"), [
    ({"benchmark": "x"}, "expected an array (JMH's results of -rf json), found {\"benchmark\""),
    ([3], "[0]: expected an object (a benchmark run), found 3"),
    (_run("benchmark", value=KeyError), "[0].benchmark: required"),
    (_run("mode", value="all"), "[0].mode: 'all' is not a JMH mode"),
    (_run("primaryMetric", value=KeyError), "[0].primaryMetric: required"),
    (_run("primaryMetric", "score", value=KeyError), "[0].primaryMetric.score: required"),
    (_run("primaryMetric", "score", value="NaN"),
     "[0].primaryMetric.score: expected a number, found 'NaN'"),
    (_run("primaryMetric", "scoreUnit", value="clks/insn"),
     "[0].primaryMetric.scoreUnit: 'clks/insn' is not a unit of mode thrpt"),
    (_run("primaryMetric", "scoreUnit", value="us/op"),
     "[0].primaryMetric.scoreUnit: 'us/op' is not a unit of mode thrpt"),
    (_run("primaryMetric", "rawData", value=[[1.0, 2.0], [3.0, "4"]]),
     "[0].primaryMetric.rawData[1][1]: expected a number, found '4'"),
    (_run("primaryMetric", "rawData", value=[1.0]),
     "[0].primaryMetric.rawData[0]: expected an array, found 1.0"),
    (_run("params", value={"size": ["100"]}), '[0].params.size: expected the param\'s value'),
    (_run("secondaryMetrics", value=[]), "[0].secondaryMetrics: expected an object"),
    (_run("secondaryMetrics", "·gc.alloc.rate", "score", value="fast"),
     '[0].secondaryMetrics["·gc.alloc.rate"].score: expected a number, found \'fast\''),
    (_run("secondaryMetrics", "·gc.count", "rawData", value=[[1.0, None]]),
     '[0].secondaryMetrics["·gc.count"].rawData[0][1]: expected a number, found None'),
    (_run("secondaryMetrics", "·gc.time", "scoreUnit", value=KeyError),
     '[0].secondaryMetrics["·gc.time"].scoreUnit: required'),
])
def test_malformed_results_are_named_by_file_and_position(runs: Any, message: str) -> None:
    with pytest.raises(AdapterError) as caught:
        read(runs)
    assert str(caught.value).startswith(f"{RESULT}: {message}")


@pytest.mark.parametrize(("histogram", "message"), [
    ([[[[250.0, 3], [251.0]]]], "rawDataHistogram[0][0][1]: expected [value, count]"),
    ([[[[250.0, "3"]]]], "rawDataHistogram[0][0][0][1]: expected a number, found '3'"),
    ([[[[250.0, -1]]]], "rawDataHistogram[0][0][0][1]: -1.0 is a negative count"),
    ([[{"250": 3}]], "rawDataHistogram[0][0]: expected an array, found {\"250\": 3}"),
])
def test_a_malformed_histogram_is_named(histogram: Any, message: str) -> None:
    runs = json.loads(json.dumps(RUNS[2:3]))
    runs[0]["primaryMetric"]["rawDataHistogram"] = histogram
    with pytest.raises(AdapterError) as caught:
        read(runs)
    assert str(caught.value).startswith(f"{RESULT}: [0].primaryMetric.{message}")


def test_truncated_json_is_refused_with_its_line() -> None:
    text = RESULT.read_text(encoding="utf-8")
    with pytest.raises(AdapterError, match=rf"^{RESULT}: not valid JSON: .*line \d+ column"):
        jmh.read(RESULT, text[: len(text) // 2])

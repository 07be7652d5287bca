"""The bmf adapter (harness.client.adapters.bmf) on Bencher Metric Format JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import AdapterError, Benchmark, bmf, read_files, submission_body
from harness.units import parse_unit

DATA = Path(__file__).resolve().parents[3] / "data" / "benchmarks" / "bmf"
EXAMPLE = DATA / "example.json"
CUSTOM = DATA / "custom.json"


def read(path: Path) -> list[Benchmark]:
    return bmf.read(path, path.read_text(encoding="utf-8"))


def test_the_documented_example_is_one_figure_per_measure() -> None:
    assert read(EXAMPLE) == [
        Benchmark("benchmark_name.latency", "ns", "lower", value=88.0),
        Benchmark("benchmark_name.throughput", "1 / s", "higher", value=5.55),
        Benchmark("/bin/sh -c ./my_build_script.sh.build-time", "s", "lower", value=87.0),
        Benchmark("my_binary.file-size", "byte", "lower", value=42.0)]


def test_the_submission_of_the_example() -> None:
    body = submission_body(read(EXAMPLE), "bmf", str(EXAMPLE))
    assert body["measurements"] == [
        {"metric": "bmf.benchmark_name.latency", "unit": "ns", "value": 88.0},
        {"metric": "bmf.benchmark_name.throughput", "unit": "1 / s", "value": 5.55},
        {"metric": "bmf.bin_sh_c.my_build_script.sh.build_time", "unit": "s", "value": 87.0},
        {"metric": "bmf.my_binary.file_size", "unit": "byte", "value": 42.0}]
    assert [m["better"] for m in body["metrics"]] == ["lower", "higher", "lower", "lower"]
    for metric in body["metrics"]:
        parse_unit(metric["unit"])  # a unit the server knows


def test_measure_names_are_known_in_any_case_and_custom_measures_are_counts() -> None:
    assert read(CUSTOM) == [
        Benchmark("parser::tokenize.Latency", "ns", "lower", value=1290.5),
        Benchmark("parser::tokenize.instructions", "", "lower", value=48211.0),
        Benchmark("decoder/frames.Throughput", "1 / s", "higher", value=2.4e6)]
    names = [m["metric"] for m in submission_body(read(CUSTOM), "bmf", "c")["measurements"]]
    assert names == ["bmf.parser_tokenize.Latency", "bmf.parser_tokenize.instructions",
                     "bmf.decoder_frames.Throughput"]


@pytest.mark.parametrize(("measure", "expected"), [
    ("latency", ("ns", "lower")), ("Build Time", ("s", "lower")),
    ("build_time", ("s", "lower")), ("FILE-SIZE", ("byte", "lower")),
    ("throughput", ("1 / s", "higher")),
    ("4c5a8e1c-0d38-4b5e-9a52-3f1e1d2b8c77", ("", "lower")), ("cycles", ("", "lower")),
])
def test_measure_units(measure: str, expected: tuple[str, str]) -> None:
    assert bmf.measure_of(measure) == expected


def test_both_files_in_one_post() -> None:
    names = [b.name for b in read_files("bmf", [EXAMPLE, CUSTOM])]
    assert len(names) == 7 and names[0] == "benchmark_name.latency"


@pytest.mark.parametrize(("document", "message"), [
    ([{"b": {}}], 'expected an object (BMF: {"<benchmark>": {"<measure>": {"value": …}}})'),
    ({"b": [1]}, "b: expected an object (its measures), found [1]"),
    ({"my bench": {"latency": 88.0}},
     '["my bench"].latency: expected an object ({"value": …}), found 88.0'),
    ({"b": {"latency": {"lower_value": 1.0}}}, "b.latency.value: required"),
    ({"b": {"latency": {"value": "88"}}}, "b.latency.value: expected a number, found '88'"),
    ({"b": {"latency": {"value": None}}}, "b.latency.value: expected a number, found None"),
    ({"b": {"build-time": {"value": 1.0, "upper_value": "2"}}},
     '["build-time"].upper_value: expected a number'),
    ({"b": {"latency": {"value": 1.0, "lower_value": True}}},
     "b.latency.lower_value: expected a number, found True"),
    ({"": {"latency": {"value": 1.0}}}, '[""]: a benchmark needs a name'),
    ({"b": {" ": {"value": 1.0}}}, 'b[" "]: a measure needs a name'),
])
def test_malformed_documents_are_named_by_file_and_position(document: Any, message: str) -> None:
    with pytest.raises(AdapterError) as caught:
        bmf.read(EXAMPLE, json.dumps(document))
    assert str(caught.value).startswith(f"{EXAMPLE}: ")
    assert message in str(caught.value)


def test_non_finite_values_are_refused_at_their_position() -> None:
    with pytest.raises(AdapterError, match=r'b\.latency\.value: nan is not a finite number'):
        bmf.read(EXAMPLE, '{"b": {"latency": {"value": NaN}}}')


def test_truncated_json_and_duplicate_keys_are_refused() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    with pytest.raises(AdapterError, match=rf"^{EXAMPLE}: not valid JSON: .*line \d+ column"):
        bmf.read(EXAMPLE, text[:-40])
    with pytest.raises(AdapterError, match="not valid JSON: duplicate key 'b'"):
        bmf.read(EXAMPLE, '{"b": {"latency": {"value": 1}}, "b": {"latency": {"value": 2}}}')


def test_an_empty_document_has_nothing_to_post() -> None:
    assert bmf.read(EXAMPLE, "{}") == []
    with pytest.raises(AdapterError, match="no benchmark results"):
        submission_body([], "bmf", str(EXAMPLE))

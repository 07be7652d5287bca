"""The criterion adapter (harness.client.adapters.criterion) on criterion.rs's files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import (
    AdapterError,
    Benchmark,
    criterion,
    read_files,
    submission_body,
)
from harness.units import parse_unit

DATA = Path(__file__).resolve().parents[3] / "data" / "benchmarks" / "criterion"
TREE = DATA / "target" / "criterion"
CSV_NEW = TREE / "parse" / "csv" / "1000" / "new"
CSV_BASE = TREE / "parse" / "csv" / "1000" / "base"
FIB = TREE / "fib 20" / "new"
ESTIMATES = json.loads((CSV_NEW / "estimates.json").read_text(encoding="utf-8"))


def read(path: Path) -> list[Benchmark]:
    """The benchmarks of one estimates.json as the adapter reads it."""
    return criterion.read(path, path.read_text(encoding="utf-8"))


def leaf(root: Path, *parts: str, estimates: Any = ESTIMATES, **beside: Any) -> Path:
    """An estimates.json at root/parts…/estimates.json, with other files beside it."""
    directory = root.joinpath(*parts)
    directory.mkdir(parents=True)
    for name, content in {"estimates.json": estimates, **beside}.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (directory / name.replace("_json", ".json")).write_text(text, encoding="utf-8")
    return directory / "estimates.json"


def test_the_mean_is_the_figure_and_each_sample_is_a_time_per_iteration() -> None:
    main, throughput = read(CSV_NEW / "estimates.json")
    assert (main.name, main.unit, main.better, main.value) == (
        "parse/csv/1000", "ns", "lower", 812.02)
    sample = json.loads((CSV_NEW / "sample.json").read_text(encoding="utf-8"))
    assert main.samples == pytest.approx(
        [time / iters for time, iters in zip(sample["times"], sample["iters"], strict=True)])
    assert len(main.samples) == 10
    assert sum(main.samples) / len(main.samples) == pytest.approx(main.value)
    assert (throughput.name, throughput.unit, throughput.better) == (
        "parse/csv/1000.throughput", "byte / s", "higher")
    assert throughput.value == pytest.approx(4096 / 812.02e-9)
    assert throughput.samples == pytest.approx([4096e9 / time for time in main.samples])


def test_the_submission_names_the_metrics_by_benchmark_json_full_id() -> None:
    body = submission_body(read(CSV_NEW / "estimates.json"), "criterion", "estimates.json")
    assert [m["metric"] for m in body["measurements"]] == [
        "criterion.parse_csv_1000", "criterion.parse_csv_1000.throughput"]
    first = body["measurements"][0]
    assert (first["unit"], first["value"], len(first["samples"])) == ("ns", 812.02, 10)
    assert [(m["name"], m["unit"], m["better"]) for m in body["metrics"]] == [
        ("criterion.parse_csv_1000", "ns", "lower"),
        ("criterion.parse_csv_1000.throughput", "byte / s", "higher")]
    for metric in body["metrics"]:
        parse_unit(metric["unit"])  # a unit the server knows


def test_a_base_directory_is_read_like_new() -> None:
    main, _ = read(CSV_BASE / "estimates.json")
    assert (main.name, main.value, main.samples) == ("parse/csv/1000", 845.25, ())


def test_posting_new_and_base_together_is_refused_naming_both() -> None:
    benchmarks = read_files("criterion", [CSV_NEW / "estimates.json",
                                          CSV_BASE / "estimates.json"])
    with pytest.raises(AdapterError, match="'parse/csv/1000' and 'parse/csv/1000' both"):
        submission_body(benchmarks, "criterion", "files")


def test_without_benchmark_json_the_name_is_the_path_below_the_criterion_directory() -> None:
    [main] = read(FIB / "estimates.json")
    assert (main.name, main.unit, main.better, main.value, main.samples) == (
        "fib 20", "ns", "lower", 26012.5, ())
    body = submission_body([main], "criterion", "estimates.json")
    assert body["measurements"] == [{"metric": "criterion.fib_20", "unit": "ns",
                                     "value": 26012.5}]


@pytest.mark.parametrize(("parts", "name"), [
    (("target", "criterion", "group", "fn", "42", "new"), "group/fn/42"),
    (("target", "criterion", "group", "fn", "before"), "group/fn"),  # a saved baseline
    (("artifacts", "group", "bench", "new"), "group/bench"),  # no criterion directory
])
def test_the_path_rule(tmp_path: Path, parts: tuple[str, ...], name: str) -> None:
    assert read(leaf(tmp_path, *parts))[0].name == name


def test_a_path_too_short_to_name_the_benchmark_is_refused() -> None:
    with pytest.raises(AdapterError, match=r"^new/estimates.json: cannot name the benchmark"):
        criterion.read(Path("new/estimates.json"), json.dumps(ESTIMATES))


def test_benchmark_json_wins_over_the_path_and_title_stands_in_for_full_id(
        tmp_path: Path) -> None:
    path = leaf(tmp_path, "target", "criterion", "a_b", "new",
                benchmark_json={"full_id": "a/b", "title": "a/b", "throughput": None})
    assert [b.name for b in read(path)] == ["a/b"]
    path = leaf(tmp_path, "x", "y", "new", benchmark_json={"title": "titled"})
    assert [b.name for b in read(path)] == ["titled"]


@pytest.mark.parametrize(("throughput", "unit"), [
    ({"Elements": 100}, "1 / s"), ({"BytesDecimal": 1000}, "byte / s"),
    ({"ElementsAndBytes": {"elements": 1, "bytes": 2}}, None),  # a kind not known: ignored
])
def test_throughput_kinds(tmp_path: Path, throughput: dict[str, Any], unit: str | None) -> None:
    path = leaf(tmp_path, "criterion", "g", "new",
                benchmark_json={"full_id": "g", "throughput": throughput})
    found = read(path)
    assert [b.unit for b in found[1:]] == ([unit] if unit else [])


def test_a_change_estimates_json_is_refused(tmp_path: Path) -> None:
    path = leaf(tmp_path, "criterion", "g", "change")
    with pytest.raises(AdapterError, match=r"change/estimates\.json holds relative changes"):
        read(path)


def _broken(change: str) -> Any:
    """ESTIMATES with one statistic changed: 'mean.point_estimate=…' or 'median=' (deleted)."""
    estimates = json.loads(json.dumps(ESTIMATES))
    key, _, value = change.partition("=")
    *parents, last = key.split(".")
    place = estimates
    for part in parents:
        place = place[part]
    if value:
        place[last] = json.loads(value)
    else:
        del place[last]
    return estimates


@pytest.mark.parametrize(("change", "message"), [
    ("mean=", "mean: required"),
    ("median.point_estimate=", "median.point_estimate: required"),
    ('mean.point_estimate="812"', "mean.point_estimate: expected a number, found '812'"),
    ("mean.point_estimate=null", "mean.point_estimate: expected a number, found None"),
    ("mean.point_estimate=-3.5", "mean.point_estimate: -3.5 is a negative time"),
    ('mean.confidence_interval.lower_bound="low"',
     "mean.confidence_interval.lower_bound: expected a number"),
    ("std_dev.confidence_interval=[1, 2]", "std_dev.confidence_interval: expected an object"),
    ("slope=3", "slope: expected an object (an estimate), found 3"),
])
def test_wrong_estimates_are_named_by_file_and_position(
        tmp_path: Path, change: str, message: str) -> None:
    path = leaf(tmp_path, "criterion", "g", "new", estimates=_broken(change))
    with pytest.raises(AdapterError) as caught:
        read(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_truncated_or_non_object_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    text = (CSV_NEW / "estimates.json").read_text(encoding="utf-8")
    path = leaf(tmp_path, "criterion", "g", "new", estimates=text[:90])
    with pytest.raises(AdapterError, match=rf"^{path}: not valid JSON: .*line 1 column"):
        read(path)
    with pytest.raises(AdapterError, match=r"^a/criterion/g/new/estimates.json: expected an "
                                           r"object \(criterion's estimates\.json\), found "
                                           r"\[1\]$"):
        criterion.read(Path("a/criterion/g/new/estimates.json"), "[1]")


@pytest.mark.parametrize(("sample", "message"), [
    ({"iters": [1.0, 2.0]}, "sample.json: times: required"),
    ({"iters": [1.0, 2.0], "times": [5.0, "6"]}, "sample.json: times[1]: expected a number"),
    ({"iters": [1.0, 2.0], "times": [5.0]}, "sample.json: times: 1 values for 2 iters"),
    ({"iters": [1.0, 0.0], "times": [5.0, 6.0]}, "sample.json: iters[1]: 0.0 iterations"),
    ({"iters": [], "times": []}, "sample.json: iters: expected a list of numbers, found []"),
    ({"iters": [1.0], "times": [-5.0]}, "sample.json: times[0]: -5.0 is a negative time"),
    ([1, 2], "sample.json: expected an object"),
    ('{"iters": [1.0], "ti', "sample.json: not valid JSON"),
])
def test_a_wrong_sample_json_is_named(tmp_path: Path, sample: Any, message: str) -> None:
    path = leaf(tmp_path, "criterion", "g", "new", sample_json=sample)
    with pytest.raises(AdapterError) as caught:
        read(path)
    assert str(caught.value).startswith(f"{path.parent}/{message}")


@pytest.mark.parametrize(("info", "message"), [
    ({"full_id": 7}, "benchmark.json: full_id: expected the benchmark's id, found 7"),
    ({"group_id": "g"}, "benchmark.json: full_id: required"),
    ({"full_id": "g", "throughput": {"Bytes": "4 KiB"}},
     "benchmark.json: throughput.Bytes: expected a number"),
    ({"full_id": "g", "throughput": [4096]}, "benchmark.json: throughput: expected an object"),
])
def test_a_wrong_benchmark_json_is_named(tmp_path: Path, info: Any, message: str) -> None:
    path = leaf(tmp_path, "criterion", "g", "new", benchmark_json=info)
    with pytest.raises(AdapterError) as caught:
        read(path)
    assert str(caught.value).startswith(f"{path.parent}/{message}")


def test_an_unreadable_neighbour_is_named(tmp_path: Path) -> None:
    path = leaf(tmp_path, "criterion", "g", "new")
    (path.parent / "sample.json").mkdir()
    with pytest.raises(AdapterError, match=r"sample.json: cannot be read"):
        read(path)


def test_the_data_tree_copied_elsewhere_reads_the_same(tmp_path: Path) -> None:
    copy = tmp_path / "ci-artifact" / "criterion"
    shutil.copytree(TREE, copy)
    assert read(copy / "parse" / "csv" / "1000" / "new" / "estimates.json") == read(
        CSV_NEW / "estimates.json")
    assert read(copy / "fib 20" / "new" / "estimates.json")[0].name == "fib 20"

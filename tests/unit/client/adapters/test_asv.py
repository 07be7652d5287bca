"""The asv adapter: real asv 0.6.6 results files (tests/data/benchmarks/asv), and made-up
ones for version 1, skipped results and malformed files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import AdapterError, read_files, submission_body
from harness.client.adapters.asv import parse, read

DATA = Path(__file__).resolve().parents[3] / "data" / "benchmarks" / "asv" / "results"
RUN = DATA / "testbox" / "8e52400c-existing-py_tmp_asvvenv_bin_python.json"
PARAMS = ["bench.Params.time_build(10, 'list')", "bench.Params.time_build(10, 'tuple')",
          "bench.Params.time_build(100, 'list')", "bench.Params.time_build(100, 'tuple')"]


def results_file(tmp_path: Path, results: dict[str, Any], version: int = 2,
                 top: dict[str, Any] | None = None) -> Path:
    """A results file of its own machine folder (no benchmarks.json beside it); `top`
    changes its top-level keys."""
    body: dict[str, Any] = {
        "commit_hash": "0123456789abcdef", "env_name": "py3.11", "date": 1780000000000,
        "params": {"machine": "box"}, "python": "3.11", "requirements": {},
        "results": results, "version": version, **(top or {})}
    if version == 2:
        body.setdefault("result_columns", ["result", "params", "version", "started_at",
                                           "duration", "samples"])
    path = tmp_path / "results" / "box" / "01234567-py3.11.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body))
    return path


def test_a_real_run_gives_one_figure_per_result_and_parameter_combination() -> None:
    found = {benchmark.name: benchmark for benchmark in read(RUN, RUN.read_text())}

    assert list(found) == [*PARAMS, "bench.TimeSuite.time_keys", "bench.TimeSuite.time_values",
                           "bench.timeraw_import", "bench.mem_list", "bench.peakmem_range",
                           "bench.track_items", "bench.track_rows"]
    keys = found["bench.TimeSuite.time_keys"]
    assert (keys.unit, keys.better, keys.value) == ("s", "lower", 1.0774499969556928e-05)
    assert len(keys.samples) == 6 and min(keys.samples) == 8.88599970494397e-06
    build = found["bench.Params.time_build(100, 'list')"]  # third in product order
    assert (build.value, len(build.samples)) == (2.58273615607876e-06, 6)
    assert [(found[name].unit, found[name].value) for name in (
        "bench.mem_list", "bench.peakmem_range", "bench.track_items", "bench.track_rows")] == [
        ("byte", 16440.0), ("byte", 24649728.0), ("", 42.0), ("", 7.0)]
    assert found["bench.track_rows"].description == "asv bench.track_rows: tracked value (rows)"


def test_the_failed_benchmark_is_left_out_and_named(capsys: pytest.CaptureFixture[str]) -> None:
    run = parse(RUN, RUN.read_text(), {})
    assert run.failed == ("bench.time_fails",) and run.skipped == ()
    assert (run.commit, run.date, run.machine, run.env) == (
        "8e52400cd6b6e689e4cf56c79c53221e9fd96c58", 1795999519000, "testbox",
        "existing-py_tmp_asvvenv_bin_python")

    read_files("asv", [RUN])

    assert "failed in this run (result null), not posted: 1 (bench.time_fails)" in \
        capsys.readouterr().err


def test_metric_names_are_the_benchmark_with_its_parameter_values() -> None:
    body = submission_body(read(RUN, RUN.read_text()), "asv", str(RUN))

    names = [measurement["metric"] for measurement in body["measurements"]]
    assert names[:4] == ["asv.bench.Params.time_build_10_list",
                         "asv.bench.Params.time_build_10_tuple",
                         "asv.bench.Params.time_build_100_list",
                         "asv.bench.Params.time_build_100_tuple"]
    assert "asv.bench.TimeSuite.time_keys" in names and len(set(names)) == 11


def test_without_benchmarks_json_the_name_gives_the_unit(tmp_path: Path) -> None:
    path = tmp_path / "testbox" / RUN.name
    path.parent.mkdir()
    shutil.copy(RUN, path)

    found = {benchmark.name: benchmark.unit for benchmark in read(path, path.read_text())}

    assert found == {**dict.fromkeys(PARAMS, "s"), "bench.TimeSuite.time_keys": "s",
                     "bench.TimeSuite.time_values": "s", "bench.timeraw_import": "s",
                     "bench.mem_list": "byte", "bench.peakmem_range": "byte",
                     "bench.track_items": "", "bench.track_rows": ""}


def test_benchmarks_json_type_and_unit_win_over_the_name(tmp_path: Path) -> None:
    path = results_file(tmp_path, {"suite.custom": [[2.5], []], "suite.track_wall": [[3.0]]})
    (path.parent.parent / "benchmarks.json").write_text(json.dumps({
        "suite.custom": {"type": "time", "unit": "seconds"},
        "suite.track_wall": {"type": "track", "unit": "ms"}, "version": 2}))

    found = {b.name: (b.unit, b.value) for b in read(path, path.read_text())}

    assert found == {"suite.custom": ("s", 2.5), "suite.track_wall": ("ms", 3.0)}


def test_version_1_files_are_read(tmp_path: Path) -> None:
    path = results_file(tmp_path, version=1, results={
        "b.time_plain": 0.5,
        "b.time_param": {"result": [1.0, None], "params": [["1", "2"]], "samples": None},
        "b.mem_scalar": {"result": 2048},
        "b.time_failed": None,
    })

    run = parse(path, path.read_text(), {})

    assert [(b.name, b.unit, b.value) for b in run.benchmarks] == [
        ("b.time_plain", "s", 0.5), ("b.time_param(1)", "s", 1.0),
        ("b.mem_scalar", "byte", 2048.0)]
    assert run.failed == ("b.time_param(2)", "b.time_failed")


def test_skipped_results_are_neither_posted_nor_failures(tmp_path: Path) -> None:
    path = results_file(tmp_path, {"b.time_x": [[None]], "b.time_y": [[1.0]]})
    text = path.read_text().replace("[[null]]", "[[NaN]]")  # asv's skipped benchmark

    run = parse(path, text, {})

    assert [b.name for b in run.benchmarks] == ["b.time_y"] and run.failed == ()
    assert run.skipped == ("b.time_x",)


def test_samples_of_a_combination_are_its_own(tmp_path: Path) -> None:
    path = results_file(tmp_path, {"b.time_p": [[1.0, 2.0], [["'a'", "'b'"]], None, None, None,
                                                 [[0.9, 1.1], None]]})

    found = [(b.name, b.samples) for b in read(path, path.read_text())]

    assert found == [("b.time_p('a')", (0.9, 1.1)), ("b.time_p('b')", ())]


@pytest.mark.parametrize(("results", "top", "message"), [
    ({"b.time_x": [[1.0, 2.0], [["1", "2", "3"]]]}, {},
     'results["b.time_x"].result: expected a list of 3 (one per parameter combination), '
     "found 2 items"),
    ({"b.time_x": [["slow"]]}, {}, 'results["b.time_x"].result: expected a number'),
    ({"b.time_x": [[1.0], "n"]}, {}, 'results["b.time_x"].params: expected lists'),
    ({"b.time_x": 1.0}, {},
     'results["b.time_x"]: expected an array (one value per column), found 1.0'),
    ({"b.time_x": [[1.0], [], None, None, None, [[1.0, "x"]]]}, {},
     'results["b.time_x"].samples[0][1]: expected a number'),
    ({}, {"version": 3}, "version: expected 1 or 2"),
    ({}, {"results": []}, "results: required, an object"),
    ({}, {"result_columns": ["samples"]}, "result_columns: expected asv's list"),
])
def test_a_malformed_file_is_named_with_the_position(
        tmp_path: Path, results: dict[str, Any], top: dict[str, Any], message: str) -> None:
    path = results_file(tmp_path, results, top=top)

    with pytest.raises(AdapterError) as error:
        read(path, path.read_text())

    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_text_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    with pytest.raises(AdapterError, match=r"run\.json: not valid JSON"):
        read(path, '{"results": ')

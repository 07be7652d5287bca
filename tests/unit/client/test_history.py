"""A tool's history as native submissions (harness.client.history): data.js, asv results
folders, manifests; pure, no harness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import Benchmark
from harness.client.cli import main
from harness.client.console import InputError
from harness.client.history import Options, read_history
from harness.client.history.data_js import data_js_history
from harness.client.history.manifest import manifest_history
from harness.model import document_digest

ASV = Path(__file__).resolve().parents[2] / "data" / "benchmarks" / "asv" / "results"
GO = "github_action_benchmark.Go.BenchmarkFib10"


def entry(commit: str, benches: list[dict[str, Any]], tool: str = "go",
          **fields: Any) -> dict[str, Any]:
    """An entry as github-action-benchmark writes it."""
    return {"commit": {"id": commit, "message": "m", "timestamp": "2026-06-01T05:00:00+02:00",
                       "url": f"https://github.com/example/fib/commit/{commit}",
                       "author": {"name": "a", "username": "a"}},
            "date": 1780290000000, "tool": tool, "benches": benches, **fields}


def bench(name: str, value: float, unit: str = "ns/op") -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "extra": "100 times\n2 procs"}


def data_js(suites: dict[str, list[dict[str, Any]]]) -> str:
    """The text of a data.js file."""
    return "window.BENCHMARK_DATA = " + json.dumps(
        {"lastUpdate": 1, "repoUrl": "https://github.com/example/fib", "entries": suites},
        indent=2)


def history(suites: dict[str, list[dict[str, Any]]], **options: Any) -> list[dict[str, Any]]:
    """The bodies data.js_history makes of these suites."""
    found = data_js_history([(Path("data.js"), data_js(suites))], Options(**options))
    return [document.body for document in found.documents]


def refusal(text: str) -> str:
    """The message a data.js text is refused with."""
    with pytest.raises(InputError) as error:
        data_js_history([(Path("data.js"), text)], Options())
    return str(error.value)


def test_each_entry_is_a_submission_of_its_commit() -> None:
    [body] = history({"Go": [entry("c1", [bench("BenchmarkFib10", 409.3)])]})

    assert body["build"] == {
        "ci": "github-action-benchmark", "id": "c1", "branch": "main", "commit": "c1",
        "time": "2026-06-01T03:00:00.000000Z",  # the commit's timestamp, in UTC
        "url": "https://github.com/example/fib/commit/c1"}
    assert body["measurements"] == [{"metric": GO, "unit": "ns", "value": 409.3}]
    assert body["metrics"] == [{"name": GO, "unit": "ns", "better": "lower", "dimensions": [],
                                "description": "BenchmarkFib10 (github-action-benchmark suite "
                                               "'Go', go)"}]


@pytest.mark.parametrize(("tool", "unit", "expected"), [
    ("go", "ns/op", ("ns", "lower")),
    ("cargo", "ns/iter", ("ns", "lower")),
    ("googlecpp", "us/iter", ("us", "lower")),
    ("catch2", "ms", ("ms", "lower")),
    ("pytest", "iter/sec", ("1 / s", "higher")),
    ("benchmarkjs", "ops/sec", ("1 / s", "higher")),
    ("jmh", "ops/s", ("1 / s", "higher")),  # a rate is higher-better whatever the tool says
    ("go", "B/op", ("byte", "lower")),
    ("go", "allocs/op", ("", "lower")),
    ("customBiggerIsBetter", "Percent", ("%", "higher")),
    ("customSmallerIsBetter", "ops/sec", ("1 / s", "lower")),  # a custom tool says which
    ("customSmallerIsBetter", "Megabytes", ("Mbyte", "lower")),
    ("customBiggerIsBetter", "widgets", ("", "higher")),
])
def test_units_and_direction_come_from_the_unit_and_the_tool(
        tool: str, unit: str, expected: tuple[str, str]) -> None:
    [body] = history({"S": [entry("c1", [bench("b", 1.0, unit)], tool=tool)]})

    [metric] = body["metrics"]
    assert (metric["unit"], metric["better"]) == expected
    assert body["measurements"][0]["unit"] == expected[0]


def test_a_unit_the_harness_cannot_read_is_named_in_the_description() -> None:
    [body] = history({"S": [entry("c1", [bench("b", 1.0, "widgets")],
                                  tool="customBiggerIsBetter")]})
    assert body["metrics"][0]["description"].endswith("customBiggerIsBetter, unit 'widgets')")


def test_a_commit_run_again_keeps_its_last_run_and_says_so() -> None:
    runs = [entry("c1", [bench("BenchmarkFib10", 400.0)]),
            entry("c2", [bench("BenchmarkFib10", 410.0)]),
            entry("c1", [bench("BenchmarkFib10", 420.0)])]

    found = data_js_history([(Path("data.js"), data_js({"Go": runs}))], Options())

    assert [(d.body["build"]["id"], d.body["measurements"][0]["value"], d.index)
            for d in found.documents] == [("c2", 410.0, 1), ("c1", 420.0, 2)]
    assert found.notes == ("1 entries ran a commit again that their suite already had: only "
                           "the last run of each commit is imported",)


def test_an_entry_without_benches_is_left_out_and_counted() -> None:
    found = data_js_history([(Path("data.js"), data_js({"Go": [
        entry("c1", []), entry("c2", [bench("BenchmarkFib10", 1.0)])]}))], Options())

    assert [d.body["build"]["id"] for d in found.documents] == ["c2"]
    assert found.notes == ("1 entries have no benches: not imported",)


def test_suites_of_one_commit_are_one_build_with_metrics_of_their_own() -> None:
    bodies = history({"Go": [entry("c1", [bench("BenchmarkFib10", 1.0)])],
                      "Rust Benchmark": [entry("c1", [bench("fib", 2.0, "ns/iter")])]},
                     prefix="fib", branch="master", ci="gh-pages")

    assert [body["build"]["id"] for body in bodies] == ["c1", "c1"]
    assert {body["build"]["ci"] for body in bodies} == {"gh-pages"}
    assert {body["build"]["branch"] for body in bodies} == {"master"}
    assert [body["measurements"][0]["metric"] for body in bodies] == [
        "fib.Go.BenchmarkFib10", "fib.Rust_Benchmark.fib"]


def test_without_a_commit_timestamp_the_run_date_is_the_time() -> None:
    run = entry("c1", [bench("b", 1.0)], date=1780290000123)
    del run["commit"]["timestamp"]

    [body] = history({"Go": [run]})

    assert body["build"]["time"] == "2026-06-01T05:00:00.123000Z"


def test_a_metric_keeps_its_first_unit_and_later_units_are_converted_by_the_harness() -> None:
    bodies = history({"C": [entry("c1", [bench("b", 900.0, "ns/iter")], tool="googlecpp"),
                            entry("c2", [bench("b", 1.2, "us/iter")], tool="googlecpp")]})

    assert [body["metrics"][0]["unit"] for body in bodies] == ["ns", "ns"]
    assert [body["measurements"][0]["unit"] for body in bodies] == ["ns", "us"]


def test_a_unit_of_another_kind_is_refused_naming_both_places() -> None:
    text = data_js({"S": [entry("c1", [bench("b", 9.0, "ns/op")]),
                          entry("c2", [bench("b", 2.0, "ops/sec")])]})

    assert refusal(text) == (
        'data.js: entries["S"][1].benches[0].unit: \'ops/sec\' does not convert to \'ns/op\', '
        'the unit of github_action_benchmark.S.b at data.js: entries["S"][0].benches[0]')


def test_the_same_input_makes_byte_identical_documents_wherever_it_is_read(
        tmp_path: Path) -> None:
    text = data_js({"Go": [entry(f"c{index}", [bench("BenchmarkFib10", 400.0 + index)])
                           for index in range(5)]})
    here, there = tmp_path / "data.js", tmp_path / "copy" / "data.js"
    there.parent.mkdir()
    here.write_text(text)
    there.write_text(text)

    first = read_history("github-action-benchmark", [here], Options())
    again = read_history("github-action-benchmark", [there], Options())

    assert [document_digest(d.body) for d in first.documents] == [
        document_digest(d.body) for d in again.documents]


def test_plain_json_as_the_action_keeps_it_outside_gh_pages_is_read() -> None:
    text = data_js({"Go": [entry("c1", [bench("BenchmarkFib10", 1.0)])]})
    found = data_js_history([(Path("data.json"), text.split("= ", 1)[1])], Options())
    assert len(found.documents) == 1


@pytest.mark.parametrize(("text", "message"), [
    ('window.BENCHMARK_DATA = {\n  "entries": {\n    "Go": [1,]\n}}',
     "data.js: not valid JSON: Expecting value: line 3 column 14"),
    ('window.BENCHMARK_DATA = {"entries": {}, "entries": {}}',
     "data.js: not valid JSON: duplicate key 'entries'"),
    ('window.BENCHMARK_DATA = {"entries": {}}\nconsole.log(1)',
     "data.js:1: unexpected text after the data: 'console.log(1)'"),
    ('window.BENCHMARK_DATA = {"lastUpdate": 1}', "data.js: entries: required"),
    ('{"entries": {"Go": {}}}', 'data.js: entries["Go"]: expected an array, found {}'),
    (data_js({"Go": [entry("", [])]}), 'data.js: entries["Go"][0].commit.id: required'),
    (data_js({"Go": [entry("c1", [bench("b", 1.0)]),
                     entry("c2", [{"name": "b", "value": "fast", "unit": "ns/op"}])]}),
     "data.js: entries[\"Go\"][1].benches[0].value: expected a number, found 'fast'"),
    (data_js({"Go": [{**entry("c1", [bench("b", 1.0)]), "tool": None}]}),
     'data.js: entries["Go"][0].tool: required'),
    (data_js({"Go": [{**entry("c1", []), "commit": {"id": "c1", "timestamp": "yesterday"}}]}),
     "data.js: entries[\"Go\"][0].commit.timestamp: expected an ISO 8601 time, found "
     "'yesterday'"),
    (data_js({"My Go": [entry("c1", [bench("b", 1.0)])],
              "My_Go": [entry("c1", [bench("b", 1.0)])]}),
     "the suites 'My Go' and 'My_Go' both become the metric prefix "
     "github_action_benchmark.My_Go"),
    (data_js({"Go": [entry("c1", [bench("a/b", 1.0), bench("a b", 2.0)])]}),
     "both become the metric github_action_benchmark.Go.a_b"),
])
def test_a_malformed_data_js_is_named_with_the_position(text: str, message: str) -> None:
    assert message in refusal(text)


def test_an_asv_results_folder_is_one_submission_per_run(
        capsys: pytest.CaptureFixture[str]) -> None:
    found = read_history("asv", [ASV], Options())

    builds = sorted((d.body["build"]["time"], d.body["build"]["id"]) for d in found.documents)
    assert builds == [
        ("2026-11-30T00:45:19.000000Z", "testbox/8e52400cd6b6e689e4cf56c79c53221e9fd96c58"),
        ("2026-11-30T00:45:56.000000Z", "testbox/12d64e0af1e68f7a601d3069de06d01998e0ecb8"),
        ("2026-11-30T00:46:17.000000Z", "testbox/32c44c92b1f496030ea08f3e7f0d876fbd0dcbb4")]
    body = found.documents[0].body  # the files in name order: 12d64e0a… first
    assert (body["build"]["ci"], body["build"]["commit"]) == (
        "asv", "12d64e0af1e68f7a601d3069de06d01998e0ecb8")
    assert len(body["measurements"]) == 11
    units = {m["name"]: m["unit"] for m in body["metrics"]}
    assert units["asv.bench.TimeSuite.time_keys"] == "s"
    assert units["asv.bench.mem_list"] == "byte"
    assert found.notes == ("not imported: 3 asv results that failed (null), 0 the suite "
                           "skipped (NaN)",)
    assert capsys.readouterr().err == ""  # the notes are for backfill to print


def test_one_machine_folder_or_its_files_read_the_same(tmp_path: Path) -> None:
    whole = read_history("asv", [ASV], Options(prefix="tiny"))
    machine = read_history("asv", [ASV / "testbox"], Options(prefix="tiny"))
    files = read_history("asv", sorted((ASV / "testbox").glob("*-*.json")), Options(prefix="tiny"))

    digests = [{document_digest(d.body) for d in found.documents}
               for found in (whole, machine, files)]
    assert digests[0] == digests[1] == digests[2] and len(digests[0]) == 3
    assert whole.documents[0].body["metrics"][0]["name"].startswith("tiny.bench.")


def test_results_of_two_machines_are_refused(tmp_path: Path) -> None:
    shutil.copytree(ASV, tmp_path / "results")
    other = tmp_path / "results" / "otherbox"
    other.mkdir()
    run = json.loads((ASV / "testbox" / "8e52400c-existing-py_tmp_asvvenv_bin_python.json")
                     .read_text())
    run["params"]["machine"] = "otherbox"
    (other / "8e52400c-py.json").write_text(json.dumps(run))

    with pytest.raises(InputError, match=r"of 2 machines or environments: otherbox \("):
        read_history("asv", [tmp_path / "results"], Options())


def test_a_folder_without_results_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no asv results files"):
        read_history("asv", [tmp_path], Options())


def fake_reader(path: Path, text: str) -> list[Benchmark]:
    """A format whose files hold `name=value` lines (seconds)."""
    return [Benchmark(name, "s", "lower", value=float(value), description=name)
            for name, value in (line.split("=") for line in text.split())]


def test_a_manifest_names_the_build_of_each_file(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("sort=1.5\n")
    (tmp_path / "out" / "b.txt").write_text("search=0.25\n")
    (tmp_path / "out" / "c.txt").write_text("sort=1.75\n")
    text = ("file,id,time,commit,branch\n"
            "out/a.txt,101,2026-06-01T03:00:00Z,abc,\n"
            "out/b.txt,101,2026-06-01T03:00:00Z,abc,\n"
            "out/c.txt,102,2026-06-02T05:00:00+02:00,def,release\n")

    found = manifest_history("hyperfine", tmp_path / "builds.csv", text, Options(ci="ci"),
                             fake_reader)

    assert [(d.line, d.body["build"]) for d in found.documents] == [
        (2, {"ci": "ci", "id": "101", "branch": "main", "time": "2026-06-01T03:00:00.000000Z",
             "commit": "abc"}),
        (4, {"ci": "ci", "id": "102", "branch": "release",
             "time": "2026-06-02T03:00:00.000000Z", "commit": "def"})]
    assert [m["metric"] for m in found.documents[0].body["measurements"]] == [
        "hyperfine.sort", "hyperfine.search"]


def test_a_json_lines_manifest_reads_the_same(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("sort=1.5\n")
    text = json.dumps({"file": "a.txt", "id": "7", "time": "2026-06-01T03:00:00Z",
                       "ci": "jenkins"}) + "\n"

    [document] = manifest_history("go-test", tmp_path / "m.jsonl", text, Options(),
                                  fake_reader).documents

    assert document.body["build"]["ci"] == "jenkins"
    assert document.body["measurements"][0]["metric"] == "go_test.sort"


@pytest.mark.parametrize(("text", "message"), [
    ("file,id\na.txt,1\n", "builds.csv:2: time: required"),
    ("file,id,time,when\n", "builds.csv:1: unknown column 'when'"),
    ("file,id,time\na.txt,1,yesterday\n", "builds.csv:2: time: expected an ISO 8601 time"),
    ("file,id,time\na.txt,1,2026-06-01,extra\n", "builds.csv:2: more values than the header"),
    ("file,id,time\n", "builds.csv: no rows"),
    ("file,id,time\na.txt,1,2026-06-01\nb.txt,1,2026-06-02\n",
     "builds.csv:3: build hyperfine/1: time"),
    ('{"file": "a.txt", "id": 1, "time": "2026-06-01"}\n', "builds.csv:1: id: expected a string"),
    ('{"file": "a.txt", "id": "1", "time": NaN}\n',
     "builds.csv:1: not valid JSON: NaN is not a JSON number"),
    ('{"file": "a.txt", "id": "1", "time": "2026-06-01"}\n\n[1]\n',
     "builds.csv:3: expected an object (a row's columns), found [1]"),
    ("file,id,time\nmissing.txt,1,2026-06-01\n", "missing.txt: cannot be read"),
])
def test_a_bad_manifest_is_named_by_its_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "a.txt").write_text("sort=1\n")
    with pytest.raises(InputError) as error:
        manifest_history("hyperfine", tmp_path / "builds.csv", text, Options(), fake_reader)
    assert message in str(error.value)


def test_without_a_manifest_a_file_names_its_build_and_records_its_time(
        tmp_path: Path) -> None:
    path = tmp_path / "0001_abc.json"
    path.write_text(json.dumps({
        "datetime": "2026-06-01T03:00:00.250000", "commit_info": {"id": "abc", "branch": "x"},
        "benchmarks": [{"fullname": "tests/test_x.py::test_sort", "stats": {"mean": 0.5}}]}))

    [document] = read_history("pytest-benchmark", [path], Options()).documents

    assert document.body["build"] == {"ci": "pytest-benchmark", "id": "0001_abc",
                                      "branch": "main", "commit": "abc",
                                      "time": "2026-06-01T03:00:00.250000Z"}


def test_without_a_manifest_a_format_that_records_no_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="hyperfine files record no time of their run: give "
                                         "the build of each file in --manifest FILE"):
        read_history("hyperfine", [tmp_path / "run.json"], Options())


def test_backfill_refuses_history_options_without_format(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backfill", "--token", "t", "--manifest", "m.csv", str(tmp_path / "a.json")])
    assert code == 2
    assert "--manifest goes with --format" in capsys.readouterr().err
    code = main(["backfill", "--token", "t", "--format", "asv", "--manifest", "m.csv"])
    assert code == 2
    assert "asv files name their own builds" in capsys.readouterr().err

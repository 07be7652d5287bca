"""The JSON reading every adapter and history reader shares (harness.client.adapters.jsondoc),
and the tool units they share (harness.client.adapters.units)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import jmh, jsondoc, read_files, read_text
from harness.client.adapters.units import tool_unit
from harness.units import parse_unit
from tests.unit.client.adapters import refusal

FILE = Path("run.json")


@pytest.mark.parametrize(("value", "expected"), [
    (None, "null"), (True, "true"), (3, "3"), (88.0, "88.0"), (float("nan"), "NaN"),
    ("fast", '"fast"'), ("µs", '"µs"'), ([], "[]"), ([1], "[1]"), ({}, "{}"),
    ({"a": 1}, '{"a": 1}'),
    ("x" * 60, f'a string "{"x" * 36}…'),
    (list(range(30)), f"an array {str(list(range(30)))[:37]}…"),
    ({str(n): n for n in range(20)}, 'an object {"0": 0, "1": 1, "2": 2, "3": 3, "4":…'),
])
def test_kind_quotes_a_short_value_and_names_a_long_one(value: Any, expected: str) -> None:
    """A message shows a short value as JSON, a long one by what it is and how it starts."""
    assert jsondoc.kind(value) == expected


def test_object_and_array_messages_name_file_place_and_what_was_expected() -> None:
    """FILE: AT: expected an object (WHAT), found KIND; no AT for the document."""
    assert jsondoc.obj(FILE, {"a": 1}, "x", "a thing") == {"a": 1}
    assert jsondoc.array(FILE, [1], "x") == [1]
    assert refusal(jsondoc.obj, FILE, [1], "results[0]", "a run") == (
        "run.json: results[0]: expected an object (a run), found [1]")
    assert refusal(jsondoc.obj, FILE, None, "", "the tool's JSON object") == (
        "run.json: expected an object (the tool's JSON object), found null")
    assert refusal(jsondoc.array, FILE, {}, "results") == (
        "run.json: results: expected an array, found {}")
    assert refusal(jsondoc.array, FILE, 3, "", "the tool's results") == (
        "run.json: expected an array (the tool's results), found 3")


def test_field_and_member_write_json_paths() -> None:
    """`.key` for plain keys, `["key"]` for the others; a missing key is required."""
    assert jsondoc.member("", "results") == "results"
    assert jsondoc.member("[0]", "score") == "[0].score"
    assert jsondoc.member("", "my bench") == '["my bench"]'
    assert jsondoc.member("[0].metrics", "·gc.count") == '[0].metrics["·gc.count"]'
    assert jsondoc.field(FILE, {"a": None}, "", "a") is None
    assert refusal(jsondoc.field, FILE, {}, "", "results", "the file of `tool --json`") == (
        "run.json: results: required (the file of `tool --json`)")
    assert refusal(jsondoc.field, FILE, {}, "[2]", "rate.norm") == (
        'run.json: [2]["rate.norm"]: required')


def test_invalid_json_is_named_with_line_and_column() -> None:
    """The parser's line and column, and its duplicate keys and constants, in one wording."""
    assert refusal(jsondoc.load, FILE, '{\n  "a": [1,]\n}') == (
        "run.json: not valid JSON: Expecting value: line 2 column 11 (char 12)")
    assert refusal(jsondoc.load, FILE, '{"a": 1, "a": 2}') == (
        "run.json: not valid JSON: duplicate key 'a'")
    assert math.isnan(jsondoc.load(FILE, '{"a": NaN}')["a"])
    assert refusal(jsondoc.load, "m.jsonl:3", '{"a": NaN}', constants=False) == (
        "m.jsonl:3: not valid JSON: NaN is not a JSON number")


def test_a_value_inside_a_script_is_read_with_positions_of_the_whole_file() -> None:
    """data.js: positions count from the start of the file, not of the JSON."""
    text = 'window.X = {"a": [1]};\n'
    assert jsondoc.load_from(FILE, text, len("window.X = ")) == ({"a": [1]}, len(text) - 2)
    assert refusal(jsondoc.load_from, FILE, 'window.X = {\n"a": }', len("window.X = ")) == (
        "run.json: not valid JSON: Expecting value: line 2 column 6 (char 18)")


def test_files_are_read_as_utf8_and_a_file_beside_may_be_absent(tmp_path: Path) -> None:
    """A missing neighbour is None; an unreadable or non-UTF-8 file is named."""
    assert jsondoc.load_beside(tmp_path / "missing.json") is None
    (tmp_path / "info.json").write_text('{"a": 1}', encoding="utf-8")
    assert jsondoc.load_beside(tmp_path / "info.json") == {"a": 1}
    (tmp_path / "latin1.json").write_bytes(b'{"caf\xe9": 1}')
    assert refusal(jsondoc.load_beside, tmp_path / "latin1.json") == (
        f"{tmp_path / 'latin1.json'}: not UTF-8 text (byte 5)")
    assert refusal(read_text, tmp_path / "latin1.json") == (
        f"{tmp_path / 'latin1.json'}: not UTF-8 text (byte 5)")
    (tmp_path / "folder.json").mkdir()
    assert refusal(jsondoc.load_beside, tmp_path / "folder.json").startswith(
        f"{tmp_path / 'folder.json'}: cannot be read: ")
    assert refusal(read_files, "hyperfine", [tmp_path / "missing.json"]).startswith(
        f"{tmp_path / 'missing.json'}: cannot be read: ")


@pytest.mark.parametrize(("text", "unit", "kind_of"), [
    ("hr", "h", "time"), ("day", "d", "time"), ("ops/hr", "1 / h", "rate"),
    ("counts", "", "count"), ("#", "", "count"), ("#/op", "", "count"),
    ("MB/sec", "Mbyte / s", "rate"), ("clks/insn", "", "other"),
])
def test_tool_units_jmh_writes(text: str, unit: str, kind_of: str) -> None:
    """The units JMH writes are in the shared table, as units the server knows."""
    read = tool_unit(text)
    assert (read.unit, read.kind) == (unit, kind_of)
    if unit:
        parse_unit(unit)


@pytest.mark.parametrize(("score_unit", "expected"), [
    ("ops/ms", ("1 / ms", "higher")), ("us/op", ("us", "lower")), ("day", ("d", "lower")),
    ("B/op", ("byte", "lower")), ("counts", ("", "lower")), ("#/op", ("", "lower")),
    ("MB/sec", ("MiB / s", "lower")),  # JMH's GC profiler divides bytes by 1024 * 1024
    ("KB/sec", None), ("%", None), ("clks/insn", None), ("---", None),
])
def test_jmh_reads_its_units_through_the_shared_table(
        score_unit: str, expected: tuple[str, str] | None) -> None:
    """JMH's units: the shared table, but its MB/sec (MiB, lower is better) its own."""
    assert jmh.unit_of(score_unit) == expected

"""The catch2 adapter on the XML report a Catch2 v2 binary wrote (Debian's catch2 2.13.10,
see tests/data/benchmarks/catch2/README.md) and on small crafted variants."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.client import adapters
from harness.client.adapters import AdapterError, Benchmark, catch2

RESULTS = Path(__file__).resolve().parents[3] / "data" / "benchmarks" / "catch2" / "results.xml"
NAMES = ["vector sum.accumulate 1024", "vector sum.accumulate 64", "string concat.16 pieces",
         "sections.fill 256"]
VECTOR_SUM = "Catch[@name='catchbench']/Group[@name='catchbench']/TestCase[@name='vector sum']"


def read(text: str | None = None) -> list[Benchmark]:
    """The benchmarks of the real report, or of a variant of its text."""
    return catch2.read(RESULTS, RESULTS.read_text(encoding="utf-8") if text is None else text)


def means() -> dict[str, float]:
    """`test case.benchmark` → the mean value, read from the real report with ElementTree."""
    found: dict[str, float] = {}
    for case in ET.parse(RESULTS).getroot().iter("TestCase"):
        for result in case.iter("BenchmarkResults"):
            mean = result.find("mean")
            if mean is not None:
                found[f"{case.get('name')}.{result.get('name')}"] = float(mean.get("value", ""))
    return found


def refused(text: str) -> str:
    """The AdapterError message for a variant of the real report's text."""
    with pytest.raises(AdapterError) as caught:
        read(text)
    return str(caught.value)


def variant(old: str, new: str) -> str:
    """The real report with one unique piece of text replaced."""
    text = RESULTS.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_the_format_is_registered() -> None:
    """`catch2` in FORMATS leads to this module's read."""
    assert adapters.reader("catch2") is catch2.read


def test_each_benchmark_is_named_test_case_dot_benchmark() -> None:
    """Names are `TestCase.BenchmarkResults` in file order; a benchmark inside a Section keeps
    only its test case's name; the benchmark that threw (`<failed>`) is left out."""
    found = read()
    assert [benchmark.name for benchmark in found] == NAMES
    assert "<failed message=\"no device\"/>" in RESULTS.read_text(encoding="utf-8")


def test_the_value_is_the_mean_in_nanoseconds_without_samples() -> None:
    """Value = `<mean value=…>` exactly, unit ns, lower is better, no samples."""
    expected = means()
    assert list(expected) == NAMES
    for benchmark in read():
        assert benchmark.value == expected[benchmark.name]
        assert (benchmark.unit, benchmark.better, benchmark.samples) == ("ns", "lower", ())


def test_the_submission_body_of_the_real_report() -> None:
    """Through submission_body: metric names, the value alone, the inline metric's unit."""
    body = adapters.submission_body(read(), "catch2", str(RESULTS))
    assert [m["metric"] for m in body["measurements"]] == [
        "catch2.vector_sum.accumulate_1024", "catch2.vector_sum.accumulate_64",
        "catch2.string_concat.16_pieces", "catch2.sections.fill_256"]
    first = body["measurements"][0]
    assert first == {"metric": "catch2.vector_sum.accumulate_1024", "unit": "ns",
                     "value": means()["vector sum.accumulate 1024"]}
    assert {(m["unit"], m["better"]) for m in body["metrics"]} == {("ns", "lower")}


def test_a_catch2_v3_report_is_read_the_same_way() -> None:
    """Catch2 v3's root `<Catch2TestRun>` (no Group) with the same elements."""
    text = """<?xml version="1.0" encoding="UTF-8"?>
<Catch2TestRun name="bench" rng-seed="1" xml-format-version="2" catch2-version="3.4.0">
  <TestCase name="parse" tags="[bench]" filename="b.cpp" line="3">
    <BenchmarkResults name="csv 1000" samples="100" resamples="100000" iterations="1"
        clockResolution="20.1" estimatedDuration="1.2e+07">
      <!-- All values in nano seconds -->
      <mean value="1.5e+06" lowerBound="1.4e+06" upperBound="1.6e+06" ci="0.95"/>
      <standardDeviation value="1000" lowerBound="900" upperBound="1100" ci="0.95"/>
      <outliers variance="0.01" lowMild="0" lowSevere="0" highMild="0" highSevere="0"/>
    </BenchmarkResults>
    <OverallResult success="true" skips="0"/>
  </TestCase>
</Catch2TestRun>"""
    (benchmark,) = catch2.read(Path("v3.xml"), text)
    assert (benchmark.name, benchmark.value, benchmark.unit) == ("parse.csv 1000", 1.5e6, "ns")


def test_a_report_without_benchmarks_gives_nothing() -> None:
    """Test cases without BENCHMARK blocks: no benchmarks (submission_body refuses the post)."""
    text = '<Catch name="t"><Group name="t"><TestCase name="plain"/></Group></Catch>'
    assert catch2.read(Path("t.xml"), text) == []
    with pytest.raises(AdapterError, match="no benchmark results"):
        adapters.submission_body([], "catch2", "t.xml")


def test_a_truncated_report_is_refused_with_line_and_column() -> None:
    """A binary that crashed mid-run leaves a cut file: refused with file, line and column."""
    text = RESULTS.read_text(encoding="utf-8")
    cut = text[: text.index("<mean value=") + 8]
    line = cut.count("\n") + 1
    assert refused(cut).startswith(f"{RESULTS}: not well-formed XML at line {line}, column ")
    assert refused("").startswith(f"{RESULTS}: not well-formed XML at line 1, column 1")


def test_a_missing_mean_is_refused_naming_the_element() -> None:
    """A BenchmarkResults without `<failed>` and without `<mean>`: its element path."""
    text = variant('<mean value="7.72782" lowerBound="7.56031" upperBound="7.90601" ci="0.95"/>',
                   "")
    assert refused(text) == (f"{RESULTS}: {VECTOR_SUM}/BenchmarkResults[@name='accumulate 64']"
                             "/mean: missing (the benchmark's mean time)")


@pytest.mark.parametrize(("bad", "expected"), [
    ('<mean value="fast"', "expected a number, found 'fast'"),
    ('<mean value="nan"', "nan is not a finite number"),
    ('<mean value="inf"', "inf is not a finite number"),
    ('<mean', "missing"),
])
def test_a_wrong_mean_value_deep_inside_is_refused(bad: str, expected: str) -> None:
    """A mean value that is not a finite number, or absent: the attribute's element path."""
    text = variant('<mean value="7.72782"', bad)
    assert refused(text) == (f"{RESULTS}: {VECTOR_SUM}/BenchmarkResults[@name='accumulate 64']"
                             f"/mean/@value: {expected}")


def test_unnamed_elements_and_other_roots_are_refused() -> None:
    """A TestCase or BenchmarkResults without a name, a benchmark outside any test case, and
    a file that is not a Catch2 report (JUnit, say): each refused with its position."""
    assert refused(variant('<TestCase name="string concat"', "<TestCase")).startswith(
        f"{RESULTS}: Catch[@name='catchbench']/Group[@name='catchbench']/TestCase: "
        "a TestCase without a name")
    assert refused(variant('<BenchmarkResults name="accumulate 64"', "<BenchmarkResults")) == (
        f"{RESULTS}: {VECTOR_SUM}/BenchmarkResults: a BenchmarkResults without a name")
    loose = '<Catch name="t"><Group name="t"><BenchmarkResults name="b"/></Group></Catch>'
    assert refused(loose) == (f"{RESULTS}: Catch[@name='t']/Group[@name='t']/BenchmarkResults"
                              "[@name='b']: a BenchmarkResults outside any TestCase")
    assert refused('<testsuites><testsuite name="x"/></testsuites>') == (
        f"{RESULTS}: /testsuites: not a Catch2 XML report (-r xml), whose root is <Catch> (v2) "
        "or <Catch2TestRun> (v3)")

"""catch2: the XML report of a Catch2 test binary run with `-r xml` (`-o FILE` to write a
file), holding the results of its `BENCHMARK` blocks (CATCH_CONFIG_ENABLE_BENCHMARKING).

Catch2 v2 writes `<Catch>` as the root; Catch2 v3 writes `<Catch2TestRun>` with the same
`TestCase`, `Section` and `BenchmarkResults` elements, and both are read. Each
`<BenchmarkResults name=B>` is one benchmark named `T.B`, T the name of the enclosing
`<TestCase name=T>` (sections are not part of the name). Its value is `<mean value=…>`,
the mean time of one run of the block, in nanoseconds (lower is better). The XML holds no
individual samples, so the value is posted alone. Ignored: the bounds and confidence
interval of the mean, `<standardDeviation>`, `<outliers>`, the attributes `samples`,
`resamples`, `iterations`, `clockResolution` and `estimatedDuration`, assertions, and
benchmarks whose block threw (`<failed message=…>` in place of a mean)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.client.adapters import AdapterError, Benchmark, number

ROOTS = ("Catch", "Catch2TestRun")  # v2, v3


def read(path: Path, text: str) -> list[Benchmark]:
    """The benchmarks of one Catch2 XML report, in the file's order."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        raise AdapterError(f"{path}: not well-formed XML at line {line}, column {column + 1} "
                           f"({reason}); is the file complete?") from None
    if root.tag not in ROOTS:
        raise AdapterError(f"{path}: /{root.tag}: not a Catch2 XML report (-r xml), whose root "
                           f"is <Catch> (v2) or <Catch2TestRun> (v3)")
    found: list[Benchmark] = []
    _walk(path, root, _label(root), None, found)
    return found


def _walk(path: Path, element: ET.Element, where: str, test_case: str | None,
          found: list[Benchmark]) -> None:
    """Collect the BenchmarkResults under `element`, at the element path `where`."""
    for child in element:
        inside = f"{where}/{_label(child)}"
        if child.tag == "TestCase":
            name = child.get("name")
            if not name:
                raise AdapterError(f"{path}: {inside}: a TestCase without a name")
            _walk(path, child, inside, name, found)
        elif child.tag == "BenchmarkResults":
            benchmark = _benchmark(path, child, inside, test_case)
            if benchmark is not None:
                found.append(benchmark)
        else:
            _walk(path, child, inside, test_case, found)


def _benchmark(path: Path, element: ET.Element, where: str,
               test_case: str | None) -> Benchmark | None:
    """One BenchmarkResults as a benchmark; None when its block threw (`<failed>`)."""
    name = element.get("name")
    if not name:
        raise AdapterError(f"{path}: {where}: a BenchmarkResults without a name")
    if test_case is None:
        raise AdapterError(f"{path}: {where}: a BenchmarkResults outside any TestCase")
    if element.find("failed") is not None:
        return None
    mean = element.find("mean")
    if mean is None:
        raise AdapterError(f"{path}: {where}/mean: missing (the benchmark's mean time)")
    text = mean.get("value")
    position = f"{path}: {where}/mean/@value"
    if text is None:
        raise AdapterError(f"{position}: missing")
    try:
        value = float(text)
    except ValueError:
        raise AdapterError(f"{position}: expected a number, found {text!r}") from None
    return Benchmark(f"{test_case}.{name}", "ns", "lower", value=number(value, position),
                     description=f"{test_case} / {name}: mean time (Catch2 BENCHMARK)")


def _label(element: ET.Element) -> str:
    """An element as a step of an element path: its tag, and its name when it has one."""
    name = element.get("name")
    return element.tag if name is None else f"{element.tag}[@name={name!r}]"

"""bmf: Bencher Metric Format, `{"<benchmark>": {"<measure>": {"value": …}, …}, …}`.

Every measure of every benchmark is one figure named `<benchmark>.<measure>`
(`benchmark_name.latency`, `my_binary.file-size`), its `value` as written. Bencher's
measures have known units: `latency` ns (lower is better), `throughput` operations per second
"1 / s" (higher), `build-time` s (lower), `file-size` byte (lower); they are recognised by
slug or name, in any case, with spaces or `_` for `-` (`Latency`, `Build Time`). Any other
measure (a custom one, or a measure given by UUID) is a dimensionless count, lower is better:
a catalog entry for its metric sets its real unit and direction. `lower_value` and
`upper_value` are checked to be numbers and otherwise ignored (BMF has no samples)."""

from __future__ import annotations

import re
from pathlib import Path

from harness.client.adapters import AdapterError, Benchmark, Better, number
from harness.client.adapters.jsondoc import field, load, member, obj
from harness.client.adapters.units import tool_unit

# Bencher's measures by slug → the unit Bencher gives them (its docs: "nanoseconds (ns)",
# "operations / second (ops/s)", "seconds (s)", "bytes (B)"), read as any tool's unit
MEASURES = {"latency": "ns", "throughput": "ops/s", "build-time": "s", "file-size": "B"}
UNKNOWN: tuple[str, Better] = ("", "lower")  # a custom measure, until a catalog entry says
_BOUNDS = ("lower_value", "upper_value")
_SEPARATORS = re.compile(r"[\s_]+")


def measure_of(measure: str) -> tuple[str, Better]:
    """The unit and better-direction of a measure: Bencher's, else UNKNOWN."""
    unit = MEASURES.get(_SEPARATORS.sub("-", measure.strip().lower()))
    if unit is None:
        return UNKNOWN
    read = tool_unit(unit)
    return read.unit, read.better or "lower"


def read(path: Path, text: str) -> list[Benchmark]:
    """One figure per measure of each benchmark, in the file's order."""
    benchmarks = obj(path, load(path, text), "",
                     'BMF: {"<benchmark>": {"<measure>": {"value": …}}}')
    found: list[Benchmark] = []
    for benchmark, measures in benchmarks.items():
        at = member("", benchmark)
        if not benchmark.strip():
            raise AdapterError(f"{path}: {at}: a benchmark needs a name")
        for measure, metric in obj(path, measures, at, "its measures").items():
            at_measure = member(at, measure)
            if not measure.strip():
                raise AdapterError(f"{path}: {at_measure}: a measure needs a name")
            metric = obj(path, metric, at_measure, '{"value": …}')
            value = number(field(path, metric, at_measure, "value"), f"{path}: {at_measure}.value")
            for bound in _BOUNDS:
                if bound in metric:
                    number(metric[bound], f"{path}: {at_measure}.{bound}")
            unit, better = measure_of(measure)
            found.append(Benchmark(f"{benchmark}.{measure}", unit, better, value=value))
    return found

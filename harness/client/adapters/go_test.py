"""go-test: the text of `go test -bench . -benchmem [-count N] [-v]`.

Each result line (`BenchmarkSort-2  1000  1234 ns/op  512 B/op  3 allocs/op  9.5 MB/s`)
is one repetition of a benchmark named `<pkg>.<name>`: the import path of the last `pkg:`
line, then Go's name without the `-GOMAXPROCS` suffix (`example.com/sortbench.BenchmarkSort`,
`….BenchmarkSearch/size=10`); with several `-cpu` values a benchmark keeps Go's suffix
(`BenchmarkSort`, `BenchmarkSort-2`). Its figures, with the value of each repetition
(`-count`) as the samples: ns/op (unit ns, lower is better); `.bytes_per_op` (B/op, byte,
lower), `.allocs_per_op` (allocs/op, a count, lower), `.throughput` (MB/s, "MB / s", higher);
a custom metric (`b.ReportMetric(v, "probes/op")`) becomes `.probes_per_op`: in its unit if
harness.client.adapters.units knows it (`ms/op`, `B/s`, `%`), else a plain number, higher is
better if its unit ends in `/s`, else lower. Any other line is ignored (goos:,
PASS, ok, --- BENCH: and log lines, the name alone that `-v` prints before a result); a line
that starts like a result (`Benchmark`, then no lower-case letter) but does not parse is an
error naming the line."""

from __future__ import annotations

import re
from pathlib import Path

from harness.client.adapters import AdapterError, Benchmark, Better, number
from harness.client.adapters.units import tool_unit

# Go's own units → the figure's name suffix, unit, better-direction
STANDARD: dict[str, tuple[str, str, Better]] = {
    "ns/op": ("", "ns", "lower"),
    "B/op": (".bytes_per_op", "byte", "lower"),
    "allocs/op": (".allocs_per_op", "", "lower"),
    "MB/s": (".throughput", "MB / s", "higher"),
}
_RESULT = re.compile(r"^Benchmark(?![a-z])")  # Go's rule: `Benchmarking…` is not a benchmark
_PROCS = re.compile(r"^(?P<base>.+?)(?P<procs>-\d+)?$")
_ITERATIONS = re.compile(r"^[1-9][0-9]*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")

Key = tuple[str, str, str]  # package, name without the suffix, the suffix (`-2`, or "")


def read(path: Path, text: str) -> list[Benchmark]:
    """The figures of each benchmark of the text, in the order they first appear."""
    runs: dict[Key, dict[str, list[float]]] = {}
    package = ""
    for line_number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("pkg:"):
            package = line[len("pkg:"):].strip()
            continue
        fields = line.split()
        if not _RESULT.match(line) or len(fields) < 2:
            continue  # not a result; `-v` prints a benchmark's name alone before its result
        name, figures = _result(path, line_number, fields)
        match = _PROCS.match(name)
        assert match is not None  # the pattern matches any non-empty name
        figures_of = runs.setdefault((package, match["base"], match["procs"] or ""), {})
        for unit, value in figures.items():
            figures_of.setdefault(unit, []).append(value)
    suffixes: dict[tuple[str, str], set[str]] = {}
    for package, base, procs in runs:
        suffixes.setdefault((package, base), set()).add(procs)
    found: list[Benchmark] = []
    for (package, base, procs), figures_of in runs.items():
        name = base + procs if len(suffixes[package, base]) > 1 else base
        found += _figures(f"{package}.{name}" if package else name, figures_of)
    return found


def _result(path: Path, line: int, fields: list[str]) -> tuple[str, dict[str, float]]:
    """The name and the figures (unit → value) of one result line, split into `fields`."""
    where = f"{path}:{line}"
    name, iterations, pairs = fields[0], fields[1], fields[2:]
    if not _ITERATIONS.match(iterations):
        raise AdapterError(f"{where}: {name}: expected the number of iterations, found "
                           f"{iterations!r} (does the benchmark print to stdout?)")
    if not pairs or len(pairs) % 2:
        raise AdapterError(f"{where}: {name}: expected `value unit` pairs after the "
                           f"iterations, found {' '.join(pairs)!r}")
    figures: dict[str, float] = {}
    for value, unit in zip(pairs[::2], pairs[1::2], strict=True):
        try:
            parsed = float(value)
        except ValueError:
            raise AdapterError(f"{where}: {name}: expected a number before {unit!r}, found "
                               f"{value!r}") from None
        if unit in figures:
            raise AdapterError(f"{where}: {name}: {unit} given twice")
        figures[unit] = number(parsed, f"{where}: {name}: {unit}")
    if "ns/op" not in figures:
        raise AdapterError(f"{where}: {name}: no ns/op figure")
    return name, figures


def _figures(name: str, figures_of: dict[str, list[float]]) -> list[Benchmark]:
    """One Benchmark per unit of a benchmark's results: ns/op first, then in line order."""
    found: list[Benchmark] = []
    for unit in sorted(figures_of, key=lambda unit: unit != "ns/op"):
        suffix, metric_unit, better = STANDARD.get(unit) or _custom(unit)
        found.append(Benchmark(name + suffix, metric_unit, better,
                               samples=tuple(figures_of[unit]),
                               description=f"go test -bench: {unit} of {name}"))
    return found


def _custom(unit: str) -> tuple[str, str, Better]:
    """A `b.ReportMetric` unit's suffix (`probes/op` → `.probes_per_op`), unit and direction:
    a unit adapters.units knows keeps its meaning (`ms/op` → ms, lower; `B/s` → byte / s,
    higher); any other is a plain number, higher is better for a rate (`…/s`), else lower."""
    words = _UNSAFE.sub("_", unit.replace("/", "_per_").replace("%", "percent")).strip("_")
    known = tool_unit(unit)
    if known.kind in ("other", "count"):
        return f".{words or 'metric'}", "", "higher" if unit.endswith("/s") else "lower"
    return f".{words or 'metric'}", known.unit, known.better or "lower"

"""google-benchmark: the JSON file of `--benchmark_format=json` (stdout) or
`--benchmark_out=FILE --benchmark_out_format=json`, with or without `--benchmark_repetitions=N`.

One benchmark per `run_name` (`BM_Name/arg/threads:N` and the like). Its main figure is
`real_time`, the wall-clock time per iteration: what the console shows first, what a user
waits for, and comparable across thread counts (`cpu_time` sums the CPU of every thread and
misses time spent waiting). Every time is converted from the entry's `time_unit` to "ns", so
one metric keeps one unit whatever `->Unit(...)` says. Samples are the repetitions (the
`run_type: "iteration"` entries); the aggregates (mean, median, stddev, cv, BigO, RMS) are
ignored then. With `--benchmark_report_aggregates_only=true` there are no iterations and the
`mean` aggregate is the value. Secondary figures: `.cpu_time` (ns, lower),
`.items_per_second` ("1 / s", higher) and `.bytes_per_second` ("byte / s", higher).
Ignored: runs that report `error_occurred` or `skipped` (SkipWithError / SkipWithMessage),
user counters (their unit and direction are unknown), `iterations`, the `context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.client.adapters import AdapterError, Benchmark, Better, jsondoc, number

_FILE = "JSON file of --benchmark_format=json"  # for messages
NS_PER = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}  # google-benchmark's time units
# secondary figure: (key in the entry, unit, better, is a time in `time_unit`, description)
SECONDARY: tuple[tuple[str, str, Better, bool, str], ...] = (
    ("cpu_time", "ns", "lower", True, "CPU time per iteration"),
    ("items_per_second", "1 / s", "higher", False, "items processed per second"),
    ("bytes_per_second", "byte / s", "higher", False, "bytes processed per second"),
)


@dataclass
class _Runs:
    """The entries of one run_name: its repetitions and its mean aggregate."""

    iterations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    mean: tuple[str, dict[str, Any]] | None = None


def read(path: Path, text: str) -> list[Benchmark]:
    """The benchmarks of one google-benchmark JSON file, in the file's order."""
    data = jsondoc.obj(path, jsondoc.load(path, text), "", f"a google-benchmark {_FILE}")
    entries = jsondoc.array(path, jsondoc.field(path, data, "", "benchmarks", _FILE),
                            "benchmarks")
    groups: dict[str, _Runs] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: benchmarks[{index}]"
        entry = jsondoc.obj(path, entry, f"benchmarks[{index}]", "a benchmark run")
        if entry.get("error_occurred") is True or entry.get("skipped") is True:
            continue
        _add(groups, entry, where)
    found: list[Benchmark] = []
    for name, runs in groups.items():
        found += _figures(name, runs)
    return found


def _add(groups: dict[str, _Runs], entry: dict[str, Any], where: str) -> None:
    """File one entry under its run_name: a repetition or the mean aggregate."""
    aggregate = entry.get("aggregate_name")
    run_type = entry.get("run_type", "iteration" if aggregate is None else "aggregate")
    if run_type not in ("iteration", "aggregate"):
        raise AdapterError(f"{where}.run_type: expected 'iteration' or 'aggregate', "
                           f"found {run_type!r}")
    if run_type == "aggregate" and not isinstance(aggregate, str):
        raise AdapterError(f"{where}.aggregate_name: expected a string, found {aggregate!r}")
    name = entry.get("run_name")
    if name is None:  # files of google-benchmark before 1.5 have only `name`
        name = entry.get("name")
        if isinstance(name, str) and run_type == "aggregate":
            name = name.removesuffix(f"_{aggregate}")
    if not isinstance(name, str) or not name:
        raise AdapterError(f"{where}.run_name: expected the benchmark's name, found {name!r}")
    runs = groups.setdefault(name, _Runs())
    if run_type == "iteration":
        runs.iterations.append((where, entry))
    elif aggregate == "mean":
        if runs.mean is not None:
            raise AdapterError(f"{where}: a second mean of {name!r} (the first is "
                               f"{runs.mean[0]})")
        runs.mean = (where, entry)


def _figures(name: str, runs: _Runs) -> list[Benchmark]:
    """The main figure and the secondary figures of one run_name (none without results)."""
    if runs.iterations:
        entries, summary = runs.iterations, False
    elif runs.mean is not None:
        entries, summary = [runs.mean], True
    else:  # only aggregates such as BigO or RMS
        return []
    found = [_figure(name, "", entries, summary, ("real_time", "ns", "lower", True,
                                                  "wall-clock time per iteration"))]
    for secondary in SECONDARY:
        if any(secondary[0] in entry for _, entry in entries):
            found.append(_figure(name, f".{secondary[0]}", entries, summary, secondary))
    return found


def _figure(name: str, suffix: str, entries: list[tuple[str, dict[str, Any]]], summary: bool,
            figure: tuple[str, str, Better, bool, str]) -> Benchmark:
    """One figure: the repetitions as samples, or (summary) the mean aggregate as the value."""
    key, unit, better, is_time, description = figure
    values: list[float] = []
    for where, entry in entries:
        if key not in entry:
            others = any(key in other for _, other in entries)
            raise AdapterError(f"{where}.{key}: missing" + (
                f" (other runs of {name!r} have it)" if others else ""))
        value = number(entry[key], f"{where}.{key}")
        values.append(value * _ns_per(entry, where) if is_time else value)
    text = f"{name}: {description} ({key}, google-benchmark)"
    if summary:
        return Benchmark(name + suffix, unit, better, value=values[0], description=text)
    return Benchmark(name + suffix, unit, better, samples=tuple(values), description=text)


def _ns_per(entry: dict[str, Any], where: str) -> float:
    """Nanoseconds per unit of the entry's `time_unit`."""
    unit = entry.get("time_unit")
    if not isinstance(unit, str) or unit not in NS_PER:
        raise AdapterError(f"{where}.time_unit: expected one of {', '.join(NS_PER)}, "
                           f"found {unit!r}")
    return NS_PER[unit]

"""asv (airspeed velocity): one results file, `results/<machine>/<commit>-<env>.json`.

The format (asv's docs, "Developer Docs" → "Benchmark suite layout and file formats"):
version 2 files have `result_columns` and `results: {name: [one value per column]}`; the
columns used here are `result`, `params` and `samples`. Version 1 files (asv before 0.5)
have `results: {name: value | {"result": …, "params": …, "samples": …}}`.

A benchmark with `params` (lists of the `repr()` of each parameter's values) has one result
per combination, in the order of `itertools.product(*params)`; each combination is a figure
of its own, named `name(v1, v2)` with asv's strings (`bench.Params.time_build(10, 'list')`,
the metric `asv.bench.Params.time_build_10_list`). A `null` result is a benchmark that
failed, a `NaN` one a benchmark the suite skipped: neither is posted; the failed ones are
named on stderr.

Units, from `benchmarks.json` of the results folder (two levels up) when it lists the
benchmark, else from the name's last part: `time_`/`timeraw_` seconds ("s"), `mem_`/
`peakmem_` bytes ("byte"), `track_` the benchmark's `unit` attribute read like any tool unit
(asv's default `unit`: a plain number); lower is better for all (asv has no direction).
Samples: the `samples` column (`asv run --record-samples`), else the value alone."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.client.adapters import AdapterError, Benchmark, number
from harness.client.adapters.jsondoc import array, load, load_beside, obj
from harness.client.adapters.units import tool_unit
from harness.client.console import say

_PREFIXES = (("timeraw_", "time"), ("time_", "time"), ("peakmem_", "peakmemory"),
             ("mem_", "memory"), ("track_", "track"))
_UNITS = {"time": "s", "timeraw": "s", "memory": "byte", "peakmemory": "byte"}


@dataclass(frozen=True)
class AsvRun:
    """What one results file holds: the run's identity and its figures."""

    commit: str
    date: int | None  # asv's JavaScript time stamp (ms) of the commit
    machine: str
    env: str
    benchmarks: tuple[Benchmark, ...]
    failed: tuple[str, ...]  # figures whose result is null
    skipped: tuple[str, ...]  # figures the suite skipped (NaN)


def read(path: Path, text: str) -> list[Benchmark]:
    """The figures of a results file (benchmarks.json two levels up gives the units)."""
    run = parse(path, text, benchmark_info(path))
    if run.failed:
        say("post", f"{path}: failed in this run (result null), not posted: "
                    f"{len(run.failed)} ({', '.join(run.failed[:10])}"
                    f"{', …' if len(run.failed) > 10 else ''})")
    return list(run.benchmarks)


def benchmark_info(path: Path) -> dict[str, Any]:
    """The `benchmarks.json` of a results file's results folder, {} if there is none."""
    info = path.parent.parent / "benchmarks.json"
    found = load_beside(info)
    if found is None:
        return {}
    return {name: entry for name, entry in obj(info, found, "", "asv's benchmarks").items()
            if isinstance(entry, dict)}


def parse(path: Path, text: str, info: Mapping[str, Any]) -> AsvRun:
    """A results file (version 1 or 2) as its run; `info` is benchmarks.json's content."""
    top = obj(path, load(path, text), "", "asv's results")  # NaN: a skipped benchmark
    version = top.get("version")
    results = top.get("results")
    if not isinstance(results, dict):
        raise AdapterError(f"{path}: results: required, an object (is this an asv results "
                           "file?)")
    if version == 2:
        rows = _version_2(path, top, results)
    elif version == 1:
        rows = _version_1(path, results)
    else:
        raise AdapterError(f"{path}: version: expected 1 or 2 (asv's results format), found "
                           f"{version!r}")
    benchmarks: list[Benchmark] = []
    failed: list[str] = []
    skipped: list[str] = []
    for name, (result, params, samples) in rows.items():
        at = f"results[{_quoted(name)}]"
        combos = _combinations(path, params, at)
        results_of = _per_combination(path, result, len(combos), f"{at}.result")
        samples_of = _per_combination(path, samples, len(combos), f"{at}.samples")
        unit, description = _unit(name, info.get(name))
        for index, (combo, value, runs) in enumerate(zip(combos, results_of, samples_of,
                                                         strict=True)):
            figure = f"{name}({', '.join(combo)})" if combo else name
            if value is None:
                failed.append(figure)
            elif isinstance(value, float) and math.isnan(value):
                skipped.append(figure)
            else:
                where = f"{path}: {at}.result" + (f"[{index}]" if combo else "")
                benchmarks.append(Benchmark(
                    figure, unit, "lower", value=number(value, where),
                    samples=_samples(path, runs, f"{at}.samples[{index}]"),
                    description=f"asv {figure}: {description}"))
    return AsvRun(_text(path, top, "commit_hash"), _date(path, top.get("date")),
                  _machine(path, top), str(top.get("env_name") or ""), tuple(benchmarks),
                  tuple(failed), tuple(skipped))


Row = tuple[Any, Any, Any]  # result, params, samples as the file has them


def _version_2(path: Path, top: dict[str, Any], results: dict[str, Any]) -> dict[str, Row]:
    """The rows of a version 2 file: each benchmark's values by `result_columns`."""
    columns = top.get("result_columns")
    if not isinstance(columns, list) or "result" not in columns:
        raise AdapterError(f"{path}: result_columns: expected asv's list of column names "
                           f"with `result`, found {columns!r}")
    rows: dict[str, Row] = {}
    for name, values in results.items():
        values = array(path, values, f"results[{_quoted(name)}]", "one value per column")
        row = dict(zip(columns, values, strict=False))  # trailing empty columns are dropped
        rows[name] = (row.get("result"), row.get("params"), row.get("samples"))
    return rows


def _version_1(path: Path, results: dict[str, Any]) -> dict[str, Row]:
    """The rows of a version 1 file: a bare value, or an object of result, params, samples."""
    rows: dict[str, Row] = {}
    for name, value in results.items():
        if isinstance(value, dict):
            result = value.get("result")
            rows[name] = (result if isinstance(result, list) or result is None else [result],
                          value.get("params"), value.get("samples"))
        else:
            rows[name] = ([value], [], None)
    return rows


def _combinations(path: Path, params: Any, at: str) -> list[tuple[str, ...]]:
    """The parameter combinations of a benchmark, in asv's order; [()] without params."""
    if params in (None, []):
        return [()]
    if not isinstance(params, list) or not all(
            isinstance(values, list) and all(isinstance(v, str) for v in values)
            for values in params):
        raise AdapterError(f"{path}: {at}.params: expected lists of parameter values "
                           f"(strings), found {params!r}")
    return list(itertools.product(*params))


def _per_combination(path: Path, values: Any, count: int, at: str) -> list[Any]:
    """One item per combination: `values` itself, or all None for a null column."""
    if values is None:
        return [None] * count
    if not isinstance(values, list) or len(values) != count:
        found = f"{len(values)} items" if isinstance(values, list) else repr(values)
        raise AdapterError(f"{path}: {at}: expected a list of {count} (one per parameter "
                           f"combination), found {found}")
    return values


def _samples(path: Path, runs: Any, at: str) -> tuple[float, ...]:
    """The samples of one combination (NaN runs dropped); () without any."""
    if runs is None:
        return ()
    return tuple(number(run, f"{path}: {at}[{index}]")
                 for index, run in enumerate(array(path, runs, at, "the samples"))
                 if not (isinstance(run, float) and math.isnan(run)))


def _unit(name: str, entry: Any) -> tuple[str, str]:
    """The harness unit of a benchmark's figures and a description of what they are."""
    info = entry if isinstance(entry, dict) else {}
    last = name.rsplit(".", 1)[-1]
    kind = info.get("type") or next(
        (kind for prefix, kind in _PREFIXES if last.startswith(prefix)), None)
    if kind in _UNITS:
        unit = _UNITS[kind]
        return unit, {"s": "seconds", "byte": "bytes"}[unit]
    if kind == "track":
        read = tool_unit(str(info.get("unit", "unit")))
        note = "" if read.kind != "other" else f" ({read.text})"
        return read.unit, f"tracked value{note}"
    return "", f"{kind or 'unknown'} benchmark (a plain number)"


def _text(path: Path, top: dict[str, Any], key: str) -> str:
    """A required non-empty string of the results object."""
    value = top.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AdapterError(f"{path}: {key}: required, a string (found {value!r})")
    return value


def _date(path: Path, value: Any) -> int | None:
    """asv's `date` (JavaScript time stamp, ms) as an integer; None without it."""
    if value is None:
        return None
    return int(number(value, f"{path}: date"))


def _machine(path: Path, top: dict[str, Any]) -> str:
    """The machine's name: `params.machine`, else the folder the file is in."""
    params = top.get("params")
    machine = params.get("machine") if isinstance(params, dict) else None
    return machine if isinstance(machine, str) and machine.strip() else path.parent.name


def _quoted(name: str) -> str:
    """A benchmark name as a quoted key of a JSON path (`results["b.time_x"]`)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'

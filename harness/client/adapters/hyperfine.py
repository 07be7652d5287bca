"""hyperfine: the JSON of `hyperfine --export-json FILE COMMAND…`.

One figure per entry of `results[]`, named by its `command` (the command line with any
`--parameter-scan`/`-L` value filled in, or the `--command-name`): the wall-clock time of one
run in seconds, lower is better, with `times` (each run) as its samples; without `times`, the
value is `mean`. Newer hyperfine versions also write `memory_usage_byte` (the peak memory of each
run): it becomes the figure `<command>.memory_usage_bytes` in bytes, lower is better.
Ignored: `stddev`, `median`, `min`, `max`, `user`, `system`, `exit_codes` (hyperfine stops on
a failing command unless told `--ignore-failure`), `parameters` (already in the command)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.client.adapters import MAX_SAMPLES, AdapterError, Benchmark, number
from harness.client.adapters.jsondoc import array, field, kind, load, obj

MEMORY = ".memory_usage_bytes"  # the suffix of the peak-memory figure of a command


def read(path: Path, text: str) -> list[Benchmark]:
    """The time (and peak memory, if written) of each command of the file, in its order."""
    top = obj(path, load(path, text), "", "the hyperfine JSON object")
    results = field(path, top, "", "results", "the file of `hyperfine --export-json FILE`")
    found: list[Benchmark] = []
    for index, result in enumerate(array(path, results, "results")):
        found += _figures(path, result, f"results[{index}]")
    return found


def _figures(path: Path, result: Any, at: str) -> list[Benchmark]:
    """The figures of one entry of `results[]` (at its JSON path `at`)."""
    result = obj(path, result, at, "a command's result")
    command = result.get("command")
    if not isinstance(command, str) or not command.strip():
        raise AdapterError(f"{path}: {at}.command: expected the command, found "
                           f"{kind(command)}")
    figures = [Benchmark(command, "s", "lower", *_values(path, result, at, "times", "mean"),
                         description=f"hyperfine: wall-clock time of one run of {command}")]
    if result.get("memory_usage_byte") is not None:
        figures.append(Benchmark(
            command + MEMORY, "byte", "lower",
            *_values(path, result, at, "memory_usage_byte", None),
            description=f"hyperfine: peak memory of one run of {command}"))
    return figures


def _values(path: Path, result: dict[str, Any], at: str, runs: str,
            mean: str | None) -> tuple[float | None, tuple[float, ...]]:
    """The value and samples of a figure: the array `runs` (one number per run) is the
    samples; without it (or beyond MAX_SAMPLES runs) the field `mean`, if any, is the value.
    A lone number for `runs` is the value."""
    given = result.get(runs)
    if given is not None and not isinstance(given, list):
        return number(given, f"{path}: {at}.{runs}"), ()
    samples = tuple(number(sample, f"{path}: {at}.{runs}[{index}]")
                    for index, sample in enumerate(given or ()))
    if not samples:
        if mean is None or mean not in result:
            needed = f"{at}.{mean}: required without {runs}" if mean else (
                f"{at}.{runs}: expected one number per run, found none")
            raise AdapterError(f"{path}: {needed}")
        return number(result[mean], f"{path}: {at}.{mean}"), ()
    if len(samples) > MAX_SAMPLES and mean is not None and mean in result:
        return number(result[mean], f"{path}: {at}.{mean}"), samples
    return None, samples


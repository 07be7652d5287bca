"""pytest-benchmark: the JSON of `pytest --benchmark-json=FILE` (or of `--benchmark-save`).

One figure per entry of `benchmarks[]`, named by its `fullname` (`tests/test_x.py::test_sort[10]`;
`name` if there is none): the time of one call in seconds, lower is better. Its samples are
`stats.data`, the time of one call in each round (always in `--benchmark-json` files; in saved
files only with `--benchmark-save-data`); without them the value is `stats.mean`. With more than
MAX_SAMPLES rounds the value is still `stats.mean` (the samples sent are evenly picked).
`stats.ops` is not a figure of its own: it is 1 / mean, so it would only double each verdict.
Ignored: the other stats, `group`, `params`, `extra_info`, `options`, `machine_info`,
`commit_info`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.client.adapters import MAX_SAMPLES, AdapterError, Benchmark, number
from harness.client.adapters.jsondoc import array, field, load, obj


def read(path: Path, text: str) -> list[Benchmark]:
    """One figure per benchmark of the file, in the file's order."""
    top = obj(path, load(path, text), "", "the pytest-benchmark JSON object")
    entries = array(path, field(path, top, "", "benchmarks",
                                "the file of `pytest --benchmark-json=FILE`"), "benchmarks")
    return [_benchmark(path, entry, f"benchmarks[{index}]")
            for index, entry in enumerate(entries)]


def _benchmark(path: Path, entry: Any, at: str) -> Benchmark:
    """The figure of one entry of `benchmarks[]` (at its JSON path `at`)."""
    entry = obj(path, entry, at, "a benchmark")
    key = "fullname" if "fullname" in entry else "name"
    name = entry.get(key)
    if not isinstance(name, str) or not name.strip():
        raise AdapterError(f"{path}: {at}.{key}: expected the benchmark's name, found "
                           f"{name!r}")
    stats = obj(path, entry.get("stats"), f"{at}.stats", "the benchmark's stats")
    data = stats.get("data")
    samples = () if data is None else tuple(
        number(sample, f"{path}: {at}.stats.data[{index}]")
        for index, sample in enumerate(array(path, data, f"{at}.stats.data")))
    value = None
    if not samples or len(samples) > MAX_SAMPLES:
        if "mean" not in stats:
            raise AdapterError(f"{path}: {at}.stats.mean: required without stats.data")
        value = number(stats["mean"], f"{path}: {at}.stats.mean")
    return Benchmark(name, "s", "lower", value=value, samples=samples,
                     description=f"pytest-benchmark {name}: time of one call")


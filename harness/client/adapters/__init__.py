"""Adapters: the output files of benchmark tools as the harness's native submissions.

Each format module has one function, `read(path, text) -> list[Benchmark]`, which reads one
file as the tool wrote it and raises AdapterError naming the file and the position of what it
cannot read. `submission_body` turns the benchmarks of a post into the `measurements` and
inline `metrics` of a native submission: each benchmark becomes the metric
`PREFIX.<its name>` (`metric_name`), registered on first use like any inline metric.

Client code: the standard library only (a CI job installs requests and tqdm, no more)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.client.console import InputError

Better = Literal["lower", "higher"]
MAX_SAMPLES = 10_000  # the native format's limit of repeated runs of one measurement
_REFUSED = re.compile(r"[^A-Za-z0-9_.]+")  # what a metric name cannot hold
_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class AdapterError(InputError):
    """A file a format cannot read: the message names the file and the position."""


@dataclass(frozen=True)
class Benchmark:
    """One figure a benchmark tool reported for one benchmark."""

    name: str  # the tool's name of it; a secondary figure adds `.bytes_per_op` and the like
    unit: str  # a unit the harness knows: "ns", "s", "1 / s", "byte", "" (a count)
    better: Better
    value: float | None = None  # None: the mean of the samples
    samples: tuple[float, ...] = ()  # the tool's repeated runs, in `unit`
    description: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)


Reader = Callable[[Path, str], list[Benchmark]]
# format name → the module of harness.client.adapters whose `read` reads its files
FORMATS = {
    "pytest-benchmark": "pytest_benchmark", "google-benchmark": "google_benchmark",
    "hyperfine": "hyperfine", "go-test": "go_test", "catch2": "catch2", "asv": "asv",
    "criterion": "criterion", "jmh": "jmh", "bmf": "bmf",
}


def reader(format_name: str) -> Reader:
    """The `read` function of a format (one of FORMATS)."""
    module = importlib.import_module(f"{__name__}.{FORMATS[format_name]}")
    read: Reader = module.read
    return read


def read_files(format_name: str, paths: Sequence[Path]) -> list[Benchmark]:
    """The benchmarks of every file, in order; a file that cannot be read is named."""
    read = reader(format_name)
    found: list[Benchmark] = []
    for path in paths:
        found += read(path, read_text(path))
    return found


def read_text(path: Path) -> str:
    """A file's text; AdapterError naming the file when it cannot be read as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise unreadable(path, error) from None


def unreadable(path: Path, error: OSError | UnicodeDecodeError) -> AdapterError:
    """The error of a file that cannot be read, or is not UTF-8 text."""
    if isinstance(error, UnicodeDecodeError):
        return AdapterError(f"{path}: not UTF-8 text (byte {error.start})")
    return AdapterError(f"{path}: cannot be read: {error.strerror or error}")


def metric_name(prefix: str, name: str) -> str:
    """`PREFIX.<name>` as a catalog metric name: each run of characters a name cannot hold
    (anything but letters, digits, `_` and `.`) becomes one `_`; empty segments are dropped;
    a segment that does not start with a letter gets a `b` in front (docs/adapters.md).
    Stable: the same benchmark name always gives the same metric."""
    parts: list[str] = []
    for part in _REFUSED.sub("_", f"{prefix}.{name}").split("."):
        part = part.strip("_")
        if not part:
            continue
        parts.append(part if _SEGMENT.match(part) or parts else f"b{part}")
    return ".".join(parts)


def prefix_of(format_name: str) -> str:
    """The default metric prefix of a format: its name as a metric segment."""
    return format_name.replace("-", "_")


def submission_body(benchmarks: Sequence[Benchmark], prefix: str, source: str,
                    dimensions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The `measurements` and inline `metrics` of a native submission for these benchmarks;
    two benchmarks that map to one metric name are refused, naming both."""
    measurements: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    named: dict[str, str] = {}
    for benchmark in benchmarks:
        name = metric_name(prefix, benchmark.name)
        if name in named:
            raise AdapterError(f"{source}: {named[name]!r} and {benchmark.name!r} both become "
                               f"the metric {name}; give them distinct names")
        named[name] = benchmark.name
        merged = {**(dimensions or {}), **benchmark.dimensions}
        measurement: dict[str, Any] = {"metric": name, "unit": benchmark.unit}
        if benchmark.value is not None:
            measurement["value"] = benchmark.value
        if benchmark.samples:
            measurement["samples"] = list(_bounded(benchmark.samples))
        if merged:
            measurement["dimensions"] = dict(merged)
        measurements.append(measurement)
        metrics.append({"name": name, "unit": benchmark.unit, "better": benchmark.better,
                        "description": benchmark.description or f"{benchmark.name} ({source})",
                        "dimensions": sorted(merged)})
    if not measurements:
        raise AdapterError(f"{source}: no benchmark results in it")
    return {"measurements": measurements, "metrics": metrics}


def _bounded(samples: Sequence[float]) -> Sequence[float]:
    """At most MAX_SAMPLES samples, evenly picked (a tool may keep millions of rounds)."""
    if len(samples) <= MAX_SAMPLES:
        return samples
    step = len(samples) / MAX_SAMPLES
    return [samples[int(index * step)] for index in range(MAX_SAMPLES)]


def number(value: Any, where: str) -> float:
    """A finite number of a tool's file, else AdapterError naming where it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AdapterError(f"{where}: expected a number, found {value!r}")
    result = float(value)
    if result != result or result in (float("inf"), float("-inf")):
        raise AdapterError(f"{where}: {value!r} is not a finite number")
    return result

"""criterion (Rust): the `estimates.json` criterion.rs writes for each benchmark.

`target/criterion/<id>/new/estimates.json` (also `base/`, or a saved baseline's directory)
holds criterion's estimates of one benchmark in nanoseconds: the figure is
`mean.point_estimate` in ns, lower is better. The file does not name its benchmark:

- `benchmark.json` beside it (criterion writes one next to each estimates.json) gives the
  name, its `full_id` (else its `title`);
- without it, the name is the path between the last directory named `criterion` and the
  baseline directory (`target/criterion/fib/20/new/estimates.json` → `fib/20`); with no
  `criterion` directory in the path (as given), the two directories above the baseline
  directory.

`sample.json` beside it, if there, gives the samples: `times[i] / iters[i]` in ns. These two
neighbours are the only files an adapter reads besides the ones it is given. A `throughput`
in benchmark.json (`Bytes`, `BytesDecimal` or `Elements` per iteration) adds the figure
`<name>.throughput` ("byte / s" or "1 / s", higher is better). Ignored: median,
median_abs_dev, std_dev, slope and the confidence intervals (checked, not posted), other
kinds of throughput. A `change/estimates.json` (relative changes) is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.client.adapters import AdapterError, Benchmark, number
from harness.client.adapters.jsondoc import field, kind, load, load_beside, obj

STATISTICS = ("mean", "median", "median_abs_dev", "slope", "std_dev")
_NUMBERS = ("point_estimate", "standard_error")
_INTERVAL = ("confidence_level", "lower_bound", "upper_bound")
_SHAPE = '{"mean": {"point_estimate": …}, …}'  # of estimates.json, for messages
# criterion's Throughput (per iteration) → the unit of the throughput figure
THROUGHPUT_UNITS = {"Bytes": "byte / s", "BytesDecimal": "byte / s", "Elements": "1 / s"}


def read(path: Path, text: str) -> list[Benchmark]:
    """The mean time of the benchmark (and its throughput, if criterion was given one)."""
    if path.parent.name == "change":
        raise AdapterError(f"{path}: a change/estimates.json holds relative changes against a "
                           "baseline, not times: give new/estimates.json")
    estimates = obj(path, load(path, text), "", "criterion's estimates.json")
    for statistic in STATISTICS:
        if statistic in estimates and not (statistic == "slope" and estimates[statistic] is None):
            _check_estimate(path, estimates[statistic], statistic)
    field(path, estimates, "", "mean", f"criterion's estimates.json: {_SHAPE}")
    mean = number(estimates["mean"]["point_estimate"], f"{path}: mean.point_estimate")
    if mean < 0:
        raise AdapterError(f"{path}: mean.point_estimate: {mean!r} is a negative time")
    info = _neighbour(path, "benchmark.json")
    name = _name(path, info)
    times = _times(path, _neighbour(path, "sample.json"))
    found = [Benchmark(name, "ns", "lower", value=mean, samples=times)]
    if info is not None:
        found += _throughput(path.parent / "benchmark.json", info, name, mean, times)
    return found


def _check_estimate(path: Path, estimate: Any, where: str) -> None:
    """One statistic of estimates.json: numbers where criterion writes numbers."""
    estimate = obj(path, estimate, where, "an estimate")
    field(path, estimate, where, "point_estimate")
    for key in _NUMBERS:
        if key in estimate:
            number(estimate[key], f"{path}: {where}.{key}")
    if "confidence_interval" in estimate:
        interval = obj(path, estimate["confidence_interval"], f"{where}.confidence_interval",
                       "its bounds")
        for key in _INTERVAL:
            if key in interval:
                number(interval[key], f"{path}: {where}.confidence_interval.{key}")


def _name(path: Path, info: dict[str, Any] | None) -> str:
    """benchmark.json's full_id (else title), else the benchmark's directories."""
    if info is not None:
        for key in ("full_id", "title"):
            if key in info:
                where = f"{path.parent / 'benchmark.json'}: {key}"
                if not isinstance(info[key], str) or not info[key].strip():
                    raise AdapterError(f"{where}: expected the benchmark's id, found "
                                       f"{info[key]!r}")
                return str(info[key])
        raise AdapterError(f"{path.parent / 'benchmark.json'}: full_id: required")
    # the directories above the baseline directory, as the path is given
    above = [part for part in path.parent.parts[:-1] if part != path.anchor]
    if "criterion" in above:
        parts = above[len(above) - above[::-1].index("criterion"):]
    else:
        parts = above[-2:] if len(above) >= 2 else []
    if not parts:
        raise AdapterError(f"{path}: cannot name the benchmark: no benchmark.json beside it, "
                           "and not at target/criterion/<id>/<baseline>/estimates.json")
    return "/".join(parts)


def _times(path: Path, sample: dict[str, Any] | None) -> tuple[float, ...]:
    """sample.json's time per iteration of each sample, in ns; () without the file."""
    if sample is None:
        return ()
    where = path.parent / "sample.json"
    columns: dict[str, list[float]] = {}
    for key in ("iters", "times"):
        values = field(where, sample, "", key)
        if not isinstance(values, list) or not values:
            raise AdapterError(f"{where}: {key}: expected a list of numbers, found "
                               f"{kind(values)}")
        columns[key] = [number(item, f"{where}: {key}[{index}]")
                        for index, item in enumerate(values)]
    iters, times = columns["iters"], columns["times"]
    if len(iters) != len(times):
        raise AdapterError(f"{where}: times: {len(times)} values for {len(iters)} iters")
    for index, (count, time) in enumerate(zip(iters, times, strict=True)):
        if count <= 0:
            raise AdapterError(f"{where}: iters[{index}]: {count!r} iterations")
        if time < 0:
            raise AdapterError(f"{where}: times[{index}]: {time!r} is a negative time")
    return tuple(time / count for count, time in zip(iters, times, strict=True))


def _throughput(where: Path, info: dict[str, Any], name: str, mean: float,
                times: tuple[float, ...]) -> list[Benchmark]:
    """`<name>.throughput` from benchmark.json's throughput per iteration, if it has one."""
    throughput = info.get("throughput")
    if throughput is None:
        return []
    throughput = obj(where, throughput, "throughput", "an amount per iteration")
    for variant, unit in THROUGHPUT_UNITS.items():
        if variant in throughput:
            per_iteration = number(throughput[variant], f"{where}: throughput.{variant}")
            if per_iteration <= 0 or mean <= 0:
                return []
            samples = (tuple(per_iteration * 1e9 / time for time in times)
                       if all(time > 0 for time in times) else ())
            return [Benchmark(f"{name}.throughput", unit, "higher",
                              value=per_iteration * 1e9 / mean, samples=samples)]
    return []  # a kind of throughput this adapter does not know


def _neighbour(path: Path, file_name: str) -> dict[str, Any] | None:
    """The JSON object of a file criterion writes beside estimates.json; None if absent."""
    neighbour = path.parent / file_name
    found = load_beside(neighbour)
    return None if found is None else obj(neighbour, found, "", f"criterion's {file_name}")

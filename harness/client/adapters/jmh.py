"""jmh: the JSON file JMH writes with `-rf json` (`jmh-result.json`).

An array with one entry per benchmark run: its name is `benchmark` (the method's full name)
and, if it has `params`, `?` and the params as `key=value` joined by `&`, keys sorted
(`org.x.MyBench.parse?size=100&type=csv`). The figure is `primaryMetric.score` in
`scoreUnit` ("ops/s" → "1 / s", "us/op" → "us", …); higher is better in mode `thrpt`, lower
in `avgt`, `sample` and `ss`. Samples: `rawData`, every iteration of every fork; in mode
`sample` (a histogram per iteration in `rawDataHistogram`) the mean of each iteration.
Each of `secondaryMetrics` becomes `<name>.<metric>` (a leading `·` dropped:
`….gc.alloc.rate.norm`) with its unit: times and rates as above, "B/op" → "byte",
"MB/sec" (JMH's MB is 2^20 bytes) → "MiB / s", "counts", "#" and "#/op" → "" (a count);
rates of operations are higher-is-better, the rest lower (`unit_of`). Skipped: a secondary
metric in any other unit (`clks/insn`, `%`, the stack profiler's text) or whose score or raw
data JMH wrote as "NaN"/"+INF"/"-INF". Ignored: scoreError, scoreConfidence,
scorePercentiles and the run's settings (forks, threads, jvm …). Two modes of one benchmark
in one post share a name and are refused: post them with different --metric-prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.client.adapters import AdapterError, Benchmark, Better, number
from harness.client.adapters.jsondoc import array, field, kind, load, member, obj
from harness.client.adapters.units import tool_unit

MODES: dict[str, Better] = {"thrpt": "higher", "avgt": "lower", "sample": "lower",
                            "ss": "lower"}
# JMH's own meaning where it differs from other tools': the GC profiler's allocation rate
# "MB/sec" counts 2^20 bytes, and less allocation is better
OWN_UNITS: dict[str, tuple[str, Better]] = {"MB/sec": ("MiB / s", "lower")}
NOT_FINITE = frozenset({"NaN", "+INF", "-INF"})  # JMH's JSON for non-finite doubles


def unit_of(score_unit: str) -> tuple[str, Better] | None:
    """JMH's unit as an astropy unit string and which way is better; None if not known.
    Its labels of time units (TimeValue.tuToString: ns, us, ms, s, min, hr, day; older JMH
    wrote usec, sec …), `ops/<time>`, `<time>/op`, "B/op" and counts ("counts", "#",
    "#/op") are read by harness.client.adapters.units: rates of operations are higher is
    better, times, sizes and counts lower; rates of bytes and percentages are not known."""
    if score_unit in OWN_UNITS:
        return OWN_UNITS[score_unit]
    read = tool_unit(score_unit)
    if read.kind in ("time", "size", "count") or (
            read.kind == "rate" and read.unit.startswith("1 / ")):
        return read.unit, read.better or "lower"
    return None


def read(path: Path, text: str) -> list[Benchmark]:
    """Each run's primary figure, then its secondary figures."""
    runs = array(path, load(path, text), "", "JMH's results of -rf json")
    found: list[Benchmark] = []
    for index, run in enumerate(runs):
        found += _run(path, run, f"[{index}]")
    return found


def _run(path: Path, run: Any, at: str) -> list[Benchmark]:
    """One entry: its primary metric and the secondary metrics that can be posted."""
    run = obj(path, run, at, "a benchmark run")
    benchmark = _text(path, field(path, run, at, "benchmark"), f"{at}.benchmark")
    mode = _text(path, field(path, run, at, "mode"), f"{at}.mode")
    if mode not in MODES:
        raise AdapterError(f"{path}: {at}.mode: {mode!r} is not a JMH mode "
                           f"({', '.join(MODES)})")
    name = benchmark + _params(path, run.get("params"), f"{at}.params")
    at_primary = f"{at}.primaryMetric"
    primary = obj(path, field(path, run, at, "primaryMetric"), at_primary, "its primary metric")
    score = number(field(path, primary, at_primary, "score"), f"{path}: {at_primary}.score")
    score_unit = _text(path, field(path, primary, at_primary, "scoreUnit"),
                       f"{at_primary}.scoreUnit")
    converted = unit_of(score_unit)
    if converted is None or converted[1] != MODES[mode]:
        raise AdapterError(f"{path}: {at_primary}.scoreUnit: {score_unit!r} is not a unit of "
                           f"mode {mode} (like {'ops/s' if mode == 'thrpt' else 'us/op'})")
    if mode == "sample" and "rawDataHistogram" in primary:
        samples = _histogram_means(path, primary["rawDataHistogram"],
                                   f"{at_primary}.rawDataHistogram")
    else:
        samples = _raw(path, primary.get("rawData", []), f"{at_primary}.rawData")
    found = [Benchmark(name, converted[0], MODES[mode], value=score, samples=samples)]
    secondary = obj(path, run.get("secondaryMetrics", {}), f"{at}.secondaryMetrics",
                    "its secondary metrics by name")
    for key, metric in secondary.items():
        figure = _secondary(path, metric, member(f"{at}.secondaryMetrics", key),
                            f"{name}.{key.lstrip('·').strip()}")
        if figure is not None:
            found.append(figure)
    return found


def _params(path: Path, params: Any, at: str) -> str:
    """`?key=value&…`, keys sorted; "" without params."""
    if params is None:
        return ""
    params = obj(path, params, at, "its params by name")
    pairs = []
    for key in sorted(params):
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise AdapterError(f"{path}: {member(at, key)}: expected the param's value, "
                               f"found {kind(value)}")
        pairs.append(f"{key}={value}")
    return "?" + "&".join(pairs) if pairs else ""


def _secondary(path: Path, metric: Any, at: str, name: str) -> Benchmark | None:
    """A secondary metric as the figure `name`; None to skip it."""
    metric = obj(path, metric, at, "a secondary metric")
    score_unit = _text(path, field(path, metric, at, "scoreUnit"), f"{at}.scoreUnit")
    converted = unit_of(score_unit)
    raw = metric.get("rawData", [])
    score = field(path, metric, at, "score")
    if converted is None or _not_finite(score) or (isinstance(raw, list) and any(
            _not_finite(item) for fork in raw if isinstance(fork, list) for item in fork)):
        return None
    return Benchmark(name, *converted, value=number(score, f"{path}: {at}.score"),
                     samples=_raw(path, raw, f"{at}.rawData"))


def _not_finite(value: Any) -> bool:
    """Whether a value is JMH's text for NaN or an infinity."""
    return isinstance(value, str) and value in NOT_FINITE


def _raw(path: Path, raw: Any, at: str) -> tuple[float, ...]:
    """rawData, [[iteration, …] per fork], flattened."""
    values: list[float] = []
    for fork_index, fork in enumerate(array(path, raw, at)):
        at_fork = f"{at}[{fork_index}]"
        values += [number(item, f"{path}: {at_fork}[{index}]")
                   for index, item in enumerate(array(path, fork, at_fork))]
    return tuple(values)


def _histogram_means(path: Path, histogram: Any, at: str) -> tuple[float, ...]:
    """rawDataHistogram, [[[[value, count], …] per iteration] per fork]: each iteration's mean."""
    means: list[float] = []
    for fork_index, fork in enumerate(array(path, histogram, at)):
        at_fork = f"{at}[{fork_index}]"
        for iteration_index, iteration in enumerate(array(path, fork, at_fork)):
            at_iteration = f"{at_fork}[{iteration_index}]"
            total = count_sum = 0.0
            for index, pair in enumerate(array(path, iteration, at_iteration)):
                at_pair = f"{at_iteration}[{index}]"
                if not isinstance(pair, list) or len(pair) != 2:
                    raise AdapterError(f"{path}: {at_pair}: expected [value, count], found "
                                       f"{kind(pair)}")
                value = number(pair[0], f"{path}: {at_pair}[0]")
                count = number(pair[1], f"{path}: {at_pair}[1]")
                if count < 0:
                    raise AdapterError(f"{path}: {at_pair}[1]: {count!r} is a negative count")
                total += value * count
                count_sum += count
            if count_sum > 0:
                means.append(total / count_sum)
    return tuple(means)


def _text(path: Path, value: Any, at: str) -> str:
    """`value` if it is a text that is not empty, else an error naming the file and `at`."""
    if not isinstance(value, str) or not value:
        raise AdapterError(f"{path}: {at}: expected a text, found {kind(value)}")
    return value

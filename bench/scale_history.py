"""The generated history of `python -m bench.scale`: series (metrics scale.M000… ×
10 datasets × 5 filters) with specs in a catalog of their own, nightly builds with their
records and alert events, encoded as the harness writes them and loaded in batches."""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import requests

from harness.alerting.alerts import Alert, alert_id
from harness.alerting.log import event_point, opened_point
from harness.model import Build, Excursion, Measurement, Result, Submission
from harness.storage.influx import build_point, result_point

CHECKOUT = Path(__file__).resolve().parent.parent
DATASETS, FILTERS = [f"ds{n:02d}" for n in range(10)], ["g", "r", "i", "z", "y"]
FIRST_NIGHT = datetime(2024, 3, 1, 3, 0, tzinfo=UTC)
ALERTS_PER_BUILD = 2  # opened per build, 9 in 10 resolved five builds later
MEMORY_FLOOR = 2 << 30  # stop loading when the machine has less available than this


# --- the generated history ------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """Series: metrics scale.M000… × datasets × filters, each with a level."""

    metrics: list[str]
    levels: np.ndarray  # one per series, in the order of `series`
    seed: int = 17

    @property
    def series(self) -> list[tuple[str, dict[str, str]]]:
        """(metric, dimensions) of each series."""
        return [(metric, {"dataset": dataset, "filter": band}) for metric in self.metrics
                for dataset in DATASETS for band in FILTERS]

    def values(self, night: int) -> np.ndarray:
        """Every series' value on a night: its level with 2 % noise (deterministic)."""
        rng = np.random.default_rng([self.seed, night])
        return np.round(self.levels * (1 + 0.02 * rng.standard_normal(len(self.levels))), 4)

    def build(self, night: int) -> Build:
        """The nightly build of a night."""
        return Build("jenkins", f"nightly-{night:05d}", "main",
                     FIRST_NIGHT + timedelta(days=night),
                     f"https://ci.example.org/job/nightly/{night}/", f"{night * 7919:07x}")


def history(series: int) -> History:
    """The generated history: series / 50 metrics of 50 series each."""
    metrics = [f"scale.M{index:03d}" for index in range(series // 50)]
    levels = np.random.default_rng(3).uniform(1, 100, len(metrics) * 50).round(2)
    return History(metrics, levels)


def catalog_folder(found: History, folder: Path) -> Path:
    """The checkout's catalog plus the generated metrics, each with two specs."""
    shutil.copytree(CHECKOUT / "metrics", folder)
    (folder / "scale.yaml").write_text("".join(
        f"{name.split('.')[1]}:\n  description: generated\n  unit: ms\n  better: lower\n"
        "  dimensions: [dataset, filter]\n  tags: [scale]\n" for name in found.metrics))
    (folder / "specs" / "scale").mkdir(parents=True)
    (folder / "specs" / "scale" / "specs.yaml").write_text("".join(
        f"---\nname: {level}\nmetric: {name.split('.')[1]}\n"
        f"threshold: {{value: {threshold}, unit: ms, operator: '<='}}\ntags: [{level}]\n"
        for name in found.metrics for level, threshold in (("minimum", 120), ("design", 100))))
    return folder


def verdicts(values: np.ndarray) -> list[str]:
    """The verdict of each value against the generated specs (design ≤ 100, minimum ≤ 120)."""
    return np.where(values <= 100, "design", np.where(values <= 120, "minimum", "fail")).tolist()


def _num(value: float) -> str:
    """A float as result_point writes it (str, without a trailing `.0`)."""
    text = str(float(value))
    return text[:-2] if text.endswith(".0") else text


def submission_of(found: History, night: int) -> Submission:
    """The (measurement-less) submission of a night's build."""
    build = found.build(night)
    return Submission(f"sub-{night:05d}", build, (), build.time or FIRST_NIGHT)


def prefixes(found: History) -> list[str]:
    """Each series' measurement and tags, as result_point encodes them."""
    submission = submission_of(found, 0)
    return [result_point(submission, Result(Measurement(metric, 1.0, "ms", dimensions),
                                            "design"), 0).to_line_protocol().split(" ", 1)[0]
            for metric, dimensions in found.series]


def night_lines(found: History, night: int, heads: list[str]) -> list[str]:
    """A night's points as line protocol: its build record (build_point) and one result
    per series, with the fields result_point gives a judged result (checked by `check`)."""
    submission = submission_of(found, night)
    build = submission.build
    values = found.values(night)
    change = (values - found.levels).round(4)
    score = (change / (0.02 * found.levels)).round(3)
    stamp = int(submission.time.timestamp()) * 10**9
    names = [metric for metric, _ in found.series]
    head = f',build_id="{build.id}",build_url="{build.url}",change='
    middle = f',ci="jenkins",commit="{build.commit}",decision="ok",score='
    tail = f',submission="{submission.id}",unit="ms",value='
    lines = [build_point(submission, stamp).to_line_protocol()]
    lines += [f'{prefix} baseline={_num(level)}{head}{_num(delta)}{middle}{_num(z)},spec="'
              f'{name + "." + verdict if verdict != "fail" else ""}"{tail}{_num(value)},'
              f'verdict="{verdict}" {stamp}'
              for prefix, name, level, delta, z, value, verdict in zip(
                  heads, names, found.levels.tolist(), change.tolist(), score.tolist(),
                  values.tolist(), verdicts(values), strict=True)]
    return lines


def check(found: History, heads: list[str]) -> None:
    """The generated lines of night 0 are exactly what result_point writes."""
    submission = submission_of(found, 0)
    values = found.values(0)
    lines = night_lines(found, 0, heads)[1:]
    for index in range(0, len(lines), max(1, len(lines) // 50)):
        metric, dimensions = found.series[index]
        level, value = float(found.levels[index]), float(values[index])
        change = round(value - level, 4)
        verdict = verdicts(values[index:index + 1])[0]
        excursion = Excursion(level, 0.02 * level, change, None,
                              round(change / (0.02 * level), 3), "ok", 0, 3.35)
        result = Result(Measurement(metric, value, "ms", dimensions), verdict,  # type: ignore[arg-type]
                        f"{metric}.{verdict}" if verdict != "fail" else None, excursion)
        expected = result_point(submission, result, int(submission.time.timestamp()) * 10**9)
        assert lines[index] == expected.to_line_protocol(), (lines[index], expected)


def alerts_of(found: History, night: int) -> list[Alert]:
    """The regressions opened at a night's build (deterministic)."""
    build = found.build(night)
    when = (build.time or FIRST_NIGHT).isoformat().replace("+00:00", "Z")
    picked = np.random.default_rng([found.seed, night, 1]).choice(
        len(found.levels), ALERTS_PER_BUILD, replace=False)
    alerts = []
    for index in picked.tolist():
        metric, dimensions = found.series[index]
        level = float(found.levels[index])
        alerts.append(Alert(
            id=alert_id(metric, dimensions, "main", build.key, "regression"),
            kind="regression", severity="warning", metric=metric, dimensions=dimensions,
            branch="main", build_ci=build.ci, build_id=build.id, time=when,
            reason=f"{metric} rose by 10 % at build {build.id} (generated)", unit="ms",
            value=level * 1.1, baseline=level, change=level * 0.1, relative_change=0.1,
            build_url=build.url, commit=build.commit, started_build=build.id,
            started_time=when))
    return alerts


def alert_lines(found: History, night: int) -> list[str]:
    """A night's alert events: its alerts opened, 9 in 10 of those of 5 nights ago resolved."""
    lines = [opened_point(alert).to_line_protocol() for alert in alerts_of(found, night)]
    if night >= 5:
        when = (found.build(night).time or FIRST_NIGHT) + timedelta(hours=1)
        lines += [event_point(alert, "resolved", "bench", "", when).to_line_protocol()
                  for n, alert in enumerate(alerts_of(found, night - 5))
                  if (night + n) % 10]
    return lines


# --- loading ----------------------------------------------------------------------------


def available_memory() -> int:
    """MemAvailable of /proc/meminfo, in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def load(url: str, database: str, found: History, nights: range, heads: list[str],
         batch: int, threads: int = 2) -> dict[str, Any]:
    """Write the nights' points in batches of `batch` lines, `threads` requests in flight
    (POST /write as InfluxStore.write sends it); stops early if memory runs short."""
    local: dict[int, requests.Session] = {}

    def post(body: bytes) -> None:
        session = local.setdefault(threading.get_ident(), requests.Session())
        for _ in range(3):  # a write InfluxDB timed out is written again (same points)
            response = session.post(f"{url}/write", data=body, timeout=300,
                                    params={"db": database, "precision": "ns"})
            if response.status_code == 204:
                return
            if "timeout" not in response.text:
                break
        raise RuntimeError(f"InfluxDB refused a write ({response.status_code}): "
                           f"{response.text[:300]}")

    started, points, stopped = time.perf_counter(), 0, None
    pending: list[Future[None]] = []
    with ThreadPoolExecutor(threads) as pool:
        for night in nights:
            if available_memory() < MEMORY_FLOOR:
                stopped = {"night": night, "available": available_memory()}
                break
            lines = night_lines(found, night, heads) + alert_lines(found, night)
            for start in range(0, len(lines), batch):
                pending.append(pool.submit(post, "\n".join(lines[start:start + batch]).encode()))
                points += len(lines[start:start + batch])
            while len(pending) > 2 * threads:
                pending.pop(0).result()
        for future in pending:
            future.result()
    seconds = time.perf_counter() - started
    return {"nights": len(nights), "points": points, "seconds": seconds,
            "rate": points / seconds, "stopped": stopped}

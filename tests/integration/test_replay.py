"""`harness replay`: recorded series through the production detection, via the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.client.cli import main
from harness.tools.replay import SeriesPoint, load_points, replay_series

CHECKOUT = Path(__file__).resolve().parents[2]
START = 1_790_000_000  # seconds since the epoch of the first build


def series(n: int = 200, step_at: int = 150, step: float = 4.0, seed: int = 3
           ) -> list[dict[str, Any]]:
    """Nightly builds b0, b1, … of a noisy metric (σ 1 around 100) with one step."""
    noise = np.random.default_rng(seed).standard_normal(n)
    return [{"build_id": f"b{i}", "time": START + 86_400 * i,
             "value": round(100.0 + noise[i] + (step if i >= step_at else 0.0), 4)}
            for i in range(n)]


def write_csv(path: Path, rows: list[dict[str, Any]], branch: bool = False) -> Path:
    """rows as CSV with the header build_id,time,value[,branch]."""
    header = "build_id,time,value" + (",branch" if branch else "")
    lines = [",".join(str(row.get(k, "")) for k in header.split(",")) for row in rows]
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """rows as JSON lines."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:
    """Run `harness replay …`: exit code, the JSON lines printed, stderr."""
    code = main(["replay", *args])
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    if code == 0:  # the summary comes last, and counts the lines before it
        summary = lines.pop()["summary"]
        kinds = [line["kind"] for line in lines]
        assert summary["alerts"] == {kind: kinds.count(kind) for kind in set(kinds)}
    return code, lines, err


def test_a_csv_series_gives_one_regression_placed_on_the_step(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = replay(capsys, str(write_csv(tmp_path / "pa1.csv", series())))
    assert code == 0
    assert [(line["kind"], line["started_build"]) for line in lines] == [("regression", "b150")]
    alert = lines[0]
    assert int(alert["build_id"][1:]) - 150 in range(6)
    assert alert["baseline"] == pytest.approx(100.0, abs=0.3)
    assert alert["change"] == pytest.approx(alert["value"] - alert["baseline"])
    assert alert["score"] >= 3.3
    assert "baseline" in alert["reason"] and "b150" in alert["reason"]


def test_a_json_lines_series_gives_the_same_alert(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = series()
    _, from_csv, _ = replay(capsys, str(write_csv(tmp_path / "s.csv", rows)))
    code, from_json, _ = replay(capsys, str(write_jsonl(tmp_path / "s.jsonl", rows)))
    assert code == 0
    assert from_json == from_csv


def test_the_file_order_does_not_matter_the_build_time_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = series()
    _, ordered, _ = replay(capsys, str(write_jsonl(tmp_path / "a.jsonl", rows)))
    _, shuffled, _ = replay(capsys, str(write_jsonl(tmp_path / "b.jsonl", rows[::-1])))
    assert shuffled == ordered


def test_pull_request_builds_are_judged_against_main_but_never_join_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [dict(row, branch="main") for row in series()]
    pr_builds = [{"build_id": f"pr{i}", "time": START + 86_400 * i + 3600, "value": 180.0,
                  "branch": "pr-7"} for i in range(40, 60)]
    _, alone, _ = replay(capsys, str(write_csv(tmp_path / "main.csv", rows, branch=True)))
    code, mixed, _ = replay(capsys, str(write_csv(tmp_path / "mixed.csv", rows + pr_builds,
                                                  branch=True)))
    assert code == 0
    assert [line for line in mixed if line["branch"] == "main"] == alone


def test_with_a_metric_its_specs_raise_spec_alerts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_METRICS_DIR", str(CHECKOUT / "metrics"))
    # dm_latency.OTT1: stretch 30 s, design 60 s, minimum 120 s; lower is better
    levels = [45.0] * 60 + [90.0] * 60 + [130.0] * 12
    noise = np.random.default_rng(8).standard_normal(len(levels))
    rows = [{"build_id": f"n{i}", "time": f"2026-03-{1 + i // 24:02d}T{i % 24:02d}:00:00Z",
             "value": round(level + noise[i], 3)} for i, level in enumerate(levels)]
    code, lines, _ = replay(capsys, str(write_csv(tmp_path / "ott1.csv", rows)),
                            "--metric", "dm_latency.OTT1")
    assert code == 0
    specs = [(line["build_id"], line["verdict"], line["spec"]) for line in lines
             if line["kind"] == "spec"]
    assert specs == [("n60", "minimum", "dm_latency.OTT1.minimum"),
                     ("n120", "fail", "dm_latency.OTT1.minimum")]
    assert "fails the minimum spec (<= 120 s" in next(
        line["reason"] for line in lines if line.get("verdict") == "fail")
    regressions = [line for line in lines if line["kind"] == "regression"]
    assert [line["started_build"] for line in regressions] == ["n60", "n120"]
    assert " s " in regressions[0]["reason"]


def test_without_a_metric_lower_is_better_and_no_spec_applies(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = replay(capsys, str(write_csv(tmp_path / "d.csv", series(step=-4.0))))
    assert code == 0
    assert [line["kind"] for line in lines] == ["improvement"]


@pytest.mark.parametrize(("content", "message"), [
    ("build_id,value\nb1,3\n", "header must be build_id,time,value"),
    ("build_id,time,value\nb1,1,3\nb2,2,abc\n", ":3: value: must be a finite number"),
    ("build_id,time,value\nb1,yesterday,3\n", ":2: time: not ISO 8601"),
    ('{"build_id": "b1", "time": 1, "value": 3}\n{"build_id": "b2", "time": 2\n',
     ":2: not JSON"),
    ('{"build_id": "b1", "value": 3}\n', ":1: time: missing"),
    ("", "empty file"),
])
def test_a_bad_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     content: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    code, lines, err = replay(capsys, str(path))
    assert code == 2 and lines == []
    assert str(path) in err and message in err


def test_a_missing_file_or_unknown_metric_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = replay(capsys, str(tmp_path / "nowhere.csv"))
    assert code == 2 and "cannot read" in err
    monkeypatch.setenv("HARNESS_METRICS_DIR", str(CHECKOUT / "metrics"))
    path = write_csv(tmp_path / "s.csv", series(n=30))
    code, _, err = replay(capsys, str(path), "--metric", "no_such.metric")
    assert code == 2 and "unknown metric 'no_such.metric'" in err


def test_replay_series_is_the_loop_the_command_runs(tmp_path: Path) -> None:
    points = load_points(write_csv(tmp_path / "s.csv", series()))
    assert points[0] == SeriesPoint("b0", points[0].value, "main", str(START))
    alerts = list(replay_series(points))
    assert [(a["build_id"], a["kind"]) for a in alerts] == [
        (a["build_id"], "regression") for a in alerts] and len(alerts) == 1


def test_the_samples_of_a_file_are_shown_on_its_alerts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = series()
    path = tmp_path / "s.csv"
    path.write_text("build_id,time,value,branch,ci,samples,spread\n" + "".join(
        f"{row['build_id']},{row['time']},{row['value']},main,jenkins,10,0.25\n"
        for row in rows))
    code, lines, _ = replay(capsys, str(path))
    assert code == 0
    assert [line["samples"] for line in lines] == [{"count": 10, "spread": 0.25}]

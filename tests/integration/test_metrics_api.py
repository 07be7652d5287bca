"""GET /api/v1/metrics: the catalog as the API shows it, detection settings included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.client.cli import main
from harness.detection.params import DEFAULT_PARAMS
from tests.conftest import CHECKOUT, post_all
from tests.integration.test_alerts import nightly, noisy

DEFAULT_SETTINGS = {
    "threshold": DEFAULT_PARAMS.threshold, "pr_threshold": DEFAULT_PARAMS.pr_threshold,
    "min_relative": DEFAULT_PARAMS.min_relative, "min_absolute": DEFAULT_PARAMS.min_absolute,
    "persistence": DEFAULT_PARAMS.persistence, "window": DEFAULT_PARAMS.window,
    "span": DEFAULT_PARAMS.span, "scan": list(DEFAULT_PARAMS.scan),
    "min_history": DEFAULT_PARAMS.min_history, "noise_window": DEFAULT_PARAMS.noise_window,
    "resolve_after": DEFAULT_PARAMS.resolve_after,
}


def test_metrics_show_detection_settings_in_force_and_those_the_catalog_sets(
    client: Any,
) -> None:
    response = client.get("/api/v1/metrics")
    assert response.status_code == 200
    listed = {metric["name"]: metric for metric in response.json["metrics"]}

    runtime = listed["pipe_tasks.runtime"]  # metrics/pipe_tasks.yaml: min_effect: 5%
    assert runtime["detection"] == {
        "enabled": True, "settings": {**DEFAULT_SETTINGS, "min_relative": 0.05},
        "overrides": {"min_relative": 0.05}}
    assert listed["validate_drp.PA1"]["detection"] == {  # z >= 4: 12 series of one KPM
        "enabled": True, "settings": {**DEFAULT_SETTINGS, "threshold": 4.0},
        "overrides": {"threshold": 4.0}}
    assert listed["dm_latency.OTT1"]["detection"] == {
        "enabled": True, "settings": DEFAULT_SETTINGS, "overrides": {}}
    assert (runtime["unit"], runtime["better"], runtime["source"]) == ("s", "lower", "catalog")


def test_one_metric_shows_its_detection_settings(client: Any) -> None:
    response = client.get("/api/v1/metrics/pipe_tasks.runtime")
    assert response.json["detection"]["overrides"] == {"min_relative": 0.05}


def test_a_stored_series_replays_to_the_alerts_the_worker_raised(
    client: Any, system: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    values = noisy(45, seed=31)
    values[30:] = [value + 6.0 for value in values[30:]]
    post_all(client, [nightly(index, value) for index, value in enumerate(values)])
    raised = [(a["build_id"], a["kind"], a["started_build"])
              for a in client.get("/api/v1/alerts?state=open").json["alerts"]]
    assert [kind for _, kind, _ in raised] == ["regression"]

    url = "/api/v1/metrics/dm_latency.OTT1/series?dataset=hsc_rc2"
    answers = {"csv": client.get(url + "&format=csv"), "json": client.get(url)}
    assert answers["csv"].mimetype == "text/csv"
    assert answers["csv"].text.splitlines()[0] == "build_id,time,value,branch,ci,samples,spread"
    for kind, answer in answers.items():
        path = tmp_path / f"series.{kind}"
        path.write_bytes(answer.data)
        assert main(["replay", str(path), "--metric", "dm_latency.OTT1"]) == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        summary = lines.pop()["summary"]
        assert [(line["build_id"], line["kind"], line["started_build"])
                for line in lines] == raised, kind
        assert summary["builds_judged"] == 45

    whole = client.get("/api/v1/metrics/dm_latency.OTT1/series?format=csv")
    assert whole.status_code == 200  # one series stored: no dimension needed
    bad = client.get(url + "&format=xml")
    assert bad.status_code == 422 and bad.json["details"][0]["path"] == "format"


def test_replay_needs_only_the_light_client_with_a_harness_url(
    web: str, system: Any, tmp_path: Path,
) -> None:
    path = tmp_path / "s.csv"
    values = noisy(40, seed=2)
    path.write_text("build_id,time,value\n" + "".join(
        f"b{index},{1_790_000_000 + 86_400 * index},{value}\n"
        for index, value in enumerate(values)))
    script = ("import json, sys\nfrom harness.client.cli import main\n"
              f"code = main(['replay', {str(path)!r}, '--metric', 'pipe_tasks.runtime', "
              f"'--url', {web!r}, '--set', 'threshold=4'])\n"
              "heavy = ('flask', 'celery', 'bokeh', 'astropy', 'pydantic', 'yaml', 'ruptures',"
              " 'influxdb_client', 'redis')\n"
              "print(json.dumps([code, sorted(m for m in heavy if m in sys.modules)]))\n")
    finished = subprocess.run([sys.executable, "-c", script], cwd=CHECKOUT,
                              capture_output=True, text=True, timeout=120, check=False)
    lines = finished.stdout.splitlines()
    code, heavy = json.loads(lines[-1])
    assert (code, heavy) == (0, []), finished.stderr
    summary = json.loads(lines[-2])["summary"]
    # the catalog's setting of pipe_tasks.runtime (min_effect 5 %) came through the API
    assert summary["settings"] == {"min_relative": 0.05, "threshold": 4.0}
    assert summary["builds_judged"] == 40

"""`harness backup` / `harness restore` on real servers: a populated harness, backed up and
restored into brand-new Redis and InfluxDB servers, answers the API exactly as before."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from harness.client.cli import main
from harness.errors import SettingsError
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.testing.servers import InfluxServer, RedisServer
from harness.web import create_app
from tests.conftest import TRIAGE_SECRET, bearer, post_all, submission, wait_done
from tests.integration.test_alerts import announced, nightly, noisy

INLINE_METRIC = {"name": "my_pkg.wall_time", "unit": "s", "better": "lower",
                 "description": "wall time of my task"}


@pytest.fixture
def old_env(harness_env: dict[str, str], influx_server: InfluxServer,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The running test system's settings, in the environment the CLI reads."""
    env = {**harness_env, "HARNESS_INFLUXDB_BACKUP_ADDRESS": f"127.0.0.1:{influx_server.rpc_port}"}
    use(env, monkeypatch)
    return env


@pytest.fixture
def fresh(tmp_path: Path, old_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Brand-new, empty Redis and InfluxDB servers and blob folder; yields their settings."""
    new_redis = RedisServer(tmp_path / "new-redis").start()
    new_influx = InfluxServer(tmp_path / "new-influxdb").start()
    yield {**old_env, "HARNESS_BROKER_URL": new_redis.url,
           "HARNESS_INFLUXDB_URL": new_influx.url,
           "HARNESS_INFLUXDB_BACKUP_ADDRESS": f"127.0.0.1:{new_influx.rpc_port}",
           "HARNESS_BLOB_DIR": str(tmp_path / "new-blobs")}
    new_influx.stop()
    new_redis.stop()


def use(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the CLI's Settings.from_env() at these servers."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def populate(client: Any) -> dict[str, str]:
    """Series with a step and a spec breach (two alerts, one acknowledged and one resolved
    after Slack heard of them), an inline metric and a blob; returns ids to look up."""
    values = noisy(30, seed=3)
    values[20:] = [value + 8.0 for value in values[20:]]
    post_all(client, [*(nightly(i, v) for i, v in enumerate(values)), nightly(30, 150.0)])
    response = client.post("/api/v1/submissions", headers=bearer(), json=submission(
        metrics=[INLINE_METRIC],
        measurements=[*submission()["measurements"],
                      {"metric": "my_pkg.wall_time", "value": 2.0, "unit": "min"}]))
    status = wait_done(client, response.json["status_url"])
    alerts = client.get("/api/v1/alerts").json["alerts"]
    assert {alert["kind"] for alert in alerts} >= {"regression", "spec"}
    for alert, action in zip(alerts, ("acknowledge", "resolve"), strict=False):
        announced(client, f"/api/v1/alerts/{alert['id']}")
        answer = client.post(f"/api/v1/alerts/{alert['id']}/{action}",
                             headers=bearer(TRIAGE_SECRET))
        assert answer.status_code == 200, answer.json
    [blob] = next(r for r in status["results"] if r["metric"] == "pipe_tasks.runtime")["blobs"]
    return {"blob": blob, "alert": alerts[0]["id"], "status": response.json["status_url"]}


def answers(client: Any, ids: dict[str, str]) -> dict[str, Any]:
    """What the API answers about everything the backup must keep."""
    paths = [
        "/api/v1/metrics",
        "/api/v1/metrics/dm_latency.OTT1/series?dataset=hsc_rc2",
        "/api/v1/metrics/my_pkg.wall_time/series",
        "/api/v1/metrics/validate_drp.PA1/series",
        "/api/v1/alerts",
        "/api/v1/alerts?state=acknowledged",
        f"/api/v1/alerts/{ids['alert']}",
        "/api/v1/builds/jenkins/n030",
        "/api/v1/builds/github-actions/9187",
        "/api/v1/report/jenkins/n030",
        "/api/v1/report/github-actions/9187",
        "/api/v1/report?branch=main",
        f"/api/v1/blobs/{ids['blob']}",
        ids["status"],
    ]
    found: dict[str, Any] = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        found[path] = response.json
    found["report.md"] = client.get("/api/v1/report/jenkins/n030?format=md").text
    return found


def test_a_restored_harness_answers_as_the_old_one(
    client: Any, system: InfluxStore, old_env: dict[str, str], fresh: dict[str, str],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    ids = populate(client)
    before = answers(client, ids)
    assert any(alert["state"] == "acknowledged" for alert in before["/api/v1/alerts"]["alerts"])
    assert any(alert["state"] == "resolved" for alert in before["/api/v1/alerts"]["alerts"])

    backup = tmp_path / "backup"
    assert main(["backup", str(backup)]) == 0
    written = json.loads((backup / "manifest.json").read_text())
    assert written["format"] == "harness.storage.backup/1"
    assert written["database"] == "harness_test"
    assert written["counts"]["redis_keys"]["inline_metrics"] == 1
    assert written["counts"]["redis_keys"]["slack_delivered"] >= 2
    assert written["counts"]["blobs"] >= 1
    assert set(written["versions"]) >= {"harness", "influxdb", "redis"}
    assert written["counts"]["influxdb_points"]["autogen.results"] == system.count()
    kept = [json.loads(line)["key"] for line in (backup / "redis.jsonl").read_text().splitlines()]
    assert kept and all(key.startswith("harness:") for key in kept)  # never Celery's queue
    assert not any(key.startswith(("harness:tail:", "harness:lock:")) for key in kept)

    use(fresh, monkeypatch)
    assert main(["restore", str(backup)]) == 0, capsys.readouterr().err
    restored = create_app(Settings.from_env(fresh))
    restored.config["TESTING"] = True
    assert answers(restored.test_client(), ids) == before
    new_redis = redis.Redis.from_url(fresh["HARNESS_BROKER_URL"], decode_responses=True)
    assert new_redis.get(f"harness:notified:{ids['alert']}:opened") == "sent"  # no 2nd Slack

    capsys.readouterr()
    assert main(["restore", str(backup)]) == 1
    refusal = capsys.readouterr().err
    assert "refusing to restore" in refusal and "--force" in refusal
    assert "harness_test" in refusal and "Redis" in refusal
    assert main(["restore", "--force", str(backup)]) == 0
    assert answers(restored.test_client(), ids) == before
    new_redis.close()


def test_a_damaged_backup_is_refused_before_anything_changes(
    client: Any, system: InfluxStore, old_env: dict[str, str], fresh: dict[str, str],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    post_all(client, [submission()])
    backup = tmp_path / "backup"
    assert main(["backup", str(backup)]) == 0
    assert main(["backup", str(backup)]) == 1  # never written over
    assert "already exists" in capsys.readouterr().err
    blob = next((backup / "blobs").rglob("*.json"))
    blob.write_text(blob.read_text() + " ")  # any change at all is damage

    use(fresh, monkeypatch)
    assert main(["restore", str(backup)]) == 1
    error = capsys.readouterr().err
    assert "damaged" in error and blob.name in error
    databases = InfluxStore(fresh["HARNESS_INFLUXDB_URL"], "harness_test").query(
        "SHOW DATABASES", database=None)
    assert "harness_test" not in {row["name"] for found in databases for row in found.rows}
    assert redis.Redis.from_url(fresh["HARNESS_BROKER_URL"]).dbsize() == 0


def test_a_wrong_backup_address_fails_fast_naming_the_setting(
    system: InfluxStore, old_env: dict[str, str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    system.ensure_database()
    monkeypatch.setenv("HARNESS_INFLUXDB_BACKUP_ADDRESS", "127.0.0.1:1")
    started = time.monotonic()
    assert main(["backup", str(tmp_path / "backup")]) == 1
    assert time.monotonic() - started < 10
    assert "HARNESS_INFLUXDB_BACKUP_ADDRESS" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no half-written backup left behind


@pytest.mark.parametrize("value", ["127.0.0.1", "127.0.0.1:port", "http://h:8088", "h:8088/x",
                                   "u@h:8088", ":8088"])
def test_a_malformed_backup_address_is_named(value: str) -> None:
    with pytest.raises(SettingsError, match="HARNESS_INFLUXDB_BACKUP_ADDRESS"):
        Settings.from_env({"HARNESS_INFLUXDB_BACKUP_ADDRESS": value})


def test_the_backup_address_defaults_to_the_http_host_on_port_8088() -> None:
    assert Settings.from_env({"HARNESS_INFLUXDB_URL": "http://db.example.org:8086"}
                             ).influxdb_rpc_address == "db.example.org:8088"
    assert Settings.from_env({"HARNESS_INFLUXDB_URL": "http://[::1]:8086"}
                             ).influxdb_rpc_address == "[::1]:8088"
    assert Settings.from_env({"HARNESS_INFLUXDB_BACKUP_ADDRESS": "10.0.0.5:18088"}
                             ).influxdb_rpc_address == "10.0.0.5:18088"

"""Settings: defaults, every variable, and one line naming a malformed one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import SettingsError
from harness.settings import Settings

CHECKOUT = Path(__file__).resolve().parents[2]


def test_defaults_match_api_md() -> None:
    settings = Settings.from_env({})
    assert settings.broker_url == "redis://127.0.0.1:6379/0"
    assert settings.influxdb_url == "http://127.0.0.1:8086"
    assert settings.influxdb_database == "harness"
    assert settings.metrics_dir == CHECKOUT / "metrics"
    assert settings.blob_dir == CHECKOUT / "var" / "blobs"
    assert settings.slack_webhook_url is None
    assert settings.public_url == "http://127.0.0.1:5000"
    assert settings.api_tokens == ()


def test_tokens_are_parsed_hashed_and_matched() -> None:
    settings = Settings.from_env({"HARNESS_API_TOKENS":
                                  "ci:0123456789abcdefXYZ:ingest, ops:fedcba9876543210abc:admin"})
    ci = settings.token_for("0123456789abcdefXYZ")
    assert ci is not None
    assert (ci.name, ci.scopes) == ("ci", frozenset({"ingest"}))
    assert "0123456789abcdefXYZ" not in repr(settings)
    assert settings.token_for("0123456789abcdefXYz") is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HARNESS_BROKER_URL", "http://127.0.0.1:6379", "must be a redis/rediss URL"),
        ("HARNESS_INFLUXDB_URL", "127.0.0.1:8086", "must be a http/https URL"),
        ("HARNESS_INFLUXDB_URL", "http://127.0.0.1:80x6", "bad port"),
        ("HARNESS_INFLUXDB_DATABASE", "a b;", "only letters"),
        ("HARNESS_METRICS_DIR", "/nonexistent/metrics", "is not a directory"),
        ("HARNESS_API_TOKENS", "ci:secret", "name:secret:scope"),
        ("HARNESS_API_TOKENS", "ci:0123456789abcdef:ingest+root", "unknown scope 'root'"),
        ("HARNESS_API_TOKENS", "ci:short:ingest", "at least 16"),
        ("HARNESS_SLACK_WEBHOOK_URL", "hooks.slack.com/x", "must be a http/https URL"),
        ("HARNESS_PUBLIC_URL", "ftp://x", "must be a http/https URL"),
        ("HARNESS_MAX_BODY_BYTES", "lots", "whole number"),
    ],
)
def test_malformed_variable_is_named(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert str(caught.value).startswith(f"{variable}: ")
    assert message in str(caught.value)


def test_bad_setting_stops_the_web_entry_point_with_one_line() -> None:
    env = {**os.environ, "HARNESS_BROKER_URL": "mysql://nope"}
    done = subprocess.run([sys.executable, "-c", "import harness.web.wsgi"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    assert done.stderr.strip().splitlines() == [
        "harness: HARNESS_BROKER_URL: must be a redis/rediss URL with a host"]


def test_bad_setting_stops_the_worker_entry_point_with_one_line() -> None:
    env = {**os.environ, "HARNESS_API_TOKENS": "nonsense"}
    done = subprocess.run([sys.executable, "-c", "import workers.celery"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "harness: HARNESS_API_TOKENS: entry 1 must be name:secret:scope+scope"]

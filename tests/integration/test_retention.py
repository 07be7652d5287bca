"""Retention tiers against the real servers: the default branch's points stay, those of
other branches and pull requests go after HARNESS_BRANCH_RETENTION_DAYS, and the pages of
an expired build say so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.schedules import crontab

from harness.alerting.alerts import Alert
from harness.alerting.log import AlertLog
from harness.errors import SettingsError
from harness.model import utcnow
from harness.settings import Settings
from harness.storage.influx import InfluxStore
from harness.storage.retention import EXPIRED_FIELD, Retention, expire
from harness.storage.tails import PREFIX, SeriesTails
from harness.testing.pools import WorkerPools
from harness.testing.servers import RedisServer
from harness.times import point_time
from harness.web import create_app
from tests.conftest import post_all, submission
from workers import EXPIRE_BRANCH_POINTS, create_celery

DAYS = 1  # the retention of these tests


def build(build_id: str, branch: str, days_ago: float, pr: int | None = None,
          value: float = 4.7) -> dict[str, Any]:
    """A submission of one build, timed days ago, on a branch, perhaps of a pull request."""
    moment = (utcnow() - timedelta(days=days_ago)).replace(microsecond=0)
    return submission(
        id=build_id, time=moment.isoformat(), branch=branch, url=f"https://ci.example.org/{build_id}",
        pull_request={"number": pr, "url": f"https://git.example.org/pr/{pr}", "base": "main"}
        if pr is not None else None,
        measurements=[{"metric": "validate_drp.PA1", "value": value, "unit": "mmag"}])


HISTORY = [
    build("main-old", "main", 10),
    build("branch-old", "tickets/DM-1", 9),
    build("pr-old", "tickets/DM-2", 8, pr=7),
    build("pr-on-main-old", "main", 7, pr=8),
    build("main-new", "main", 0.2),
    build("branch-new", "tickets/DM-1", 0.1),
]


@pytest.fixture
def history(client: Any, system: InfluxStore) -> InfluxStore:
    """Old and new builds on the default branch, another branch and pull requests."""
    assert all(status["state"] == "done" for status in post_all(client, HISTORY))
    return system


@pytest.fixture
def tails(settings: Settings) -> Iterator[SeriesTails]:
    """The cached series history in the test Redis."""
    client = redis.Redis.from_url(settings.broker_url, decode_responses=True)
    yield SeriesTails(client, 0)
    client.close()


def stored_builds(store: InfluxStore) -> set[str]:
    """The build ids that still have result points."""
    found = store.query("SELECT build_id FROM results")
    return {row["build_id"] for series in found for row in series.rows}


def pr_on_main_record(store: InfluxStore) -> dict[str, Any]:
    """The stored row of the pull-request build stored on the default branch."""
    found = store.query("SELECT * FROM builds WHERE build_id = 'pr-on-main-old'")
    rows = [row for series in found for row in series.rows]
    assert len(rows) == 1
    return dict(rows[0])


@pytest.fixture(scope="module")
def short_app(settings: Settings) -> Any:
    """The real app with a retention of DAYS."""
    application = create_app(replace(settings, branch_retention_days=DAYS))
    application.config["TESTING"] = True
    return application


@pytest.fixture(scope="module")
def short_worker(harness_env: dict[str, str], redis_server: RedisServer,
                 servers_dir: Path) -> Iterator[Settings]:
    """A real worker with a retention of DAYS, on a broker database of its own (so that the
    session's worker, with the default retention, never takes its tasks)."""
    env = {**harness_env, "HARNESS_BRANCH_RETENTION_DAYS": str(DAYS),
           "HARNESS_BROKER_URL": redis_server.url.rsplit("/", 1)[0] + "/1"}
    process = WorkerPools(env, servers_dir / "retention-worker", concurrency=1,
                          notify_concurrency=1).start()
    yield Settings.from_env(env)
    process.stop()


def wait_for(condition: Any, timeout_s: float = 30.0) -> None:
    """Poll until condition() holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold within the deadline"
        time.sleep(0.1)


def test_expire_keeps_default_branch_and_deletes_the_rest(history: InfluxStore,
                                                         tails: SeriesTails) -> None:
    expiry = expire(history, tails, Retention("main", DAYS))
    assert (expiry.branch_points, expiry.pull_request_builds) == (2, 1)
    assert stored_builds(history) == {"main-old", "main-new", "branch-new"}
    # every build keeps its record, so that its pages can say what happened
    assert history.build_record("github-actions", "branch-old") is not None
    assert pr_on_main_record(history)[EXPIRED_FIELD] is True


def test_expire_again_deletes_nothing(history: InfluxStore, tails: SeriesTails) -> None:
    expire(history, tails, Retention("main", DAYS))
    expiry = expire(history, tails, Retention("main", DAYS))
    assert (expiry.branch_points, expiry.pull_request_builds) == (0, 0)
    assert stored_builds(history) == {"main-old", "main-new", "branch-new"}


def test_long_retention_deletes_nothing(history: InfluxStore, tails: SeriesTails) -> None:
    expiry = expire(history, tails, Retention("main", 90))
    assert (expiry.branch_points, expiry.pull_request_builds) == (0, 0)
    assert stored_builds(history) == {build["build"]["id"] for build in HISTORY}


def test_pull_request_sharing_its_time_with_a_default_branch_build_is_kept(
        client: Any, system: InfluxStore, tails: SeriesTails) -> None:
    main = build("main-twin", "main", 5)
    twin = build("pr-twin", "main", 5, pr=9)
    twin["build"]["ci"] = "other-ci"
    twin["dimensions"] = {"dataset": "hsc_rc2", "filter": "g"}  # another series, same time
    post_all(client, [main, twin])
    expiry = expire(system, tails, Retention("main", DAYS))
    assert expiry.pull_request_builds == 0
    assert stored_builds(system) == {"main-twin", "pr-twin"}


def test_expire_drops_the_cached_history_of_other_branches_only(
        client: Any, system: InfluxStore, tails: SeriesTails) -> None:
    post_all(client, [build("main-old", "main", 10), build("branch-old", "tickets/DM-1", 9),
                      build("main-new", "main", 0.2), build("branch-new", "tickets/DM-1", 0.1)])
    cached = set(tails.redis.scan_iter(PREFIX + "*"))
    assert {key.rsplit("|", 1)[1] for key in cached} == {"main", "tickets/DM-1"}
    expire(system, tails, Retention("main", DAYS))
    left = set(tails.redis.scan_iter(PREFIX + "*"))
    assert left == {key for key in cached if key.endswith("|main")}


def test_build_api_of_an_expired_build_says_so(history: InfluxStore, tails: SeriesTails,
                                               short_app: Any) -> None:
    expire(history, tails, Retention("main", DAYS))
    answer = short_app.test_client().get("/api/v1/builds/github-actions/branch-old")
    assert answer.status_code == 200
    assert answer.json["results"] == []
    assert answer.json["expired"] == {
        "after_days": 1, "message": "this build's points expired after 1 day (branch retention)"}
    kept = short_app.test_client().get("/api/v1/builds/github-actions/main-old")
    assert kept.json["expired"] is None and len(kept.json["results"]) == 1


@pytest.mark.parametrize("build_id", ["branch-old", "pr-old", "pr-on-main-old"])
def test_build_page_of_an_expired_build_says_so(history: InfluxStore, tails: SeriesTails,
                                                short_app: Any, build_id: str) -> None:
    expire(history, tails, Retention("main", DAYS))
    page = short_app.test_client().get(f"/dash/builds/github-actions/{build_id}")
    assert page.status_code == 200
    assert "This build&#39;s points expired after 1 day (branch retention)." in page.text


def test_build_page_of_a_recent_branch_build_shows_its_points(
        history: InfluxStore, tails: SeriesTails, short_app: Any) -> None:
    expire(history, tails, Retention("main", DAYS))
    page = short_app.test_client().get("/dash/builds/github-actions/branch-new")
    assert page.status_code == 200
    assert "expired" not in page.text
    assert "validate_drp.PA1" in page.text


def test_reports_of_an_expired_build_say_so(history: InfluxStore, tails: SeriesTails,
                                            short_app: Any) -> None:
    expire(history, tails, Retention("main", DAYS))
    web = short_app.test_client()
    message = "this build's points expired after 1 day (branch retention)"
    report = web.get("/api/v1/report/github-actions/pr-old")
    assert report.status_code == 200
    assert report.json["builds"][0]["expired"]["message"] == message
    markdown = web.get("/api/v1/report/github-actions/pr-old?format=md")
    assert f"datasets: – — {message}" in markdown.text
    html = web.get("/dash/report/github-actions/pr-old")
    assert html.status_code == 200 and "expired after 1 day" in html.text
    named = web.get("/api/v1/report?build=github-actions/pr-old&build=github-actions/main-old")
    expired = {b["id"]: b.get("expired") for b in named.json["builds"]}
    assert expired["main-old"] is None and expired["pr-old"]["after_days"] == 1


@pytest.mark.parametrize(("build_id", "notice"), [("branch-old", True), ("main-old", False)])
def test_alert_page_says_when_its_build_expired(history: InfluxStore, tails: SeriesTails,
                                                short_app: Any, build_id: str,
                                                notice: bool) -> None:
    record = history.build_record("github-actions", build_id)
    assert record is not None
    branch, moment = record.build.branch, point_time(record.time)
    alert = Alert(f"alert-{build_id}", "regression", "warning", "validate_drp.PA1",
                  {"dataset": "hsc_rc2", "filter": "r"}, branch, "github-actions", build_id,
                  moment, "PA1 went up", unit="mmag", value=4.7)
    AlertLog(history).open([alert])
    expire(history, tails, Retention("main", DAYS))
    page = short_app.test_client().get(f"/dash/alerts/{alert.id}")
    assert page.status_code == 200
    assert ("this build&#39;s points expired after 1 day (branch retention)" in page.text) \
        is notice


def test_unknown_build_is_still_404(short_app: Any, system: InfluxStore) -> None:
    answer = short_app.test_client().get("/api/v1/builds/github-actions/never")
    assert answer.status_code == 404


def test_the_beat_runs_the_expiry_nightly(settings: Settings) -> None:
    schedule = create_celery(settings).conf.beat_schedule
    entry = next(entry for entry in schedule.values() if entry["task"] == EXPIRE_BRANCH_POINTS)
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {5} and entry["schedule"].minute == {0}


def test_the_worker_task_expires_with_the_setting(history: InfluxStore,
                                                  short_worker: Settings) -> None:
    app = create_celery(short_worker)
    registered = app.control.inspect(timeout=5).registered() or {}
    assert any(EXPIRE_BRANCH_POINTS in tasks for tasks in registered.values())
    app.send_task(EXPIRE_BRANCH_POINTS)
    # the marker of the run's last step, then what it deleted
    wait_for(lambda: pr_on_main_record(history).get(EXPIRED_FIELD) is True)
    assert stored_builds(history) == {"main-old", "main-new", "branch-new"}


def test_retention_setting_is_validated() -> None:
    assert Settings.from_env({}).branch_retention_days == 90
    assert Settings.from_env({"HARNESS_BRANCH_RETENTION_DAYS": "7"}).branch_retention_days == 7
    for value, message in (("soon", "whole number"), ("0", "must be positive"),
                           ("100000", "at most 36525")):
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({"HARNESS_BRANCH_RETENTION_DAYS": value})
        assert str(caught.value).startswith("HARNESS_BRANCH_RETENTION_DAYS: ")
        assert message in str(caught.value)

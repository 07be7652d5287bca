"""The running system with the demo history loaded, for a module of browser tests (its own
database, Redis db and blob folder, so other tests' clean-ups and other modules' clicks
never touch it), and what every page test checks and saves."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from harness.client.http import post_submissions, wait_until_processed
from harness.testing.pools import WorkerPools
from harness.testing.servers import GunicornServer, RedisServer
from harness.tools.demo import DemoEvents, demo_events, generate_history
from tests.browser.chromium import Browser
from tests.conftest import INGEST_SECRET, TRIAGE_SECRET, bearer, run_task
from workers import CHECK_MISSING, SCAN_CHANGE_POINTS

END = datetime(2026, 11, 20, 12, tzinfo=UTC)
NIGHTS = 120
# README screenshots: HARNESS_SCREENSHOT_DIR=docs/screenshots bin/test -k browser
SHOTS = Path(os.environ["HARNESS_SCREENSHOT_DIR"]) if os.environ.get(
    "HARNESS_SCREENSHOT_DIR") else None


class Demo:
    """The running system with the demo history loaded."""

    def __init__(self, url: str, events: DemoEvents) -> None:
        self.url, self.events = url, events

    def api(self, path: str, **params: Any) -> Any:
        response = requests.get(self.url + path, params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def blob_link(self, build: dict[str, Any], metric: str, **dimensions: str) -> str:
        """The drill-down link the build page shows for one result."""
        page = requests.get(f"{self.url}/dash/builds/{build['ci']}/{build['id']}", timeout=30)
        links = re.findall(r'href="(/dash/blobs/[^"]+)"', page.text)
        wanted = [f"metric={metric}", *(f"{k}={v}" for k, v in dimensions.items())]
        return next(link.replace("&amp;", "&") for link in links
                    if all(part in link for part in wanted))


@contextmanager
def running_demo(name: str, redis_db: int, redis_server: RedisServer,
                 harness_env: dict[str, str], servers_dir: Path) -> Iterator[Demo]:
    """A web process and a worker over database `harness_<name>` and Redis db `redis_db`,
    holding the demo history and what the scans of it find, missing data and change points
    (waited for)."""
    env = {**harness_env,
           "HARNESS_BROKER_URL": redis_server.url.rsplit("/", 1)[0] + f"/{redis_db}",
           "HARNESS_INFLUXDB_DATABASE": f"harness_{name}",
           "HARNESS_BLOB_DIR": str(servers_dir / f"{name}-blobs"),
           "HARNESS_SLACK_WEBHOOK_URL": ""}
    worker = WorkerPools(env, servers_dir / f"{name}-worker").start()
    web = GunicornServer(env, servers_dir / f"{name}-web", workers=2).start()
    try:
        summary = post_submissions(generate_history(nights=NIGHTS, end=END), web.url,
                                   INGEST_SECRET, progress=False)
        assert summary.rejected == 0
        wait_until_processed(web.url, summary.submission_ids, timeout=240)

        for scan, task in (("missing", CHECK_MISSING), ("change-points", SCAN_CHANGE_POINTS)):
            run_task(worker, task, functools.partial(_start_scan, web.url, scan), timeout_s=120)
        yield Demo(web.url, demo_events(nights=NIGHTS, end=END))
    finally:
        web.stop()
        worker.stop()


def _start_scan(url: str, scan: str) -> None:
    """Ask the harness to run one of its scheduled scans now."""
    answer = requests.post(f"{url}/api/v1/scans/{scan}", timeout=30, headers=bearer(TRIAGE_SECRET))
    assert answer.status_code == 202, answer.text


def shot(browser: Browser, name: str, tmp_path: Path) -> None:
    """Save what the browser shows (viewport size), for the README when asked."""
    path = (SHOTS or tmp_path) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    browser.driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000


def assert_clean_render(browser: Browser) -> None:
    """BokehJS drew the page, nothing went wrong in the console, nothing left the machine."""
    browser.wait_for_bokeh()
    assert browser.console_errors() == []
    assert browser.external_requests() == []
    assert browser.nonblank_canvases() >= 1

"""The demo history loaded once for every browser module (about two minutes of judging):
tests/browser/test_dashboards.py reads it, then tests/browser/test_triage_pages.py, which
runs after it (modules run in name order), triages it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.testing.servers import RedisServer
from tests.browser.demo import Demo, running_demo


@pytest.fixture(scope="package")
def demo(redis_server: RedisServer, harness_env: dict[str, str], servers_dir: Path
         ) -> Iterator[Demo]:
    """The demo history in its own database and Redis db, with the scans run."""
    with running_demo("dash", 7, redis_server, harness_env, servers_dir) as running:
        yield running

"""The overview and the release report read a bounded window of the history: the overview
the days before the branch's newest build, a page of rows at a time with a link to the
rest; the release report the latest build of each dataset in its window before the newest
build, its open alert summaries through the alert index."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from dashboards import views
from harness.alerting.alerts import Alert, alert_id
from harness.alerting.index import AlertIndex
from harness.alerting.log import AlertLog
from harness.report.collect import release_report
from harness.storage.influx import InfluxStore, Series
from harness.times import iso_z, parse_utc
from tests.conftest import post_all

T0 = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)


def job(build_id: str, at: timedelta, dataset: str,
        measurements: list[tuple[str, float, str | None]]) -> dict[str, Any]:
    """One nightly's submission of one dataset: (metric, value, filter) measurements."""
    units = {"validate_drp.PA1": "mmag", "validate_drp.AM1": "marcsec", "dm_latency.OTT1": "s"}
    return {
        "build": {"ci": "jenkins", "id": build_id, "branch": "main",
                  "time": (T0 + at).isoformat()},
        "dimensions": {"dataset": dataset},
        "measurements": [{"metric": metric, "value": value, "unit": units[metric],
                          **({"dimensions": {"filter": band}} if band else {})}
                         for metric, value, band in measurements],
    }


HISTORY = [
    # a dataset last measured two months before the newest build
    job("n0", timedelta(days=-60), "old_ds", [("validate_drp.PA1", 3.0, "g")]),
    job("n1", timedelta(days=-1), "hsc_rc2", [
        ("validate_drp.PA1", 2.5, "g"), ("validate_drp.PA1", 4.0, "r"),
        ("validate_drp.PA1", 4.5, "i"), ("validate_drp.AM1", 12.0, "r"),
        ("dm_latency.OTT1", 45.0, None)]),
    job("n2", timedelta(0), "hsc_rc2", [
        ("validate_drp.PA1", 2.6, "g"), ("validate_drp.PA1", 6.0, "r"),
        ("validate_drp.PA1", 4.4, "i"), ("validate_drp.AM1", 8.0, "r"),
        ("dm_latency.OTT1", 130.0, None)]),
]


class Reads:
    """Records each statement a store runs and the rows it returned."""

    def __init__(self, store: InfluxStore) -> None:
        self.statements: list[tuple[str, int]] = []
        self.original = store.query
        store.query = self  # type: ignore[method-assign]

    def __call__(self, statement: str, *args: Any, **kwargs: Any) -> list[Series]:
        found = self.original(statement, *args, **kwargs)
        self.statements.append((statement, sum(len(item.rows) for item in found)))
        return found

    def of_results(self) -> list[tuple[str, int]]:
        """The SELECTs of result points."""
        return [(s, rows) for s, rows in self.statements
                if s.startswith("SELECT") and "FROM results" in s]


@pytest.fixture
def history(client: Any, system: InfluxStore) -> InfluxStore:
    """The history above, judged and stored."""
    assert all(status["state"] == "done" for status in post_all(client, HISTORY))
    return system


def series_rows(page: str) -> list[str]:
    """The metric and series of each row of the overview's table."""
    return re.findall(r'<a class="metric-link" href="([^"]+)"', page)


def test_the_overview_shows_a_page_of_rows_and_links_to_the_rest(
        client: Any, history: InfluxStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PAGE", 2)
    reads = Reads(client.application.extensions["harness"].store)
    page = client.get("/dash/").text
    # every series measured in the window is counted; two are shown, ordered by metric
    assert "5 series measured in the 14 days before the newest build" in page
    rows = series_rows(page)
    assert len(rows) == 2
    assert rows[0].startswith("/dash/metrics/dm_latency.OTT1")
    assert rows[1].startswith("/dash/metrics/validate_drp.AM1")
    assert 'class="more" href="/dash/?page=2">3 more</a> — narrow by dataset' in page
    # every read of result points is bounded by the window; the page's points are of its
    # two series only (2 builds each), not of the metric further down
    selects = reads.of_results()
    assert selects and all("time >= $since" in statement for statement, _ in selects)
    recent = [(s, rows) for s, rows in selects if "LIMIT" in s]
    assert len(recent) == 1 and recent[0][1] == 2 * 2
    assert "validate_drp.PA1" not in page.split('id="series"')[1]

    second = client.get("/dash/?page=2").text
    assert len(series_rows(second)) == 2 and 'class="previous-page" href="/dash/"' in second
    last = client.get("/dash/?page=3").text
    assert len(series_rows(last)) == 1 and 'class="more"' not in last


def test_the_overview_narrows_by_dataset_filter_metric_and_window(
        client: Any, history: InfluxStore) -> None:
    assert len(series_rows(client.get("/dash/").text)) == 5
    assert len(series_rows(client.get("/dash/?metric=validate_drp.PA1").text)) == 3
    assert len(series_rows(client.get("/dash/?metric=validate_drp.").text)) == 4
    assert len(series_rows(client.get("/dash/?dataset=hsc_rc2&filter=r").text)) == 2
    # the dataset measured long ago is outside the default window, in a wider one
    widened = client.get("/dash/?days=90").text
    assert len(series_rows(widened)) == 6 and "dataset=old_ds" in widened
    assert "old_ds" in client.get("/dash/").text  # still offered as a filter value
    for bad in ("page=0", "days=x", "page=-1"):
        response = client.get(f"/dash/?{bad}")
        assert response.status_code == 422, bad


def test_the_release_report_reads_its_window_before_the_newest_build(
        client: Any, history: InfluxStore) -> None:
    reads = Reads(client.application.extensions["harness"].store)
    body = client.get("/api/v1/report?branch=main").get_json()
    assert [(b["id"], b["datasets"]) for b in body["builds"]] == [("n2", ["hsc_rc2"])]
    assert parse_utc(body["scope"]["since"]) == T0 - timedelta(days=30)
    assert body["scope"]["datasets_before_window"] == ["old_ds"]
    latest = [(s, rows) for s, rows in reads.of_results() if "last(value)" in s]
    assert latest and all("time >= $start" in s or "time < $time" in s for s, _ in latest)

    since = (T0 - timedelta(days=90)).isoformat()
    wider = client.get("/api/v1/report", query_string={"branch": "main", "since": since})
    assert [(b["id"], b["datasets"]) for b in wider.get_json()["builds"]] == [
        ("n0", ["old_ds"]), ("n2", ["hsc_rc2"])]
    assert wider.get_json()["scope"]["datasets_before_window"] == []
    assert client.get("/api/v1/report?branch=main&since=soon").status_code == 422


def test_the_release_report_reads_open_summaries_through_the_alert_index(
        client: Any, history: InfluxStore, redis_client: redis.Redis) -> None:
    log = AlertLog(history, AlertIndex(redis_client))
    dimensions = {"dataset": "hsc_rc2"}
    closed = [Alert(id=alert_id("dm_latency.OTT1", dimensions, "main", f"jenkins/old{day}",
                                "spec"),
                    kind="spec", severity="critical", metric="dm_latency.OTT1",
                    dimensions=dimensions, branch="main", build_ci="jenkins",
                    build_id=f"old{day}", time=iso_z(T0 - timedelta(days=100 + day)),
                    reason="OTT1 failed its spec", unit="s", value=150.0) for day in range(20)]
    log.open(closed)
    log.transition_many(closed, "resolved", "jane")
    catalog = client.application.extensions["harness"].catalog
    before = {cause["id"] for item in release_report(history, catalog, "main", alerts=log)
              .to_json()["requirements"] for cause in item["open_alert_summaries"]}
    reads = Reads(history)
    report = release_report(history, catalog, "main", alerts=log).to_json()
    causes = {cause["id"] for item in report["requirements"]
              for cause in item["open_alert_summaries"]}
    assert causes == before  # whatever the worker opened; none of the resolved ones
    alert_reads = [rows for statement, rows in reads.statements if "alert_events" in statement]
    assert sum(alert_reads) < len(closed)  # the live alerts' events, not the whole log

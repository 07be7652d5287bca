"""The alert list (GET /api/v1/alerts): its filters, its pages, and a 422 naming each bad
parameter; spec alerts raised by the real worker saying which spec they crossed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harness.alerting.alerts import Alert, Severity, alert_id
from harness.alerting.log import AlertLog
from harness.storage.influx import InfluxStore
from harness.web.api.alerts import MAX_LIMIT, PARAMETERS
from tests.conftest import post_all

START = datetime(2026, 9, 1, 3, 0, tzinfo=UTC)


def nightly(index: int, values: dict[str, float]) -> dict[str, Any]:
    """One nightly main build (jenkins n<index>) of some dm_latency metrics on hsc_rc2."""
    return {
        "build": {"ci": "jenkins", "id": f"n{index:03d}", "branch": "main",
                  "time": (START + timedelta(days=index)).isoformat()},
        "dimensions": {"dataset": "hsc_rc2"},
        "measurements": [{"metric": f"dm_latency.{name}", "value": value, "unit": "s"}
                         for name, value in values.items()],
    }


def listed(client: Any, **query: Any) -> dict[str, Any]:
    """The alert list's answer to a query, which must be a 200."""
    response = client.get("/api/v1/alerts", query_string=query)
    assert response.status_code == 200, response.json
    return dict(response.json)


def builds(answer: dict[str, Any]) -> list[str]:
    return [alert["build_id"] for alert in answer["alerts"]]


def test_spec_alerts_of_the_worker_filter_by_severity_build_and_branch(
        client: Any, system: InfluxStore) -> None:
    # OTT1: minimum 120 s, design 60 s; calProcTime: a design spec (1200 s) only
    post_all(client, [nightly(0, {"OTT1": 45.0, "calProcTime": 900.0}),
                      nightly(1, {"OTT1": 90.0, "calProcTime": 900.0}),
                      nightly(2, {"OTT1": 150.0, "calProcTime": 1500.0})])

    everything = listed(client)
    assert (everything["total"], everything["links"]) == (3, {})
    critical = listed(client, severity="critical")
    assert {(a["metric"], a["build_id"]) for a in critical["alerts"]} == {
        ("dm_latency.OTT1", "n002"), ("dm_latency.calProcTime", "n002")}
    reasons = {a["metric"]: a["reason"] for a in critical["alerts"]}
    assert reasons["dm_latency.calProcTime"] == (
        "dm_latency.calProcTime = 1500 s fails its design spec (<= 1200 s, "
        "dm_latency.calProcTime.design)")
    assert reasons["dm_latency.OTT1"] == (
        "dm_latency.OTT1 = 150 s fails the minimum spec (<= 120 s, dm_latency.OTT1.minimum)")
    [warning] = listed(client, severity="warning")["alerts"]
    assert warning["build_id"] == "n001"
    assert warning["reason"] == ("dm_latency.OTT1 = 90 s meets only the minimum spec "
                                 "(<= 120 s, dm_latency.OTT1.minimum), not design")
    assert listed(client, severity="info") == {"alerts": [], "total": 0, "links": {}}
    assert builds(listed(client, build="jenkins/n001")) == ["n001"]
    assert len(listed(client, build="jenkins/n002", metric="dm_latency.OTT1",
                      kind="spec", state="open", severity="critical")["alerts"]) == 1
    assert listed(client, build="github-actions/n002")["total"] == 0
    assert listed(client, branch="main")["total"] == 3
    assert listed(client, branch="tickets/DM-1")["total"] == 0


def literal_alerts(count: int) -> list[Alert]:
    """`count` alerts of one series, a build a day apart, severities in turn."""
    severities: tuple[Severity, ...] = ("critical", "warning", "info")
    return [Alert(
        id=alert_id("pkg.m", {}, "main", f"jenkins/b{day}", "regression"), kind="regression",
        severity=severities[day % 3], metric="pkg.m", dimensions={}, branch="main",
        build_ci="jenkins", build_id=f"b{day}",
        time=(START + timedelta(days=day)).isoformat().replace("+00:00", "Z"),
        reason=f"moved at b{day}", unit="", value=float(day)) for day in range(count)]


def follow(client: Any, query: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Every page of a list from its first, by `links.next`: the builds in order, and the
    next links followed."""
    answer = listed(client, **query)
    seen, links = builds(answer), []
    while "next" in answer["links"]:
        links.append(answer["links"]["next"])
        response = client.get(answer["links"]["next"])
        assert response.status_code == 200, response.json
        answer = response.json
        assert len(answer["alerts"]) <= int(query["limit"])
        seen += builds(answer)
    return seen, links


def test_pages_cover_the_list_once_in_order_and_keep_the_filters(
        client: Any, system: InfluxStore) -> None:
    AlertLog(system).open(literal_alerts(8))
    newest_first = [f"b{day}" for day in reversed(range(8))]

    whole = listed(client)
    assert (builds(whole), whole["total"], whole["links"]) == (newest_first, 8, {})
    first = listed(client, limit=3)
    assert (builds(first), first["total"]) == (newest_first[:3], 8)
    assert first["links"]["next"] == "/api/v1/alerts?limit=3&offset=3"
    seen, links = follow(client, {"limit": 3})
    assert seen == newest_first and len(links) == 2

    warnings = [b for b in newest_first if int(b[1:]) % 3 == 1]  # b7, b4, b1
    seen, links = follow(client, {"severity": "warning", "limit": 2})
    assert seen == warnings
    assert links == ["/api/v1/alerts?severity=warning&limit=2&offset=2"]
    beyond = listed(client, offset=8)
    assert (beyond["alerts"], beyond["total"], beyond["links"]) == ([], 8, {})
    last = listed(client, offset=7, limit=MAX_LIMIT)
    assert (builds(last), last["links"]) == (["b0"], {})


@pytest.mark.parametrize(("query", "paths"), [
    ("severity=fatal", ["severity"]),
    ("kind=bogus", ["kind"]),
    ("state=", ["state"]),
    ("build=n001", ["build"]),
    ("build=/n001", ["build"]),
    ("build=jenkins/", ["build"]),
    ("limit=0", ["limit"]),
    (f"limit={MAX_LIMIT + 1}", ["limit"]),
    ("limit=ten", ["limit"]),
    ("limit=%2B5", ["limit"]),
    ("offset=-1", ["offset"]),
    ("offset=", ["offset"]),
    ("page=2", ["page"]),
    ("Severity=critical", ["Severity"]),
    ("severity=warning&severity=critical", ["severity"]),
    ("sort=time&limit=x&severity=loud", ["sort", "severity", "limit"]),
])
def test_a_bad_query_is_a_422_naming_each_parameter(
        client: Any, system: InfluxStore, query: str, paths: list[str]) -> None:
    response = client.get(f"/api/v1/alerts?{query}")
    assert response.status_code == 422, response.json
    assert response.json["error"] == "bad query"
    assert [detail["path"] for detail in response.json["details"]] == paths
    assert all(detail["message"] for detail in response.json["details"])


def test_the_queries_that_worked_before_still_work(client: Any, system: InfluxStore) -> None:
    # what the tests, the browser tests and the hostile-input tests send
    for query in ("", "state=open", "kind=regression", "kind=spec", "kind=missing",
                  "kind=changepoint", "state=acknowledged", "metric=", "metric=%2F.%2A%2F",
                  "state=open&metric=dm_latency.OTT1",
                  "state=open&kind=regression&metric=validate_drp.AM1",
                  "kind=missing&metric=dm_latency.OTT1"):
        response = client.get(f"/api/v1/alerts?{query}")
        assert response.status_code == 200, (query, response.json)
        assert response.json == {"alerts": [], "total": 0, "links": {}}


def test_the_openapi_document_describes_every_parameter_the_list_takes(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").json
    parameters = {p["name"]: p for p in document["paths"]["/api/v1/alerts"]["get"]["parameters"]}
    assert tuple(parameters) == PARAMETERS
    assert parameters["severity"]["schema"]["enum"] == ["critical", "warning", "info"]
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1,
                                             "maximum": MAX_LIMIT, "default": 100}
    answer = document["components"]["schemas"]["AlertList"]
    assert answer["required"] == ["alerts", "total", "links"]

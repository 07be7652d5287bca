"""The dashboards in headless Chromium, against gunicorn + a Celery worker + redis-server +
influxd holding the demo history: pages load without console errors or requests leaving
loopback, BokehJS draws, clicks drill down from the overview to a blob."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from harness.times import parse_utc
from harness.tools.demo import FILTERS
from tests.browser.chromium import Browser
from tests.browser.demo import END, Demo, assert_clean_render, shot
from tests.conftest import ADMIN_SECRET, INGEST_SECRET, TRIAGE_SECRET

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as session:
        yield session


def open_alert(demo: Demo) -> dict[str, Any]:
    """The open regression the injected jointcal change caused (on an AM1 series)."""
    alerts = demo.api("/api/v1/alerts", state="open", kind="regression",
                      metric="validate_drp.AM1")["alerts"]
    assert alerts, "the demo's injected regression raised no alert"
    return alerts[0]


def test_overview_shows_every_series_and_filters_narrow_it(demo: Demo, browser: Browser,
                                                           tmp_path: Path) -> None:
    browser.get(demo.url + "/dash/", wait_for_css="#series")
    assert_clean_render(browser)
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#series tbody tr")
    assert len(rows) == 184  # 2 datasets × (14 metrics × 6 filters + 8 without filter)
    shot(browser, "overview", tmp_path)

    Select(browser.driver.find_element(By.NAME, "dataset")).select_by_visible_text("hsc_rc2")
    Select(browser.driver.find_element(By.NAME, "filter")).select_by_visible_text("r")
    browser.driver.find_element(By.CSS_SELECTOR, ".filters button").click()
    WebDriverWait(browser.driver, 15).until(lambda d: "dataset=hsc_rc2" in d.current_url)
    assert "filter=r" in browser.driver.current_url
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#series tbody tr")
    assert len(rows) == 14
    assert all("dataset=hsc_rc2" in row.text and "filter=r" in row.text for row in rows)


def test_click_path_from_the_overview_down_to_a_blob(demo: Demo, browser: Browser,
                                                     tmp_path: Path) -> None:
    browser.get(demo.url + "/dash/?branch=main&dataset=hsc_rc2&filter=r", wait_for_css="#series")
    browser.driver.find_element(By.LINK_TEXT, "validate_drp.AM1").click()
    WebDriverWait(browser.driver, 15).until(lambda d: "/dash/metrics/" in d.current_url)
    assert_clean_render(browser)
    assert "dataset=hsc_rc2" in browser.driver.current_url
    assert "filter=r" in browser.driver.current_url
    shot(browser, "metric", tmp_path)

    # a real click on one drawn point lands on that point's build
    data = browser.driver.execute_script(
        "const v = [...Bokeh.index.all_views()].find(v => v.model.name == 'points');"
        "const d = v.model.data_source.data;"
        "return {n: d.build_id.length, ids: Array.from(d.build_id)};")
    index = data["n"] // 3  # well away from the legend and from the injected regression
    position = browser.bokeh_point_position("points", index)
    browser.click_at(browser.driver.find_element(By.TAG_NAME, "html"), position.x, position.y)
    WebDriverWait(browser.driver, 15).until(lambda d: "/dash/builds/" in d.current_url)
    path = unquote(urlsplit(browser.driver.current_url).path)
    assert path == f"/dash/builds/jenkins/{data['ids'][index]}"
    assert_clean_render(browser)
    assert data["ids"][index] in browser.driver.find_element(By.TAG_NAME, "h1").text

    # from the build, the AM1 r result's detail blob
    links = browser.driver.find_elements(By.CSS_SELECTOR, "a.blob-link")
    wanted = [a for a in links if (href := a.get_attribute("href"))
              and "metric=validate_drp.AM1" in href and "filter=r" in href]
    assert len(wanted) == 1
    wanted[0].click()
    WebDriverWait(browser.driver, 15).until(lambda d: "/dash/blobs/" in d.current_url)
    assert_clean_render(browser)
    assert "signal-to-noise" in browser.driver.find_element(By.TAG_NAME, "h1").text
    crumbs = browser.driver.find_element(By.CSS_SELECTOR, ".crumbs").text
    assert "validate_drp.AM1" in crumbs and data["ids"][index] in crumbs


def test_snr_slider_recomputes_the_median_in_the_browser(demo: Demo, browser: Browser,
                                                         tmp_path: Path) -> None:
    build = demo.api(f"/api/v1/builds/jenkins/{demo.events.regression_build_id}")["build"]
    browser.get(demo.url + demo.blob_link(build, "validate_drp.AM1", filter="i"))
    assert_clean_render(browser)
    summary = browser.driver.execute_script(
        "return Bokeh.documents[0].get_model_by_name('summary').text")
    assert "SNR ≥ 50" in summary
    browser.driver.execute_script(
        "Bokeh.documents[0].get_model_by_name('snr-slider').value = 400")
    WebDriverWait(browser.driver, 10).until(lambda d: "SNR ≥ 400" in d.execute_script(
        "return Bokeh.documents[0].get_model_by_name('summary').text"))
    after = browser.driver.execute_script(
        "return Bokeh.documents[0].get_model_by_name('summary').text")
    counts = [re.search(r"of (\d+) stars", text) for text in (summary, after)]
    stars = [int(count[1]) for count in counts if count]
    assert len(stars) == 2, (summary, after)
    assert stars[1] < stars[0]
    assert browser.console_errors() == []
    shot(browser, "blob-scatter", tmp_path)


@pytest.mark.parametrize("template", ["histogram", "table"])
def test_other_drill_down_templates_render(demo: Demo, browser: Browser, tmp_path: Path,
                                           template: str) -> None:
    build = demo.api(f"/api/v1/builds/jenkins/{demo.events.regression_build_id}")["build"]
    metric = "validate_drp.PA1" if template == "histogram" else "pipe_tasks.runtime"
    link = demo.blob_link(build, metric, dataset="hsc_rc2")
    browser.get(demo.url + link + ("&template=table" if template == "table" else ""))
    if template == "table":
        browser.wait_for_bokeh(canvas=False)  # a table is HTML, not a canvas
        assert browser.console_errors() == [] and browser.external_requests() == []
        cells = browser.driver.execute_script(
            "return Bokeh.documents[0].get_model_by_name('table').source.data.per_ccd_s.length")
        assert cells == 20  # hsc_rc2 has 20 CCDs in the demo
    else:
        assert_clean_render(browser)
        assert "specs of the metric" in browser.driver.page_source
    shot(browser, f"blob-{template}", tmp_path)


def test_build_view_shows_the_change_that_caused_the_regression(demo: Demo, browser: Browser,
                                                                tmp_path: Path) -> None:
    build_id = demo.events.regression_build_id
    browser.get(f"{demo.url}/dash/builds/jenkins/{build_id}")
    assert_clean_render(browser)
    changes = browser.driver.find_element(By.CSS_SELECTOR, "table.changes").text
    assert demo.events.regression_package in changes
    compare = browser.driver.find_element(By.LINK_TEXT, "compare").get_attribute("href")
    assert compare is not None
    assert compare.startswith(f"https://github.com/lsst/{demo.events.regression_package}/compare/")
    results = browser.driver.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    stored = demo.api(f"/api/v1/builds/jenkins/{build_id}")["results"]
    assert len(results) == len(stored) == 184  # 92 measurements of each dataset
    shot(browser, "build", tmp_path)


def test_alert_view_explains_the_alert_and_triage_needs_a_token(demo: Demo, browser: Browser,
                                                                tmp_path: Path) -> None:
    alert = open_alert(demo)
    browser.get(f"{demo.url}/dash/alerts/{alert['id']}")
    assert_clean_render(browser)
    baseline = browser.driver.execute_script(
        "return Bokeh.documents[0].get_model_by_name('baseline').location")
    assert baseline == pytest.approx(alert["baseline"])
    shot(browser, "alert", tmp_path)

    form = browser.driver.find_element(By.ID, "triage")
    form.find_element(By.CSS_SELECTOR, "button[value=acknowledge]").click()
    WebDriverWait(browser.driver, 10).until(
        lambda d: "token" in d.find_element(By.CSS_SELECTOR, "output").text)
    form.find_element(By.NAME, "token").send_keys(INGEST_SECRET)  # wrong scope
    form.find_element(By.CSS_SELECTOR, "button[value=acknowledge]").click()
    WebDriverWait(browser.driver, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "output").text.startswith("403"))
    assert demo.api(f"/api/v1/alerts/{alert['id']}")["state"] == "open"

    field = browser.driver.find_element(By.NAME, "token")
    field.clear()
    field.send_keys(TRIAGE_SECRET)
    browser.driver.find_element(By.NAME, "note").send_keys("jointcal change, expected")
    browser.driver.find_element(By.CSS_SELECTOR, "button[value=acknowledge]").click()
    WebDriverWait(browser.driver, 10).until(  # the page reloads with the new state
        lambda d: "acknowledged" in d.execute_script("return document.querySelector('h1')"
                                                     "?.textContent || ''"))
    stored = demo.api(f"/api/v1/alerts/{alert['id']}")
    assert stored["state"] == "acknowledged"
    assert stored["history"][-1]["note"] == "jointcal change, expected"
    assert ADMIN_SECRET not in browser.driver.page_source


def test_pages_without_data_say_so_and_never_load_a_cdn(demo: Demo, browser: Browser) -> None:
    browser.get(f"{demo.url}/dash/builds/jenkins/no-such-build")
    assert "no build jenkins/no-such-build" in browser.driver.page_source
    browser.get(f"{demo.url}/dash/metrics/validate_drp.AM1?dataset=nowhere")
    assert "No series of validate_drp.AM1" in browser.driver.page_source
    assert browser.external_requests() == []
    scripts = [s.get_attribute("src") for s in
               browser.driver.find_elements(By.CSS_SELECTOR, "script[src]")]
    assert scripts and all(src and src.startswith(demo.url + "/dash/") for src in scripts)


def test_verification_report_from_the_overview_adds_up_and_drills_down(
    demo: Demo, browser: Browser, tmp_path: Path
) -> None:
    browser.get(demo.url + "/dash/", wait_for_css="#release-report")
    browser.driver.find_element(By.ID, "release-report").click()
    WebDriverWait(browser.driver, 15).until(lambda d: "/dash/report" in d.current_url)
    assert_clean_render(browser)
    api = demo.api("/api/v1/report", branch="main")
    # the demo posts both datasets of a nightly under one build id
    assert [(b["id"], b["datasets"]) for b in api["builds"]] == [
        ("nightly-2026-11-20", ["dc2_test_med", "hsc_rc2"])]

    # the fractions can be checked by hand: the summary counts the rows of the table
    summary = {row.get_attribute("data-status"): int(row.find_elements(By.TAG_NAME, "td")[1].text)
               for row in browser.driver.find_elements(By.CSS_SELECTOR,
                                                       "#summary tr[data-status]")}
    rows = [row.get_attribute("data-status") for row in
            browser.driver.find_elements(By.CSS_SELECTOR, "#requirements tbody tr")]
    assert len(rows) == 19 and sum(summary.values()) == 19
    assert summary == {status: rows.count(status) for status in summary} == api["summary"]["counts"]
    shot(browser, "report", tmp_path)
    browser.driver.execute_script(
        "document.querySelector('.plot').scrollIntoView({block: 'start'})")
    shot(browser, "report-requirements", tmp_path)

    # a click on a requirement's bar opens its cells; a cell opens its series
    requirements = [item["id"] for item in api["requirements"]]
    index = next(i for i, item in enumerate(api["requirements"])
                 if any(cell["verdict"] == "design" for cell in item["cells"]))
    position = browser.bokeh_point_position("bars-design", index)
    browser.click_at(browser.driver.find_element(By.TAG_NAME, "html"), position.x, position.y)
    anchor = "req-" + requirements[index]
    WebDriverWait(browser.driver, 15).until(lambda d: d.current_url.endswith("#" + anchor))
    section = browser.driver.find_element(By.ID, anchor)
    section.find_element(By.CSS_SELECTOR, "a.cell-link").click()
    WebDriverWait(browser.driver, 15).until(lambda d: "/dash/metrics/" in d.current_url)
    assert_clean_render(browser)


def test_build_report_links_and_printable_markdown(demo: Demo, browser: Browser) -> None:
    build_id = demo.events.regression_build_id
    browser.get(f"{demo.url}/dash/builds/jenkins/{build_id}", wait_for_css="#build-report")
    browser.driver.find_element(By.ID, "build-report").click()
    WebDriverWait(browser.driver, 15).until(lambda d: "/dash/report/jenkins/" in d.current_url)
    assert_clean_render(browser)
    assert f"build jenkins/{build_id}" in browser.driver.find_element(By.TAG_NAME, "h1").text
    markdown = browser.driver.find_element(By.ID, "report-markdown").get_attribute("href")
    assert markdown is not None
    text = requests.get(markdown, timeout=30).text
    assert text.startswith(f"# Verification report of build jenkins/{build_id}\n")
    # print media hides the navigation and keeps the report
    browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.driver.find_element(By.TAG_NAME, "header").is_displayed()
        assert browser.driver.find_element(By.ID, "requirements").is_displayed()
    finally:
        browser.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_the_demo_opens_to_a_few_causes_each_an_injected_event_or_a_recent_failure(
        demo: Demo, browser: Browser) -> None:
    events = demo.events
    causes = demo.api("/api/v1/alert-summaries", state="open")["summaries"]
    assert len(causes) <= 12, [(c["kind"], c["build"]["id"], c["counts"]) for c in causes]

    def the(kind: str, build: str) -> dict[str, Any]:
        found = [c for c in causes if c["kind"] == kind and c["build"]["id"] == build]
        assert len(found) == 1, (kind, build, [(c["kind"], c["build"]["id"]) for c in causes])
        return found[0]

    jointcal = the("regression", events.regression_build_id)
    assert jointcal["counts"] == {"validate_drp.AD1": 12, "validate_drp.AM1": 12}
    assert [change["package"] for change in jointcal["changes"]] == ["jointcal"]
    improvement = the("improvement", events.improvement_build_id)
    assert improvement["counts"] == {"validate_drp.PF1": 12}
    assert improvement["severity"] == "info"  # shown, not paged
    drift = [c for c in causes if c["kind"] == "regression"
             and set(c["counts"]) == {events.drifting_metric}]
    assert len(drift) == 1 and sum(drift[0]["counts"].values()) == 2
    assert drift[0]["build"]["time"] >= demo.api(
        f"/api/v1/builds/jenkins/{events.drift_build_id}")["build"]["time"]
    before_gap = f"nightly-{events.missing_night - timedelta(days=1)}"
    assert the("missing", before_gap)["counts"] == {"dm_latency.OTT1": 1, "validate_drp.PA1": 1}
    # the pull request that worsens PA1 is no alert: its build says so against main
    pr = demo.api(f"/api/v1/builds/github-actions/{events.pa1_pr_build_id}")
    worse = {r["dimensions"]["filter"] for r in pr["results"]
             if r["metric"] == "validate_drp.PA1" and r["excursion"]["decision"] == "regression"}
    assert worse == set(FILTERS)

    # every other cause is a spec alert of the last nights (the series has not met its
    # spec again for 3 builds yet), or a false excursion: at most a few
    told = {id(c) for c in (jointcal, improvement, *drift)} | {
        id(c) for c in causes if c["kind"] == "missing"}
    last_nights = (END - timedelta(days=3)).isoformat()
    others = [c for c in causes if id(c) not in told]
    recent_specs = [c for c in others if c["kind"] == "spec"
                    and parse_utc(c["build"]["time"]).isoformat() >= last_nights]
    assert len(others) - len(recent_specs) <= 2, others

    browser.get(demo.url + "/dash/alerts", wait_for_css="#causes")
    assert browser.console_errors() == [] and browser.external_requests() == []
    paged = sum(1 for c in causes if c["severity"] != "info")
    assert f"{paged} open causes to read" in browser.driver.find_element(By.TAG_NAME,
                                                                         "h1").text

"""The triage pages in headless Chromium, against the real servers holding the demo history:
the alerts page lists one row per cause and triages checked causes and alerts in bulk; a
cause's page draws each affected series around the onset, names the package change, and
triages the whole cause in one click; the overview and the build page show the regression
that stands, whatever the latest verdict."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.chromium import Browser
from tests.browser.demo import Demo, assert_clean_render, shot
from tests.conftest import TRIAGE_SECRET

pytestmark = pytest.mark.browser
TEXT_JS = "return document.querySelector(arguments[0])?.textContent.trim() ?? null"
SERIES_PLOTS_JS = ("return [...Bokeh.index.all_views()]"
                   ".filter((view) => view.model.name == 'series-plot').length")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as session:
        yield session


def jointcal_cause(demo: Demo) -> dict[str, Any]:
    """The summary of the regressions the injected jointcal change caused."""
    found = [s for s in demo.api("/api/v1/alert-summaries", kind="regression")["summaries"]
             if s["build"]["id"] == demo.events.regression_build_id]
    assert len(found) == 1, "the injected jointcal change is not one cause"
    return found[0]


def text_of(driver: Any, selector: str) -> str | None:
    """The text of an element, read in one step (a reload may replace it at any moment)."""
    return driver.execute_script(TEXT_JS, selector)


def click(browser: Browser, element: WebElement) -> None:
    """Click an element scrolled to the middle of the window (clear of the sticky bar)."""
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def enter_token(form: WebElement) -> None:
    field = form.find_element(By.NAME, "token")
    field.clear()
    field.send_keys(TRIAGE_SECRET)


def test_overview_and_build_page_show_the_standing_regression(demo: Demo,
                                                              browser: Browser) -> None:
    cause = jointcal_cause(demo)
    browser.get(demo.url + "/dash/?dataset=hsc_rc2", wait_for_css="#series")
    assert_clean_render(browser)
    marked = browser.driver.find_elements(By.CSS_SELECTOR, "#series tr[data-regression]")
    regressed = {(a["metric"], a["dimensions"].get("filter")) for a in cause["alerts"]
                 if a["dimensions"].get("dataset") == "hsc_rc2"}
    assert regressed and len(marked) >= len(regressed)
    links = {a.get_attribute("href") for a in browser.driver.find_elements(
        By.CSS_SELECTOR, "#series a.regressed")}
    assert demo.url + cause["links"]["html"] in links

    browser.get(f"{demo.url}/dash/builds/jenkins/{demo.events.regression_build_id}",
                wait_for_css="#causes")
    assert_clean_render(browser)
    causes = [b.get_attribute("data-summary") for b in browser.driver.find_elements(
        By.CSS_SELECTOR, "#causes tbody.summary")]
    assert cause["id"] in causes
    listed = browser.driver.find_element(By.ID, "build-alerts").get_attribute("innerHTML")
    assert all(f"/dash/alerts/{alert['id']}" in (listed or "") for alert in cause["alerts"])


def test_alerts_page_lists_causes_and_triages_checked_ones_in_bulk(
    demo: Demo, browser: Browser, tmp_path: Path
) -> None:
    browser.get(demo.url + "/dash/alerts", wait_for_css="#causes")
    assert browser.console_errors() == [] and browser.external_requests() == []
    listed = [str(b.get_attribute("data-summary")) for b in browser.driver.find_elements(
        By.CSS_SELECTOR, "tbody.summary")]
    api = demo.api("/api/v1/alert-summaries", state="open")["summaries"]
    assert sorted(listed) == sorted(s["id"] for s in api)
    paged = browser.driver.find_elements(By.CSS_SELECTOR, "#causes tbody.summary")
    assert browser.driver.find_element(By.ID, "unread").text.startswith(
        f"{len(paged)} open cause")

    # among the regressions (the jointcal one first: newest onset first), open the jointcal
    # cause, check two of its alerts and acknowledge those two
    browser.get(demo.url + "/dash/alerts?kind=regression", wait_for_css="#causes")
    cause = jointcal_cause(demo)
    body = browser.driver.find_element(By.CSS_SELECTOR,
                                       f'#causes tbody[data-summary="{cause["id"]}"]')
    click(browser, body.find_element(By.CSS_SELECTOR, "details > summary"))
    WebDriverWait(browser.driver, 10).until(
        lambda d: body.find_element(By.TAG_NAME, "details").get_attribute("open") is not None)
    boxes = body.find_elements(By.CSS_SELECTOR, "input.pick-alert")
    assert len(boxes) == len(cause["alerts"])
    picked = [box.get_attribute("value") for box in boxes[:2]]
    for box in boxes[:2]:
        click(browser, box)
    assert browser.driver.find_element(By.ID, "checked-count").text == "2 alerts checked"
    browser.driver.execute_script("window.scrollTo(0, 0)")
    shot(browser, "alerts", tmp_path)
    form = browser.driver.find_element(By.ID, "bulk-triage")
    enter_token(form)
    form.find_element(By.NAME, "note").send_keys("jointcal change, DM-1")
    form.find_element(By.CSS_SELECTOR, "button[value=acknowledge]").click()
    WebDriverWait(browser.driver, 15).until(  # the page reloads and says what it did
        lambda d: text_of(d, "#bulk-triage output") == "acknowledge: 2 alerts changed")
    states = {alert_id: demo.api(f"/api/v1/alerts/{alert_id}")["state"] for alert_id in picked}
    assert states == dict.fromkeys(picked, "acknowledged")
    assert demo.api(cause["links"]["self"])["state"] == "open"  # its other alerts are
    for alert_id in picked:  # the cause stays open across the reload, showing the states
        row = browser.driver.find_element(By.CSS_SELECTOR, f'tr[data-alert="{alert_id}"]')
        assert row.is_displayed() and row.get_attribute("data-state") == "acknowledged"

    # a whole other cause: checked, invalidated, gone from the open causes
    other = next(b for b in browser.driver.find_elements(By.CSS_SELECTOR, "tbody.summary")
                 if b.get_attribute("data-summary") != cause["id"])
    other_id = other.get_attribute("data-summary")
    click(browser, other.find_element(By.CSS_SELECTOR, "input.pick-summary"))
    browser.driver.find_element(By.CSS_SELECTOR, "#bulk-triage button[value=invalidate]").click()
    WebDriverWait(browser.driver, 15).until(
        lambda d: (text_of(d, "#bulk-triage output") or "").startswith("invalidate: "))
    assert demo.api(f"/api/v1/alert-summaries/{other_id}")["state"] == "invalid"
    assert not browser.driver.find_elements(By.CSS_SELECTOR,
                                            f'tbody[data-summary="{other_id}"]')
    assert browser.console_errors() == []


def test_summary_page_draws_each_series_and_triages_the_cause_in_one_click(
    demo: Demo, browser: Browser, tmp_path: Path
) -> None:
    cause = jointcal_cause(demo)
    browser.get(f"{demo.url}/dash/summaries/{cause['id']}", wait_for_css="#triage")
    assert_clean_render(browser)
    series = {(a["metric"], tuple(sorted(a["dimensions"].items()))) for a in cause["alerts"]}
    plots = browser.driver.execute_script(SERIES_PLOTS_JS)
    assert plots == len(series)
    assert browser.nonblank_canvases() >= plots
    changes = browser.driver.find_element(By.CSS_SELECTOR, "table.changes")
    assert demo.events.regression_package in changes.text
    compare = changes.find_element(By.LINK_TEXT, "compare").get_attribute("href") or ""
    assert compare.startswith(f"https://github.com/lsst/{demo.events.regression_package}/")
    shot(browser, "summary", tmp_path)

    form = browser.driver.find_element(By.ID, "triage")
    enter_token(form)
    form.find_element(By.CSS_SELECTOR, "button[value=acknowledge]").click()
    WebDriverWait(browser.driver, 15).until(  # the page reloads with the new state
        lambda d: text_of(d, "#summary-state") == "acknowledged")
    stored = demo.api(cause["links"]["self"])
    assert stored["state"] == "acknowledged"
    assert {a["state"] for a in stored["alerts"]} == {"acknowledged"}

    owner = browser.driver.find_element(By.ID, "owner")
    owner.find_element(By.NAME, "assignee").send_keys("Jo Sheriff")
    owner.find_element(By.NAME, "bug_url").send_keys("https://jira.example.org/DM-1")
    owner.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser.driver, 15).until(
        lambda d: text_of(d, "#assignee") == "Jo Sheriff")
    stored = demo.api(cause["links"]["self"])
    assert (stored["assignee"], stored["bug_url"]) == ("Jo Sheriff",
                                                       "https://jira.example.org/DM-1")
    assert browser.console_errors() == []

"""The browser-test helper against real pages served on loopback, Bokeh's among them."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from bokeh.embed import file_html
from bokeh.models import ColumnDataSource, OpenURL, TapTool
from bokeh.plotting import figure
from bokeh.resources import INLINE
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from harness.testing.http_stub import serving
from tests.browser.chromium import Browser

pytestmark = pytest.mark.browser

CANVAS_PAGE = """<!doctype html>
<html><body style="margin: 0">
<canvas id="drawing" width="300" height="200"></canvas>
<button id="log">log</button> <button id="throw">throw</button>
<script>
  const canvas = document.getElementById("drawing");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#1f77b4";
  ctx.fillRect(20, 20, 100, 60);
  canvas.addEventListener("click", (event) => { window.clicked = [event.offsetX, event.offsetY]; });
  document.getElementById("log").onclick = () => console.error("button says no");
  document.getElementById("throw").onclick = () => { throw new Error("button threw"); };
</script>
</body></html>
"""
EMPTY_CANVAS_PAGE = ('<!doctype html><html><body><canvas width="300" height="200"></canvas>'
                     "</body></html>")
EXTERNAL_PAGE = '<!doctype html><html><body><img src="http://203.0.113.1/x.png"></body></html>'
TALL_PAGE = """<!doctype html>
<html><body>
<div style="height: 3000px">tall</div>
<div id="low" style="height: 100px; background: #eee"></div>
<script>
  document.getElementById("low").addEventListener(
    "click", (event) => { window.clicked = [event.offsetX, event.offsetY]; });
</script>
</body></html>
"""
CHATTY_PAGE = """<!doctype html>
<html><body><script>
  setInterval(() => {
    new Image().src = `http://198.51.100.7/poll.png?${Date.now()}`;
    console.error("still polling");
  }, 5);
</script></body></html>
"""
TARGET_PAGE = "<!doctype html><html><body><p id='target'>target</p></body></html>"
POINTS = {"x": [1, 2, 3, 4, 5], "y": [3, 1, 4, 1.5, 5], "i": [0, 1, 2, 3, 4]}


def plot_page() -> str:
    """A standalone Bokeh scatter with BokehJS inlined; tapping a point opens its target."""
    plot = figure(width=600, height=400, tools="")
    plot.scatter("x", "y", source=ColumnDataSource(POINTS), size=24, name="points")
    plot.add_tools(TapTool(callback=OpenURL(url="/target.html?i=@i", same_tab=True)))
    return file_html(plot, INLINE, "points")


def files_in(root: Path) -> type[SimpleHTTPRequestHandler]:
    """A quiet handler serving the files under root."""

    class SiteFiles(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return SiteFiles


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the test pages on a free loopback port."""
    root = tmp_path_factory.mktemp("site")
    pages = {"canvas.html": CANVAS_PAGE, "empty.html": EMPTY_CANVAS_PAGE,
             "external.html": EXTERNAL_PAGE, "tall.html": TALL_PAGE,
             "chatty.html": CHATTY_PAGE, "target.html": TARGET_PAGE, "plot.html": plot_page()}
    for name, html in pages.items():
        (root / name).write_text(html, encoding="utf-8")
    with serving(files_in(root)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module."""
    with Browser() as chromium:
        yield chromium


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header; fails on anything but a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_console_errors_start_empty_then_hold_logged_errors(browser: Browser, site: str):
    browser.get(f"{site}/canvas.html", wait_for_css="#log")
    assert browser.console_errors() == []

    browser.click_at(browser.driver.find_element(By.ID, "log"), 5, 5)

    assert any("button says no" in message for message in browser.console_errors())


def test_console_errors_hold_uncaught_exceptions(browser: Browser, site: str):
    browser.get(f"{site}/canvas.html", wait_for_css="#throw")

    browser.click_at(browser.driver.find_element(By.ID, "throw"), 5, 5)

    assert any("Uncaught Error: button threw" in message for message in browser.console_errors())


def test_get_resets_console_errors(browser: Browser, site: str):
    browser.get(f"{site}/canvas.html", wait_for_css="#log")
    browser.click_at(browser.driver.find_element(By.ID, "log"), 5, 5)
    assert browser.console_errors()

    browser.get(f"{site}/canvas.html", wait_for_css="#log")

    assert browser.console_errors() == []


def test_click_at_measures_from_the_top_left_corner(browser: Browser, site: str):
    browser.get(f"{site}/canvas.html", wait_for_css="#drawing")

    browser.click_at(browser.driver.find_element(By.ID, "drawing"), 30, 40)

    assert browser.driver.execute_script("return window.clicked") == [30, 40]


def test_click_at_scrolls_to_a_point_below_the_fold(browser: Browser, site: str):
    browser.get(f"{site}/tall.html", wait_for_css="#low")

    browser.click_at(browser.driver.find_element(By.ID, "low"), 10, 20)

    assert browser.driver.execute_script("return window.clicked") == [10, 20]


def test_nonblank_canvases_counts_drawn_canvases_only(browser: Browser, site: str):
    browser.get(f"{site}/canvas.html")
    assert browser.nonblank_canvases() == 1

    browser.get(f"{site}/empty.html")
    assert browser.nonblank_canvases() == 0


def test_bokeh_plot_renders_without_errors_or_external_requests(browser: Browser, site: str):
    browser.get(f"{site}/plot.html")

    browser.wait_for_bokeh()

    assert browser.nonblank_canvases() >= 1
    assert browser.console_errors() == []
    assert f"{site}/plot.html" in browser.requests()
    assert browser.external_requests() == []


def test_wait_for_bokeh_times_out_without_bokeh(browser: Browser, site: str):
    browser.get(f"{site}/canvas.html")

    with pytest.raises(TimeoutException, match="BokehJS did not finish rendering"):
        browser.wait_for_bokeh(timeout=1)


@pytest.mark.parametrize("index", [0, 3])
def test_clicking_a_bokeh_point_opens_its_url(browser: Browser, site: str, index: int):
    browser.get(f"{site}/plot.html")
    browser.wait_for_bokeh()
    point = browser.bokeh_point_position("points", index)

    browser.click_at(browser.driver.find_element(By.TAG_NAME, "html"), point.x, point.y)

    WebDriverWait(browser.driver, 10).until(lambda driver: "target.html" in driver.current_url)
    assert browser.driver.current_url == f"{site}/target.html?i={index}"


def test_external_requests_lists_requests_that_leave_loopback(browser: Browser, site: str):
    browser.get(f"{site}/external.html")

    assert browser.external_requests() == ["http://203.0.113.1/x.png"]
    assert f"{site}/external.html" in browser.requests()
    assert any("http://203.0.113.1/x.png" in message for message in browser.console_errors())


def test_get_leaves_the_previous_pages_requests_and_errors_behind(browser: Browser, site: str):
    browser.get(f"{site}/chatty.html")
    WebDriverWait(browser.driver, 5).until(lambda driver: len(browser.external_requests()) > 5)

    browser.get(f"{site}/target.html")

    assert f"{site}/target.html" in browser.requests()
    assert browser.external_requests() == []
    assert browser.console_errors() == []


def test_screenshot_writes_the_whole_page_as_png(browser: Browser, site: str, tmp_path: Path):
    browser.get(f"{site}/tall.html")

    path = browser.screenshot(tmp_path / "shots" / "tall.png")

    width, height = png_size(path)
    assert width == 1400
    assert height >= 3000
    assert path.stat().st_size > 1000


def test_screenshot_of_a_bokeh_plot(browser: Browser, site: str, tmp_path: Path):
    browser.get(f"{site}/plot.html")
    browser.wait_for_bokeh()

    path = browser.screenshot(tmp_path / "plot.png")

    assert png_size(path)[0] == 1400
    assert path.stat().st_size > 5000


def test_close_removes_the_profile():
    chromium = Browser(width=800, height=600)
    profile = chromium.profile
    assert profile.is_dir()

    chromium.close()

    assert not profile.exists()

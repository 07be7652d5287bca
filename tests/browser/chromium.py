"""Debian's headless Chromium for browser tests: requests, console errors, BokehJS rendering."""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-quic",
    "--force-device-scale-factor=1",
    # Layout width stays the window width, and full-page screenshots leave the layout alone.
    "--hide-scrollbars",
    # No name (nor IP literal) but loopback resolves: a page's external request is still
    # recorded, then fails at once instead of leaving the machine or hanging the load.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, "
    "EXCLUDE [::1]",
)
# Requests for these never reach a network host.
LOCAL_SCHEMES = {"data", "blob", "about", "chrome", "chrome-untrusted", "chrome-extension",
                 "devtools", "file"}
# Chromium fetches /favicon.ico by itself; its 404 says nothing about the page under test.
IMPLICIT_FAVICON = re.compile(r"^\S+://[^/\s]+/favicon\.ico - Failed to load resource")

# Every <canvas>, including those inside shadow roots (BokehJS 3 puts its canvases there).
CANVASES_JS = """
function canvases(root) {
  const found = [];
  for (const el of root.querySelectorAll("*")) {
    if (el instanceof HTMLCanvasElement) found.push(el);
    if (el.shadowRoot != null) found.push(...canvases(el.shadowRoot));
  }
  return found;
}
"""
# BokehJS 3.9: Bokeh.index is a ViewManager of the root views; a document turns is_idle once
# every root view has_finished() (i.e. painted at least once).
BOKEH_RENDERED_JS = CANVASES_JS + """
const Bokeh = window.Bokeh;
if (Bokeh == null || Bokeh.documents.length == 0) return false;
const idle = Bokeh.documents.every((doc) => doc.roots().length > 0 && doc.is_idle);
const roots = Bokeh.index.roots;
return idle && roots.length > 0 && roots.every((view) => view.has_finished())
  && (!arguments[0] || canvases(document).length > 0);
"""
# A copy into a fresh 2d canvas reads 2d and WebGL canvases alike.
NONBLANK_CANVASES_JS = CANVASES_JS + """
function is_blank(canvas) {
  const {width, height} = canvas;
  if (width == 0 || height == 0) return true;
  const copy = document.createElement("canvas");
  copy.width = width;
  copy.height = height;
  const ctx = copy.getContext("2d", {willReadFrequently: true});
  ctx.drawImage(canvas, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const pixels = new Uint32Array(rgba.buffer);
  if (pixels.some((pixel) => pixel != pixels[0])) return false;
  const [r, g, b, a] = rgba;
  return a == 0 || (r == 255 && g == 255 && b == 255);
}
return canvases(document).filter((canvas) => !is_blank(canvas)).length;
"""
# sx/sy of a glyph view are in CSS px of its plot's canvas.
POINT_POSITION_JS = """
const [name, index] = arguments;
const views = [...window.Bokeh.index.all_views()]
  .filter((view) => view.model.name == name && view.glyph != null);
if (views.length != 1) {
  throw new Error(`expected one glyph renderer named '${name}', found ${views.length}`);
}
const [view] = views;
const glyph = view.glyph;
// markers have a screen position; bars (hbar, vbar, rect) a screen box: take its centre
const sx = glyph.sx ?? glyph.sleft.map((left, i) => (left + glyph.sright[i]) / 2);
const sy = glyph.sy ?? glyph.stop.map((top, i) => (top + glyph.sbottom[i]) / 2);
if (!(index >= 0 && index < sx.length)) {
  throw new Error(`'${name}' has ${sx.length} points, not an index ${index}`);
}
const [x, y] = [sx[index], sy[index]];
const {x0, y0, x1, y1} = view.plot_view.frame.bbox;
if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) {
  throw new Error(`point ${index} of '${name}' lies outside its plot's frame`);
}
const canvas = view.plot_view.canvas_view.primary.canvas.getBoundingClientRect();
// relative to the document, so that it stays right however the page is scrolled
return {x: canvas.left + x + window.scrollX, y: canvas.top + y + window.scrollY};
"""
# Scrolls the target point into the viewport if needed; the element's top-left after that.
SCROLL_TO_POINT_JS = """
const [el, x, y] = arguments;
let rect = el.getBoundingClientRect();
const [vx, vy] = [rect.left + x, rect.top + y];
if (vx < 0 || vy < 0 || vx >= window.innerWidth || vy >= window.innerHeight) {
  window.scrollBy(vx - window.innerWidth / 2, vy - window.innerHeight / 2);
  rect = el.getBoundingClientRect();
}
return [rect.left, rect.top];
"""


@dataclass(frozen=True)
class Point:
    """A position in CSS px from the viewport's top-left corner."""

    x: float
    y: float


def is_external(url: str) -> bool:
    """Whether fetching url would leave the machine."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES or parts.hostname is None:
        return False
    if parts.hostname == "localhost" or parts.hostname.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return True


class Browser:
    """Headless Chromium driven by ChromeDriver, recording each page's requests and console."""

    def __init__(self, width: int = 1400, height: int = 1000) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}",
                     f"--window-size={width},{height}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        options.add_experimental_option("perfLoggingPrefs",
                                        {"enableNetwork": True, "enablePage": False})
        try:
            self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        except BaseException:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self._requests: list[str] = []
        self._console: list[dict[str, Any]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Quit Chromium and remove its profile."""
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def get(self, url: str, wait_for_css: str | None = None, timeout: float = 15) -> None:
        """Open url with fresh request and console records; wait until it has loaded."""
        self.driver.set_page_load_timeout(timeout)
        # ChromeDriver reads DevTools events lazily: leaving the old page first brings in all of
        # its entries, so that none of them lands in the new page's records.
        self.driver.get("about:blank")
        self._collect()
        self._requests.clear()
        self._console.clear()
        self.driver.get(url)
        wait = WebDriverWait(self.driver, timeout)
        wait.until(lambda driver: driver.execute_script("return document.readyState")
                   == "complete", f"{url} did not finish loading")
        if wait_for_css is not None:
            wait.until(expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, wait_for_css)), f"no {wait_for_css!r} on {url}")

    def requests(self) -> list[str]:
        """URLs of every request the page made since the last get()."""
        self._collect()
        return list(self._requests)

    def external_requests(self) -> list[str]:
        """The requests() whose host is not loopback."""
        return [url for url in self.requests() if is_external(url)]

    def console_errors(self) -> list[str]:
        """SEVERE console messages (console.error, uncaught exceptions, failed loads)."""
        self._collect()
        return [entry["message"] for entry in self._console
                if entry["level"] == "SEVERE" and not IMPLICIT_FAVICON.match(entry["message"])]

    def wait_for_bokeh(self, timeout: float = 15, canvas: bool = True) -> None:
        """Wait until BokehJS has rendered every document on the page (into a canvas,
        unless `canvas` is false: a page of widgets only, such as a table)."""
        try:
            WebDriverWait(self.driver, timeout).until(
                lambda driver: driver.execute_script(BOKEH_RENDERED_JS, canvas))
        except TimeoutException as error:
            raise TimeoutException(f"BokehJS did not finish rendering within {timeout} s; "
                                   f"console errors: {self.console_errors()}") from error

    def nonblank_canvases(self) -> int:
        """How many canvases (shadow DOM included) hold more than a blank background."""
        return int(self.driver.execute_script(NONBLANK_CANVASES_JS))

    def bokeh_point_position(self, renderer_name: str, index: int) -> Point:
        """Where BokehJS drew point `index` of the named glyph renderer, in CSS px from the
        document's top-left corner (click it with click_at on the `html` element)."""
        position = self.driver.execute_script(POINT_POSITION_JS, renderer_name, index)
        return Point(position["x"], position["y"])

    def click_at(self, element: WebElement, x: float, y: float) -> None:
        """Click the real mouse at (x, y) CSS px from the element's top-left corner."""
        left, top = self.driver.execute_script(SCROLL_TO_POINT_JS, element, x, y)
        # Pointer moves relative to the viewport are exact; element-relative ones start from
        # the centre of the element's visible part.
        actions = ActionChains(self.driver)
        actions.w3c_actions.pointer_action.move_to_location(round(left + x), round(top + y))
        actions.w3c_actions.pointer_action.click()
        actions.perform()

    def screenshot(self, path: Path | str) -> Path:
        """Save a PNG of the whole page, beyond the viewport; returns its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                     "scale": 1},
        })
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def _collect(self) -> None:
        """Move ChromeDriver's buffered logs into this page's records."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self._requests.append(message["params"]["request"]["url"])
        self._console.extend(self.driver.get_log("browser"))

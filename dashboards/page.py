"""The shared page: one layout template, breadcrumbs, BokehJS from the installed package."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bokeh
from bokeh.embed import components
from bokeh.resources import Resources
from flask import render_template
from markupsafe import Markup

# The JS bundles the pages use, served by the web process itself (never a CDN).
BOKEH_JS = Resources(mode="server", root_url="/dash/",
                     components=["bokeh", "bokeh-widgets", "bokeh-tables"])
BOKEH_STATIC = Path(bokeh.__file__).parent / "server" / "static"
VERSION = bokeh.__version__

Crumbs = Sequence[tuple[str, str | None]]


def page(template: str, crumbs: Crumbs, **values: Any) -> str:
    """A dashboard page: the template inside the shared layout."""
    scripts = [f"{url}?v={VERSION}" for url in BOKEH_JS.js_files]
    return render_template(template, crumbs=crumbs, bokeh_scripts=scripts, **values)


def embed(layout: Any) -> dict[str, Markup] | None:
    """A Bokeh layout as the script and div a template places (None stays None)."""
    if layout is None:
        return None
    script, div = components(layout)
    return {"script": Markup(script), "div": Markup(div)}

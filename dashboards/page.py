"""The shared page: one layout template, breadcrumbs, BokehJS from the installed package."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bokeh
from bokeh.embed import components
from bokeh.resources import Resources
from bokeh.settings import settings
from flask import render_template
from markupsafe import Markup

# The JS bundles the pages use, served by the web process itself (never a CDN).
BOKEH_JS = Resources(mode="server", root_url="/dash/",
                     components=["bokeh", "bokeh-widgets", "bokeh-tables"])
BOKEH_STATIC = Path(bokeh.__file__).parent / "server" / "static"
VERSION = bokeh.__version__

# Bokeh checks the integrity of every document it serialises (a fifth of `components()`); the
# figures are checked once by the tests instead (decision 86). BOKEH_VALIDATE_DOC=true keeps it.
if "BOKEH_VALIDATE_DOC" not in os.environ:
    settings.perform_document_validation.set_value(False)

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

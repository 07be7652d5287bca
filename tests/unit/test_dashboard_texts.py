"""The dashboards' shared template macros on literal values (dashboards/templates)."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).resolve().parents[2] / "dashboards" / "templates"


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (4.7, "mmag", "4.7 mmag"), (4.7, "", "4.7"), (None, "s", "–"), (1234.5678, "s", "1235 s"),
])
def test_a_value_is_shown_with_its_unit_and_no_space_without_one(
        value: float | None, unit: str, shown: str) -> None:
    macros = Environment(loader=FileSystemLoader(TEMPLATES)).get_template("macros.html")
    assert str(macros.module.value(value, unit)) == shown  # type: ignore[attr-defined]

"""The catalog's data on literal metrics (harness.catalog.model, .inheritance)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.catalog import Catalog, Metric, Requirement, Spec
from harness.catalog.inheritance import merge
from harness.catalog.model import parse_cadence

from ..examples import CATALOG, PA1, RUNTIME


@pytest.mark.parametrize(("text", "seconds"), [
    ("36h", 129_600.0), ("1d", 86_400.0), ("90m", 5_400.0), (" 45 s ", 45.0), ("1.5h", 5400.0),
])
def test_a_cadence_in_seconds(text: str, seconds: float) -> None:
    assert parse_cadence(text) == seconds


@pytest.mark.parametrize("text", ["weekly", "1w", "-1h", "h", ""])
def test_a_cadence_that_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration like 36h"):
        parse_cadence(text)


@pytest.mark.parametrize(("operator", "value", "met"), [
    ("<", 5.0, False), ("<=", 5.0, True), (">", 5.0, False), (">=", 5.0, True),
    ("==", 5.0, True), ("!=", 5.0, False), ("<", 4.9, True),
])
def test_a_spec_is_met_by_the_operator(operator: str, value: float, met: bool) -> None:
    assert Spec("p.m.s", "p.m", "design", operator, 5.0).is_met_by(value) is met


def test_a_spec_applies_when_every_condition_matches() -> None:
    spec = Spec("p.m.s", "p.m", "design", "<=", 5.0,
                {"filter": frozenset({"u", "z"}), "dataset": frozenset({"hsc"})})
    assert spec.applies_to({"filter": "u", "dataset": "hsc", "visit": "1"})
    assert not spec.applies_to({"filter": "u"})
    assert not spec.applies_to({"filter": "r", "dataset": "hsc"})
    assert spec.to_json()["metadata_query"] == {"filter": ["u", "z"], "dataset": ["hsc"]}


def test_requirements_are_traced_declared_first_then_those_only_named() -> None:
    catalog = Catalog(
        metrics={"p.b": Metric("p.b", "s", "lower", requirements=("R-2", "R-9")),
                 "p.a": Metric("p.a", "s", "lower", requirements=("R-2",))},
        requirements={"R-2": Requirement("R-2", "Two"), "R-1": Requirement("R-1", "One")})
    traced = catalog.traced_requirements()
    assert list(traced) == ["R-2", "R-1", "R-9"]
    assert [m.name for m in traced["R-2"][1]] == ["p.a", "p.b"]
    assert traced["R-1"][1] == () and traced["R-9"][0] == Requirement("R-9")


def test_inline_metrics_never_replace_catalog_ones() -> None:
    inline = replace(PA1, unit="s", source="inline")
    new = Metric("ap.latency", "s", "lower", source="inline")
    merged = CATALOG.with_metrics([inline, new])
    assert merged.get(PA1.name) == PA1 and merged.get("ap.latency") == new
    assert CATALOG.get("ap.latency") is None


def test_a_metric_as_json_shows_its_specs_and_detection() -> None:
    shown = PA1.to_json()
    assert [spec["level"] for spec in shown["specs"]] == ["minimum", "design", "stretch"]
    assert shown["detection"]["enabled"] is True and shown["source"] == "catalog"
    assert RUNTIME.package == "pipe_tasks"


def test_merging_documents_overrides_scalars_appends_lists_and_merges_mappings() -> None:
    lower = {"unit": "s", "tags": ["a", "b"], "threshold": {"unit": "s", "operator": "<="}}
    upper = {"unit": "ms", "tags": ["b", "c"], "threshold": {"value": 3}}
    assert merge(lower, upper) == {"unit": "ms", "tags": ["a", "b", "c"],
                                   "threshold": {"unit": "s", "operator": "<=", "value": 3}}
    assert lower["tags"] == ["a", "b"]

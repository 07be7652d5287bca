"""A metric's `detection:` settings from YAML values or text (harness.catalog.detection)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.catalog import DetectionSettings, parse_detection
from harness.errors import CatalogError


def problems(raw: Any, unit: str = "s") -> dict[str, str]:
    with pytest.raises(CatalogError) as caught:
        parse_detection(raw, unit, "ap.yaml.latency.detection")
    return {p.path.removeprefix("ap.yaml.latency.detection"): p.message
            for p in caught.value.problems}


@pytest.mark.parametrize("raw", [False, "off", " OFF "])
def test_detection_can_be_switched_off(raw: Any) -> None:
    assert parse_detection(raw, "s", "x") == DetectionSettings(enabled=False)


def test_an_empty_mapping_keeps_the_defaults() -> None:
    assert parse_detection({}, "s", "x") == DetectionSettings()


@pytest.mark.parametrize(("raw", "overrides"), [
    ({"threshold": "4"}, {"threshold": 4.0}),
    ({"threshold": 4}, {"threshold": 4}),
    ({"persistence": "2"}, {"persistence": 2}),
    ({"scan": "4, 8,16"}, {"scan": (4, 8, 16)}),
    ({"scan": [6, 12]}, {"scan": (6, 12)}),
    ({"min_effect": "2%"}, {"min_relative": 0.02}),
    ({"min_effect": "500 ms"}, {"min_absolute": 0.5}),
    ({"min_effect": ["1%", "2 min"]}, {"min_relative": 0.01, "min_absolute": 120.0}),
    ({"window": 9, "min_history": "9"}, {"window": 9, "min_history": 9}),
])
def test_settings_become_detection_parameters(raw: dict[str, Any],
                                              overrides: dict[str, Any]) -> None:
    assert dict(parse_detection(raw, "s", "x").overrides) == pytest.approx(overrides)


def test_a_dimensionless_metric_takes_a_bare_number_as_absolute() -> None:
    assert dict(parse_detection({"min_effect": 0.5}, "", "x").overrides) == {
        "min_absolute": 0.5}


@pytest.mark.parametrize(("raw", "key", "message"), [
    ({"threshold": 0}, ".threshold", "must be a number > 0"),
    ({"threshold": True}, ".threshold", "must be a number > 0"),
    ({"threshold": "nan"}, ".threshold", "must be a number > 0"),
    ({"window": 8}, ".window", "must be an integer >= 9"),
    ({"persistence": 1.5}, ".persistence", "must be an integer >= 1"),
    ({"scan": []}, ".scan", "non-empty list"),
    ({"min_effect": "0.5"}, ".min_effect", "needs a unit (like 0.5 s) or %"),
    ({"min_effect": ["1%", "2%"]}, ".min_effect", "gives two relative shifts"),
    ({"min_effect": "-1%"}, ".min_effect", "finite number >= 0"),
    ({"min_effect": "2 mmag"}, ".min_effect", "mmag does not convert to s"),
    ({"sensitivity": 3}, ".sensitivity", "not a detection setting (known: threshold,"),
])
def test_a_bad_setting_is_named_with_its_key(raw: dict[str, Any], key: str,
                                             message: str) -> None:
    found = problems(raw)
    assert key in found and message in found[key], found


def test_settings_that_break_each_other_are_named_at_the_one_given() -> None:
    assert problems({"persistence": 30}) == {
        ".persistence": "must be at most the longest scan window (21)"}
    assert problems({"span": 10}) == {".span": "must be at least the longest scan window (21)"}
    assert problems({"scan": [2, 40]}) == {".scan": "each window must be at most span (24)"}


def test_detection_must_be_a_mapping_or_off() -> None:
    assert problems("on") == {"": "must be a mapping of detection settings, or off"}


def test_settings_in_force_are_the_defaults_with_the_overrides() -> None:
    settings = parse_detection({"threshold": 4, "scan": [6, 12]}, "s", "x")
    shown = settings.to_json()
    assert shown["enabled"] is True
    assert shown["overrides"] == {"threshold": 4, "scan": [6, 12]}
    assert shown["settings"]["threshold"] == 4 and shown["settings"]["window"] == 232
    assert settings.params().scan == (6, 12)

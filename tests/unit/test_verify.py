"""Verdicts: the best spec level a value meets, and margins to thresholds
(harness.detection.verdicts)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.catalog import Spec
from harness.detection.verdicts import applicable_specs, inside, judge, margin_to, verdict
from harness.model import Measurement

from .examples import CATALOG, COMPLETENESS, PA1, lower_specs

R_BAND = {"dataset": "hsc_rc2", "filter": "r"}


@pytest.mark.parametrize(("value", "level", "spec"), [
    (2.0, "stretch", "validate_drp.PA1.stretch"),
    (3.0, "stretch", "validate_drp.PA1.stretch"),
    (4.9, "design", "validate_drp.PA1.design"),
    (8.0, "minimum", "validate_drp.PA1.minimum"),
    (8.1, "fail", "validate_drp.PA1.minimum"),
])
def test_the_best_level_met_and_the_spec_that_says_so(value: float, level: str,
                                                       spec: str) -> None:
    found, which = verdict(value, PA1.specs, R_BAND)
    assert (found, which.name if which else None) == (level, spec)


def test_higher_is_better_specs() -> None:
    assert verdict(96.0, COMPLETENESS.specs, {})[0] == "stretch"
    assert verdict(49.9, COMPLETENESS.specs, {})[0] == "fail"


def test_no_value_or_no_spec_is_none() -> None:
    assert verdict(None, PA1.specs, R_BAND) == ("none", None)
    assert verdict(1.0, (), R_BAND) == ("none", None)


def test_a_fail_with_only_some_levels_names_the_worst_level_present() -> None:
    design_only = [spec for spec in PA1.specs if spec.level in ("design", "stretch")]
    level, spec = verdict(9.0, design_only, R_BAND)
    assert level == "fail" and spec is not None and spec.level == "design"


def test_a_spec_whose_conditions_do_not_match_does_not_judge() -> None:
    u_band = lower_specs("pkg.m", 20.0, 10.0, 5.0, filter="u")
    assert verdict(50.0, u_band, {"filter": "r"}) == ("none", None)
    assert verdict(50.0, u_band, {"filter": "u"})[0] == "fail"
    assert verdict(50.0, u_band, {})[0] == "none"


def test_the_most_specific_matching_spec_of_a_level_wins() -> None:
    general = Spec("pkg.m.design", "pkg.m", "design", "<=", 5.0)
    in_u = Spec("pkg.m.design_u", "pkg.m", "design", "<=", 7.5,
                {"filter": frozenset({"u", "z"})})
    assert applicable_specs([general, in_u], {"filter": "u"}) == {"design": in_u}
    assert applicable_specs([in_u, general], {"filter": "r"}) == {"design": general}
    assert verdict(6.0, [general, in_u], {"filter": "z"})[0] == "design"


@pytest.mark.parametrize(("operator", "value", "threshold", "distance"), [
    ("<=", 4.0, 5.0, 1.0), ("<", 6.0, 5.0, -1.0), (">=", 90.0, 80.0, 10.0),
    (">", 70.0, 80.0, -10.0),
])
def test_inside_is_positive_when_the_value_meets_the_threshold(
        operator: str, value: float, threshold: float, distance: float) -> None:
    assert inside(value, operator, threshold) == distance
    assert margin_to(value, operator, threshold) == pytest.approx(distance / threshold)


def test_a_margin_to_a_zero_threshold_is_in_the_unit() -> None:
    assert margin_to(-0.5, "<=", 0.0) == 0.5


def test_judge_uses_the_catalog_and_knows_unknown_metrics() -> None:
    result = judge(Measurement(PA1.name, 4.0, "mmag", R_BAND), CATALOG)
    assert (result.verdict, result.spec) == ("design", "validate_drp.PA1.design")
    unknown = judge(Measurement("pkg.unknown", 4.0, "s"), CATALOG)
    assert (unknown.verdict, unknown.spec) == ("none", None)


@given(st.floats(-100, 100, allow_nan=False), st.floats(-100, 100, allow_nan=False))
def test_a_lower_value_is_never_judged_worse(first: float, second: float) -> None:
    ranks = {"stretch": 0, "design": 1, "minimum": 2, "fail": 3}
    low, high = sorted((first, second))
    assert ranks[verdict(low, PA1.specs, R_BAND)[0]] <= ranks[verdict(high, PA1.specs,
                                                                       R_BAND)[0]]

"""Unit parsing and conversion (harness.units)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.units import UnitProblem, converter, parse_unit


@pytest.mark.parametrize(("source", "target", "value", "expected"), [
    ("mag", "mmag", 0.008, 8.0),
    ("arcsec", "marcsec", 1.5, 1500.0),
    ("min", "s", 2.0, 120.0),
    ("ms", "s", 250.0, 0.25),
    ("%", "", 12.5, 0.125),
    ("", "%", 0.5, 50.0),
])
def test_values_convert_between_compatible_units(
        source: str, target: str, value: float, expected: float) -> None:
    assert converter(source, target)(value) == pytest.approx(expected)


def test_the_same_unit_is_the_identity_even_for_unknown_text() -> None:
    assert converter("furlongs-ish", "furlongs-ish")(3.25) == 3.25


def test_temperatures_are_not_converted_without_an_equivalency() -> None:
    with pytest.raises(UnitProblem, match="deg_C does not convert to K"):
        converter("deg_C", "K")


def test_incompatible_units_name_both() -> None:
    with pytest.raises(UnitProblem, match="s does not convert to mmag"):
        converter("s", "mmag")
    with pytest.raises(UnitProblem, match="dimensionless does not convert to s"):
        converter("", "s")


def test_an_unknown_unit_is_named() -> None:
    with pytest.raises(UnitProblem, match="'parsecs per fortnight' is not a unit"):
        parse_unit("parsecs per fortnight")


def test_a_unit_problem_is_a_value_error() -> None:
    assert issubclass(UnitProblem, ValueError)


def test_empty_text_is_dimensionless() -> None:
    assert parse_unit("").physical_type == "dimensionless"


@given(st.floats(-1e12, 1e12, allow_nan=False),
       st.sampled_from([("mag", "mmag"), ("s", "ms"), ("arcsec", "marcsec"), ("h", "s")]))
def test_converting_there_and_back_gives_the_value(value: float, pair: tuple[str, str]) -> None:
    there, back = converter(*pair), converter(pair[1], pair[0])
    assert back(there(value)) == pytest.approx(value, rel=1e-12, abs=1e-9)

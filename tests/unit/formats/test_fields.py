"""Field checks shared by the formats (harness.formats.fields, harness.formats.common)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import InvalidInput, MalformedRequest, Problem
from harness.formats.common import series_dimensions
from harness.formats.fields import MAX_DEPTH, check_document, check_tag_value, json_path

from ..examples import PA1


@pytest.mark.parametrize(("location", "path"), [
    (("measurements", 1, "value"), "measurements[1].value"),
    (("build", "pull_request", "number"), "build.pull_request.number"),
    ((0,), "[0]"),
    (("dimensions", ""), 'dimensions[""]'),
    ((), ""),
])
def test_a_json_path(location: tuple[int | str, ...], path: str) -> None:
    assert json_path(location) == path


@pytest.mark.parametrize(("text", "message"), [
    ("r|i", "must not contain '|'"), ("r\\", "must not end with a backslash"),
    ("r\tx", "control characters"), (" r", "white space"), ("", "1 to 200 characters"),
    ("\ud800", "lone surrogate"),
])
def test_a_text_unfit_for_a_tag_is_one_problem_at_its_path(text: str, message: str) -> None:
    problems: list[Problem] = []
    assert not check_tag_value(text, "meta.band", problems)
    assert [p.path for p in problems] == ["meta.band"] and message in problems[0].message


def test_a_text_fit_for_a_tag_adds_no_problem() -> None:
    problems: list[Problem] = []
    assert check_tag_value("hsc_rc2 (w_2026_47)", "meta.dataset", problems)
    assert problems == []


def test_a_document_with_non_finite_numbers_names_each_sorted() -> None:
    body: Any = {"b": [1.0, float("inf")], "a": {"x": float("nan")}}
    with pytest.raises(InvalidInput) as caught:
        check_document(body)
    assert [p.to_json() for p in caught.value.problems] == [
        {"path": "a.x", "message": "must be a finite number"},
        {"path": "b[1]", "message": "must be a finite number"}]


def test_lone_surrogates_in_keys_and_values_are_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_document({"k\udc80": 1, "v": ["\ud800"]})
    assert {p.message for p in caught.value.problems} == {
        "is not valid Unicode (a lone surrogate)"}
    assert "v[0]" in {p.path for p in caught.value.problems}


def test_nesting_deeper_than_the_limit_is_a_malformed_request() -> None:
    body: Any = 1
    for _ in range(MAX_DEPTH + 1):
        body = [body]
    with pytest.raises(MalformedRequest) as caught:
        check_document(body)
    assert caught.value.status == 400
    check_document(body[0])  # one level less passes


def test_series_dimensions_keep_the_metrics_own_later_layers_winning() -> None:
    assert series_dimensions(PA1, {"dataset": "a", "filter": "r", "visit": "1"},
                             {"filter": "i"}) == {"dataset": "a", "filter": "i"}

"""Which builds a release report reads, from query arguments (harness.report.selection)."""

from __future__ import annotations

import pytest

from harness.errors import InvalidInput
from harness.report.selection import MAX_BUILDS, Selection, parse_selection


class Args:
    """Query arguments with repeatable keys, like werkzeug's MultiDict."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = pairs

    def get(self, key: str) -> str | None:
        return next((value for name, value in self.pairs if name == key), None)

    def getlist(self, key: str) -> list[str]:
        return [value for name, value in self.pairs if name == key]


def problems(*pairs: tuple[str, str]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse_selection(Args(*pairs))
    return {p.path: p.message for p in caught.value.problems}


def test_named_builds_keep_their_order_once_each() -> None:
    selection = parse_selection(Args(("build", "jenkins/2"), ("build", "gha/7/1"),
                                     ("build", "jenkins/2"), ("name", "w_2026_47")))
    assert selection == Selection(builds=(("jenkins", "2"), ("gha", "7/1")), name="w_2026_47")


def test_nothing_selected_is_the_default_branch_latest() -> None:
    assert parse_selection(Args()) == Selection()


@pytest.mark.parametrize(("until", "normalized"), [
    ("2026-11-20T12:00:00Z", "2026-11-20T12:00:00.000000Z"),
    ("2026-11-20", "2026-11-20T00:00:00.000000Z"),
    ("2026-11-20T12:00:00+02:00", "2026-11-20T10:00:00.000000Z"),
    ("9999-12-31T23:59:59+14:00", "2262-01-01T00:00:00.000000Z"),
    ("1000-01-01", "1678-01-01T00:00:00.000000Z"),
])
def test_until_is_normalized_to_utc_within_what_influxdb_stores(until: str,
                                                                 normalized: str) -> None:
    assert parse_selection(Args(("branch", "main"), ("until", until))).until == normalized


def test_each_bad_argument_is_named() -> None:
    assert problems(("build", "jenkins"), ("build", "/3"), ("until", "yesterday"),
                    ("name", "x" * 201)) == {
        "build[0]": "must be ci/id, e.g. jenkins/1234",
        "build[1]": "must be ci/id, e.g. jenkins/1234",
        "until": "must be an ISO 8601 time like 2026-11-20T12:00:00Z",
        "name": "must be 1 to 200 characters"}


def test_builds_and_a_branch_exclude_each_other() -> None:
    assert problems(("build", "a/1"), ("branch", "main")) == {
        "branch": "give either build=… or branch=/until=/since=, not both"}


def test_too_many_builds_are_refused() -> None:
    pairs = [("build", f"ci/{n}") for n in range(MAX_BUILDS + 1)]
    assert problems(*pairs) == {"build": f"at most {MAX_BUILDS} builds per report"}


def test_since_widens_or_narrows_a_branch_report_and_is_checked() -> None:
    selection = parse_selection(Args(("branch", "main"), ("since", "2026-01-01")))
    assert selection == Selection(branch="main", since="2026-01-01T00:00:00.000000Z")
    assert problems(("since", "last spring")) == {
        "since": "must be an ISO 8601 time like 2026-11-20T12:00:00Z"}
    assert "branch" in problems(("build", "jenkins/1"), ("since", "2026-01-01"))

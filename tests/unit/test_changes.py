"""Package changes between two builds (harness.changes)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.changes import compare_url, package_changes

GITHUB = "https://github.com/lsst/pipe_tasks"


def package(name: str, commit: str | None, url: str | None = None) -> dict[str, Any]:
    return {"name": name, "commit": commit, "url": url}


def test_identical_package_lists_have_no_changes() -> None:
    packages = [package("afw", "a1"), package("pipe_tasks", "p1", GITHUB)]
    assert package_changes(packages, list(reversed(packages))) == []


def test_a_moved_commit_is_a_change_with_a_compare_link() -> None:
    assert package_changes([package("pipe_tasks", "p1", GITHUB)],
                           [package("pipe_tasks", "p2", GITHUB)]) == [{
        "package": "pipe_tasks", "from": "p1", "to": "p2", "url": GITHUB, "kind": "changed",
        "compare_url": f"{GITHUB}/compare/p1...p2"}]


def test_added_and_removed_packages_have_no_compare_link() -> None:
    changes = package_changes([package("old", "o1", GITHUB)], [package("new", "n1", GITHUB)])
    assert [(c["package"], c["kind"], c["from"], c["to"]) for c in changes] == [
        ("new", "added", None, "n1"), ("old", "removed", "o1", None)]
    assert all("compare_url" not in change for change in changes)


def test_a_change_without_a_url_or_a_commit_has_no_compare_link() -> None:
    changes = package_changes([package("a", "1"), package("b", None, GITHUB)],
                              [package("a", "2"), package("b", "3", GITHUB)])
    assert [c["kind"] for c in changes] == ["changed", "changed"]
    assert all("compare_url" not in change for change in changes)


def test_the_url_of_the_new_build_wins() -> None:
    changes = package_changes([package("a", "1", "https://old.example/a")],
                              [package("a", "2", "https://github.com/new/a")])
    assert changes[0]["compare_url"] == "https://github.com/new/a/compare/1...2"


def test_changes_are_sorted_by_package_name() -> None:
    changes = package_changes([], [package(name, "1") for name in ("zz", "aa", "mm")])
    assert [c["package"] for c in changes] == ["aa", "mm", "zz"]


def test_compare_links_follow_the_host() -> None:
    assert compare_url("https://github.com/lsst/afw.git", "a", "b") == \
        "https://github.com/lsst/afw/compare/a...b"
    assert compare_url("https://gitlab.example.org/dm/afw/", "a", "b") == \
        "https://gitlab.example.org/dm/afw/-/compare/a...b"


names = st.sampled_from(["afw", "daf_butler", "pipe_tasks", "meas_base", "obs_lsst"])
packages = st.dictionaries(names, st.sampled_from(["c1", "c2", "c3", None])).map(
    lambda found: [package(name, commit) for name, commit in found.items()])


@given(packages, packages)
def test_each_package_whose_commit_differs_appears_once(
        before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    changes = package_changes(before, after)
    old = {p["name"]: p["commit"] for p in before}
    new = {p["name"]: p["commit"] for p in after}
    differing = {name for name in old.keys() | new.keys()
                 if name not in old or name not in new or old[name] != new[name]}
    assert [c["package"] for c in changes] == sorted(differing)
    assert all((c["from"], c["to"]) == (old.get(c["package"]), new.get(c["package"]))
               for c in changes)
    assert package_changes(after, before) == [
        {**c, "from": c["to"], "to": c["from"],
         "kind": {"added": "removed", "removed": "added"}.get(c["kind"], c["kind"])}
        for c in changes]

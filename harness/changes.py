"""What changed between two builds: packages whose commit moved, added or removed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def package_changes(
    previous: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per package that differs, with a compare link where the host has one."""
    before = {package["name"]: package for package in previous}
    after = {package["name"]: package for package in current}
    changes = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        old_commit = old.get("commit") if old else None
        new_commit = new.get("commit") if new else None
        if old is not None and new is not None and old_commit == new_commit:
            continue
        url = (new or old or {}).get("url")
        change: dict[str, Any] = {
            "package": name, "from": old_commit, "to": new_commit, "url": url,
            "kind": "added" if old is None else "removed" if new is None else "changed",
        }
        if change["kind"] == "changed" and url and old_commit and new_commit:
            change["compare_url"] = compare_url(url, old_commit, new_commit)
        changes.append(change)
    return changes


def compare_url(repository: str, old: str, new: str) -> str:
    """A link to the diff between two commits (GitHub and GitLab style)."""
    base = repository.removesuffix(".git").rstrip("/")
    if "gitlab" in base:
        return f"{base}/-/compare/{old}...{new}"
    return f"{base}/compare/{old}...{new}"

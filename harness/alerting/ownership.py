"""Who owns an alert summary: a person (free text) and a bug link.

Pure. An owner is set by an `owned` event written to every alert of the summary, naming
the summary (decision 84): the latest such event among the summary's alerts is its owner,
so ownership is read with the alerts, in the same query, and travels with them (to the
Slack follow-up too)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.alerting.alerts import OWNED, Alert
from harness.errors import InvalidInput, Problem

OWNER_FIELDS = ("assignee", "bug_url")
MAX_ASSIGNEE = 200  # characters of a person's name and address
MAX_BUG_URL = 2000
UNSAFE_IN_URL = frozenset(' "<>|\\^`{}')  # would end a link early in Slack or Markdown


@dataclass(frozen=True)
class Ownership:
    """A summary's assignee and bug link (None: not set, or cleared), and who set them
    when."""

    assignee: str | None = None
    bug_url: str | None = None
    by: str = ""
    time: str = ""

    def fields(self) -> dict[str, str]:
        """The fields of its `owned` event (an empty string for a value not set)."""
        return {"assignee": self.assignee or "", "bug_url": self.bug_url or ""}

    def to_json(self) -> dict[str, Any]:
        """The owner as a summary's JSON shows it."""
        return {"assignee": self.assignee, "bug_url": self.bug_url,
                "owner_changed": {"by": self.by, "time": self.time} if self.time else None}


def ownership_of(alerts: Iterable[Alert], summary_id: str) -> Ownership:
    """The owner the alerts' logs give the summary: the latest `owned` event naming it (an
    empty Ownership when there is none)."""
    latest = max((entry for alert in alerts for entry in alert.history
                  if entry.get("event") == OWNED and entry.get("summary") == summary_id),
                 key=lambda entry: str(entry.get("time", "")), default=None)
    if latest is None:
        return Ownership()
    return Ownership(latest.get("assignee") or None, latest.get("bug_url") or None,
                     str(latest.get("actor") or ""), str(latest.get("time") or ""))


def owner_change(body: Mapping[str, Any], current: Ownership) -> Ownership:
    """The owner after a request `{"assignee": …, "bug_url": …}`: a field given replaces
    the current value (null clears it), a field left out keeps it. InvalidInput naming every
    problem (an unknown field, a bad value, no field at all)."""
    problems = [Problem(key, f"not a field ({', '.join(OWNER_FIELDS)})")
                for key in body if key not in OWNER_FIELDS]
    if not any(key in body for key in OWNER_FIELDS):
        problems.append(Problem("", "give assignee, bug_url or both (null clears one)"))
    assignee = body.get("assignee", current.assignee)
    bug_url = body.get("bug_url", current.bug_url)
    if assignee is not None and not _is_name(assignee):
        problems.append(Problem("assignee", f"must be one line of 1 to {MAX_ASSIGNEE} "
                                            "characters, or null to clear it"))
    if bug_url is not None and not _is_bug_url(bug_url):
        problems.append(Problem("bug_url", f"must be an http(s) URL of at most {MAX_BUG_URL} "
                                           "characters, or null to clear it"))
    if problems:
        raise InvalidInput(problems, "bad owner: " + ", ".join(
            dict.fromkeys(problem.path or "(the body)" for problem in problems)))
    return Ownership(assignee.strip() if assignee else None, bug_url)


def _is_name(value: object) -> bool:
    """Free text a person can be named by: one line, not blank, not too long."""
    return isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_ASSIGNEE \
        and not any(unicodedata.category(char)[0] == "C"
                    or unicodedata.category(char) in ("Zl", "Zp") for char in value)


def _is_bug_url(value: object) -> bool:
    """An absolute http(s) URL with a host, nothing in it that would break a link."""
    if not isinstance(value, str) or len(value) > MAX_BUG_URL or not value.isprintable() \
            or UNSAFE_IN_URL & set(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)

"""Field types shared by the input formats, and pydantic errors → problems with paths."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, Strict, ValidationError

from harness.errors import Problem

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(text: str) -> str:
    if CONTROL.search(text):
        raise ValueError("must not contain control characters (newlines, tabs, NUL)")
    if text != text.strip():
        raise ValueError("must not start or end with white space")
    return text


def _web_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return text


Label = Annotated[
    str, Strict(), Field(min_length=1, max_length=200), AfterValidator(_no_control_characters)
]
Text = Annotated[str, Strict(), Field(max_length=10_000)]
WebUrl = Annotated[
    str, Strict(), Field(max_length=2000), AfterValidator(_no_control_characters),
    AfterValidator(_web_url),
]


def json_path(location: tuple[int | str, ...]) -> str:
    """('measurements', 1, 'value') → 'measurements[1].value'."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problems_from(error: ValidationError) -> list[Problem]:
    """Each pydantic error as a problem with a JSON path and a plain message."""
    problems = []
    for item in error.errors():
        location = tuple(
            part for part in item["loc"]
            if not (isinstance(part, str) and ("[" in part or part in _UNION_TAGS))
        )
        message = item["msg"].removeprefix("Value error, ")
        message = _MESSAGES.get(item["type"], message)
        problem = Problem(json_path(location), message)
        if problem not in problems:
            problems.append(problem)
    return problems


_MESSAGES = {
    "finite_number": "must be a finite number",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "float_type": "must be a number",
    "string_type": "must be a string",
}
_UNION_TAGS = {"float", "int", "str", "list", "function-after", "constrained-str"}

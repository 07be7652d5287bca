"""Field types shared by the input formats, and pydantic errors → problems with paths."""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, Strict, ValidationError

from harness.catalog.documents import in_body
from harness.errors import InvalidInput, MalformedRequest, Problem
from harness.times import storable

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_DEPTH = 64  # levels of nested arrays and objects in a document


def _no_control_characters(text: str) -> str:
    if CONTROL.search(text):
        raise ValueError("must not contain control characters (newlines, tabs, NUL)")
    if text != text.strip():
        raise ValueError("must not start or end with white space")
    return text


def _tag_value(text: str) -> str:
    # InfluxDB's line protocol cannot carry a tag value that ends in a backslash, and '|'
    # separates the parts of a series key (harness.alerting.alerts.series_key): with it, one series
    # could pass for another.
    if text.endswith("\\"):
        raise ValueError("must not end with a backslash")
    if "|" in text:
        raise ValueError("must not contain '|'")
    return text


def _path_segment(text: str) -> str:
    if "/" in text:
        raise ValueError("must not contain '/' (it names a build in URLs: /builds/<ci>/<id>)")
    return text


def _path_tail(text: str) -> str:
    if text.startswith("/"):
        raise ValueError("must not start with '/' (it names a build in URLs: /builds/<ci>/<id>)")
    return text


def _storable_time(moment: datetime) -> datetime:
    if not storable(moment):
        raise ValueError("must be between the years 1678 and 2261 (what InfluxDB can store)")
    return moment


def _web_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http(s) URL")
    return text


Label = Annotated[
    str, Strict(), Field(min_length=1, max_length=200), AfterValidator(_no_control_characters)
]
# a value stored as an InfluxDB tag: a branch, a dimension's value, a CI's name
TagValue = Annotated[Label, AfterValidator(_tag_value)]
CiName = Annotated[TagValue, AfterValidator(_path_segment)]
BuildId = Annotated[Label, AfterValidator(_path_tail)]
Text = Annotated[str, Strict(), Field(max_length=10_000)]
Moment = Annotated[datetime, AfterValidator(_storable_time)]
WebUrl = Annotated[
    str, Strict(), Field(max_length=2000), AfterValidator(_no_control_characters),
    AfterValidator(_web_url),
]


def check_tag_value(text: str, path: str, problems: list[Problem]) -> bool:
    """Whether a text found outside the typed fields may be an InfluxDB tag value; if not,
    a problem at `path`."""
    if not _encodable(text):
        problems.append(Problem(path, "is not valid Unicode (a lone surrogate)"))
        return False
    try:
        _tag_value(_no_control_characters(text))
    except ValueError as error:
        problems.append(Problem(path, str(error)))
        return False
    if not 1 <= len(text) <= 200:
        problems.append(Problem(path, "must be 1 to 200 characters"))
        return False
    return True


def check_document(body: Any) -> None:
    """Refuse what JSON-parsing lets through but nothing downstream can keep: nesting deeper
    than MAX_DEPTH (400), NaN or Infinity, and strings with lone surrogates (422)."""
    problems: list[Problem] = []
    # iterative, so that no nesting can exhaust the stack; a node is (value, depth, parent
    # node, key in the parent), and a path is only spelled out for a problem
    stack: list[_Node] = [(body, 0, None, None)]
    while stack and len(problems) < 20:
        node = stack.pop()
        value, depth = node[0], node[1]
        if depth > MAX_DEPTH:
            raise MalformedRequest([Problem(_path_of(node), f"nests deeper than {MAX_DEPTH} "
                                                            "levels")], "malformed request")
        if isinstance(value, dict):
            for key, item in value.items():
                if not _encodable(key):
                    problems.append(Problem(_path_of((key, depth + 1, node, key)),
                                            "is not valid Unicode (a lone surrogate)"))
                stack.append((item, depth + 1, node, key))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, node, index) for index, item in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(Problem(_path_of(node), "must be a finite number"))
        elif isinstance(value, str) and not _encodable(value):
            problems.append(Problem(_path_of(node), "is not valid Unicode (a lone surrogate)"))
    if problems:
        raise InvalidInput(sorted(problems, key=lambda problem: problem.path))


_Node = tuple[Any, int, Any, "int | str | None"]


def _path_of(node: _Node) -> str:
    location: list[int | str] = []
    while node[2] is not None:
        location.append(node[3])  # type: ignore[arg-type]
        node = node[2]
    return _printable_path(tuple(reversed(location)))


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def json_path(location: tuple[int | str, ...]) -> str:
    """('measurements', 1, 'value') → 'measurements[1].value'; an empty key is `[""]`."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "":
            path += '[""]'
        else:
            path += f".{part}" if path else str(part)
    return path


def problems_from(error: ValidationError, body: Any) -> list[Problem]:
    """Each pydantic error as a problem with a JSON path into `body` and a plain message."""
    problems = []
    for item in error.errors():
        location = in_body(body, item["loc"], missing=item["type"] == "missing")
        message = item["msg"].removeprefix("Value error, ")
        message = _MESSAGES.get(item["type"], message)
        problem = Problem(_printable_path(location), message)
        if problem not in problems:
            problems.append(problem)
    return problems


def _printable_path(location: tuple[int | str, ...]) -> str:
    return json_path(tuple(part if isinstance(part, int) or _encodable(part)
                           else part.encode(errors="backslashreplace").decode()
                           for part in location))


_MESSAGES = {
    "finite_number": "must be a finite number",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "float_type": "must be a number",
    "string_type": "must be a string",
}

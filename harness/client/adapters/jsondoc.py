"""Reading the JSON files of benchmark tools, for the adapters and the history readers: one
wording for every message, each naming the file and the JSON path of what is wrong.

- `FILE: not valid JSON: Expecting ',' delimiter: line 3 column 14 (char 40)` (line and
  column where the parser gives them; `duplicate key 'b'` has none);
- `FILE: AT: expected an object (WHAT), found KIND` and `FILE: AT: expected an array, found
  KIND` (no `AT: ` for the whole document), KIND the value's JSON when short (`null`, `3`,
  `"fast"`, `[1]`), else what it is and how it starts;
- `FILE: AT.KEY: required`.

Client code: the standard library only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness import jsonread
from harness.client.adapters import AdapterError, unreadable

_DECODER = json.JSONDecoder(object_pairs_hook=jsonread.unique_keys)
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a key written `.key` in a JSON path
_SHORT = 40  # the longest JSON text a message quotes whole


def load(path: Path | str, text: str, *, constants: bool = True) -> Any:
    """The JSON document of a file (`path`: the file, or `FILE:LINE` for one line of JSON
    lines); a key given twice is an error, and with `constants=False` NaN and Infinity too."""
    try:
        return jsonread.loads(text, constants=constants)
    except ValueError as error:
        raise invalid(path, error) from None


def load_from(path: Path, text: str, start: int) -> tuple[Any, int]:
    """The JSON value that starts at `start` of a file's text (after `window.X =` in a .js
    file) and where it ends; line and column of an error count from the file's start."""
    try:
        value, end = _DECODER.raw_decode(text, start)
    except ValueError as error:
        raise invalid(path, error) from None
    return value, end


def load_beside(path: Path) -> Any | None:
    """The JSON document of a file a tool writes beside the one given (criterion's
    sample.json, asv's benchmarks.json); None if there is no such file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise unreadable(path, error) from None
    return load(path, text)


def invalid(path: Path | str, error: ValueError) -> AdapterError:
    """The error of a text that is not valid JSON (the parser's message gives the line and
    column: `Expecting value: line 1 column 9 (char 8)`)."""
    return AdapterError(f"{path}: not valid JSON: {error}")


def obj(path: Path | str, value: Any, at: str, expected: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else an error naming the file, the JSON path `at`
    ("" for the whole document) and what was `expected` there."""
    if not isinstance(value, dict):
        raise AdapterError(f"{path}: {_place(at)}expected an object ({expected}), found "
                           f"{kind(value)}")
    return value


def array(path: Path | str, value: Any, at: str, expected: str = "") -> list[Any]:
    """`value` if it is a JSON array, else an error naming the file and the JSON path `at`
    ("" for the whole document), and what was `expected` there if given."""
    if not isinstance(value, list):
        what = f" ({expected})" if expected else ""
        raise AdapterError(f"{path}: {_place(at)}expected an array{what}, found {kind(value)}")
    return value


def field(path: Path | str, value: dict[str, Any], at: str, key: str, hint: str = "") -> Any:
    """`value[key]` of the object at `at`, else an error `AT.KEY: required (HINT)`."""
    if key not in value:
        why = f" ({hint})" if hint else ""
        raise AdapterError(f"{path}: {member(at, key)}: required{why}")
    return value[key]


def member(at: str, key: str) -> str:
    """The JSON path of a key of the object at `at`: `at.key` (`key` at the top), or
    `at["the key"]` for a key that is not a plain word."""
    if _PLAIN.match(key):
        return f"{at}.{key}" if at else key
    return f"{at}[{json.dumps(key, ensure_ascii=False)}]"


def kind(value: Any) -> str:
    """What a JSON value is, for a message: its JSON text when short (`null`, `3`, `"fast"`,
    `[1]`), else what it is and how it starts (`an array [1.5, 1.625, …`)."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= _SHORT:
        return text
    if isinstance(value, dict):
        what = "an object"
    elif isinstance(value, list):
        what = "an array"
    else:
        what = "a string" if isinstance(value, str) else "a number"
    return f"{what} {text[:_SHORT - 3]}…"


def _place(at: str) -> str:
    """`AT: ` before a message about the value at the JSON path `at`; "" for the document."""
    return f"{at}: " if at else ""

"""Helpers the adapters' tests share: the real files of tests/data/benchmarks (edited), and
the message an adapter refuses a file with."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.client.adapters import AdapterError

BENCHMARKS = Path(__file__).parents[3] / "data" / "benchmarks"  # a folder per format


def document(path: Path) -> dict[str, Any]:
    """The parsed JSON of a data file."""
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def edited(path: Path, change: Callable[[dict[str, Any]], Any]) -> str:
    """The JSON text of a data file after `change` edited its parsed JSON."""
    changed = document(path)
    change(changed)
    return json.dumps(changed)


def refusal(call: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """The message of the AdapterError a call raises."""
    with pytest.raises(AdapterError) as caught:
        call(*args, **kwargs)
    return str(caught.value)

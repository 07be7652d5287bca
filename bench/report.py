"""Writing benchmark results into docs/performance.md, one `## Section` per benchmark."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(title: str, text: str, path: Path = DOC, first: bool = False) -> None:
    """Replace the `## <title>` section of the document (when missing, add it at the end, or
    before every other section if `first`)."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _: text.rstrip() + "\n\n", old, count=1)
    elif first and (section := re.search(r"^## ", old, re.M)):
        new = old[:section.start()] + text.rstrip() + "\n\n" + old[section.start():]
    else:
        new = old.rstrip() + "\n\n" + text.rstrip() + "\n"
    path.write_text(new.rstrip() + "\n", encoding="utf-8")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table as lines."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows)]


def machine() -> str:
    """One line naming the machine and the Python that ran the benchmark."""
    return (f"{platform.machine()}, {os.cpu_count()} CPU(s), Python "
            f"{platform.python_version()}, {platform.platform(terse=True)}")


JSON = DOC.with_suffix(".json")


def write_json(name: str, data: object, path: Path = JSON) -> None:
    """Replace one benchmark's raw figures in docs/performance.json."""
    found = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    found[name] = data
    path.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def spread(values: Sequence[float], fmt: str = "{:.0f}") -> str:
    """The median of a figure with its min–max, each formatted."""
    return (f"{fmt.format(statistics.median(values))} "
            f"({fmt.format(min(values))}–{fmt.format(max(values))})")


def versions() -> str:
    """The versions of the servers and libraries a benchmark ran against."""
    found = [f"{label} {metadata.version(name)}"
             for name, label in (("flask", "Flask"), ("celery", "Celery"), ("redis", "redis-py"))]
    for command, words in ((["redis-server", "--version"], 3), (["influxd", "version"], 2)):
        try:
            text = subprocess.run(command, capture_output=True, text=True, timeout=10).stdout
        except OSError:
            continue
        found.append(" ".join(text.split()[:words]))
    return ", ".join(found)

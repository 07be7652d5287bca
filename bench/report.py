"""Writing benchmark results into docs/performance.md, one `## Section` per benchmark."""

from __future__ import annotations

import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(title: str, text: str, path: Path = DOC) -> None:
    """Replace the `## <title>` section of the document (append it when missing)."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = (pattern.sub(lambda _: text.rstrip() + "\n\n", old, count=1) if pattern.search(old)
           else old.rstrip() + "\n\n" + text.rstrip() + "\n")
    path.write_text(new.rstrip() + "\n", encoding="utf-8")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table as lines."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows)]


def machine() -> str:
    """One line naming the machine and the Python that ran the benchmark."""
    import os
    return (f"{platform.machine()}, {os.cpu_count()} CPU(s), Python "
            f"{platform.python_version()}, {platform.platform(terse=True)}")

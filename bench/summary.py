"""The targets of every benchmark in one table at the top of docs/performance.md, from the
figures the last runs left in docs/performance.json (`make bench` ends with it).
`python -m bench.summary`."""

from __future__ import annotations

import json

from bench.report import JSON, table, write_section

SOURCES = (("targets_ingest", "Ingest"), ("targets_dashboard", "Dashboard"))


def markdown(found: dict[str, list[list[str]]]) -> str:
    """The Summary section: each benchmark's targets rows, with where they come from."""
    rows = [[*row, section] for key, section in SOURCES for row in found.get(key, [])]
    met = sum(1 for row in rows if row[5] == "yes")
    return "\n".join([
        "## Summary", "",
        f"The targets of the last `make bench`: {met} of {len(rows)} met. Ratios are taken "
        "against a baseline measured in the same run (medians, min–max in brackets); each "
        "row's section below says how. The growth of each figure with the history's length "
        "is in \"Scale\".", "",
        *table(["figure", "harness", "baseline", "ratio", "target", "met", "section"], rows),
        "",
    ])


def main() -> int:
    """Rewrite the Summary section from docs/performance.json."""
    found = json.loads(JSON.read_text(encoding="utf-8")) if JSON.exists() else {}
    text = markdown(found)
    print(text)
    write_section("Summary", text, first=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

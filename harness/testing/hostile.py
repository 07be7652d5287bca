"""Hostile strings a client may put in any string field, shared by the reliability suite
(tests/reliability/test_hostile.py: each is refused or stored verbatim) and the Markdown
tests (each is shown as literal text wherever a report or summary shows it)."""

from __future__ import annotations

import re

# Query and line-protocol metacharacters, control characters, odd Unicode.
PAYLOADS = {
    "double-quote": 'say "hi"',
    "single-quote": "it's",
    "comma-equals-space": "a,b=c d",
    "backslashes": "C:\\temp\\new",
    "trailing-backslash": "end\\",
    "escaped-newline": "two\\nlines",
    "newline": "two\nlines",
    "tab": "a\tb",
    "leading-space": " lead",
    "drop-database": "x'\"; DROP DATABASE harness_test; --",
    "bind-parameter": "$branch",
    "regex": "/.*/",
    "unicode": "ünïcødé ☃ 名前 🚀",
    "line-separator": "a\u2028b",
    "url-metacharacters": "a/b?c=d#e%2F",
    "double-slash": "a//b",
    "pipe": "a|b=c",
}
# HTML and Markdown that a report, a CI summary or a PR comment must not render as such.
MARKUP = {
    "html": "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>",
    "link": "[click](javascript:alert(1))",
    "image": "![x](https://evil.example/x.png)",
    "autolink": "<https://evil.example>",
    "reference": "[x]: https://evil.example",
    "code": "`a` ``b``",
    "emphasis": "*a* **b** _c_ __d__ ~~e~~",
    "math": "$x^2$",
    "heading": "# title",
    "list": "- item",
    "ordered-list": "1. item",
    "table-row": "a | b |\n|---|---|\n| c | d",
    "entity": "&lt;script&gt; &#60;b&#62;",
    "escape": "\\<b\\>\\[x\\](y)",
    "comment": "<!-- hidden -->",
    "details": "</details><details open>",
}
STRINGS = {**PAYLOADS, **MARKUP}
# Link targets: only the http(s) ones may become links, percent-encoded where needed.
URLS = {
    "javascript": "javascript:alert(1)",
    "javascript-mixed-case": "JaVaScRiPt:alert(1)",
    "javascript-leading-space": " javascript:alert(1)",
    "javascript-entity": "&#106;avascript:alert(1)",
    "data": "data:text/html,<script>alert(1)</script>",
    "vbscript": "vbscript:msgbox(1)",
    "protocol-relative": "//evil.example/x",
    "backslash-relative": "/\\evil.example/x",
    "no-host": "https://",
    "breaks-out": "https://ci.example.org/x) [y](javascript:alert(1)",
    "markup": "https://ci.example.org/<script>alert(1)</script> \"x\" 'y' |z|",
}

_OWN_TAGS = re.compile(r"</?(?:details|summary)>")  # what the report itself writes as HTML
_DELIMITER_ROW = re.compile(r"\|(?:\s*:?-+:?\s*\|)+")
_SAFE_TARGET = re.compile(r"https?://[^\s()<>\"'|\\`\[\]]+")


def markdown_problems(text: str) -> list[str]:
    """What in a Markdown document could come from user text rather than the renderer: a
    raw `<` (but the report's own details/summary tags), an unescaped link whose target is
    not a plain http(s) URL, a table row with more or fewer cells than its header."""
    problems: list[str] = []
    cells: int | None = None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        bare = re.sub(r"\\.", "", line)  # escaped characters say nothing
        if "<" in _OWN_TAGS.sub("", bare):
            problems.append(f"line {number}: a raw <: {line}")
        for target in re.findall(r"\]\(([^)]*)\)?", bare):
            if not _SAFE_TARGET.fullmatch(target):
                problems.append(f"line {number}: a link to {target!r}: {line}")
        if not line.startswith("|"):
            cells = None
        elif cells is None and number < len(lines) and _DELIMITER_ROW.fullmatch(lines[number]):
            cells = bare.count("|")
        elif cells is not None and bare.count("|") != cells:
            problems.append(f"line {number}: {bare.count('|')} cell bars, not {cells}: {line}")
    return problems

"""User-supplied text made safe inside Markdown (reports, the CI summary, PR comments): no
HTML tag or attribute, link, image, code span, emphasis, math, heading, list or table cell
boundary can come from a dimension value, a build id, a branch or a package name, and a
link only ever points at an http(s) URL. Standard library only: the CI client uses it."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

# emphasis, code, links and images ([ ]; ( ) and ! mean nothing without them), table
# cells, strikethrough, math ($, GitHub)
_INLINE = re.compile(r"([\\`*\[\]|~$])")
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # not between two letters or digits
# at the start: a list, rule or heading (`#412`, `-0.5`, `+1` are none), or "](" after a "]"
# (a quote's `>` is an entity by then)
_LINE_START = re.compile(r"^(\s*)(\(|[+=-](?![^\W_])|#(?=#{0,5}(?:\s|$)))")
_ORDERED = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")  # an ordered list (`4.75` is none)
_INDENTED = re.compile(r"^(?= *\t| {4})[ \t]")  # an indented code block at a line start
# everything some renderer or editor takes for a line end, and the other control characters
_LINE_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+")
_PLAIN = re.compile(r"[\w.+/:@,-]+", re.ASCII)  # shown as code
_HTTP = re.compile(r"https?://[^\s/?#]+", re.IGNORECASE)
# what stays as it is in a link target: RFC 3986 characters but ( ) ' [ ] and %-escapes
_TARGET_SAFE = "/:?#@!$&*+,;=-._~%"


def escape(value: object) -> str:
    """Text as literal Markdown on one line: `<`, `>`, `&` and quotes as HTML entities
    (GitHub renders raw HTML), every inline Markdown character backslash-escaped (but `_`
    inside a word, which no CommonMark renderer takes for emphasis: `hsc_rc2` stays; and
    `(`, `)`, `!`, inert when `[` and `]` are escaped), a leading block marker or `(`
    escaped, a code block's indentation broken by an entity, line breaks and control
    characters as spaces (a table row is one line)."""
    text = html.escape(_LINE_BREAKS.sub(" ", str(value)), quote=True)
    text = _INLINE.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _ORDERED.sub(r"\1\\\2", text)
    text = _LINE_START.sub(r"\1\\\2", text)
    return _INDENTED.sub(lambda match: f"&#{ord(match[0])};", text)


def code(value: object) -> str:
    """A name as an inline code span when it is a plain one (letters, digits and
    `. _ / + - : @ ,`, as branches, commits and metric names are), else as escaped text: no
    raw `<`, backtick or `|` either way, so it is safe in a table cell too."""
    text = str(value)
    return f"`{text}`" if _PLAIN.fullmatch(text) else escape(text)


def target(url: object) -> str | None:
    """url as a Markdown link target, or None when it must not be one: only an absolute
    http(s) URL with a host qualifies; spaces, `(`, `)`, `<`, `>`, quotes, `|`,
    backslashes, brackets and anything beyond ASCII are percent-encoded (existing
    %-escapes are kept)."""
    text = str(url)
    if not _HTTP.match(text):
        return None
    return quote(text, safe=_TARGET_SAFE)


def link(text: object, url: object, *, as_code: bool = False) -> str:
    """`[text](url)` with text escaped (as_code: shown by `code`) and url a safe target; a
    URL that may not be a link (javascript:, data:, relative, no host) is shown as
    escaped text after the text."""
    label = code(text) if as_code else escape(text)
    if not url:
        return label
    destination = target(url)
    if destination is not None:
        return f"[{label}]({destination})"
    return escape(url) if str(url) == str(text) else f"{label} ({escape(url)})"

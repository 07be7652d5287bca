"""User text made safe in Markdown (harness.markdown): string properties for any text, and
the hostile strings of the reliability suite rendered by a CommonMark parser."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import markdown_it
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.markdown import code, escape, link, target
from harness.testing.hostile import STRINGS, URLS

# Characters that are Markdown wherever they stand, so escape must backslash them.
ACTIVE = "[]`|*~$\\"
BLOCK_START = re.compile(r"\s*(?:[-+=](?![^\W_])|#{1,6}(?:\s|$)|\d+[.)](?:\s|$)|\()")
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    list(STRINGS.values()))


def unescaped(text: str) -> str:
    """The characters of text that no backslash escapes (an escaped one is dropped)."""
    return re.sub(r"\\.", "", text)


def reads_as(text: str) -> str:
    """What a reader sees of escaped text: backslash escapes and entities resolved."""
    return html.unescape(re.sub(r"\\(.)", r"\1", text))


@given(TEXT)
def test_escaped_text_has_no_tag_break_or_active_character(value: str) -> None:
    text = escape(value)
    assert "<" not in text and ">" not in text
    assert not re.search(r"[\r\n\u2028\u2029\x00-\x08\x0b-\x1f\x7f\x85]", text)
    assert not set(unescaped(text)) & set(ACTIVE)
    assert re.fullmatch(r"(?:[^&]|&(?:amp|lt|gt|quot|#x27|#9|#32);)*", unescaped(text))
    assert not re.search(r"(?<![^\W_])_|_(?![^\W_])", unescaped(text))  # no emphasis _
    assert not BLOCK_START.match(text)


@given(TEXT)
def test_escaped_text_reads_as_the_value_on_one_line(value: str) -> None:
    assert reads_as(escape(value)) == re.sub(
        r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+", " ", value)


def test_plain_names_stay_readable() -> None:
    assert escape("validate_drp.PA1") == "validate_drp.PA1"
    assert escape("hsc_rc2") == "hsc_rc2"
    assert escape("4.75 mmag (n = 5)") == "4.75 mmag (n = 5)"
    assert escape("-0.5") == "-0.5" and escape("#412") == "#412"
    assert escape("_a_ *b*") == "\\_a\\_ \\*b\\*"
    assert escape("1. item") == "1\\. item" and escape("- item") == "\\- item"
    assert escape("# title") == "\\# title" and escape("(x") == "\\(x"


@given(TEXT)
def test_code_is_a_plain_code_span_or_escaped_text(value: str) -> None:
    text = code(value)
    inner = text[1:-1] if text.startswith("`") else None
    if inner is not None:
        assert text.endswith("`") and re.fullmatch(r"[\w.+/:@,-]+", inner, re.ASCII)
        assert inner == value
    else:
        assert text == escape(value)


URL = st.text(max_size=40) | st.sampled_from(list(URLS.values())) | st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["http://", "https://", "HTTPS://", "/", "//", "javascript:", "data:"]),
    st.text(max_size=40))


@given(URL)
def test_only_http_urls_become_targets(url: str) -> None:
    destination = target(url)
    if destination is None:
        return
    assert re.match(r"(?i:https?://[^/?#])", destination)
    assert not re.search(r"[\s()<>\"'|\\\[\]`\x00-\x1f\x7f]", destination)
    assert destination.isascii()
    if "%" not in url:
        assert unquote(destination) == url


@given(TEXT, URL)
def test_a_link_is_one_link_to_a_target_or_no_link(text: str, url: str) -> None:
    rendered = link(text, url)
    destination = target(url) if url else None
    if destination is None:
        assert "](" not in unescaped(rendered)
    else:
        assert rendered == f"[{escape(text)}]({destination})"


@pytest.mark.parametrize("url", list(URLS.values()), ids=list(URLS))
def test_hostile_urls_never_become_links(url: str) -> None:
    rendered = link("build", url)
    if url.startswith("https://ci.example.org/"):
        assert rendered.startswith("[build](https://ci.example.org/")
        assert rendered.count("(") == 1 and rendered.endswith(")")
    else:
        assert rendered == f"build ({escape(url)})"


def test_link_targets_are_percent_encoded() -> None:
    assert link("x", "https://h.example/a b(c)<d>|e") == (
        "[x](https://h.example/a%20b%28c%29%3Cd%3E%7Ce)")
    assert link("metric", "https://h/m?a=1&b=%2F", as_code=True) == (
        "[`metric`](https://h/m?a=1&b=%2F)")
    assert link("x", "") == "x" and link("x", "javascript:alert(1)") == "x (javascript:alert(1))"
    assert link("page", "/dash/builds/a") == "page (/dash/builds/a)"


# --- rendered by a CommonMark parser (markdown-it-py) -----------------------------------------


@pytest.fixture(scope="module")
def render() -> object:
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable(
        ["table", "strikethrough"]).render


RENDERED_MARKUP = re.compile(r"<(?!/?(?:p|table|thead|tbody|tr|th|td|code)>)")


@pytest.mark.parametrize("value", list(STRINGS.values()), ids=list(STRINGS))
def test_hostile_strings_render_as_their_literal_text(render: object, value: str) -> None:
    assert callable(render)
    flat = re.sub(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+", " ", value)
    paragraph = render(f"before {escape(value)} after\n")
    assert not RENDERED_MARKUP.search(paragraph), paragraph
    assert html.unescape(paragraph) == f"<p>before {flat} after</p>\n"
    table = render(f"| a | b |\n|---|---|\n| {escape(value)} | {code(value)} |\n")
    assert not RENDERED_MARKUP.search(table), table
    cells = re.findall(r"<td>(.*?)</td>", table)
    assert "<code>" not in cells[0]
    assert [html.unescape(re.sub("</?code>", "", cell)) for cell in cells] == [
        flat.strip(), flat.strip()]
    assert render(f"- {link(value, value)} {link('x', value)}\n").count("<a ") <= 1

"""Author Markdown to the XHTML subset, and what is refused."""

from __future__ import annotations

import lxml.html
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from qtiexport.markdown import (
    Markdown,
    _render_parsed,
    check_markdown,
    is_plain_line,
    markdown_to_text,
    render_markdown,
)


def xhtml(text: str, mode: str = "block") -> str:
    html, problems = render_markdown(text, mode)
    assert problems == []
    return html


def test_numbered_list_with_sub_list() -> None:
    rendered = xhtml("1. Therapy using:\n\n   - (a) Aluminum hydroxide\n\n2. Surgery\n")
    root = etree.fromstring(f"<div>{rendered}</div>")
    assert [li.xpath("string(p)") for li in root.xpath("/div/ol/li")] == [
        "Therapy using:",
        "Surgery",
    ]
    assert root.xpath("string(/div/ol/li[1]/ul/li)") == "(a) Aluminum hydroxide"


def test_text_survives_as_utf8_and_markup_is_escaped() -> None:
    assert xhtml("“Zonule” – Ca+ & α < β") == "<p>“Zonule” – Ca+ &amp; α &lt; β</p>"


def test_safe_inline_html_is_kept_and_void_elements_are_xml() -> None:
    assert xhtml("H<sub>2</sub>O<br>x", "inline") == "H<sub>2</sub>O<br/>x"


def test_comments_are_reported_not_dropped() -> None:
    assert [p.message for p in check_markdown("H<sub>2</sub>O <!-- note -->", "inline")] == [
        "an HTML comment (`<!-- … -->`) is not allowed in Markdown; delete it, or put it in "
        "backticks to show it as text"
    ]


def test_unsafe_html_is_reported_not_dropped() -> None:
    messages = [p.message for p in check_markdown("x <script>alert(1)</script>")]
    assert messages == [
        "raw HTML `<script>` is not allowed; write Markdown instead (allowed tags: abbr, b, br, "
        "code, em, i, small, strong, sub, sup)"
    ]
    assert check_markdown("[a](https://example.org) <sup>2</sup>") == []


def test_problem_lines_count_within_the_text() -> None:
    problems = check_markdown("one\n\ntwo\n\n<iframe></iframe>\n")
    assert [p.line for p in problems] == [4]
    # Inline text counts its line breaks too.
    assert [p.line for p in check_markdown("one\ntwo <b onclick=x>3</b>", "inline")] == [1]


def test_unsafe_links_are_reported() -> None:
    for href in ("javascript:alert(1)", "data:text/html,x", "relative/page.html"):
        assert check_markdown(f"[x]({href})"), href


def test_plain_text() -> None:
    assert markdown_to_text("Tumoral *calcinosis*\n\n- a\n- b") == "Tumoral calcinosis a b"
    value = Markdown("*a* b", render_markdown("*a* b", "inline")[0])
    assert markdown_to_text(value) == value.text == "a b"


@given(
    st.one_of(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
        st.from_regex(r"[A-Za-z“(][A-Za-z0-9 ,.:;'\"“”/()+%=#-]{0,60}", fullmatch=True),
    )
)
def test_plain_lines_render_as_the_parser_renders_them(text: str) -> None:
    if is_plain_line(text):
        for mode in ("inline", "block"):
            assert render_markdown(text, mode) == _render_parsed(text, mode)
        parsed = lxml.html.fragment_fromstring(
            _render_parsed(text, "block")[0], create_parent="div"
        )
        assert markdown_to_text(text) == " ".join(parsed.text_content().split())


def test_lines_that_markdown_reads_as_blocks_are_parsed() -> None:
    assert xhtml("1. A good year") == "<ol>\n<li>A good year</li>\n</ol>"
    assert xhtml("- item").startswith("<ul>")
    assert xhtml("# Title") == "<h1>Title</h1>"


def test_what_qti_cannot_show_is_an_error_not_dropped() -> None:
    """QTI's `ol` has no `start` and its `a` no `title`: the author is told, and the
    list is not renumbered nor the title lost behind their back."""
    assert [p.message for p in check_markdown("1986. A good year")] == [
        "a numbered list starts at 1986, but QTI numbers every list from 1; start it at 1, "
        "or write `1986\\.` if the number is not a list item"
    ]
    assert xhtml("1986\\. A good year") == "<p>1986. A good year</p>"
    assert [p.message for p in check_markdown('[x](https://example.org "More")')] == [
        'link title "More" cannot be kept: QTI links have no title; remove the quoted title '
        "after the link address"
    ]


def test_a_fence_info_string_is_not_rendered() -> None:
    assert xhtml("```python\nx < y\n```") == "<pre><code>x &lt; y\n</code></pre>"


def test_block_elements_are_refused_in_inline_fields() -> None:
    assert xhtml("- a", "inline") == "- a"
    assert [p.message for p in check_markdown("<p>x</p>", "inline")] == [
        "raw HTML `<p>` is not allowed; write Markdown instead (allowed tags: abbr, b, br, "
        "code, em, i, small, strong, sub, sup)"
    ]

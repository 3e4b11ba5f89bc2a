"""Author Markdown to the XHTML subset, and what is refused."""

from __future__ import annotations

import lxml.html
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from qtiexport.markdown import check_markdown, markdown_to_text, markdown_to_xhtml


def test_numbered_list_with_sub_list() -> None:
    xhtml = markdown_to_xhtml("1. Therapy using:\n\n   - (a) Aluminum hydroxide\n\n2. Surgery\n")
    root = etree.fromstring(f"<div>{xhtml}</div>")
    assert [li.xpath("string(p)") for li in root.xpath("/div/ol/li")] == [
        "Therapy using:",
        "Surgery",
    ]
    assert root.xpath("string(/div/ol/li[1]/ul/li)") == "(a) Aluminum hydroxide"


def test_text_survives_as_utf8_and_markup_is_escaped() -> None:
    xhtml = markdown_to_xhtml("“Zonule” – Ca+ & α < β")
    assert xhtml == "<p>“Zonule” – Ca+ &amp; α &lt; β</p>"


def test_safe_inline_html_is_kept_and_comments_dropped() -> None:
    assert markdown_to_xhtml("H<sub>2</sub>O <!-- note -->", inline=True) == "H<sub>2</sub>O"


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


def test_unsafe_links_are_reported() -> None:
    for href in ("javascript:alert(1)", "data:text/html,x", "relative/page.html"):
        assert check_markdown(f"[x]({href})"), href


def test_plain_text() -> None:
    assert markdown_to_text("Tumoral *calcinosis*\n\n- a\n- b") == "Tumoral calcinosis a b"


@given(
    st.one_of(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
        st.from_regex(r"[A-Za-z“(][A-Za-z0-9 ,.:;'\"“”/()+%=#-]{0,60}", fullmatch=True),
    )
)
def test_plain_lines_render_as_the_parser_renders_them(text: str) -> None:
    from qtiexport.markdown import _render_xhtml, is_plain_line

    if is_plain_line(text):
        assert markdown_to_xhtml(text) == _render_xhtml(text, False)
        assert markdown_to_xhtml(text, inline=True) == _render_xhtml(text, True)
        parsed = lxml.html.fragment_fromstring(_render_xhtml(text, False), create_parent="div")
        assert markdown_to_text(text) == " ".join(parsed.text_content().split())


def test_lines_that_markdown_reads_as_blocks_are_parsed() -> None:
    assert "<li>A good year</li>" in markdown_to_xhtml("1986. A good year")
    assert markdown_to_xhtml("- item").startswith("<ul>")
    assert markdown_to_xhtml("# Title") == "<h1>Title</h1>"

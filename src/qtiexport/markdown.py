"""Author Markdown to the XHTML subset that QTI 2.1 item bodies and the player share.

A CommonMark parser does the parsing. Raw HTML is allowed only for a few harmless
inline tags without attributes; anything else is reported to the author instead of
being dropped, so that nothing they wrote silently disappears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import lxml.html
from lxml import etree
from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_RAW_TAGS = frozenset({"sub", "sup", "br", "em", "strong", "b", "i", "small", "code", "abbr"})
LINK_SCHEMES = ("http://", "https://", "mailto:")
# Elements that QTI 2.1 allows in an item body, with the attributes we keep.
_KEEP_ATTRIBUTES = {"a": ("href",)}
_QTI_ELEMENTS = frozenset(
    [
        "p",
        "ul",
        "ol",
        "li",
        "pre",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "em",
        "strong",
        "code",
        "a",
        "br",
        "sub",
        "sup",
        "b",
        "i",
        "small",
        "abbr",
    ]
)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)([^>]*)>|<!--.*?-->", re.S)


@dataclass(frozen=True)
class MarkdownProblem:
    line: int  # 0-based line within the Markdown text
    message: str


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "typographer": False})


def _raw_html_problems(content: str, line: int) -> list[MarkdownProblem]:
    problems = []
    for match in _TAG.finditer(content):
        if match.group(0).startswith("<!--"):
            continue
        name = match.group(2).lower()
        attributes = match.group(3).strip().rstrip("/").strip()
        if name not in SAFE_RAW_TAGS:
            problems.append(
                MarkdownProblem(
                    line,
                    f"raw HTML `<{name}>` is not allowed; write Markdown instead "
                    f"(allowed tags: {', '.join(sorted(SAFE_RAW_TAGS))})",
                )
            )
        elif attributes:
            problems.append(
                MarkdownProblem(
                    line,
                    f"raw HTML `<{name}>` may not carry attributes (`{attributes[:40]}`); "
                    "remove them",
                )
            )
    leftover = _TAG.sub("", content)
    if "<" in leftover and re.search(r"<[A-Za-z/!?]", leftover):
        problems.append(MarkdownProblem(line, "malformed raw HTML; write Markdown instead"))
    return problems


def _walk(tokens):
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def check_markdown(text: str) -> list[MarkdownProblem]:
    """Everything in the text that would be unsafe or lost in the packages."""
    if is_plain_line(text):
        return []  # no markup at all, so nothing unsafe
    problems: list[MarkdownProblem] = []
    tokens = _parser().parse(text)
    block_line = 0
    for token in _walk(tokens):
        if token.map:
            block_line = token.map[0]
        if token.type in ("html_inline", "html_block"):
            problems.extend(_raw_html_problems(token.content, block_line))
        elif token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if not href.lower().startswith(LINK_SCHEMES):
                problems.append(
                    MarkdownProblem(
                        block_line,
                        f"link target `{href[:60]}` is not allowed; links must start with "
                        "http://, https:// or mailto:",
                    )
                )
        elif token.type == "image":
            problems.append(
                MarkdownProblem(
                    block_line,
                    "images in Markdown are not allowed; list the image under the case's "
                    "`images` and name its id in the question's `images`",
                )
            )
    # CommonMark turns an unsafe link into plain text; catch what it refused.
    for match in re.finditer(r"\]\(\s*<?\s*(javascript|vbscript|data|file):", text, re.I):
        problems.append(
            MarkdownProblem(
                text.count("\n", 0, match.start()),
                f"link target `{match.group(1)}:` is not allowed; links must start with "
                "http://, https:// or mailto:",
            )
        )
    # An opening and a closing tag are one mistake to the author.
    return list(dict.fromkeys(problems))


def _clean(element: etree._Element) -> None:
    for child in element.iter():
        if not isinstance(child.tag, str):
            continue
        keep = _KEEP_ATTRIBUTES.get(child.tag, ())
        for name in list(child.attrib):
            if name not in keep:
                del child.attrib[name]
        if child.tag not in _QTI_ELEMENTS and child is not element:
            # Unreachable for checked text; a safe fallback keeps only the words.
            child.tag = "span"


# A single line with none of these characters, and none of these at its start, is a
# plain paragraph in CommonMark: its XHTML is the text itself. Most choices and many
# stems are such lines; skipping the parser for them halves the rendering time.
_MARKUP_CHARACTERS = frozenset("\\`*_[]<>&!|~\n\r\t")
_BLOCK_STARTS = frozenset("-+=#>0123456789 ")


def is_plain_line(text: str) -> bool:
    return (
        bool(text)
        and text.isprintable()  # no control characters or unusual spaces
        and text == text.strip()
        and text[0] not in _BLOCK_STARTS
        and _MARKUP_CHARACTERS.isdisjoint(text)
    )


@lru_cache(maxsize=4096)  # the SCO and the QTI items of a case render the same texts
def markdown_to_xhtml(text: str, *, inline: bool = False) -> Markup:
    """Render checked Markdown to an XHTML fragment without a namespace.

    The fragment is well-formed XML and valid HTML5, so the QTI templates put it in
    the QTI namespace simply by placing it inside an element that declares it.
    """
    if is_plain_line(text):
        return Markup(text if inline else f"<p>{text}</p>")
    return _render_xhtml(text, inline)


def _render_xhtml(text: str, inline: bool) -> Markup:
    parser = _parser()
    html = parser.renderInline(text) if inline else parser.render(text)
    if not html.strip():
        return Markup("")
    wrapper = lxml.html.fragment_fromstring(html, create_parent="div")
    # Comments would survive serialisation; authors' notes do not belong to learners.
    for comment in wrapper.xpath("//comment()"):
        comment.drop_tree()
    _clean(wrapper)
    out = [wrapper.text and _escape(wrapper.text) or ""]
    for child in wrapper:
        out.append(etree.tostring(child, encoding="unicode", method="xml"))
    # Safe to mark: built by lxml from checked Markdown, attributes filtered by _clean.
    return Markup("".join(out).strip())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=4096)
def markdown_to_text(text: str) -> str:
    """The words of a Markdown text, for titles, alt text and SCORM descriptions."""
    if is_plain_line(text):  # its XHTML is the text itself: no parsing needed
        return " ".join(text.split())
    html = markdown_to_xhtml(text)
    if not html:
        return ""
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())

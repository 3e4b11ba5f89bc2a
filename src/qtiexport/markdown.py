"""Author Markdown to the XHTML subset that QTI 2.1 item bodies and the player share.

Each Markdown field is rendered once, in the mode it is shown (inline or block), while
the course is validated; the model keeps that XHTML and every renderer uses it as is.

Block fields take GitHub-style tables, rendered as `<table>` with a header row of
`<th scope="col">` (for screen readers) and body rows of `<td>`; the `:` alignment marks
are accepted and dropped (QTI has no alignment attribute, and the player aligns cells to
the start of the line).

Two checks, both reported to the author with a line, never applied silently:
- the raw HTML the author wrote may be only a few inline tags without attributes, and
  no comment, processing instruction, CDATA section or declaration in any form;
- the rendered output, parsed as a browser parses it (html5lib, an HTML5 parser), must
  hold nothing outside one allowlist of elements, attributes and URL schemes, and
  nh3 (Ammonia), cleaning it with that allowlist, must change nothing. What is shipped
  is that very parsed tree, serialised as XHTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal
from xml.etree import ElementTree

import html5lib
import lxml.html
import nh3
from markdown_it import MarkdownIt
from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

MarkdownMode = Literal["inline", "block"]

SAFE_RAW_TAGS = frozenset({"sub", "sup", "br", "em", "strong", "b", "i", "small", "code", "abbr"})
LINK_SCHEMES = ("http://", "https://", "mailto:")
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# The policy: what the rendered output may contain, by mode. Block elements inside an
# inline field (a choice in a <label>) would break the page around it.
INLINE_ELEMENTS = frozenset(
    {"em", "strong", "code", "a", "br", "sub", "sup", "b", "i", "small", "abbr"}
)
TABLE_ELEMENTS = frozenset({"table", "thead", "tbody", "tr", "th", "td"})
BLOCK_ELEMENTS = (
    INLINE_ELEMENTS
    | TABLE_ELEMENTS
    | frozenset(
        {"p", "ul", "ol", "li", "pre", "blockquote", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
    )
)
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {"a": frozenset({"href"})}
# Attributes allowed with these values only: a header cell heads its column.
ALLOWED_ATTRIBUTE_VALUES: dict[str, dict[str, frozenset[str]]] = {
    "th": {"scope": frozenset({"col"})}
}
URL_ATTRIBUTES = frozenset({"href"})
VOID_ELEMENTS = frozenset({"br", "hr"})

_RAW_HTML = re.compile(HTML_TAG_RE.pattern)
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)")
_ATTRIBUTE_NAME = re.compile(r"(?:^|\s)([a-zA-Z_:][a-zA-Z0-9:._-]*)")
# What a browser removes from a URL before reading its scheme (URL standard).
_URL_EDGES = "".join(chr(c) for c in range(0x21))
_URL_INSIDE = re.compile("[\t\n\r]")


@dataclass(frozen=True)
class Markdown:
    """A Markdown text with the XHTML it renders to, checked against the HTML policy."""

    source: str
    html: Markup

    @cached_property
    def text(self) -> str:
        """The words, for titles, alt text and descriptions that take plain text."""
        return html_to_text(self.html)


@dataclass(frozen=True)
class MarkdownProblem:
    line: int  # 0-based line within the Markdown text
    message: str


@dataclass(frozen=True)
class _Finding:
    """One thing the policy refuses. Its keys, (element, attribute, value) or shorter,
    let the check of the output skip what the check of the raw HTML already reported:
    an output finding whose key starts with a reported key is the same mistake."""

    keys: tuple[tuple[str, ...], ...]
    message: str

    @property
    def key(self) -> tuple[str, ...]:
        return self.keys[0]


def _render_fence(renderer, tokens, idx, options, env) -> str:
    # The info string (```python) would become class="language-python", which neither
    # QTI nor the player uses: it names the code's language, it is not shown.
    return f"<pre><code>{escapeHtml(tokens[idx].content)}</code></pre>\n"


def _render_header_cell(renderer, tokens, idx, options, env) -> str:
    # GitHub tables have one header row, over the columns; the alignment goes (see above).
    return '<th scope="col">'


def _render_data_cell(renderer, tokens, idx, options, env) -> str:
    return "<td>"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")
    parser.add_render_rule("fence", _render_fence)
    parser.add_render_rule("th_open", _render_header_cell)
    parser.add_render_rule("td_open", _render_data_cell)
    return parser


# ----------------------------------------------------------------- rendering


def _pieces(tokens, parser: MarkdownIt) -> Iterator[tuple[int, str, object]]:
    """(line, rendered HTML, token) for each token, in order: joined, they are exactly
    what markdown-it's renderer writes, and each piece knows the line it comes from."""
    renderer = parser.renderer
    options = parser.options
    env: dict = {}
    line = 0
    for index, token in enumerate(tokens):
        if token.map:
            line = token.map[0]
        if token.type == "inline":
            child_line = line
            for child in token.children or ():
                yield child_line, renderer.renderInline([child], options, env), child
                if child.type in ("softbreak", "hardbreak"):
                    child_line += 1
                else:
                    child_line += child.content.count("\n")
        elif token.type in renderer.rules:
            yield line, renderer.rules[token.type](tokens, index, options, env), token
        else:
            yield line, renderer.renderToken(tokens, index, options, env), token


def _tokens(source: str, mode: MarkdownMode):
    parser = _parser()
    env: dict = {}
    if mode == "inline":
        return parser.parseInline(source, env)
    return parser.parse(source, env)


def render_markdown(source: str, mode: MarkdownMode) -> tuple[Markup, list[MarkdownProblem]]:
    """The XHTML of `source` shown in `mode`, and every problem the author must fix.

    The XHTML is empty when there are problems: nothing unchecked is ever returned.
    """
    if is_plain_line(source):  # no markup at all, so nothing to check
        return Markup(source if mode == "inline" else f"<p>{source}</p>"), []
    if len(source) > MAX_REMEMBERED_SOURCE:
        return _rendered(source, mode)
    html, problems = _remembered_rendering(source, mode)
    return html, list(problems)


# Texts rendered in this process, by source and mode: a reference cited in many cases, a
# feedback or a choice written again, is parsed and checked once. Bounded in count and
# size: at most some 20 MB of sources and their XHTML, however many texts a course has.
REMEMBERED_RENDERINGS = 512
MAX_REMEMBERED_SOURCE = 4_000  # characters; longer texts are rare and rendered each time


@lru_cache(maxsize=REMEMBERED_RENDERINGS)
def _remembered_rendering(
    source: str, mode: MarkdownMode
) -> tuple[Markup, tuple[MarkdownProblem, ...]]:
    html, problems = _rendered(source, mode)
    return html, tuple(problems)


def _rendered(source: str, mode: MarkdownMode) -> tuple[Markup, list[MarkdownProblem]]:
    if mode == "inline" and "|" in source:
        table_line = _table_line(source)
        if table_line is not None:
            return Markup(""), [MarkdownProblem(table_line, INLINE_TABLE)]
    return _render_parsed(source, mode)


INLINE_TABLE = (
    "a table cannot be shown here, where the text is one line (a choice, the diagnosis, a "
    "reference); put the table in the stem, the history, the teaching or the feedback"
)


def _table_line(source: str) -> int | None:
    """The line where a table starts, if `source` read as blocks holds one: shown inline,
    it would be a row of `|` characters, never a table."""
    for token in _parser().parse(source, {}):
        if token.type == "table_open" and token.map:
            return token.map[0]
    return None


def _render_parsed(source: str, mode: MarkdownMode) -> tuple[Markup, list[MarkdownProblem]]:
    tokens = _tokens(source, mode)
    pieces = list(_pieces(tokens, _parser()))
    problems: list[MarkdownProblem] = []
    seen: set[tuple[str, ...]] = set()
    for line, _, token in pieces:
        for finding in _token_findings(token, tokens):
            problems.append(MarkdownProblem(line, finding.message))
            seen.update(finding.keys)
    for finding in _refused_links(source):
        problems.append(finding)
    html = "".join(piece for _, piece, _ in pieces)
    fragment = _parse_html(html)
    for finding in _policy_findings(fragment, mode, html):
        key = finding.key
        if not any(key[:length] in seen for length in range(1, len(key) + 1)):
            seen.add(key)
            problems.append(MarkdownProblem(_locate(finding, pieces, mode), finding.message))
    if problems:
        # An opening and a closing tag are one mistake to the author.
        return Markup(""), list(dict.fromkeys(problems))
    return Markup(_serialise(fragment).strip()), []


def check_markdown(text: str, mode: MarkdownMode = "block") -> list[MarkdownProblem]:
    """Everything in the text that would be unsafe or lost in the packages."""
    return render_markdown(text, mode)[1]


# --------------------------------------------------------- what the author wrote


def _token_findings(token, tokens) -> Iterator[_Finding]:
    if token.type == "table_open" and not _has_body(token, tokens):
        yield _Finding(
            (("table",),),
            "this table has a header row but no rows under it; add a row of cells under "
            "the `|---|` line, or escape the first `|` as `\\|` if it is not a table",
        )
    elif token.type in ("html_inline", "html_block"):
        yield from _raw_html_findings(token.content)
    elif token.type == "link_open":
        href = str(token.attrGet("href") or "")
        if not _allowed_url(href):
            yield _url_finding(href)
    elif token.type == "image":
        yield _Finding(
            (("img",),),
            "images in Markdown are not allowed; list the image under the case's "
            "`images` and name its id in the question's `images`",
        )


def _has_body(table_open, tokens) -> bool:
    """Whether the table that `table_open` opens has body rows: QTI's `<table>` needs a
    `<tbody>` with at least one row."""
    start = next(i for i, t in enumerate(tokens) if t is table_open)
    for token in tokens[start + 1 :]:
        if token.type == "tbody_open":
            return True
        if token.type == "table_close":
            return False
    return False


_NOT_MARKUP = {
    "<!--": "an HTML comment (`<!-- … -->`)",
    "<![CDATA[": "a CDATA section (`<![CDATA[ … ]]>`)",
    "<?": "a processing instruction (`<? … ?>`)",
    "<!": "a declaration (`<!…>`)",
}


def _raw_html_findings(content: str) -> Iterator[_Finding]:
    # Every comment form is refused, wherever markdown-it thinks it ends: browsers end
    # `<!-->`, `<!--->` and `--!>` comments earlier, and what follows would be markup.
    for start, what in _NOT_MARKUP.items():
        if start in content:
            yield _Finding(
                (("#comment",),),
                f"{what} is not allowed in Markdown; delete it, or put it in backticks "
                "to show it as text",
            )
            break
    for match in _RAW_HTML.finditer(content):
        tag = match.group(0)
        name_match = _TAG_NAME.match(tag)
        if name_match is None:
            continue  # a comment or the like: reported above
        name = name_match.group(1).lower()
        attributes = tag[name_match.end() : -1].strip().rstrip("/").strip()
        if name not in SAFE_RAW_TAGS:
            yield _Finding(
                ((name,),),
                f"raw HTML `<{name}>` is not allowed; write Markdown instead "
                f"(allowed tags: {', '.join(sorted(SAFE_RAW_TAGS))})",
            )
        elif attributes:
            names = [a.lower() for a in _ATTRIBUTE_NAME.findall(attributes)]
            yield _Finding(
                tuple((name, attribute) for attribute in names) or ((name,),),
                f"raw HTML `<{name}>` may not carry attributes (`{attributes[:40]}`); remove them",
            )
    leftover = _RAW_HTML.sub("", content)
    if re.search(r"<[A-Za-z/!?]", leftover):
        yield _Finding((("#malformed",),), "malformed raw HTML; write Markdown instead")


def _refused_links(source: str) -> Iterator[MarkdownProblem]:
    # CommonMark turns a link to one of these schemes into plain text; the author meant
    # a link, so say why there is none.
    for match in re.finditer(r"\]\(\s*<?\s*(javascript|vbscript|data|file):", source, re.I):
        yield MarkdownProblem(
            source.count("\n", 0, match.start()),
            f"link target `{match.group(1)}:` is not allowed; links must start with "
            "http://, https:// or mailto:",
        )


# ------------------------------------------------------------ what is rendered


def _parse_html(html: str) -> ElementTree.Element:
    """The fragment as a browser's HTML5 parser reads it, inside a <div>."""
    return html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)


def _name(element: ElementTree.Element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else "#comment"


def _allowed_url(value: str) -> bool:
    """Whether a URL, read as a browser reads it, starts with an allowed scheme."""
    url = _URL_INSIDE.sub("", value.strip(_URL_EDGES)).lower()
    return url.startswith(LINK_SCHEMES)


def _url_finding(href: str) -> _Finding:
    return _Finding(
        (("a", "href", href),),
        f"link target `{href[:60]}` is not allowed; links must start with "
        "http://, https:// or mailto:",
    )


def _attribute_finding(element: str, attribute: str, value: str) -> _Finding:
    key = ((element, attribute),)
    if (element, attribute) == ("a", "title"):
        return _Finding(
            key,
            f'link title "{value[:40]}" cannot be kept: QTI links have no title; '
            "remove the quoted title after the link address",
        )
    if (element, attribute) == ("ol", "start"):
        return _Finding(
            key,
            f"a numbered list starts at {value[:12]}, but QTI numbers every list from 1; "
            f"start it at 1, or write `{value[:12]}\\.` if the number is not a list item",
        )
    return _Finding(key, f"`<{element}>` may not carry the attribute `{attribute}`; remove it")


def _policy_findings(
    fragment: ElementTree.Element, mode: MarkdownMode, html: str
) -> Iterator[_Finding]:
    allowed = INLINE_ELEMENTS if mode == "inline" else BLOCK_ELEMENTS
    found = False
    for element in fragment.iter():
        if element is fragment:
            continue
        name = _name(element)
        if name == "#comment":
            found = True
            yield _Finding(
                (("#comment",),),
                "an HTML comment or something a browser reads as one (`<!…>`, `<?…>`) is "
                "not allowed in Markdown; delete it",
            )
            continue
        if name not in allowed:
            found = True
            where = "" if name in BLOCK_ELEMENTS else "raw HTML "
            yield _Finding(
                ((name,),),
                f"{where}`<{name[:40]}>` is not allowed here; write "
                + ("plain inline Markdown" if name in BLOCK_ELEMENTS else "Markdown instead"),
            )
            continue
        for attribute, value in element.attrib.items():
            attribute = str(attribute).rsplit("}", 1)[-1]
            values = ALLOWED_ATTRIBUTE_VALUES.get(name, {}).get(attribute)
            if values is not None:
                if value not in values:
                    found = True
                    yield _attribute_finding(name, attribute, value)
            elif attribute not in ALLOWED_ATTRIBUTES.get(name, ()):
                found = True
                yield _attribute_finding(name, attribute, value)
            elif attribute in URL_ATTRIBUTES and not _allowed_url(value):
                found = True
                yield _url_finding(value)
    if not found and _canonical(fragment) != _canonical(_parse_html(_nh3_clean(html, mode))):
        # Unreachable unless the two disagree; the sanitiser has the last word.
        yield _Finding(
            (("#sanitiser",),),
            "the rendered HTML holds something the HTML policy would change; "
            "write plain Markdown instead",
        )


def _nh3_clean(html: str, mode: MarkdownMode) -> str:
    allowed_tags = INLINE_ELEMENTS if mode == "inline" else BLOCK_ELEMENTS
    return nh3.clean(
        html,
        tags=set(allowed_tags),
        clean_content_tags=set(),
        attributes={name: set(names) for name, names in ALLOWED_ATTRIBUTES.items()},
        tag_attribute_values={
            name: {attribute: set(values) for attribute, values in allowed.items()}
            for name, allowed in ALLOWED_ATTRIBUTE_VALUES.items()
            if name in allowed_tags
        },
        url_schemes=set(URL_SCHEMES),
        strip_comments=True,
        link_rel=None,
    )


def _locate(finding: _Finding, pieces, mode: MarkdownMode) -> int:
    """The line of the first piece that shows the finding on its own (the first line
    of the text when only the whole shows it)."""
    for line, piece, _ in pieces:
        if "<" in piece and any(
            f.key == finding.key for f in _policy_findings(_parse_html(piece), mode, piece)
        ):
            return line
    return 0


# ----------------------------------------------------------------- serialising


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(value: str) -> str:
    return _escape_text(value).replace('"', "&quot;")


def _serialise(fragment: ElementTree.Element) -> str:
    """The checked tree as XHTML that XML and HTML parsers both read back as this tree:
    `<br/>` for void elements, an end tag for every other element (`<li></li>`)."""
    out = [_escape_text(fragment.text or "")]

    def write(element: ElementTree.Element) -> None:
        name = _name(element)
        attributes = "".join(
            f' {key}="{_escape_attribute(value)}"' for key, value in sorted(element.attrib.items())
        )
        if name in VOID_ELEMENTS:
            out.append(f"<{name}{attributes}/>")
        else:
            out.append(f"<{name}{attributes}>{_escape_text(element.text or '')}")
            for child in element:
                write(child)
            out.append(f"</{name}>")
        out.append(_escape_text(element.tail or ""))

    for child in fragment:
        write(child)
    return "".join(out)


def _canonical(fragment: ElementTree.Element) -> str:
    """A form in which two parses of the same markup compare equal, whatever quotes,
    entity spellings or `<br>`/`<br/>` the two serialisations chose."""
    parts = [repr(fragment.text or "")]
    for element in fragment.iter():
        if element is fragment:
            continue
        parts.append(f"<{_name(element)} {sorted(element.attrib.items())!r} {element.text!r}")
        parts.append(f"/{len(list(element))} {element.tail!r}")
    return "\n".join(parts)


# ------------------------------------------------------------------ plain text

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


def html_to_text(html: str) -> str:
    """The words of checked XHTML, whitespace collapsed."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    if not html.strip():
        return ""
    return " ".join(lxml.html.fragment_fromstring(html, create_parent="div").text_content().split())


def markdown_to_text(value: str | Markdown) -> str:
    """The words of a Markdown text, for titles, alt text and SCORM descriptions."""
    if isinstance(value, Markdown):
        return value.text
    if is_plain_line(value):  # its XHTML is the text itself: no parsing needed
        return " ".join(value.split())
    return html_to_text(render_markdown(value, "block")[0])

"""One HTML policy, judged on what is rendered: adversarial Markdown in every field.

Each example puts Markdown built from a grammar of attacks (comment forms that parsers
end in different places, CDATA, processing instructions, entity-encoded and split URL
schemes, code blocks, reference definitions with titles, autolinks, nested and unclosed
tags, event handlers) into one Markdown field of a small course written to disk, and
validates and renders it as a build does. Either validation reports an error located
in that field, or what reaches the packages, parsed by lxml's HTML parser, by html5lib
(an HTML5 parser, as browsers) and by lxml's XML parser (as QTI players), holds nothing
outside the allowlist.

HYPOTHESIS_PROFILE=large runs 10,000 examples (the `ci` profile, the default, 300).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import html5lib
import lxml.html
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from qtiexport.diagnostics import ContentError
from qtiexport.markdown import (
    BLOCK_ELEMENTS,
    INLINE_ELEMENTS,
    _parser,
    _pieces,
    _tokens,
    render_markdown,
)
from qtiexport.model import Case, Choice, Course, Feedback, Image, Question, TeachingSection
from qtiexport.qti import render_qti_case, render_qti_manifest
from qtiexport.scorm import for_page, player_asset_paths, render_manifest, render_sco
from qtiexport.validate import validate_course

from conftest import FIXTURES

MINIMAL = FIXTURES / "minimal"
LARGE = os.environ.get("HYPOTHESIS_PROFILE") == "large"
EXAMPLES = 10_000 if LARGE else 300

# ------------------------------------------------------------------ the grammar

PAYLOAD = "alert(1)"
SCHEMES = [
    "javascript:",
    "JaVaScRiPt:",
    "jav&#x61;script:",
    "jav&#97;script:",
    "&#106;avascript:",
    "&#x6A;avascript&colon;",
    "java\tscript:",
    "java&#x09;script:",
    "java&Tab;script:",
    "java\nscript:",
    " javascript:",
    "\\javascript:",
    "vbscript:",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "//evil.example/",
    "https:",
    "https://example.org/?q=",
    "mailto:a@example.org?body=",
]
COMMENTS = [
    "<!--",
    "-->",
    "<!-->",
    "<!--->",
    "--!>",
    "<!-- x -->",
    "<!-- x --!>",
    "<!-- x --->",
    "<!---->",
    "<!--->-->",
    "<!-- <!-- -->",
    "<!- x ->",
    "<!>",
    "<!x>",
    "<!DOCTYPE html>",
    '<!ENTITY x "<script>">',
]
CDATA_AND_PI = [
    "<![CDATA[",
    "]]>",
    "<![CDATA[<a href=javascript:alert(1)>x</a>]]>",
    "<?",
    "?>",
    "<?php alert(1) ?>",
    '<?xml-stylesheet href="#"?>',
    "<?x <a href=javascript:alert(1)> ?>",
]
TAG_NAMES = [
    "a",
    "b",
    "i",
    "sub",
    "abbr",
    "br",
    "p",
    "img",
    "script",
    "style",
    "iframe",
    "svg",
    "math",
    "object",
    "form",
    "textarea",
    "title",
    "xmp",
    "noscript",
    "template",
    "plaintext",
    "table",
    "select",
    "div",
    "base",
    "meta",
]
ATTRIBUTES = [
    "",
    " onerror=alert(1)",
    ' onclick="alert(1)"',
    " OnMouseOver='alert(1)'",
    " /onload=alert(1)",
    " title=x",
    " src=x",
    " srcdoc='<script>alert(1)</script>'",
    ' style="x:expression(alert(1))"',
    ' xlink:href="javascript:alert(1)"',
    ' action="javascript:alert(1)"',
    ' formaction="javascript:alert(1)"',
]
TEXT = ["x", " ", "\n", "\n\n", "  \n", "\t", "&amp;", "&", "<", ">", "\\<", "*", "_", "`", '"']
BLOCK_STARTS = ["", "> ", "- ", "1. ", "7) ", "# ", "    ", "\t", "***\n", "   "]


def url() -> st.SearchStrategy[str]:
    return st.builds(lambda s, p: s + p, st.sampled_from(SCHEMES), st.sampled_from([PAYLOAD, ""]))


def raw_tag() -> st.SearchStrategy[str]:
    opening = st.builds(
        lambda name, attributes, close: f"<{name}{attributes}{close}",
        st.sampled_from(TAG_NAMES),
        st.lists(st.sampled_from(ATTRIBUTES), max_size=2).map("".join),
        st.sampled_from([">", "/>", "", " "]),  # "" and " ": unclosed
    )
    link = st.builds(lambda u, q: f"<a href={q}{u}{q}>", url(), st.sampled_from(['"', "'", ""]))
    closing = st.sampled_from(TAG_NAMES).map(lambda name: f"</{name}>")
    return st.one_of(opening, link, closing)


def markdown_link() -> st.SearchStrategy[str]:
    title = st.sampled_from(["", ' "t"', " '<img src=x onerror=alert(1)>'", ' "<!--"'])
    return st.one_of(
        st.builds(lambda u, t: f"[x]({u}{t})", url(), title),
        st.builds(lambda u, t: f"[x](<{u}>{t})", url(), title),
        st.builds(lambda u: f"<{u}>", url()),  # autolink
        st.builds(lambda u, t: f"[x][r]\n\n[r]: {u}{t}\n", url(), title),
        st.builds(lambda u, t: f"[r]: {u}{t}\n", url(), title),  # a definition alone
        st.builds(lambda u: f"![x]({u})", url()),
    )


def code(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        inner.map(lambda s: "    " + s.replace("\n", "\n    ")),  # indented code block
        st.builds(
            lambda info, s: f"```{info}\n{s}\n```\n", st.sampled_from(["", "js", "<b>"]), inner
        ),
        inner.map(lambda s: f"`{s}`"),
    )


ATOM = st.one_of(
    st.sampled_from(COMMENTS),
    st.sampled_from(CDATA_AND_PI),
    st.sampled_from(TEXT),
    raw_tag(),
    markdown_link(),
    url(),
)
SNIPPET = st.lists(ATOM, min_size=1, max_size=6).map("".join)
MARKDOWN = st.lists(
    st.one_of(
        st.builds(lambda start, s: start + s, st.sampled_from(BLOCK_STARTS), SNIPPET),
        code(SNIPPET),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "\n".join(parts))


# ------------------------------------------------------------ the course fields


@dataclass(frozen=True)
class Field:
    """Where one Markdown field sits in the minimal course, and how errors name it."""

    name: str
    file: str  # relative to the course folder
    anchor: str  # the line the field goes on (replaced, or the value put after it)
    what: str  # how error messages begin
    mode: str
    in_sco: bool
    in_qti: bool

    def model_value(self, course: Course):
        case = course.cases[0]
        q1 = case.questions[0]
        return {
            "description": lambda: course.description,
            "history": lambda: case.history,
            "diagnosis": lambda: case.diagnosis,
            "caption": lambda: case.images[0].caption,
            "teaching body": lambda: case.teaching[0].body,
            "stem": lambda: q1.stem,
            "choice": lambda: q1.choices[0].text,
            "choice mapping": lambda: q1.choices[1].text,
            "choice feedback": lambda: q1.choices[0].feedback,
            "correct feedback": lambda: q1.feedback.correct,
            "incorrect feedback": lambda: q1.feedback.incorrect,
            "explanation": lambda: q1.feedback.explanation,
        }[self.name]()


CASE = "cases/c1/case.yaml"
QUESTIONS = "cases/c1/questions.yaml"
FIELDS = [
    Field("description", "course.yaml", "description: ", "`description` of course.yaml",
          "block", False, False),
    Field("history", CASE, "history: ", "`history` of case.yaml", "block", True, True),
    Field("diagnosis", CASE, "diagnosis: ", "`diagnosis` of case.yaml", "inline", True, True),
    Field("caption", CASE, "    caption: ", "`caption` of image `xray`", "block", False, True),
    Field("teaching body", CASE, "    body: ", "`body` of a teaching section", "block", True,
          True),
    Field("stem", QUESTIONS, "    stem: ", "`stem` of question `q1`", "block", True, True),
    Field("choice", QUESTIONS, "      a: ", "choice `a` of question `q1`", "inline", True, True),
    Field("choice mapping", QUESTIONS, "      b: ", "`text` of choice `b` of question `q1`",
          "inline", True, True),
    Field("choice feedback", QUESTIONS, "        a: ", "feedback for choice `a`", "block", True,
          True),
    Field("correct feedback", QUESTIONS, "      correct: ", "`correct` of `feedback` of question "
          "`q1`", "block", True, True),
    Field("incorrect feedback", QUESTIONS, "      incorrect: ", "`incorrect` of `feedback` of "
          "question `q1`", "block", True, True),
    Field("explanation", QUESTIONS, "      explanation: ", "`explanation` of `feedback` of "
          "question `q1`", "block", True, True),
]  # fmt: skip
FIELD_BY_NAME = {f.name: f for f in FIELDS}

# The minimal course with every Markdown field present; `@name@` marks where each goes.
COURSE_YAML = "id: minimal\ntitle: Minimal course\ndescription: @description@\ncases: [c1]\n"
CASE_YAML = """\
id: c1
title: A small case
history: @history@
diagnosis: @diagnosis@
images:
  - id: xray
    file: images/xray.png
    caption: @caption@
    alt: A frontal radiograph.
teaching:
  - title: Point
    body: @teaching body@
"""
QUESTIONS_YAML = """\
questions:
  - id: q1
    type: single
    stem: @stem@
    choices:
      a: @choice@
      b:
        text: @choice mapping@
    answer: a
    feedback:
      correct: @correct feedback@
      incorrect: @incorrect feedback@
      explanation: @explanation@
      choices:
        a: @choice feedback@
  - id: q2
    type: text
    stem: Name it.
    answer: [calcinosis]
"""
PLAIN = {f.name: f"Plain {f.name}." for f in FIELDS}


def as_yaml_scalar(text: str, indent: int) -> tuple[str, bool]:
    """`text` as a YAML value written after `key: `, and whether it is a block scalar:
    several lines as a literal block where YAML keeps them as they are, else a
    double-quoted scalar on the key's line."""
    pad = " " * (indent + 2)
    lines = text.split("\n")
    block = "|-\n" + "\n".join(pad + line if line else "" for line in lines)
    try:
        if "\n" in text.strip() and yaml.safe_load("k: " + block.replace("\n", "\n  ")) == {
            "k": text
        }:
            return block, True
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False), False


def write_course(folder: Path, values: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Write the course with these field texts; returns each field's first and last line
    (1-based) in its file."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(MINIMAL, folder)
    spans: dict[str, tuple[int, int]] = {}
    for name, template in (
        ("course.yaml", COURSE_YAML),
        (CASE, CASE_YAML),
        (QUESTIONS, QUESTIONS_YAML),
    ):
        out_lines: list[str] = []
        for line in template.splitlines():
            match = re.search(r"@([a-z ]+)@", line)
            if match is None:
                out_lines.append(line)
                continue
            field = match.group(1)
            indent = len(line) - len(line.lstrip())
            value, block = as_yaml_scalar(values.get(field, PLAIN[field]), indent)
            text = line[: match.start()] + value
            first = len(out_lines) + 1
            out_lines.extend(text.split("\n"))
            spans[field] = (first + (1 if block else 0), max(first, len(out_lines)))
        (folder / name).write_text("\n".join(out_lines) + "\n", encoding="utf-8")
    return spans


# --------------------------------------------------------------- the checks


def browser_url(value: str) -> str:
    """A URL as a browser reads its scheme: outer spaces and controls, and every tab and
    line break, removed."""
    return re.sub("[\t\n\r]", "", value.strip("".join(chr(c) for c in range(0x21)))).lower()


URL_ATTRIBUTE = re.compile(r"(?:^|:)(href|src|action|formaction|data|srcdoc|poster|background)$")


def bad_url(value: str) -> bool:
    url = browser_url(value)
    scheme = re.match(r"([a-z][a-z0-9+.-]*):", url)
    return scheme is not None and scheme.group(1) not in ("http", "https", "mailto")


def lxml_html_tree(html: str):
    return lxml.html.fragment_fromstring(html, create_parent="div")


def html5_tree(html: str):
    return html5lib.parseFragment(html, treebuilder="etree", namespaceHTMLElements=False)


def xml_tree(html: str):
    return etree.fromstring(f"<div>{html}</div>")


def shape(root) -> list:
    """A tree's elements, attributes and text, comparable across parsers."""
    out = [root.text or ""]
    for element in list(root.iter())[1:]:
        tag = element.tag if isinstance(element.tag, str) else "#comment"
        out.append((tag.rsplit("}", 1)[-1], sorted(element.attrib.items()), element.text or ""))
        out.append(element.tail or "")
    return out


def assert_within_allowlist(html: str, mode: str) -> None:
    """The XHTML a field ships, read by each parser a consumer uses, holds only what the
    policy allows, and all three read the same tree."""
    allowed = INLINE_ELEMENTS if mode == "inline" else BLOCK_ELEMENTS
    trees = {
        "lxml.html": lxml_html_tree(html) if html.strip() else None,
        "html5lib": html5_tree(html),
        "xml": xml_tree(html),
    }
    for parser, root in trees.items():
        if root is None:
            continue
        for node in list(root.iter())[1:]:
            assert isinstance(node.tag, str), (parser, "comment or PI", html)
            name = node.tag.rsplit("}", 1)[-1]
            assert name in allowed, (parser, name, html)
            for attribute, value in node.attrib.items():
                assert (name, attribute) == ("a", "href"), (parser, attribute, html)
                assert browser_url(value).startswith(("http://", "https://", "mailto:")), (
                    parser,
                    value,
                    html,
                )
    if html.strip():
        assert shape(trees["html5lib"])[1:] == shape(trees["xml"])[1:], html
        assert shape(trees["lxml.html"])[1:] == shape(trees["xml"])[1:], html


def assert_page_is_inert(data: bytes, kind: str, baseline_elements: set[str]) -> None:
    """A whole package file: no comment, no handler, no script URL, no element that the
    templates and the allowlist do not account for."""
    if kind == "html":
        roots = [
            lxml.html.document_fromstring(data),
            html5lib.parse(data, treebuilder="lxml", namespaceHTMLElements=False).getroot(),
        ]
    else:
        roots = [etree.fromstring(data)]
    for root in roots:
        scripts = 0
        for node in root.iter():
            if not isinstance(node.tag, str):
                text = str(node)
                # The SCORM manifest's own "Generated by qtiexport" is the only comment.
                assert kind == "manifest" and "Generated by qtiexport" in text, text
                continue
            name = etree.QName(node).localname if "}" in node.tag else node.tag
            scripts += name == "script"
            assert name in baseline_elements or name in BLOCK_ELEMENTS, name
            for attribute, value in node.attrib.items():
                local = attribute.rsplit("}", 1)[-1].lower()
                assert not local.startswith("on"), (attribute, value)
                if URL_ATTRIBUTE.search(local):
                    assert not bad_url(value), (attribute, value)
        if kind == "html":
            # the inline JSON and the player's scripts
            assert scripts == 1 + sum(p.endswith(".js") for p in player_asset_paths())


def package_files(course: Course) -> list[tuple[str, bytes, str]]:
    case = course.cases[0]
    files = [("imsmanifest.xml", render_manifest(course), "manifest")]
    files.append(("qti/imsmanifest.xml", render_qti_manifest(course).data, "xml"))
    files.append(("sco.html", render_sco(course, case).encode("utf-8"), "html"))
    for entry in render_qti_case(course, case):
        if entry.name.endswith(".xml"):
            files.append((entry.name, entry.data, "xml"))
    return files


def element_names(files: list[tuple[str, bytes, str]]) -> set[str]:
    names: set[str] = set()
    for _, data, kind in files:
        root = lxml.html.document_fromstring(data) if kind == "html" else etree.fromstring(data)
        names.update(
            etree.QName(n).localname if "}" in n.tag else n.tag
            for n in root.iter()
            if isinstance(n.tag, str)
        )
    return names


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("html-policy")


@pytest.fixture(scope="module")
def baseline(workspace: Path) -> set[str]:
    """Every element the templates write for the plain course."""
    write_course(workspace / "plain", {})
    return element_names(package_files(validate_course(workspace / "plain")))


def check_example(folder: Path, field: Field, text: str, baseline: set[str]) -> str:
    """Validate and render the course with `text` in `field`; assert the policy holds.
    Returns "error" or "accepted"."""
    spans = write_course(folder, {field.name: text})
    # Both modes, whatever the field: the renderer alone keeps the same promise.
    for mode in ("inline", "block"):
        html, problems = render_markdown(text, mode)
        if problems:
            assert html == ""
        else:
            assert_within_allowlist(html, mode)
    try:
        course = validate_course(folder)
    except ContentError as error:
        first, last = spans[field.name]
        mine = [
            d
            for d in error.diagnostics
            if d.location.path.endswith(field.file) and d.message.startswith(field.what)
        ]
        # Only this field is adversarial, so every error is about it, on its lines.
        assert mine == error.diagnostics or all(
            "character" in d.message for d in error.diagnostics if d not in mine
        ), [str(d) for d in error.diagnostics]
        for d in mine:
            assert first <= d.location.line <= last, (str(d), first, last)
        return "error"
    value = field.model_value(course)
    assert value is not None and value.source == text
    assert_within_allowlist(value.html, field.mode)
    files = package_files(course)
    for _, data, kind in files:
        assert_page_is_inert(data, kind, baseline)
    # What was checked is what ships: the very XHTML, byte for byte.
    if field.in_sco and value.html:
        assert for_page(value.html) in files[2][1].decode("utf-8")  # tables in a box
    if field.in_qti and value.html:
        assert any(value.html in data.decode("utf-8") for _, data, _ in files[3:])
    return "accepted"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(field=st.sampled_from(FIELDS), text=MARKDOWN)
def test_adversarial_markdown_is_refused_or_harmless(
    workspace: Path, baseline: set[str], field: Field, text: str
) -> None:
    check_example(workspace / "course", field, text, baseline)


# ------------------------------------------------- the attacks of the issue, one by one


def errors_for(tmp_path: Path, field: str, text: str) -> list[str]:
    write_course(tmp_path / "course", {field: text})
    with pytest.raises(ContentError) as raised:
        validate_course(tmp_path / "course")
    return [str(d).removeprefix(f"{tmp_path / 'course'}/") for d in raised.value.diagnostics]


COMMENT = "an HTML comment (`<!-- … -->`) is not allowed in Markdown; delete it, or put it in backticks to show it as text"  # noqa: E501
RAW_A = "raw HTML `<a>` is not allowed; write Markdown instead (allowed tags: abbr, b, br, code, em, i, small, strong, sub, sup)"  # noqa: E501
JS = "link target `javascript:alert(1)` is not allowed; links must start with http://, https:// or mailto:"  # noqa: E501


@pytest.mark.parametrize(
    "comment",
    ["<!-->", "<!--->", "<!-- x --!>"],
    ids=["empty-comment", "empty-comment-dash", "bang-close"],
)
@pytest.mark.parametrize("field", ["history", "stem", "choice", "teaching body"])
def test_class_1_comment_forms_carrying_a_script_link(
    tmp_path: Path, comment: str, field: str
) -> None:
    """markdown-it reads `<!--> … -->` as one comment; browsers and lxml end it at once,
    so the link after it would be markup. Every comment form is an error of its own."""
    spec = FIELD_BY_NAME[field]
    text = f'Intro\n{comment} <a href="javascript:alert(1)">x</a> -->'
    messages = errors_for(tmp_path, field, text)
    first, _ = write_course(tmp_path / "again", {field: text})[field]
    where = f"{spec.file}:{first + 1}:{len(spec.anchor) + 1}"  # the text's second line
    got = [m.split(": error: ", 1) for m in messages]
    assert all(location.endswith(where) for location, _ in got), messages
    # Inside what markdown-it takes for one comment, the link is found in the output.
    then = JS if comment == "<!-- x --!>" else RAW_A
    assert [message for _, message in got] == [f"{spec.what}: {COMMENT}", f"{spec.what}: {then}"]


def test_class_1_comment_forms_inline_and_block(tmp_path: Path) -> None:
    from qtiexport.markdown import check_markdown

    for text in (
        "<!--> <a href='javascript:alert(1)'>x</a> -->",
        "a <!--> <a href='javascript:alert(1)'>x</a> -->",
        "a <!---> <a href=javascript:alert(1)>x</a> -->",
        "<!-- --!> <a href=javascript:alert(1)>x</a> -->",
    ):
        for mode in ("inline", "block"):
            messages = [p.message for p in check_markdown(text, mode)]
            assert messages[0] == COMMENT and messages[1] in (RAW_A, JS), (text, mode, messages)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<![CDATA[x]]>", "a CDATA section (`<![CDATA[ … ]]>`)"),
        ("<?php echo 1 ?>", "a processing instruction (`<? … ?>`)"),
        ('<?xml-stylesheet href="#"?>', "a processing instruction (`<? … ?>`)"),
        ("<!DOCTYPE html>", "a declaration (`<!…>`)"),
        ("<!-- a note -->", "an HTML comment (`<!-- … -->`)"),
    ],
)
def test_cdata_processing_instructions_and_declarations_are_errors(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert errors_for(tmp_path, "choice", f"x {text}") == [
        f"cases/c1/questions.yaml:6:10: error: choice `a` of question `q1`: {expected} is not "
        "allowed in Markdown; delete it, or put it in backticks to show it as text"
    ]


def test_class_2_indented_code_in_a_choice_is_raw_html_there(tmp_path: Path) -> None:
    """Four spaces make a code block in block Markdown, but a choice is inline: there the
    same text is a raw link, and it is refused where it stands."""
    text = '    <a href="javascript:alert(1)">x</a>'
    assert errors_for(tmp_path, "choice", text) == [
        f"cases/c1/questions.yaml:6:10: error: choice `a` of question `q1`: {RAW_A}",
    ]
    # In a block field the same text is a code block: shown as text, and accepted.
    write_course(tmp_path / "block", {"stem": text})
    stem = validate_course(tmp_path / "block").cases[0].questions[0].stem
    assert stem.html == (
        '<pre><code>&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;\n</code></pre>'
    )


def test_class_2_reference_definition_title_in_a_choice(tmp_path: Path) -> None:
    """A link reference definition is block Markdown; in an inline choice its title is
    plain text with a raw tag in it, refused by name."""
    text = '[x]: https://example.org "<img src=x onerror=alert(1)>"'
    assert errors_for(tmp_path, "choice", text) == [
        "cases/c1/questions.yaml:6:10: error: choice `a` of question `q1`: raw HTML `<img>` is "
        "not allowed; write Markdown instead (allowed tags: abbr, b, br, code, em, i, small, "
        "strong, sub, sup)"
    ]


def test_class_2_a_link_title_is_an_error_not_dropped(tmp_path: Path) -> None:
    text = 'See [x][r].\n\n[r]: https://example.org "<img src=x onerror=alert(1)>"'
    assert errors_for(tmp_path, "stem", text) == [
        'cases/c1/questions.yaml:5:11: error: `stem` of question `q1`: link title "<img src=x '
        'onerror=alert(1)>" cannot be kept: QTI links have no title; remove the quoted title '
        "after the link address"
    ]


def test_each_field_is_rendered_in_its_declared_mode(tmp_path: Path) -> None:
    """Choices and the diagnosis inline, the rest block, the same in every package."""
    values = {f.name: f"*{f.name}*" for f in FIELDS}
    write_course(tmp_path / "course", values)
    course = validate_course(tmp_path / "course")
    for field in FIELDS:
        html = field.model_value(course).html
        inner = f"<em>{field.name}</em>"
        assert html == (inner if field.mode == "inline" else f"<p>{inner}</p>"), field.name
    page = render_sco(course, course.cases[0])
    assert '<div class="prose diagnosis"><em>diagnosis</em></div>' in page
    assert '<div class="caption-text"><p><em>caption</em></p></div>' in page


@pytest.mark.parametrize(
    "model", [Case, Choice, Course, Feedback, Image, Question, TeachingSection]
)
def test_every_markdown_field_declares_its_mode(model) -> None:
    from dataclasses import fields

    from qtiexport.markdown import Markdown

    for declared in fields(model):
        if "Markdown" in str(declared.type):
            assert declared.metadata["markdown"] in ("inline", "block"), declared.name
        else:
            assert "markdown" not in declared.metadata
    assert Markdown  # the type the fields name


def test_the_checked_pieces_are_what_markdown_it_renders() -> None:
    """The per-line pieces the policy locates problems in add up to markdown-it's own
    rendering, so nothing is rendered that was not seen."""
    parser = _parser()
    for text in (
        "- a\n- b *c*\n\n  d <sub>x</sub>\n\n> q\n\n    code\n\n```\nf\n```\n",
        "a  \nb\\\nc `d`\n[x](https://a.b) <https://c.d> <e@f.g>",
        "# h\n\n---\n1. x\n2. y\n\n<sub>\nz\n</sub>",
    ):
        for mode in ("inline", "block"):
            whole = parser.renderInline(text) if mode == "inline" else parser.render(text)
            assert "".join(p for _, p, _ in _pieces(_tokens(text, mode), parser)) == whole


# ------------------------------------------- the packages of a course of harmless tries

HARMLESS = {
    "history": 'Code: `<!--> <a href="javascript:alert(1)">x</a> -->` and \\<!-- escaped.',
    "stem": '    <a href="javascript:alert(1)">indented code</a>\n    <!--> -->',
    "diagnosis": "`<?php alert(1) ?>` and `<![CDATA[x]]>`",
    "choice": "`<a href=jav&#x61;script:alert(1)>` as code",
    "choice mapping": "java\\tscript is not a link, nor <b>this</b>",
    "teaching body": '```\n<!-- not a comment -->\n<a href="javascript:alert(1)">x</a>\n```\n',
    "explanation": "[ok](https://example.org) and <mailto:a@example.org>",
    "choice feedback": "`<!--->` `--!>`",
}


def test_packages_carry_no_script_link_and_no_comment(tmp_path: Path, run_cli) -> None:
    """Attempts that are accepted as harmless text (code spans, code blocks, escapes)
    reach the packages as text: no `javascript:` outside text, no comment, in any file."""
    course_folder = tmp_path / "course"
    write_course(course_folder, HARMLESS)
    result = run_cli("build", str(course_folder), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    checked = 0
    for archive in sorted((tmp_path / "out").glob("*.zip")):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if not name.endswith((".html", ".xml")):
                    continue
                data = z.read(name)
                html = name.endswith(".html")
                roots = (
                    [
                        lxml.html.document_fromstring(data),
                        html5lib.parse(data, treebuilder="lxml").getroot(),
                    ]
                    if html
                    else [etree.fromstring(data)]
                )
                for root in roots:
                    # The SCORM manifest's "Generated by qtiexport" is the only comment.
                    comments = [str(c) for c in root.iter(etree.Comment)]
                    assert all("Generated by qtiexport" in c for c in comments), (name, comments)
                    in_text = sum(t.count("javascript:") for t in root.itertext())
                    for node in root.iter():
                        if isinstance(node.tag, str):
                            for value in node.attrib.values():
                                assert "javascript" not in browser_url(value), (name, value)
                    # Every `javascript:` in the file's bytes is in a text node.
                    if not html:
                        assert data.decode("utf-8").count("javascript:") == in_text, name
                checked += 1
    assert checked >= 8

"""GitHub-style Markdown tables: accessible tables in the player, XHTML tables in QTI."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
from lxml import etree

from lms.radiology_course import CASE_ID, make_radiology_course
from qtiexport.markdown import _nh3_clean, _parse_html, _policy_findings, render_markdown
from qtiexport.model import Course
from qtiexport.qti import item_href, render_qti_package
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import render_sco
from qtiexport.validate import validate_course

QTI = {"q": "http://www.imsglobal.org/xsd/imsqti_v2p1"}
HTML = {"h": "http://www.w3.org/1999/xhtml"}
STAGES = ["Phase", "Weeks", "Radiograph"]
TABLE_IN_QUESTIONS = """\
  - id: q4
    type: single
    stem: |
      Which phase fits?

      | Phase | Rim |
      |-------|-----|
      | Early | no |
    choices: {a: Early, b: Mature}
    answer: b
    feedback:
      explanation: |
        | Sign | Phase |
        |:-----|------:|
        | zoning | mature |
      choices:
        a: |
          | Sign | Phase |
          |------|-------|
          | no rim | early |
"""


def test_a_table_renders_with_column_headers_and_no_alignment_styles() -> None:
    html, problems = render_markdown("| a | b |\n|:--|--:|\n| 1 **x** | > 2 |\n", "block")
    assert problems == []
    assert html == (
        "<table>\n<thead>\n<tr>\n"
        '<th scope="col">a</th>\n<th scope="col">b</th>\n'
        "</tr>\n</thead>\n<tbody>\n<tr>\n"
        "<td>1 <strong>x</strong></td>\n<td>&gt; 2</td>\n"
        "</tr>\n</tbody>\n</table>"
    )


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    """The radiology course (tables in the history, the teaching and the findings) with a
    question whose stem, explanation and choice feedback hold tables too."""
    folder = make_radiology_course(tmp_path_factory.mktemp("tables"))
    questions = folder / "cases" / CASE_ID / "questions.yaml"
    questions.write_text(questions.read_text() + TABLE_IN_QUESTIONS)
    return validate_course(folder)


def headers(table: etree._Element, prefix: str, ns: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (th.xpath("string()", namespaces=ns), th.get("scope"))
        for th in table.xpath(f"{prefix}:thead/{prefix}:tr/{prefix}:th", namespaces=ns)
    ]


def test_tables_in_the_sco_are_accessible_tables_in_a_scrolling_box(course: Course) -> None:
    page = render_sco(course, course.cases[0])
    # As the browser reads the page: html5lib is an HTML5 parser.
    document = html5lib.parse(page, treebuilder="lxml")
    history = document.xpath("//h:section[@aria-labelledby='history-heading']", namespaces=HTML)
    tables = history[0].xpath(".//h:table", namespaces=HTML)
    assert len(tables) == 1
    assert headers(tables[0], "h", HTML) == [(name, "col") for name in STAGES]
    rows = tables[0].xpath("h:tbody/h:tr", namespaces=HTML)
    assert [row.xpath("string(h:td[1])", namespaces=HTML) for row in rows] == [
        "Early",
        "Intermediate",
        "Mature",
    ]
    # Every table of the page (history, teaching, stem, explanation, choice feedback)
    # sits in a box that scrolls sideways and that the keyboard can reach.
    every = document.xpath("//h:table", namespaces=HTML)
    assert len(every) == 5
    for table in every:
        box = table.getparent()
        assert (box.get("class"), box.get("role"), box.get("tabindex")) == (
            "table-scroll",
            "region",
            "0",
        )
        assert box.get("aria-label")
        assert table.xpath("h:thead/h:tr/h:th/@scope", namespaces=HTML)
        assert set(table.xpath("h:thead/h:tr/h:th/@scope", namespaces=HTML)) == {"col"}
    assert "|---" not in page and "| Phase |" not in page


def test_tables_in_qti_items_and_tests_are_valid_xhtml_tables(
    course: Course, schema_set: SchemaSet
) -> None:
    files = {entry.name: entry.read() for entry in render_qti_package(course)}
    for name, data in files.items():
        if name.endswith(".xml"):
            schema = "qti-manifest" if name == "imsmanifest.xml" else "qti"
            assert schema_set.problems(name, schema, data) == [], name
    first = etree.fromstring(files[item_href(*course.question("q1"))])
    history = first.xpath("//q:itemBody/q:div[@class='case']/q:table", namespaces=QTI)
    assert [headers(t, "q", QTI) for t in history] == [[(n, "col") for n in STAGES]]
    fourth = etree.fromstring(files[item_href(*course.question("q4"))])
    stem = fourth.xpath("//q:itemBody/q:div[@class='stem']/q:table", namespaces=QTI)
    assert [headers(t, "q", QTI) for t in stem] == [[("Phase", "col"), ("Rim", "col")]]
    for identifier in ("general_feedback", "choice-a"):
        feedback = fourth.xpath(f"//q:modalFeedback[@identifier='{identifier}']", namespaces=QTI)
        tables = feedback[0].xpath("q:table", namespaces=QTI)
        assert [h for h, _ in headers(tables[0], "q", QTI)] == ["Sign", "Phase"]
    test = etree.fromstring(files[f"test-{CASE_ID}.xml"])
    assert test.xpath("//q:rubricBlock/q:table", namespaces=QTI)
    assert test.xpath("//q:testFeedback/q:table", namespaces=QTI)


def write_case_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = make_radiology_course(tmp_path / "course")
    path = folder / "cases" / CASE_ID / "questions.yaml"
    path.write_text(path.read_text().replace(old, new))
    return folder


def test_a_table_in_a_choice_is_an_error_with_its_location(run_cli, tmp_path: Path) -> None:
    """A choice is shown inline, in a <label>: a table there would be a row of `|`
    characters, so the author is told where a table can go."""
    folder = write_case_with(
        tmp_path,
        "    choices: {a: Myositis ossificans, b: Osteosarcoma, c: Synovial sarcoma}\n",
        "    choices:\n"
        "      a: |\n"
        "        | Sign | Seen |\n"
        "        |------|------|\n"
        "        | zoning | yes |\n"
        "      b: Osteosarcoma\n"
        "      c: Synovial sarcoma\n",
    )
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{folder}/cases/{CASE_ID}/questions.yaml:8:10: error: choice `a` of question `q1`: "
        "a table cannot be shown here, where the text is one line (a choice, the diagnosis, "
        "a reference); put the table in the stem, the history, the teaching or the feedback",
        "1 error",
    ]


def test_a_pipe_in_a_one_line_text_is_just_a_character() -> None:
    assert render_markdown("a | b", "inline") == ("a | b", [])
    assert render_markdown("Phase | Weeks", "block")[0] == "<p>Phase | Weeks</p>"


def test_a_table_without_rows_is_an_error(run_cli, tmp_path: Path) -> None:
    """QTI's <table> needs a <tbody> with a row; a header row alone is a mistake."""
    folder = write_case_with(
        tmp_path,
        "      explanation: Zoning is the key sign.\n",
        "      explanation: |\n"
        "        Zoning:\n"
        "\n"
        "        | Sign | Seen |\n"  # line 12
        "        |------|------|\n",
    )
    result = run_cli("validate", str(folder))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{folder}/cases/{CASE_ID}/questions.yaml:12:20: error: `explanation` of `feedback` of "
        "question `q1`: this table has a header row but no rows under it; add a row of cells "
        "under the `|---|` line, or escape the first `|` as `\\|` if it is not a table"
    )


def test_table_markup_is_the_renderers_alone() -> None:
    """Authors cannot write table tags, and the policy takes table cells only as the
    renderer writes them: a header cell heads its column, and nothing else is kept."""
    assert [p.message for p in render_markdown("| a |\n|---|\n| <td>x</td> |\n", "block")[1]] == [
        "raw HTML `<td>` is not allowed; write Markdown instead (allowed tags: abbr, b, br, "
        "code, em, i, small, strong, sub, sup)"
    ]
    for html, refused in (
        ('<table><tbody><tr><th scope="row">a</th></tr></tbody></table>', "scope"),
        ('<table><tbody><tr><td style="color:red">a</td></tr></tbody></table>', "style"),
        ('<table><tbody><tr><td align="right">a</td></tr></tbody></table>', "align"),
    ):
        messages = [f.message for f in _policy_findings(_parse_html(html), "block", html)]
        assert len(messages) == 1 and f"`{refused}`" in messages[0], messages
        assert f"{refused}=" not in _nh3_clean(html, "block")  # the sanitiser agrees
    kept = '<table><thead><tr><th scope="col">a</th></tr></thead></table>'
    assert list(_policy_findings(_parse_html(kept), "block", kept)) == []
    assert 'scope="col"' in _nh3_clean(kept, "block")
    inline = "<table><tbody><tr><td>a</td></tr></tbody></table>"
    assert [f.key for f in _policy_findings(_parse_html(inline), "inline", inline)][0] == ("table",)

"""`qtiexport render PATH QUESTION-ID`: one item's XML, for authors."""

from __future__ import annotations

import shutil

import click
from lxml import etree

from qtiexport.commands.render import highlight, pretty_xml
from qtiexport.qti import item_href, render_qti_package

from conftest import CONTENT, FIXTURES


def test_render_prints_the_item_as_the_package_carries_it(run_cli, seed_course) -> None:
    result = run_cli("render", str(CONTENT), "q4")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<assessmentItem')
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    printed = etree.fromstring(result.stdout.encode())
    assert printed.get("identifier") == "tumoral-calcinosis.q4"
    packaged = {e.name: e for e in render_qti_package(seed_course)}
    packaged_item = etree.fromstring(packaged[item_href(*seed_course.question("q4"))].read())
    # The same document: only whitespace between block elements differs.
    assert etree.tostring(printed, method="c14n2", strip_text=True) == etree.tostring(
        packaged_item, method="c14n2", strip_text=True
    )


def test_render_colours_on_request(run_cli) -> None:
    coloured = run_cli("render", str(CONTENT), "q4", "--color").stdout
    assert "\x1b[" in coloured
    plain = run_cli("render", str(CONTENT), "q4", "--no-color").stdout
    assert "\x1b[" not in plain
    assert click.unstyle(coloured) == plain


def test_pretty_printing_never_touches_running_text() -> None:
    """Indentation goes only between blocks: `a` and `b` stay joined, spaces stay."""
    source = (
        b'<r xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1"><div><p><em>a</em><strong>b'
        b"</strong> <sub>c</sub></p><pre><code>x\n  y</code></pre><p><img/></p></div></r>"
    )
    assert pretty_xml(source).splitlines()[1:] == [
        '<r xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1">',
        "  <div>",
        "    <p><em>a</em><strong>b</strong> <sub>c</sub></p>",
        "    <pre><code>x",
        "  y</code></pre>",
        "    <p><img/></p>",
        "  </div>",
        "</r>",
    ]


def test_highlighting_colours_tags_not_text() -> None:
    text = '<p class="x">a="b" &lt;c&gt;</p>'
    coloured = highlight(text)
    assert 'a="b" &lt;c&gt;' in coloured  # text untouched, even when it looks like markup
    assert coloured.count("\x1b[") > 4


def test_unknown_id_is_a_usage_error_naming_what_exists(run_cli) -> None:
    result = run_cli("render", str(CONTENT), "Q4")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no question or case `Q4`" in result.stderr
    assert "did you mean `q4`?" in result.stderr
    assert "questions: q1, q2, q3, q4, q5; cases: tumoral-calcinosis" in result.stderr


def test_unknown_id_without_a_close_match(run_cli) -> None:
    result = run_cli("render", str(CONTENT), "zzzz")
    assert result.exit_code == 2
    assert "did you mean" not in result.stderr


def test_content_errors_are_reported_like_validate(run_cli, tmp_path) -> None:
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "all-types", course)
    questions = course / "cases/every-type/questions.yaml"
    questions.write_text(questions.read_text().replace("answer: b\n", "answer: z\n", 1))
    result = run_cli("render", str(course), "single_options")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "questions.yaml:" in result.stderr and "error:" in result.stderr


def test_missing_folder_is_a_usage_error(run_cli, tmp_path) -> None:
    result = run_cli("render", str(tmp_path / "nowhere"), "q1")
    assert result.exit_code == 2


def two_cases_numbered_alike(tmp_path) -> str:
    """The minimal course and a copy of its case, c2: both number their questions q1…"""
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "minimal", course)
    shutil.copytree(course / "cases/c1", course / "cases/c2")
    case_file = course / "cases/c2/case.yaml"
    case_file.write_text(case_file.read_text().replace("id: c1", "id: c2"))
    (course / "course.yaml").write_text((course / "course.yaml").read_text() + "  - c2\n")
    return str(course)


def test_a_question_is_named_with_its_case(run_cli, tmp_path) -> None:
    course = two_cases_numbered_alike(tmp_path)
    for case in ("c1", "c2"):
        result = run_cli("render", course, f"{case}/q1")
        assert result.exit_code == 0, result.stderr
        assert etree.fromstring(result.stdout.encode()).get("identifier") == f"{case}.q1"


def test_a_bare_id_that_several_cases_use_is_a_usage_error(run_cli, tmp_path) -> None:
    result = run_cli("render", two_cases_numbered_alike(tmp_path), "q1")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "question `q1` is in several cases (c1, c2); name one as `c1/q1`" in result.stderr


def test_an_unknown_question_of_a_case_suggests_the_case_form(run_cli, tmp_path) -> None:
    result = run_cli("render", two_cases_numbered_alike(tmp_path), "c2/Q3")
    assert result.exit_code == 2
    assert "no question or case `c2/Q3`" in result.stderr
    assert "did you mean `c2/q3`?" in result.stderr
    assert "questions: c1/q1, c1/q2, c1/q3, c1/q4, c2/q1, " in result.stderr

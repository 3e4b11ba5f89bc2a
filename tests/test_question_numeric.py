"""The `numeric` question type: a number typed by the learner, right within `tolerance`
of `answer`, both ends included.

Checked where each consumer reads it: the author's errors as `validate` prints them; the
QTI item against the official schemas and scored by pyslet, an independent engine; the
SCORM player in Chromium under scorm-again (what it records, what it restores, by
keyboard alone, and axe-core on the answered page). The course is
tests/fixtures/question-numeric: 3 ± 0.5 lesions, 1.1 ± 0.1 cm (bounds that doubles do
not hit by adding), and an exact -2.5.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from playwright.sync_api import Browser, Frame

from lms.harness import LmsServer, LmsSession, build_scorm_package, go_on, initial_cmi
from qtiexport.model import Course
from qtiexport.qti import item_href, render_qti_package
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import minified, player_assets
from qtiexport.templating import templates_dir
from qtiexport.validate import validate_course
from test_player_accessibility import axe_violations
from test_player_keyboard import assert_focus_visible, focused, tab_until

from conftest import CONTENT, FIXTURES
from test_qti import run_pyslet

NUMERIC = FIXTURES / "question-numeric"
CASE = "counts"
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
QTI_META = "{http://www.imsglobal.org/xsd/imsqti_metadata_v2p1}"
NOT_A_NUMBER = (
    "That is not a number: type digits, with a point or a comma before any decimals "
    "(such as 2.5 or 2,5)."
)


@pytest.fixture(scope="module")
def course() -> Course:
    return validate_course(NUMERIC)


# ------------------------------------------------------------------ validation

BROKEN = """\
questions:
  - id: words
    type: numeric
    stem: How many?
    answer: three
  - id: comma
    type: numeric
    stem: How many?
    answer: "2,5"
  - id: quoted
    type: numeric
    stem: How many?
    answer: "3"
  - id: infinite
    type: numeric
    stem: How many?
    answer: .inf
  - id: huge
    type: numeric
    stem: How many?
    answer: 1.0e+16
  - id: negative
    type: numeric
    stem: How many?
    answer: 3
    tolerance: -0.5
  - id: nan
    type: numeric
    stem: How many?
    answer: 3
    tolerance: .nan
  - id: listed
    type: numeric
    stem: How many?
    answer: [3]
    unit: [mm]
  - id: chosen
    type: numeric
    stem: How many?
    answer: 3
    choices: {a: One, b: Two}
  - id: missing
    type: numeric
    stem: How many?
    unit: mm
  - id: wordy
    type: numeric
    stem: How many?
    answer: 3
    unit: lesions seen on the coronal and axial images together
  - id: fine
    type: numeric
    stem: How many?
    answer: 0
    tolerance: 0
"""
Q = "cases/counts/questions.yaml"
EXPECTED = [
    f"{Q}:5:13: error: `answer` of question `words` must be a number, such as 3 or 2.5, "
    "not the text `three`",
    f"{Q}:9:13: error: `answer` of question `comma` must be a number, such as 3 or 2.5, "
    "not the text `2,5`; write `2.5` without quotes, with a decimal point",
    f"{Q}:13:13: error: `answer` of question `quoted` must be a number, such as 3 or 2.5, "
    "not the text `3`; write `3` without quotes",
    f"{Q}:17:13: error: `answer` of question `infinite` is `.inf`; write a finite number, "
    "such as 3 or 2.5",
    f"{Q}:21:13: error: `answer` of question `huge` is 1.0e+16; keep it between "
    "-1000000000000000 and 1000000000000000 (the player computes with 15 significant digits)",
    f"{Q}:26:16: error: `tolerance` of question `negative` is -0.5; it must be 0 or more: "
    "how far from `answer` a number may be and still be right",
    f"{Q}:31:16: error: `tolerance` of question `nan` is `.nan`; write a finite number, "
    "such as 3 or 2.5",
    f"{Q}:35:13: error: `answer` of question `listed` must be a number, such as 3 or 2.5, "
    "not a list",
    f"{Q}:36:11: error: `unit` of question `listed` must be text, not a list",
    f"{Q}:41:14: error: a `numeric` question has no `choices`; give the correct number "
    "under `answer`",
    f"{Q}:42:5: error: question `missing` is missing the required key `answer`",
    f"{Q}:50:11: error: `unit` of question `wordy` is longer than 40 characters; "
    "shorten it (it is shown with the input)",
    "12 errors",
]


def test_validation_names_each_mistake_where_it_is(run_cli, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "course"
    shutil.copytree(NUMERIC, folder)
    (folder / Q).write_text(BROKEN, encoding="utf-8")
    monkeypatch.chdir(folder)
    result = run_cli("validate", ".")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == EXPECTED


def test_the_model_keeps_the_exact_numbers(course: Course) -> None:
    n1, n2, n3 = course.cases[0].questions
    assert [(q.type, q.correct) for q in (n1, n2, n3)] == [
        ("numeric", ("3",)),
        ("numeric", ("1.1",)),
        ("numeric", ("-2.5",)),
    ]
    assert (str(n2.details.low), str(n2.details.high), n2.details.unit) == ("1.0", "1.2", "cm")
    assert n3.details.tolerance == 0 and n3.details.unit is None


# ------------------------------------------------------------------------- QTI


@pytest.fixture(scope="module")
def qti_files(course: Course) -> dict[str, bytes]:
    return {entry.name: entry.read() for entry in render_qti_package(course)}


def test_every_qti_document_is_valid_against_the_official_schemas(
    course: Course, schema_set: SchemaSet
) -> None:
    entries = render_qti_package(course)
    assert {e.name for e in entries if e.schema} == {
        "imsmanifest.xml",
        "test-counts.xml",
        *(item_href(course.cases[0], q) for q in course.cases[0].questions),
    }
    for entry in entries:
        if entry.schema:
            assert schema_set.problems(entry.name, entry.schema, entry.read()) == [], entry.name


def test_the_item_is_a_float_text_entry_with_its_unit_beside_it(
    course: Course, qti_files: dict[str, bytes]
) -> None:
    n1 = course.cases[0].questions[0]
    item = etree.fromstring(qti_files[item_href(course.cases[0], n1)])
    declaration = item.find(f"{QTI}responseDeclaration")
    assert (declaration.get("cardinality"), declaration.get("baseType")) == ("single", "float")
    assert [v.text for v in declaration.iter(f"{QTI}value")] == ["3"]
    entry = item.find(f"{QTI}itemBody//{QTI}textEntryInteraction")
    assert entry.get("responseIdentifier") == "RESPONSE"
    assert "".join(entry.getparent().itertext()).strip() == "lesions"
    condition = item.find(f"{QTI}responseProcessing/{QTI}responseCondition/{QTI}responseIf")
    bounds = {
        test.tag.removeprefix(QTI): test.findtext(f"{QTI}baseValue")
        for test in condition.find(f"{QTI}and")
    }
    assert bounds == {"gte": "2.5", "lte": "3.5"}
    incorrect = item.find(f"{QTI}modalFeedback[@identifier='incorrect']")
    assert " ".join(incorrect.itertext()).strip() == (
        "Incorrect. The correct answer: 3 lesions (accepted: 2.5 to 3.5)."
    )
    manifest = etree.fromstring(qti_files["imsmanifest.xml"])
    assert {e.text for e in manifest.iter(f"{QTI_META}interactionType")} == {"textEntryInteraction"}


# Per question: responses scored full (exact, inside, both edges), then scored 0
# (outside, just past each edge, and NULL: what an engine binds nothing or a text that
# is not a number to, for a float response).
RESPONSES = {
    "n1": ([3.0, 2.9, 3.25, 2.5, 3.5], [2.49, 3.51, 0.0, -3.0, 30.0, None]),
    "n2": ([1.1, 1.0, 1.2, 1.15], [0.99, 1.21, 11.0, None]),
    "n3": ([-2.5], [-2.4, -2.6, 2.5, None]),
}


def test_pyslet_scores_right_numbers_full_and_others_zero(
    course: Course, qti_files: dict[str, bytes]
) -> None:
    checked = 0
    case = course.cases[0]
    for question in case.questions:
        item_xml = qti_files[item_href(case, question)]
        right, wrong = RESPONSES[question.id]
        for response in right:
            score, feedback = run_pyslet(item_xml, response)
            assert (score, feedback) == (question.points, {"correct"}), (question.id, response)
            checked += 1
        for response in wrong:
            score, feedback = run_pyslet(item_xml, response)
            assert (score, feedback) == (0, {"incorrect"}), (question.id, response)
            checked += 1
    assert checked == 24


def test_pyslet_cannot_take_text_that_is_not_a_number(
    course: Course, qti_files: dict[str, bytes]
) -> None:
    """The response is declared float: an engine refuses text rather than scoring it."""
    item_xml = qti_files[item_href(course.cases[0], course.cases[0].questions[0])]
    with pytest.raises(ValueError):
        run_pyslet(item_xml, "three")


# ---------------------------------------------------------------------- player


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-numeric")
    lms.mount("numeric", build_scorm_package(NUMERIC, output / "numeric", schema_set))
    yield lms
    lms.close()


def launch(lms: LmsSession, server: LmsServer, data: dict[str, Any] | None = None) -> Frame:
    return lms.launch(
        f"{server.origin}/package-numeric", CASE, data or initial_cmi(mastery_score=None)
    )


def type_and_submit(frame: Frame, number: int, text: str) -> None:
    frame.fill(f"#question-{number}-number", text)
    frame.click(f"#question-{number} button[type=submit]")


def interactions(cmi: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Each interaction's type, student response, correct pattern and result."""
    rows = [cmi["interactions"][str(n)] for n in range(len(cmi["interactions"]))]
    return [
        (
            r["type"],
            r["student_response"],
            r["correct_responses"]["0"]["pattern"],
            r["result"],
        )
        for r in rows
    ]


def test_the_page_offers_a_decimal_field_with_its_unit_in_the_label(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = launch(lms, server)
    field = frame.locator("#question-1-number")
    assert field.get_attribute("inputmode") == "decimal"
    assert field.get_attribute("type") == "text"
    label = frame.locator("label[for=question-1-number]")
    assert label.inner_text() == "Your answer, in lesions"
    # The field's accessible name, what a screen reader announces, carries the unit.
    named = frame.get_by_label("Your answer, in lesions", exact=True)
    assert named.get_attribute("id") == "question-1-number"
    assert "Use a point or a comma for decimals." in frame.inner_text("#question-1-instruction")


def test_right_and_wrong_numbers_are_recorded_as_numeric_interactions(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = launch(lms, server)
    type_and_submit(frame, 1, " 2,5 ")  # the lower edge, with a decimal comma: right
    frame.wait_for_selector("#question-1-feedback:not([hidden])")
    assert frame.inner_text("#question-1-verdict") == "✓ Correct"
    assert frame.inner_text("#question-1-number-mark") == "✓ Accepted"
    go_on(frame, 1)
    type_and_submit(frame, 2, "1.3")  # outside 1.1 ± 0.1: wrong
    frame.wait_for_selector("#question-2-feedback:not([hidden])")
    assert frame.inner_text("#question-2-verdict") == "✗ Incorrect"
    assert frame.inner_text("#question-2-number-mark") == "✗ Not accepted"
    assert "Measure the longest axis." in frame.inner_text("#question-2-feedback")
    assert "The correct answer: 1.1 cm (accepted: 1 to 1.2)." in frame.inner_text(
        "#question-2-feedback"
    )
    go_on(frame, 2)
    type_and_submit(frame, 3, "−2.50")  # a typographic minus, a trailing zero: right
    go_on(frame, 3)
    frame.wait_for_selector("#results:not([hidden])")
    cmi = lms.cmi()
    assert interactions(cmi) == [
        ("numeric", "2.5", "3", "correct"),
        ("numeric", "1.3", "1.1", "wrong"),
        ("numeric", "-2.50", "-2.5", "correct"),
    ]
    assert cmi["core"]["score"]["raw"] == "50"  # 1 + 0 + 1 of 4 points
    assert cmi["suspend_data"] == '{"v":1,"r":["2.5","1.3","-2.50"]}'
    assert all(c["error"] == "0" for c in lms.calls())


def test_the_range_edges_that_doubles_miss_are_still_right(
    lms: LmsSession, server: LmsServer
) -> None:
    """1.1 - 0.1 is 1.0000000000000002 in doubles; the bounds are worked out exactly."""
    frame = launch(lms, server)
    type_and_submit(frame, 1, "3.5")
    go_on(frame, 1)
    type_and_submit(frame, 2, "1")
    frame.wait_for_selector("#question-2-feedback:not([hidden])")
    assert frame.inner_text("#question-2-verdict") == "✓ Correct"
    assert [row[3] for row in interactions(lms.cmi())] == ["correct", "correct"]


def test_text_that_is_not_a_number_is_refused_before_anything_is_recorded(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = launch(lms, server)
    before = len(lms.calls())
    for text in ("three", "2.5.1", "1,000.5", "3 lesions", "-", "1e3"):
        type_and_submit(frame, 1, text)
        assert frame.inner_text("#question-1-error") == NOT_A_NUMBER, text
        assert frame.evaluate("document.activeElement.id") == "question-1-number", text
        assert frame.get_attribute("#question-1-number", "aria-invalid") == "true"
        assert not frame.is_visible("#question-1-feedback")
    frame.fill("#question-1-number", "")
    frame.click("#question-1 button[type=submit]")
    assert frame.inner_text("#question-1-error") == "Type a number first."
    assert len(lms.calls()) == before
    type_and_submit(frame, 1, "3")
    frame.wait_for_selector("#question-1-feedback:not([hidden])")
    assert not frame.is_visible("#question-1-error")
    assert frame.get_attribute("#question-1-number", "aria-invalid") is None
    assert interactions(lms.cmi()) == [("numeric", "3", "3", "correct")]


def test_resume_mid_case_restores_the_numbers(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server, initial_cmi())
    type_and_submit(frame, 1, ",5")  # 0.5: wrong
    go_on(frame, 1)
    lms.exit()
    saved = lms.cmi()
    assert saved["suspend_data"] == '{"v":1,"r":["0.5"]}'
    assert saved["core"]["lesson_location"] == "n2"

    data = initial_cmi(
        entry="resume",
        lesson_location=saved["core"]["lesson_location"],
        lesson_status=saved["core"]["lesson_status"],
    )
    data["suspend_data"] = saved["suspend_data"]
    data["interactions"] = saved["interactions"]
    frame = launch(lms, server, data)
    assert frame.input_value("#question-1-number") == "0.5"
    assert frame.is_disabled("#question-1-number")
    assert frame.inner_text("#question-1-verdict") == "✗ Incorrect"
    assert frame.is_visible("#question-2") and frame.is_enabled("#question-2-number")
    assert frame.input_value("#question-2-number") == ""
    type_and_submit(frame, 2, "1.1")
    go_on(frame, 2)
    type_and_submit(frame, 3, "-2.5")
    go_on(frame, 3)
    frame.wait_for_selector("#results:not([hidden])")
    cmi = lms.cmi()
    assert cmi["core"]["score"]["raw"] == "75"  # 0 + 2 + 1 of 4, the restored one counted
    assert cmi["suspend_data"] == '{"v":1,"r":["0.5","1.1","-2.5"]}'


def test_a_damaged_saved_number_is_not_restored(lms: LmsSession, server: LmsServer) -> None:
    data = initial_cmi(entry="resume")
    data["suspend_data"] = '{"v":1,"r":["3","2,5"]}'  # the player never saves a comma
    frame = launch(lms, server, data)
    assert frame.input_value("#question-1-number") == "3"
    assert frame.is_enabled("#question-2-number")


def test_a_case_of_numbers_is_done_by_keyboard_alone(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    page = lms.page
    for number, text in ((1, "3"), (2, "1,1"), (3, "-2.5")):
        field = tab_until(
            page, frame, lambda e, n=number: e["id"] == f"question-{n}-number", "the field"
        )
        assert_focus_visible(field)
        page.keyboard.type(text)
        page.keyboard.press("Enter")  # Enter in the field submits its form
        frame.wait_for_selector(f"#question-{number}-feedback:not([hidden])")
        assert focused(frame)["id"] == f"question-{number}-feedback"
        tab_until(page, frame, lambda e: "next-button" in e["cls"], "Next")
        page.keyboard.press("Enter")
    frame.wait_for_selector("#results:not([hidden])")
    assert [row[3] for row in interactions(lms.cmi())] == ["correct"] * 3


def test_axe_finds_nothing_before_during_and_after_answering(
    browser: Browser, server: LmsServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(5000)
    lms = LmsSession(context.new_page(), server)
    frame = launch(lms, server)
    found = {}
    found["open"] = axe_violations(frame)
    type_and_submit(frame, 1, "three")
    found["refused"] = axe_violations(frame)
    type_and_submit(frame, 1, "4")  # wrong: the verdict, the mark and the right answer
    frame.wait_for_selector("#question-1-feedback:not([hidden])")
    found["answered"] = axe_violations(frame)
    go_on(frame, 1)
    type_and_submit(frame, 2, "1.1")
    frame.wait_for_selector("#question-2-feedback:not([hidden])")
    found["answered right"] = axe_violations(frame)
    assert lms.errors == []
    context.close()
    assert {state: v for state, v in found.items() if v} == {}


def test_the_player_script_is_small_and_only_where_it_is_used() -> None:
    source = (templates_dir() / "scorm" / "assets" / "question-numeric.js").read_bytes()
    size = len(minified("question-numeric.js", source))
    print(f"question-numeric.js minified: {size} bytes")
    assert size < 2500
    # A course without a numeric question ships without it; this one ships it.
    assert "question-numeric.js" not in player_assets(validate_course(CONTENT))
    assert "question-numeric.js" in player_assets(validate_course(NUMERIC))

"""The `essay` question type: a written answer with a model answer and no automatic score.

Validation with located messages; the QTI item valid against the official XSD, run by
pyslet without error and without a score, shaped so that Canvas imports it as an essay
question; the case's score and maximum without the essay (QTI test and player); and, in
Chromium under scorm-again, the interaction `fill-in` with the response on one line and
the result `neutral`, resume with the text restored, keyboard-only answering and axe.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Frame

from lms.harness import LmsServer, LmsSession, build_scorm_package, go_on, initial_cmi
from qtiexport.diagnostics import ContentError
from qtiexport.model import Course
from qtiexport.qti import item_href, render_qti_package
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import player_data, render_sco
from qtiexport.tracking import encode_state, longest_state
from qtiexport.validate import validate_course
from test_player_accessibility import axe_violations

from conftest import FIXTURES
from test_qti import run_pyslet

COURSE = FIXTURES / "question-essay"
CASE = "mri"
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
ANSWER = "A lobulated mass\nwith calcium-fluid levels."


@pytest.fixture(scope="module")
def course() -> Course:
    return validate_course(COURSE)


def qti_files(course: Course) -> dict[str, bytes]:
    return {entry.name: entry.read() for entry in render_qti_package(course)}


def essay_item(course: Course, question_id: str = "e1") -> bytes:
    case = course.cases[0]
    question = next(q for q in case.questions if q.id == question_id)
    return qti_files(course)[item_href(case, question)]


# ----------------------------------------------------------------- validation


def errors_for(tmp_path: Path, questions: str) -> list[str]:
    """The messages, as `line:col: message` in questions.yaml, of a course with these
    questions."""
    root = tmp_path / "course"
    shutil.copytree(COURSE, root)
    (root / "cases" / CASE / "questions.yaml").write_text(questions, encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        validate_course(root)
    return [
        f"{d.location.line}:{d.location.col}: {d.message}"
        for d in raised.value.diagnostics
        if d.location.path.endswith("questions.yaml")
    ]


def test_an_essay_needs_only_its_stem(tmp_path: Path) -> None:
    root = tmp_path / "course"
    shutil.copytree(COURSE, root)
    (root / "cases" / CASE / "questions.yaml").write_text(
        "questions:\n  - id: e1\n    type: essay\n    stem: Describe it.\n", encoding="utf-8"
    )
    question = validate_course(root).cases[0].questions[0]
    assert (question.type, question.max_length) == ("essay", 255)
    assert question.details.model_answer is None


def test_what_an_essay_cannot_have_is_reported_where_it_is_written(tmp_path: Path) -> None:
    assert errors_for(
        tmp_path,
        """questions:
  - id: e1
    type: essay
    stem: Describe the findings.
    answer: A mass.
    choices: {a: One, b: Two}
    max_length: 256
    shuffle: true
    model_answer: ""
    feedback:
      correct: Well done.
      incorrect: No.
""",
    ) == [
        "5:13: an `essay` question has no `answer`: it is not scored automatically; "
        "write what a good answer says under `model_answer`",
        "6:14: an `essay` question has no `choices`: it is not scored automatically; "
        "write what a good answer says under `model_answer`",
        "7:17: `max_length` of question `e1` is 256; it must be between 1 and 255",
        "8:14: `shuffle` applies only to questions with choices; remove it",
        "9:19: `model_answer` of question `e1` is empty; write the text or remove the key",
        "11:7: question `e1` is an `essay`, which is never right or wrong, so feedback "
        "`correct` would never be shown; use `explanation`",
        "12:7: question `e1` is an `essay`, which is never right or wrong, so feedback "
        "`incorrect` would never be shown; use `explanation`",
    ]


def test_the_longest_essay_state_is_counted_for_suspend_data(course: Course) -> None:
    # The worst a learner can type for each essay: every character escaped in JSON.
    case = course.cases[0]
    worst = ["a"] + ['"' * q.max_length for q in case.questions[1:]]
    assert len(encode_state(worst)) <= longest_state(case)
    assert longest_state(case) - len(encode_state(worst)) <= 3 * len(case.questions)


# ------------------------------------------------------------------- QTI 2.1


def test_the_package_is_valid_against_the_official_schemas(
    course: Course, schema_set: SchemaSet
) -> None:
    for entry in render_qti_package(course):
        if entry.schema:
            assert schema_set.problems(entry.name, entry.schema, entry.read()) == [], entry.name


def test_the_item_is_an_extended_text_with_no_correct_response(course: Course) -> None:
    item = etree.fromstring(essay_item(course))
    declaration = item.find(f"{QTI}responseDeclaration")
    assert (declaration.get("cardinality"), declaration.get("baseType")) == ("single", "string")
    assert len(declaration) == 0  # no correctResponse, no mapping
    interaction = item.find(f"{QTI}itemBody/{QTI}extendedTextInteraction")
    assert interaction.get("expectedLength") == "120"
    assert item.find(f".//{QTI}outcomeDeclaration[@identifier='MAXSCORE']//{QTI}value").text == "0"
    processing = item.find(f"{QTI}responseProcessing")
    # Canvas turns any match or stringMatch into a short answer; nothing sets SCORE.
    for name in ("match", "stringMatch", "patternMatch", "correct", "mapResponse"):
        assert processing.find(f".//{QTI}{name}") is None, name
    assert processing.find(f".//{QTI}setOutcomeValue[@identifier='SCORE']") is None
    feedback = item.findall(f"{QTI}modalFeedback")
    assert [f.get("identifier") for f in feedback] == ["general_feedback"]
    assert feedback[0].get("title") == "Model answer and explanation"
    solution = feedback[0].find(f"{QTI}div[@class='solution']")
    assert " ".join("".join(solution.itertext()).split()) == (
        "Model answer: A lobulated mass with calcium-fluid levels."
    )


def test_pyslet_runs_response_processing_and_gives_no_score(course: Course) -> None:
    for question_id in ("e1", "e2"):
        item = essay_item(course, question_id)
        assert run_pyslet(item, ANSWER) == (0.0, {"general_feedback"})
        assert run_pyslet(item, None) == (0.0, set())


def test_the_case_score_and_maximum_leave_the_essays_out(course: Course) -> None:
    case = course.cases[0]
    assert case.max_score == 2  # q1's 2 points; e1's 3 are shown, not scored
    test = etree.fromstring(qti_files(course)["test-mri.xml"])
    maximum = test.find(f"{QTI}outcomeDeclaration[@identifier='MAXSCORE']//{QTI}value")
    assert maximum.text == "2"
    weights = [w.get("value") for w in test.iter(f"{QTI}weight")]
    assert weights == ["2", "0", "0"]
    # The test's outcome processing sums the items' MAXSCORE: the essays add 0.
    item_maxima = []
    for question in case.questions:
        item = etree.fromstring(qti_files(course)[item_href(case, question)])
        value = item.find(f".//{QTI}outcomeDeclaration[@identifier='MAXSCORE']//{QTI}value")
        item_maxima.append(value.text)
    assert item_maxima == ["2", "0", "0"]
    data = player_data(course, case)
    assert data["maxPoints"] == 2
    assert [(q["points"], q["weighting"]) for q in data["questions"]] == [
        (2, "2"),
        (0, "0"),
        (0, "0"),
    ]


def test_the_page_shows_a_text_box_the_points_and_the_model_answer(course: Course) -> None:
    page = render_sco(course, course.cases[0])
    article = page.split('id="question-2"', 1)[1].split("</article>", 1)[0]
    assert '<textarea id="question-2-essay" name="question-2" rows="6" maxlength="120"' in article
    assert "Worth 3 points, marked by your teacher." in article
    assert "<strong>calcium-fluid levels</strong>" in article
    last = page.split('id="question-3"', 1)[1].split("</article>", 1)[0]
    assert 'maxlength="255"' in last and "Worth" not in last


# ------------------------------------------------------------------ the player


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-essay")
    lms.mount("essay", build_scorm_package(COURSE, output / "essay", schema_set))
    yield lms
    lms.close()


def interactions(lms: LmsSession) -> dict[str, dict[str, str]]:
    """cmi.interactions.n.* as the SCO set them, by interaction id."""
    found: dict[str, dict[str, str]] = {}
    numbered: dict[str, dict[str, str]] = {}
    for element, value in lms.set_values().items():
        if element.startswith("cmi.interactions."):
            _, _, number, rest = element.split(".", 3)
            numbered.setdefault(number, {})[rest] = value
    for values in numbered.values():
        found[values["id"]] = values
    return found


def test_an_essay_is_recorded_as_fill_in_neutral_and_not_scored(
    lms: LmsSession, server: LmsServer, course: Course
) -> None:
    ids = [q["interactionId"] for q in player_data(course, course.cases[0])["questions"]]
    frame = lms.launch(f"{server.origin}/package-essay", CASE, initial_cmi(50))
    frame.check("#question-1-choice-a")
    frame.click("#question-1 button[type=submit]")
    go_on(frame, 1)
    frame.fill("#question-2-essay", ANSWER)
    assert frame.inner_text("#question-2-count") == f"{120 - len(ANSWER)} of 120 characters left."
    frame.click("#question-2 button[type=submit]")
    frame.wait_for_selector("#question-2-feedback:not([hidden])")
    assert frame.inner_text("#question-2-verdict") == "Answer submitted (not scored)"
    assert frame.is_visible("#question-2-feedback .correct-answer")
    assert "calcium-fluid levels" in frame.inner_text("#question-2-feedback .correct-answer")
    assert frame.is_disabled("#question-2-essay")
    go_on(frame, 2)
    frame.fill("#question-3-essay", "x" * 300)  # the box keeps 255
    frame.click("#question-3 button[type=submit]")
    frame.wait_for_selector("#question-3-feedback:not([hidden])")
    go_on(frame, 3)
    frame.wait_for_selector("#results:not([hidden])")

    recorded = interactions(lms)
    essay = recorded[ids[1]]
    assert essay["type"] == "fill-in"
    assert essay["student_response"] == "A lobulated mass with calcium-fluid levels."
    assert essay["result"] == "neutral"
    assert essay["weighting"] == "0"
    assert not any(key.startswith("correct_responses") for key in essay)
    last = recorded[ids[2]]
    assert last["student_response"] == "x" * 255
    cmi = lms.cmi()
    assert cmi["core"]["score"]["raw"] == "100"  # 2 of 2: the essays count for nothing
    assert cmi["core"]["lesson_status"] == "passed"
    assert json.loads(cmi["suspend_data"])["r"] == ["a", ANSWER, "x" * 255]
    assert "answered, not scored" in frame.inner_text("#result-list")
    assert all(c["error"] == "0" for c in lms.calls())
    assert lms.errors == []


def test_resume_mid_case_restores_the_essay_text(lms: LmsSession, server: LmsServer) -> None:
    package = f"{server.origin}/package-essay"
    frame = lms.launch(package, CASE, initial_cmi(50))
    frame.check("#question-1-choice-b")
    frame.click("#question-1 button[type=submit]")
    go_on(frame, 1)
    frame.fill("#question-2-essay", ANSWER)
    frame.click("#question-2 button[type=submit]")
    frame.wait_for_selector("#question-2-feedback:not([hidden])")
    lms.exit()
    saved = lms.cmi()
    data = initial_cmi(
        50,
        entry="resume",
        lesson_location=saved["core"]["lesson_location"],
        lesson_status=saved["core"]["lesson_status"],
    )
    data["suspend_data"] = saved["suspend_data"]
    data["interactions"] = saved["interactions"]

    frame = lms.launch(package, CASE, data)
    assert frame.input_value("#question-2-essay") == ANSWER
    assert frame.is_disabled("#question-2-essay")
    assert frame.inner_text("#question-2-verdict") == "Answer submitted (not scored)"
    assert frame.is_visible("#question-3-essay") and frame.is_enabled("#question-3-essay")


def test_a_saved_essay_longer_than_its_box_is_not_restored(
    lms: LmsSession, server: LmsServer
) -> None:
    data = initial_cmi(50, entry="resume")
    data["suspend_data"] = json.dumps({"v": 1, "r": ["a", "y" * 121]})
    frame = lms.launch(f"{server.origin}/package-essay", CASE, data)
    assert frame.is_enabled("#question-2-essay")
    assert frame.input_value("#question-2-essay") == ""


def press_until_focused(frame: Frame, selector: str, key: str = "Tab", limit: int = 40) -> None:
    for _ in range(limit):
        if frame.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        frame.page.keyboard.press(key)
    raise AssertionError(f"{selector} never took the focus")


@pytest.fixture
def lms_for_axe(browser, server: LmsServer) -> Iterator[LmsSession]:
    """The test LMS in a page that lets axe-core in (the SCO's policy allows no inline
    script, which is how axe is injected)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(5000)
    yield LmsSession(context.new_page(), server)
    context.close()


def test_keyboard_only_answering_and_axe_finds_nothing(lms_for_axe: LmsSession) -> None:
    lms = lms_for_axe
    frame = lms.launch(f"{lms.server.origin}/package-essay", CASE, initial_cmi(50))
    keyboard = frame.page.keyboard
    frame.focus("#question-1-heading")
    press_until_focused(frame, "#question-1-choice-a")
    keyboard.press("Space")
    press_until_focused(frame, "#question-1 button[type=submit]")
    keyboard.press("Enter")
    frame.wait_for_selector("#question-1-feedback:not([hidden])")
    press_until_focused(frame, "#question-1 .next-button")
    keyboard.press("Enter")

    press_until_focused(frame, "#question-2-essay")
    keyboard.press("Enter")  # a line break in the box, not a submission
    assert frame.is_visible("#question-2 button[type=submit]")
    keyboard.type("Lobulated mass.")
    assert frame.inner_text("#question-2-count") == "104 of 120 characters left."
    assert axe_violations(frame) == []
    press_until_focused(frame, "#question-2 button[type=submit]")
    keyboard.press("Enter")
    frame.wait_for_selector("#question-2-feedback:not([hidden])")
    assert frame.evaluate("document.activeElement.id") == "question-2-feedback"
    assert axe_violations(frame) == []
    assert json.loads(lms.cmi()["suspend_data"])["r"] == ["a", "Lobulated mass."]


def test_the_essay_script_ships_only_with_essays(
    tmp_path: Path, schema_set: SchemaSet, course: Course
) -> None:
    from conftest import CONTENT

    seed = build_scorm_package(CONTENT, tmp_path / "seed", schema_set)
    essay = build_scorm_package(COURSE, tmp_path / "essay", schema_set)
    assert not (seed / "player" / "question-essay.js").exists()
    script = (essay / "player" / "question-essay.js").read_bytes()
    assert len(script) < 2500
    page = (essay / "cases" / CASE / "index.html").read_text(encoding="utf-8")
    assert '<script src="../../player/question-essay.js" defer></script>' in page
    with zipfile.ZipFile(next((tmp_path / "essay").glob("*.zip"))) as archive:
        assert "player/question-essay.js" in archive.namelist()

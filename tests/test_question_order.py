"""The `order` question type: the learner puts lettered items in the right order.

Validation gives located messages; the QTI item (orderInteraction, ordered response) is
valid against the official XSD and pyslet scores it all or nothing, or per item in its
place; in Chromium under scorm-again the player records a `sequencing` interaction, resumes
with the saved order, works by keyboard alone and passes axe-core. The course is
tests/fixtures/question-order/ (o1 all or nothing, o2 partial with its items written in the
answer order, o3 shuffled, q4 single).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Browser, Frame, expect

from lms.harness import (
    CONTENT_FOLDER,
    LmsServer,
    LmsSession,
    build_scorm_package,
    go_on,
    initial_cmi,
)
from qtiexport.diagnostics import ContentError
from qtiexport.model import Course
from qtiexport.qti import render_item, render_qti_package
from qtiexport.questions import kind_of, owners_of
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import minified, player_assets
from qtiexport.templating import templates_dir
from qtiexport.validate import validate_course
from test_player_accessibility import axe_violations
from test_player_keyboard import assert_focus_visible, focused, tab_until
from test_player_resume import resume_data

from conftest import FIXTURES
from test_qti import QTI, run_pyslet

ORDER_COURSE = FIXTURES / "question-order"
CASE = "phases"
QUESTIONS = ORDER_COURSE / "cases" / CASE / "questions.yaml"
ASSETS = templates_dir() / "scorm" / "assets"
# The keys in the order the page first shows them, and the right orders.
SHOWN = {1: "abc", 2: "bcda"}  # o2 is written in its answer order: its first item goes last
RIGHT = {1: "bac", 2: "abcd", 3: "abc"}


@pytest.fixture(scope="module")
def course() -> Course:
    return validate_course(ORDER_COURSE)


def question(course: Course, question_id: str):
    return course.cases[0], next(q for q in course.cases[0].questions if q.id == question_id)


# ----------------------------------------------------------------- validation


# After the question under test, so that the case still has one.
VALID_QUESTION = (
    "  - id: q9\n    type: single\n    stem: S\n    choices: {a: A, b: B}\n    answer: a\n"
)


def errors_for(tmp_path: Path, question_yaml: str) -> list[str]:
    """`line:col message` of each error in a copy of the course whose questions.yaml holds
    this question (its keys from line 3 on) and a valid one."""
    folder = tmp_path / "course"
    shutil.copytree(ORDER_COURSE, folder)
    (folder / "cases" / CASE / "questions.yaml").write_text(
        "questions:\n  - id: o1\n" + question_yaml + VALID_QUESTION, encoding="utf-8"
    )
    with pytest.raises(ContentError) as caught:
        validate_course(folder)
    return [f"{d.location.line}:{d.location.col} {d.message}" for d in caught.value.diagnostics]


BROKEN = {
    "answer-not-a-list": (
        "    type: order\n    stem: S\n    choices: {a: A, b: B, c: C}\n    answer: b\n",
        [
            "6:13 the answer of question `o1` must list every item's key in the correct "
            "order, like [a, b, c], not the text `b`"
        ],
    ),
    "answer-leaves-one-out": (
        "    type: order\n    stem: S\n    choices: {a: A, b: B, c: C}\n    answer: [b, a]\n",
        [
            "6:13 the answer of question `o1` leaves out `c`; list every item once, in the correct "
            "order"
        ],
    ),
    "answer-empty": (
        "    type: order\n    stem: S\n    choices: {a: A, b: B}\n    answer: []\n",
        [
            "6:13 the answer of question `o1` leaves out `a`, `b`; list every item once, in the "
            "correct order"
        ],
    ),
    "answer-names-one-twice": (
        "    type: order\n    stem: S\n    choices: {a: A, b: B, c: C}\n    answer: [b, a, a]\n",
        ["6:20 the answer of question `o1` names `a` twice"],
    ),
    "answer-names-no-item": (
        "    type: order\n    stem: S\n    choices: {a: A, b: B, c: C}\n    answer: [b, a, d]\n",
        ["6:20 the answer `d` of question `o1` names no choice; its choices are a, b, c"],
    ),
    "one-item": (
        "    type: order\n    stem: S\n    choices: {a: A}\n    answer: [a]\n",
        [
            "5:14 question `o1` has 1 choice; give between 2 and 26 (SCORM 1.2 reports a "
            "choice as one letter a–z)"
        ],
    ),
    "same-text-twice": (
        "    type: order\n    stem: S\n    choices: {a: Early, b: ' early'}\n    answer: [a, b]\n",
        [
            "5:28 choices `a` and `b` of question `o1` have the same text; make each choice "
            "different"
        ],
    ),
    "key-not-a-letter": (
        "    type: order\n    stem: S\n    choices: {a: A, B: B}\n    answer: [a, B]\n",
        [
            "5:21 choice key `B` must be one lowercase letter a–z",
            "6:17 the answer `B` of question `o1` names no choice; its choices are a",
        ],
    ),
    "fixed-item": (
        "    type: order\n    stem: S\n    choices: {a: {text: A, fixed: true}, b: B}\n"
        "    answer: [b, a]\n",
        [
            "5:18 item `a` of question `o1` cannot be `fixed`: the learner moves every item "
            "of an `order` question; remove `fixed`"
        ],
    ),
    "unknown-scoring": (
        "    type: order\n    stem: S\n    choices: {a: A, b: B}\n    answer: [b, a]\n"
        "    scoring: per_item\n",
        ["7:14 unknown scoring `per_item`; use `all_or_nothing` or `partial`"],
    ),
    "key-of-another-type": (
        "    type: order\n    stem: S\n    choices: {a: A, b: B}\n    answer: [b, a]\n"
        "    max_length: 20\n",
        [f"7:17 {kind_of('order').foreign_key('max_length', owners_of('max_length'))}"],
    ),
}


@pytest.mark.parametrize("name", BROKEN)
def test_validation_says_where_and_what_to_change(name: str, tmp_path: Path) -> None:
    question_yaml, expected = BROKEN[name]
    assert errors_for(tmp_path, question_yaml) == expected


def test_the_fixture_reads_as_written(course: Course) -> None:
    _, o1 = question(course, "o1")
    _, o2 = question(course, "o2")
    assert (o1.type, o1.correct, o1.scoring) == ("order", ("b", "a", "c"), "all_or_nothing")
    assert [c.text.source for c in o1.choices] == [
        "Intermediate phase",
        "Early phase",
        "Mature phase",
    ]
    assert (o2.correct, o2.scoring, o2.points) == (("a", "b", "c", "d"), "partial", 2)


# ----------------------------------------------------------------------- QTI


def test_every_document_is_valid_against_the_official_schemas(course: Course, schema_set) -> None:
    entries = [e for e in render_qti_package(course) if e.schema]
    assert len(entries) == 1 + 1 + 4  # manifest, test, items
    for entry in entries:
        assert schema_set.problems(entry.name, entry.schema, entry.read()) == [], entry.name


def item_xml(course: Course, question_id: str) -> bytes:
    case, q = question(course, question_id)
    return render_item(course, case, q)


def test_the_item_is_an_order_interaction_with_an_ordered_response(course: Course) -> None:
    item = etree.fromstring(item_xml(course, "o2"))
    declaration = item.find(f"{QTI}responseDeclaration")
    assert (declaration.get("cardinality"), declaration.get("baseType")) == (
        "ordered",
        "identifier",
    )
    assert [v.text for v in declaration.iter(f"{QTI}value")] == list("abcd")
    interaction = item.find(f"{QTI}itemBody/{QTI}orderInteraction")
    assert interaction.get("shuffle") == "false"
    # Written in the answer order, the items are first shown with the first one last.
    assert [c.get("identifier") for c in interaction.iter(f"{QTI}simpleChoice")] == list("bcda")
    shuffled = etree.fromstring(item_xml(course, "o3")).find(f".//{QTI}orderInteraction")
    assert shuffled.get("shuffle") == "true"


@pytest.mark.parametrize(
    ("response", "score", "verdict"),
    [
        (["b", "a", "c"], 1.0, "correct"),
        (["a", "b", "c"], 0.0, "incorrect"),  # the first two swapped
        (["b", "c", "a"], 0.0, "incorrect"),
        (None, 0.0, "incorrect"),
    ],
)
def test_pyslet_scores_all_or_nothing(course: Course, response, score, verdict) -> None:
    got, feedback = run_pyslet(item_xml(course, "o1"), response)
    assert got == pytest.approx(score)
    other = ({"correct", "incorrect"} - {verdict}).pop()
    assert verdict in feedback and other not in feedback


def test_pyslet_gives_credit_per_item_in_its_place(course: Course) -> None:
    xml = item_xml(course, "o2")
    scores = {}
    for order in itertools.permutations("abcd"):
        score, feedback = run_pyslet(xml, list(order))
        placed = sum(a == b for a, b in zip(order, "abcd", strict=True))
        assert score == pytest.approx(2 * placed / 4), order
        assert ("correct" in feedback) == (placed == 4), order
        scores["".join(order)] = score
    assert scores["abcd"] == 2.0  # exactly the points, not a sum of shares
    assert scores["bacd"] == pytest.approx(1.0)  # the first two swapped: half the points
    assert scores["bcda"] == 0.0  # as first shown: nothing in its place
    assert run_pyslet(xml, None)[0] == 0.0


# -------------------------------------------------------------- the player


def test_the_player_script_and_stylesheet_are_small_and_only_where_used(
    course: Course,
) -> None:
    sizes = {
        name: len(minified(name, (ASSETS / name).read_bytes()))
        for name in ("question-order.js", "question-order.css")
    }
    print(f"order player files, minified: {sizes}")
    assert sizes["question-order.js"] < 2800 and sizes["question-order.css"] < 700, sizes
    assert {"question-order.js", "question-order.css"} <= set(player_assets(course))
    seed = validate_course(CONTENT_FOLDER)
    assert not {n for n in player_assets(seed) if n.startswith("question-order")}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-order")
    lms.mount("order", build_scorm_package(ORDER_COURSE, output / "order", schema_set))
    yield lms
    lms.close()


def shown_keys(frame: Frame, number: int) -> str:
    return "".join(
        frame.eval_on_selector_all(
            f"#question-{number} .order-item", "items => items.map(i => i.dataset.key)"
        )
    )


def arrange(frame: Frame, number: int, keys: str) -> None:
    """Put question `number`'s items in the order `keys` with the Move up buttons."""
    for place, key in enumerate(keys):
        for _ in range(shown_keys(frame, number).index(key) - place):
            frame.click(f"#question-{number}-choice-{key}-up")
    assert shown_keys(frame, number) == keys


def answer(frame: Frame, number: int, keys: str) -> None:
    arrange(frame, number, keys)
    frame.click(f"#question-{number} button[type=submit]")
    frame.wait_for_selector(f"#question-{number}-feedback:not([hidden])")


def launch(lms: LmsSession, server: LmsServer, data=None) -> Frame:
    return lms.launch(f"{server.origin}/package-order", CASE, data or initial_cmi())


def test_the_page_never_starts_in_the_answer_order(lms: LmsSession, server: LmsServer) -> None:
    # Math.random drawn so that the shuffle of o3 would land on its answer (abc from bca:
    # b, then c, drawn to the end).
    lms.page.context.add_init_script(
        "(() => { const drawn = [0.1, 0.1]; Math.random = () => drawn.shift() ?? 0.5; })()"
    )
    frame = launch(lms, server)
    assert shown_keys(frame, 1) == SHOWN[1]
    assert shown_keys(frame, 2) == SHOWN[2]
    assert shown_keys(frame, 3) == "bca"  # the shuffle came out right: its first went last


def test_right_and_wrong_orders_are_recorded_as_sequencing(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = launch(lms, server)
    answer(frame, 1, RIGHT[1])
    assert frame.inner_text("#question-1-verdict") == "✓ Correct"
    go_on(frame, 1)
    answer(frame, 2, "bacd")  # two of four in place
    assert frame.inner_text("#question-2-verdict") == "Partly correct: 1 of 2 points"
    assert "belongs at position 1" in frame.inner_text("#question-2-choice-a")
    assert "in its place" in frame.inner_text("#question-2-choice-c")
    assert frame.is_visible("#question-2-feedback .correct-answer")
    go_on(frame, 2)
    answer(frame, 3, "cba")  # wrong
    go_on(frame, 3)
    frame.check("#question-4-choice-a")
    frame.click("#question-4 button[type=submit]")
    go_on(frame, 4)
    frame.wait_for_selector("#results:not([hidden])")
    cmi = lms.cmi()
    interactions = [cmi["interactions"][str(n)] for n in range(3)]
    assert [i["type"] for i in interactions] == ["sequencing"] * 3
    assert [i["student_response"] for i in interactions] == ["b,a,c", "b,a,c,d", "c,b,a"]
    assert [i["correct_responses"]["0"]["pattern"] for i in interactions] == [
        "b,a,c",
        "a,b,c,d",
        "a,b,c",
    ]
    assert [i["result"] for i in interactions] == ["correct", "wrong", "wrong"]
    assert [i["weighting"] for i in interactions] == ["1", "2", "1"]
    # 1 + 1 (half of o2) + 0 + 1 of 5 points.
    assert cmi["core"]["score"]["raw"] == "60"
    assert cmi["suspend_data"] == '{"v":1,"r":["bac","bacd","cba","a"]}'
    assert all(c["error"] == "0" for c in lms.calls())


def test_resume_mid_case_restores_each_order(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    answer(frame, 1, "acb")
    go_on(frame, 1)
    answer(frame, 2, "adcb")
    lms.exit()
    saved = lms.cmi()
    assert saved["suspend_data"] == '{"v":1,"r":["acb","adcb"]}'

    frame = launch(lms, server, resume_data(saved))
    assert shown_keys(frame, 1) == "acb"
    assert shown_keys(frame, 2) == "adcb"
    for number in (1, 2):
        assert frame.is_disabled(f"#question-{number}-choice-a-up")
        assert not frame.is_visible(f"#question-{number} .order-move")
    assert frame.inner_text("#question-1-verdict") == "✗ Incorrect"
    assert frame.inner_text("#question-2-verdict") == "Partly correct: 1 of 2 points"
    # Open, not locked: its items are shuffled, so `a` may be first, where its Move up
    # button is aria-disabled (which Playwright counts as not enabled); ask the fieldset.
    unlocked = "button => !button.closest('fieldset').disabled"
    assert frame.eval_on_selector("#question-3-choice-a-up", unlocked)
    assert "Question 3 of 4" in frame.inner_text("#progress")
    answer(frame, 3, RIGHT[3])
    assert frame.inner_text("#question-3-verdict") == "✓ Correct"


def test_keyboard_alone_moves_items_and_answers(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    page = lms.page
    up = tab_until(page, frame, lambda e: e["id"] == "question-1-choice-b-up", "Move up Early")
    assert_focus_visible(up)
    page.keyboard.press("Enter")
    # Focus stays on the button of the item moved, and the move is announced.
    assert focused(frame)["id"] == "question-1-choice-b-up"
    expect(frame.locator("#announcer")).to_have_text("Early phase, moved to position 1 of 3.")
    # Now first: its Move up says it is unavailable, does nothing, and keeps focus.
    assert frame.get_attribute("#question-1-choice-b-up", "aria-disabled") == "true"
    page.keyboard.press("Space")
    assert focused(frame)["id"] == "question-1-choice-b-up"
    assert shown_keys(frame, 1) == RIGHT[1]
    tab_until(page, frame, lambda e: e["tag"] == "button" and e["type"] == "submit", "Submit")
    page.keyboard.press("Enter")
    frame.wait_for_selector("#question-1-feedback:not([hidden])")
    assert frame.inner_text("#question-1-verdict") == "✓ Correct"
    assert lms.cmi()["interactions"]["0"]["student_response"] == "b,a,c"


def test_each_button_is_named_after_its_item(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    buttons = frame.get_by_role("button", name="Move down Intermediate phase")
    assert buttons.count() == 1
    assert frame.get_by_role("list").first.get_by_role("listitem").count() == 3


def test_axe_finds_nothing_with_the_question_open_and_answered(
    browser: Browser, server: LmsServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(5000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.origin}/package-order/cases/{CASE}/index.html")
    frame = page.main_frame
    found = {}
    found["open"] = axe_violations(frame)
    frame.click("#question-1-choice-b-up")
    found["moved"] = axe_violations(frame)
    frame.click("#question-1 button[type=submit]")
    frame.wait_for_selector("#question-1-feedback:not([hidden])")
    go_on(frame, 1)
    answer(frame, 2, "bacd")  # wrong: marks and the correct order shown
    found["answered"] = axe_violations(frame)
    context.close()
    assert errors == []
    assert found == {"open": [], "moved": [], "answered": []}


def test_the_player_scores_as_pyslet_does(lms: LmsSession, server: LmsServer, course) -> None:
    """Every order of o2 scores the same in the player as in the QTI item."""
    frame = launch(lms, server)
    xml = item_xml(course, "o2")
    for order in map("".join, itertools.permutations("abcd")):
        player = frame.evaluate(
            """(code) => window.QtiQuestions.order.points(
                {spec: {correct: "abcd", points: 2, partial: true}}, code)""",
            order,
        )
        assert player == pytest.approx(run_pyslet(xml, list(order))[0]), order

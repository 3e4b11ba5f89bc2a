"""One case with a question of each of the ten types, played end to end in the test LMS.

The course is tests/fixtures/one-case-every-type: questions in the registry's order
(single, multiple, true_false, text, numeric, order, match, essay, hotspot, point) worth
2, 1, 1, 1, 1, 2, 2, (essay never scored), 1 and 1 points, mastery score 70. The hotspot
and point questions share an 800 × 600 image. A learner answers it
by keyboard alone at desktop and phone sizes (focus checked after every key press),
and a learner who leaves after four questions comes back to the fifth. What the LMS
recorded (scorm-again's cmi) is checked per question, and axe-core checks the result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page

from lms.harness import (
    LmsServer,
    LmsSession,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
)
from qtiexport.questions import NAMES
from qtiexport.schemas import SchemaSet
from qtiexport.validate import validate_course
from test_player_accessibility import axe_violations
from test_player_resume import resume_data
from test_question_hotspot_player import click_image, click_point

from conftest import FIXTURES

COURSE = FIXTURES / "one-case-every-type"
CASE = "every-type"
MASTERY_SCORE = 70
QUESTION_IDS = [
    "q_single",
    "q_multiple",
    "q_true_false",
    "q_text",
    "q_numeric",
    "q_order",
    "q_match",
    "q_essay",
    "q_hotspot",
    "q_point",
]
# SCORM 1.2's interaction type of each question, in the same order.
INTERACTION_TYPES = [
    "choice",
    "choice",
    "true-false",
    "fill-in",
    "numeric",
    "sequencing",
    "matching",
    "fill-in",
    "choice",
    "performance",
]
MAX_PRESSES = 60  # to reach one control by Tab or Shift+Tab
ESSAY = "Lobulated mass\nwith fluid levels."
ESSAY_NUMBER = NAMES.index("essay") + 1
# The point question's crosshair starts at the image's centre; an arrow key moves it 1% of
# the image, Shift+arrow 10%.
IMAGE_SIZE = (800, 600)


@dataclass(frozen=True)
class Run:
    """What a learner gives for each question, and what the LMS must then hold."""

    size: tuple[int, int]
    # single/multiple: keys; true_false: "true"/"false"; text, numeric, essay: typed;
    # order: keys in the order wanted; match: each choice's target in choice order;
    # hotspot: the area's key; point: "x,y" in image pixels, reached by the arrow keys.
    answers: tuple[str, ...]
    responses: tuple[str, ...]  # cmi.interactions.n.student_response
    results: tuple[str, ...]
    score: str
    status: str


RUNS = [
    # 2 + 0 + 1 + 0 + 1 + 2 + 2 + 1 + 0 = 9 of 12 points: passed. The point (160, 480)
    # is far outside the circle of radius 60 around (480, 360).
    Run(
        size=(1280, 900),
        answers=("a", "a", "false", "Gout", "3,2", "bac", "xyz", ESSAY, "a", "160,480"),
        responses=(
            "a",
            "a",
            "f",
            "Gout",
            "3.2",
            "b,a,c",
            "a.x,b.y,c.z",
            " ".join(ESSAY.split()),
            "a",
            "160,480",
        ),
        results=(
            "correct",
            "wrong",
            "correct",
            "wrong",
            "correct",
            "correct",
            "correct",
            "neutral",
            "correct",
            "wrong",
        ),
        score="75",
        status="passed",
    ),
    # 0 + 1 + 0 + 1 + 0 + 0 + 0 + 0 + 1 = 3 of 12 points: failed. (488, 360) is inside the
    # circle of radius 60 around (480, 360).
    Run(
        size=(375, 800),
        answers=(
            "b",
            "ac",
            "true",
            "Tumoral Calcinosis",
            "5",
            "cba",
            "yxz",
            "A mass.",
            "c",
            "488,360",
        ),
        responses=(
            "b",
            "a,c",
            "t",
            "Tumoral Calcinosis",
            "5",
            "c,b,a",
            "a.y,b.x,c.z",
            "A mass.",
            "c",
            "488,360",
        ),
        results=(
            "wrong",
            "correct",
            "wrong",
            "correct",
            "wrong",
            "wrong",
            "wrong",
            "neutral",
            "wrong",
            "correct",
        ),
        score="25",
        status="failed",
    ),
]


def test_the_fixture_has_one_question_of_each_type_in_registry_order() -> None:
    course = validate_course(COURSE)
    assert course.mastery_score == MASTERY_SCORE
    (case,) = course.cases
    assert case.id == CASE
    assert [q.id for q in case.questions] == QUESTION_IDS
    assert tuple(q.type for q in case.questions) == NAMES
    points = [q.points for q in case.questions]
    assert points[:7] + points[8:] == [2, 1, 1, 1, 1, 2, 2, 1, 1]
    assert case.max_score == 12  # the essay's point is shown, never scored


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-every-type")
    lms.mount("every", build_scorm_package(COURSE, output / "every", schema_set))
    yield lms
    lms.close()


def package(server: LmsServer) -> str:
    return f"{server.origin}/package-every"


def recorded(cmi: dict[str, Any]) -> list[dict[str, Any]]:
    """cmi.interactions in the order they were recorded."""
    found = cmi.get("interactions") or {}
    return [found[str(n)] for n in range(len(found))]


# ------------------------------------------------------------ keyboard alone


@dataclass
class Keyboard:
    """Presses keys in the LMS page and, after each, notes where focus went in the SCO."""

    page: Page
    frame: Frame
    presses: int = 0
    lost: list[str] = field(default_factory=list)  # key presses after which body had focus

    def focused_id(self) -> str:
        return self.frame.evaluate(
            """() => {
                const element = document.activeElement;
                if (!element || element === document.body) return "body";
                return element.id || element.tagName.toLowerCase() + "." + element.className;
            }"""
        )

    def press(self, key: str) -> None:
        before = self.focused_id()
        self.page.keyboard.press(key)
        self.presses += 1
        if self.focused_id() == "body":
            self.lost.append(f"{key} on {before}")

    def type(self, text: str) -> None:
        for character in text:
            self.press("Enter" if character == "\n" else character)

    def tab_to(self, selector: str) -> None:
        """Tab (or Shift+Tab, if it comes earlier in the page) until `selector` has focus."""
        for _ in range(MAX_PRESSES):
            way = self.frame.evaluate(
                """(selector) => {
                    const target = document.querySelector(selector);
                    const active = document.activeElement;
                    if (active === target) return 0;
                    if (!active || active === document.body) return 1;
                    return active.compareDocumentPosition(target)
                        & Node.DOCUMENT_POSITION_FOLLOWING ? 1 : -1;
                }""",
                selector,
            )
            if way == 0:
                return
            self.press("Tab" if way > 0 else "Shift+Tab")
        raise AssertionError(f"Tab never reached {selector}")


def shown_order(frame: Frame, number: int) -> str:
    return "".join(
        frame.eval_on_selector_all(
            f"#question-{number} .order-item", "items => items.map(i => i.dataset.key)"
        )
    )


def choose_in_group(keyboard: Keyboard, number: int, keys: list[str], wanted: str) -> None:
    """A radio group: Tab to it (its first radio, none being checked), Space, arrows."""
    keyboard.tab_to(f"#question-{number}-choice-{keys[0]}")
    keyboard.press("Space")
    for _ in range(keys.index(wanted)):
        keyboard.press("ArrowDown")
    assert keyboard.frame.is_checked(f"#question-{number}-choice-{wanted}")


def crosshair_keys(answer: str) -> list[str]:
    """The arrow keys (Shift+arrow first) that move the crosshair from the image's centre
    to the point "x,y"; each offset must be a whole number of 1% steps."""
    keys: list[str] = []
    wanted = [int(value) for value in answer.split(",")]
    for axis, (less, more) in enumerate([("ArrowLeft", "ArrowRight"), ("ArrowUp", "ArrowDown")]):
        offset = wanted[axis] - IMAGE_SIZE[axis] // 2
        step = IMAGE_SIZE[axis] // 100
        tens, ones = divmod(abs(offset), 10 * step)
        assert ones % step == 0, f"{answer} is not a whole number of 1% steps from the centre"
        key = more if offset > 0 else less
        keys += [f"Shift+{key}"] * tens + [key] * (ones // step)
    return keys


def answer_by_keyboard(keyboard: Keyboard, number: int, kind: str, answer: str) -> None:
    frame = keyboard.frame
    question = f"#question-{number}"
    if kind == "single":
        choose_in_group(keyboard, number, ["a", "b", "c"], answer)
    elif kind == "true_false":
        choose_in_group(keyboard, number, ["true", "false"], answer)
    elif kind == "multiple":
        for key in answer:
            keyboard.tab_to(f"{question}-choice-{key}")
            keyboard.press("Space")
        checked = frame.eval_on_selector_all(
            f"{question} input:checked", "boxes => boxes.map(b => b.value).join('')"
        )
        assert checked == answer
    elif kind in ("text", "numeric", "essay"):
        field_id = {"text": "text", "numeric": "number", "essay": "essay"}[kind]
        keyboard.tab_to(f"{question}-{field_id}")
        keyboard.type(answer)
    elif kind == "order":
        for place, key in enumerate(answer):
            while shown_order(frame, number).index(key) > place:
                keyboard.tab_to(f"{question}-choice-{key}-up")
                keyboard.press("Enter")
        assert shown_order(frame, number) == answer
    elif kind == "match":
        for choice, target in zip("abc", answer, strict=True):
            select = f"{question}-choice-{choice}"
            keyboard.tab_to(select)
            options = frame.eval_on_selector(select, "s => [...s.options].map(o => o.value)")
            for _ in range(options.index(target)):
                keyboard.press("ArrowDown")
            assert frame.eval_on_selector(select, "s => s.value") == target
    elif kind == "hotspot":
        keyboard.tab_to(f"{question}-area-{answer}")
        keyboard.press("Enter")
        pressed = frame.eval_on_selector_all(
            f"{question} .image-area[aria-pressed=true]", "areas => areas.map(a => a.dataset.key)"
        )
        assert pressed == [answer]
    elif kind == "point":
        keyboard.tab_to(f"{question}-crosshair")
        for key in crosshair_keys(answer):
            keyboard.press(key)
        keyboard.press("Enter")
        x, y = answer.split(",")
        where = frame.inner_text(f"{question}-where")
        assert where.startswith(f"Point placed at x {x}, y {y} "), where
    else:
        raise AssertionError(f"no keyboard steps for the type {kind}")
    keyboard.tab_to(f"{question} button[type=submit]")
    keyboard.press("Enter")
    assert keyboard.focused_id() == f"question-{number}-feedback"
    keyboard.tab_to(f"{question} .next-button")
    keyboard.press("Enter")


@dataclass
class KeyboardRun:
    run: Run
    lms: LmsSession
    frame: Frame
    keyboard: Keyboard
    cmi: dict[str, Any]
    focus_at_end: str


@pytest.fixture(scope="module", params=RUNS, ids=lambda run: f"{run.size[0]}x{run.size[1]}")
def keyboard_run(
    request: pytest.FixtureRequest, browser: Browser, server: LmsServer
) -> Iterator[KeyboardRun]:
    """The whole case answered by keyboard alone, left on its result for the tests to read.
    The context lets axe-core in (the SCO's policy allows no injected script)."""
    run: Run = request.param
    width, height = run.size
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    context.set_default_timeout(5000)
    lms = LmsSession(context.new_page(), server)
    frame = lms.launch(package(server), CASE, initial_cmi(MASTERY_SCORE))
    keyboard = Keyboard(lms.page, frame)
    for number, (kind, answer) in enumerate(zip(NAMES, run.answers, strict=True), start=1):
        answer_by_keyboard(keyboard, number, kind, answer)
    frame.wait_for_selector("#results:not([hidden])")
    yield KeyboardRun(run, lms, frame, keyboard, lms.cmi(), keyboard.focused_id())
    context.close()


def test_a_case_with_every_type_is_completed_by_keyboard_alone(keyboard_run: KeyboardRun) -> None:
    run, lms, cmi = keyboard_run.run, keyboard_run.lms, keyboard_run.cmi
    print(f"{run.size}: {keyboard_run.keyboard.presses} key presses")
    assert keyboard_run.keyboard.lost == [], "focus fell on the page's body"
    assert keyboard_run.focus_at_end == "results-heading"
    interactions = recorded(cmi)
    assert [i["id"] for i in interactions] == [f"{CASE}__{q}" for q in QUESTION_IDS]
    assert [i["type"] for i in interactions] == INTERACTION_TYPES
    assert [i["student_response"] for i in interactions] == list(run.responses)
    assert [i["result"] for i in interactions] == list(run.results)
    assert cmi["core"]["score"]["raw"] == run.score
    assert cmi["core"]["lesson_status"] == run.status
    outcome = keyboard_run.frame.inner_text("#result-outcome")
    assert ("Not passed" in outcome) == (run.status == "failed"), outcome
    assert f"{run.score}%" in keyboard_run.frame.inner_text("#result-score")
    # The essay is kept as typed, line break and all, for the learner to see on return.
    essay = ESSAY_NUMBER - 1
    assert json.loads(cmi["suspend_data"])["r"][essay] == run.answers[essay]
    # Nothing is wider than the screen: no sideways scrolling on a phone either.
    overflow = keyboard_run.frame.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert [c for c in lms.calls() if c["error"] != "0"] == []
    assert lms.errors == []


def test_axe_finds_nothing_on_the_result_of_the_keyboard_run(keyboard_run: KeyboardRun) -> None:
    assert keyboard_run.frame.is_visible("#results")
    assert axe_violations(keyboard_run.frame) == []


# ----------------------------------------------------------------------- resume


def assert_locked(frame: Frame, number: int, verdict: str) -> None:
    question = f"#question-{number}"
    assert frame.is_visible(question)
    assert frame.is_visible(f"{question}-feedback")
    assert frame.inner_text(f"{question}-verdict") == verdict
    assert not frame.is_visible(f"{question} button[type=submit]")


def arrange_with_mouse(frame: Frame, number: int, keys: str) -> None:
    for place, key in enumerate(keys):
        for _ in range(shown_order(frame, number).index(key) - place):
            frame.click(f"#question-{number}-choice-{key}-up")
    assert shown_order(frame, number) == keys


def submit(frame: Frame, number: int) -> None:
    frame.click(f"#question-{number} button[type=submit]")
    frame.wait_for_selector(f"#question-{number}-feedback:not([hidden])")


def test_every_type_resumes_mid_case(lms: LmsSession, server: LmsServer) -> None:
    frame = lms.launch(package(server), CASE, initial_cmi(MASTERY_SCORE))
    answer_with_mouse(frame, 1, "b")  # wrong
    go_on(frame, 1)
    answer_with_mouse(frame, 2, "ac")
    go_on(frame, 2)
    answer_with_mouse(frame, 3, "false")
    go_on(frame, 3)
    frame.fill("#question-4-text", "calcinosis")
    submit(frame, 4)  # and leave before going on
    lms.exit()
    saved = lms.cmi()
    assert saved["core"]["exit"] == "suspend"
    assert saved["core"]["lesson_location"] == "q_numeric"
    assert saved["suspend_data"] == '{"v":1,"r":["b","ac","f","calcinosis"]}'

    frame = lms.launch(package(server), CASE, resume_data(saved, MASTERY_SCORE))
    assert_locked(frame, 1, "✗ Incorrect")
    assert frame.is_checked("#question-1-choice-b") and frame.is_disabled("#question-1-choice-b")
    assert not frame.is_checked("#question-1-choice-a")
    assert_locked(frame, 2, "✓ Correct")
    assert [frame.is_checked(f"#question-2-choice-{key}") for key in "abcd"] == [
        True,
        False,
        True,
        False,
    ]
    assert all(frame.is_disabled(f"#question-2-choice-{key}") for key in "abcd")
    assert_locked(frame, 3, "✓ Correct")
    assert frame.is_checked("#question-3-choice-false")
    assert frame.is_disabled("#question-3-choice-false")
    assert_locked(frame, 4, "✓ Correct")
    assert frame.input_value("#question-4-text") == "calcinosis"
    assert frame.is_disabled("#question-4-text")
    # The fifth is open and empty; the sixth is not shown yet.
    assert frame.is_visible("#question-5") and frame.is_enabled("#question-5-number")
    assert frame.input_value("#question-5-number") == ""
    assert frame.is_visible("#question-5 button[type=submit]")
    assert not frame.is_visible("#question-6")
    assert "Question 5 of 10" in frame.inner_text("#progress")

    frame.fill("#question-5-number", "2.5")  # the lower edge of 3 ± 0.5: right
    submit(frame, 5)
    go_on(frame, 5)
    arrange_with_mouse(frame, 6, "abc")  # wrong (b, a, c)
    submit(frame, 6)
    go_on(frame, 6)
    for choice, target in zip("abc", "xyz", strict=True):
        frame.select_option(f"#question-7-choice-{choice}", target)
    submit(frame, 7)
    go_on(frame, 7)
    frame.fill("#question-8-essay", "A lobulated mass.")
    submit(frame, 8)
    go_on(frame, 8)
    click_image(frame, 9, 650, 150)  # inside the triangle c: wrong
    submit(frame, 9)
    go_on(frame, 9)
    click_point(frame, 10, 150, 500)  # outside the circle: wrong
    submit(frame, 10)
    go_on(frame, 10)
    frame.wait_for_selector("#results:not([hidden])")

    cmi = lms.cmi()
    interactions = recorded(cmi)
    # The four the LMS held from the first session, then this session's six.
    assert [i["id"] for i in interactions] == [f"{CASE}__{q}" for q in QUESTION_IDS]
    assert [i["type"] for i in interactions] == INTERACTION_TYPES
    assert [i["result"] for i in interactions] == [
        "wrong",
        "correct",
        "correct",
        "correct",
        "correct",
        "wrong",
        "correct",
        "neutral",
        "wrong",
        "wrong",
    ]
    # 0 + 1 + 1 + 1 + 1 + 0 + 2 + 0 + 0 = 6 of 12 points, counting the restored answers.
    assert cmi["core"]["score"]["raw"] == "50"
    assert cmi["core"]["lesson_status"] == "failed"
    *codes, point = json.loads(cmi["suspend_data"])["r"]
    # One CSS pixel is up to 800/330 image pixels on a narrow screen.
    x, y = map(int, point.split(","))
    assert abs(x - 150) <= 3 and abs(y - 500) <= 3, point
    assert interactions[-1]["student_response"] == point
    assert codes == [
        "b",
        "ac",
        "f",
        "calcinosis",
        "2.5",
        "abc",
        "xyz",
        "A lobulated mass.",
        "c",
    ]
    assert "50%" in frame.inner_text("#result-score")
    assert [c for c in lms.calls() if c["error"] != "0"] == []

"""The hotspot and point questions in the player (question-hotspot.js, question-point.js,
viewer.js's overlay), in Chromium under scorm-again: pointer clicks inside and outside the
areas at a phone's and a desktop's size, keyboard-only answers, the answer drawn over the
image where its coordinates say (in the page and in the zoomed, panned viewer), resume,
and axe-core with the questions open and answered; answering by clicks on the image in
the zoomed, panned viewer; the player's hit test against pyslet's; and the README's pictures.

The fixture's image is 800×600; h1 (single) and h2 (multiple, b and c) share the areas
a circle [412, 300, 40], b rect [100, 120, 220, 260], c poly [600,100 700,100 650,200];
p1's area is the circle [480, 360, 60].
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import Browser, Frame

from lms.harness import (
    LmsServer,
    LmsSession,
    build_scorm_package,
    go_on,
    initial_cmi,
    open_lms,
)
from qtiexport.qti import item_href, render_qti_package
from qtiexport.schemas import SchemaSet
from qtiexport.validate import validate_course
from test_player_accessibility import axe_violations
from test_player_keyboard import assert_focus_visible, focused, tab_until
from test_player_resume import resume_data
from test_question_hotspot import POINT_SHAPES, copy_with_questions

from conftest import FIXTURES, REPO
from test_qti import run_pyslet

COURSE = FIXTURES / "question-hotspot"
CASE = "lateral-film"
WIDTH, HEIGHT = 800, 600
SIZES = [(375, 800), (1280, 900)]
CIRCLE_A = (412 - 40, 300 - 40, 412 + 40, 300 + 40)  # its box, image pixels
RECT_B = (100, 120, 220, 260)
CIRCLE_P1 = (480 - 60, 360 - 60, 480 + 60, 360 + 60)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-hotspot")
    lms.mount("hotspot", build_scorm_package(COURSE, output / "hotspot", schema_set))
    yield lms
    lms.close()


def launch(lms: LmsSession, server: LmsServer, data=None) -> Frame:
    return lms.launch(f"{server.origin}/package-hotspot", CASE, data or initial_cmi())


def box(frame: Frame, selector: str) -> dict[str, float]:
    return frame.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return {left: r.left, top: r.top, width: r.width, height: r.height}; }",
    )


def click_pixel(frame: Frame, selector: str, picture: str, x: float, y: float) -> None:
    """A pointer click on `selector` where image pixel (x, y) is painted. Both boxes are
    read at once: the page may still be scrolling to the question."""
    image, target = frame.evaluate(
        """([a, b]) => [a, b].map(s => document.querySelector(s).getBoundingClientRect())
            .map(r => ({left: r.left, top: r.top, width: r.width, height: r.height}))""",
        [picture, selector],
    )
    frame.click(
        selector,
        position={
            "x": image["left"] - target["left"] + x * image["width"] / WIDTH,
            "y": image["top"] - target["top"] + y * image["height"] / HEIGHT,
        },
    )


def click_image(frame: Frame, number: int, x: float, y: float) -> None:
    picture = f"#question-{number}-picture"
    click_pixel(frame, picture, picture, x, y)


def click_point(frame: Frame, number: int, x: float, y: float) -> None:
    click_pixel(frame, f"#question-{number}-crosshair", f"#question-{number}-picture", x, y)


def submit(frame: Frame, number: int) -> None:
    frame.click(f"#question-{number} button[type=submit]")
    frame.wait_for_selector(f"#question-{number}-feedback:not([hidden])")


def pressed(frame: Frame, number: int) -> str:
    return "".join(
        frame.eval_on_selector_all(
            f"#question-{number} .image-area[aria-pressed=true]",
            "buttons => buttons.map(b => b.dataset.key)",
        )
    )


def assert_drawn_at(frame: Frame, shape: str, picture: str, area: tuple[int, ...]) -> None:
    """The painted shape's box is the area's box mapped through the painted image's box,
    within 2 px (CSS pixels)."""
    image, drawn = frame.evaluate(
        """([a, b]) => [a, b].map(s => document.querySelector(s).getBoundingClientRect())
            .map(r => ({left: r.left, top: r.top, width: r.width, height: r.height}))""",
        [picture, shape],
    )
    sx, sy = image["width"] / WIDTH, image["height"] / HEIGHT
    expected = {
        "left": image["left"] + area[0] * sx,
        "top": image["top"] + area[1] * sy,
        "width": (area[2] - area[0]) * sx,
        "height": (area[3] - area[1]) * sy,
    }
    offsets = {k: round(abs(drawn[k] - expected[k]), 2) for k in expected}
    print(f"overlay offset {shape} at image width {image['width']:.0f}px: {offsets}")
    assert max(offsets.values()) <= 2, (drawn, expected)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_clicks_inside_and_outside_are_recorded(
    browser: Browser, server: LmsServer, size: tuple[int, int]
) -> None:
    lms = open_lms(browser, server, *size)
    frame = launch(lms, server)
    click_image(frame, 1, 760, 560)  # outside every area: nothing chosen
    assert pressed(frame, 1) == ""
    frame.click("#question-1 button[type=submit]")
    assert frame.inner_text("#question-1-error") == "Select an area of the image first."
    click_image(frame, 1, 650, 130)  # inside the triangle c
    assert pressed(frame, 1) == "c"
    click_image(frame, 1, 412, 300)  # inside a: a single answer replaces c
    assert pressed(frame, 1) == "a"
    assert frame.inner_text("#question-1-chosen") == "Your answer: Radiolucent septum."
    submit(frame, 1)
    assert frame.inner_text("#question-1-verdict") == "✓ Correct"
    go_on(frame, 1)
    click_image(frame, 2, 110, 130)  # b, near its top-left corner
    click_image(frame, 2, 412, 300)  # a
    click_image(frame, 2, 412, 300)  # a again: off
    assert pressed(frame, 2) == "b"
    submit(frame, 2)  # c missing
    assert frame.inner_text("#question-2-verdict") == "✗ Incorrect"
    go_on(frame, 2)
    click_point(frame, 3, 150, 500)  # outside the circle
    submit(frame, 3)
    assert frame.inner_text("#question-3-verdict") == "✗ Incorrect"
    cmi = lms.cmi()
    interactions = [cmi["interactions"][str(n)] for n in range(3)]
    assert [i["type"] for i in interactions] == ["choice", "choice", "performance"]
    assert [i["result"] for i in interactions] == ["correct", "wrong", "wrong"]
    assert [i["student_response"] for i in interactions[:2]] == ["a", "b"]
    assert [i["correct_responses"]["0"]["pattern"] for i in interactions[:2]] == ["a", "b,c"]
    x, y = map(int, interactions[2]["student_response"].split(","))
    # One CSS pixel is up to 800/330 image pixels on the phone.
    assert abs(x - 150) <= 3 and abs(y - 500) <= 3, (x, y)
    assert cmi["suspend_data"] == f'{{"v":1,"r":["a","b","{x},{y}"]}}'
    assert all(c["error"] == "0" for c in lms.calls())
    assert lms.errors == []
    lms.page.context.close()


def test_a_point_inside_is_right(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    click_image(frame, 1, 650, 150)  # c: wrong
    submit(frame, 1)
    go_on(frame, 1)
    click_image(frame, 2, 160, 200)  # b only: wrong
    submit(frame, 2)
    go_on(frame, 2)
    click_point(frame, 3, 500, 380)
    where = frame.inner_text("#question-3-where")
    x, y = map(
        int,
        re.fullmatch(
            r"Point placed at x (\d+), y (\d+) of the image's 800 × 600 "
            r"pixels\.",
            where,
        ).groups(),
    )
    assert abs(x - 500) <= 2 and abs(y - 380) <= 2, where
    submit(frame, 3)
    assert frame.inner_text("#question-3-verdict") == "✓ Correct"
    cmi = lms.cmi()
    assert cmi["interactions"]["2"]["result"] == "correct"
    assert cmi["interactions"]["2"]["student_response"] == f"{x},{y}"
    assert cmi["core"]["score"]["raw"] == "25"  # 1 of 4 points


def test_keyboard_alone_answers_both_types(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    page = lms.page
    area = tab_until(page, frame, lambda e: e["id"] == "question-1-area-a", "area a")
    assert_focus_visible(area)
    assert area["text"] == "Radiolucent septum"
    page.keyboard.press("Enter")
    assert pressed(frame, 1) == "a"
    tab_until(page, frame, lambda e: e["type"] == "submit", "Submit")
    page.keyboard.press("Enter")
    frame.wait_for_selector("#question-1-feedback:not([hidden])")
    assert frame.inner_text("#question-1-verdict") == "✓ Correct"
    tab_until(page, frame, lambda e: "next-button" in e["cls"], "Next")
    page.keyboard.press("Enter")
    tab_until(page, frame, lambda e: e["id"] == "question-2-area-b", "area b")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused(frame)["id"] == "question-2-area-c"
    page.keyboard.press("Enter")
    assert pressed(frame, 2) == "bc"
    tab_until(page, frame, lambda e: e["type"] == "submit", "Submit")
    page.keyboard.press("Enter")
    frame.wait_for_selector("#question-2-feedback:not([hidden])")
    assert frame.inner_text("#question-2-verdict") == "✓ Correct"
    tab_until(page, frame, lambda e: "next-button" in e["cls"], "Next")
    page.keyboard.press("Enter")
    crosshair = tab_until(page, frame, lambda e: e["id"] == "question-3-crosshair", "crosshair")
    assert_focus_visible(crosshair)
    # From the centre (400, 300): Shift moves 10% (80 by 60), a plain arrow 1% (8 by 6).
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    assert frame.inner_text("#question-3-where") == (
        "Crosshair at x 488, y 360; Enter places the point."
    )
    page.keyboard.press("Enter")
    assert frame.inner_text("#question-3-where").startswith("Point placed at x 488, y 360")
    tab_until(page, frame, lambda e: e["type"] == "submit", "Submit")
    page.keyboard.press("Enter")
    frame.wait_for_selector("#question-3-feedback:not([hidden])")
    assert frame.inner_text("#question-3-verdict") == "✓ Correct"
    interactions = lms.cmi()["interactions"]
    assert [interactions[str(n)]["student_response"] for n in range(3)] == ["a", "b,c", "488,360"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_answer_is_drawn_on_the_image_and_in_the_zoomed_viewer(
    browser: Browser, server: LmsServer, size: tuple[int, int]
) -> None:
    lms = open_lms(browser, server, *size)
    frame = launch(lms, server)
    click_image(frame, 1, 150, 200)  # b: wrong
    submit(frame, 1)
    overlay = "#question-1-stage svg.shape-overlay"
    assert frame.get_attribute(overlay, "viewBox") == f"0 0 {WIDTH} {HEIGHT}"
    assert_drawn_at(frame, f"{overlay} circle.is-correct", "#question-1-picture", CIRCLE_A)
    assert_drawn_at(frame, f"{overlay} rect.is-chosen", "#question-1-picture", RECT_B)
    labels = frame.eval_on_selector_all(f"{overlay} text", "ts => ts.map(t => t.textContent)")
    assert labels == ["Radiolucent septum", "Soft tissue (your answer)"]
    go_on(frame, 1)
    click_image(frame, 2, 150, 200)
    submit(frame, 2)
    go_on(frame, 2)
    click_point(frame, 3, 480, 360)
    submit(frame, 3)
    overlay3 = "#question-3-stage svg.shape-overlay"
    assert_drawn_at(frame, f"{overlay3} circle.is-correct", "#question-3-picture", CIRCLE_P1)
    # The learner's point: a cross 2 × 20 image pixels wide (max(800, 600) / 40 each way).
    assert_drawn_at(
        frame, f"{overlay3} path.is-chosen", "#question-3-picture", (460, 340, 500, 380)
    )

    # In the viewer, with annotations shown, zoomed in and panned: still on the anatomy.
    frame.click("button.thumb[data-image=lateral]")
    frame.wait_for_selector("#viewer[open]")
    frame.press("#viewer-stage", "a")
    assert frame.get_attribute("[data-action=annotations]", "aria-pressed") == "true"
    stage_overlay = "#viewer-stage svg.shape-overlay"
    for key in ("+", "+", "ArrowLeft", "ArrowUp"):
        frame.press("#viewer-stage", key)
    frame.wait_for_timeout(300)  # the transform's 0.12 s transition
    assert frame.inner_text("#viewer-zoom") == "156%"
    circles = f"{stage_overlay} circle.is-correct"
    # h1's area a, and p1's area (h2's answers are a rect and a triangle).
    assert frame.eval_on_selector_all(circles, "cs => cs.length") == 2
    assert_drawn_at(frame, f"{circles}:nth-of-type(1)", "#viewer-image", CIRCLE_A)
    assert_drawn_at(frame, f"{circles}:nth-of-type(2)", "#viewer-image", CIRCLE_P1)
    frame.press("#viewer-stage", "a")
    assert not frame.is_visible(stage_overlay)
    assert lms.errors == []
    lms.page.context.close()


def test_resume_restores_the_answers_and_their_drawing(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    click_image(frame, 1, 650, 150)  # c: wrong
    submit(frame, 1)
    go_on(frame, 1)
    click_image(frame, 2, 150, 200)
    click_image(frame, 2, 650, 150)
    submit(frame, 2)
    lms.exit()
    saved = lms.cmi()
    assert saved["suspend_data"] == '{"v":1,"r":["c","bc"]}'

    frame = launch(lms, server, resume_data(saved))
    assert pressed(frame, 1) == "c"
    assert pressed(frame, 2) == "bc"
    assert frame.is_disabled("#question-1-area-a")
    assert frame.inner_text("#question-1-verdict") == "✗ Incorrect"
    assert frame.inner_text("#question-2-verdict") == "✓ Correct"
    assert_drawn_at(frame, "#question-1-stage circle.is-correct", "#question-1-picture", CIRCLE_A)
    assert frame.eval_on_selector_all(
        "#question-1-stage text", "ts => ts.map(t => t.textContent)"
    ) == ["Radiolucent septum", "Cortex (your answer)"]
    assert frame.is_visible("#question-3-crosshair")
    click_point(frame, 3, 480, 360)
    submit(frame, 3)
    lms.exit()
    point = lms.cmi()["suspend_data"]
    frame = launch(lms, server, resume_data(lms.cmi()))
    assert frame.inner_text("#question-3-where").startswith("Your point: x 4")
    assert_drawn_at(frame, "#question-3-stage circle.is-correct", "#question-3-picture", CIRCLE_P1)
    assert '"r":["c","bc","4' in point


def test_axe_finds_nothing_with_the_questions_open_and_answered(
    browser: Browser, server: LmsServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(5000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.origin}/package-hotspot/cases/{CASE}/index.html")
    frame = page.main_frame
    found = {}
    found["hotspot open"] = axe_violations(frame)
    frame.focus("#question-1-area-b")
    page.keyboard.press("Enter")
    found["hotspot chosen"] = axe_violations(frame)
    submit(frame, 1)
    found["hotspot answered"] = axe_violations(frame)
    go_on(frame, 1)
    click_image(frame, 2, 150, 200)
    submit(frame, 2)
    go_on(frame, 2)
    frame.focus("#question-3-crosshair")
    page.keyboard.press("ArrowLeft")
    found["point open"] = axe_violations(frame)
    page.keyboard.press("Enter")
    submit(frame, 3)
    found["point answered"] = axe_violations(frame)
    context.close()
    assert errors == []
    assert all(v == [] for v in found.values()), found


# ------------------------------------------------------------- in the viewer


def frame_origin(frame: Frame) -> tuple[float, float]:
    """Where the SCO's frame sits in the LMS page, for page.mouse."""
    element = frame.frame_element()
    found = element.bounding_box()
    assert found is not None
    return found["x"], found["y"]


def painted_at(frame: Frame, x: float, y: float) -> tuple[float, float]:
    """The point of the frame's viewport where the viewer paints image pixel (x, y),
    checked to be inside the stage (so a click there reaches the image)."""
    image, stage = frame.evaluate(
        """() => ['#viewer-image', '#viewer-stage'].map(s => document.querySelector(s)
            .getBoundingClientRect()).map(r => ({left: r.left, top: r.top,
            width: r.width, height: r.height}))"""
    )
    at = (
        image["left"] + x * image["width"] / WIDTH,
        image["top"] + y * image["height"] / HEIGHT,
    )
    assert stage["left"] + 4 < at[0] < stage["left"] + stage["width"] - 4, (at, stage)
    assert stage["top"] + 4 < at[1] < stage["top"] + stage["height"] - 4, (at, stage)
    return at


def click_in_viewer(lms: LmsSession, frame: Frame, x: float, y: float) -> None:
    """A pointer click (down and up in place) where the viewer paints image pixel (x, y)."""
    left, top = frame_origin(frame)
    at = painted_at(frame, x, y)
    lms.page.mouse.click(left + at[0], top + at[1])


def zoom_and_pan_towards(lms: LmsSession, frame: Frame, x: float, y: float) -> None:
    """Zoom the viewer to about 200% with its + key, then drag with the mouse to bring
    image pixel (x, y) towards the stage's centre (the drag must pan, not answer)."""
    for _ in range(3):
        frame.press("#viewer-stage", "+")
    frame.wait_for_timeout(300)  # the transform's 0.12 s transition
    zoom = int(frame.inner_text("#viewer-zoom").rstrip("%"))
    assert 190 <= zoom <= 210, zoom
    image, stage = frame.evaluate(
        """() => ['#viewer-image', '#viewer-stage'].map(s => document.querySelector(s)
            .getBoundingClientRect()).map(r => ({left: r.left, top: r.top,
            width: r.width, height: r.height}))"""
    )
    left, top = frame_origin(frame)
    start = (left + stage["left"] + stage["width"] / 2, top + stage["top"] + stage["height"] / 2)
    target = (
        left + image["left"] + x * image["width"] / WIDTH,
        top + image["top"] + y * image["height"] / HEIGHT,
    )
    mouse = lms.page.mouse
    mouse.move(*start)
    mouse.down()
    mouse.move(start[0] + (start[0] - target[0]), start[1] + (start[1] - target[1]), steps=8)
    mouse.up()
    frame.wait_for_timeout(300)
    moved = frame.evaluate(
        "() => document.querySelector('#viewer-image').getBoundingClientRect().left"
    )
    assert abs(moved - image["left"]) > 20, "the drag did not pan"


def open_viewer_from_question(frame: Frame, number: int) -> None:
    frame.click(f"#question-{number}-enlarge")
    frame.wait_for_selector("#viewer[open]")
    assert frame.get_attribute("#viewer-image", "src").endswith("lateral.png")
    # Reopened, the image eases back from the last zoom (the 0.12 s transition).
    frame.wait_for_timeout(300)


def close_viewer(frame: Frame) -> None:
    frame.click("#viewer [data-action=close]")
    frame.wait_for_selector("#viewer:not([open])", state="attached")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_clicks_on_the_zoomed_and_panned_viewer_answer_the_open_question(
    browser: Browser, server: LmsServer, size: tuple[int, int]
) -> None:
    """A click on the question's image in the viewer, at about 200% and panned, picks the
    area under it (or places the point) in image pixels, as a click on the page would;
    a click outside every area picks nothing, and the drag that panned answered nothing."""
    lms = open_lms(browser, server, *size)
    frame = launch(lms, server)

    # h1: a click outside every area, then inside the triangle c (a wrong answer).
    open_viewer_from_question(frame, 1)
    zoom_and_pan_towards(lms, frame, 650, 130)
    assert pressed(frame, 1) == ""  # the drag chose nothing
    click_in_viewer(lms, frame, 560, 60)  # above the circle, left of the triangle
    assert pressed(frame, 1) == ""
    frame.wait_for_function(
        "() => document.querySelector('#viewer-status').textContent"
        " === 'No area of the question there.'"
    )
    assert not frame.is_visible("#viewer-stage svg.shape-overlay path")
    click_in_viewer(lms, frame, 650, 130)
    assert pressed(frame, 1) == "c"
    # The click is marked in the viewer, at the pixel clicked (within a CSS pixel).
    assert_drawn_at(
        frame,
        "#viewer-stage svg.shape-overlay path.is-chosen",
        "#viewer-image",
        (630, 110, 670, 150),
    )
    frame.wait_for_function(
        "() => document.querySelector('#viewer-status').textContent === 'Your answer: Cortex.'"
    )
    close_viewer(frame)
    assert frame.inner_text("#question-1-chosen") == "Your answer: Cortex."
    submit(frame, 1)
    assert frame.inner_text("#question-1-verdict") == "✗ Incorrect"
    go_on(frame, 1)

    # h2 (two areas): b and c picked in the viewer.
    open_viewer_from_question(frame, 2)
    zoom_and_pan_towards(lms, frame, 160, 190)
    click_in_viewer(lms, frame, 160, 190)  # b
    close_viewer(frame)
    open_viewer_from_question(frame, 2)  # again, fitted this time
    click_in_viewer(lms, frame, 650, 130)  # c
    close_viewer(frame)
    assert pressed(frame, 2) == "bc"
    submit(frame, 2)
    assert frame.inner_text("#question-2-verdict") == "✓ Correct"
    go_on(frame, 2)

    # p1: the point placed in the zoomed viewer, inside the circle.
    open_viewer_from_question(frame, 3)
    zoom_and_pan_towards(lms, frame, 500, 380)
    click_in_viewer(lms, frame, 500, 380)
    close_viewer(frame)
    submit(frame, 3)
    assert frame.inner_text("#question-3-verdict") == "✓ Correct"

    cmi = lms.cmi()
    interactions = [cmi["interactions"][str(n)] for n in range(3)]
    assert [i["result"] for i in interactions] == ["wrong", "correct", "correct"]
    assert [i["student_response"] for i in interactions[:2]] == ["c", "b,c"]
    x, y = map(int, interactions[2]["student_response"].split(","))
    # At about 200% one CSS pixel is at most 800/330/2 image pixels, even on the phone.
    assert abs(x - 500) <= 2 and abs(y - 380) <= 2, (x, y)
    assert lms.errors == []
    lms.page.context.close()


def test_a_point_outside_placed_in_the_viewer_is_wrong(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    for number in (1, 2):
        click_image(frame, number, 412, 300)
        submit(frame, number)
        go_on(frame, number)
    open_viewer_from_question(frame, 3)
    zoom_and_pan_towards(lms, frame, 560, 360)
    click_in_viewer(lms, frame, 560, 360)  # 80 px right of the centre, r = 60
    frame.wait_for_function(
        "() => document.querySelector('#viewer-status').textContent"
        " .startsWith('Point placed at x 560, y 360')"
    )
    close_viewer(frame)
    submit(frame, 3)
    assert frame.inner_text("#question-3-verdict") == "✗ Incorrect"
    interaction = lms.cmi()["interactions"]["2"]
    assert interaction["result"] == "wrong"
    assert interaction["student_response"] == "560,360"


def test_the_viewer_answers_only_an_open_question(lms: LmsSession, server: LmsServer) -> None:
    """Once h1 is answered, a click on its image in the viewer changes nothing."""
    frame = launch(lms, server)
    click_image(frame, 1, 412, 300)
    submit(frame, 1)
    frame.click("#question-1-enlarge")  # still there, outside the locked fieldset
    frame.wait_for_selector("#viewer[open]")
    click_in_viewer(lms, frame, 160, 190)
    close_viewer(frame)
    assert pressed(frame, 1) == "a"
    assert pressed(frame, 2) == ""  # h2 not shown yet: not answered either
    assert lms.cmi()["interactions"]["0"]["student_response"] == "a"


# ------------------------------------------------------------- player vs pyslet


def test_the_player_tests_a_point_as_pyslet_does(
    lms: LmsSession, server: LmsServer, tmp_path
) -> None:
    """QtiViewer.inside (the player's hit test, for hotspots and points) agrees with
    pyslet's `inside` on a grid around each shape of the fixture, its edges and corners."""
    frame = launch(lms, server)
    course = validate_course(copy_with_questions(tmp_path, POINT_SHAPES))
    files = {entry.name: entry.read() for entry in render_qti_package(course)}
    case = course.cases[0]
    compared = 0
    for question in case.questions:
        item_xml = files[item_href(case, question)]
        area = question.details.area
        left, top, right, bottom = area.box()
        grid = {
            (x, y) for x in range(left - 3, right + 4, 7) for y in range(top - 3, bottom + 4, 7)
        }
        edges = {
            (x, y) for x in (left - 1, left, right, right + 1) for y in range(top, bottom + 1, 5)
        }
        edges |= {
            (x, y) for y in (top - 1, top, bottom, bottom + 1) for x in range(left, right + 1, 5)
        }
        points = sorted(grid | edges | set(area.points()))
        spec = {"shape": area.shape, "coords": list(area.coords)}
        player = frame.evaluate(
            "([area, points]) => points.map(p => window.QtiViewer.inside(area, p[0], p[1]))",
            [spec, points],
        )
        pyslet = [run_pyslet(item_xml, point)[0] == 1 for point in points]
        differ = [p for p, a, b in zip(points, player, pyslet, strict=True) if a != b]
        assert differ == [], (question.id, differ[:10])
        assert any(player) and not all(player), question.id
        compared += len(points)
    print(f"player and pyslet agree on {compared} points")
    assert compared > 600


# ------------------------------------------------------------ README pictures

# Saved with the suite's other pictures; the README's copies in docs/ are taken from here.
DOCS = REPO / "build" / "screenshots"


def test_the_readme_pictures_of_a_hotspot_question(browser: Browser, server: LmsServer) -> None:
    """docs/hotspot-before.png: h1 open at 1280 px; docs/hotspot-after.png: answered wrong,
    the correct area drawn and labelled, the learner's area dashed, the click marked."""
    # The SCO page alone (as in the axe test): no LMS bar over the frame.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.origin}/package-hotspot/cases/{CASE}/index.html")
    frame = page.main_frame
    question = frame.locator("#question-1")
    DOCS.mkdir(parents=True, exist_ok=True)
    before = DOCS / "hotspot-before.png"
    question.screenshot(path=str(before), animations="disabled")
    click_image(frame, 1, 160, 190)  # b, Soft tissue: wrong
    submit(frame, 1)
    frame.evaluate("() => document.activeElement && document.activeElement.blur()")
    after = DOCS / "hotspot-after.png"
    question.screenshot(path=str(after), animations="disabled")
    overlay = "#question-1-stage svg.shape-overlay"
    assert frame.eval_on_selector_all(f"{overlay} text", "ts => ts.map(t => t.textContent)") == [
        "Radiolucent septum",
        "Soft tissue (your answer)",
    ]
    assert frame.eval_on_selector_all(f"{overlay} path.is-chosen", "ps => ps.length") == 1
    for path in (before, after):
        with Image.open(path) as picture:
            assert 600 <= picture.width <= 1280, (path, picture.size)
            assert picture.height > 400, (path, picture.size)
    assert errors == []
    context.close()

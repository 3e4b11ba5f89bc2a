"""Keyboard-only use, focus, the image viewer, and how the page looks at 1280 and 375 px."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Frame, Page

from lms.harness import (
    CONTENT_FOLDER,
    SCREENSHOTS,
    SEED_CASE,
    SEED_KEYS,
    LmsServer,
    LmsSession,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
    open_lms,
)
from qtiexport.schemas import SchemaSet

CHOICE_KEYS = "abcde"
MAX_TABS = 80


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-keyboard")
    lms.mount("seed", build_scorm_package(CONTENT_FOLDER, output / "seed", schema_set))
    yield lms
    lms.close()


def focused(frame: Frame) -> dict[str, str]:
    """Facts about the element that has focus in the SCO."""
    return frame.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                id: el.id, tag: el.tagName.toLowerCase(), type: el.type || "",
                value: el.value || "", name: el.name || "",
                cls: el.className || "", text: (el.textContent || "").trim().slice(0, 60),
                outline: style.outlineStyle + " " + style.outlineWidth,
            };
        }"""
    )


def tab_until(page: Page, frame: Frame, matches, what: str) -> dict[str, str]:
    """Press Tab until the focused element matches; fail if it never does."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        current = focused(frame)
        if matches(current):
            return current
    raise AssertionError(f"Tab never reached {what}")


def assert_focus_visible(element: dict[str, str]) -> None:
    style, width = element["outline"].split()
    assert style != "none" and float(width.removesuffix("px")) >= 2, element


def answer_by_keyboard(page: Page, frame: Frame, number: int, key: str) -> None:
    name = f"question-{number}"
    radio = tab_until(
        page, frame, lambda e: e["name"] == name and e["type"] == "radio", f"{name}'s choices"
    )
    assert_focus_visible(radio)
    page.keyboard.press("Space")  # Tab lands on the first radio of an unchecked group
    for _ in range(CHOICE_KEYS.index(key)):
        page.keyboard.press("ArrowDown")
    assert frame.is_checked(f"#{name}-choice-{key}")
    button = tab_until(
        page, frame, lambda e: e["tag"] == "button" and e["type"] == "submit", "Submit"
    )
    assert_focus_visible(button)
    page.keyboard.press("Enter")
    # Focus goes to the feedback, which screen readers then read.
    assert focused(frame)["id"] == f"{name}-feedback"
    next_button = tab_until(page, frame, lambda e: "next-button" in e["cls"], "Next")
    assert_focus_visible(next_button)
    page.keyboard.press("Enter")


def test_the_whole_case_by_keyboard_alone(lms: LmsSession, server: LmsServer) -> None:
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    for number, key in enumerate(SEED_KEYS.values(), start=1):
        answer_by_keyboard(lms.page, frame, number, key)
        if number < len(SEED_KEYS):
            assert focused(frame)["id"] == f"question-{number + 1}-heading"
    assert focused(frame)["id"] == "results-heading"
    assert frame.is_visible("#teaching")
    assert lms.cmi()["core"]["lesson_status"] == "passed"
    assert "Passed" in frame.inner_text("#result-outcome")


def test_the_viewer_opens_zooms_pans_and_closes_by_keyboard(
    lms: LmsSession, server: LmsServer
) -> None:
    page = lms.page
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    thumb = tab_until(page, frame, lambda e: "thumb" in e["cls"], "the first image")
    assert_focus_visible(thumb)
    page.keyboard.press("Enter")
    assert frame.is_visible("#viewer")
    assert focused(frame)["id"] == "viewer-stage"
    assert frame.inner_text("#viewer-title") == "Lateral Radiograph (XR)"
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert frame.inner_text("#viewer-zoom") == "156%"
    transform_before = frame.get_attribute("#viewer-image", "style")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    transform_after = frame.get_attribute("#viewer-image", "style")
    assert transform_before != transform_after
    assert re.search(r"translate\(-\d", transform_after), transform_after
    page.keyboard.press("-")
    assert frame.inner_text("#viewer-zoom") == "125%"
    page.keyboard.press("0")
    assert frame.inner_text("#viewer-zoom") == "100%"
    # Annotations: by their key and by their button.
    page.keyboard.press("a")
    assert frame.get_attribute("[data-action=annotations]", "aria-pressed") == "true"
    assert frame.get_attribute("#viewer-image", "src").endswith("lateral-radiograph-annotated.png")
    tab_until(page, frame, lambda e: e["text"] == "Annotations", "the annotations button")
    page.keyboard.press("Space")
    assert frame.get_attribute("[data-action=annotations]", "aria-pressed") == "false"
    assert frame.get_attribute("#viewer-image", "src").endswith("lateral-radiograph.png")
    page.keyboard.press("Escape")
    assert not frame.is_visible("#viewer")
    assert "thumb" in focused(frame)["cls"]  # focus returns to the image that opened it


def test_the_viewer_zooms_with_the_wheel_and_pans_by_dragging(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    frame.click("#images-heading ~ .gallery .thumb >> nth=1")
    box = frame.locator("#viewer-stage").bounding_box()
    assert box is not None
    middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    lms.page.mouse.move(middle_x, middle_y)
    lms.page.mouse.wheel(0, -400)
    lms.page.wait_for_function(
        "() => document.querySelector('iframe').contentDocument"
        ".getElementById('viewer-zoom').textContent !== '100%'"
    )
    zoom = int(frame.inner_text("#viewer-zoom").rstrip("%"))
    assert zoom > 100
    before = frame.get_attribute("#viewer-image", "style")
    lms.page.mouse.down()
    lms.page.mouse.move(middle_x - 80, middle_y - 40, steps=4)
    lms.page.mouse.up()
    assert frame.get_attribute("#viewer-image", "style") != before
    frame.click("[data-action=close]")
    assert not frame.is_visible("#viewer")


@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots_and_narrow_layout(browser: Browser, server: LmsServer, width: int) -> None:
    lms = open_lms(browser, server, width, 900)
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    answer_with_mouse(frame, 1, "a")
    go_on(frame, 1)
    answer_with_mouse(frame, 2, "b")
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    overflow = frame.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    path = lms.screenshot(f"player-{width}.png")
    assert path.stat().st_size > 10_000
    frame.click("#images-heading ~ .gallery .thumb >> nth=0")
    frame.click("[data-action=annotations]")
    frame.click("[data-action=zoom-in]")
    lms.page.screenshot(path=str(SCREENSHOTS / f"viewer-{width}.png"))
    frame.click("[data-action=close]")
    for number, key in list(enumerate(SEED_KEYS.values(), start=1))[2:]:
        go_on(frame, number - 1)
        answer_with_mouse(frame, number, key)
    go_on(frame, len(SEED_KEYS))
    frame.wait_for_selector("#results:not([hidden])")
    lms.screenshot(f"result-{width}.png")
    assert lms.errors == []
    lms.page.context.close()

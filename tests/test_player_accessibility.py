"""The case page for everyone: axe-core finds nothing in any state, and a keyboard user
who answers or goes on finds the new content at the top of the screen with focus on it.

axe-core comes from npm (node_modules/axe-core) and is injected into the SCO's frame;
the SCO's CSP forbids injected script, so its browser context bypasses CSP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page

from lms.harness import (
    CONTENT_FOLDER,
    REPO,
    SEED_CASE,
    SEED_KEYS,
    LmsServer,
    LmsSession,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
)
from lms.radiology_course import CASE_ID, make_radiology_course
from qtiexport.schemas import SchemaSet
from test_player_keyboard import assert_focus_visible, focused, tab_until

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SIZES = [(1280, 900), (375, 800)]
CHOICE_KEYS = "abcde"
# The new heading's top must be in this part of the viewport, from its top.
UPPER_PART = 0.4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-accessibility")
    course = make_radiology_course(output / "course")
    lms.mount("radio", build_scorm_package(course, output / "radio", schema_set))
    lms.mount("seed", build_scorm_package(CONTENT_FOLDER, output / "seed", schema_set))
    yield lms
    lms.close()


# ------------------------------------------------------------------------ axe


def axe_violations(frame: Frame) -> list[dict[str, Any]]:
    if not frame.evaluate("typeof window.axe !== 'undefined'"):
        frame.add_script_tag(path=str(AXE))
    results = frame.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags}})
            .then(r => r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)
            })))""",
        AXE_TAGS,
    )
    return results


def open_case(browser: Browser, server: LmsServer, where: str, size: tuple[int, int]):
    """The radiology case standalone (the page served alone) or inside the test LMS."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    context.set_default_timeout(5000)
    page = context.new_page()
    if where == "lms":
        session = LmsSession(page, server)
        frame = session.launch(f"{server.origin}/package-radio", CASE_ID, initial_cmi())
        return page, frame, session.errors
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.origin}/package-radio/cases/{CASE_ID}/index.html")
    return page, page.main_frame, errors


def close_viewer(frame: Frame) -> None:
    frame.click("#viewer [data-action=close]")
    frame.wait_for_selector("#viewer", state="hidden")


@pytest.mark.parametrize("where", ["standalone", "lms"])
@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_axe_finds_nothing_in_any_state(
    browser: Browser, server: LmsServer, where: str, size: tuple[int, int]
) -> None:
    page, frame, errors = open_case(browser, server, where, size)
    found: dict[str, list[dict[str, Any]]] = {}

    def check(state: str) -> None:
        violations = axe_violations(frame)
        if violations:
            found[state] = violations

    check("start")
    frame.click(".gallery figure[data-image='radiograph'] .thumb")
    frame.wait_for_selector("#viewer[open]")
    check("viewer open")
    frame.click("#viewer [data-action=annotations]")
    assert frame.get_attribute("#viewer [data-action=annotations]", "aria-pressed") == "true"
    check("annotations on")
    close_viewer(frame)
    frame.click(".gallery figure[data-image='t2'] .thumb")
    frame.wait_for_selector("#viewer[open]")
    frame.fill("#viewer-slice", "12")
    frame.wait_for_function("document.getElementById('viewer-image').src.endsWith('slice-12.png')")
    check("series scrolled")
    close_viewer(frame)
    answer_with_mouse(frame, 1, "b")  # wrong
    check("after a wrong answer")
    go_on(frame, 1)
    answer_with_mouse(frame, 2, "ab")  # right
    check("after a right answer")
    go_on(frame, 2)
    answer_with_mouse(frame, 3, "true")
    go_on(frame, 3)
    frame.wait_for_selector("#results:not([hidden])")
    frame.wait_for_selector(".gallery .findings")
    check("results with findings")
    frame.click(".gallery figure[data-image='radiograph'] .thumb")
    frame.wait_for_selector("#viewer[open]")
    check("viewer with findings")
    close_viewer(frame)
    assert errors == []
    page.context.close()
    assert found == {}, "\n".join(
        f"{state}: {v['id']} ({v['impact']}) {v['help']}: {v['nodes']}"
        for state, violations in found.items()
        for v in violations
    )


# ------------------------------------------------------------------- keyboard


def top_of(frame: Frame, selector: str) -> dict[str, float]:
    """Where an element's top is once scrolling has settled, as a share of the viewport."""
    frame.wait_for_function(
        """(selector) => new Promise(resolve => {
            const element = document.querySelector(selector);
            let last = element.getBoundingClientRect().top, still = 0;
            const tick = () => {
                const now = element.getBoundingClientRect().top;
                still = Math.abs(now - last) < 0.5 ? still + 1 : 0;
                last = now;
                if (still >= 5) resolve(true); else requestAnimationFrame(tick);
            };
            requestAnimationFrame(tick);
        })""",
        arg=selector,
    )
    return frame.evaluate(
        """(selector) => {
            const top = document.querySelector(selector).getBoundingClientRect().top;
            return {top, share: top / window.innerHeight};
        }""",
        selector,
    )


def assert_at_the_top_with_focus(frame: Frame, element_id: str, where: str) -> float:
    place = top_of(frame, f"#{element_id}")
    assert focused(frame)["id"] == element_id, where
    assert place["top"] >= 0 and place["share"] <= UPPER_PART, (where, place)
    return place["share"]


def answer_and_go_on_by_keyboard(page: Page, frame: Frame, number: int, key: str) -> list[float]:
    name = f"question-{number}"
    radio = tab_until(
        page, frame, lambda e: e["name"] == name and e["type"] == "radio", f"{name}'s choices"
    )
    assert_focus_visible(radio)
    page.keyboard.press("Space")
    for _ in range(CHOICE_KEYS.index(key)):
        page.keyboard.press("ArrowDown")
    tab_until(page, frame, lambda e: e["tag"] == "button" and e["type"] == "submit", "Submit")
    page.keyboard.press("Enter")
    shares = [assert_at_the_top_with_focus(frame, f"{name}-feedback", f"{name}'s feedback")]
    next_button = tab_until(page, frame, lambda e: "next-button" in e["cls"], "Next")
    assert_focus_visible(next_button)
    page.keyboard.press("Enter")
    last = number == len(SEED_KEYS)
    heading = "results-heading" if last else f"question-{number + 1}-heading"
    shares.append(assert_at_the_top_with_focus(frame, heading, f"after {name}'s Next"))
    return shares


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_by_keyboard_new_content_comes_to_the_top_with_focus(
    browser: Browser, server: LmsServer, size: tuple[int, int]
) -> None:
    width, height = size
    # The phone prefers reduced motion (an instant jump), the desktop scrolls smoothly.
    motion = "reduce" if width < 500 else "no-preference"
    context = browser.new_context(
        viewport={"width": width, "height": height}, reduced_motion=motion
    )
    context.set_default_timeout(5000)
    lms = LmsSession(context.new_page(), server)
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    shares = []
    for number, key in enumerate(SEED_KEYS.values(), start=1):
        shares += answer_and_go_on_by_keyboard(lms.page, frame, number, key)
    print(f"new content's top at {width}x{height}: " + ", ".join(f"{s:.0%}" for s in shares))
    assert frame.is_visible("#teaching")
    assert lms.cmi()["core"]["lesson_status"] == "passed"
    assert lms.errors == []
    context.close()

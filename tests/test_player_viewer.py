"""The full-screen image viewer with real-size radiology images (tests/lms/radiology_course.py).

What a learner sees: every image painted at its file's aspect ratio and fitted inside the
image area, at phone and desktop sizes, at 200% text and at 400% zoom, also after zooming
and panning; an image area that keeps at least half of the screen's height (35% at 200%
text and 400% zoom); and the whole viewer operated by keyboard alone, with every change a
screen reader needs announced inside the dialog and focus never lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, Page

from lms.harness import (
    SCREENSHOTS,
    LmsServer,
    LmsSession,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
)
from lms.radiology_course import (
    CASE_ID,
    IMAGES,
    SERIES_SIZE,
    SERIES_SLICES,
    make_radiology_course,
)
from qtiexport.schemas import SchemaSet

# The viewer's order (the case's images in order); each with its file's width and height.
ORDER = ["radiograph", "axial", "panorama", "t2"]
FILE_SIZES = {name: (width, height) for name, (_, width, height) in IMAGES.items()}
FILE_SIZES["t2"] = (SERIES_SIZE, SERIES_SIZE)
MAX_SHIPPED_PLAYER_BYTES = 60_000
MAX_TABS = 40

# (width, height, device scale factor, root font size %, least image-area share of the height)
SIZES = [
    pytest.param(375, 800, 1, 100, 0.5, id="phone-375x800"),
    pytest.param(812, 375, 1, 100, 0.5, id="landscape-phone-812x375"),
    pytest.param(1280, 720, 1, 100, 0.5, id="1280x720"),
    pytest.param(1366, 768, 1, 100, 0.5, id="1366x768"),
    # 200% text: the page's root font size doubled (what a browser's text size setting does
    # to a page sized in rem, as this one is).
    pytest.param(375, 800, 1, 200, 0.35, id="phone-375x800-200%-text"),
    pytest.param(1280, 720, 1, 200, 0.35, id="1280x720-200%-text"),
    # 400% browser zoom of a 1280x720 window is a 320x180 CSS-pixel viewport at 4 device
    # pixels per CSS pixel: exactly what the page sees at that zoom.
    pytest.param(320, 180, 4, 100, 0.35, id="1280x720-at-400%-zoom"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    folder = tmp_path_factory.mktemp("scorm-viewer")
    course = make_radiology_course(folder / "course")
    lms.mount("radiology", build_scorm_package(course, folder / "build", schema_set))
    yield lms
    lms.close()


@pytest.fixture(scope="module")
def package_url(server: LmsServer) -> str:
    return f"{server.origin}/package-radiology"


def open_case(
    browser: Browser, url: str, width: int, height: int, scale: float = 1, text: int = 100
) -> Page:
    """The case's page on its own (no LMS), at a size, without transitions."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
        reduced_motion="reduce",
    )
    context.set_default_timeout(5000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}/cases/{CASE_ID}/index.html")
    page.wait_for_selector(".question:not([hidden])")
    if text != 100:
        page.evaluate("size => { document.documentElement.style.fontSize = size + '%'; }", text)
    page.script_errors = errors  # type: ignore[attr-defined]
    return page


def painted(target: Page | Frame, image_id: str = "viewer-image") -> dict[str, Any]:
    """The painted content of a viewer image and its stage, in CSS pixels on the screen.

    With object-fit the content box is computed from the element's box and the file's
    natural size; without, the element's (transformed) box is the painted content."""
    return target.evaluate(
        """imageId => {
            const image = document.getElementById(imageId);
            const stage = image.closest('.viewer-stage').getBoundingClientRect();
            const box = image.getBoundingClientRect();
            const fit = getComputedStyle(image).objectFit;
            let width = box.width, height = box.height;
            if (fit === 'contain' || fit === 'scale-down') {
                const scale = Math.min(width / image.naturalWidth, height / image.naturalHeight);
                width = image.naturalWidth * scale;
                height = image.naturalHeight * scale;
            } else if (fit !== 'fill') {
                throw new Error('object-fit ' + fit + ' paints part of the image');
            }
            const visible = Math.min(stage.bottom, innerHeight) - Math.max(stage.top, 0);
            return {
                width, height, natural: [image.naturalWidth, image.naturalHeight],
                stageWidth: stage.width, stageHeight: stage.height,
                stageVisibleShare: visible / innerHeight,
                src: image.getAttribute('src'), style: image.getAttribute('style'),
            };
        }""",
        image_id,
    )


def wait_loaded(target: Page | Frame, image_id: str = "viewer-image") -> None:
    target.wait_for_function(
        """id => { const i = document.getElementById(id);
                   return i.complete && i.naturalWidth > 0; }""",
        arg=image_id,
    )


def assert_true_to_shape(shape: dict[str, Any], name: str, fitted: bool) -> None:
    file_width, file_height = FILE_SIZES[name]
    assert shape["natural"] == [file_width, file_height], (name, shape)  # the full file
    ratio = shape["width"] / shape["height"]
    assert ratio == pytest.approx(file_width / file_height, rel=0.01), (name, shape)
    if fitted:  # inside the stage, touching it on one side
        assert shape["width"] <= shape["stageWidth"] + 0.5, shape
        assert shape["height"] <= shape["stageHeight"] + 0.5, shape
        fill = max(shape["width"] / shape["stageWidth"], shape["height"] / shape["stageHeight"])
        assert fill == pytest.approx(1, abs=0.01), shape


def status(target: Page | Frame) -> str:
    """What the live region inside the dialog says once it has settled."""
    target.wait_for_timeout(250)
    return target.text_content("#viewer #viewer-status") or ""


# ------------------------------------------------------------------- geometry


@pytest.mark.parametrize(("width", "height", "scale", "text", "least_share"), SIZES)
def test_every_image_is_true_to_shape_and_the_image_area_keeps_its_share(
    browser: Browser,
    package_url: str,
    width: int,
    height: int,
    scale: float,
    text: int,
    least_share: float,
) -> None:
    page = open_case(browser, package_url, width, height, scale, text)
    page.click("#images-heading ~ .gallery .thumb >> nth=0")
    for name in ORDER:
        assert page.get_attribute("#viewer-stage", "aria-label").startswith(
            page.get_attribute(f"#images-heading ~ .gallery figure[data-image={name}] img", "alt")
        )
        wait_loaded(page)
        shape = painted(page)
        assert_true_to_shape(shape, name, fitted=True)
        assert shape["stageVisibleShare"] >= least_share, (name, shape)

        # Zoomed in and moved, the image keeps its shape (one transform of its box).
        page.keyboard.press("+")
        page.keyboard.press("+")
        page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("Shift+ArrowDown")
        moved = painted(page)
        assert page.inner_text("#viewer-zoom") == "156%"
        assert "translate(0px, 0px)" not in moved["style"], moved["style"]  # it moved
        assert moved["width"] == pytest.approx(shape["width"] * 1.5625, rel=0.01)
        assert_true_to_shape(moved, name, fitted=False)
        page.keyboard.press("0")
        page.keyboard.press("PageDown")
    assert page.script_errors == []  # type: ignore[attr-defined]
    page.context.close()


@pytest.mark.parametrize(
    ("width", "height", "stacked"),
    [
        pytest.param(375, 800, True, id="phone-stacked"),
        pytest.param(1280, 720, False, id="desktop"),
    ],
)
def test_two_images_compared_side_by_side_or_stacked_keep_their_shapes(
    browser: Browser, package_url: str, width: int, height: int, stacked: bool
) -> None:
    page = open_case(browser, package_url, width, height)
    page.click("#images-heading ~ .gallery .thumb >> nth=0")
    page.select_option("#viewer-compare", "panorama")
    assert page.is_visible("#viewer-stage-2")
    wait_loaded(page)
    wait_loaded(page, "viewer-image-2")
    assert_true_to_shape(painted(page), "radiograph", fitted=True)
    assert_true_to_shape(painted(page, "viewer-image-2"), "panorama", fitted=True)
    first = page.locator("#viewer-pane-1").bounding_box()
    second = page.locator("#viewer-pane-2").bounding_box()
    assert first and second
    if stacked:
        assert second["y"] >= first["y"] + first["height"] - 1
    else:
        assert second["x"] >= first["x"] + first["width"] - 1
    panes = page.locator("#viewer-panes").bounding_box()
    assert panes and panes["height"] >= 0.5 * height
    page.context.close()


def test_full_screen_where_the_page_may_have_it(browser: Browser, package_url: str) -> None:
    page = open_case(browser, package_url, 1280, 720)
    page.click("#images-heading ~ .gallery .thumb >> nth=0")
    page.keyboard.press("f")
    page.wait_for_selector("[data-action=fullscreen][aria-pressed=true]")
    assert page.evaluate("document.fullscreenElement === document.documentElement")
    page.keyboard.press("f")
    page.wait_for_selector("[data-action=fullscreen][aria-pressed=false]")
    assert page.evaluate("document.fullscreenElement") is None
    assert page.is_visible("#viewer")
    # An LMS frame that does not allow full screen: no button that cannot work.
    sco = f"{package_url}/cases/{CASE_ID}/index.html"
    page = page.context.new_page()
    page.set_content(f'<iframe src="{sco}" allow="fullscreen \'none\'"></iframe>')
    frame = page.frame(url=sco)
    assert frame is not None
    frame.wait_for_selector(".question:not([hidden])")
    frame.click("#images-heading ~ .gallery .thumb >> nth=0")
    assert frame.evaluate("document.fullscreenEnabled") is False
    assert frame.is_hidden("[data-action=fullscreen]")
    page.context.close()


def test_the_viewer_on_a_phone_screenshot(browser: Browser, package_url: str) -> None:
    """The README's picture: the radiograph open in the viewer on a 375x800 phone."""
    page = open_case(browser, package_url, 375, 800, scale=2)
    page.click("#images-heading ~ .gallery .thumb >> nth=0")
    wait_loaded(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "viewer-phone.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    page.context.close()


def test_the_player_ships_under_60_kb_of_script_and_style(server: LmsServer) -> None:
    folder = Path(server.mounts["package-radiology"]) / "player"
    files = {p.name: p.stat().st_size for p in folder.iterdir()}
    assert {"player.js", "player.css", "viewer.js", "viewer.css"} <= set(files)
    assert sum(files.values()) < MAX_SHIPPED_PLAYER_BYTES, files


# ------------------------------------------------------------------- keyboard


def focused(frame: Frame) -> dict[str, Any]:
    return frame.evaluate(
        """() => {
            const el = document.activeElement;
            return {
                id: el.id, tag: el.tagName.toLowerCase(), cls: el.className || '',
                action: el.getAttribute('data-action') || '',
                image: el.getAttribute('data-image') || '',
                inViewer: !!el.closest('#viewer'), hidden: !!el.closest('[hidden]'),
                text: (el.textContent || '').trim().slice(0, 40),
            };
        }"""
    )


def tab_until(page: Page, frame: Frame, matches, what: str) -> dict[str, Any]:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        current = focused(frame)
        if matches(current):
            return current
    raise AssertionError(f"Tab never reached {what}")


def assert_focus_in_viewer(frame: Frame) -> dict[str, Any]:
    current = focused(frame)
    assert current["inViewer"] and not current["hidden"], current
    return current


def test_the_viewer_by_keyboard_alone(lms: LmsSession, package_url: str) -> None:
    page = lms.page
    frame = lms.launch(package_url, CASE_ID, initial_cmi())
    opener = tab_until(page, frame, lambda e: "thumb" in e["cls"], "the first image")
    assert opener["image"] == "radiograph"
    page.keyboard.press("Enter")
    assert frame.is_visible("#viewer")
    assert focused(frame)["id"] == "viewer-stage"
    # The caption as Markdown renders it, and the long alt text exactly once in the dialog.
    assert frame.inner_text("#viewer-title") == "Fig. 1 Frontal radiograph (XR)"
    assert frame.inner_text("#viewer-title strong") == "Fig. 1"
    alt = frame.get_attribute("figure[data-image=radiograph] img", "alt")
    assert frame.get_attribute("#viewer-stage", "aria-label") == alt
    assert frame.get_attribute("#viewer-stage", "role") == "img"  # its <img> is not read again
    assert frame.evaluate(
        """alt => {
            const dialog = document.getElementById('viewer');
            let count = dialog.textContent.split(alt).length - 1;
            dialog.querySelectorAll('*').forEach(el => {
                for (const name of ['alt', 'aria-label', 'title']) {
                    if ((el.getAttribute(name) || '').includes(alt)) count += 1;
                }
            });
            return [count, dialog.getAttribute('aria-describedby')];
        }""",
        alt,
    ) == [1, None]

    # Annotations: announced inside the dialog, where a modal's screen reader users are.
    page.keyboard.press("a")
    assert frame.get_attribute("[data-action=annotations]", "aria-pressed") == "true"
    assert frame.get_attribute("#viewer-image", "src").endswith("radiograph-annotated.png")
    assert status(frame) == "Annotations shown"
    annotations = tab_until(page, frame, lambda e: e["action"] == "annotations", "Annotations")
    page.keyboard.press("Space")
    assert frame.get_attribute("#viewer-image", "src").endswith("/radiograph.png")
    assert status(frame) == "Annotations hidden"

    # Next/previous: from the Annotations button, which the next image does not have.
    assert annotations["inViewer"]
    page.keyboard.press("PageDown")
    assert frame.inner_text("#viewer-title") == "Axial CT (CT)"
    assert frame.inner_text("#viewer-position") == "Image 2 of 4"
    assert status(frame) == "Image 2 of 4: Axial CT (CT)"
    assert assert_focus_in_viewer(frame)["id"] == "viewer-stage"  # not lost with the button
    tab_until(page, frame, lambda e: e["action"] == "previous", "Previous image")
    page.keyboard.press("Enter")
    assert frame.inner_text("#viewer-position") == "Image 1 of 4"
    page.keyboard.press("Enter")  # wraps round to the last image: the series
    assert frame.inner_text("#viewer-title") == "Axial T2, 24 slices (MR)"
    assert status(frame) == f"Image 4 of 4: Axial T2, 24 slices (MR), {SERIES_SLICES} slices"

    # The series: arrow keys, Home/End and the slider; the slice is shown and announced.
    frame.focus("#viewer-stage")
    assert frame.inner_text("#viewer-slice-text") == f"slice 1 of {SERIES_SLICES}"
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert frame.inner_text("#viewer-slice-text") == f"slice 4 of {SERIES_SLICES}"
    assert frame.get_attribute("#viewer-image", "src").endswith("/slice-4.png")
    assert status(frame) == f"Slice 4 of {SERIES_SLICES}"
    page.keyboard.press("End")
    assert frame.inner_text("#viewer-slice-text") == f"slice {SERIES_SLICES} of {SERIES_SLICES}"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowUp")  # stays on the first slice
    assert frame.inner_text("#viewer-slice-text") == f"slice 1 of {SERIES_SLICES}"
    assert frame.get_attribute("#viewer-slice", "aria-valuetext") == f"slice 1 of {SERIES_SLICES}"
    tab_until(page, frame, lambda e: e["id"] == "viewer-slice", "the slice slider")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert frame.inner_text("#viewer-slice-text") == f"slice 3 of {SERIES_SLICES}"
    # The neighbouring slices were fetched ahead.
    requested = {url.rsplit("/", 1)[-1] for _, url in lms.requests.seen}
    assert {"slice-4.png", "slice-5.png"} <= requested

    # Brightness and contrast (sliders), invert (button), all reset by 0 with the zoom.
    tab_until(page, frame, lambda e: e["id"] == "viewer-brightness", "Brightness")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    assert focused(frame)["id"] == "viewer-contrast"
    page.keyboard.press("ArrowLeft")
    invert = tab_until(page, frame, lambda e: e["action"] == "invert", "Invert")
    assert invert["inViewer"]
    page.keyboard.press("Enter")
    assert frame.get_attribute("[data-action=invert]", "aria-pressed") == "true"
    assert status(frame) == "Inverted"
    style = frame.get_attribute("#viewer-image", "style")
    assert "filter: brightness(120%) contrast(90%) invert(1)" in style
    page.keyboard.press("+")
    assert frame.inner_text("#viewer-zoom") == "125%"
    page.keyboard.press("0")
    style = frame.get_attribute("#viewer-image", "style")
    assert "filter: brightness(100%) contrast(100%);" in style
    assert frame.inner_text("#viewer-zoom") == "100%"
    assert frame.get_attribute("[data-action=invert]", "aria-pressed") == "false"
    assert frame.input_value("#viewer-brightness") == "100"

    # Compare: the select picks a second image; "no" closes it, focus stays on the select.
    tab_until(page, frame, lambda e: e["id"] == "viewer-compare", "Compare")
    page.keyboard.press("ArrowDown")
    assert frame.is_visible("#viewer-stage-2")
    assert frame.get_attribute("#viewer-image-2", "src").endswith("/radiograph.png")
    assert frame.get_attribute("#viewer-image", "src").endswith("/slice-3.png")
    assert status(frame) == "Comparing with Fig. 1 Frontal radiograph (XR)"
    tab_until(page, frame, lambda e: e["id"] == "viewer-stage-2", "the second image")
    page.keyboard.press("+")  # the tools act on the image last used
    assert frame.inner_text("#viewer-zoom") == "125%"
    assert "scale(1.25)" in frame.get_attribute("#viewer-image-2", "style")
    assert "scale(1)" in frame.get_attribute("#viewer-image", "style")
    tab_until(page, frame, lambda e: e["id"] == "viewer-compare", "Compare")
    page.keyboard.press("ArrowUp")
    assert not frame.is_visible("#viewer-stage-2")
    assert status(frame) == "Comparison closed"
    assert assert_focus_in_viewer(frame)["id"] == "viewer-compare"

    # Close: focus goes back to the image that opened the viewer.
    page.keyboard.press("Escape")
    assert not frame.is_visible("#viewer")
    back = focused(frame)
    assert "thumb" in back["cls"] and back["image"] == "radiograph"


def test_the_wheel_scrolls_a_series_and_ctrl_wheel_zooms_it(
    lms: LmsSession, package_url: str
) -> None:
    frame = lms.launch(package_url, CASE_ID, initial_cmi())
    frame.click("#images-heading ~ .gallery .thumb[data-image=t2]")
    box = frame.locator("#viewer-stage").bounding_box()
    assert box is not None
    lms.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(3):
        lms.page.mouse.wheel(0, 100)  # three notches of a mouse wheel
    frame.wait_for_function(
        "() => document.getElementById('viewer-slice-text').textContent === 'slice 4 of 24'"
    )
    assert frame.inner_text("#viewer-zoom") == "100%"
    lms.page.keyboard.down("Control")
    lms.page.mouse.wheel(0, -200)
    lms.page.keyboard.up("Control")
    frame.wait_for_function("() => document.getElementById('viewer-zoom').textContent !== '100%'")
    assert frame.inner_text("#viewer-slice-text") == "slice 4 of 24"


def test_findings_reach_the_viewer_only_once_the_case_is_answered(
    lms: LmsSession, package_url: str
) -> None:
    page = lms.page
    frame = lms.launch(package_url, CASE_ID, initial_cmi())
    frame.click("#images-heading ~ .gallery .thumb[data-image=radiograph]")
    assert frame.is_hidden("[data-action=findings]")
    assert frame.text_content("#viewer-findings-body") == ""
    frame.click("[data-action=close]")
    for number, keys in enumerate(["a", "ab", "true"], start=1):
        answer_with_mouse(frame, number, keys)
        go_on(frame, number)
    frame.wait_for_selector("figure[data-image=radiograph] .findings")

    frame.click("#images-heading ~ .gallery .thumb[data-image=radiograph]")
    findings = tab_until(page, frame, lambda e: e["action"] == "findings", "Findings")
    page.keyboard.press("Enter")
    assert frame.get_attribute("[data-action=findings]", "aria-expanded") == "true"
    assert frame.is_visible("#viewer-findings")
    assert "A round, well-defined calcified mass" in frame.inner_text("#viewer-findings")
    # An image without findings: no button, and focus moves to the image, not lost.
    assert findings["inViewer"]
    page.keyboard.press("PageDown")
    assert frame.is_hidden("[data-action=findings]") and frame.is_hidden("#viewer-findings")
    assert assert_focus_in_viewer(frame)["id"] == "viewer-stage"
    page.keyboard.press("PageUp")
    page.keyboard.press("PageUp")  # the series, whose findings hold a table
    assert frame.is_visible("#viewer-findings table th")
    assert "High signal rim" in frame.inner_text("#viewer-findings")
    page.keyboard.press("Escape")
    assert focused(frame)["image"] == "radiograph"

"""How the case page looks with real-size images: true to shape at every size, each image
once on a phone, a light first load, and findings only once the questions are answered.

The course is tests/lms/radiology_course.py's: test images of 2048×2560, 1024×1024 and
3000×1000 and a 24-slice 512×512 series, each a circle on a grid.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Frame, Page, Request

from lms.harness import (
    CONTENT_FOLDER,
    SEED_CASE,
    LmsServer,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
    open_lms,
)
from lms.radiology_course import CASE_ID, IMAGES, SERIES_SIZE, make_radiology_course
from qtiexport.schemas import SchemaSet

# The pixel size of each file the case shows (a series: its slices').
FILE_SIZES = {name: (width, height) for name, (_, width, height) in IMAGES.items()}
FILE_SIZES["t2"] = (SERIES_SIZE, SERIES_SIZE)
RADIOLOGY_KEYS = {1: "a", 2: "ab", 3: "true"}
FINDINGS_TEXTS = ("A round, well-defined calcified mass", "High signal rim on the middle slices")
FIRST_LOAD_LIMIT = 150_000
PLAYER_LIMIT = 60_000

# Sizes a learner meets. Each is (width, height, device pixels per CSS pixel, text scale).
# Two device pixels per CSS pixel (as on most phones) make the pixel measurements sharper
# without changing the layout.
VIEWS = {
    "phone 375x800": (375, 800, 2, 1),
    "landscape phone 812x375": (812, 375, 2, 1),
    "laptop 1280x720": (1280, 720, 2, 1),
    "desktop 1366x768": (1366, 768, 2, 1),
    "200% text, phone": (375, 800, 2, 2),
    "200% text, laptop": (1280, 720, 2, 2),
    # 400% browser zoom on a 1280x720 screen: the page lays out in 320x180 CSS pixels,
    # each 4 device pixels wide (what WCAG 1.4.10 reflow asks for).
    "400% zoom of 1280x720": (320, 180, 4, 1),
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> dict[str, Path]:
    output = tmp_path_factory.mktemp("scorm-layout")
    course = make_radiology_course(output / "course")
    return {
        "radio": build_scorm_package(course, output / "radio", schema_set),
        "seed": build_scorm_package(CONTENT_FOLDER, output / "seed", schema_set),
    }


@pytest.fixture(scope="module")
def server(packages: dict[str, Path]) -> Iterator[LmsServer]:
    lms = LmsServer()
    for name, folder in packages.items():
        lms.mount(name, folder)
    yield lms
    lms.close()


def case_url(server: LmsServer) -> str:
    return f"{server.origin}/package-radio/cases/{CASE_ID}/index.html"


def open_page(browser: Browser, width: int, height: int, scale: float = 1, text: float = 1) -> Page:
    """The case page on its own. Larger text is the browser's default font size grown
    (the page sizes everything in rem), injected past the page's CSP for the test."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
        bypass_csp=text != 1,
    )
    context.set_default_timeout(5000)
    return context.new_page()


def set_text_scale(page: Page, text: float) -> None:
    if text != 1:
        page.add_style_tag(content=f"html {{ font-size: {text * 100:g}% }}")


def answer_radiology(frame: Frame, upto: int) -> None:
    """Answer the radiology case's questions 1..upto, going on after each but the last."""
    for number in range(1, upto + 1):
        answer_with_mouse(frame, number, RADIOLOGY_KEYS[number])
        if number < upto:
            go_on(frame, number)


PAINTED = """(img) => {
    const box = img.getBoundingClientRect();
    const style = getComputedStyle(img);
    const edge = (side) => parseFloat(style["padding" + side]) +
        parseFloat(style["border" + side + "Width"]);
    const left = box.left + edge("Left"), top = box.top + edge("Top");
    const width = box.width - edge("Left") - edge("Right");
    const height = box.height - edge("Top") - edge("Bottom");
    const fit = style.objectFit, nw = img.naturalWidth, nh = img.naturalHeight;
    // What CSS paints for each object-fit (object-position: centre).
    let scale = null;
    if (fit === "contain" || (fit === "scale-down" && (nw > width || nh > height))) {
        scale = Math.min(width / nw, height / nh);
    } else if (fit === "none" || fit === "scale-down") {
        scale = 1;
    }
    const paintedWidth = fit === "fill" ? width : scale === null ? null : nw * scale;
    const paintedHeight = fit === "fill" ? height : scale === null ? null : nh * scale;
    return {
        image: img.closest("[data-image]").getAttribute("data-image"),
        fit, position: style.objectPosition, natural: [nw, nh],
        painted: paintedWidth === null ? null : {
            x: left + (width - paintedWidth) / 2, y: top + (height - paintedHeight) / 2,
            width: paintedWidth, height: paintedHeight,
        },
    };
}"""


def circle_box(png: bytes, skip_top: float) -> tuple[int, int]:
    """Width and height of the drawn circle in a screenshot of a test image: the bright
    pixels, below the slice-number bar that series slices carry at their top."""
    picture = Image.open(io.BytesIO(png)).convert("L")
    top = int(picture.height * skip_top)
    bright = picture.crop((0, top, picture.width, picture.height)).point(
        lambda value: 255 if value > 120 else 0
    )
    bbox = bright.getbbox()
    assert bbox is not None, "no circle in the painted image"
    return bbox[2] - bbox[0], bbox[3] - bbox[1]


def measure_images(page: Page, scale: float) -> list[dict[str, Any]]:
    """Each gallery and question image, scrolled into view: where it is painted, and
    (when large enough to measure) a screenshot of what was painted."""
    images = page.locator(".gallery img, .image-links img")
    found = []
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        facts = image.evaluate(PAINTED)
        painted = facts["painted"]
        if painted and min(painted["width"], painted["height"]) * scale >= 150:
            # A pixel in from each edge, where the button's border may be antialiased in.
            inside = {
                "x": painted["x"] + 1,
                "y": painted["y"] + 1,
                "width": painted["width"] - 2,
                "height": painted["height"] - 2,
            }
            facts["png"] = page.screenshot(
                clip=inside, mask=[page.locator(".thumb-action")], mask_color="#000000"
            )
        found.append(facts)
    return found


@pytest.mark.parametrize("view", list(VIEWS))
def test_gallery_and_question_images_keep_their_shape(
    browser: Browser, server: LmsServer, view: str
) -> None:
    width, height, scale, text = VIEWS[view]
    page = open_page(browser, width, height, scale, text)
    page.goto(case_url(server))
    set_text_scale(page, text)
    answer_radiology(page.main_frame, 3)  # every question, with its images, is shown
    measured = measure_images(page, scale)
    # 4 in the gallery, 4 beside the questions (q2 shows two images).
    assert len(measured) == 8, [m["image"] for m in measured]
    for image in measured:
        file_width, file_height = FILE_SIZES[image["image"]]
        assert image["painted"] is not None, f"{image['image']}: object-fit {image['fit']} crops"
        assert image["position"] == "50% 50%", image
        painted = image["painted"]
        ratio = painted["width"] / painted["height"]
        assert ratio == pytest.approx(file_width / file_height, rel=0.01), (view, image)
        # What was painted, in device pixels: the circle is round within 1% plus the
        # antialiasing of its outline (two pixels each side).
        if "png" in image:
            circle_width, circle_height = circle_box(image["png"], 0.07)
            tolerance = 0.01 + 4 / min(circle_width, circle_height)
            assert circle_width / circle_height == pytest.approx(1, abs=tolerance), (
                view,
                image["image"],
                circle_width,
                circle_height,
            )
    # No sideways scrolling of the page at any size (WCAG 1.4.10).
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at {view}"
    page.context.close()


def test_thumbnails_carry_their_own_size_and_full_images_wait_for_the_viewer(
    browser: Browser, server: LmsServer
) -> None:
    page = open_page(browser, 1280, 720)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(case_url(server))
    page.wait_for_load_state("networkidle")
    attributes = page.eval_on_selector_all(
        ".gallery img",
        """images => images.map(img => ({src: img.getAttribute("src"),
            width: +img.getAttribute("width"), height: +img.getAttribute("height"),
            natural: [img.naturalWidth, img.naturalHeight], loading: img.loading}))""",
    )
    for image in attributes:
        assert image["src"].endswith(".webp"), image
        assert image["loading"] == "lazy"
        if image["natural"][0]:  # the attributes are the thumbnail's own size
            assert [image["width"], image["height"]] == image["natural"], image
        assert max(image["width"], image["height"]) <= 400
    assert not [url for url in requested if "/qti/media/" in url], "a full image was loaded"
    page.context.close()


def test_first_load_is_light_and_stays_in_the_package(browser: Browser, server: LmsServer) -> None:
    for width, height in ((375, 800), (1280, 720)):
        page = open_page(browser, width, height)
        loaded: list[tuple[str, int]] = []

        def count(request: Request, loaded: list[tuple[str, int]] = loaded) -> None:
            sizes = request.sizes()
            loaded.append((request.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))

        page.on("requestfinished", count)
        page.goto(case_url(server))
        page.wait_for_load_state("networkidle")
        total = sum(size for _, size in loaded)
        print(f"first load at {width}x{height}: {total} bytes in {len(loaded)} requests")
        assert total < FIRST_LOAD_LIMIT, loaded
        package = f"{server.origin}/package-radio/"
        assert [url for url, _ in loaded if not url.startswith(package)] == []
        page.context.close()


def test_the_shipped_player_stays_under_60_kb(packages: dict[str, Path]) -> None:
    files = sorted((packages["radio"] / "player").iterdir())
    sizes = {path.name: path.stat().st_size for path in files}
    print(f"player files as shipped: {sizes}")
    assert {"player.js", "player.css"} <= set(sizes)
    assert sum(sizes.values()) < PLAYER_LIMIT, sizes


# ---------------------------------------------------------------------- phone


def test_on_a_phone_each_image_is_shown_and_described_once(
    browser: Browser, server: LmsServer
) -> None:
    lms = open_lms(browser, server, 375, 800)
    frame = lms.launch(f"{server.origin}/package-radio", CASE_ID, initial_cmi())
    answer_radiology(frame, 3)
    tree = frame.locator("body").aria_snapshot()
    for image_id in FILE_SIZES:
        alt = frame.get_attribute(f".gallery [data-image='{image_id}'] img", "alt")
        assert alt and len(alt) > 20
        assert tree.count(alt) == 1, (alt, tree)
        assert frame.locator(f"img[alt='{alt}']").count() == 1
    # Questions link to the image with a short name instead of showing it again.
    assert frame.locator(".question figure").count() == 0
    assert frame.locator("#question-1 .image-link img[alt='']").count() == 1
    link = frame.get_by_role("button", name="Open Fig. 1 Frontal radiograph")
    assert link.count() == 1
    assert lms.errors == []
    lms.page.context.close()


def test_on_a_phone_question_1_starts_within_a_screen_and_a_half(
    browser: Browser, server: LmsServer
) -> None:
    lms = open_lms(browser, server, 375, 800)
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    where = frame.evaluate(
        """() => {
            const top = (selector) => document.querySelector(selector).getBoundingClientRect().top
                + window.scrollY;
            const history = document.getElementById("history-heading").closest("section");
            return {
                screen: window.innerHeight,
                choice: top("#question-1 .choice"),
                historyEnd: history.getBoundingClientRect().bottom + window.scrollY,
            };
        }"""
    )
    screens = where["choice"] / where["screen"]
    after_history = (where["choice"] - where["historyEnd"]) / where["screen"]
    print(
        f"seed q1's first choice at 375x800: {screens:.2f} screens from the top, "
        f"{after_history:.2f} after the history ({where})"
    )
    assert screens <= 1.5
    lms.page.context.close()


# ------------------------------------------------------------------- findings


def page_text(frame: Frame) -> str:
    return frame.evaluate("document.documentElement.outerHTML")


def assert_findings_shown(frame: Frame) -> None:
    frame.wait_for_selector(".gallery .findings")
    html = page_text(frame)
    for text in FINDINGS_TEXTS:
        assert text in html
    radiograph = frame.locator(".gallery figure[data-image='radiograph'] .findings")
    assert "A round, well-defined calcified mass" in radiograph.inner_text()
    assert frame.locator(".gallery figure[data-image='axial'] .findings").count() == 0


def test_findings_appear_only_once_the_last_question_is_answered(
    browser: Browser, server: LmsServer
) -> None:
    lms = open_lms(browser, server, 1280, 900)
    frame = lms.launch(f"{server.origin}/package-radio", CASE_ID, initial_cmi())
    for number in (1, 2, 3):
        html = page_text(frame)
        for text in FINDINGS_TEXTS:
            assert text not in html, f"findings in the page before question {number}"
        assert not [url for _, url in lms.requests.seen if url.endswith("/findings.js")]
        answer_with_mouse(frame, number, RADIOLOGY_KEYS[number])
        if number < 3:
            go_on(frame, number)
    assert_findings_shown(frame)
    go_on(frame, 3)
    frame.wait_for_selector("#results:not([hidden])")
    assert frame.is_visible("#result-findings")
    assert lms.errors == []

    # Resumed after the attempt ended, and reviewed: the findings are there again.
    saved = lms.cmi()
    lms.exit()
    resumed = initial_cmi(60, entry="", lesson_status=saved["core"]["lesson_status"])
    resumed["suspend_data"] = saved["suspend_data"]
    frame = lms.launch(f"{server.origin}/package-radio", CASE_ID, resumed)
    assert_findings_shown(frame)
    lms.exit()
    review = initial_cmi(60, lesson_mode="review", entry="resume", lesson_status="passed")
    review["suspend_data"] = saved["suspend_data"]
    frame = lms.launch(f"{server.origin}/package-radio", CASE_ID, review)
    assert frame.is_visible("#notice-review")
    assert_findings_shown(frame)
    assert lms.errors == []
    lms.page.context.close()


def test_an_unfinished_resume_has_no_findings(browser: Browser, server: LmsServer) -> None:
    lms = open_lms(browser, server, 1280, 900)
    data = initial_cmi(60, entry="resume", lesson_status="incomplete")
    data["suspend_data"] = '{"v":1,"r":["a","ab"]}'
    frame = lms.launch(f"{server.origin}/package-radio", CASE_ID, data)
    assert frame.is_visible("#question-3")
    frame.wait_for_timeout(300)  # time enough for a script that should not come
    html = page_text(frame)
    assert not any(text in html for text in FINDINGS_TEXTS)
    assert not [url for _, url in lms.requests.seen if url.endswith("/findings.js")]
    lms.page.context.close()


def test_tables_scroll_in_their_own_named_box_on_a_phone(
    browser: Browser, server: LmsServer
) -> None:
    lms = open_lms(browser, server, 375, 800)
    frame = lms.launch(f"{server.origin}/package-radio", CASE_ID, initial_cmi())
    answer_radiology(frame, 3)
    go_on(frame, 3)
    frame.wait_for_selector(".findings .table-scroll")
    boxes = frame.eval_on_selector_all(
        ".table-scroll",
        """boxes => boxes.map(box => ({
            role: box.getAttribute("role"), tabindex: box.getAttribute("tabindex"),
            name: box.getAttribute("aria-label"),
            inside: box.getBoundingClientRect().right <= document.documentElement.clientWidth,
            headers: [...box.querySelectorAll("th")].map(th => th.getAttribute("scope")),
        }))""",
    )
    assert len(boxes) == 3  # history, the series' findings, teaching
    assert [box["name"] for box in boxes] == ["Table 1", "Table 2", "Table 3"]
    assert all(box["role"] == "region" and box["tabindex"] == "0" for box in boxes)
    assert all(box["headers"] == ["col", "col", "col"] for box in boxes)
    assert all(box["inside"] for box in boxes)
    overflow = frame.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    lms.page.context.close()

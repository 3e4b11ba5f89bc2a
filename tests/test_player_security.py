"""Author text stays text, and the player asks nothing of the network.

The injection fixture puts HTML-looking text and `</script>` everywhere validation lets
an author put it: plain-text fields (titles, captions, alt text, modality, references)
as is, Markdown fields inside code spans and backslash escapes. Both ways into the
page are covered: server-rendered HTML and the inline JSON the script reads.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from lms.harness import (
    CONTENT_FOLDER,
    SEED_CASE,
    SEED_KEYS,
    LmsServer,
    LmsSession,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
)
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import player_asset_paths
from qtiexport.validate import validate_course

INJECTION_COURSE = Path(__file__).resolve().parent / "fixtures" / "player-injection"
# The JSON block, then every script of the player (player.js, the question types' modules,
# viewer.js), and no other.
PAGE_SCRIPTS = 1 + sum(path.endswith(".js") for path in player_asset_paths())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-security")
    lms.mount("seed", build_scorm_package(CONTENT_FOLDER, output / "seed", schema_set))
    lms.mount("inject", build_scorm_package(INJECTION_COURSE, output / "inject", schema_set))
    yield lms
    lms.close()


def test_author_text_is_shown_as_text_and_runs_nothing(lms: LmsSession, server: LmsServer) -> None:
    course = validate_course(INJECTION_COURSE)
    case = course.cases[0]
    image = case.images[0]
    frame = lms.launch(f"{server.origin}/package-inject", "inject", initial_cmi())

    # Server-rendered, escaped by Jinja.
    assert frame.text_content("#case-title") == case.title
    assert frame.text_content(".course-title") == course.title
    assert frame.text_content("figcaption .caption-text") == image.caption.text
    assert frame.get_attribute(".thumb-frame img", "alt") == image.alt
    assert frame.text_content("#teaching h3") == case.teaching[0].title
    assert frame.text_content(".references li") == case.references[0].text
    # Markdown: code spans and escapes keep the angle brackets as characters.
    history = frame.text_content(".prose")
    assert "<img src=x onerror=alert('history')>" in history
    assert "<script>alert('history')</script>" in history
    assert "AT&T, 3 < 4 > 2" in history
    labels = frame.locator("#question-1 .choice-text").all_text_contents()
    assert labels == [
        "</script><script>alert('choice')</script>",
        'Tom "&" Jerry\'s',
        "<img src=x onerror=alert('choice')>",
    ]
    assert "<script>alert('stem')</script>" in frame.text_content("#question-1-stem")

    # The inline JSON: the script reads the very strings back and writes them as text.
    assert lms.page.evaluate("document.querySelector('iframe').contentDocument.title") == (
        f"Question 1 of 2 – {case.title}"
    )
    frame.click(".gallery .thumb >> nth=0")
    assert frame.text_content("#viewer-title") == f"{image.caption.text} ({image.modality})"
    assert frame.get_attribute("#viewer-stage", "aria-label") == image.alt
    frame.click("[data-action=close]")
    answer_with_mouse(frame, 1, "b")  # shows the per-choice feedback with its code span
    assert "<a href=javascript:alert('feedback')>" in frame.text_content("#question-1-feedback")
    go_on(frame, 1)
    frame.fill("#question-2-text", "</script><!--")  # accepted answers travel in the JSON
    frame.click("#question-2 button[type=submit]")
    assert frame.text_content("#question-2-text-mark") == "✓ Accepted"

    # Nothing ran: no dialog, no error, no element or handler that the text could have made.
    assert lms.dialogs == []
    assert lms.errors == []
    made = frame.evaluate(
        """() => ({
            scripts: [...document.scripts].map(s => s.type || s.src),
            handlers: [...document.querySelectorAll('*')].flatMap(
                el => [...el.attributes].filter(a => a.name.startsWith('on')).map(a => a.name)),
            foreign: document.querySelectorAll(
                'img[src="x"], svg:not(.shape-overlay), iframe, style, b, ' +
                'a:not(.skip-link)').length,
        })"""
    )
    assert made["handlers"] == []
    assert made["foreign"] == 0
    assert len(made["scripts"]) == PAGE_SCRIPTS


def test_the_inline_json_cannot_end_its_script_element(server: LmsServer) -> None:
    url = f"{server.origin}/package-inject/cases/inject/index.html"
    with urllib.request.urlopen(url) as response:  # our own server on 127.0.0.1
        html = response.read().decode("utf-8")
    block = re.search(
        r'<script type="application/json" id="player-data">(.*?)</script>', html, re.S
    )
    assert block is not None
    data = block.group(1)
    assert "<" not in data and ">" not in data and "&" not in data
    assert html.count("</script>") == PAGE_SCRIPTS
    assert "<!--" not in html


def test_no_request_leaves_the_package(lms: LmsSession, server: LmsServer) -> None:
    package = f"{server.origin}/package-seed/"
    frame = lms.launch(package.rstrip("/"), SEED_CASE, initial_cmi())
    frame.click(".gallery .thumb >> nth=0")
    frame.click("[data-action=annotations]")
    frame.click("[data-action=zoom-in]")
    frame.click("[data-action=close]")
    for number, key in enumerate(SEED_KEYS.values(), start=1):
        answer_with_mouse(frame, number, key)
        go_on(frame, number)
    frame.wait_for_selector("#results:not([hidden])")
    lms.exit()
    assert lms.requests.blocked == []
    # Nor did the page's Content-Security-Policy have to stop one before it was made.
    assert lms.console_errors == []
    sco_requests = [url for frame_url, url in lms.requests.seen if frame_url.startswith(package)]
    lms_requests = [
        url for frame_url, url in lms.requests.seen if not frame_url.startswith(package)
    ]
    # The SCO page itself is requested by the LMS frame that creates the iframe.
    assert all(url.startswith(package) for url in sco_requests), sco_requests
    assert {
        url.removeprefix(server.origin) for url in lms_requests if not url.startswith(package)
    } <= {"/lms/index.html", "/lms/lms.js", "/scorm-again/scorm12.js"}
    loaded = {url.removeprefix(package) for url in sco_requests}
    assert {
        "player/player.css",
        "player/player.js",
        "qti/media/tumoral-calcinosis/images/lateral-radiograph.png",
        "qti/media/tumoral-calcinosis/images/lateral-radiograph-annotated.png",
    } <= loaded

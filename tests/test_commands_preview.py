"""`qtiexport preview` as an author runs it: a real process on a free port, a copy of the
seed course edited on disk, and Chromium on the pages it serves."""

from __future__ import annotations

import hashlib
import http.client
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, expect

from lms.harness import SEED_CASE, RequestLog
from qtiexport.preview.site import Site
from qtiexport.qti import render_qti_package
from qtiexport.scorm import render_scorm_package
from qtiexport.validate import validate_course

from conftest import CONTENT, FIXTURES

RELOAD_SECONDS = 2.0
STOP_SECONDS = 2.0
CASE_FOLDER = Path("cases") / SEED_CASE
FIRST_STEM = "Which is the most likely diagnosis?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def file_hashes(root: Path) -> dict[str, str]:
    """Every file and folder under `root`, with the SHA-256 of each file."""
    return {
        path.relative_to(root).as_posix(): (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        )
        for path in sorted(root.rglob("*"))
    }


@dataclass
class PreviewProcess:
    """`qtiexport preview` running in a child process, its output read as it comes."""

    process: subprocess.Popen[str]
    url: str = ""
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)
    stderr_reader: threading.Thread | None = None

    @classmethod
    def start(cls, cwd: Path, *args: str, env: dict[str, str] | None = None) -> PreviewProcess:
        process = subprocess.Popen(
            [sys.executable, "-m", "qtiexport", "preview", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        running = cls(process)
        threading.Thread(target=running._read_stdout, daemon=True).start()
        running.stderr_reader = threading.Thread(target=running._read_stderr, daemon=True)
        running.stderr_reader.start()
        running.url = running.wait_for_line(r"Serving .* at (http://\S+/)").group(1)
        return running

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr.extend(self.process.stderr)

    def wait_for_line(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if match := re.search(pattern, line):
                return match
        self.stop()
        raise AssertionError(f"no line matching {pattern!r}; stderr: {''.join(self.stderr)}")

    def interrupt(self) -> tuple[int, float]:
        """Ctrl-C; the exit status and the seconds it took to stop."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        status = self.process.wait(timeout=10)
        seconds = time.monotonic() - started
        assert self.stderr_reader is not None
        self.stderr_reader.join(timeout=5)  # all it printed is in self.stderr now
        return status, seconds

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class Served:
    preview: PreviewProcess
    workspace: Path  # the preview's working directory
    course: Path  # the course folder inside it
    before: dict[str, str]  # the course's files when the preview started

    @property
    def origin(self) -> str:
        return self.preview.url.rstrip("/")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workspace = tmp_path_factory.mktemp("preview")
    course = workspace / "course"
    shutil.copytree(CONTENT, course)
    before = file_hashes(course)
    preview = PreviewProcess.start(workspace, "course", "--port", str(free_port()))
    yield Served(preview, workspace, course, before)
    preview.stop()


@dataclass
class Tab:
    page: Page
    requests: RequestLog
    errors: list[str]

    @property
    def player(self) -> FrameLocator:
        return self.page.frame_locator("#lms-frame iframe")

    def panel(self, element: str) -> str:
        return self.page.locator(f'[data-element="{element}"]').inner_text()


@pytest.fixture
def tab(browser: Browser, served: Served) -> Iterator[Tab]:
    """A page that records every request it makes and lets none leave the server."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(5000)
    requests = RequestLog(served.origin)
    context.route("**/*", requests.route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield Tab(page, requests, errors)
    context.close()
    assert requests.blocked == [], "a page asked for something outside 127.0.0.1"
    assert errors == [], "a page raised script errors"


def open_case(tab: Tab, served: Served) -> None:
    tab.page.goto(f"{served.origin}/case/{SEED_CASE}/")
    expect(tab.player.locator("#question-1")).to_be_visible()


def answer(tab: Tab, number: int, key: str) -> None:
    tab.player.locator(f"#question-{number}-choice-{key}").check()
    tab.player.locator(f"#question-{number} button[type=submit]").click()
    expect(tab.player.locator(f"#question-{number}-feedback")).to_be_visible()


def edit(path: Path, old: str, new: str) -> str:
    """Replace `old` by `new` in the file, as an editor saves it; returns the original."""
    original = path.read_text(encoding="utf-8")
    assert old in original
    path.write_text(original.replace(old, new, 1), encoding="utf-8")
    return original


# ----------------------------------------------------------------- the simulated LMS


def test_the_case_plays_in_the_simulated_lms_and_the_panel_shows_each_answer(
    tab: Tab, served: Served
) -> None:
    open_case(tab, served)
    # The LMS side is scorm-again's run-time, and the SCO found it as its window.API.
    assert tab.page.evaluate("window.API.LMSGetValue('cmi.core.lesson_mode')") == "normal"
    expect(tab.page.locator('[data-element="cmi.core.lesson_status"]')).to_have_text("incomplete")
    assert tab.panel("cmi.core.entry") == "ab-initio"

    answer(tab, 1, "b")  # wrong
    interaction = tab.page.locator('[data-interaction="0"]')
    expect(interaction.locator('[data-field="id"]')).to_have_text(f"{SEED_CASE}__q1")
    expect(interaction.locator('[data-field="type"]')).to_have_text("choice")
    expect(interaction.locator('[data-field="student_response"]')).to_have_text("b")
    expect(interaction.locator('[data-field="result"]')).to_have_text("wrong")
    expect(interaction.locator('[data-field="correct_responses"]')).to_have_text("a")
    expect(tab.page.locator("#lms-suspend-data")).to_have_text('{"v":1,"r":["b"]}')
    assert tab.panel("cmi.core.lesson_location") == "q2"
    assert tab.panel("cmi.core.exit") == "suspend"


def test_leave_and_resume_opens_at_the_next_question(tab: Tab, served: Served) -> None:
    open_case(tab, served)
    answer(tab, 1, "a")
    tab.player.locator("#question-1 .next-button").click()
    expect(tab.player.locator("#question-2")).to_be_visible()

    tab.page.click("#lms-resume")
    expect(tab.page.locator("#lms-attempt")).to_have_text("Resumed attempt")
    expect(tab.player.locator("#question-2")).to_be_visible()
    expect(tab.player.locator("#progress")).to_contain_text("Question 2 of 5")
    expect(tab.player.locator("#question-1-choice-a")).to_be_disabled()
    expect(tab.player.locator("#question-1-choice-a")).to_be_checked()
    expect(tab.player.locator("#question-2-choice-e")).to_be_enabled()
    assert tab.panel("cmi.core.entry") == "resume"
    # The first session's LMSFinish came before the relaunch: the answer is kept.
    expect(tab.page.locator('[data-interaction="0"] [data-field="student_response"]')).to_have_text(
        "a"
    )


def test_review_mode_shows_the_answers_and_records_nothing(tab: Tab, served: Served) -> None:
    open_case(tab, served)
    answer(tab, 1, "a")
    tab.page.click("#lms-review")
    expect(tab.player.locator("#notice-review")).to_be_visible()
    expect(tab.player.locator("#question-1-choice-a")).to_be_checked()
    assert tab.panel("cmi.core.lesson_mode") == "review"
    assert tab.panel("cmi.core.credit") == "no-credit"

    tab.page.click("#lms-reset")
    expect(tab.page.locator("#lms-attempt")).to_have_text("Fresh attempt")
    expect(tab.player.locator("#question-1-choice-a")).to_be_enabled()
    expect(tab.page.locator("[data-interaction]")).to_have_count(0)


# --------------------------------------------------------------------- live reload


def test_saving_a_new_stem_reloads_the_open_pages_with_it_within_2_s(
    tab: Tab, served: Served
) -> None:
    questions = served.course / CASE_FOLDER / "questions.yaml"
    open_case(tab, served)
    item = tab.page.context.new_page()
    item.goto(f"{served.origin}/item/{SEED_CASE}/q1")
    expect(item.locator(".item-body")).to_contain_text(FIRST_STEM)

    original = edit(questions, FIRST_STEM, "Which diagnosis fits best?")
    try:
        saved = time.monotonic()
        stem = tab.player.locator("#question-1-stem")
        expect(stem).to_have_text("Which diagnosis fits best?", timeout=RELOAD_SECONDS * 1000)
        assert time.monotonic() - saved < RELOAD_SECONDS
        expect(item.locator(".item-body")).to_contain_text("Which diagnosis fits best?")
        expect(item.locator(".item-xml")).to_contain_text("<p>Which diagnosis fits best?</p>")
        served.preview.wait_for_line(rf"rendered {SEED_CASE} in")
    finally:
        questions.write_text(original, encoding="utf-8")
    expect(stem).to_have_text(FIRST_STEM)


def test_broken_yaml_shows_the_located_errors_and_fixing_it_brings_the_case_back(
    tab: Tab, served: Served
) -> None:
    case_yaml = served.course / CASE_FOLDER / "case.yaml"
    questions = served.course / CASE_FOLDER / "questions.yaml"
    open_case(tab, served)
    item = tab.page.context.new_page()
    item.goto(f"{served.origin}/item/{SEED_CASE}/q2")

    # A flow list never closed, and a key that is an HTML tag.
    questions_original = edit(questions, f"stem: {FIRST_STEM}", f"stem: [{FIRST_STEM}")
    case_original = edit(case_yaml, "\ntitle:", '\n"<img src=/x.png>": 1\ntitle:')
    try:
        # What `qtiexport validate` prints for the same files, from the same folder.
        validate = subprocess.run(
            [sys.executable, "-m", "qtiexport", "validate", "course"],
            cwd=served.workspace,
            capture_output=True,
            text=True,
        )
        printed = validate.stderr.splitlines()
        assert printed[1:] == [
            "course/cases/tumoral-calcinosis/questions.yaml:5:11: error: the YAML does not "
            "parse: did not find expected ',' or ']' (while parsing a flow sequence that "
            "starts at line 4)",
            "2 errors",
        ]
        printed = printed[:-1]  # the page lists the errors and says how many above them
        problems = tab.page.locator("#problems li")
        expect(problems).to_have_text(printed)
        expect(item.locator("#problems li")).to_have_text(printed)
        # Author text in a message is text: the tag is shown, never made an element.
        assert any("<img src=/x.png>" in line for line in problems.all_inner_texts())
        assert tab.page.locator("#problems img").count() == 0
        assert "<img src=/x.png>" not in tab.page.content()
    finally:
        case_yaml.write_text(case_original, encoding="utf-8")
        questions.write_text(questions_original, encoding="utf-8")
    expect(tab.player.locator("#question-1")).to_be_visible()
    expect(item.locator(".item-body")).to_contain_text("which of the following is not true")


def test_only_the_changed_case_is_rendered_again(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "all-types", course)
    site = Site(course)
    assert site.rebuild().rendered == ("every-type", "second-case")
    generation = site.snapshot.generation

    second = course / "cases" / "second-case" / "case.yaml"
    second.write_text(second.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    unchanged = site.rebuild([second])
    assert unchanged.rendered == ("second-case",)
    assert not unchanged.changed and site.snapshot.generation == generation  # no reload

    edit(second, "title:", "title: Renamed,")
    changed = site.rebuild([second])
    assert changed.rendered == ("second-case",)
    assert changed.changed and site.snapshot.generation == generation + 1

    course_yaml = course / "course.yaml"
    edit(course_yaml, "mastery_score: 70", "mastery_score: 60")
    assert site.rebuild([course_yaml]).rendered == ("every-type", "second-case")


def test_the_served_packages_are_the_files_the_build_packs(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "all-types", course)
    site = Site(course)
    site.rebuild()
    validated = validate_course(course)
    scorm = {entry.name: entry.read() for entry in render_scorm_package(validated)}
    qti = {entry.name: entry.read() for entry in render_qti_package(validated)}
    assert dict(site.snapshot.scorm_files) == scorm
    assert dict(site.snapshot.qti_files) == qti


# ------------------------------------------------------------------ what is served


def test_every_page_loads_from_127_0_0_1_only(tab: Tab, served: Served) -> None:
    tab.page.goto(served.origin + "/")
    links = tab.page.locator("main a").evaluate_all("links => links.map(a => a.href)")
    assert f"{served.origin}/case/{SEED_CASE}/" in links
    assert f"{served.origin}/xml/qti/imsmanifest.xml" in links
    for link in links:
        tab.page.goto(link)
        expect(tab.page.locator("main")).to_be_visible()
    open_case(tab, served)
    tab.player.locator("#images-heading ~ .gallery .thumb").first.click()
    expect(tab.player.locator("#viewer")).to_be_visible()  # it loads the full image
    seen = [url for _, url in tab.requests.seen]
    assert f"{served.origin}/_preview/static/scorm12.min.js" in seen
    assert any(url.endswith(".webp") for url in seen)
    assert any(url.endswith(".png") for url in seen)
    # `tab` fails the test if any request was for another address.


def request(served: Served, path: str, host: str | None = None) -> http.client.HTTPResponse:
    """A request sent as written: no client normalises `..` away."""
    connection = http.client.HTTPConnection(served.origin.removeprefix("http://"), timeout=5)
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or served.origin.removeprefix("http://"))
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize(
    "path",
    [
        "/course.yaml",
        "/scorm/../course.yaml",
        "/scorm/../../course/course.yaml",
        "/scorm/%2e%2e/%2e%2e/course/course.yaml",
        "/qti/..%2f..%2fcourse%2fcourse.yaml",
        "/_preview/static/../site.py",
        "/_preview/static/%2e%2e/server.py",
        "/xml/qti/../../course/course.yaml",
        f"/case/{SEED_CASE}/../../course.yaml",
        "/scorm//etc/passwd",
    ],
)
def test_a_path_outside_what_is_served_gets_404(served: Served, path: str) -> None:
    assert request(served, path).status == 404


def test_responses_say_what_they_are_and_are_never_cached(served: Served) -> None:
    for path, kind in [
        (f"/case/{SEED_CASE}/", "text/html; charset=utf-8"),
        (f"/scorm/cases/{SEED_CASE}/index.html", "text/html; charset=utf-8"),
        ("/scorm/player/player.js", "text/javascript; charset=utf-8"),
        ("/_preview/static/scorm12.min.js", "text/javascript; charset=utf-8"),
        ("/qti/imsmanifest.xml", "application/xml; charset=utf-8"),
    ]:
        response = request(served, path)
        assert response.status == 200, path
        assert response.getheader("Content-Type") == kind
        assert response.getheader("Cache-Control") == "no-store"
        assert "default-src 'none'" in response.getheader("Content-Security-Policy")
    # A page of another site, under a name that resolves to 127.0.0.1, is refused.
    assert request(served, "/", host="attacker.example:80").status == 403


def test_a_browser_that_drops_its_connections_does_not_disturb_it(served: Served) -> None:
    """As a tab closed mid-download does; the Ctrl-C test below checks that none of this
    printed a traceback."""
    address = served.origin.removeprefix("http://").split(":")
    for _ in range(10):
        with socket.create_connection((address[0], int(address[1])), timeout=5) as connection:
            connection.sendall(
                b"GET /_preview/static/scorm12.min.js HTTP/1.1\r\n"
                + f"Host: {served.origin.removeprefix('http://')}\r\n\r\n".encode()
            )
            connection.recv(100)
            # Close with a reset, not a goodbye: the server's next read or write fails.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert request(served, f"/case/{SEED_CASE}/").status == 200


# ------------------------------------------------------------------------- stopping


def test_ctrl_c_stops_it_at_once_and_the_course_is_untouched(served: Served) -> None:
    """Runs last in this module: it stops the preview the other tests used."""
    status, seconds = served.preview.interrupt()
    assert status == 0
    assert seconds < STOP_SECONDS
    assert "Traceback" not in "".join(served.preview.stderr)
    # Every edit the tests made was put back: the course is as it was, byte for byte,
    # with no file added, and nothing was written next to it (no build/).
    assert file_hashes(served.course) == served.before
    assert sorted(p.name for p in served.workspace.iterdir()) == ["course"]


def test_a_taken_port_moves_to_the_next_and_open_starts_the_browser(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "minimal", course)
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    # Written aside, then renamed: the file appears with the URL in it.
    browser.write_text(
        f'#!/bin/sh\nprintf %s "$1" > {opened}.part && mv {opened}.part {opened}\n',
        encoding="utf-8",
    )
    browser.chmod(0o755)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        preview = PreviewProcess.start(
            tmp_path, "course", "--port", str(port), "--open", env={"BROWSER": str(browser)}
        )
        try:
            assert preview.url != f"http://127.0.0.1:{port}/"
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", preview.url)
            deadline = time.monotonic() + 5
            while not opened.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert opened.read_text(encoding="utf-8") == preview.url
        finally:
            status, _ = preview.interrupt()
    assert status == 0
    bound = preview.url.split(":")[-1].rstrip("/")
    assert f"port {port} is in use; using {bound}\n" in preview.stderr

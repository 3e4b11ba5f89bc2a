"""The player's test bench: built packages served on 127.0.0.1, the test LMS, a browser.

The SCORM packages are built with the real pipeline (`build_course`, schema check
included), unzipped from the zip a teacher would upload, and served next to the test
LMS page and scorm-again's SCORM 1.2 run-time. Chromium is Debian's, headless, and is
shared by all browser tests of a session.
"""

from __future__ import annotations

import shutil
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Browser, Frame, Page, Request, Route, sync_playwright

from qtiexport.build import build_course
from qtiexport.schemas import SchemaSet
from qtiexport.validate import validate_course

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
CONTENT_FOLDER = REPO / "content"
LMS_FOLDER = TESTS / "lms"
SCORM_AGAIN = REPO / "node_modules" / "scorm-again" / "dist"
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The seed case's keys, and two wrong answers that leave 3 of 5 right.
SEED_CASE = "tumoral-calcinosis"
SEED_KEYS = {"q1": "a", "q2": "e", "q3": "e", "q4": "c", "q5": "b"}


# ------------------------------------------------------------------ packages


def build_scorm_package(course_folder: Path, output: Path, schemas: SchemaSet) -> Path:
    """Build the SCORM zip of a course and unzip it; returns the unzipped folder."""
    course = validate_course(course_folder)
    built = build_course(course, output, ("scorm12",), schemas)
    folder = output / f"{course.id}-unzipped"
    with zipfile.ZipFile(built[0].zip_path) as archive:
        archive.extractall(folder)
    return folder


# -------------------------------------------------------------------- server


class _Handler(SimpleHTTPRequestHandler):
    """Serves /lms/, /scorm-again/ and /packages/<name>/ from their folders, nothing else."""

    mounts: dict[str, Path] = {}

    def translate_path(self, path: str) -> str:
        parts = unquote(urlsplit(path).path).lstrip("/").split("/")
        root = self.mounts.get(parts[0])
        if root is None or any(p in ("..", ".") for p in parts):
            return str(LMS_FOLDER / "missing")
        return str(root.joinpath(*parts[1:]))

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
        pass


class LmsServer:
    """An HTTP server on 127.0.0.1 in a thread; `mount` adds a package under /packages/."""

    def __init__(self) -> None:
        if not (SCORM_AGAIN / "scorm12.js").is_file():
            raise RuntimeError(f"{SCORM_AGAIN} is missing: run `npm ci` in {REPO}")
        mounts = {"lms": LMS_FOLDER, "scorm-again": SCORM_AGAIN}
        handler = type("Handler", (_Handler,), {"mounts": mounts})
        self.mounts = mounts
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def mount(self, name: str, folder: Path) -> str:
        self.mounts[f"package-{name}"] = folder
        return f"{self.origin}/package-{name}"

    @property
    def lms_url(self) -> str:
        return f"{self.origin}/lms/index.html"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------- browser


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Debian's chromium is needed: apt-get install chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


# ------------------------------------------------------------------ sessions


@dataclass
class RequestLog:
    """Every request the page made, and those that would have left the test origin."""

    origin: str
    seen: list[tuple[str, str]] = field(default_factory=list)  # (frame url, request url)
    blocked: list[str] = field(default_factory=list)

    def route(self, route: Route, request: Request) -> None:
        frame_url = ""
        try:
            frame_url = request.frame.url
        except Exception:  # a request of a frame already gone: keep the URL anyway
            frame_url = "?"
        self.seen.append((frame_url, request.url))
        if request.url.startswith(self.origin + "/") or request.url.startswith("data:"):
            route.continue_()
        else:
            self.blocked.append(request.url)
            route.abort()


def open_lms(browser: Browser, server: LmsServer, width: int = 1280, height: int = 900):
    """A new page of the given size with the test LMS."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(5000)
    return LmsSession(context.new_page(), server)


class LmsSession:
    """One browser page with the test LMS, driving one SCO."""

    def __init__(self, page: Page, server: LmsServer) -> None:
        self.page = page
        self.server = server
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        self.requests = RequestLog(server.origin)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                self.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.route("**/*", self.requests.route)
        page.goto(server.lms_url)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def launch(
        self,
        package_url: str,
        case_id: str,
        initial: dict[str, Any] | None = None,
        refuse: dict[str, str] | None = None,
    ) -> Frame:
        sco = f"{package_url}/cases/{case_id}/index.html"
        self.page.evaluate(
            "([sco, initial, refuse]) => window.testLms.launch(sco, initial, refuse)",
            [sco, initial, refuse],
        )
        frame = self.page.frame(url=sco)
        assert frame is not None, f"the SCO {sco} did not load"
        frame.wait_for_selector(".question:not([hidden]), #results:not([hidden])")
        return frame

    def calls(self) -> list[dict[str, Any]]:
        return self.page.evaluate("window.testLms.calls()")

    def cmi(self) -> dict[str, Any]:
        return self.page.evaluate("window.testLms.cmi()")

    def exit(self) -> None:
        self.page.evaluate("window.testLms.exit()")

    def set_values(self) -> dict[str, str]:
        """The last value the SCO set for each element."""
        values: dict[str, str] = {}
        for call in self.calls():
            if call["method"] == "LMSSetValue":
                values[call["args"][0]] = call["args"][1]
        return values

    def screenshot(self, name: str) -> Path:
        """A full-page picture of the SCO as the LMS shows it."""
        self.page.evaluate("window.testLms.fitFrame()")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        self.page.evaluate("window.testLms.unfitFrame()")
        return path


def answer_with_mouse(frame: Frame, number: int, keys: str) -> None:
    """Choose keys ("a", "ace", "true") in question `number` (1-based) and submit."""
    for key in [keys] if keys in ("true", "false") else keys:
        frame.check(f"#question-{number}-choice-{key}")
    frame.click(f"#question-{number} button[type=submit]")
    frame.wait_for_selector(f"#question-{number}-feedback:not([hidden])")


def go_on(frame: Frame, number: int) -> None:
    frame.click(f"#question-{number} .next-button")


def initial_cmi(mastery_score: int | None = 80, **core: str) -> dict[str, Any]:
    """cmi data an LMS starts a SCO with: the manifest's mastery score, a first entry."""
    data: dict[str, Any] = {
        "core": {
            "student_id": "learner-1",
            "student_name": "Learner, Test",
            "credit": "credit",
            "lesson_mode": "normal",
            **core,
        },
    }
    if mastery_score is not None:
        data["student_data"] = {"mastery_score": str(mastery_score)}
    return data

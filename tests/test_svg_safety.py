"""An SVG reaches a package only when it can neither run script nor fetch anything.

Each attack that got through before (issue 10, class 3) is a fixture in
tests/fixtures/svg/refused/ and must end in its exact located error, through `validate`
and `build`; so must every width, height or viewBox that is not a usable number (class
6, which used to crash with exit 3). The varied, harmless SVGs in
tests/fixtures/svg/accepted/ must build; every SVG in the zips is then opened as a
top-level document in Chromium, which must run no script and request nothing. Controls
show that the same harness sees the script and the requests of the refused fixtures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from lms.harness import LmsServer
from qtiexport import images
from qtiexport.images import ImageProblem, read_image_facts

from conftest import FIXTURES, REPO

MINIMAL = FIXTURES / "minimal"
ACCEPTED = FIXTURES / "svg" / "accepted"
REFUSED = FIXTURES / "svg" / "refused"
# Where the minimal course names its image: the `file:` value in cases/c1/case.yaml.
WHERE = "cases/c1/case.yaml:6:11: error: image `images/drawing.svg`:"
ADVICE = (
    "keep only shapes, text, gradients and references to `#id` in the same file (save it "
    "as plain SVG), or export it as PNG"
)
SVG = 'xmlns="http://www.w3.org/2000/svg"'


def course_with_svg(folder: Path, data: bytes) -> Path:
    """The minimal course, its one image replaced by the given SVG."""
    course = folder / "course"
    shutil.copytree(MINIMAL, course)
    (course / "cases" / "c1" / "images" / "drawing.svg").write_bytes(data)
    case = course / "cases" / "c1" / "case.yaml"
    case.write_text(case.read_text().replace("images/xray.png", "images/drawing.svg"))
    return course


def assert_refused_everywhere(course: Path, message: str, run_cli, monkeypatch) -> None:
    """`validate` and `build` both end in exit 1 with exactly this one located error."""
    monkeypatch.chdir(course)
    expected = [f"{WHERE} {message}", "1 error"]
    result = run_cli("validate", ".")
    assert (result.exit_code, result.stderr.splitlines()) == (1, expected), result.output
    output = course.parent / "out"
    result = run_cli("build", ".", "-o", str(output))
    assert (result.exit_code, result.stderr.splitlines()) == (1, expected), result.output
    assert not list(output.rglob("*.zip"))


# ------------------------------------------------------------- class 3: script

REFUSED_MESSAGES = {
    "entity-expands-to-script.svg": (
        "may not contain a DOCTYPE (line 2): no DTD and no entities; remove it"
    ),
    "xhtml-iframe-srcdoc.svg": (
        "may not contain <iframe> of namespace `http://www.w3.org/1999/xhtml` (line 3); " + ADVICE
    ),
    "xml-stylesheet-xslt.svg": (
        "may not contain the processing instruction <?xml-stylesheet?> (line 1); "
        "the SVG may not contain <xsl:stylesheet> of namespace "
        "`http://www.w3.org/1999/XSL/Transform` (line 3); the SVG may not contain "
        "<xsl:template> of namespace `http://www.w3.org/1999/XSL/Transform` (line 4); "
        "the SVG may not contain <script> (line 5); " + ADVICE
    ),
    "animate-sets-href.svg": (
        "may not contain <a> (line 2); the SVG may not contain <set> (line 3); "
        "the SVG may not contain <animate> (line 4); " + ADVICE
    ),
    "xlink-href-javascript.svg": (
        "may not contain `xlink:href` on <use> pointing to "
        "`java script:window.__ranBy = 'use'` (line 2); the SVG may not contain `href` on "
        "<use> pointing to `JavaScript:void(0)` (line 3); " + ADVICE
    ),
    "external-image-and-use.svg": (
        "may not contain <image> (line 2); the SVG may not contain `xlink:href` on <use> "
        "pointing to `file:///etc/passwd#x` (line 3); the SVG may not contain `href` on "
        "<use> pointing to `other.svg#shape` (line 4); the SVG may not contain "
        "`url(http://198.51.100.7/paint.svg#p)` in `fill` on <rect> (line 5); " + ADVICE
    ),
    "external-css.svg": (
        "may not contain <style> (line 2); the SVG may not contain the style "
        "`src: url(http://198.51.100.7/y.woff)` in `style` on <text> (line 3); the SVG may "
        "not contain the function `image-set()` in `mask` on <rect> (line 4); the SVG may "
        "not contain a backslash in `fill` on <rect> (line 5); " + ADVICE
    ),
    "xinclude.svg": (
        "may not contain <xi:include> of namespace `http://www.w3.org/2001/XInclude` "
        "(line 2); " + ADVICE
    ),
    "script-and-events.svg": (
        "may not contain the event attribute `onload` on <svg> (line 1); the SVG may not "
        "contain <script> (line 2); the SVG may not contain <foreignObject> (line 3); the "
        "SVG may not contain <div> of namespace `http://www.w3.org/1999/xhtml` (line 3); "
        "the SVG may not contain a comment with `<` or `>` in it (line 4); " + ADVICE
    ),
}


def test_every_refused_fixture_has_its_message() -> None:
    assert sorted(REFUSED_MESSAGES) == sorted(p.name for p in REFUSED.glob("*.svg"))


@pytest.mark.parametrize("name", sorted(REFUSED_MESSAGES))
def test_an_svg_attack_is_refused_with_a_located_error(
    name: str, tmp_path: Path, run_cli, monkeypatch
) -> None:
    course = course_with_svg(tmp_path, (REFUSED / name).read_bytes())
    assert_refused_everywhere(course, "the SVG " + REFUSED_MESSAGES[name], run_cli, monkeypatch)


# Smaller forms, written here: what lxml hides from a tree, encodings, limits.
INLINE_REFUSALS = {
    "cdata": (
        f'<svg {SVG} viewBox="0 0 1 1">\n<text><![CDATA[<script>x</script>]]></text></svg>',
        " may not contain a CDATA section (line 2); " + ADVICE,
    ),
    "html-comment-differential": (
        f'<svg {SVG} viewBox="0 0 1 1"><!--->--></svg>',
        " may not contain a comment with `<` or `>` in it (line 1); " + ADVICE,
    ),
    "external-dtd": (
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        f'<svg {SVG} viewBox="0 0 1 1"/>',
        " may not contain a DOCTYPE (line 1): no DTD and no entities; remove it",
    ),
    "other-encoding": (
        f'<?xml version="1.0" encoding="ISO-8859-1"?><svg {SVG} viewBox="0 0 1 1"/>',
        " declares the encoding `ISO-8859-1`; save it as UTF-8",
    ),
    "xml-base": (
        f'<svg {SVG} viewBox="0 0 1 1" xml:base="http://198.51.100.7/"/>',
        " may not contain the attribute `xml:base` of namespace "
        "`http://www.w3.org/XML/1998/namespace` on <svg> (line 1); " + ADVICE,
    ),
    "javascript-in-a-text-attribute": (
        f'<svg {SVG} viewBox="0 0 1 1" aria-label="JAVA SCRIPT:x"/>',
        " may not contain `javascript:` in `aria-label` on <svg> (line 1); " + ADVICE,
    ),
    "style-property-not-allowed": (
        f'<svg {SVG} viewBox="0 0 1 1"><rect style="fill:red; background-image: none"/></svg>',
        " may not contain the style `background-image: none` in `style` on <rect> (line 1); "
        + ADVICE,
    ),
    "more-than-five-problems": (
        f'<svg {SVG} viewBox="0 0 1 1">' + "<set/>" * 7 + "</svg>",
        " may not contain <set> (line 1);"
        + " the SVG may not contain <set> (line 1);" * 4
        + " and more; "
        + ADVICE,
    ),
    "not-well-formed": (
        f'<svg {SVG} viewBox="0 0 1 1">\n<g></svg>',
        " is not well-formed XML: Opening and ending tag mismatch: g line 2 and svg "
        "(line 2); export it again",
    ),
    "no-svg-namespace": (
        '<svg viewBox="0 0 1 1"/>',
        '\'s root element lacks xmlns="http://www.w3.org/2000/svg"; add it',
    ),
}


@pytest.mark.parametrize("name", sorted(INLINE_REFUSALS))
def test_hidden_and_unusual_forms_are_refused_with_a_located_error(
    name: str, tmp_path: Path, run_cli, monkeypatch
) -> None:
    text, message = INLINE_REFUSALS[name]
    course = course_with_svg(tmp_path, text.encode("utf-8"))
    assert_refused_everywhere(course, "the SVG" + message, run_cli, monkeypatch)


def test_an_svg_with_too_many_parts_is_refused_before_it_costs_much(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(images, "MAX_SVG_PARTS", 100)
    path = tmp_path / "many.svg"
    path.write_text(f'<svg {SVG} viewBox="0 0 1 1">' + "<g/>" * 100 + "</svg>")
    with pytest.raises(ImageProblem) as caught:
        read_image_facts(path)
    assert str(caught.value) == (
        "the SVG has more than 100 elements, attributes and style declarations; simplify it "
        "or export it as PNG"
    )


# The child measures itself: VmHWM, its peak resident memory in KiB since its exec (the
# ru_maxrss of a child starts from the forking parent's size). Validation of one case
# runs in this process, without workers.
MEASURE_VALIDATE = """
import re
from pathlib import Path
from qtiexport.cli import cli
try:
    cli(["validate", "."], standalone_mode=False)
except SystemExit:  # exit 1 on errors, which are printed already
    pass
print(re.search(r"VmHWM:\\s*(\\d+) kB", Path("/proc/self/status").read_text())[1])
"""


@pytest.mark.parametrize("shape", ["tiny elements, refused by count", "long paths, accepted"])
def test_a_50_mb_svg_validates_in_bounded_memory(shape: str, tmp_path: Path) -> None:
    head = f'<svg {SVG} viewBox="0 0 10 10">'.encode()
    if shape.startswith("tiny"):
        body = b"<g/>" * ((images.MAX_IMAGE_BYTES - 100) // 4)
    else:
        path = b'<path d="' + b"M1 2L3 4" * 60 + b'" fill="red"/>\n'
        body = path * ((images.MAX_IMAGE_BYTES - 100) // len(path))
    course = course_with_svg(tmp_path, head + body + b"</svg>")
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_VALIDATE],
        cwd=course,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    peak_mib = int(done.stdout.split()[-1]) / 1024
    print(f"peak RSS validating a 50 MB SVG of {shape}: {peak_mib:.0f} MiB")
    assert "Traceback" not in done.stderr
    if shape.startswith("tiny"):
        assert "elements, attributes and style declarations" in done.stdout + done.stderr
    else:
        assert "no errors" in done.stdout, done.stdout + done.stderr
    assert peak_mib < 300


# ------------------------------------------------------ class 6: sizes that crashed

NOT_ABOVE_0 = "is not above 0; give its size in pixels"
BAD_BOX = "is not four numbers `min-x min-y width height` with a width and height above 0"
SIZES = {
    'width="abc" height="10"': (
        'the SVG\'s `width` `abc` is not a number of pixels; write it as `width="640"`'
    ),
    'width="10" height="NaN"': (
        'the SVG\'s `height` `NaN` is not a number of pixels; write it as `height="640"`'
    ),
    'width="Infinity" height="10"': (
        'the SVG\'s `width` `Infinity` is not a number of pixels; write it as `width="640"`'
    ),
    'width="1e999" height="10"': "the SVG's `width` `1e999` is too large; give its size in pixels",
    'width="0" height="10"': f"the SVG's `width` `0` {NOT_ABOVE_0}",
    'width="10" height="-5px"': f"the SVG's `height` `-5px` {NOT_ABOVE_0}",
    'viewBox="0 0 1e400 10"': f"the SVG's `viewBox` `0 0 1e400 10` {BAD_BOX}",
    'viewBox="0 0 10"': f"the SVG's `viewBox` `0 0 10` {BAD_BOX}",
    'viewBox="0 0 0 10"': f"the SVG's `viewBox` `0 0 0 10` {BAD_BOX}",
    'width="3em" height="2"': (
        "the SVG's `width` `3em` uses the unit `em`, which is not supported; give pixels "
        "(or mm, cm, in, pt, pc)"
    ),
    'width="100000" height="100000"': (
        "the SVG is 100,000×100,000 pixels; images are limited to 100,000,000 pixels "
        "(make its width and height smaller)"
    ),
    'width="1e308" height="1e308"': (
        "the SVG is 1e+308×1e+308 pixels; images are limited to 100,000,000 pixels "
        "(make its width and height smaller)"
    ),
    'width="1" viewBox="0 0 1e9 1"': (
        "the SVG is 1×1e-09 pixels, less than one pixel; give its size in pixels"
    ),
    'width="0.001" height="0.001"': (
        "the SVG is 0.001×0.001 pixels, less than one pixel; give its size in pixels"
    ),
    'width="10"': (
        "the SVG gives only one of width and height and no viewBox; give both, or a viewBox"
    ),
    "": (
        "the SVG has neither a width and height nor a viewBox; add a viewBox such as "
        '`viewBox="0 0 640 480"`'
    ),
}


@pytest.mark.parametrize("attributes", sorted(SIZES))
def test_a_size_that_is_not_a_usable_number_is_a_located_error(
    attributes: str, tmp_path: Path, run_cli, monkeypatch
) -> None:
    course = course_with_svg(tmp_path, f"<svg {SVG} {attributes}/>".encode())
    assert_refused_everywhere(course, SIZES[attributes], run_cli, monkeypatch)


def test_the_installed_command_exits_1_not_3_on_an_overflowing_size(tmp_path: Path) -> None:
    """The real process, not Click's runner: the exit status an author's shell sees."""
    course = course_with_svg(tmp_path, f'<svg {SVG} width="1e999" height="1e999"/>'.encode())
    expected = f"{WHERE} the SVG's `width` `1e999` is too large; give its size in pixels;"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    for command in (["validate", "."], ["build", ".", "-o", str(tmp_path / "out")]):
        done = subprocess.run(
            [sys.executable, "-m", "qtiexport", *command],
            cwd=course,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr.splitlines()[0].startswith(expected), done.stderr
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr


# ------------------------------------------------------------------ accepted SVGs

ACCEPTED_SIZES = {
    "clip-mask-pattern.svg": (200, 100),
    "drawing-program.svg": (794, 374),  # 210 mm × 99 mm at 96 pixels per inch
    "filters.svg": (320, 180),  # width given, height from the viewBox's ratio
    "gradients.svg": (240, 120),
    "markers.svg": (200, 120),
    "percent-size.svg": (640, 480),  # 100 % means "the viewBox's size"
    "text.svg": (320, 140),
    "use-symbol.svg": (300, 100),
}


def test_every_accepted_fixture_has_its_size() -> None:
    assert sorted(ACCEPTED_SIZES) == sorted(p.name for p in ACCEPTED.glob("*.svg"))


@pytest.mark.parametrize("name", sorted(ACCEPTED_SIZES))
def test_a_harmless_svg_is_accepted_with_its_size(name: str) -> None:
    facts = read_image_facts(ACCEPTED / name)
    assert (facts.media_type, facts.width, facts.height) == ("image/svg+xml", *ACCEPTED_SIZES[name])


# ------------------------------------------------------------------- the browser

# Hooks on `window`, installed before any script of the document: anything that shows
# or sends something, and `window.__ranBy`, which every script of the fixtures sets.
# The source URL names the hook script, so that the script log can leave it out.
INIT_SCRIPT = """
(() => {
  const seen = [];
  Object.defineProperty(window, '__svgProbe', { value: seen });
  for (const name of ['alert', 'confirm', 'prompt', 'print', 'open', 'fetch', 'postMessage']) {
    const original = window[name];
    window[name] = function (...args) { seen.push(name); return original?.apply(this, args); };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    seen.push('xhr');
    return send.apply(this, args);
  };
})();
//# sourceURL=svg-probe-init.js
"""


VIEWPORT = {"width": 640, "height": 400}


@dataclass
class Opened:
    """What a document did when opened on its own."""

    scripts: list[str] = field(default_factory=list)  # scripts compiled, by source URL
    requests: list[str] = field(default_factory=list)  # any request but the document's
    hooks: list[str] = field(default_factory=list)  # hooked functions called
    ran_by: str | None = None  # `window.__ranBy`, set by the fixtures' scripts
    dialogs: list[str] = field(default_factory=list)

    @property
    def harmless(self) -> bool:
        return not (self.scripts or self.requests or self.hooks or self.ran_by or self.dialogs)


def open_as_document(browser: Browser, url: str) -> Opened:
    """Opens one URL as a top-level document, clicks its links, and reports what it did."""
    opened = Opened()
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(5000)
    context.add_init_script(INIT_SCRIPT)
    page = context.new_page()
    # Every script the page compiles in any frame (inline, event handler, javascript:
    # URL, srcdoc), whatever it does, except the hooks above.
    cdp = context.new_cdp_session(page)
    compiled: list[str] = []
    cdp.on(
        "Debugger.scriptParsed",
        lambda event: (
            compiled.append(event.get("url") or "(no URL)")
            if event.get("executionContextAuxData", {}).get("type") == "default"
            and event.get("url") != "svg-probe-init.js"
            else None
        ),
    )
    cdp.send("Debugger.enable")

    def route(route, request) -> None:
        if request.url == url:
            route.continue_()
        else:
            opened.requests.append(request.url)
            route.abort()

    page.route("**/*", route)
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url, wait_until="load")
    # Clicks over the whole drawing, as a learner might: a link's script runs only then.
    # The mouse is driven from outside the page (no locator, which would add scripts).
    for x in range(40, VIEWPORT["width"], 120):
        for y in range(40, VIEWPORT["height"], 120):
            page.mouse.click(x, y)
    page.wait_for_timeout(300)  # let animations that begin at 0s and onload handlers run
    opened.scripts = list(compiled)  # before our own evaluation below adds its scripts
    opened.hooks, opened.ran_by = page.evaluate(
        "() => [Array.from(window.__svgProbe || []), window.__ranBy ?? null]"
    )
    context.close()
    return opened


@pytest.fixture(scope="module")
def svg_server() -> Iterator[LmsServer]:
    server = LmsServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def shipped_svgs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every SVG in the zips of a course that shows all accepted fixtures, extracted."""
    from click.testing import CliRunner

    from qtiexport.cli import cli

    folder = tmp_path_factory.mktemp("svg-course")
    course = folder / "course"
    shutil.copytree(MINIMAL, course)
    image_folder = course / "cases" / "c1" / "images"
    entries = []
    for number, source in enumerate(sorted(ACCEPTED.glob("*.svg")), 1):
        shutil.copyfile(source, image_folder / source.name)
        entries.append(
            f"  - id: drawing-{number}\n    file: images/{source.name}\n"
            f"    caption: Drawing {number}\n    alt: A drawing.\n"
        )
    case = course / "cases" / "c1" / "case.yaml"
    text = case.read_text()
    case.write_text(text.replace("images:\n", "images:\n" + "".join(entries), 1))
    result = CliRunner().invoke(cli, ["build", str(course), "-o", str(folder / "out")])
    assert result.exit_code == 0, result.output
    zips = sorted((folder / "out").rglob("*.zip"))
    assert len(zips) == 2, zips
    extracted = folder / "extracted"
    for package in zips:
        with zipfile.ZipFile(package) as archive:
            for name in archive.namelist():
                if name.lower().endswith(".svg"):
                    archive.extract(name, extracted / package.stem)
    return extracted


def test_every_accepted_svg_reaches_both_packages_byte_for_byte(shipped_svgs: Path) -> None:
    fixtures = {p.read_bytes() for p in ACCEPTED.glob("*.svg")}
    for package in sorted(shipped_svgs.iterdir()):
        shipped = {p.read_bytes() for p in package.rglob("*.svg")}
        assert shipped == fixtures, package.name


def test_no_shipped_svg_runs_script_or_requests_anything_in_chromium(
    browser: Browser, svg_server: LmsServer, shipped_svgs: Path
) -> None:
    base = svg_server.mount("shipped", shipped_svgs)
    paths = sorted(p.relative_to(shipped_svgs).as_posix() for p in shipped_svgs.rglob("*.svg"))
    assert len(paths) >= 2 * len(ACCEPTED_SIZES)
    found = {path: open_as_document(browser, f"{base}/{path}") for path in paths}
    assert {path: opened for path, opened in found.items() if not opened.harmless} == {}


# The controls: the harness above sees what the refused fixtures do when nothing stops
# them (XSLT is left out: Chromium is dropping it, and the fixture is refused anyway).
CONTROLS = {
    "entity-expands-to-script.svg": "entity",
    "xhtml-iframe-srcdoc.svg": "srcdoc",
    "script-and-events.svg": "onload",
    "animate-sets-href.svg": "animation",
    "external-image-and-use.svg": None,
    "external-css.svg": None,
}


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_the_harness_sees_what_a_refused_svg_does(
    name: str, browser: Browser, svg_server: LmsServer
) -> None:
    base = svg_server.mount("refused", REFUSED)
    opened = open_as_document(browser, f"{base}/{name}")
    if CONTROLS[name] is None:
        assert opened.requests and not opened.scripts
        assert all(url.startswith(("http://198.51.100.7/", base)) for url in opened.requests)
    else:
        assert opened.scripts and opened.ran_by == CONTROLS[name]
    assert not opened.harmless

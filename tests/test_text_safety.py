"""Author text that could hide or corrupt something never reaches a package or a terminal.

Control characters, bidirectional overrides and line separators are located errors in
any text, identifier or file name (lxml refuses the C0 ones, so before this check such a
course validated and then crashed the build); identifiers are matched whole; messages
that quote author text print its escape and control characters as visible escapes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qtiexport.diagnostics import Diagnostic, Location, escape_unprintable
from qtiexport.validate import FORBIDDEN_CHARACTER, IDENTIFIER

MINIMAL = Path(__file__).resolve().parent / "fixtures" / "minimal"


def course_with(tmp_path: Path, relative: str, old: str, new: str) -> Path:
    course = tmp_path / "course"
    shutil.copytree(MINIMAL, course)
    target = course / relative
    text = target.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return course


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "qtiexport", *args], cwd=cwd, capture_output=True, timeout=120
    )


# Each was accepted by `validate` and crashed `build` (exit 3), or printed raw.
CRASHES = [
    (
        "cases/c1/questions.yaml",
        "    stem: Which one?",
        '    stem: "Which \\x01 one?"',
        "cases/c1/questions.yaml:4:11: error: `stem` of question `q1` contains U+0001, "
        "an invisible control character; remove it",
    ),
    (
        "cases/c1/case.yaml",
        "    alt: A frontal radiograph.",
        '    alt: "A frontal\\x0bradiograph."',
        "cases/c1/case.yaml:8:10: error: `alt` of image `xray` contains U+000B, "
        "an invisible control character; remove it",
    ),
    (
        "cases/c1/case.yaml",
        "      A teaching point.",
        "      A teaching\\x02 point.",  # a block scalar does not expand escapes: stays text
        None,
    ),
    (
        "cases/c1/case.yaml",
        "title: A small case",
        'title: "A small case\\x1b[2J"',
        "cases/c1/case.yaml:2:8: error: `title` of case.yaml contains U+001B, "
        "an invisible control character; remove it",
    ),
    (
        "course.yaml",
        "title: Minimal course",
        'title: "Minimal \\u2066course\\u2069"',
        "course.yaml:2:8: error: `title` of course.yaml contains U+2066, a bidirectional "
        "override, which makes text read differently from what it is; remove it",
    ),
]


@pytest.mark.parametrize(("relative", "old", "new", "expected"), CRASHES)
def test_control_characters_end_in_a_located_error_not_a_crash(
    tmp_path: Path, relative: str, old: str, new: str, expected: str | None
) -> None:
    course = course_with(tmp_path, relative, old, new)
    out = tmp_path / "out"
    result = run("build", str(course), "-o", str(out), cwd=tmp_path)
    stderr = result.stderr.decode("utf-8")
    assert "Traceback" not in stderr
    if expected is None:
        assert result.returncode == 0, stderr
        return
    assert result.returncode == 1, stderr
    assert stderr.splitlines() == [f"course/{expected}", "1 error"]
    assert not out.exists()


def test_an_identifier_is_matched_whole(tmp_path: Path) -> None:
    assert IDENTIFIER.fullmatch("q1")
    assert not IDENTIFIER.fullmatch("q1\n")  # `^…$` with match() let this through
    course = course_with(tmp_path, "cases/c1/questions.yaml", "  - id: q1", '  - id: "q1\\n"')
    result = run("build", str(course), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert b"`q1\\n` is not a valid identifier" in result.stderr
    assert not (tmp_path / "out").exists()


def test_messages_print_terminal_escapes_as_visible_text(tmp_path: Path) -> None:
    course = course_with(
        tmp_path,
        "cases/c1/case.yaml",
        "history: A short history.",
        'history: A short history.\n"x\\e]0;owned\\a\\e[2J\\x9b31m": 1',
    )
    result = run("validate", str(course), cwd=tmp_path)
    assert result.returncode == 1
    # Not one escape or control byte reaches the terminal; the author still sees them.
    assert not FORBIDDEN_CHARACTER.search(result.stderr.decode("utf-8").replace("\n", ""))
    assert b"\x1b" not in result.stdout + result.stderr
    assert "unknown key `x\\u001b]0;owned\\u0007\\u001b[2J\\u009b31m`" in result.stderr.decode()
    json = run("validate", str(course), "--format", "json", cwd=tmp_path)
    assert b"\x1b" not in json.stdout and b"\\\\u001b" in json.stdout


def test_every_dangerous_character_is_escaped_in_a_message() -> None:
    dangerous = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]]
    dangerous += [chr(c) for c in range(0x7F, 0xA0)]
    dangerous += [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
    dangerous += ["\u2028", "\u2029"]
    for character in dangerous:
        shown = str(Diagnostic(Location(f"a{character}.yaml"), f"text `{character}`"))
        assert character not in shown
        assert f"\\u{ord(character):04x}" in shown
    assert escape_unprintable("Ca+ – “β” ok\t") == "Ca+ – “β” ok\t"

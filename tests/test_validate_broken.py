"""Every broken input gives its own located error, and nothing else.

Each folder under tests/broken/ holds the files that differ from the small valid
course in tests/fixtures/minimal (and `remove.txt`, files to delete), plus
`expected.txt`: the exact errors the author must see, one per line.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qtiexport.diagnostics import ContentError
from qtiexport.validate import validate_course

HERE = Path(__file__).resolve().parent
BROKEN = HERE / "broken"
MINIMAL = HERE / "fixtures" / "minimal"
CASES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())


def materialise(name: str, target: Path) -> Path:
    """The minimal course with one broken input laid over it."""
    course = target / "course"
    shutil.copytree(MINIMAL, course)
    overlay = BROKEN / name
    for source in sorted(overlay.rglob("*")):
        relative = source.relative_to(overlay)
        if relative.as_posix() in ("expected.txt", "remove.txt") or source.is_dir():
            continue
        destination = course / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            destination.unlink(missing_ok=True)
            os.symlink(os.readlink(source), destination)
        else:
            shutil.copyfile(source, destination)
    removals = overlay / "remove.txt"
    if removals.exists():
        for line in removals.read_text().split():
            (course / line).unlink()
    return course


def expected_lines(name: str) -> list[str]:
    return (BROKEN / name / "expected.txt").read_text(encoding="utf-8").splitlines()


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_the_base_course_is_valid() -> None:
    validate_course(MINIMAL)


@pytest.mark.parametrize("name", CASES)
def test_broken_input_gives_its_located_errors(name: str, tmp_path: Path, run_cli, monkeypatch):
    course = materialise(name, tmp_path)
    monkeypatch.chdir(course)
    result = run_cli("validate", ".")
    expected = expected_lines(name)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    count = len(expected)
    assert result.stderr.splitlines() == [*expected, f"{count} error{'s' if count != 1 else ''}"]


@pytest.mark.parametrize("name", CASES)
def test_broken_input_raises_content_error_in_the_api(name: str, tmp_path: Path, monkeypatch):
    course = materialise(name, tmp_path)
    monkeypatch.chdir(course)
    with pytest.raises(ContentError) as caught:
        validate_course(Path("."))
    assert [str(d) for d in caught.value.diagnostics] == expected_lines(name)

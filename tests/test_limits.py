"""Inputs far beyond a real course: each ends in a clear message, in bounded time and memory."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from qtiexport import validate
from qtiexport.diagnostics import MAX_ERRORS_PER_FILE, ContentError
from qtiexport.loader import load_yaml
from qtiexport.validate import validate_course

from test_validate_broken import MINIMAL, materialise

MiB = 1024 * 1024


# Runs the CLI and then reports its own peak memory (VmHWM, in KiB). getrusage's
# maxrss would include the test process's memory, copied at fork time before exec.
MEASURED_CLI = """
import re, sys
from qtiexport.cli import main
try:
    main()
finally:
    status = open("/proc/self/status").read()
    print(re.search(r"VmHWM:\\s+(\\d+)", status)[1], file=sys.stderr)
"""


def run_validate(course: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Validate in a child process; return it and that child's own peak memory in MiB."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_CLI, "validate", "."],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=120,
    )
    *lines, peak = done.stderr.splitlines()
    done.stderr = "\n".join(lines)
    return done, int(peak) / 1024


def errors_of(course: Path, monkeypatch) -> list[str]:
    monkeypatch.chdir(course)
    with pytest.raises(ContentError) as caught:
        validate_course(Path("."))
    return [str(d) for d in caught.value.diagnostics]


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims the given size; the pixels are never decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_fifty_megabyte_yaml_is_refused_before_reading(tmp_path: Path) -> None:
    course = materialise("one-choice", tmp_path)  # any overlay; the file is replaced below
    questions = course / "cases/c1/questions.yaml"
    line = b"  - id: q\n    type: single\n    stem: " + b"x" * 200 + b"\n"
    with questions.open("wb") as out:
        out.write(b"questions:\n")
        for _ in range(50 * MiB // len(line) + 1):
            out.write(line)
    assert questions.stat().st_size >= 50 * MiB
    done, peak = run_validate(course)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        "cases/c1/questions.yaml:1:1: error: the file is 50.0 MB; course files are limited "
        "to 10 MB (split the case)"
    )
    assert peak < 200, f"peak memory {peak:.0f} MiB"


def test_five_thousand_question_case_is_refused_for_scorm_state(tmp_path: Path, monkeypatch):
    course = materialise("one-choice", tmp_path)
    entries = "".join(
        f"  - id: q{n}\n    type: single\n    stem: Question {n}?\n"
        f"    choices: {{a: Yes {n}, b: No {n}}}\n    answer: a\n"
        for n in range(5_000)
    )
    (course / "cases/c1/questions.yaml").write_text("questions:\n" + entries)
    assert errors_of(course, monkeypatch) == [
        "cases/c1/questions.yaml:1:1: error: a learner's saved state for this case can reach "
        "20014 characters, over SCORM 1.2's limit of 4096 for cmi.suspend_data; split the case "
        "or lower `max_length` of its text questions"
    ]


def test_ten_thousand_question_case_is_refused_for_its_values(tmp_path: Path, monkeypatch):
    course = materialise("one-choice", tmp_path)
    entries = "".join(
        f"  - id: q{n}\n    type: single\n    stem: Question {n}?\n"
        f"    choices: {{a: Yes {n}, b: No {n}}}\n    answer: a\n"
        for n in range(10_000)
    )
    (course / "cases/c1/questions.yaml").write_text("questions:\n" + entries)
    assert errors_of(course, monkeypatch) == [
        "cases/c1/questions.yaml:33335:5: error: the file holds more than 100,000 values "
        "(texts, numbers, keys, lists and mappings); split the case"
    ]


def test_hundred_megabyte_image_is_refused_unread(tmp_path: Path, monkeypatch) -> None:
    course = materialise("one-choice", tmp_path)
    image = course / "cases/c1/images/xray.png"
    with image.open("r+b") as handle:
        handle.truncate(100 * MiB)  # sparse: no 100 MB written to disk
    errors = errors_of(course, monkeypatch)
    assert errors[0] == (
        "cases/c1/case.yaml:6:11: error: image `images/xray.png`: the image is 100 MB; images "
        "are limited to 50 MB (export it smaller)"
    )


def test_decompression_bomb_is_refused_from_its_header(tmp_path: Path, monkeypatch) -> None:
    course = materialise("one-choice", tmp_path)
    (course / "cases/c1/images/xray.png").write_bytes(png_header(30000, 30000))
    done, peak = run_validate(course)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (
        "cases/c1/case.yaml:6:11: error: image `images/xray.png`: the image claims more than "
        "100,000,000 pixels (a decompression bomb?); scale it down"
    )
    assert peak < 200, f"peak memory {peak:.0f} MiB"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("images/CON.png", "uses `CON.png`, a name Windows reserves; rename the file"),
        ("images/lpt1.png", "uses `lpt1.png`, a name Windows reserves; rename the file"),
        (
            "images/a:b.png",
            'contains a character Windows forbids in names (< > : " | ? * or a control character)',
        ),
        (
            "images/x.png.",
            "has a name ending in a dot or space, which Windows drops; rename the file",
        ),
        (
            "images/" + "n" * 120 + ".png",
            "has a name longer than 100 characters; use a shorter name",
        ),
        ("C:/images/x.png", None),
    ],
)
def test_unportable_image_names(tmp_path: Path, monkeypatch, name: str, message: str | None):
    course = materialise("one-choice", tmp_path)
    case = course / "cases/c1/case.yaml"
    case.write_text(case.read_text().replace("file: images/xray.png", f"file: '{name}'"))
    errors = errors_of(course, monkeypatch)
    if message is None:
        message = "is absolute; give it relative to the case folder, such as `images/xray.png`"
        assert errors[0] == f"cases/c1/case.yaml:6:11: error: image path `{name}` {message}"
    else:
        assert errors[0] == f"cases/c1/case.yaml:6:11: error: image path `{name[:80]}` {message}"


def test_names_that_differ_only_in_case(tmp_path: Path, monkeypatch) -> None:
    course = materialise("one-choice", tmp_path)
    images = course / "cases/c1/images"
    (images / "XRAY.png").write_bytes((images / "xray.png").read_bytes())
    case = course / "cases/c1/case.yaml"
    case.write_text(
        case.read_text().replace(
            "    modality: XR\n", "    modality: XR\n    annotated: images/XRAY.png\n"
        )
    )
    assert errors_of(course, monkeypatch)[0] == (
        "cases/c1/case.yaml:10:16: error: image path `images/XRAY.png` differs from "
        "`images/xray.png` (line 6) only in letter case; Windows and macOS would unpack them "
        "as one file, so rename one"
    )


def test_case_of_a_name_must_match_the_disk(tmp_path: Path, monkeypatch) -> None:
    course = materialise("one-choice", tmp_path)
    case = course / "cases/c1/case.yaml"
    case.write_text(case.read_text().replace("file: images/xray.png", "file: images/Xray.png"))
    assert errors_of(course, monkeypatch)[0] == (
        "cases/c1/case.yaml:6:11: error: image file `images/Xray.png` not found in cases/c1; "
        "did you mean `images/xray.png`?"
    )


@pytest.mark.parametrize("linked", ["course.yaml", "cases/c1/case.yaml", "cases/c1/questions.yaml"])
def test_yaml_file_linked_out_of_the_course_is_refused_unread(
    tmp_path: Path, monkeypatch, linked: str
) -> None:
    course = materialise("one-choice", tmp_path)
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("secret: [text that must not be echoed\n")
    (course / linked).unlink()
    (course / linked).symlink_to(outside)
    read = []

    def recording_load_yaml(path: Path, shown: str):
        read.append(shown)
        return load_yaml(path, shown)

    monkeypatch.setattr(validate, "load_yaml", recording_load_yaml)
    errors = errors_of(course, monkeypatch)
    assert errors == [
        f"{linked}:1:1: error: the file is a symbolic link that leads outside the course; "
        "copy the file into the course"
    ]
    assert linked not in read and "elsewhere.yaml" not in read


def test_yaml_file_linked_inside_the_course_is_read(tmp_path: Path, monkeypatch) -> None:
    course = tmp_path / "course"
    shutil.copytree(MINIMAL, course)
    questions = course / "cases/c1/questions.yaml"
    kept = course / "shared-questions.yaml"
    questions.rename(kept)
    questions.symlink_to(Path("../../shared-questions.yaml"))
    monkeypatch.chdir(course)
    assert [q.id for q in validate_course(Path(".")).cases[0].questions] == ["q1", "q2", "q3", "q4"]


def test_errors_of_one_file_stop_at_a_thousand(tmp_path: Path, monkeypatch) -> None:
    course = materialise("one-choice", tmp_path)
    (course / "cases/c1/questions.yaml").write_text("questions: [" + "{}," * 2000 + "{}]\n")
    errors = errors_of(course, monkeypatch)
    assert len(errors) == MAX_ERRORS_PER_FILE + 1
    assert errors[0] == (
        "cases/c1/questions.yaml:1:1: error: more than 1,000 errors in this file; the first "
        "1,000 found are shown: fix them and validate again"
    )

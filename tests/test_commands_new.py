"""`qtiexport new course|case`: what it makes validates and builds as it is, shows every
key, asks one question of every registered kind, is the same bytes every time, and a
refusal writes nothing."""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from qtiexport.identifiers import question_identifier
from qtiexport.questions import NAMES, REGISTRY, kind_of
from qtiexport.scaffold import RADIOGRAPH, SERIES
from qtiexport.templating import templates_dir
from qtiexport.validate import (
    CASE_KEYS,
    COURSE_KEYS,
    FEEDBACK_KEYS,
    IMAGE_KEYS,
    QUESTION_KEYS,
    SECTION_KEYS,
    validate_course,
)

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CASE_FILES = [
    "case.yaml",
    "images/axial-t2/slice-1.png",
    "images/axial-t2/slice-2.png",
    "images/axial-t2/slice-3.png",
    "images/radiograph-annotated.png",
    "images/radiograph.png",
    "questions.yaml",
]


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path inside it."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def everything_under(folder: Path) -> dict[str, bytes | None]:
    """Every file and folder under `folder` (folders as None), to compare before and after."""
    return {
        p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def course(run_cli, in_tmp: Path) -> Path:
    """A course made by `qtiexport new course hip-course`."""
    result = run_cli("new", "course", "hip-course")
    assert result.exit_code == 0, result.output
    return in_tmp / "hip-course"


def usage_error(result, param: str) -> str:
    """The message of the usage error on `param`, checking the exit code."""
    assert result.exit_code == 2, result.output
    prefix = f"Error: Invalid value for '{param}': "
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert line.startswith(prefix), line
    return line.removeprefix(prefix)


# ------------------------------------------------------------- made, validated, built


def test_new_course_says_what_it_made_and_what_to_run_next(run_cli, in_tmp: Path) -> None:
    result = run_cli("new", "course", "hip-course")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Made the course in hip-course/:",
        *[f"  hip-course/cases/first-case/{name}" for name in CASE_FILES],
        "  hip-course/course.yaml",
        "Every key is explained in the comments of the YAML files; replace the placeholder "
        "text and images with your own.",
        "Next: qtiexport preview hip-course",
    ]
    assert sorted(files_of(in_tmp / "hip-course")) == [
        *[f"cases/first-case/{name}" for name in CASE_FILES],
        "course.yaml",
    ]


def test_new_course_validates_and_builds_against_the_schemas(run_cli, course: Path) -> None:
    validated = run_cli("validate", str(course))
    assert validated.exit_code == 0, validated.output
    assert validated.stdout == "hip-course: 1 case, 10 questions, no errors\n"

    built = run_cli("build", str(course), "-o", "out")
    assert built.exit_code == 0, built.output
    assert "all documents valid against the official schemas" in built.output
    for target in ("scorm12", "qti21"):
        assert zipfile.ZipFile(f"out/hip-course-{target}.zip").testzip() is None


def test_new_case_adds_a_case_that_validates_and_the_course_still_builds(
    run_cli, course: Path
) -> None:
    result = run_cli("new", "case", "hip-course", "knee-2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Made the case `knee-2` and listed it last under `cases` in hip-course/course.yaml:",
        *[f"  hip-course/cases/knee-2/{name}" for name in CASE_FILES],
        "Every key is explained in the comments of the YAML files; replace the placeholder "
        "text and images with your own.",
        "Next: qtiexport preview hip-course",
    ]
    assert (
        (course / "course.yaml")
        .read_text(encoding="utf-8")
        .endswith("cases:\n  - first-case\n  - knee-2\n")
    )
    validated = run_cli("validate", "hip-course")
    assert validated.stdout == "hip-course: 2 cases, 20 questions, no errors\n", validated.output
    built = run_cli("build", "hip-course", "-o", "out")
    assert built.exit_code == 0, built.output
    names = zipfile.ZipFile("out/hip-course-qti21.zip").namelist()
    assert "test-knee-2.xml" in names and "item-knee-2.q10.xml" in names


def test_every_registered_kind_is_asked_in_the_built_qti_package(run_cli, course: Path) -> None:
    built = run_cli("build", str(course), "-o", "out", "--target", "qti21")
    assert built.exit_code == 0, built.output
    (case,) = validate_course(course).cases
    assert [question.type for question in case.questions] == list(NAMES)
    package = zipfile.ZipFile("out/hip-course-qti21.zip")
    for question in case.questions:
        item = etree.fromstring(package.read(f"item-{question_identifier(case, question)}.xml"))
        interaction = kind_of(question.type).qti_interaction_of(question)
        found = item.findall(f".//{QTI}{interaction}")
        assert len(found) == 1, (question.type, interaction)


def test_the_placeholder_images_have_a_radiograph_s_shape_and_the_series_its_slices(
    course: Path,
) -> None:
    (case,) = validate_course(course).cases
    radiograph, series = case.images
    assert (radiograph.width, radiograph.height) == (RADIOGRAPH.width, RADIOGRAPH.height)
    assert (radiograph.width, radiograph.height) == (1200, 900)
    assert radiograph.annotated is not None and radiograph.findings is not None
    assert [image.href for image in series.series] == [
        f"images/axial-t2/slice-{n}.png" for n in range(1, SERIES.slices + 1)
    ]


def test_every_kind_brings_its_example_from_a_template_named_after_it() -> None:
    examples = templates_dir() / "new" / "questions"
    assert sorted(p.stem for p in examples.glob("*.yaml")) == sorted(NAMES)
    for kind in REGISTRY:
        text = (examples / f"{kind.name}.yaml").read_text(encoding="utf-8")
        assert re.search(rf"^    type: {kind.name}$", text, re.MULTILINE), kind.name


# ------------------------------------------------------------------- every key shown


def keys_written(text: str) -> set[str]:
    """The keys the YAML text uses (block keys and the keys of one-line mappings)."""
    block = re.findall(r"^ *(?:- )?([a-z_]+):(?: |$)", text, re.MULTILINE)
    flow = re.findall(r"[{,] *([a-z_]+): ", text)
    return set(block) | set(flow)


def test_the_files_use_every_key_the_validator_knows(course: Path) -> None:
    """A key the validator learns shows up here as missing until the templates use it."""
    case_folder = course / "cases" / "first-case"
    course_keys = keys_written((course / "course.yaml").read_text(encoding="utf-8"))
    case_keys = keys_written((case_folder / "case.yaml").read_text(encoding="utf-8"))
    question_keys = keys_written((case_folder / "questions.yaml").read_text(encoding="utf-8"))
    assert set(COURSE_KEYS) <= course_keys
    assert set(CASE_KEYS) | set(IMAGE_KEYS) | set(SECTION_KEYS) <= case_keys
    assert set(QUESTION_KEYS) | set(FEEDBACK_KEYS) | {"text", "fixed", "shape", "coords"} <= (
        question_keys
    )


# ------------------------------------------------------------------------ refusals


@pytest.fixture
def not_empty(in_tmp: Path) -> Path:
    folder = in_tmp / "notes"
    folder.mkdir()
    (folder / "draft.txt").write_text("my notes\n", encoding="utf-8")
    return folder


def test_new_course_refuses_a_folder_that_is_not_empty(run_cli, not_empty: Path) -> None:
    before = everything_under(not_empty.parent)
    result = run_cli("new", "course", "notes")
    assert usage_error(result, "PATH") == (
        "notes is not empty; give a new or empty folder, so that nothing is overwritten"
    )
    assert everything_under(not_empty.parent) == before


def test_new_course_refuses_a_file(run_cli, not_empty: Path) -> None:
    before = everything_under(not_empty.parent)
    result = run_cli("new", "course", "notes/draft.txt")
    assert usage_error(result, "PATH") == (
        "notes/draft.txt is a file; give a new or empty folder for the course"
    )
    assert everything_under(not_empty.parent) == before


def test_new_course_refuses_a_bad_first_case_id(run_cli, in_tmp: Path) -> None:
    result = run_cli("new", "course", "hip-course", "--case", "1st case")
    assert usage_error(result, "--case") == (
        "`1st case` is not a valid identifier: it must start with a letter or `_` and "
        "contain only letters, digits, `_`, `-` and `.`"
    )
    assert everything_under(in_tmp) == {}


REFUSED_CASES = {
    "an existing case": (
        ["hip-course", "first-case"],
        "ID",
        "case `first-case` already exists: hip-course/cases/first-case; choose another ID, "
        "or edit that case",
    ),
    "a case differing only in letter case": (
        ["hip-course", "First-Case"],
        "ID",
        "case `First-Case` differs only in letter case from the existing case `first-case` "
        "(hip-course/cases/first-case); case ids name folders, so choose an ID that differs "
        "in more than case",
    ),
    "an id that is not an identifier": (
        ["hip-course", "2nd-case"],
        "ID",
        "`2nd-case` is not a valid identifier: it must start with a letter or `_` and "
        "contain only letters, digits, `_`, `-` and `.`",
    ),
    "a name Windows reserves": (
        ["hip-course", "con"],
        "ID",
        "case `con` uses `con`, a name Windows reserves; choose another ID",
    ),
    "a folder without course.yaml": (
        ["hip-course/cases", "knee-2"],
        "PATH",
        "hip-course/cases is not a course: it has no course.yaml; make a course with "
        "`qtiexport new course hip-course/cases`",
    ),
    "a folder that does not exist": (
        ["elbow-course", "knee-2"],
        "PATH",
        "elbow-course does not exist; give a course folder (one with course.yaml), or make "
        "a course with `qtiexport new course elbow-course`",
    ),
}


@pytest.mark.parametrize("arguments, param, message", REFUSED_CASES.values(), ids=REFUSED_CASES)
def test_new_case_refuses_and_writes_nothing(
    run_cli, course: Path, arguments: list[str], param: str, message: str
) -> None:
    before = everything_under(course.parent)
    result = run_cli("new", "case", *arguments)
    assert usage_error(result, param) == message
    assert result.stdout == ""
    assert everything_under(course.parent) == before


def test_new_case_refuses_a_course_yaml_that_does_not_parse(run_cli, course: Path) -> None:
    course_file = course / "course.yaml"
    course_file.write_text("id: hip-course\ncases: [first-case\n", encoding="utf-8")
    before = everything_under(course.parent)
    result = run_cli("new", "case", "hip-course", "knee-2")
    assert usage_error(result, "PATH") == (
        "hip-course/course.yaml is not valid YAML, so the case cannot be listed in it; "
        "`qtiexport validate hip-course` shows where, fix that first"
    )
    assert everything_under(course.parent) == before


# ------------------------------------------------------- listing the case in course.yaml

LISTS = {
    "block list with comments": (
        "id: c\ntitle: C\ncases:\n  - first-case   # the first\n# the end\n",
        "id: c\ntitle: C\ncases:\n  - first-case   # the first\n  - knee-2\n# the end\n",
    ),
    "unindented block list, cases not last": (
        "cases:\n- first-case\nid: c\ntitle: C\n",
        "cases:\n- first-case\n- knee-2\nid: c\ntitle: C\n",
    ),
    "flow list": (
        "id: c\ntitle: C\ncases: [first-case]  # one\n",
        "id: c\ntitle: C\ncases: [first-case, knee-2]  # one\n",
    ),
    "flow list over lines, trailing comma": (
        "id: c\ntitle: C\ncases: [\n  first-case,\n]\n",
        "id: c\ntitle: C\ncases: [\n  first-case, knee-2,\n]\n",
    ),
    "Windows line ends, no final line break": (
        "id: c\r\ntitle: C\r\ncases:\r\n  - first-case",
        "id: c\r\ntitle: C\r\ncases:\r\n  - first-case\r\n  - knee-2",
    ),
    "an empty `cases:`": (
        "id: c\ntitle: C\ncases:   # none yet\n",
        "id: c\ntitle: C\ncases:   # none yet\n  - knee-2\n",
    ),
    "no `cases:` at all": ("id: c\ntitle: C", "id: c\ntitle: C\ncases:\n  - knee-2\n"),
}


@pytest.mark.parametrize("written, expected", LISTS.values(), ids=LISTS)
def test_new_case_lists_the_case_last_keeping_every_other_byte(
    run_cli, course: Path, written: str, expected: str
) -> None:
    cases = len(re.findall(r"first-case|knee-2", expected))
    course_file = course / "course.yaml"
    course_file.write_bytes(written.encode("utf-8"))
    os.chmod(course_file, 0o640)
    result = run_cli("new", "case", "hip-course", "knee-2")
    assert result.exit_code == 0, result.output
    assert course_file.read_bytes() == expected.encode("utf-8")
    assert stat.S_IMODE(course_file.stat().st_mode) == 0o640
    validated = run_cli("validate", "hip-course")
    assert validated.stdout == (
        f"c: {cases} case{'s' * (cases > 1)}, {10 * cases} questions, no errors\n"
    ), validated.output


def test_new_case_refuses_a_cases_entry_it_cannot_add_to(run_cli, course: Path) -> None:
    (course / "course.yaml").write_text("id: c\ntitle: C\ncases: first-case\n", encoding="utf-8")
    before = everything_under(course.parent)
    result = run_cli("new", "case", "hip-course", "knee-2")
    assert usage_error(result, "PATH") == (
        "cannot add `knee-2` to `cases` in hip-course/course.yaml (line 3) without changing "
        "how it is written; write `cases:` as a list, one `- case-id` a line"
    )
    assert everything_under(course.parent) == before


def test_new_case_for_a_case_already_listed_leaves_course_yaml_alone(run_cli, course: Path) -> None:
    course_file = course / "course.yaml"
    course_file.write_text("id: c\ntitle: C\ncases: [first-case, knee-2]\n", encoding="utf-8")
    result = run_cli("new", "case", "hip-course", "knee-2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Made the case `knee-2` (hip-course/course.yaml already lists it):"
    )
    assert course_file.read_text(encoding="utf-8") == (
        "id: c\ntitle: C\ncases: [first-case, knee-2]\n"
    )
    assert run_cli("validate", "hip-course").exit_code == 0


# ----------------------------------------------------------- where and how it writes


def test_new_course_fills_an_empty_folder_the_author_made(run_cli, in_tmp: Path) -> None:
    (in_tmp / "hip-course").mkdir()
    result = run_cli("new", "course", "hip-course")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in in_tmp.iterdir()) == ["hip-course"]  # nothing left beside
    assert (in_tmp / "hip-course" / "course.yaml").is_file()


def test_new_course_in_the_current_folder_names_the_course_after_it(
    run_cli, in_tmp: Path, monkeypatch
) -> None:
    folder = in_tmp / "Hip & pelvis 2025"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = run_cli("new", "course", ".")
    assert result.exit_code == 0, result.output
    assert "id: Hip-pelvis-2025\n" in (folder / "course.yaml").read_text(encoding="utf-8")
    assert run_cli("validate", ".").stdout == "Hip-pelvis-2025: 1 case, 10 questions, no errors\n"


def test_made_files_and_folders_follow_the_umask(run_cli, in_tmp: Path) -> None:
    previous = os.umask(0o022)
    try:
        assert run_cli("new", "course", "hip-course").exit_code == 0
    finally:
        os.umask(previous)
    for path in [in_tmp / "hip-course", *(in_tmp / "hip-course").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_the_same_course_and_case_are_the_same_bytes_every_time(run_cli, in_tmp: Path) -> None:
    made = []
    for run in ("one", "two"):
        (in_tmp / run).mkdir()
        assert run_cli("new", "course", f"{run}/hip-course").exit_code == 0
        assert run_cli("new", "case", f"{run}/hip-course", "knee-2").exit_code == 0
        made.append(files_of(in_tmp / run / "hip-course"))
    assert made[0] == made[1]
    assert len(made[0]) == 1 + 2 * len(CASE_FILES)

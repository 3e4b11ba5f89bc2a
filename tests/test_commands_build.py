"""`qtiexport build` options that no package test covers, and the output folder rules: it
never overlaps the course, and a build replaces only what a build wrote."""

from __future__ import annotations

import errno
import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from qtiexport.package import TREE_MARKER, TREE_MARKER_TEXT

from conftest import REPO


def test_timings_name_every_stage_and_the_total(run_cli, tmp_path: Path) -> None:
    result = run_cli("build", str(REPO / "content"), "-o", str(tmp_path), "--timings")
    assert result.exit_code == 0, result.output
    line = result.stderr.splitlines()[-1]
    match = re.fullmatch(
        r"timings: (.+); (\d+\.\d\d) s in all \(stages add up every process\)", line
    )
    assert match, line
    stages = dict(part.rsplit(" ", 2)[:2] for part in match[1].split(", "))
    assert (
        {"load", "validate", "render", "zip"}
        <= set(stages)
        <= {
            "load",
            "validate",
            "render",
            "schema",
            "zip",
        }
    )
    assert all(float(seconds) >= 0 for seconds in stages.values())
    # Standard output stays the build's report.
    assert not any(out.startswith("timings:") for out in result.stdout.splitlines())


MINIMAL = REPO / "tests" / "fixtures" / "minimal"


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (links as where they point), to compare before and after."""
    return {
        p.relative_to(folder).as_posix(): (
            os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def usage_error(result) -> str:
    """The message of a Click usage error on `-o`."""
    assert result.exit_code == 2, result.output
    prefix = "Error: Invalid value for '-o' / '--output': "
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert line.startswith(prefix), line
    return line.removeprefix(prefix)


@pytest.fixture
def course(tmp_path: Path, monkeypatch) -> Path:
    """The minimal course at tmp_path/course, with tmp_path as the working directory."""
    shutil.copytree(MINIMAL, tmp_path / "course")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "course"


OVERLAPS = {
    "the course folder": (
        "course",
        "course",
        "the output folder course/ is the course folder course/, where a build could replace "
        "the course's files; choose a folder outside it, such as -o build.",
    ),
    "inside the course": (
        "course",
        "course/cases",
        "the output folder course/cases/ lies inside the course folder course/, where a build "
        "could replace the course's files; choose a folder outside it, such as -o build.",
    ),
    "a new folder inside the course": (
        "course",
        "course/cases/c1/images/new/deeper",
        "the output folder course/cases/c1/images/new/deeper/ lies inside the course folder "
        "course/, where a build could replace the course's files; choose a folder outside it, "
        "such as -o build.",
    ),
    "the course inside it": (
        "course",
        ".",
        "the output folder ./ contains the course folder course/, where a build could replace "
        "the course's files; choose a folder beside the course, not above it.",
    ),
    "the course through ..": (
        "course/cases/..",
        "elsewhere/../course/cases",
        "the output folder course/cases/ lies inside the course folder course/, where a build "
        "could replace the course's files; choose a folder outside it, such as -o build.",
    ),
    "the root": (
        "course",
        "/",
        "the output folder / is the root of the file system, where a build could replace "
        "anything; choose a folder of its own, such as -o build.",
    ),
}


@pytest.mark.parametrize("case", OVERLAPS, ids=list(OVERLAPS))
def test_an_output_folder_that_overlaps_the_course_is_refused(run_cli, course, case) -> None:
    path, output, message = OVERLAPS[case]
    before = files_of(course.parent)
    result = run_cli("build", path, "-o", output)
    assert usage_error(result) == message
    assert files_of(course.parent) == before  # nothing made, nothing removed


def test_an_output_folder_reached_through_a_link_is_refused(run_cli, course) -> None:
    (course.parent / "published").symlink_to(course / "cases")
    before = files_of(course)
    result = run_cli("build", "course", "-o", "published/c1")
    assert usage_error(result) == (
        "the output folder course/cases/c1/ lies inside the course folder course/, where a "
        "build could replace the course's files; choose a folder outside it, such as -o build."
    )
    assert files_of(course) == before
    # A link to the course folder itself, given as the course, is the same folder.
    result = run_cli("build", "published/..", "-o", "course/cases")
    assert "lies inside the course folder" in usage_error(result)


def test_building_the_working_folder_as_the_course_suggests_a_folder_beside_it(
    run_cli, course, monkeypatch
) -> None:
    monkeypatch.chdir(course)  # cd course && qtiexport build .
    result = run_cli("build", ".")
    assert usage_error(result) == (
        "the output folder build/ lies inside the course folder ./, where a build could "
        "replace the course's files; choose a folder outside it, such as -o ../build."
    )
    assert not (course / "build").exists()
    assert run_cli("build", ".", "-o", "../build").exit_code == 0
    assert (course.parent / "build" / "minimal-qti21.zip").is_file()


STANDING = {
    # what stands at a path the build writes, and what the build says about it
    "an unmarked folder at a tree's path": (
        "out/minimal/qti21",
        "out/minimal/qti21 is a folder that no build wrote (it holds no .qtiexport-tree "
        "file), and this build would replace it: move it away or choose another output folder.",
    ),
    "a folder at a zip's path": (
        "out/minimal-scorm12.zip",
        "out/minimal-scorm12.zip is a folder that is not a zip a build wrote, and this build "
        "would replace it: move it away or choose another output folder.",
    ),
    "a file at a zip's path that is no zip": (
        "out/minimal-qti21.zip",
        "out/minimal-qti21.zip is a file that is not a zip a build wrote, and this build would "
        "replace it: move it away or choose another output folder.",
    ),
    "a file where the trees' folder goes": (
        "out/minimal",
        "out/minimal is a file, not a folder, and this build would put its unzipped packages "
        "there: move it away or choose another output folder.",
    ),
}


@pytest.mark.parametrize("case", STANDING, ids=list(STANDING))
def test_a_build_replaces_nothing_that_a_build_did_not_write(run_cli, course, case) -> None:
    standing, message = STANDING[case]
    target = course.parent / standing
    if standing.endswith("qti21.zip") or standing.endswith("/minimal"):
        target.parent.mkdir(parents=True)
        target.write_text("an author's notes\n")
    else:
        (target / "images").mkdir(parents=True)
        (target / "notes.md").write_text("an author's notes\n")
        (target / "images" / "x.png").write_bytes(b"\x89PNG")
    before = files_of(course.parent)
    assert usage_error(run_cli("build", "course", "-o", "out")) == message
    assert files_of(course.parent) == before


def test_a_link_where_the_trees_go_is_refused_and_the_course_kept(run_cli, course) -> None:
    """The attack of issue 10: a course id and -o such that <out>/<id>/<target> is a folder
    of the course, here through a link named as the course id."""
    (course / "cases" / "qti21").mkdir()
    (course / "cases" / "qti21" / "notes.md").write_text("an author's notes\n")
    (course.parent / "out").mkdir()
    (course.parent / "out" / "minimal").symlink_to(course / "cases")
    before = files_of(course)
    assert usage_error(run_cli("build", "course", "-o", "out")) == (
        "out/minimal is a symbolic link, not a folder, and this build would put its unzipped "
        "packages there: move it away or choose another output folder."
    )
    assert files_of(course) == before


def test_a_build_replaces_its_own_packages_and_keeps_the_files_beside_them(run_cli, course) -> None:
    out = course.parent / "out"
    (out / "minimal").mkdir(parents=True)
    (out / "README.txt").write_text("kept\n")
    (out / "minimal" / "notes.txt").write_text("kept too\n")
    for _ in range(2):
        result = run_cli("build", "course", "-o", "out")
        assert result.exit_code == 0, result.output
    tree = out / "minimal" / "qti21"
    assert (tree / TREE_MARKER).read_bytes() == TREE_MARKER_TEXT
    for target in ("qti21", "scorm12"):
        with zipfile.ZipFile(out / f"minimal-{target}.zip") as archive:
            assert not any(TREE_MARKER in name for name in archive.namelist())
    assert sorted(p.name for p in out.iterdir()) == [
        "README.txt",
        "minimal",
        "minimal-qti21.zip",
        "minimal-scorm12.zip",
    ]
    assert sorted(p.name for p in (out / "minimal").iterdir()) == ["notes.txt", "qti21", "scorm12"]
    assert (out / "README.txt").read_text() == "kept\n"


def test_a_failed_commit_says_the_previous_packages_are_intact(
    run_cli, course, monkeypatch
) -> None:
    assert run_cli("build", "course", "-o", "out").exit_code == 0
    before = files_of(course.parent / "out")
    real_replace = os.replace
    calls = []

    def replace(source, destination) -> None:
        calls.append(destination)
        if len(calls) == 4:  # the first tree is in, the second not yet
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    (course / "cases" / "c1" / "case.yaml").write_text(
        (course / "cases" / "c1" / "case.yaml").read_text().replace("A small case", "Changed")
    )
    result = run_cli("build", "course", "-o", "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "build failed: putting the packages in place failed: [Errno 5] Input/output error; "
        "the previous packages are intact"
    )
    monkeypatch.setattr(os, "replace", real_replace)
    assert files_of(course.parent / "out") == before

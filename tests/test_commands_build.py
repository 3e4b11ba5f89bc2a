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

from qtiexport.build import TARGETS
from qtiexport.cache import CACHE_FOLDER
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
        {"cache", "load", "validate", "render", "zip"}
        <= set(stages)
        <= {
            "cache",
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
    """Every file under `folder` (links as where they point), to compare before and after;
    the build cache aside (tests/test_build_cache.py says what it holds)."""
    return {
        p.relative_to(folder).as_posix(): (
            os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
        )
        for p in sorted(folder.rglob("*"))
        if (p.is_file() or p.is_symlink()) and CACHE_FOLDER not in p.parts
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
    # what stands at a path the build writes, what the build says about it, and whether
    # only a build with --tree writes there
    "an unmarked folder at a tree's path": (
        "out/minimal/qti21",
        "out/minimal/qti21 is a folder that no build wrote (it holds no .qtiexport-tree "
        "file), and this build would replace it: move it away or choose another output folder.",
        True,
    ),
    "a folder at a zip's path": (
        "out/minimal-scorm12.zip",
        "out/minimal-scorm12.zip is a folder that is not a zip a build wrote, and this build "
        "would replace it: move it away or choose another output folder.",
        False,
    ),
    "a file at a zip's path that is no zip": (
        "out/minimal-qti21.zip",
        "out/minimal-qti21.zip is a file that is not a zip a build wrote, and this build would "
        "replace it: move it away or choose another output folder.",
        False,
    ),
    "a file where the trees' folder goes": (
        "out/minimal",
        "out/minimal is a file, not a folder, and this build would put its unzipped packages "
        "there: move it away or choose another output folder.",
        True,
    ),
}


@pytest.mark.parametrize("tree", [True, False], ids=["--tree", "zips only"])
@pytest.mark.parametrize("case", STANDING, ids=list(STANDING))
def test_a_build_replaces_nothing_that_a_build_did_not_write(run_cli, course, case, tree) -> None:
    standing, message, only_with_trees = STANDING[case]
    target = course.parent / standing
    if standing.endswith("qti21.zip") or standing.endswith("/minimal"):
        target.parent.mkdir(parents=True)
        target.write_text("an author's notes\n")
    else:
        (target / "images").mkdir(parents=True)
        (target / "notes.md").write_text("an author's notes\n")
        (target / "images" / "x.png").write_bytes(b"\x89PNG")
    before = files_of(course.parent)
    result = run_cli("build", "course", "-o", "out", *(["--tree"] if tree else []))
    if tree or not only_with_trees:
        assert usage_error(result) == message
        assert files_of(course.parent) == before
    else:  # a build writing only the zips leaves what stands where trees go alone
        assert result.exit_code == 0, result.output
        assert "removed" not in result.stdout
        after = files_of(course.parent)
        assert {name: after[name] for name in before} == before
        assert set(after) - set(before) == {"out/minimal-qti21.zip", "out/minimal-scorm12.zip"}


def test_a_link_where_the_trees_go_is_refused_and_the_course_kept(run_cli, course) -> None:
    """The attack of issue 10: a course id and -o such that <out>/<id>/<target> is a folder
    of the course, here through a link named as the course id."""
    (course / "cases" / "qti21").mkdir()
    (course / "cases" / "qti21" / "notes.md").write_text("an author's notes\n")
    (course.parent / "out").mkdir()
    (course.parent / "out" / "minimal").symlink_to(course / "cases")
    before = files_of(course)
    assert usage_error(run_cli("build", "course", "-o", "out", "--tree")) == (
        "out/minimal is a symbolic link, not a folder, and this build would put its unzipped "
        "packages there: move it away or choose another output folder."
    )
    assert files_of(course) == before
    # Writing only the zips, the build goes nowhere near the link.
    assert run_cli("build", "course", "-o", "out").exit_code == 0
    assert files_of(course) == before
    assert (course.parent / "out" / "minimal").is_symlink()


def zip_facts(out: Path, target: str) -> tuple[int, str]:
    """The number of files in the minimal course's zip of `target`, and its size as shown."""
    path = out / f"minimal-{target}.zip"
    with zipfile.ZipFile(path) as archive:
        return len(archive.namelist()), f"{path.stat().st_size / 1024:.0f}"


def test_a_build_without_tree_writes_the_two_zips_and_nothing_else(
    run_cli, course, monkeypatch
) -> None:
    monkeypatch.delenv("QTIEXPORT_SCHEMAS", raising=False)  # the default: the bundled copy
    result = run_cli("build", "course", "-o", "out")
    assert result.exit_code == 0, result.output
    (scorm, scorm_kib), (qti, qti_kib) = (zip_facts(course.parent / "out", t) for t in TARGETS)
    assert result.stdout.splitlines() == [
        f"wrote out/minimal-scorm12.zip ({scorm} files, {scorm_kib} KiB)",
        f"wrote out/minimal-qti21.zip ({qti} files, {qti_kib} KiB)",
        "all documents valid against the official schemas (bundled schemas)",
    ]
    assert sorted(files_of(course.parent / "out")) == ["minimal-qti21.zip", "minimal-scorm12.zip"]


def test_a_build_with_tree_writes_each_package_unzipped_beside_its_zip(
    run_cli, course, monkeypatch
) -> None:
    monkeypatch.delenv("QTIEXPORT_SCHEMAS", raising=False)  # the default: the bundled copy
    result = run_cli("build", "course", "-o", "out", "--tree")
    assert result.exit_code == 0, result.output
    out = course.parent / "out"
    (scorm, scorm_kib), (qti, qti_kib) = (zip_facts(out, t) for t in TARGETS)
    assert result.stdout.splitlines()[:2] == [
        f"wrote out/minimal-scorm12.zip ({scorm} files, {scorm_kib} KiB) and out/minimal/scorm12/",
        f"wrote out/minimal-qti21.zip ({qti} files, {qti_kib} KiB) and out/minimal/qti21/",
    ]
    for target in TARGETS:
        with zipfile.ZipFile(out / f"minimal-{target}.zip") as archive:
            in_zip = {name: archive.read(name) for name in archive.namelist()}
        tree = files_of(out / "minimal" / target)
        assert tree.pop(TREE_MARKER) == TREE_MARKER_TEXT
        assert tree == in_zip
    # The zips are the same bytes with trees or without.
    assert run_cli("build", "course", "-o", "zips-only").exit_code == 0
    for target in TARGETS:
        name = f"minimal-{target}.zip"
        assert (out / name).read_bytes() == (course.parent / "zips-only" / name).read_bytes()


def test_a_build_without_tree_removes_the_trees_that_no_longer_match_its_zips(
    run_cli, course, monkeypatch
) -> None:
    """A tree left from an earlier --tree build would show an author the old package: the
    next build of that package without --tree takes it away in the same commit, and only
    the trees a build wrote, of the packages it builds."""
    monkeypatch.delenv("QTIEXPORT_SCHEMAS", raising=False)  # the default: the bundled copy
    out = course.parent / "out"
    assert run_cli("build", "course", "-o", "out", "--tree").exit_code == 0
    (out / "minimal" / "notes.txt").write_text("an author's notes\n")
    result = run_cli("build", "course", "-o", "out", "--target", "qti21")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "removed out/minimal/qti21/: an earlier build's unzipped tree, which would no longer "
        "match the zip (add --tree to write it anew)",
        "all documents valid against the official schemas (bundled schemas)",
    ]
    # The SCORM zip was not rebuilt, so its tree still matches it and stays.
    assert sorted(p.name for p in (out / "minimal").iterdir()) == ["notes.txt", "scorm12"]
    (out / "minimal" / "notes.txt").unlink()
    result = run_cli("build", "course", "-o", "out")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[2] == (
        "removed out/minimal/scorm12/: an earlier build's unzipped tree, which would no longer "
        "match the zip (add --tree to write it anew)"
    )
    # The trees' folder went with its last tree: the output is a zips-only build's.
    assert sorted(p.name for p in out.iterdir()) == [
        CACHE_FOLDER,
        "minimal-qti21.zip",
        "minimal-scorm12.zip",
    ]
    again = run_cli("build", "course", "-o", "out")
    assert again.exit_code == 0 and "removed" not in again.stdout


def test_a_tree_reached_through_a_link_is_never_removed(run_cli, course) -> None:
    """A build's own trees, in another output folder that `out/minimal` links to: not this
    output's, so a zips-only build into `out` leaves them as they are."""
    assert run_cli("build", "course", "-o", "elsewhere", "--tree").exit_code == 0
    before = files_of(course.parent / "elsewhere")
    (course.parent / "out").mkdir()
    (course.parent / "out" / "minimal").symlink_to(course.parent / "elsewhere" / "minimal")
    result = run_cli("build", "course", "-o", "out")
    assert result.exit_code == 0, result.output
    assert "removed" not in result.stdout
    assert files_of(course.parent / "elsewhere") == before


def test_a_build_replaces_its_own_packages_and_keeps_the_files_beside_them(run_cli, course) -> None:
    out = course.parent / "out"
    (out / "minimal").mkdir(parents=True)
    (out / "README.txt").write_text("kept\n")
    (out / "minimal" / "notes.txt").write_text("kept too\n")
    for _ in range(2):
        result = run_cli("build", "course", "-o", "out", "--tree")
        assert result.exit_code == 0, result.output
    tree = out / "minimal" / "qti21"
    assert (tree / TREE_MARKER).read_bytes() == TREE_MARKER_TEXT
    for target in ("qti21", "scorm12"):
        with zipfile.ZipFile(out / f"minimal-{target}.zip") as archive:
            assert not any(TREE_MARKER in name for name in archive.namelist())
    assert sorted(p.name for p in out.iterdir()) == [
        CACHE_FOLDER,
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
        if len(calls) == 3:  # after the journal, the first zip is in, the second not yet
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

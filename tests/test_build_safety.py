"""Builds are reproducible anywhere, survive being killed, replace both packages or neither,
one at a time, and keep author text as data."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from lxml import etree

from qtiexport.build import TARGETS, build_course
from qtiexport.cache import CACHE_FOLDER
from qtiexport.package import (
    LOCK_NAME,
    TEMP_PREFIX,
    CommitIncomplete,
    PackageError,
    recover_interrupted_commit,
)
from qtiexport.scorm import player_assets
from qtiexport.validate import validate_course

from conftest import CONTENT, REPO
from test_properties import as_markdown

ZIPS = ("msk-teaching-cases-qti21.zip", "msk-teaching-cases-scorm12.zip")


def run_build(args: list[str], cwd: Path, env: dict[str, str] | None = None, umask: int = 0o022):
    environment = {**os.environ, **(env or {})}
    environment.pop("QTIEXPORT_SCHEMAS", None)
    return subprocess.run(
        [sys.executable, "-m", "qtiexport", "build", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.umask(umask),
    )


def copy_in_reverse_order(source: Path, target: Path) -> None:
    """The same files, created in the opposite order (a different directory order)."""
    files = sorted((p for p in source.rglob("*") if p.is_file()), reverse=True)
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def test_builds_are_byte_identical_across_environments(tmp_path: Path) -> None:
    first = run_build(
        [str(CONTENT), "-o", str(tmp_path / "a")],
        cwd=REPO,
        env={"TZ": "UTC", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0"},
    )
    assert first.returncode == 0, first.stderr
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "work").mkdir(parents=True)
    copy_in_reverse_order(CONTENT, elsewhere / "course")
    second = run_build(
        ["../course", "-o", "../out"],
        cwd=elsewhere / "work",
        env={"TZ": "Pacific/Kiritimati", "LC_ALL": "C", "LANG": "C", "PYTHONHASHSEED": "4242"},
        umask=0o077,
    )
    assert second.returncode == 0, second.stderr
    for name in ZIPS:
        assert (tmp_path / "a" / name).read_bytes() == (elsewhere / "out" / name).read_bytes()
        with zipfile.ZipFile(tmp_path / "a" / name) as archive:
            for info in archive.infolist():
                assert info.filename == os.path.normpath(info.filename).replace(os.sep, "/")
                assert not info.filename.startswith(("/", "../")) and not info.is_dir()
                assert info.external_attr >> 16 == 0o100644
                assert info.date_time == (2000, 1, 1, 0, 0, 0)


@pytest.mark.parametrize(
    ("umask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)]
)
def test_the_trees_get_the_permissions_of_the_users_own_files(
    tmp_path: Path, umask: int, folder_mode: int, file_mode: int
) -> None:
    """Every folder of the unzipped trees, their own included, is made as the user's
    folders are (0o777 less the umask), and every file as theirs (0o666 less it)."""
    done = run_build([str(CONTENT), "-o", str(tmp_path / "out"), "--tree"], cwd=REPO, umask=umask)
    assert done.returncode == 0, done.stderr
    trees = tmp_path / "out" / "msk-teaching-cases"
    folders = [trees, *(p for p in trees.rglob("*") if p.is_dir())]
    files = [p for p in trees.rglob("*") if p.is_file()]
    assert {trees / "qti21", trees / "scorm12", trees / "scorm12" / "qti"} <= set(folders)
    assert len(files) > 30
    assert {f"{p.relative_to(trees)}": oct(p.stat().st_mode & 0o777) for p in folders} == {
        f"{p.relative_to(trees)}": oct(folder_mode) for p in folders
    }
    assert {f"{p.relative_to(trees)}": oct(p.stat().st_mode & 0o777) for p in files} == {
        f"{p.relative_to(trees)}": oct(file_mode) for p in files
    }


def test_source_date_epoch_sets_every_timestamp(tmp_path: Path) -> None:
    epoch = 1700000000  # 2023-11-14T22:13:20Z
    done = run_build(
        [str(CONTENT), "-o", str(tmp_path)], cwd=REPO, env={"SOURCE_DATE_EPOCH": str(epoch)}
    )
    assert done.returncode == 0, done.stderr
    for name in ZIPS:
        with zipfile.ZipFile(tmp_path / name) as archive:
            assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_a_killed_build_never_damages_the_previous_package(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.generate_course import generate_course

    course = tmp_path / "course"
    generate_course(course, cases=6, questions=50, images=2, seed=7)  # long enough to kill
    out = tmp_path / "out"
    assert run_build([str(course), "-o", str(out)], cwd=tmp_path).returncode == 0
    zips = sorted(out.glob("*.zip"))
    before = {z: z.read_bytes() for z in zips}
    environment = {**os.environ}
    environment.pop("QTIEXPORT_SCHEMAS", None)
    killed_while_writing = 0
    for attempt in range(8):
        process = subprocess.Popen(
            [sys.executable, "-m", "qtiexport", "build", str(course), "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=environment,
        )
        # Wait until packaging has begun (a temporary file exists), then kill at a
        # different moment each time.
        deadline = time.monotonic() + 60
        while not any(out.rglob(TEMP_PREFIX + "*")) and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.001)
        time.sleep(attempt * 0.04)
        if process.poll() is None:
            killed_while_writing += 1
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path, data in before.items():
            assert path.read_bytes() == data, f"attempt {attempt}: {path.name} changed"
    assert killed_while_writing >= 4
    # The next build cleans up what the killed ones left and writes whole packages.
    assert run_build([str(course), "-o", str(out)], cwd=tmp_path).returncode == 0
    assert not list(out.rglob(TEMP_PREFIX + "*"))
    for path, data in before.items():
        assert path.read_bytes() == data
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None


PAYLOADS = [
    "</script><script>alert(1)</script>",
    "]]><evil/>",
    '"><img src=x onerror=alert(1)>',
    "&amp; &lt;b&gt; &#60;script&#62;",
    "</imsmd:langstring></imsmd:title><x/>",
    "{{ 7*7 }} {% if true %}",
]


def write_hostile_course(root: Path) -> None:
    payload = " | ".join(PAYLOADS)
    dump = {"allow_unicode": True, "sort_keys": False, "width": 10**6}
    (root / "cases/evil/images").mkdir(parents=True)
    shutil.copyfile(
        CONTENT / "cases/tumoral-calcinosis/images/lateral-radiograph.png",
        root / "cases/evil/images/x.png",
    )
    course = {
        "id": "hostile",
        "title": payload,
        "description": as_markdown(payload),
        "authors": [payload],
        "license": payload,
        "version": payload[:20],
        "cases": ["evil"],
    }
    case = {
        "id": "evil",
        "title": payload,
        "history": as_markdown(payload),
        "images": [
            {
                "id": "x",
                "file": "images/x.png",
                "caption": as_markdown(payload),
                "alt": payload,
                "modality": payload,
            }
        ],
        "diagnosis": as_markdown(payload),
        "keywords": PAYLOADS,
        "teaching": [{"title": payload, "body": f"`{payload}`"}],
    }
    questions = {
        "questions": [
            {
                "id": "q1",
                "type": "single",
                "stem": f"`{payload}`",
                "images": ["x"],
                "choices": {"a": as_markdown(PAYLOADS[0]), "b": f"`{PAYLOADS[1]}`"},
                "answer": "a",
                "feedback": {
                    "correct": as_markdown(payload),
                    "explanation": f"`{payload}`",
                    "choices": {"b": as_markdown(payload)},
                },
            },
            {
                "id": "q2",
                "type": "text",
                "stem": as_markdown(payload),
                "answer": [p for p in PAYLOADS if len(p) < 40],
                "max_length": 60,
            },
        ]
    }
    for name, document in (
        ("course.yaml", course),
        ("cases/evil/case.yaml", case),
        ("cases/evil/questions.yaml", questions),
    ):
        (root / name).write_text(yaml.safe_dump(document, **dump), encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    write_hostile_course(root / "content")
    done = run_build(["content", "-o", "out"], cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "out"


@pytest.mark.parametrize("target", ["qti21", "scorm12"])
def test_author_text_never_becomes_markup_in_xml(hostile_build: Path, target: str) -> None:
    with zipfile.ZipFile(hostile_build / f"hostile-{target}.zip") as archive:
        documents = [n for n in archive.namelist() if n.endswith(".xml")]
        assert "imsmanifest.xml" in documents
        seen_text = ""
        for name in documents:
            root = etree.fromstring(archive.read(name))  # well-formed, or this raises
            for element in root.iter():
                if not isinstance(element.tag, str):
                    continue
                local = etree.QName(element).localname
                assert local not in ("script", "evil", "x", "iframe"), (name, local)
                assert not any(a.lower().startswith("on") for a in element.attrib), name
            seen_text += " ".join(root.itertext()) + " ".join(
                v for e in root.iter() if isinstance(e.tag, str) for v in e.attrib.values()
            )
        for payload in PAYLOADS:
            assert payload in seen_text, payload


def test_worker_processes_write_the_same_bytes_as_one_process(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.generate_course import generate_course

    generate_course(tmp_path / "course", cases=6, questions=20, images=1, seed=11)
    zips, trees = {}, {}
    for workers in ("2", "1"):
        out = tmp_path / f"out-{workers}"
        done = run_build(
            ["course", "-o", str(out), "--tree"],
            cwd=tmp_path,
            env={"QTIEXPORT_WORKERS": workers},
        )
        assert done.returncode == 0, done.stderr
        zips[workers] = {p.name: p.read_bytes() for p in sorted(out.glob("*.zip"))}
        trees[workers] = {  # the build cache's records are pickles: not compared
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in out.rglob("*")
            if p.is_file() and CACHE_FOLDER not in p.parts
        }
    assert len(zips["2"]) == 2
    assert zips["2"] == zips["1"]
    assert len(trees["2"]) > 250 and trees["2"] == trees["1"]  # the unzipped trees too


def test_a_rebuild_links_unchanged_files_and_writes_what_changed(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(CONTENT, course)
    out = tmp_path / "out"
    assert run_build([str(course), "-o", str(out), "--tree"], cwd=tmp_path).returncode == 0
    tree = out / "msk-teaching-cases" / "qti21"
    before = {p.name: p.stat().st_ino for p in tree.glob("item-*.xml")}
    questions = course / "cases" / "tumoral-calcinosis" / "questions.yaml"
    text = questions.read_text(encoding="utf-8")
    stem = "Which is the most likely diagnosis?"
    assert text.count(stem) == 1
    questions.write_text(text.replace(stem, "What is the likeliest diagnosis?"), encoding="utf-8")
    assert run_build([str(course), "-o", str(out), "--tree"], cwd=tmp_path).returncode == 0
    after = {p.name: p.stat().st_ino for p in tree.glob("item-*.xml")}
    changed = {name for name in after if after[name] != before[name]}
    assert len(changed) == 1
    assert "What is the likeliest diagnosis?" in (tree / changed.pop()).read_text(encoding="utf-8")
    # The rebuilt packages are the bytes a build from scratch gives.
    fresh = tmp_path / "fresh"
    assert run_build([str(course), "-o", str(fresh), "--tree"], cwd=tmp_path).returncode == 0
    for name in ZIPS:
        assert (out / name).read_bytes() == (fresh / name).read_bytes()
    for path in (fresh / "msk-teaching-cases").rglob("*"):
        if path.is_file():
            rebuilt = out / path.relative_to(fresh)
            assert rebuilt.read_bytes() == path.read_bytes()


MINIMAL = REPO / "tests" / "fixtures" / "minimal"


def two_versions(tmp_path: Path) -> tuple[Path, Path]:
    """The minimal course and a copy that differs in one title: two builds that differ."""
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(MINIMAL, first)
    shutil.copytree(MINIMAL, second)
    case = second / "cases" / "c1" / "case.yaml"
    case.write_text(case.read_text().replace("A small case", "A changed case"))
    return first, second


def everything(out: Path) -> dict[str, bytes]:
    """Every file under `out`, hidden ones too: the packages and anything left beside them,
    but the build cache (its records are pickles; tests/test_build_cache.py checks it)."""
    if not out.exists():
        return {}
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and CACHE_FOLDER not in p.relative_to(out).parts
    }


def packages(out: Path) -> dict[str, bytes]:
    """The zips and trees under `out`, without the temporary files of a killed build."""
    return {
        name: data
        for name, data in everything(out).items()
        if not any(part.startswith(TEMP_PREFIX) for part in name.split("/"))
    }


# What stands in the output folder before (None: nothing, else whether the trees too), what
# the build writes (whether the trees too), and the renames of its commit, journal included.
COMMITS = {
    "first build, zips": (None, False, 3),  # journal, 2 zips in
    "first build, trees": (None, True, 5),  # journal, 2 new trees and 2 zips in
    "rebuild, zips": (False, False, 3),
    "rebuild, trees": (True, True, 7),  # journal, 2 old trees aside, 2 new trees, 2 zips
    "zips after trees": (True, False, 5),  # journal, 2 stale trees aside, 2 zips in
    "trees after zips": (False, True, 5),
}


@pytest.mark.parametrize("commit", COMMITS, ids=list(COMMITS))
def test_a_commit_that_fails_at_any_rename_leaves_the_previous_packages(
    tmp_path: Path, monkeypatch, commit: str
) -> None:
    previous_trees, trees, renames = COMMITS[commit]
    first, second = two_versions(tmp_path)
    out = tmp_path / "out"
    if previous_trees is not None:
        build_course(validate_course(first), out, TARGETS, None, trees=previous_trees)
    before = everything(out)
    # Both zips, and both trees with their markers: the SCORM tree holds every player file.
    expected = {None: 0, False: 2, True: 20 + len(player_assets())}[previous_trees]
    assert len(before) == expected
    changed = validate_course(second)
    real_replace = os.replace
    failing = 1
    while True:
        calls = 0

        def replace(source, destination, at: int = failing) -> None:
            nonlocal calls
            calls += 1
            if calls == at:
                raise OSError(errno.EIO, "injected failure")
            real_replace(source, destination)

        monkeypatch.setattr(os, "replace", replace)
        try:
            build_course(changed, out, TARGETS, None, trees=trees)
        except PackageError as error:
            assert str(error) == "putting the packages in place failed: [Errno 5] injected failure"
            # Both zips (and trees) as they were, and nothing else: no journal, no lock,
            # no temporary file; a first build leaves no output folder at all.
            assert everything(out) == before, f"rename {failing} failed"
            assert out.exists() == (previous_trees is not None)
            failing += 1
            continue
        finally:
            monkeypatch.setattr(os, "replace", real_replace)
        break
    assert failing - 1 == renames
    fresh = tmp_path / "fresh"
    build_course(changed, fresh, TARGETS, None, trees=trees)
    assert everything(out) == everything(fresh) != before
    # Without trees, no tree of the earlier build is left, nor the folder that held them.
    assert (out / "minimal").exists() == trees


def test_when_putting_back_fails_too_the_next_build_puts_the_packages_back(
    tmp_path: Path, monkeypatch
) -> None:
    first, second = two_versions(tmp_path)
    out = tmp_path / "out"
    build_course(validate_course(first), out, TARGETS, None, trees=True)
    before = everything(out)
    real_replace = os.replace
    calls = 0

    def replace(source, destination) -> None:
        nonlocal calls
        calls += 1
        if calls in (6, 7):  # the second tree going in, and the first step of undoing
            raise OSError(errno.EIO, "injected failure")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(CommitIncomplete) as failed:
        build_course(validate_course(second), out, TARGETS, None, trees=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert str(failed.value) == (
        "putting the packages in place failed ([Errno 5] injected failure), and so did "
        "putting the previous ones back ([Errno 5] injected failure); the next build into "
        f"{out.as_posix()}/ puts them back"
    )
    assert packages(out) != before  # half of each: what the journal is for
    assert recover_interrupted_commit(out)  # as the next build does first
    assert everything(out) == before


# Runs `qtiexport` and ends the process at once, as a kill would, at the Nth rename.
KILLED_AT_A_RENAME = """
import os, sys
from qtiexport.cli import main
real, calls, at = os.replace, [0], int(os.environ["KILL_AT_RENAME"])
def replace(source, destination):
    calls[0] += 1
    if calls[0] == at:
        os._exit(9)
    real(source, destination)
os.replace = replace
main()
"""


KILLED_COMMITS = {
    name: COMMITS[name]
    for name in ("first build, zips", "first build, trees", "rebuild, trees", "zips after trees")
}


@pytest.mark.parametrize("commit", KILLED_COMMITS, ids=list(KILLED_COMMITS))
def test_a_build_killed_at_any_rename_is_undone_by_the_next(tmp_path: Path, commit: str) -> None:
    previous_trees, trees, renames = KILLED_COMMITS[commit]
    tree_option = ["--tree"] if trees else []
    first, second = two_versions(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(second, broken)
    (broken / "course.yaml").write_text((broken / "course.yaml").read_text().replace("title", "x"))
    pristine = tmp_path / "pristine"
    if previous_trees is not None:
        earlier = [str(first), "-o", str(pristine), *(["--tree"] if previous_trees else [])]
        assert run_build(earlier, cwd=tmp_path).returncode == 0
    before = everything(pristine)
    fresh = tmp_path / "fresh"
    assert run_build([str(second), "-o", str(fresh), *tree_option], cwd=tmp_path).returncode == 0
    environment = {k: v for k, v in os.environ.items() if k != "QTIEXPORT_SCHEMAS"}
    for rename in range(1, renames + 1):
        out = tmp_path / f"out-{rename}"
        if previous_trees is not None:
            shutil.copytree(pristine, out)
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_AT_A_RENAME, "build", str(second), "-o", str(out)]
            + tree_option,
            env={**environment, "KILL_AT_RENAME": str(rename)},
            capture_output=True,
            timeout=120,
        )
        assert killed.returncode == 9, killed.stderr  # killed in its commit, at that rename
        # The next build puts the previous packages back before anything else, even one
        # that then stops at an error in the course.
        failed = run_build([str(broken), "-o", str(out)], cwd=tmp_path)
        assert failed.returncode == 1, failed.stderr
        assert packages(out) == before, f"killed at rename {rename}"
        if rename > 1:  # the journal was written: the killed build's files are gone too
            assert everything(out) == before
        assert run_build([str(second), "-o", str(out), *tree_option], cwd=tmp_path).returncode == 0
        assert everything(out) == everything(fresh)


# Runs `qtiexport`, and inside the commit waits until the file named by HOLD_UNTIL exists.
HELD_IN_ITS_COMMIT = """
import os, sys, time
from pathlib import Path
import qtiexport.build
from qtiexport.cli import main
commit = qtiexport.build.commit_packages
def held(*arguments):
    Path(os.environ["HOLDING"]).write_text("in the commit")
    deadline = time.monotonic() + 60
    while not Path(os.environ["HOLD_UNTIL"]).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return commit(*arguments)
qtiexport.build.commit_packages = held
main()
"""


def test_a_second_build_into_the_same_folder_stops_while_the_first_writes(
    tmp_path: Path,
) -> None:
    first, second = two_versions(tmp_path)
    out = tmp_path / "out"
    assert run_build([str(first), "-o", "out"], cwd=tmp_path).returncode == 0
    before = everything(out)
    holding, release = tmp_path / "holding", tmp_path / "release"
    environment = {k: v for k, v in os.environ.items() if k != "QTIEXPORT_SCHEMAS"}
    environment.update(HOLDING=str(holding), HOLD_UNTIL=str(release))
    writer = subprocess.Popen(
        [sys.executable, "-c", HELD_IN_ITS_COMMIT, "build", str(second), "-o", "out"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not holding.exists():
            assert writer.poll() is None and time.monotonic() < deadline, writer.stderr.read()
            time.sleep(0.01)
        # A second build, of either version, while the first is writing.
        for course in (first, second):
            stopped = run_build([str(course), "-o", "out"], cwd=tmp_path)
            assert stopped.returncode == 1
            assert stopped.stderr.splitlines()[-1] == (
                f"build stopped: another qtiexport build (pid {writer.pid}) is writing into "
                "out/; wait for it to finish, or choose another output folder with -o"
            )
            # The second touched nothing: the first one's lock, the previous packages.
            now = packages(out)
            assert now.pop(LOCK_NAME) == f"{writer.pid}\n".encode()
            assert now == before
    finally:
        release.write_text("go on")
        stdout, stderr = writer.communicate(timeout=120)
    assert writer.returncode == 0, stderr
    # The first build's packages, complete: the bytes a build of its own gives.
    fresh = tmp_path / "fresh"
    assert run_build([str(second), "-o", str(fresh)], cwd=tmp_path).returncode == 0
    assert everything(out) == everything(fresh)
    # The lock went with the build: the next one runs.
    assert run_build([str(first), "-o", "out"], cwd=tmp_path).returncode == 0
    assert everything(out) == before

"""Builds are reproducible anywhere, survive being killed, and keep author text as data."""

from __future__ import annotations

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

from qtiexport.package import TEMP_PREFIX

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
            ["course", "-o", str(out)], cwd=tmp_path, env={"QTIEXPORT_WORKERS": workers}
        )
        assert done.returncode == 0, done.stderr
        zips[workers] = {p.name: p.read_bytes() for p in sorted(out.glob("*.zip"))}
        trees[workers] = {
            p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
        }
    assert len(zips["2"]) == 2
    assert zips["2"] == zips["1"]
    assert len(trees["2"]) > 250 and trees["2"] == trees["1"]  # the unzipped trees too


def test_a_rebuild_links_unchanged_files_and_writes_what_changed(tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(CONTENT, course)
    out = tmp_path / "out"
    assert run_build([str(course), "-o", str(out)], cwd=tmp_path).returncode == 0
    tree = out / "msk-teaching-cases" / "qti21"
    before = {p.name: p.stat().st_ino for p in tree.glob("item-*.xml")}
    questions = course / "cases" / "tumoral-calcinosis" / "questions.yaml"
    text = questions.read_text(encoding="utf-8")
    stem = "Which is the most likely diagnosis?"
    assert text.count(stem) == 1
    questions.write_text(text.replace(stem, "What is the likeliest diagnosis?"), encoding="utf-8")
    assert run_build([str(course), "-o", str(out)], cwd=tmp_path).returncode == 0
    after = {p.name: p.stat().st_ino for p in tree.glob("item-*.xml")}
    changed = {name for name in after if after[name] != before[name]}
    assert len(changed) == 1
    assert "What is the likeliest diagnosis?" in (tree / changed.pop()).read_text(encoding="utf-8")
    # The rebuilt packages are the bytes a build from scratch gives.
    fresh = tmp_path / "fresh"
    assert run_build([str(course), "-o", str(fresh)], cwd=tmp_path).returncode == 0
    for name in ZIPS:
        assert (out / name).read_bytes() == (fresh / name).read_bytes()
    for path in (fresh / "msk-teaching-cases").rglob("*"):
        if path.is_file():
            rebuilt = out / path.relative_to(fresh)
            assert rebuilt.read_bytes() == path.read_bytes()

"""The package writer: safe entry names, atomic replacement, no leftovers."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qtiexport.package import (
    TEMP_PREFIX,
    PackageError,
    PackageWriter,
    TreeWriter,
    check_entry_name,
)


@pytest.mark.parametrize(
    "name",
    ["/etc/passwd", "../x", "a/../b", "a//b", "./a", "a\\b", "C:/x", "c:x", "", "a/", "a/./b"],
)
def test_unsafe_entry_names_are_refused(name: str) -> None:
    with pytest.raises(PackageError):
        check_entry_name(name)


def test_plain_relative_names_pass() -> None:
    assert check_entry_name("qti/items/q1.xml") == "qti/items/q1.xml"


def test_names_differing_only_in_case_are_refused(tmp_path: Path) -> None:
    writer = PackageWriter(tmp_path / "p.zip", tmp_path / "p")
    writer.add("images/X.png", b"1")
    with pytest.raises(PackageError):
        writer.add("images/x.png", b"2")
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_commit_replaces_zip_and_tree_and_discard_leaves_nothing(tmp_path: Path) -> None:
    first = PackageWriter(tmp_path / "p.zip", tmp_path / "p")
    first.add("a.txt", b"one")
    assert first.commit() == 1
    second = PackageWriter(tmp_path / "p.zip", tmp_path / "p")
    second.add("b/c.txt", b"two")
    assert any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())
    second.discard()  # a failed build: the first package stays
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert archive.namelist() == ["a.txt"]
    assert (tmp_path / "p" / "a.txt").read_bytes() == b"one"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p", "p.zip"]
    third = PackageWriter(tmp_path / "p.zip", tmp_path / "p")
    third.add("b/c.txt", b"two")
    third.commit()
    assert not (tmp_path / "p" / "a.txt").exists()
    assert (tmp_path / "p" / "b" / "c.txt").read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p", "p.zip"]


def test_a_failed_first_build_removes_the_folders_it_created(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "notes.txt").write_text("the user's")
    writer = PackageWriter(tmp_path / "build" / "c-qti21.zip", tmp_path / "build" / "c" / "qti21")
    writer.add("a.txt", b"one")
    writer.discard()
    assert sorted(p.name for p in (tmp_path / "build").iterdir()) == ["notes.txt"]
    fresh = PackageWriter(tmp_path / "out" / "c.zip", tmp_path / "out" / "c" / "qti21")
    fresh.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]


def test_tree_writer_links_repeated_files_or_copies_them(tmp_path: Path, monkeypatch) -> None:
    qti, scorm = TreeWriter(tmp_path / "qti21"), TreeWriter(tmp_path / "scorm12")
    written = qti.write("item-q1.xml", b"<item/>")
    scorm.write_same("qti/item-q1.xml", b"<item/>", written)
    linked = tmp_path / "scorm12" / "qti" / "item-q1.xml"
    assert linked.read_bytes() == b"<item/>"
    assert linked.stat().st_ino == Path(written).stat().st_ino

    def no_links(source: str, target: str) -> None:
        raise OSError("this file system has no hard links")

    monkeypatch.setattr("os.link", no_links)
    written = qti.write("item-q2.xml", b"<item2/>")
    scorm.write_same("qti/item-q2.xml", b"<item2/>", written)
    copied = tmp_path / "scorm12" / "qti" / "item-q2.xml"
    assert copied.read_bytes() == b"<item2/>"
    assert copied.stat().st_ino != Path(written).stat().st_ino


def test_tree_writer_refuses_unsafe_names_before_writing(tmp_path: Path) -> None:
    with pytest.raises(PackageError):
        TreeWriter(tmp_path / "tree").write("../outside.txt", b"x")
    assert not (tmp_path / "outside.txt").exists()

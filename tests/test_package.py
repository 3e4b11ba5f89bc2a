"""The package writer: safe entry names, atomic replacement, marked trees, no leftovers,
one build at a time."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from qtiexport.package import (
    JOURNAL_NAME,
    LOCK_NAME,
    TEMP_PREFIX,
    TREE_MARKER,
    TREE_MARKER_TEXT,
    OutputBusy,
    OutputLock,
    PackageError,
    PackageWriter,
    TreeWriter,
    check_entry_name,
    commit_packages,
    is_marked_tree,
    pack,
    recover_interrupted_commit,
    remove_leftovers,
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


def test_a_writer_without_a_tree_writes_the_zip_alone(tmp_path: Path) -> None:
    writer = PackageWriter(tmp_path / "p.zip")
    writer.add("b/c.txt", b"two")
    (temporary,) = tmp_path.iterdir()  # the zip being written, and no folder
    assert temporary.name.startswith(TEMP_PREFIX) and temporary.is_file()
    assert writer.commit() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.zip"]
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert archive.read("b/c.txt") == b"two"


def test_a_commit_takes_away_only_the_stale_trees_a_build_wrote(tmp_path: Path) -> None:
    first = PackageWriter(tmp_path / "p.zip", tmp_path / "trees" / "p")
    first.add("a.txt", b"one")
    first.commit()
    unmarked = tmp_path / "trees" / "q"  # an author's folder where a tree could go
    unmarked.mkdir()
    (unmarked / "notes.md").write_text("an author's")
    second = PackageWriter(tmp_path / "p.zip")
    second.add("a.txt", b"two")
    removed = commit_packages([second], tmp_path, [tmp_path / "trees" / "p", unmarked])
    assert removed == [tmp_path / "trees" / "p"]
    assert sorted(p.name for p in (tmp_path / "trees").iterdir()) == ["q"]
    assert (unmarked / "notes.md").read_text() == "an author's"
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert archive.read("a.txt") == b"two"


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


def written_package(tmp_path: Path, files: dict[str, bytes]) -> Path:
    writer = PackageWriter(tmp_path / "p.zip", tmp_path / "p")
    for name, data in files.items():
        writer.add(name, data)
    writer.commit()
    return tmp_path / "p.zip"


SAMPLE = {
    "imsmanifest.xml": b"<manifest>" + b"<resource/>" * 500 + b"</manifest>",
    "media/case/Ca+ deposit #2 \u2013 r\u00f6ntgen.png": random.Random(1).randbytes(1024),
    "empty.txt": b"",
}


def test_zipfile_reads_back_every_file_with_its_facts(tmp_path: Path) -> None:
    with zipfile.ZipFile(written_package(tmp_path, SAMPLE)) as archive:
        assert archive.testzip() is None  # every CRC matches
        assert archive.namelist() == list(SAMPLE)
        for info in archive.infolist():
            assert archive.read(info) == SAMPLE[info.filename]
            assert info.external_attr >> 16 == 0o100644
            assert info.create_system == 3
            assert info.date_time == (2000, 1, 1, 0, 0, 0)
        methods = {i.filename: i.compress_type for i in archive.infolist()}
    # Text is deflated; bytes that deflate cannot shrink are stored as they are.
    assert methods["imsmanifest.xml"] == zipfile.ZIP_DEFLATED
    assert methods["media/case/Ca+ deposit #2 \u2013 r\u00f6ntgen.png"] == zipfile.ZIP_STORED
    assert (tmp_path / "p" / "media" / "case" / "Ca+ deposit #2 \u2013 r\u00f6ntgen.png").exists()


@pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip is not installed")
def test_unzip_tests_the_archive_clean(tmp_path: Path) -> None:
    checked = subprocess.run(
        ["unzip", "-t", str(written_package(tmp_path, SAMPLE))], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No errors detected" in checked.stdout


def test_more_than_65535_files_get_zip64_records(tmp_path: Path) -> None:
    count = 70_000
    writer = PackageWriter(tmp_path / "p.zip", tmp_path / "p")
    for n in range(count):  # packed already and "in the tree": only the zip is written
        writer.add_packed(f"f/{n}.txt", pack(str(n).encode()))
    writer.commit()
    data = (tmp_path / "p.zip").read_bytes()
    assert b"PK\x06\x06" in data[-200:]  # the Zip64 end of central directory record
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert len(archive.namelist()) == count
        assert archive.read("f/69999.txt") == b"69999"
    if shutil.which("unzip"):
        checked = subprocess.run(["unzip", "-tqq", str(tmp_path / "p.zip")], capture_output=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_tree_writer_links_files_unchanged_since_the_previous_tree(tmp_path: Path) -> None:
    previous = tmp_path / "previous"
    (previous / "media").mkdir(parents=True)
    (previous / "same.xml").write_bytes(b"<same/>")
    (previous / "changed.xml").write_bytes(b"<old/>")
    (previous / "media" / "x.png").symlink_to(previous / "same.xml")  # never followed
    tree = TreeWriter(tmp_path / "new", previous)
    tree.write("same.xml", b"<same/>")
    tree.write("changed.xml", b"<new/>")
    tree.write("media/x.png", b"<same/>")
    tree.write("added.xml", b"<added/>")
    new = tmp_path / "new"
    assert (new / "same.xml").stat().st_ino == (previous / "same.xml").stat().st_ino
    assert (new / "changed.xml").read_bytes() == b"<new/>"
    assert (previous / "changed.xml").read_bytes() == b"<old/>"  # the old tree is untouched
    assert (new / "changed.xml").stat().st_ino != (previous / "changed.xml").stat().st_ino
    assert not (new / "media" / "x.png").is_symlink()
    assert (new / "media" / "x.png").stat().st_ino != (previous / "same.xml").stat().st_ino
    assert (new / "added.xml").read_bytes() == b"<added/>"


def test_trees_carry_the_marker_and_the_zips_do_not(tmp_path: Path) -> None:
    writer = PackageWriter(tmp_path / "p.zip", tmp_path / "p")
    writer.add("a.txt", b"one")
    with pytest.raises(PackageError):
        writer.add(TREE_MARKER, b"a file of the package may not take the marker's name")
    writer.commit()
    assert (tmp_path / "p" / TREE_MARKER).read_bytes() == TREE_MARKER_TEXT
    assert is_marked_tree(tmp_path / "p")
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert archive.namelist() == ["a.txt"]


def test_leftover_removal_takes_only_temporary_names_and_follows_no_link(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("an author's")
    out = tmp_path / "out"
    (out / f"{TEMP_PREFIX}tree" / "sub").mkdir(parents=True)
    (out / f"{TEMP_PREFIX}x.zip").write_bytes(b"PK")
    (out / f"{TEMP_PREFIX}link").symlink_to(keep)
    (out / "tmp-notes").mkdir()
    (out / "qtiexport-tmp-notes.txt").write_text("not ours: no leading dot")
    remove_leftovers(out)
    assert sorted(p.name for p in out.iterdir()) == ["qtiexport-tmp-notes.txt", "tmp-notes"]
    assert (keep / "notes.txt").read_text() == "an author's"


def test_a_journal_that_points_out_of_the_folder_moves_nothing(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("an author's")
    journal = {"moves": [{"final": "../elsewhere", "new": f"{TEMP_PREFIX}a", "kept": None}]}
    journal["moves"][0]["tree"] = True
    (out / JOURNAL_NAME).write_text(json.dumps(journal))
    with pytest.raises(PackageError, match="is not a journal a build wrote; remove it"):
        recover_interrupted_commit(out)
    assert (elsewhere / "notes.txt").read_text() == "an author's"
    journal = {"moves": [{"final": "p", "new": "notes", "kept": None, "tree": True}]}
    (out / JOURNAL_NAME).write_text(json.dumps(journal))  # "new" is no temporary name
    with pytest.raises(PackageError, match="is not a journal a build wrote; remove it"):
        recover_interrupted_commit(out)
    # Only a tree that was kept aside may go away with nothing in its place.
    for move in (
        {"final": "p.zip", "new": None, "kept": f"{TEMP_PREFIX}a/previous.zip", "tree": False},
        {"final": "p", "new": None, "kept": None, "tree": True},
    ):
        (out / JOURNAL_NAME).write_text(json.dumps({"moves": [move]}))
        with pytest.raises(PackageError, match="is not a journal a build wrote; remove it"):
            recover_interrupted_commit(out)


def test_a_second_lock_on_the_output_folder_is_refused_with_the_holders_pid(
    tmp_path: Path,
) -> None:
    with OutputLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text() == f"{os.getpid()}\n"
        with pytest.raises(OutputBusy) as refused, OutputLock(tmp_path):
            pass
        assert refused.value.holder == str(os.getpid())
    assert not (tmp_path / LOCK_NAME).exists()  # the lock goes with the build
    with OutputLock(tmp_path):
        pass


@pytest.mark.parametrize("block", [7, 1024 * 1024])
def test_an_image_is_copied_in_blocks_stored_and_read_once_for_both_zips(
    tmp_path: Path, monkeypatch, block: int
) -> None:
    import qtiexport.package as package

    monkeypatch.setattr(package, "COPY_BLOCK", block)
    image = tmp_path / "scan.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(5000))  # would deflate to almost nothing
    reads = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        reads.append(Path(path))
        return real_open(path, *args, **kwargs)

    writers = [package.PackageWriter(tmp_path / "out" / f"{name}.zip") for name in ("one", "two")]
    monkeypatch.setattr("builtins.open", counting_open)
    package.add_source_file(
        [(writers[0], "media/scan.png"), (writers[1], "qti/media/scan.png")], image
    )
    monkeypatch.setattr("builtins.open", real_open)
    assert reads.count(image) == 1
    for writer, name in zip(writers, ["media/scan.png", "qti/media/scan.png"], strict=True):
        writer.add("after.txt", b"text after the image")
        writer.commit()
        with zipfile.ZipFile(writer.zip_path) as archive:
            info = archive.getinfo(name)
            assert info.compress_type == zipfile.ZIP_STORED
            assert archive.read(name) == image.read_bytes()
            assert archive.read("after.txt") == b"text after the image"
            assert archive.testzip() is None


def test_a_file_copied_in_blocks_is_the_same_bytes_as_one_added_whole(
    tmp_path: Path, monkeypatch
) -> None:
    import qtiexport.package as package

    image = tmp_path / "scan.jpg"
    image.write_bytes(b"\xff\xd8\xff" + os.urandom(3000))
    zips = {}
    for block in (100, 1024 * 1024):
        monkeypatch.setattr(package, "COPY_BLOCK", block)
        writer = package.PackageWriter(tmp_path / f"out-{block}" / "p.zip")
        package.add_source_file([(writer, "scan.jpg")], image)
        writer.commit()
        zips[block] = writer.zip_path.read_bytes()
    whole = package.PackageWriter(tmp_path / "whole" / "p.zip")
    whole.add("scan.jpg", image.read_bytes())
    whole.commit()
    assert zips[100] == zips[1024 * 1024] == whole.zip_path.read_bytes()

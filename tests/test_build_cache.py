"""The incremental build cache: a warm build gives the bytes of a cold one, redoes only the
cases that changed, and ignores a cache it cannot trust."""

from __future__ import annotations

import os
import pickle
import re
import shutil
from pathlib import Path

import pytest

from qtiexport.cache import CACHE_FOLDER, INDEX_NAME, MAC_SIZE, OBJECTS, key_path
from qtiexport.schemas import BUNDLED_FOLDER

from conftest import CONTENT

ZIPS = ("msk-teaching-cases-qti21.zip", "msk-teaching-cases-scorm12.zip")
CASES = 3


def make_course(root: Path, cases: int = CASES) -> Path:
    """The seed case copied `cases` times under different ids."""
    seed = CONTENT / "cases" / "tumoral-calcinosis"
    ids = [f"case-{n}" for n in range(cases)]
    for case_id in ids:
        folder = root / "cases" / case_id
        shutil.copytree(seed, folder)
        text = (folder / "case.yaml").read_text()
        (folder / "case.yaml").write_text(text.replace("id: tumoral-calcinosis", f"id: {case_id}"))
    course = (CONTENT / "course.yaml").read_text().split("cases:")[0]
    (root / "course.yaml").write_text(course + "cases:\n" + "".join(f"  - {i}\n" for i in ids))
    return root


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return make_course(tmp_path / "course")


@pytest.fixture(autouse=True)
def one_process(monkeypatch) -> None:
    monkeypatch.setenv("QTIEXPORT_WORKERS", "1")


def build(run_cli, course: Path, out: Path, *options: str) -> tuple[dict[str, bytes], str]:
    """Build; return the zips' bytes and standard error."""
    result = run_cli("build", str(course), "-o", str(out), *options)
    assert result.exit_code == 0, result.output + result.stderr
    return {name: (out / name).read_bytes() for name in ZIPS}, result.stderr


def reused(stderr: str) -> tuple[int, int]:
    found = re.search(r"cache: (\d+) of (\d+) cases reused", stderr)
    assert found, stderr
    return int(found[1]), int(found[2])


def cold(run_cli, course: Path, tmp_path: Path, *options: str) -> dict[str, bytes]:
    """The zips of a build without any cache, in a folder of its own."""
    out = tmp_path / f"cold-{len(list(tmp_path.glob('cold-*')))}"
    zips, _ = build(run_cli, course, out, "--no-cache", *options)
    return zips


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_warm_build_reuses_every_case_and_writes_the_same_bytes(run_cli, course, tmp_path):
    out = tmp_path / "out"
    first, stderr = build(run_cli, course, out)
    assert reused(stderr) == (0, CASES)
    second, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES, CASES)
    assert second == first == cold(run_cli, course, tmp_path)


def change_stem(course: Path) -> None:
    edit(course / "cases" / "case-1" / "questions.yaml", "stem: ", "stem: Edited. ")


def change_image(course: Path) -> None:
    image = course / "cases" / "case-1" / "images" / "lateral-radiograph.png"
    image.write_bytes(image.read_bytes() + b"trailing bytes after IEND")  # same size read


def add_case(course: Path) -> None:
    shutil.copytree(course / "cases" / "case-0", course / "cases" / "case-9")
    edit(course / "cases" / "case-9" / "case.yaml", "id: case-0", "id: case-9")
    edit(course / "course.yaml", "  - case-0\n", "  - case-0\n  - case-9\n")


def remove_case(course: Path) -> None:
    edit(course / "course.yaml", "  - case-1\n", "")


def rename_case(course: Path) -> None:
    os.rename(course / "cases" / "case-1", course / "cases" / "case-x")
    edit(course / "cases" / "case-x" / "case.yaml", "id: case-1", "id: case-x")
    edit(course / "course.yaml", "  - case-1\n", "  - case-x\n")


def change_course_title(course: Path) -> None:
    edit(course / "course.yaml", "title: ", "title: Renamed ")


# How each change shows: the cases whose documents the warm build may reuse.
CHANGES = {
    "stem": (change_stem, CASES - 1),
    "image": (change_image, CASES - 1),
    "added case": (add_case, CASES),
    "removed case": (remove_case, CASES - 1),
    "renamed case": (rename_case, CASES - 1),
    "course title": (change_course_title, 0),  # every page names the course
}


@pytest.mark.parametrize("change", CHANGES)
def test_after_a_change_only_what_it_touches_is_built_again(run_cli, course, tmp_path, change):
    out = tmp_path / "out"
    build(run_cli, course, out)
    modify, expected_reuse = CHANGES[change]
    modify(course)
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr)[0] == expected_reuse
    assert warm == cold(run_cli, course, tmp_path)


def test_targets_and_the_schema_check_are_part_of_what_a_case_is_cached_by(
    run_cli, course, tmp_path
):
    out = tmp_path / "out"
    build(run_cli, course, out)
    _, stderr = build(run_cli, course, out, "--no-schema-check")
    assert reused(stderr) == (0, CASES)  # unchecked documents never stand for checked ones
    _, stderr = build(run_cli, course, out)
    assert reused(stderr) == (0, CASES)  # the unchecked build's cache replaced the checked one
    result = run_cli("build", str(course), "-o", str(out), "--target", "qti21")
    assert result.exit_code == 0
    assert reused(result.stderr) == (0, CASES)
    zips, stderr = build(run_cli, course, out)
    assert reused(stderr) == (0, CASES)
    assert zips == cold(run_cli, course, tmp_path)


def test_no_cache_builds_every_case_and_leaves_a_cache_for_the_next(run_cli, course, tmp_path):
    out = tmp_path / "out"
    build(run_cli, course, out)
    _, stderr = build(run_cli, course, out, "--no-cache")
    assert reused(stderr) == (0, CASES)
    _, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES, CASES)


def test_the_cache_holds_only_what_the_latest_build_used(run_cli, course, tmp_path):
    out = tmp_path / "out"
    build(run_cli, course, out)
    objects = out / CACHE_FOLDER / OBJECTS
    before = sorted(p.name for p in objects.iterdir())
    assert len(before) == 2 * CASES  # a model and the documents of each case
    for n in range(4):
        edit(course / "cases" / "case-1" / "questions.yaml", "stem: ", f"stem: {n} ")
        build(run_cli, course, out)
    after = sorted(p.name for p in objects.iterdir())
    assert len(after) == 2 * CASES
    assert len(set(before) - set(after)) == 2  # case-1's two records, replaced


def records(out: Path) -> list[Path]:
    return sorted((out / CACHE_FOLDER / OBJECTS).iterdir())


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def forge(path: Path) -> None:
    """A record with a valid-looking layout, signed with another key."""
    path.write_bytes(os.urandom(MAC_SIZE) + pickle.dumps(["not", "documents"]))


DAMAGE = {"flipped byte": flip_a_byte, "truncated": truncate, "forged": forge}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_is_ignored_and_the_output_stays_right(run_cli, course, tmp_path, damage):
    out = tmp_path / "out"
    expected, _ = build(run_cli, course, out)
    for record in [*records(out), out / CACHE_FOLDER / INDEX_NAME]:
        DAMAGE[damage](record)
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr) == (0, CASES)
    assert warm == expected
    _, stderr = build(run_cli, course, out)  # and the cache is whole again
    assert reused(stderr) == (CASES, CASES)


def test_a_cache_from_another_machine_is_not_trusted(run_cli, course, tmp_path, monkeypatch):
    out = tmp_path / "out"
    expected, _ = build(run_cli, course, out)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-machine"))
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr) == (0, CASES)
    assert warm == expected


def test_a_cache_copied_from_another_course_is_not_used(run_cli, tmp_path):
    first = make_course(tmp_path / "first")
    second = make_course(tmp_path / "second")
    edit(second / "cases" / "case-0" / "questions.yaml", "stem: ", "stem: Other. ")
    build(run_cli, first, tmp_path / "out-first")
    out = tmp_path / "out-second"
    shutil.copytree(tmp_path / "out-first", out)  # its cache comes along
    warm, stderr = build(run_cli, second, out)
    assert reused(stderr) == (0, CASES)
    assert warm == cold(run_cli, second, tmp_path)


def test_a_planted_pickle_is_never_unpickled(run_cli, course, tmp_path):
    out = tmp_path / "out"
    build(run_cli, course, out)
    witness = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (witness,))

    planted = pickle.dumps(Payload())
    for record in [*records(out), out / CACHE_FOLDER / INDEX_NAME]:
        # Its old MAC kept, the content replaced: as a committed cache would be.
        record.write_bytes(record.read_bytes()[:MAC_SIZE] + planted)
    _, stderr = build(run_cli, course, out)
    assert not witness.exists()
    assert reused(stderr) == (0, CASES)


def test_without_a_key_the_build_goes_on_without_the_cache(run_cli, course, tmp_path, monkeypatch):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the key's folder would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    zips, stderr = build(run_cli, course, tmp_path / "out")
    assert stderr.count("building without the cache") == 1
    assert "cache:" not in stderr.replace("without the cache:", "")
    assert zips == cold(run_cli, course, tmp_path)


def test_the_key_is_private_to_the_user(run_cli, course, tmp_path):
    build(run_cli, course, tmp_path / "out")
    assert key_path().stat().st_mode & 0o777 == 0o600
    assert not key_path().is_relative_to(tmp_path / "out")


def test_a_key_others_can_read_is_not_used(run_cli, course, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    build(run_cli, course, tmp_path / "out")
    key_path().chmod(0o644)
    _, stderr = build(run_cli, course, tmp_path / "out")
    assert "building without the cache" in stderr


def test_a_failed_build_keeps_the_packages_and_the_cache(run_cli, course, tmp_path):
    out = tmp_path / "out"
    expected, _ = build(run_cli, course, out)
    cache_before = {p: p.read_bytes() for p in (out / CACHE_FOLDER).rglob("*") if p.is_file()}
    edit(course / "cases" / "case-1" / "questions.yaml", "type: single", "type: nonsense")
    result = run_cli("build", str(course), "-o", str(out))
    assert result.exit_code == 1
    assert {name: (out / name).read_bytes() for name in ZIPS} == expected
    cache_after = {p: p.read_bytes() for p in (out / CACHE_FOLDER).rglob("*") if p.is_file()}
    assert cache_after == cache_before
    edit(course / "cases" / "case-1" / "questions.yaml", "type: nonsense", "type: single")
    zips, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES, CASES)
    assert zips == expected


def test_a_cache_older_than_the_packages_still_gives_the_right_bytes(run_cli, course, tmp_path):
    """As after a build killed between its commit and the writing of its cache."""
    out = tmp_path / "out"
    build(run_cli, course, out)
    old_cache = tmp_path / "old-cache"
    shutil.copytree(out / CACHE_FOLDER, old_cache)
    change_stem(course)
    build(run_cli, course, out)
    shutil.rmtree(out / CACHE_FOLDER)
    shutil.copytree(old_cache, out / CACHE_FOLDER)
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES - 1, CASES)
    assert warm == cold(run_cli, course, tmp_path)


def test_leftover_and_stale_tree_removal_leave_the_cache_alone(run_cli, course, tmp_path):
    out = tmp_path / "out"
    build(run_cli, course, out, "--tree")
    _, stderr = build(run_cli, course, out)  # takes the stale trees away
    assert reused(stderr) == (CASES, CASES)


def test_worker_processes_give_the_same_bytes_from_the_cache(
    run_cli, course, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    expected, _ = build(run_cli, course, out)
    change_stem(course)
    monkeypatch.setenv("QTIEXPORT_WORKERS", "2")
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES - 1, CASES)
    assert warm == cold(run_cli, course, tmp_path)
    assert warm != expected


def remove_document_records(out: Path) -> None:
    """Leave only the previous zips to take the unchanged cases' entries from."""
    for record in records(out):
        if record.name.startswith("r-"):
            record.unlink()


def test_unchanged_cases_are_copied_from_the_previous_zips(run_cli, course, tmp_path):
    out = tmp_path / "out"
    build(run_cli, course, out)
    remove_document_records(out)
    change_stem(course)
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES - 1, CASES)  # from the zips: no record was left
    assert warm == cold(run_cli, course, tmp_path)
    _, stderr = build(run_cli, course, out)  # and from the zips the warm build wrote
    assert reused(stderr) == (CASES, CASES)


def flip_a_byte_keeping_the_times(path: Path) -> None:
    facts = path.stat()
    flip_a_byte(path)
    os.utime(path, ns=(facts.st_atime_ns, facts.st_mtime_ns))


def replace_with_a_copy(path: Path) -> None:
    """The same bytes in another file (as a sync tool or `cp` then `mv` would leave)."""
    copy = path.with_suffix(".copy")
    shutil.copy2(path, copy)
    flip_a_byte(copy)
    os.replace(copy, path)


def append_a_byte(path: Path) -> None:
    with open(path, "ab") as handle:
        handle.write(b"\0")


ZIP_DAMAGE = {
    "flipped byte, times kept": flip_a_byte_keeping_the_times,
    "replaced": replace_with_a_copy,
    "grown": append_a_byte,
}


@pytest.mark.parametrize("damage", ZIP_DAMAGE)
def test_a_previous_zip_changed_since_its_build_is_not_copied_from(
    run_cli, course, tmp_path, damage
):
    out = tmp_path / "out"
    build(run_cli, course, out)
    remove_document_records(out)  # what is not copied must be rendered: visible below
    for name in ZIPS:
        ZIP_DAMAGE[damage](out / name)
    change_stem(course)
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr) == (0, CASES)
    assert warm == cold(run_cli, course, tmp_path)


def test_entries_are_not_copied_across_timestamps(run_cli, course, tmp_path, monkeypatch):
    out = tmp_path / "out"
    first, _ = build(run_cli, course, out)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # in every entry's header
    warm, _ = build(run_cli, course, out)
    assert warm != first
    assert warm == cold(run_cli, course, tmp_path)


def test_a_changed_schema_set_checks_unchanged_documents_again(run_cli, course, tmp_path):
    """Documents that passed are not checked again only against the same schema set:
    a manifest whose bytes did not change is refused by a stricter one."""
    out = tmp_path / "out"
    expected, _ = build(run_cli, course, out, "--schemas", str(BUNDLED_FOLDER))
    strict = tmp_path / "strict-schemas"
    shutil.copytree(BUNDLED_FOLDER, strict)
    schema = strict / "scorm12" / "imscp_rootv1p1p2.xsd"
    title = '<xsd:simpleType name="titleType">\n      <xsd:restriction base="xsd:string">\n'
    edit(
        schema,
        title + '         <xsd:maxLength value="200"/>',
        title + '         <xsd:maxLength value="2"/>',
    )
    result = run_cli("build", str(course), "-o", str(out), "--schemas", str(strict))
    assert result.exit_code == 1, result.output + result.stderr
    assert "imsmanifest.xml" in result.output + result.stderr
    assert {name: (out / name).read_bytes() for name in ZIPS} == expected


def test_without_kernel_copies_the_entries_are_copied_the_same(
    run_cli, course, tmp_path, monkeypatch
):
    """As across file systems, or where os.copy_file_range is missing."""
    out = tmp_path / "out"
    build(run_cli, course, out)
    remove_document_records(out)
    change_stem(course)

    def cross_device(*args: object) -> int:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "copy_file_range", cross_device, raising=False)
    warm, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES - 1, CASES)
    assert warm == cold(run_cli, course, tmp_path)


@pytest.fixture
def files_hashed(monkeypatch) -> list[Path]:
    """The files the cache reads to take a digest of its own (not in the packages' copy)."""
    import hashlib

    import qtiexport.cache as cache

    hashed: list[Path] = []
    real = hashlib.file_digest

    def recording(handle, name):
        hashed.append(Path(handle.name))
        return real(handle, name)

    monkeypatch.setattr(cache.hashlib, "file_digest", recording)
    # Files written a moment ago count as settled, so the index records them at once.
    monkeypatch.setattr(cache, "RACY_SECONDS", -60)
    return hashed


def images_in(paths: list[Path]) -> set[str]:
    return {f"{path.parent.parent.name}/{path.name}" for path in paths if path.suffix == ".png"}


def test_a_new_image_is_read_once_its_digest_taken_as_the_packages_copy_it(
    run_cli, course, tmp_path, files_hashed
):
    out = tmp_path / "out"
    build(run_cli, course, out)
    # Cold: the digests that name the records come from the copy into the zips; only the
    # files the packages do not carry (the YAML) are read for them.
    assert images_in(files_hashed) == set()
    assert {path.name for path in files_hashed} == {"case.yaml", "questions.yaml"}
    files_hashed.clear()
    zips, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES, CASES)  # the keys made after the copy name the same
    assert files_hashed == []  # unchanged files: known by their stat signature, not read
    change_image(course)  # other bytes, another size: its case cannot match any record
    zips, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES - 1, CASES)
    assert images_in(files_hashed) == set()
    _, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES, CASES)
    assert zips == cold(run_cli, course, tmp_path)


def test_an_image_touched_but_unchanged_is_read_before_the_lookup_and_reused(
    run_cli, course, tmp_path, files_hashed
):
    out = tmp_path / "out"
    expected, _ = build(run_cli, course, out)
    image = course / "cases" / "case-2" / "images" / "coronal-t2-fat-sat.png"
    image.write_bytes(image.read_bytes())  # same bytes, new times: an editor's plain save
    files_hashed.clear()
    zips, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES, CASES)
    assert images_in(files_hashed) == {"case-2/coronal-t2-fat-sat.png"}
    assert zips == expected


def test_models_read_from_the_cache_stay_out_of_the_collector_until_the_build_ends(
    run_cli, course, tmp_path, monkeypatch
):
    import gc

    import qtiexport.commands.build as build_command

    kept: list[int] = []
    real = build_command.release_kept

    def recording() -> None:
        kept.append(gc.get_freeze_count())
        real()

    monkeypatch.setattr(build_command, "release_kept", recording)
    out = tmp_path / "out"
    build(run_cli, course, out)
    _, stderr = build(run_cli, course, out)
    assert reused(stderr) == (CASES, CASES)
    assert kept[-1] > 0  # the warm build's models were kept out of the collector's passes
    assert gc.get_freeze_count() == 0  # and put back within its reach once it ended


def test_an_image_written_just_before_the_build_is_read_before_validation(
    run_cli, course, tmp_path, files_hashed, monkeypatch
):
    """A file written within seconds of the build may change again without a new stat
    signature (a coarse clock): its digest is taken before validation reads it, so a
    record can never name bytes newer than the model it holds."""
    import qtiexport.cache as cache

    monkeypatch.setattr(cache, "RACY_SECONDS", 3600)  # every file counts as just written
    out = tmp_path / "out"
    build(run_cli, course, out)
    assert images_in(files_hashed) == {
        f"case-{n}/{name}"
        for n in range(CASES)
        for name in os.listdir(course / "cases" / "case-0" / "images")
    }

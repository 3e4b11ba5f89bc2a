"""`qtiexport build --target qti21`: the zip on disk, reproducible, and safe to fail."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree

from qtiexport.cache import CACHE_FOLDER
from qtiexport.package import TREE_MARKER
from qtiexport.qti import MANIFEST_NAME, item_href

from conftest import CONTENT, FIXTURES, schemas_folder

CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
ALL_TYPES = FIXTURES / "all-types"
SEED_ZIP = "msk-teaching-cases-qti21.zip"


def build(run_cli, folder: Path, out: Path, *extra: str):
    return run_cli("build", str(folder), "-o", str(out), "--target", "qti21", *extra)


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".qtiexport-tmp-*"))


@pytest.mark.parametrize("folder", [CONTENT, ALL_TYPES], ids=["seed", "all-types"])
def test_zip_lists_exactly_its_files_at_safe_paths(run_cli, tmp_path: Path, folder) -> None:
    result = build(run_cli, folder, tmp_path, "--tree")  # the tree holds the zip's files
    assert result.exit_code == 0, result.output
    (archive,) = tmp_path.glob("*-qti21.zip")
    tree = tmp_path / archive.name.removesuffix("-qti21.zip") / "qti21"
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert names[0] == MANIFEST_NAME
        assert len(names) == len(set(names))
        for info in z.infolist():
            assert not info.filename.startswith("/") and "\\" not in info.filename
            assert ".." not in info.filename.split("/") and not info.is_dir()
            assert (tree / info.filename).read_bytes() == z.read(info)
        unzipped = [p for p in tree.rglob("*") if p.is_file() and p.name != TREE_MARKER]
        assert sorted(str(p.relative_to(tree)) for p in unzipped) == sorted(names)
        manifest = etree.fromstring(z.read(MANIFEST_NAME))
    listed = {unquote(f.get("href")) for f in manifest.iter(f"{CP}file")}
    assert listed | {MANIFEST_NAME} == set(names)
    for resource in manifest.iter(f"{CP}resource"):
        href = resource.get("href")
        if href:
            assert unquote(href) in names
            assert unquote(href) in {unquote(f.get("href")) for f in resource.iter(f"{CP}file")}


def test_build_checks_schemas_when_given(run_cli, tmp_path: Path, schema_set) -> None:
    result = build(run_cli, ALL_TYPES, tmp_path, "--schemas", str(schema_set.folder))
    assert result.exit_code == 0, result.output
    assert "all documents valid against the official schemas" in result.stdout


def test_build_without_schemas_checks_the_bundled_copy(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("QTIEXPORT_SCHEMAS", raising=False)
    result = build(run_cli, CONTENT, tmp_path)
    assert result.exit_code == 0, result.output
    assert "all documents valid against the official schemas (bundled schemas)" in result.stdout
    assert "schema check skipped" not in result.stderr


def test_two_builds_are_byte_identical(run_cli, tmp_path: Path) -> None:
    assert build(run_cli, CONTENT, tmp_path / "one").exit_code == 0
    assert build(run_cli, CONTENT, tmp_path / "two").exit_code == 0
    first, second = (tmp_path / run / SEED_ZIP for run in ("one", "two"))
    assert first.read_bytes() == second.read_bytes()


def assert_failed_build_changed_nothing(out: Path, before: bytes) -> None:
    assert (out / SEED_ZIP).read_bytes() == before
    assert leftovers(out) == []
    # Only the zip, and the build cache the first build left (a failed build adds nothing).
    assert sorted(p.name for p in out.iterdir()) == [CACHE_FOLDER, SEED_ZIP]


def break_items(monkeypatch) -> None:
    """Make every rendered item carry an element QTI does not know."""
    import qtiexport.qti as qti

    real = qti.render_item

    def broken_item(course, case, question):
        return real(course, case, question).replace(b"<itemBody>", b"<itemBody><blink/>", 1)

    monkeypatch.setattr(qti, "render_item", broken_item)


def test_a_broken_renderer_leaves_the_previous_zip_intact(
    run_cli, tmp_path: Path, schema_set, monkeypatch
) -> None:
    out = tmp_path / "out"
    assert build(run_cli, CONTENT, out).exit_code == 0
    before = (out / SEED_ZIP).read_bytes()
    break_items(monkeypatch)
    # --no-cache: the patched renderer is not among the files the cache keys on.
    result = build(run_cli, CONTENT, out, "--schemas", str(schema_set.folder), "--no-cache")
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("qti21/item-tumoral-calcinosis.q1.xml:") and "blink" in first
    assert "nothing was written" in result.stderr
    assert_failed_build_changed_nothing(out, before)


def test_a_stricter_schema_folder_fails_the_build_and_keeps_the_zip(
    run_cli, tmp_path: Path
) -> None:
    """Schemas that forbid what we write (no modalFeedback) make every item a violation."""
    strict = tmp_path / "schemas"
    shutil.copytree(schemas_folder(), strict)
    xsd = strict / "qti21/qtiv2p1/imsqti_v2p1.xsd"
    text = xsd.read_text(encoding="utf-8")
    allowed = '<xs:element ref="modalFeedback" minOccurs = "0" maxOccurs = "unbounded"/>'
    assert text.count(allowed) == 1
    xsd.write_text(text.replace(allowed, ""), encoding="utf-8")
    out = tmp_path / "out"
    assert build(run_cli, CONTENT, out).exit_code == 0
    before = (out / SEED_ZIP).read_bytes()
    result = build(run_cli, CONTENT, out, "--schemas", str(strict))
    assert result.exit_code == 1
    violations = [line for line in result.stderr.splitlines() if line.endswith("[schema]")]
    assert {line.split(":")[0] for line in violations} == {
        f"qti21/item-tumoral-calcinosis.q{n}.xml" for n in range(1, 6)
    }
    assert_failed_build_changed_nothing(out, before)


def test_a_schema_that_does_not_compile_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    broken = tmp_path / "schemas"
    shutil.copytree(schemas_folder(), broken)
    (broken / "qti21/qtiv2p1/imsqti_v2p1.xsd").write_text("<xs:schema", encoding="utf-8")
    out = tmp_path / "out"
    assert build(run_cli, CONTENT, out).exit_code == 0
    before = (out / SEED_ZIP).read_bytes()
    result = build(run_cli, CONTENT, out, "--schemas", str(broken))
    assert result.exit_code == 2
    assert "imsqti_v2p1.xsd does not compile" in result.stderr
    assert_failed_build_changed_nothing(out, before)


def test_long_identifiers_give_short_file_names(tmp_path: Path) -> None:
    """Identifiers may be 255 characters; file names stay within 100 and stay distinct."""
    from qtiexport.validate import validate_course

    course_folder = tmp_path / "course"
    shutil.copytree(ALL_TYPES, course_folder)
    questions = course_folder / "cases/every-type/questions.yaml"
    long_ids = ["t" + "x" * 254, "t" + "x" * 253 + "y"]
    text = questions.read_text(encoding="utf-8")
    text = text.replace("id: tf_true", f"id: {long_ids[0]}").replace(
        "id: tf_false", f"id: {long_ids[1]}"
    )
    questions.write_text(text, encoding="utf-8")
    course = validate_course(course_folder)
    names = [item_href(*course.question(i)) for i in long_ids]
    assert all(len(n) <= 100 for n in names) and names[0] != names[1]
    from qtiexport.build import build_course

    (built,) = build_course(course, tmp_path / "out", ("qti21",), None)
    with zipfile.ZipFile(built.zip_path) as z:
        assert set(names) <= set(z.namelist())


def test_a_failed_first_build_of_both_targets_leaves_no_folder(
    run_cli, tmp_path: Path, schema_set, monkeypatch
) -> None:
    break_items(monkeypatch)
    out = tmp_path / "build"
    schemas = str(schema_set.folder)
    result = run_cli("build", str(CONTENT), "-o", str(out), "--target", "all", "--schemas", schemas)
    assert result.exit_code == 1
    assert not out.exists()

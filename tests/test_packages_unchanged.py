"""The packages are the same bytes as recorded: a refactoring changes no output.

Each course below is built into both zips in one process (QTIEXPORT_WORKERS=1) with
SOURCE_DATE_EPOCH unset (every entry gets the fixed date), and the SHA-256 of each zip
must equal the digest recorded here. The seed course is content/; the fixture
tests/fixtures/every-option/ holds every question type with every option (shuffle, fixed
choices, partial scoring, max_length, feedback of every kind and per choice, single
images, an annotated image, an image series with findings, SVG, tables).

The digests change only when the output changes on purpose (a template, the player, a
rendering rule, the fixture, or a library that writes bytes: Pillow, lxml, zlib). Then
look at what changed (build before and after, then `diff -r` the unzipped trees), and
re-record with

    QTIEXPORT_RECORD_DIGESTS=1 python3 -m pytest tests/test_packages_unchanged.py -q -s

which prints the new digests to paste into DIGESTS below (the test fails while recording,
so a recording run never passes for a check).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from conftest import CONTENT, FIXTURES

COURSES = {"seed": CONTENT, "every-option": FIXTURES / "every-option"}
DIGESTS = {
    ("seed", "scorm12"): "1a28e0925474ad505bc6f9b80a06663d8fb3e347eedf009a471c56e95ee3b215",
    ("seed", "qti21"): "97d4e0c45e31eec92830eb64ad197c5b35958f06028371c4d5890e78f7dd1238",
    ("every-option", "scorm12"): "2d8224e0b9058634a2d3f459de2a5d0fafe9654b83de0a7e278b30e888fab8f5",
    ("every-option", "qti21"): "9b5d1e578b2dce9931257199429275936034b68e4167b520c7c5366812590a75",
}
RECORDING = os.environ.get("QTIEXPORT_RECORD_DIGESTS") == "1"


@pytest.mark.parametrize("name", COURSES)
def test_the_packages_are_the_recorded_bytes(name: str, run_cli, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("QTIEXPORT_WORKERS", "1")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    result = run_cli("build", str(COURSES[name]), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output + result.stderr
    zips = sorted(tmp_path.glob("*.zip"))
    assert [z.name.rsplit("-", 1)[1] for z in zips] == ["qti21.zip", "scorm12.zip"]
    found = {
        (name, z.stem.rsplit("-", 1)[1]): hashlib.sha256(z.read_bytes()).hexdigest() for z in zips
    }
    if RECORDING:
        for key, digest in sorted(found.items()):
            print(f"    {key!r}: {digest!r},")
        pytest.fail("digests printed for recording; paste them into DIGESTS")
    assert found == {key: DIGESTS[key] for key in found}

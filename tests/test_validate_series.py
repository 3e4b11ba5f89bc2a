"""Image entries: a series of slices and per-image findings reach the model as written."""

from __future__ import annotations

import shutil
from pathlib import Path

from qtiexport.validate import validate_course

MINIMAL = Path(__file__).resolve().parent / "fixtures" / "minimal"


def course_with_series(tmp_path: Path, series: str, count: int) -> Path:
    course = tmp_path / "course"
    shutil.copytree(MINIMAL, course)
    images = course / "cases" / "c1" / "images"
    for n in range(1, count + 1):
        shutil.copyfile(images / "xray.png", images / f"t2-{n}.png")
    case = course / "cases" / "c1" / "case.yaml"
    text = case.read_text(encoding="utf-8").replace(
        "    modality: XR\n",
        "    modality: XR\n"
        "  - id: t2\n"
        f"    series: {series}\n"
        "    caption: Axial T2\n"
        "    alt: Axial T2 slice.\n"
        "    findings: |\n"
        "      A *bright* rim.\n",
    )
    case.write_text(text, encoding="utf-8")
    return course


def test_a_series_pattern_lists_its_slices_in_natural_order(tmp_path: Path) -> None:
    course = validate_course(course_with_series(tmp_path, "images/t2-*.png", 12))
    image = course.cases[0].images[1]
    assert [s.href for s in image.series] == [f"images/t2-{n}.png" for n in range(1, 13)]
    assert image.href == "images/t2-1.png"  # the image itself is its first slice
    assert [s.id for s in image.series][:2] == ["t2-slice-1", "t2-slice-2"]
    assert image.series[11].alt == "Axial T2 slice. (slice 12 of 12)"
    assert image.findings is not None and image.findings.html == "<p>A <em>bright</em> rim.</p>"


def test_a_series_list_keeps_the_authors_order(tmp_path: Path) -> None:
    course = validate_course(
        course_with_series(tmp_path, "[images/t2-3.png, images/t2-1.png, images/t2-2.png]", 3)
    )
    assert [s.href for s in course.cases[0].images[1].series] == [
        "images/t2-3.png",
        "images/t2-1.png",
        "images/t2-2.png",
    ]


def test_a_single_image_has_no_series_and_no_findings(tmp_path: Path) -> None:
    course = validate_course(course_with_series(tmp_path, "images/t2-*.png", 2))
    image = course.cases[0].images[0]
    assert image.series == () and image.findings is None

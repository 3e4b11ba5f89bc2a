"""Thumbnails: small WebP files that keep the image's shape, the same bytes every build."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin

import lxml.html
import pytest
from lxml import etree
from PIL import Image as PILImage
from PIL import ImageChops, ImageStat

from lms.radiology_course import CASE_ID, IMAGES, make_radiology_course
from qtiexport.parallel import WORKERS_VARIABLE
from qtiexport.thumbnails import THUMBNAIL_BOX, make_thumbnail, thumbnail_size
from qtiexport.validate import validate_course

from conftest import CONTENT, FIXTURES

NS = {"cp": "http://www.imsproject.org/xsd/imscp_rootv1p1p2"}
COURSE_ID = "big-images-course"
SCO_PAGE = f"cases/{CASE_ID}/index.html"


@pytest.fixture(scope="module")
def radiology(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_radiology_course(tmp_path_factory.mktemp("radiology") / "course")


@pytest.fixture(scope="module")
def scorm_zip(radiology: Path, tmp_path_factory: pytest.TempPathFactory, schema_set) -> Path:
    from click.testing import CliRunner

    from qtiexport.cli import cli

    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(
        cli,
        ["build", str(radiology), "-o", str(out), "--schemas", str(schema_set.folder)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out / f"{COURSE_ID}-scorm12.zip"


def player_data_of(archive: zipfile.ZipFile) -> dict:
    page = lxml.html.fromstring(archive.read(SCO_PAGE))
    return json.loads(page.get_element_by_id("player-data").text)


def package_path(url: str, page: str = SCO_PAGE) -> str:
    """A URL of a SCO page as the package path it loads."""
    return unquote(urljoin(f"http://package/{page}", url)).removeprefix("http://package/")


def test_each_thumbnail_is_a_webp_within_the_box_with_the_images_shape(scorm_zip: Path) -> None:
    with zipfile.ZipFile(scorm_zip) as archive:
        images = player_data_of(archive)["images"]
        assert set(images) == {*IMAGES, "t2"}
        for image_id, image in images.items():
            thumb = image["thumb"]
            name = package_path(thumb["src"])
            assert name == f"thumbs/{CASE_ID}/{image_id}.webp"
            picture = PILImage.open(io.BytesIO(archive.read(name)))
            assert picture.format == "WEBP"
            assert picture.size == (thumb["width"], thumb["height"])  # as the page says
            assert max(picture.size) == THUMBNAIL_BOX  # all these images are larger
            source = image["width"] / image["height"]
            assert abs(picture.width / picture.height - source) / source < 0.01, image_id
            # What the page loads first stays small.
            assert archive.getinfo(name).file_size < 10_000


def test_the_radiograph_keeps_its_portrait_and_the_panorama_its_width(scorm_zip: Path) -> None:
    with zipfile.ZipFile(scorm_zip) as archive:
        sizes = {
            name.rsplit("/", 1)[-1]: PILImage.open(io.BytesIO(archive.read(name))).size
            for name in archive.namelist()
            if name.startswith("thumbs/")
        }
    assert sizes == {
        "radiograph.webp": (320, 400),  # 2048×2560
        "axial.webp": (400, 400),  # 1024×1024
        "panorama.webp": (400, 133),  # 3000×1000
        "t2.webp": (400, 400),  # the first slice of the 512×512 series
    }


def test_thumbnails_are_listed_in_the_scos_resource(scorm_zip: Path) -> None:
    with zipfile.ZipFile(scorm_zip) as archive:
        manifest = etree.fromstring(archive.read("imsmanifest.xml"))
        thumbs = {n for n in archive.namelist() if n.startswith("thumbs/")}
    resource = manifest.find(f".//cp:resource[@identifier='SCO-{CASE_ID}']", NS)
    listed = {unquote(f.get("href")) for f in resource.findall("cp:file", NS)}
    assert len(thumbs) == 4
    assert thumbs <= listed


def test_smaller_images_are_never_enlarged_and_an_svg_is_its_own_thumbnail(run_cli, tmp_path):
    course = validate_course(FIXTURES / "all-types")
    images = {image.id: image for image in course.cases[0].images}
    out = tmp_path / "out"
    result = run_cli("build", str(FIXTURES / "all-types"), "-o", str(out), "--target", "scorm12")
    assert result.exit_code == 0, result.output
    sco = f"cases/{course.cases[0].id}/index.html"
    with zipfile.ZipFile(next(out.glob("*-scorm12.zip"))) as archive:
        page = lxml.html.fromstring(archive.read(sco))
        data = json.loads(page.get_element_by_id("player-data").text)
        for image_id, shown in data["images"].items():
            image = images[image_id]
            thumb = shown["thumb"]
            assert (thumb["width"], thumb["height"]) == (image.width, image.height)
            if image.media_type == "image/svg+xml":
                assert thumb["src"] == shown["src"]
            else:
                picture = PILImage.open(io.BytesIO(archive.read(package_path(thumb["src"], sco))))
                assert picture.format == "WEBP" and picture.size == (image.width, image.height)
        assert not [n for n in archive.namelist() if n.endswith(".svg.webp")]


def test_thumbnail_size_fits_the_box_without_enlarging() -> None:
    assert thumbnail_size(2048, 2560) == (320, 400)
    assert thumbnail_size(3000, 1000) == (400, 133)
    assert thumbnail_size(300, 200) == (300, 200)
    assert thumbnail_size(100_000, 1) == (400, 1)  # never 0 px


def test_a_16_bit_slice_gets_a_visible_thumbnail(tmp_path: Path) -> None:
    """CT and MR slices are often 16-bit PNGs using a small part of the range; a plain
    conversion to 8 bits would make them black."""
    from dataclasses import replace

    path = tmp_path / "slice.png"
    picture = PILImage.new("I;16", (600, 300), 1000)
    picture.paste(3000, (150, 75, 450, 225))
    picture.save(path)
    course = validate_course(FIXTURES / "minimal")
    image = replace(course.cases[0].images[0], file=path, width=600, height=300)
    thumbnail = PILImage.open(io.BytesIO(make_thumbnail(image))).convert("L")
    assert thumbnail.size == (400, 200)
    assert thumbnail.getpixel((200, 100)) > 200 and thumbnail.getpixel((10, 10)) < 50


def psnr(expected: PILImage.Image, found: PILImage.Image) -> float:
    """Peak signal-to-noise ratio of `found` against `expected`, in dB (8-bit RGB)."""
    difference = ImageChops.difference(expected.convert("RGB"), found.convert("RGB"))
    mean_square = sum(rms**2 for rms in ImageStat.Stat(difference).rms) / 3
    return 10 * math.log10(255**2 / mean_square) if mean_square else math.inf


def test_thumbnails_stay_faithful_to_an_exact_resize_of_the_image(radiology: Path) -> None:
    """The shortcuts taken for speed (a whole-factor shrink first, a faster WebP method)
    keep each thumbnail as close to the exact Lanczos resize of its image as a lossy
    thumbnail can be: the seed's radiograph and MR slice, the 2,048×2,560 radiograph,
    the 1,024 px slice and the 3,000 px panorama."""
    images = [*validate_course(radiology).cases[0].images]
    images += [
        image for image in validate_course(CONTENT).cases[0].images if "annotated" not in image.id
    ]
    assert len(images) >= 5
    for image in images:
        size = thumbnail_size(image.width, image.height)
        with PILImage.open(image.file) as source:
            exact = source.convert("RGB").resize(size, PILImage.Resampling.LANCZOS)
        thumbnail = PILImage.open(io.BytesIO(make_thumbnail(image)))
        assert thumbnail.size == size
        assert psnr(exact, thumbnail) >= 33.0, image.file.name


def test_the_same_image_gives_the_same_bytes(radiology: Path) -> None:
    course = validate_course(radiology)
    for image in course.cases[0].images:
        assert make_thumbnail(image) == make_thumbnail(image)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_packages_are_byte_identical_across_builds_and_worker_counts(
    run_cli, radiology: Path, scorm_zip: Path, tmp_path: Path, monkeypatch, workers: str
) -> None:
    monkeypatch.setenv(WORKERS_VARIABLE, workers)
    first = run_cli("build", str(radiology), "-o", str(tmp_path / "a"))
    second = run_cli("build", str(radiology), "-o", str(tmp_path / "b"))
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    for target in ("scorm12", "qti21"):
        name = f"{COURSE_ID}-{target}.zip"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        # and the same bytes as the module's build, made in this process
        assert (tmp_path / "a" / name).read_bytes() == (scorm_zip.parent / name).read_bytes()

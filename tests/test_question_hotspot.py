"""The `hotspot` and `point` question types: questions asked on a case image.

Checked where each consumer reads them: the author's errors as `validate` prints them;
the QTI items against the official schemas and scored by pyslet, an independent engine
(inside, on the edge and outside of each shape; every hotspot area); what the SCORM
package and its player data hold; and the PNG `qtiexport render` draws for the author,
sampled where the areas are. The course is tests/fixtures/question-hotspot: one 800×600
image, a hotspot with a circle, a rectangle and a triangle (one right area), a hotspot
whose answer is two areas, and a point question on a circle. (The player in Chromium is
tests/test_question_hotspot_player.py.)
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from lxml import etree
from PIL import Image

from qtiexport.model import Course
from qtiexport.qti import item_href, render_qti_package
from qtiexport.questions.image_areas import CORRECT_COLOUR, OTHER_COLOUR
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import player_assets, player_data, render_sco
from qtiexport.validate import validate_course

from conftest import CONTENT, FIXTURES
from test_qti import run_pyslet

HOTSPOT = FIXTURES / "question-hotspot"
CASE = "lateral-film"
Q = f"cases/{CASE}/questions.yaml"
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
QTI_META = "{http://www.imsglobal.org/xsd/imsqti_metadata_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
IMAGE_PATH = "media/lateral-film/images/lateral.png"


@pytest.fixture(scope="module")
def course() -> Course:
    return validate_course(HOTSPOT)


def copy_with_questions(tmp_path: Path, questions: str) -> Path:
    folder = tmp_path / "course"
    shutil.copytree(HOTSPOT, folder)
    (folder / Q).write_text(questions, encoding="utf-8")
    return folder


# ------------------------------------------------------------------ validation

BROKEN = """\
questions:
  - id: outside
    type: hotspot
    stem: Select it.
    image: lateral
    areas:
      a: {shape: circle, coords: [780, 300, 40], label: Off the right edge}
      b: {shape: rect, coords: [100, 120, 220, 601], label: Off the bottom}
      c: {shape: poly, coords: [600, 100, 801, 100, 650, 200], label: Off the corner}
    answer: a
  - id: malformed
    type: hotspot
    stem: Select it.
    image: lateral
    areas:
      a: {shape: circle, coords: [412, 300, 0], label: No radius}
      b: {shape: rect, coords: [220, 120, 100, 260], label: Corners swapped}
      c: {shape: poly, coords: [600, 100, 700, 100], label: Two corners}
      d: {shape: oval, coords: [1, 2, 3], label: Unknown shape}
      e: {shape: circle, coords: [412, 300], label: Two numbers}
      f: {shape: rect, coords: [1, 2.5, 3, 4], label: Fraction}
      g: {shape: poly, coords: [0, 0, 10, 10, 20, 20], label: A line}
      h: {shape: circle, coords: [412, 300, 40]}
      AB: {shape: circle, coords: [412, 300, 40], label: Bad key}
    answer: [a, z]
  - id: elsewhere
    type: point
    stem: Click it.
    image: frontal
    answer: {shape: circle, coords: [10, 10, 5]}
  - id: areas-on-point
    type: point
    stem: Click it.
    image: lateral
    areas: {}
    answer: [1, 2, 3]
"""
OUTSIDE = "read the coordinates off the image file itself (see `qtiexport render`)"
EXPECTED = [
    f"{Q}:1:1: error: the case has no questions; add at least one",
    f"{Q}:7:34: error: area `a` of question `outside` reaches outside image `lateral`, which "
    f"is 800×600 pixels (it spans x 740 to 820, y 260 to 340); {OUTSIDE}",
    f"{Q}:8:32: error: area `b` of question `outside` reaches outside image `lateral`, which "
    f"is 800×600 pixels (it spans x 100 to 220, y 120 to 601); {OUTSIDE}",
    f"{Q}:9:32: error: area `c` of question `outside` reaches outside image `lateral`, which "
    f"is 800×600 pixels (it spans x 600 to 801, y 100 to 200); {OUTSIDE}",
    f"{Q}:16:34: error: the radius of area `a` of question `malformed` is 0; give it a radius "
    "of 1 pixel or more",
    f"{Q}:17:32: error: area `b` of question `malformed` is [220, 120, 100, 260]; write the "
    "top-left corner first, then the bottom-right one (x1 < x2 and y1 < y2)",
    f"{Q}:18:32: error: area `c` of question `malformed` has 4 coordinates; write poly coords "
    "as [x1, y1, x2, y2, x3, y3, …]: at least 3 corners (an x and a y for each corner, at "
    "most 100 corners)",
    f"{Q}:19:18: error: the shape of area `d` of question `malformed` is the text `oval`; use "
    "`circle`, `rect` or `poly`",
    f"{Q}:20:34: error: area `e` of question `malformed` has 2 coordinates; write circle "
    "coords as [cx, cy, r]: the centre and the radius",
    f"{Q}:21:36: error: `coords` of area `f` of question `malformed` holds the number `2.5`; "
    "every coordinate is a whole number of pixels, 0 or more (origin top-left of the image "
    "file)",
    f"{Q}:22:32: error: the corners of area `g` of question `malformed` lie on one line; it "
    "encloses no whole pixel",
    f"{Q}:23:10: error: area `h` of question `malformed` is missing the required key `label`",
    f"{Q}:24:7: error: area key `AB` of question `malformed` must be one letter a–z",
    f"{Q}:25:17: error: the answer of question `malformed` names area `z`, which `areas` "
    "does not define (defined: a, b, c, d, e, f, g, h)",
    f"{Q}:29:12: error: question `elsewhere` is asked on image `frontal`, which case.yaml "
    "does not define (defined: lateral)",
    f"{Q}:35:12: error: a `point` question has no `areas`; give the one right area under "
    "`answer`, such as `answer: {shape: circle, coords: [480, 360, 60]}`",
    f"{Q}:36:13: error: the answer of question `areas-on-point` must be an area such as "
    "`{shape: circle, coords: [480, 360, 60]}`, not a list",
    "17 errors",
]


def test_validation_names_each_mistake_where_it_is(run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(copy_with_questions(tmp_path, BROKEN))
    result = run_cli("validate", ".")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == EXPECTED


def test_shapes_may_touch_the_image_edges(tmp_path: Path) -> None:
    """The bounds are the image's own size, read from the file: 0..800 and 0..600."""
    folder = copy_with_questions(
        tmp_path,
        """\
questions:
  - id: edges
    type: hotspot
    stem: Select it.
    image: lateral
    areas:
      a: {shape: circle, coords: [40, 40, 40], label: Top-left}
      b: {shape: rect, coords: [0, 0, 800, 600], label: Everything}
      c: {shape: poly, coords: [800, 0, 800, 600, 700, 300], label: Right edge}
    answer: [a, c]
""",
    )
    (edges,) = validate_course(folder).cases[0].questions
    assert edges.correct == ("a", "c")


def test_the_model_keeps_the_image_and_the_areas(course: Course) -> None:
    h1, h2, p1 = course.cases[0].questions
    assert [(q.type, q.correct) for q in (h1, h2, p1)] == [
        ("hotspot", ("a",)),
        ("hotspot", ("b", "c")),
        ("point", ("480 360",)),  # QTI's correctResponse: a point inside the area
    ]
    assert (h1.details.image.id, h1.details.image.width, h1.details.image.height) == (
        "lateral",
        800,
        600,
    )
    assert [(a.key, a.shape.shape, a.shape.coords) for a in h1.details.areas] == [
        ("a", "circle", (412, 300, 40)),
        ("b", "rect", (100, 120, 220, 260)),
        ("c", "poly", (600, 100, 700, 100, 650, 200)),
    ]
    assert (h1.details.multiple, h2.details.multiple) == (False, True)


def test_the_editor_schema_takes_the_fixture_and_rejects_a_bad_area(run_cli) -> None:
    schema = json.loads(run_cli("schema", "questions").stdout)
    jsonschema.Draft7Validator.check_schema(schema)
    document = yaml.safe_load((HOTSPOT / Q).read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)
    document["questions"][0]["areas"]["a"]["shape"] = "oval"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)
    document = yaml.safe_load((HOTSPOT / Q).read_text(encoding="utf-8"))
    del document["questions"][1]["areas"]["b"]["label"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


# ------------------------------------------------------------------------- QTI


@pytest.fixture(scope="module")
def qti_files(course: Course) -> dict[str, bytes]:
    return {entry.name: entry.read() for entry in render_qti_package(course)}


def item_of(course: Course, qti_files: dict[str, bytes], index: int) -> etree._Element:
    case = course.cases[0]
    return etree.fromstring(qti_files[item_href(case, case.questions[index])])


def test_every_qti_document_is_valid_against_the_official_schemas(
    course: Course, schema_set: SchemaSet
) -> None:
    entries = render_qti_package(course)
    assert {e.name for e in entries if e.schema} == {
        "imsmanifest.xml",
        f"test-{CASE}.xml",
        *(item_href(course.cases[0], q) for q in course.cases[0].questions),
    }
    for entry in entries:
        if entry.schema:
            assert schema_set.problems(entry.name, entry.schema, entry.read()) == [], entry.name
    assert IMAGE_PATH in {e.name for e in entries}


def test_a_hotspot_is_a_hotspot_interaction_on_the_image(
    course: Course, qti_files: dict[str, bytes]
) -> None:
    for index, cardinality, max_choices, correct in (
        (0, "single", "1", ["a"]),
        (1, "multiple", "0", ["b", "c"]),
    ):
        item = item_of(course, qti_files, index)
        declaration = item.find(f"{QTI}responseDeclaration")
        assert (declaration.get("cardinality"), declaration.get("baseType")) == (
            cardinality,
            "identifier",
        )
        assert [v.text for v in declaration.iter(f"{QTI}value")] == correct
        interaction = item.find(f"{QTI}itemBody/{QTI}hotspotInteraction")
        assert interaction.get("maxChoices") == max_choices
        image = interaction.find(f"{QTI}object")
        assert dict(image.attrib) == {
            "type": "image/png",
            "data": IMAGE_PATH,
            "width": "800",
            "height": "600",
        }
        assert [
            (c.get("identifier"), c.get("shape"), c.get("coords"))
            for c in interaction.iter(f"{QTI}hotspotChoice")
        ] == [
            ("a", "circle", "412,300,40"),
            ("b", "rect", "100,120,220,260"),
            ("c", "poly", "600,100,700,100,650,200"),
        ]
    labels = [
        c.get("hotspotLabel") for c in item_of(course, qti_files, 0).iter(f"{QTI}hotspotChoice")
    ]
    assert labels == ["Radiolucent septum", "Soft tissue", "Cortex"]


def test_a_point_is_a_select_point_interaction_scored_inside_the_area(
    course: Course, qti_files: dict[str, bytes]
) -> None:
    item = item_of(course, qti_files, 2)
    declaration = item.find(f"{QTI}responseDeclaration")
    assert (declaration.get("cardinality"), declaration.get("baseType")) == ("single", "point")
    interaction = item.find(f"{QTI}itemBody/{QTI}selectPointInteraction")
    assert interaction.get("maxChoices") == "1"
    assert interaction.find(f"{QTI}object").get("data") == IMAGE_PATH
    inside = item.find(f".//{QTI}responseProcessing//{QTI}inside")
    assert (inside.get("shape"), inside.get("coords")) == ("circle", "480,360,60")


def test_the_manifest_names_the_interactions_and_each_item_depends_on_the_image(
    qti_files: dict[str, bytes],
) -> None:
    manifest = etree.fromstring(qti_files["imsmanifest.xml"])
    items = [r for r in manifest.iter(f"{CP}resource") if r.get("type") == "imsqti_item_xmlv2p1"]
    assert [r.findtext(f".//{QTI_META}interactionType") for r in items] == [
        "hotspotInteraction",
        "hotspotInteraction",
        "selectionPointInteraction",
    ]
    media = f"media-{CASE}"
    assert all(
        [d.get("identifierref") for d in r.iter(f"{CP}dependency")] == [media] for r in items
    )
    (files,) = [
        [f.get("href") for f in r.iter(f"{CP}file")]
        for r in manifest.iter(f"{CP}resource")
        if r.get("identifier") == media
    ]
    assert files == [IMAGE_PATH]


def test_pyslet_scores_every_hotspot_area(course: Course, qti_files: dict[str, bytes]) -> None:
    case = course.cases[0]
    h1, h2, _ = case.questions
    h1_xml = qti_files[item_href(case, h1)]
    assert run_pyslet(h1_xml, "a") == (1, {"correct"})
    for wrong in ("b", "c", None):
        assert run_pyslet(h1_xml, wrong) == (0, {"incorrect"}), wrong
    h2_xml = qti_files[item_href(case, h2)]
    for right in (["b", "c"], ["c", "b"]):
        assert run_pyslet(h2_xml, right) == (2, {"correct"}), right
    for wrong in (["a"], ["b"], ["c"], ["a", "b"], ["a", "c"], ["a", "b", "c"], None):
        assert run_pyslet(h2_xml, wrong) == (0, {"incorrect"}), wrong


# Point questions, one per shape: points scored full (inside, on an edge that counts, a
# corner), then 0 (on the right or bottom edge of a rectangle or polygon, which HTML
# image maps and QTI engines leave out, just outside, far off, nothing).
POINT_SHAPES = """\
questions:
  - id: circle
    type: point
    stem: Click it.
    image: lateral
    answer: {shape: circle, coords: [480, 360, 60]}
  - id: rect
    type: point
    stem: Click it.
    image: lateral
    answer: {shape: rect, coords: [100, 120, 220, 260]}
  - id: poly
    type: point
    stem: Click it.
    image: lateral
    answer: {shape: poly, coords: [600, 100, 700, 100, 650, 200]}
"""
POINTS = {
    "circle": (
        [(480, 360), (540, 360), (480, 300), (420, 360), (480, 420)],
        [(541, 360), (480, 421), (523, 403), (0, 0), None],
    ),
    "rect": (
        [(160, 190), (100, 120), (219, 259), (100, 200), (160, 120)],
        [(220, 200), (160, 260), (220, 260), (99, 190), (160, 119), None],
    ),
    "poly": (
        [(650, 130), (600, 100), (640, 100), (625, 150), (650, 199)],
        [(700, 100), (675, 150), (650, 200), (650, 99), (620, 150), None],
    ),
}


def test_pyslet_scores_a_point_inside_on_the_edge_and_outside_each_shape(
    tmp_path: Path,
) -> None:
    course = validate_course(copy_with_questions(tmp_path, POINT_SHAPES))
    files = {entry.name: entry.read() for entry in render_qti_package(course)}
    case = course.cases[0]
    checked = 0
    for question in case.questions:
        item_xml = files[item_href(case, question)]
        right, wrong = POINTS[question.id]
        for point in right:
            assert question.details.area.contains(*point), (question.id, point)
            assert run_pyslet(item_xml, point) == (1, {"correct"}), (question.id, point)
            checked += 1
        for point in wrong:
            assert point is None or not question.details.area.contains(*point)
            assert run_pyslet(item_xml, point) == (0, {"incorrect"}), (question.id, point)
            checked += 1
        # The correctResponse an engine may show is itself a right answer.
        x, y = map(int, question.correct[0].split())
        assert run_pyslet(item_xml, (x, y)) == (1, {"correct"})
    assert checked == 32


def test_the_model_tests_a_point_as_pyslet_does(tmp_path: Path) -> None:
    """Shape.contains (the rule the player follows) agrees with pyslet on every pixel of
    each shape's edge and on a grid around it."""
    course = validate_course(copy_with_questions(tmp_path, POINT_SHAPES))
    files = {entry.name: entry.read() for entry in render_qti_package(course)}
    case = course.cases[0]
    for question in case.questions:
        item_xml = files[item_href(case, question)]
        area = question.details.area
        left, top, right, bottom = area.box()
        grid = {
            (x, y) for x in range(left - 2, right + 3, 12) for y in range(top - 2, bottom + 3, 12)
        }
        edges = {(x, y) for x in (left, right) for y in range(top, bottom + 1, 10)}
        edges |= {(x, y) for y in (top, bottom) for x in range(left, right + 1, 10)}
        for point in sorted(grid | edges | set(area.points())):
            expected = 1 if area.contains(*point) else 0
            assert run_pyslet(item_xml, point)[0] == expected, (question.id, point)


# ---------------------------------------------------------------------- SCORM


def test_the_player_data_holds_the_contract_with_the_player(course: Course) -> None:
    data = player_data(course, course.cases[0])
    h1, h2, p1 = data["questions"]
    image = {
        "id": "lateral",
        "src": "../../qti/media/lateral-film/images/lateral.png",
        "width": 800,
        "height": 600,
        "alt": "A lateral radiograph of the thigh with a calcified mass.",
    }
    assert (h1["interactionType"], h1["image"], h1["correct"], h1["multiple"]) == (
        "choice",
        image,
        ["a"],
        False,
    )
    assert h1["areas"] == [
        {"key": "a", "shape": "circle", "coords": [412, 300, 40], "label": "Radiolucent septum"},
        {"key": "b", "shape": "rect", "coords": [100, 120, 220, 260], "label": "Soft tissue"},
        {"key": "c", "shape": "poly", "coords": [600, 100, 700, 100, 650, 200], "label": "Cortex"},
    ]
    assert (h2["correct"], h2["correctPattern"], h2["multiple"]) == (["b", "c"], "b,c", True)
    assert (p1["interactionType"], p1["image"], p1["area"], p1["correctPattern"]) == (
        "performance",
        image,
        {"shape": "circle", "coords": [480, 360, 60]},
        "circle:480,360,60",
    )


def test_the_page_shows_the_image_with_a_button_per_area(course: Course) -> None:
    page = render_sco(course, course.cases[0])
    stage = re.search(r'<div class="image-stage" id="question-1-stage".*?</fieldset>', page, re.S)
    assert stage is not None
    html = stage.group(0)
    assert 'src="../../qti/media/lateral-film/images/lateral.png"' in html
    assert 'width="800" height="600"' in html
    names = re.findall(r'<button[^>]*data-key="([a-z])"[^>]*>(.*?)</button>', html, re.S)
    assert [(key, re.sub(r"<[^>]+>", "", text).strip()) for key, text in names] == [
        ("a", "Radiolucent septum"),
        ("b", "Soft tissue"),
        ("c", "Cortex"),
    ]


def test_only_a_course_that_asks_on_images_ships_their_scripts(course: Course) -> None:
    ours = {"question-hotspot.js", "question-point.js"}
    assert ours <= set(player_assets(course))
    assert not ours & set(player_assets(validate_course(CONTENT)))


# ---------------------------------------------------------------- render PNG


def test_render_draws_each_area_where_its_coordinates_say(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("render", str(HOTSPOT), f"{CASE}/h1", "--no-color")
    assert result.exit_code == 0
    assert "<hotspotInteraction" in result.stdout
    written = f"{CASE}.h1-areas.png"
    assert result.stderr == f"areas drawn on image `lateral`: {written}\n"
    with Image.open(tmp_path / written) as drawn:
        assert drawn.size == (800, 600)
        pixel = drawn.convert("RGB").getpixel
        # On each outline: the circle's rightmost and lowest points, the rectangle's
        # corners and sides, the triangle's corners and the middle of a side.
        for x, y in [(452, 300), (412, 340), (372, 300)]:
            assert pixel((x, y)) == CORRECT_COLOUR, (x, y)
        for x, y in [(100, 120), (220, 260), (160, 260), (100, 190), (650, 100), (625, 150)]:
            assert pixel((x, y)) == OTHER_COLOUR, (x, y)
        # Inside and away from the areas, the image itself (grey levels) is left alone.
        for x, y in [(412, 300), (160, 190), (650, 130), (20, 580), (760, 560)]:
            red, green, blue = pixel((x, y))
            assert red == green == blue, (x, y)
    with Image.open(HOTSPOT / f"cases/{CASE}/images/lateral.png") as original:
        assert original.convert("RGB").getpixel((412, 300)) == pixel((412, 300))


def test_render_writes_a_point_questions_area_where_asked(run_cli, tmp_path: Path) -> None:
    target = tmp_path / "p1.png"
    result = run_cli("render", str(HOTSPOT), "p1", "--png", str(target), "--no-color")
    assert result.exit_code == 0
    assert result.stderr == f"areas drawn on image `lateral`: {target}\n"
    with Image.open(target) as drawn:
        pixel = drawn.convert("RGB").getpixel
        for x, y in [(540, 360), (420, 360), (480, 300), (480, 420)]:
            assert pixel((x, y)) == CORRECT_COLOUR, (x, y)
        assert len(set(pixel((480, 360)))) == 1  # the centre is the image's grey


def test_render_refuses_a_png_for_a_question_with_no_areas(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "render", str(FIXTURES / "question-numeric"), "n1", "--png", str(tmp_path / "x.png")
    )
    assert result.exit_code == 2
    assert "only hotspot and point questions have areas to draw" in result.stderr
    assert not (tmp_path / "x.png").exists()


# --------------------------------------------------------------------- Canvas


def test_canvas_imports_both_as_error_questions_that_keep_the_stem(
    course: Course, qti_files: dict[str, bytes]
) -> None:
    """Canvas classic quizzes have no hotspot type: its guess (question_type_educated_
    guesser.rb) finds none of the interactions it knows, so the item becomes an "Error"
    question with a migration warning (assessment_item_converter.rb rescues the "No
    question type used" it raises): it keeps the question text from `itemBody > div`, is
    never scored automatically, and nothing in the package can make Canvas read it as
    another type (the manifest's interactionType is in a namespace Canvas does not search)."""
    from test_canvas_import import canvas_guess

    case = course.cases[0]
    for index, question in enumerate(case.questions):
        item = item_of(course, qti_files, index)
        assert canvas_guess(item) is None, question.id
        assert item.find(f"{QTI}itemBody/{QTI}inlineChoiceInteraction") is None
        stem = item.find(f"{QTI}itemBody/{QTI}div[@class='stem']")
        assert "".join(stem.itertext()).strip() == question.stem.text.strip()
        # The interaction sits beside the stem, not inside it: Canvas shows no leftovers.
        assert stem.find(f".//{QTI}object") is None
    manifest = etree.fromstring(qti_files["imsmanifest.xml"])
    for element in manifest.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "interactionType":
            assert etree.QName(element).namespace == QTI_META.strip("{}")

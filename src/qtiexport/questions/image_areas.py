"""Areas on an image, shared by `hotspot` and `point`: reading and checking a shape
(`circle` [cx, cy, r], `rect` [x1, y1, x2, y2], `poly` [x1, y1, x2, y2, …], in pixels of
the image file, origin top-left), hit-testing a point, and where the image lives in each
package. Coordinates are checked against the image's width and height as read from the
file (model.Image)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qtiexport.fields import Fields, describe_node
from qtiexport.loader import Node
from qtiexport.model import Image, Question
from qtiexport.questions.base import QuestionKind

SHAPES = ("circle", "rect", "poly")
COORDS_HELP = {
    "circle": "[cx, cy, r]: the centre and the radius",
    "rect": "[x1, y1, x2, y2]: the top-left and the bottom-right corners",
    "poly": "[x1, y1, x2, y2, x3, y3, …]: at least 3 corners",
}
MAX_POLY_POINTS = 100
MAX_LABEL = 120

SHAPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "shape": {"enum": list(SHAPES)},
        "coords": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "minItems": 3,
            "maxItems": 2 * MAX_POLY_POINTS,
            "description": "Pixels of the image file, origin top-left: circle [cx, cy, r], "
            "rect [x1, y1, x2, y2], poly [x1, y1, x2, y2, x3, y3, …].",
        },
    },
    "required": ["shape", "coords"],
}


@dataclass(frozen=True)
class Shape:
    """A shape in image pixels, as the author wrote it."""

    shape: str  # circle, rect or poly
    coords: tuple[int, ...]

    @property
    def coords_text(self) -> str:
        """The coords as QTI and HTML write them: `412,300,40`."""
        return ",".join(str(c) for c in self.coords)

    def points(self) -> list[tuple[int, int]]:
        return list(zip(self.coords[0::2], self.coords[1::2], strict=False))

    def contains(self, x: float, y: float) -> bool:
        """Whether the point (x, y) is in the area, by the rule QTI engines take from HTML
        image maps (pyslet's, which tests/test_question_hotspot.py checks this against):
        a circle includes its edge; a rectangle includes its left and top edges but not
        its right and bottom ones (x1 ≤ x < x2, y1 ≤ y < y2); a polygon is tested by a
        ray from the left, which likewise counts left edges in and right edges out."""
        c = self.coords
        if self.shape == "circle":
            return (x - c[0]) ** 2 + (y - c[1]) ** 2 <= c[2] ** 2
        if self.shape == "rect":
            return c[0] <= x < c[2] and c[1] <= y < c[3]
        return inside_polygon(self.points(), x, y)

    def inner_point(self) -> tuple[int, int]:
        """A whole-pixel point inside the shape (QTI's correctResponse of a point)."""
        c = self.coords
        if self.shape == "circle":
            return c[0], c[1]
        if self.shape == "rect":
            return (c[0] + c[2]) // 2, (c[1] + c[3]) // 2
        points = self.points()
        cx = round(sum(p[0] for p in points) / len(points))
        cy = round(sum(p[1] for p in points) / len(points))
        if self.contains(cx, cy):
            return cx, cy
        # A concave polygon's centroid may lie outside: look for a pixel that is inside.
        left, top, right, bottom = self.box()
        for y in range(top, bottom + 1):
            for x in range(left, right + 1):
                if self.contains(x, y):
                    return x, y
        return points[0]  # not reached: validation refuses a polygon that encloses nothing

    def box(self) -> tuple[int, int, int, int]:
        """The bounding box: left, top, right, bottom."""
        c = self.coords
        if self.shape == "circle":
            return c[0] - c[2], c[1] - c[2], c[0] + c[2], c[1] + c[2]
        if self.shape == "rect":
            return c[0], c[1], c[2], c[3]
        xs, ys = c[0::2], c[1::2]
        return min(xs), min(ys), max(xs), max(ys)

    def as_spec(self) -> dict[str, Any]:
        return {"shape": self.shape, "coords": list(self.coords)}


def inside_polygon(points: list[tuple[int, int]], x: float, y: float) -> bool:
    """Crossings of a horizontal ray from the left up to (x, y), as pyslet counts them:
    horizontal edges are skipped, an edge spans y0 ≤ y < y1 (its upper end only), and
    a crossing at x itself counts."""
    crossings = 0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        if y0 == y1:
            continue
        if y0 > y1:
            x0, y0, x1, y1 = x1, y1, x0, y0
        if y < y0 or y >= y1:
            continue
        if y == y0:
            crossings += x >= x0
            continue
        if x < x0 and x < x1:
            continue
        if (y - y0) * (x1 - x0) / (y1 - y0) + x0 <= x:
            crossings += 1
    return crossings % 2 == 1


def polygon_area(points: list[tuple[int, int]]) -> float:
    pairs = zip(points, points[1:] + points[:1], strict=True)
    return abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in pairs)) / 2


def read_image(f: Fields) -> Image | None:
    """The case image the question is asked on (`image: <id from case.yaml>`)."""
    image_id = f.text("image")
    if image_id is None:
        return None
    context = f.case
    if context is None:
        return None
    if image_id in context.images:
        return context.images[image_id]
    if image_id not in context.declared:  # else its own error is reported in case.yaml
        from qtiexport.fields import suggest

        defined = ", ".join(sorted(context.declared)) or "none"
        f.error(
            "image",
            f"{f.what} is asked on image `{image_id}`, which case.yaml does not define "
            f"(defined: {defined}){suggest(image_id, sorted(context.images))}",
        )
    return None


def read_shape(node: Node, what: str, f: Fields, image: Image | None) -> Shape | None:
    """`shape` and `coords` of the mapping `node` (located errors go to `f.diags`),
    checked to be well formed and, when the image is known, inside it."""
    diags = f.diags
    values = node.value
    shape_node = values.get("shape")
    coords_node = values.get("coords")
    shape = None
    if shape_node is not None:
        if shape_node.value in SHAPES:
            shape = shape_node.value
        else:
            diags.error(
                shape_node.location,
                f"the shape of {what} is {describe_node(shape_node)}; use `circle`, `rect` "
                "or `poly`",
            )
    if shape is None or coords_node is None:
        return None
    help_text = f"write {shape} coords as {COORDS_HELP[shape]}"
    if not coords_node.is_list:
        diags.error(
            coords_node.location,
            f"`coords` of {what} must be a list of pixels, not {describe_node(coords_node)}; "
            f"{help_text}",
        )
        return None
    coords: list[int] = []
    for entry in coords_node.value:
        value = entry.value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            diags.error(
                entry.location,
                f"`coords` of {what} holds {describe_node(entry)}; every coordinate is a "
                "whole number of pixels, 0 or more (origin top-left of the image file)",
            )
            return None
        coords.append(value)
    count = len(coords)
    where = coords_node.location
    if shape == "circle" and count != 3 or shape == "rect" and count != 4:
        diags.error(where, f"{what} has {count} coordinates; {help_text}")
        return None
    if shape == "poly" and (count % 2 or count < 6 or count > 2 * MAX_POLY_POINTS):
        diags.error(
            where,
            f"{what} has {count} coordinates; {help_text} (an x and a y for each corner, "
            f"at most {MAX_POLY_POINTS} corners)",
        )
        return None
    found = Shape(shape, tuple(coords))
    if shape == "circle" and coords[2] <= 0:
        diags.error(where, f"the radius of {what} is 0; give it a radius of 1 pixel or more")
        return None
    if shape == "rect" and not (coords[0] < coords[2] and coords[1] < coords[3]):
        diags.error(
            where,
            f"{what} is [{', '.join(map(str, coords))}]; write the top-left corner first, then the "
            "bottom-right one (x1 < x2 and y1 < y2)",
        )
        return None
    if shape == "poly" and (
        polygon_area(found.points()) == 0 or not found.contains(*found.inner_point())
    ):
        diags.error(where, f"the corners of {what} lie on one line; it encloses no whole pixel")
        return None
    if image is not None:
        left, top, right, bottom = found.box()
        if left < 0 or top < 0 or right > image.width or bottom > image.height:
            diags.error(
                where,
                f"{what} reaches outside image `{image.id}`, which is {image.width}×"
                f"{image.height} pixels (it spans x {left} to {right}, y {top} to {bottom}); "
                "read the coordinates off the image file itself (see `qtiexport render`)",
            )
            return None
    return found


# --------------------------------------------------------------- image addresses


def qti_media_path(case_id: str, image: Image) -> str:
    """Where the image lives in the QTI package (qti.media_href), relative to the items."""
    from qtiexport.qti import MEDIA_FOLDER, file_name

    return f"{MEDIA_FOLDER}/{file_name(case_id)}/{image.href}"


def sco_image_src(case_id: str, image: Image) -> str:
    """The image's URL as the case's SCO page refers to it (scorm.image_src)."""
    from qtiexport.scorm import QTI_FOLDER, relative_to_sco

    return relative_to_sco(f"{QTI_FOLDER}/{qti_media_path(case_id, image)}")


@dataclass(frozen=True)
class StageImageView:
    """The image of an image question, as the SCO partial lays it out."""

    id: str
    src: str
    alt: str
    width: int
    height: int


def image_spec(case_id: str, image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "src": sco_image_src(case_id, image),
        "width": image.width,
        "height": image.height,
        "alt": image.alt,
    }


def stage_view(case_id: str, image: Image) -> StageImageView:
    return StageImageView(
        image.id, sco_image_src(case_id, image), image.alt, image.width, image.height
    )


# ------------------------------------------------------------ the authoring PNG

# Colours of the drawn outlines: the correct areas, and the others.
CORRECT_COLOUR = (0, 200, 0)
OTHER_COLOUR = (255, 140, 0)


@dataclass(frozen=True)
class DrawnArea:
    """One area as `qtiexport render` draws it on the image."""

    name: str  # "a: Radiolucent septum"
    shape: Shape
    correct: bool


@dataclass(frozen=True)
class AreasOnImage:
    image: Image
    areas: tuple[DrawnArea, ...]


def line_width(image: Image) -> int:
    return max(2, min(image.width, image.height) // 200)


def draw_areas(drawing: AreasOnImage, target: Any) -> None:
    """Write the image with each area outlined and labelled as a PNG to `target` (a path
    or a binary file). The outline is drawn on the shape's edge, so the pixels on the
    coordinates the author wrote take its colour."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    with PILImage.open(drawing.image.file) as opened:
        picture = opened.convert("RGB")
    if picture.size != (drawing.image.width, drawing.image.height):
        picture = picture.resize((drawing.image.width, drawing.image.height))
    draw = ImageDraw.Draw(picture)
    width = line_width(drawing.image)
    font = ImageFont.load_default(size=max(12, min(picture.size) // 40))
    for area in drawing.areas:
        colour = CORRECT_COLOUR if area.correct else OTHER_COLOUR
        c = area.shape.coords
        if area.shape.shape == "circle":
            draw.ellipse(
                (c[0] - c[2], c[1] - c[2], c[0] + c[2], c[1] + c[2]), outline=colour, width=width
            )
        elif area.shape.shape == "rect":
            draw.rectangle(tuple(c), outline=colour, width=width)
        else:
            points = area.shape.points()
            draw.line([*points, points[0]], fill=colour, width=width, joint="curve")
        left, top, _right, bottom = area.shape.box()
        text_box = draw.textbbox((0, 0), area.name, font=font)
        text_height = text_box[3] - text_box[1] + 4
        y = top - text_height - width if top - text_height - width >= 0 else bottom + width
        x = min(max(left, 0), max(picture.width - (text_box[2] - text_box[0]) - 4, 0))
        draw.rectangle((x, y, x + text_box[2] - text_box[0] + 4, y + text_height), fill=(0, 0, 0))
        draw.text((x + 2, y + 2 - text_box[1]), area.name, fill=colour, font=font)
    picture.save(target, format="PNG")


class ImageQuestionKind(QuestionKind):
    """A kind asked on one image of the case (hotspot, point): its details carry that
    image, which the item shows and so depends on."""

    details_type: ClassVar[type]

    def details(self, question: Question) -> Any:
        assert isinstance(question.details, self.details_type)
        return question.details

    def media(self, question: Question) -> tuple[Image, ...]:
        return (self.details(question).image,)

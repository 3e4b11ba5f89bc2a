"""`point`: the learner places one point on a case image (`image: <id>`); right when it
lies inside `answer`, a circle, rectangle or polygon in pixels of the image file (the
edge counts as inside)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qtiexport.fields import Fields, describe_node
from qtiexport.model import Answer, Image, Question
from qtiexport.questions.base import TEXT, Key, ResponseView
from qtiexport.questions.hotspot import IMAGE, ObjectView, object_view
from qtiexport.questions.image_areas import (
    MAX_LABEL,
    SHAPE_SCHEMA,
    AreasOnImage,
    DrawnArea,
    ImageQuestionKind,
    Shape,
    StageImageView,
    image_spec,
    read_image,
    read_shape,
    stage_view,
)

ANSWER_KEYS = ("shape", "coords", "label")
ANSWER = Key(
    "answer",
    {
        **SHAPE_SCHEMA,
        "properties": {
            **SHAPE_SCHEMA["properties"],
            "label": {**TEXT, "maxLength": MAX_LABEL, "description": "Named after answering."},
        },
        "additionalProperties": False,
        "description": "The area a right point lies in (its edge included).",
    },
)


@dataclass(frozen=True)
class PointAnswer:
    """What a point question keeps beyond Answer's fields (Question.details)."""

    case_id: str
    image: Image
    area: Shape
    label: str | None


@dataclass(frozen=True)
class SelectPointView:
    """What qti/questions/point.xml lays out."""

    image: ObjectView
    shape: str
    coords: str


@dataclass(frozen=True)
class PointAnswerView:
    """What scorm/questions/point.html lays out beside the question's common view."""

    image: StageImageView
    label: str | None


class Point(ImageQuestionKind):
    details_type = PointAnswer
    name = "point"
    keys = (IMAGE, ANSWER)
    required = ("image", "answer")
    qti_interaction_type = "selectPointInteraction"
    qti_template = "qti/questions/point.xml"
    scorm_interaction_type = "performance"
    sco_template = "scorm/questions/point.html"
    instruction = (
        "Click the place on the image, or focus “Place the point”, move it with the arrow "
        "keys (Shift for larger steps) and press Enter."
    )
    player_script = "question-point.js"
    script_in_every_package = False

    def foreign_key(self, key: str, owners: tuple[str, ...]) -> str:
        if key == "areas":
            return (
                "a `point` question has no `areas`; give the one right area under `answer`, "
                "such as `answer: {shape: circle, coords: [480, 360, 60]}`"
            )
        return super().foreign_key(key, owners)

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        image = read_image(f)
        node = f.get("answer")
        if node is None:
            return None
        what = f"the answer of {f.what}"
        if not node.is_map:
            f.diags.error(
                node.location,
                f"{what} must be an area such as `{{shape: circle, coords: [480, 360, 60]}}`, "
                f"not {describe_node(node)}",
            )
            return None
        af = Fields(node, what, ANSWER_KEYS, ("shape", "coords"), f.diags)
        label = af.text("label")
        shape = read_shape(node, what, af, image)
        if image is None or shape is None or f.case is None:
            return None
        x, y = shape.inner_point()
        details = PointAnswer(f.case.case_id, image, shape, label.strip() if label else None)
        return Answer(correct=(f"{x} {y}",), details=details)

    def areas_on_image(self, question: Question) -> AreasOnImage:
        point = self.details(question)
        name = f"answer: {point.label}" if point.label else "answer"
        return AreasOnImage(point.image, (DrawnArea(name, point.area, True),))

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        point = self.details(question)
        named = f" ({point.label})" if point.label else ""
        return f"The correct place{named} is a {describe_shape(point.area)} on the image."

    def qti_response(self, question: Question) -> ResponseView:
        """A `point` response; its correctResponse is one point inside the area (QTI
        requires a value), the score comes from `inside` on the area itself."""
        return ResponseView("single", "point", question.correct)

    def qti_interaction(self, question: Question) -> SelectPointView:
        point = self.details(question)
        return SelectPointView(
            object_view(point.case_id, point.image), point.area.shape, point.area.coords_text
        )

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        """Tracked as a `performance` interaction: the learner's point as `x,y` in image
        pixels; the pattern describes the area (`circle:480,360,60`), which no LMS can
        match against a point, and the player reports the result itself."""
        point = self.details(question)
        x, y = point.area.inner_point()
        return {
            "correct": f"{x},{y}",  # a right answer's state code
            "correctPattern": f"{point.area.shape}:{point.area.coords_text}",
            "accepted": None,
            "choiceValues": None,
            "maxLength": None,
            "image": image_spec(point.case_id, point.image),
            "area": point.area.as_spec(),
            "label": point.label,
        }

    def longest_response(self, question: Question) -> int:
        image = self.details(question).image
        # "x,y" in quotes, and a comma.
        return len(str(image.width)) + 1 + len(str(image.height)) + 3

    def sco_answer(self, question: Question, choices: tuple) -> PointAnswerView:
        point = self.details(question)
        return PointAnswerView(stage_view(point.case_id, point.image), point.label)


def describe_shape(shape: Shape) -> str:
    c = shape.coords
    if shape.shape == "circle":
        return f"circle of radius {c[2]} px centred at ({c[0]}, {c[1]})"
    if shape.shape == "rect":
        return f"rectangle from ({c[0]}, {c[1]}) to ({c[2]}, {c[3]})"
    corners = ", ".join(f"({x}, {y})" for x, y in shape.points())
    return f"polygon with corners {corners}"

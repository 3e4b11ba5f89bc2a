"""`hotspot`: the learner selects an area on a case image (`image: <id>`). The areas are
keyed a–z, each a circle, rectangle or polygon in pixels of the image file with a label
(its accessible name); `answer` names one area, or a list of areas the learner must
select together (then several may be selected)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qtiexport.fields import Fields, describe_node, suggest
from qtiexport.model import Answer, Image, Question
from qtiexport.questions.base import TEXT, Key, ResponseView
from qtiexport.questions.choices import CHOICE_KEY
from qtiexport.questions.image_areas import (
    MAX_LABEL,
    SHAPE_SCHEMA,
    AreasOnImage,
    DrawnArea,
    ImageQuestionKind,
    Shape,
    StageImageView,
    image_spec,
    qti_media_path,
    read_image,
    read_shape,
    stage_view,
)

AREA_KEYS = ("shape", "coords", "label")

IMAGE = Key("image", {**TEXT, "description": "The id of a case image (case.yaml) to ask on."})
AREAS = Key(
    "areas",
    {
        "type": "object",
        "description": "The areas the learner chooses from, keyed a–z.",
        "propertyNames": {"pattern": "^[a-z]$"},
        "additionalProperties": {
            **SHAPE_SCHEMA,
            "properties": {
                **SHAPE_SCHEMA["properties"],
                "label": {**TEXT, "maxLength": MAX_LABEL, "description": "Its accessible name."},
            },
            "required": ["shape", "coords", "label"],
            "additionalProperties": False,
        },
        "minProperties": 1,
        "maxProperties": 26,
    },
)
ANSWER = Key(
    "answer",
    {
        "anyOf": [
            {"type": "string", "pattern": "^[a-z]$"},
            {
                "type": "array",
                "items": {"type": "string", "pattern": "^[a-z]$"},
                "minItems": 1,
                "uniqueItems": True,
            },
        ],
        "description": "The key of the correct area, or a list of the keys the learner must "
        "all select.",
    },
)


@dataclass(frozen=True)
class Area:
    key: str
    shape: Shape
    label: str


@dataclass(frozen=True)
class HotspotAnswer:
    """What a hotspot question keeps beyond Answer's fields (Question.details)."""

    case_id: str
    image: Image
    areas: tuple[Area, ...]
    multiple: bool  # the answer is a list: the learner may select several areas


@dataclass(frozen=True)
class ObjectView:
    """The image `object` of a graphic interaction in QTI."""

    data: str  # URL relative to the item
    type: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class HotspotChoiceView:
    identifier: str
    shape: str
    coords: str
    label: str


@dataclass(frozen=True)
class HotspotInteractionView:
    """What qti/questions/hotspot.xml lays out."""

    max_choices: int  # 1, or 0 (no limit) when several areas are the answer
    image: ObjectView
    choices: tuple[HotspotChoiceView, ...]


@dataclass(frozen=True)
class AreaView:
    key: str
    label: str


@dataclass(frozen=True)
class HotspotAnswerView:
    """What scorm/questions/hotspot.html lays out beside the question's common view."""

    image: StageImageView
    areas: tuple[AreaView, ...]
    multiple: bool
    correct_labels: tuple[str, ...]


def object_view(case_id: str, image: Image) -> ObjectView:
    from qtiexport.qti import url

    return ObjectView(
        url(qti_media_path(case_id, image)), image.media_type, image.width, image.height, image.alt
    )


def read_areas(f: Fields, image: Image | None) -> tuple[Area, ...]:
    node = f.get("areas")
    if node is None:
        return ()
    if not node.is_map or not node.value:
        f.diags.error(
            node.location,
            f"`areas` of {f.what} must map area keys a–z to areas such as "
            "`a: {shape: circle, coords: [412, 300, 40], label: Septum}`, not "
            f"{describe_node(node)}",
        )
        return ()
    areas = []
    for key, value in node.value.items():
        where = node.key_locations.get(key, value.location)
        if not CHOICE_KEY.fullmatch(key):
            f.diags.error(where, f"area key `{key}` of {f.what} must be one letter a–z")
            continue
        af = Fields(value, f"area `{key}` of {f.what}", AREA_KEYS, AREA_KEYS, f.diags)
        if not af.ok:
            continue
        label = af.text("label")
        if label is not None and len(label) > MAX_LABEL:
            af.error("label", f"the label of area `{key}` is longer than {MAX_LABEL} characters")
            label = None
        shape = read_shape(value, f"area `{key}` of {f.what}", af, image)
        if label is not None and shape is not None:
            areas.append(Area(key, shape, label.strip()))
    return tuple(areas)


class Hotspot(ImageQuestionKind):
    details_type = HotspotAnswer
    name = "hotspot"
    keys = (IMAGE, AREAS, ANSWER)
    required = ("image", "areas", "answer")
    qti_interaction_type = "hotspotInteraction"
    qti_template = "qti/questions/hotspot.xml"
    scorm_interaction_type = "choice"
    sco_template = "scorm/questions/hotspot.html"
    instruction = (
        "Select the area on the image: click it, or Tab to its button (named by its label) "
        "and press Enter."
    )
    player_script = "question-hotspot.js"
    script_in_every_package = False

    def foreign_key(self, key: str, owners: tuple[str, ...]) -> str:
        if key == "choices":
            return "a `hotspot` question has no `choices`; give the areas under `areas`"
        return super().foreign_key(key, owners)

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        image = read_image(f)
        areas = read_areas(f, image)
        correct, multiple = self.read_answer(f, areas)
        if image is None or not areas or not correct or f.case is None:
            return None
        details = HotspotAnswer(f.case.case_id, image, areas, multiple)
        return Answer(correct=correct, details=details)

    def read_answer(self, f: Fields, areas: tuple[Area, ...]) -> tuple[tuple[str, ...], bool]:
        node = f.get("answer")
        if node is None:
            return (), False
        keys = [a.key for a in areas]
        declared = f.get("areas")
        written_keys = (
            [k for k in declared.value if CHOICE_KEY.fullmatch(k)]
            if declared is not None and declared.is_map
            else []
        )
        entries = node.value if node.is_list else [node]
        if not entries or not all(e.is_scalar and isinstance(e.value, str) for e in entries):
            f.diags.error(
                node.location,
                f"the answer of {f.what} must be an area key such as `a`, or a list of keys "
                f"such as [a, b], not {describe_node(node)}",
            )
            return (), node.is_list
        correct: list[str] = []
        for entry in entries:
            key = entry.value
            if key in correct:
                f.diags.error(entry.location, f"the answer of {f.what} names `{key}` twice")
                return (), node.is_list
            if key not in written_keys:
                defined = ", ".join(written_keys) or "none"
                f.diags.error(
                    entry.location,
                    f"the answer of {f.what} names area `{key}`, which `areas` does not "
                    f"define (defined: {defined}){suggest(key, written_keys)}",
                )
                return (), node.is_list
            correct.append(key)
        if not all(k in keys for k in correct):
            return (), node.is_list  # an area it names has its own error
        return tuple(correct), node.is_list

    def areas_on_image(self, question: Question) -> AreasOnImage:
        hotspot = self.details(question)
        return AreasOnImage(
            hotspot.image,
            tuple(
                DrawnArea(f"{a.key}: {a.label}", a.shape, a.key in question.correct)
                for a in hotspot.areas
            ),
        )

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        labels = {a.key: a.label for a in self.details(question).areas}
        shown = ", ".join(labels[k] for k in question.correct)
        return f"The correct area{'s' if len(question.correct) > 1 else ''}: {shown}."

    def qti_response(self, question: Question) -> ResponseView:
        cardinality = "multiple" if self.details(question).multiple else "single"
        return ResponseView(cardinality, "identifier", question.correct)

    def qti_interaction(self, question: Question) -> HotspotInteractionView:
        hotspot = self.details(question)
        return HotspotInteractionView(
            max_choices=0 if hotspot.multiple else 1,
            image=object_view(hotspot.case_id, hotspot.image),
            choices=tuple(
                HotspotChoiceView(a.key, a.shape.shape, a.shape.coords_text, a.label)
                for a in hotspot.areas
            ),
        )

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        """Tracked as a `choice` interaction: the area keys, comma-separated in the
        pattern (RTE 3.4.2.7.4). The state code is the selected keys ("ab")."""
        hotspot = self.details(question)
        return {
            "correct": list(question.correct),
            "correctPattern": ",".join(question.correct),
            "accepted": None,
            "choiceValues": None,
            "maxLength": None,
            "multiple": hotspot.multiple,
            "image": image_spec(hotspot.case_id, hotspot.image),
            "areas": [{"key": a.key, **a.shape.as_spec(), "label": a.label} for a in hotspot.areas],
        }

    def longest_response(self, question: Question) -> int:
        return len(self.details(question).areas) + 3  # every key in quotes, and a comma

    def sco_answer(self, question: Question, choices: tuple) -> HotspotAnswerView:
        hotspot = self.details(question)
        labels = {a.key: a.label for a in hotspot.areas}
        return HotspotAnswerView(
            image=stage_view(hotspot.case_id, hotspot.image),
            areas=tuple(AreaView(a.key, a.label) for a in hotspot.areas),
            multiple=hotspot.multiple,
            correct_labels=tuple(labels[k] for k in question.correct),
        )

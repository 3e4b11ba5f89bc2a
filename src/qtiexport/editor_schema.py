"""JSON Schemas of course.yaml, case.yaml and questions.yaml for editors.

They describe the same keys the validator accepts (a test keeps the two in step), so an
editor can complete and check the files while the author types. The validator remains
the authority: it also checks what JSON Schema cannot, such as answer keys and images.
"""

from __future__ import annotations

from typing import Any

from qtiexport.questions import KIND_KEYS, NAMES, REGISTRY
from qtiexport.questions.base import MARKDOWN, TEXT, QuestionKind

DRAFT = "http://json-schema.org/draft-07/schema#"
IDENTIFIER = {
    "type": "string",
    "pattern": r"^[A-Za-z_][A-Za-z0-9_.\-]*$",
    "maxLength": 255,
    "description": "Starts with a letter or _; letters, digits, _, - and . only.",
}
TEXT_LIST = {"anyOf": [TEXT, {"type": "array", "items": TEXT}]}


def _object(properties: dict[str, Any], required: list[str], description: str) -> dict:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


MASTERY_SCORE = {
    "type": "integer",
    "minimum": 0,
    "maximum": 100,
    "description": "Percentage needed to pass; becomes adlcp:masteryscore.",
}

COURSE = {
    "$schema": DRAFT,
    "title": "qtiexport course.yaml",
    **_object(
        {
            "id": IDENTIFIER,
            "title": TEXT,
            "description": MARKDOWN,
            "language": {"type": "string", "description": "BCP 47 tag, default en."},
            "version": {"type": ["string", "number"]},
            "authors": TEXT_LIST,
            "license": TEXT,
            "mastery_score": MASTERY_SCORE,
            "cases": {
                "type": "array",
                "items": IDENTIFIER,
                "minItems": 1,
                "uniqueItems": True,
                "description": "Case folders under cases/, in order.",
            },
        },
        ["id", "title", "cases"],
        "Course metadata and the ordered list of cases.",
    ),
}

IMAGE = {
    **_object(
        {
            "id": IDENTIFIER,
            "file": {"type": "string", "description": "Path relative to the case folder."},
            "series": {
                "description": "The slices of one sequence, in order: a list of paths, or one "
                "path with `*` (images/t2/*.png) naming them all, in natural order.",
                "anyOf": [
                    {"type": "string", "pattern": r"\*"},
                    {"type": "array", "items": TEXT, "minItems": 2},
                ],
            },
            "annotated": {
                "type": "string",
                "description": "The same image with arrows (with `file` only).",
            },
            "caption": MARKDOWN,
            "alt": {**TEXT, "description": "Accessible text: what the image shows."},
            "modality": {"type": "string", "examples": ["XR", "CT", "MR", "US", "NM"]},
            "findings": {
                **MARKDOWN,
                "description": "Markdown (CommonMark, tables too): what the image shows, "
                "revealed once the case's questions are answered.",
            },
        },
        ["id", "caption", "alt"],
        "An image of the case: one `file`, or a `series` of slices.",
    ),
    "oneOf": [
        {"required": ["file"], "not": {"required": ["series"]}},
        {
            "required": ["series"],
            "allOf": [{"not": {"required": ["file"]}}, {"not": {"required": ["annotated"]}}],
        },
    ],
}

CASE = {
    "$schema": DRAFT,
    "title": "qtiexport case.yaml",
    **_object(
        {
            "id": {**IDENTIFIER, "description": "Must equal the case folder's name."},
            "title": TEXT,
            "history": MARKDOWN,
            "credit": {
                **MARKDOWN,
                "description": "Markdown, one line: whom the case or its images come from "
                "(Courtesy of …), shown in small print under the history.",
            },
            "images": {"type": "array", "items": IMAGE},
            "diagnosis": MARKDOWN,
            "teaching": {
                "type": "array",
                "items": _object(
                    {"title": TEXT, "body": MARKDOWN}, ["title", "body"], "A teaching section."
                ),
            },
            "references": TEXT_LIST,
            "keywords": TEXT_LIST,
            "mastery_score": {
                **MASTERY_SCORE,
                "description": "This case's pass mark in place of the course's "
                "`mastery_score`; becomes its adlcp:masteryscore.",
            },
        },
        ["id", "title", "history"],
        "The narrative of one case.",
    ),
}


def kind_key_schema(name: str) -> dict[str, Any]:
    """The schema of a key some kinds declare: the kind's own when one kind has it or all
    agree, else any of theirs (each question's `allOf` part narrows it by its type)."""
    schemas: list[dict[str, Any]] = []
    for kind in REGISTRY:
        for key in kind.keys:
            if key.name == name and key.schema not in schemas:
                schemas.append(key.schema)
    if len(schemas) == 1:
        return schemas[0]
    return {"anyOf": schemas, "description": "Depends on the question's type."}


def kind_schema(kind: QuestionKind) -> dict[str, Any]:
    """The kind's part, which also refuses the keys only other kinds take."""
    part = kind.schema()
    own = {key.name for key in kind.keys}
    foreign = [name for name in KIND_KEYS if name not in own]
    if foreign:
        part["then"]["not"] = {"anyOf": [{"required": [name]} for name in foreign]}
    return part


QUESTION = {
    **_object(
        {
            "id": IDENTIFIER,
            "type": {"enum": list(NAMES)},
            "stem": MARKDOWN,
            "images": {
                "type": "array",
                "items": IDENTIFIER,
                "description": "Image ids of the case.",
            },
            **{name: kind_key_schema(name) for name in KIND_KEYS},
            "shuffle": {"type": "boolean"},
            "points": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
            "feedback": _object(
                {
                    "correct": MARKDOWN,
                    "incorrect": MARKDOWN,
                    "explanation": MARKDOWN,
                    "choices": {"type": "object", "additionalProperties": MARKDOWN},
                },
                [],
                "Feedback shown after answering.",
            ),
        },
        ["id", "type", "stem"],
        "One question; its type decides which other keys it takes.",
    ),
    # Each kind's own keys and the ones it requires, for questions of its type.
    "allOf": [kind_schema(kind) for kind in REGISTRY],
}

QUESTIONS = {
    "$schema": DRAFT,
    "title": "qtiexport questions.yaml",
    **_object(
        {"questions": {"type": "array", "items": QUESTION, "minItems": 1}},
        ["questions"],
        "The questions of one case, in order.",
    ),
}

EDITOR_SCHEMAS: dict[str, dict] = {"course": COURSE, "case": CASE, "questions": QUESTIONS}

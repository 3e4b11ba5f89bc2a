"""What a question kind declares: its keys, and its part in every stage.

A kind is one small class (MkDocs' config options are the model): its name, its own
YAML keys with their editor schema, how it reads them into the model, its QTI 2.1
response declaration, interaction and response processing, its SCORM 1.2 interaction
and learner state, and its player UI (templates and a script). The pipeline loops over
the registry and asks the question's kind; it never branches on a type's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup

from qtiexport.fields import Fields
from qtiexport.model import Answer, Image, Question

if TYPE_CHECKING:
    from qtiexport.questions.image_areas import AreasOnImage

# JSON Schema fragments the kinds' keys and the editor schemas share.
TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
MARKDOWN: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "Markdown (CommonMark).",
}


def number(value: float) -> str:
    """A score as QTI writes it: no trailing `.0`, full precision otherwise."""
    return f"{value:g}" if float(value).is_integer() else repr(float(value))


# ------------------------------------------------------------------------ keys


class Key:
    """One YAML key a kind declares, with its JSON Schema for editors. A plain Key is read
    by the kind's `read`; the subclasses below read themselves."""

    def __init__(self, name: str, schema: dict[str, Any]):
        self.name = name
        self.schema = schema

    def read(self, f: Fields) -> Any:
        raise NotImplementedError(f"the kind reads `{self.name}` itself")


class WholeNumber(Key):
    """A whole number within bounds, with a default when absent."""

    def __init__(self, name: str, default: int, low: int, high: int, description: str):
        super().__init__(
            name,
            {"type": "integer", "minimum": low, "maximum": high, "description": description},
        )
        self.default, self.low, self.high = default, low, high

    def read(self, f: Fields) -> int:
        return int(f.number(self.name, self.default, self.low, self.high, integer=True))


class Word(Key):
    """One of a few words; the first is the default."""

    def __init__(self, name: str, words: tuple[str, ...], description: str):
        super().__init__(name, {"enum": list(words), "description": description})
        self.words = words

    def read(self, f: Fields) -> str:
        value = f.text(self.name) or self.words[0]
        if value not in self.words:
            allowed = " or ".join(f"`{word}`" for word in self.words)
            f.error(self.name, f"unknown {self.name} `{value}`; use {allowed}")
            return self.words[0]
        return value


# ------------------------------------------------------------------ QTI views


@dataclass(frozen=True)
class MapEntryView:
    key: str
    value: str


@dataclass(frozen=True)
class ResponseView:
    """The item's responseDeclaration: how a response is typed, and what is right."""

    cardinality: str  # single, multiple or ordered
    base_type: str
    correct: tuple[str, ...]
    mapping: tuple[MapEntryView, ...] = ()
    mapping_case_insensitive: bool = False
    # The response variable's name; a kind's partial binds its interaction to the same.
    identifier: str = "RESPONSE"


# ------------------------------------------------------------------------ kind


class QuestionKind:
    """One question type. Subclasses set the class attributes and implement the methods;
    tests/test_question_registry.py checks that every registered kind has every part."""

    name: ClassVar[str]
    # Its own YAML keys, beside the ones every question has (id, type, stem, images,
    # points, shuffle, feedback), and which of them it requires.
    keys: ClassVar[tuple[Key, ...]]
    required: ClassVar[tuple[str, ...]] = ("answer",)
    # Whether `feedback: choices:` may give feedback per choice.
    choice_feedback: ClassVar[bool] = False
    # Whether answers are scored. An unscored kind (essay) counts in no score or maximum
    # score (the case's, the QTI items' and test's, the player's), its QTI partial's
    # `correct_when` is the condition for an answer given, and SCORM reports its result
    # as `neutral`.
    scored: ClassVar[bool] = True
    # QTI 2.1: the interaction named in the manifest's metadata, and the partial with
    # the macros `interaction(item)` and `correct_when(item)` (the condition for a right
    # answer in responseProcessing).
    qti_interaction_type: ClassVar[str]
    qti_template: ClassVar[str]
    # SCORM 1.2: cmi.interactions.n.type (RTE 3.4.2.7.2).
    scorm_interaction_type: ClassVar[str]
    # The player: the partial with the macros `answer(question)` (inside the form) and
    # `correct_answer(question)` (shown after a wrong answer), the instruction above the
    # answer, and the script in templates/scorm/assets that registers
    # `QtiQuestions[<name>]` for the player.
    sco_template: ClassVar[str]
    instruction: ClassVar[str]
    player_script: ClassVar[str]
    # Whether every SCORM package carries the player script, or only a package with a
    # question of this kind. The first kinds' scripts have always been in every package
    # (tests/test_packages_unchanged.py); a later kind leaves other courses' packages as
    # they were.
    script_in_every_package: ClassVar[bool] = True

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        """Read and check the kind's own keys of one question (errors go to `f`): what
        could be read, even when it does not make a question (its choices still check the
        question's per-choice feedback), or None when nothing could."""
        raise NotImplementedError

    def complete(self, answer: Answer) -> bool:
        """Whether what `read` returned makes a question."""
        return bool(answer.correct)

    def foreign_key(self, key: str, owners: tuple[str, ...]) -> str:
        """The error for `key`, which only the kinds `owners` take."""
        quoted = [f"`{owner}`" for owner in owners]
        names = " and ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 2 else quoted)
        return f"`{key}` applies only to {names} questions"

    # -- editor schema
    def schema(self) -> dict[str, Any]:
        """Its part of the questions.yaml schema: for questions of this type, its keys'
        schemas and the keys it requires."""
        return {
            "if": {"properties": {"type": {"const": self.name}}, "required": ["type"]},
            "then": {
                "properties": {key.name: key.schema for key in self.keys},
                "required": list(self.required),
            },
        }

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        """The correct answer in words, for the default feedback of a wrong answer."""
        raise NotImplementedError

    def qti_response(self, question: Question) -> ResponseView:
        raise NotImplementedError

    def qti_interaction(self, question: Question) -> object:
        """What the partial's `interaction` and `correct_when` macros lay out."""
        raise NotImplementedError

    def qti_interaction_of(self, question: Question) -> str:
        """The interaction this question's item uses, named in the manifest's metadata:
        `qti_interaction_type`, unless the kind picks one per question."""
        return self.qti_interaction_type

    def media(self, question: Question) -> tuple[Image, ...]:
        """The case images the interaction itself shows (an image question's image),
        beside the question's `images`: its item depends on the case's media."""
        return ()

    def areas_on_image(self, question: Question) -> AreasOnImage | None:
        """An image question's image and areas, which `qtiexport render` draws for the
        author to check; None for a question of another kind."""
        return None

    def solution(self, question: Question) -> Markup | None:
        """What every learner is shown once they answer, whatever the answer (an essay's
        model answer), as checked XHTML; None for none."""
        return None

    def qti_mapped_score(self, question: Question) -> bool:
        """Whether SCORE is the mapped response (map_response) rather than all or nothing."""
        return False

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        """The kind's facts in the player's JSON: the correct response pattern, and what
        its script needs to score and restore an answer."""
        raise NotImplementedError

    def longest_response(self, question: Question) -> int:
        """Characters of the longest JSON-encoded learner state in suspend_data, with
        its separating comma (see tracking.py)."""
        raise NotImplementedError

    def shows_letters(self, question: Question) -> bool:
        """Whether the page shows its choices' letters."""
        return False

    def sco_answer(self, question: Question, choices: tuple) -> object:
        """What the partial's macros lay out beside the question's common view;
        `choices` are the page's views of its choices."""
        raise NotImplementedError

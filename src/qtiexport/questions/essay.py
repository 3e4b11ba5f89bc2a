"""`essay`: a written answer with no automatic score. The learner sees the model answer
once they submit; the answer counts in no score or maximum (a teacher reads it), and
SCORM 1.2 reports it as a `fill-in` interaction with the result `neutral`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from qtiexport.fields import Fields
from qtiexport.markdown import Markdown
from qtiexport.model import Answer, Question, shown
from qtiexport.questions.base import MARKDOWN, Key, QuestionKind, ResponseView, WholeNumber

# SCORM 1.2 keeps at most 255 characters of cmi.interactions.n.student_response.
MAX_ESSAY_LENGTH = 255
MAX_LENGTH = WholeNumber(
    "max_length",
    MAX_ESSAY_LENGTH,
    1,
    MAX_ESSAY_LENGTH,
    "The longest answer a learner may type (SCORM 1.2 keeps 255 characters).",
)
MODEL_ANSWER = Key(
    "model_answer",
    {**MARKDOWN, "description": "Markdown (CommonMark), shown after submitting; not scored."},
)
# Keys that mean a right or wrong answer, which an essay never has.
SCORED_FEEDBACK = ("correct", "incorrect")


@dataclass(frozen=True)
class EssayDetails:
    """What an essay keeps beyond the common question fields."""

    model_answer: Markdown | None = shown("block", default=None)
    # The points the author wrote, shown beside the question; None when not written.
    marked_points: float | None = None


@dataclass(frozen=True)
class EssayInteractionView:
    """What qti/questions/essay.xml lays out."""

    expected_length: int


@dataclass(frozen=True)
class EssayAnswerView:
    """What scorm/questions/essay.html lays out beside the question's common view."""

    max_length: int
    model_answer: Markup | None
    marked_points: str | None  # "2 points", when the author gave points


def details_of(question: Question) -> EssayDetails:
    details = question.details
    assert isinstance(details, EssayDetails), question.type
    return details


def points_text(points: float) -> str:
    shown_points = f"{points:g}"
    return f"{shown_points} point" + ("" if points == 1 else "s")


class Essay(QuestionKind):
    name = "essay"
    keys = (MODEL_ANSWER, MAX_LENGTH)
    required = ()
    scored = False
    qti_interaction_type = "extendedTextInteraction"
    qti_template = "qti/questions/essay.xml"
    scorm_interaction_type = "fill-in"
    sco_template = "scorm/questions/essay.html"
    instruction = "Write your answer; it is not scored automatically."
    player_script = "question-essay.js"
    script_in_every_package = False  # other courses' packages stay as they were

    def foreign_key(self, key: str, owners: tuple[str, ...]) -> str:
        if key in ("answer", "choices"):
            return (
                f"an `essay` question has no `{key}`: it is not scored automatically; "
                "write what a good answer says under `model_answer`"
            )
        return super().foreign_key(key, owners)

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        max_length = MAX_LENGTH.read(f)
        model_answer = f.markdown("model_answer", EssayDetails)
        if f.get("shuffle") is not None:
            f.error("shuffle", "`shuffle` applies only to questions with choices; remove it")
        feedback = f.get("feedback")
        if feedback is not None and feedback.is_map:
            for key in SCORED_FEEDBACK:
                if key in feedback.value:
                    f.diags.error(
                        feedback.key_locations[key],
                        f"{f.what} is an `essay`, which is never right or wrong, so feedback "
                        f"`{key}` would never be shown; use `explanation`",
                    )
        written = f.get("points")
        marked_points = written.value if written is not None else None
        if not isinstance(marked_points, (int, float)) or isinstance(marked_points, bool):
            marked_points = None  # the validator reports a points value that is no number
        return Answer(
            max_length=max_length,
            details=EssayDetails(model_answer=model_answer, marked_points=marked_points),
        )

    def complete(self, answer: Answer) -> bool:
        return True  # every key of an essay is optional

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        model_answer = details_of(question).model_answer
        return f"Model answer: {model_answer.text}" if model_answer else ""

    def qti_response(self, question: Question) -> ResponseView:
        """A string, with no correct response: Canvas imports an extendedTextInteraction
        with neither a correctResponse nor a match in its response processing as an
        essay question."""
        return ResponseView("single", "string", ())

    def qti_interaction(self, question: Question) -> EssayInteractionView:
        return EssayInteractionView(expected_length=question.max_length)

    def solution(self, question: Question) -> Markup | None:
        model_answer = details_of(question).model_answer
        return model_answer.html if model_answer and model_answer.html else None

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        return {
            "correct": None,
            "correctPattern": None,  # an essay has no correct response to report
            "accepted": None,
            "choiceValues": None,
            "maxLength": question.max_length,
        }

    def longest_response(self, question: Question) -> int:
        # As for `text`: JSON writes a character as at most two (quotes, backslashes and
        # line breaks, the only control character the player keeps), and the player caps
        # the text at max_length UTF-16 units.
        return 2 * question.max_length + 3

    def sco_answer(self, question: Question, choices: tuple) -> EssayAnswerView:
        from qtiexport.scorm import for_page  # scorm.py imports the registry

        details = details_of(question)
        solution = self.solution(question)
        return EssayAnswerView(
            max_length=question.max_length,
            model_answer=for_page(solution) if solution is not None else None,
            marked_points=(
                points_text(details.marked_points) if details.marked_points is not None else None
            ),
        )

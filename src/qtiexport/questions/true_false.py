"""`true_false`: a statement the learner judges true or false.

Canvas's QTI importer (instructure/canvas-lms, gems/plugins/qti_exporter/lib/qti/
choice_interaction.rb) makes a True/False question, rather than a multiple-choice one,
only when a responseCondition holds a `match` of a variable whose identifier starts
with "TF" (`process_response_conditions`) against the `baseValue` of a choice's
identifier, and the item has exactly two choices whose texts contain "true" and
"false" (`process_true_false_question`). So the response is TF_RESPONSE, the choices
read True and False, and a right answer is a match with the correct choice named
outright: the same score as matching `<correct/>`, which that import cannot read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from qtiexport.fields import Fields, describe_node
from qtiexport.markdown import Markdown
from qtiexport.model import Answer, Choice, Question
from qtiexport.questions.base import Key, ResponseView
from qtiexport.questions.choices import ChoiceKind, QtiChoiceView

# How a true/false answer is written, both in cmi.interactions and in suspend_data.
CODES = {"true": "t", "false": "f"}
# Canvas reads a `match` on a variable named TF… as a true/false question.
RESPONSE = "TF_RESPONSE"


@dataclass(frozen=True)
class TrueFalseInteractionView:
    """What qti/questions/true_false.xml lays out."""

    response: str  # the response variable's identifier
    shuffle: str  # "true" / "false"
    max_choices: int
    choices: tuple[QtiChoiceView, ...]
    correct: str  # the identifier of the correct choice


class TrueFalse(ChoiceKind):
    name = "true_false"
    keys = (Key("answer", {"type": "boolean", "description": "Whether the stem is true."}),)
    choice_feedback = False
    scorm_interaction_type = "true-false"
    qti_template = "qti/questions/true_false.xml"
    instruction = "Choose true or false."

    def foreign_key(self, key: str, owners: tuple[str, ...]) -> str:
        if key == "choices":
            return "a `true_false` question has no `choices`; its answer is true or false"
        return super().foreign_key(key, owners)

    def read(self, f: Fields) -> Answer | None:
        where = f.node.location
        choices = (
            Choice("true", Markdown("True", Markup("True")), True, None, where),
            Choice("false", Markdown("False", Markup("False")), True, None, where),
        )
        answer = f.get("answer")
        if answer is None:
            return None
        if not isinstance(answer.value, bool):
            f.diags.error(
                answer.location,
                f"the answer of {f.what} must be true or false, not {describe_node(answer)}",
            )
            return None
        return Answer(choices=choices, correct=("true" if answer.value else "false",))

    def answer_text(self, question: Question) -> str:
        return f"The statement is {question.correct[0]}."

    def qti_response(self, question: Question) -> ResponseView:
        return ResponseView("single", "identifier", question.correct, identifier=RESPONSE)

    def qti_interaction(self, question: Question) -> TrueFalseInteractionView:
        choice = super().qti_interaction(question)
        return TrueFalseInteractionView(
            response=RESPONSE,
            shuffle=choice.shuffle,
            max_choices=choice.max_choices,
            choices=choice.choices,
            correct=question.correct[0],
        )

    def state_code(self, keys: Iterable[str]) -> str:
        return "".join(CODES[k] for k in sorted(keys))

    def correct_pattern(self, question: Question) -> str:
        return CODES[question.correct[0]]

    def shows_letters(self, question: Question) -> bool:
        return False  # the two fixed choices have no letters a learner needs to see

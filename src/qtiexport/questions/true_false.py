"""`true_false`: a statement the learner judges true or false."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup

from qtiexport.fields import Fields, describe_node
from qtiexport.markdown import Markdown
from qtiexport.model import Answer, Choice, Question
from qtiexport.questions.base import Key
from qtiexport.questions.choices import ChoiceKind

# How a true/false answer is written, both in cmi.interactions and in suspend_data.
CODES = {"true": "t", "false": "f"}


class TrueFalse(ChoiceKind):
    name = "true_false"
    keys = (Key("answer", {"type": "boolean", "description": "Whether the stem is true."}),)
    choice_feedback = False
    scorm_interaction_type = "true-false"
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

    def state_code(self, keys: Iterable[str]) -> str:
        return "".join(CODES[k] for k in sorted(keys))

    def correct_pattern(self, question: Question) -> str:
        return CODES[question.correct[0]]

    def shows_letters(self, question: Question) -> bool:
        return False  # the two fixed choices have no letters a learner needs to see

"""`multiple`: every correct choice among lettered choices (check boxes), all or nothing
or with partial credit."""

from __future__ import annotations

from qtiexport.fields import Fields
from qtiexport.loader import Node
from qtiexport.model import Answer, Question
from qtiexport.questions.base import TEXT, Key, MapEntryView, ResponseView, Word, number
from qtiexport.questions.choices import CHOICES, ChoiceKind, keys_in_one_text

SCORING = Word(
    "scoring",
    ("all_or_nothing", "partial"),
    "partial: each correct choice earns its share of the points, each wrong one costs it.",
)


class Multiple(ChoiceKind):
    name = "multiple"
    keys = (
        CHOICES,
        Key(
            "answer",
            {
                "anyOf": [TEXT, {"type": "array", "items": TEXT, "minItems": 1}],
                "description": "The keys of every correct choice.",
            },
        ),
        SCORING,
    )
    instruction = "Choose every answer that is correct."
    input_type = "checkbox"

    def read(self, f: Fields) -> Answer | None:
        scoring = SCORING.read(f)
        answer = super().read(f)
        return Answer(answer.choices, answer.correct, scoring)

    def answer_items(self, f: Fields, node: Node) -> list[Node] | None:
        if (keys := keys_in_one_text(node)) is not None:
            f.diags.error(
                node.location,
                f"the answer `{node.value}` of {f.what} is one text to YAML; for several "
                f"keys, write a list: `[{', '.join(keys)}]`",
            )
            return None
        items = node.value if node.is_list else [node]
        if not items:
            f.diags.error(
                node.location,
                f"{f.what} is `multiple` and needs at least one correct choice in `answer`",
            )
            return None
        return items

    def max_choices(self, question: Question) -> int:
        return 0  # any number

    def qti_response(self, question: Question) -> ResponseView:
        return ResponseView("multiple", "identifier", question.correct, self.mapping(question))

    def qti_mapped_score(self, question: Question) -> bool:
        return question.scoring == "partial"

    def mapping(self, question: Question) -> tuple[MapEntryView, ...]:
        """Partial credit (map_response): each correct choice earns points/n (n correct
        choices), each wrong choice costs as much, and the total is bounded by 0 and the
        question's points."""
        values = self.choice_values(question)
        if values is None:
            return ()
        return tuple(MapEntryView(key, number(value)) for key, value in values.items())

    def choice_values(self, question: Question) -> dict[str, float] | None:
        """Points per chosen key for partial scoring, as QTI's map_response gives them;
        the player bounds the sum between 0 and the question's points."""
        if question.scoring != "partial":
            return None
        share = question.points / len(question.correct)
        return {c.key: share if c.key in question.correct else -share for c in question.choices}

    def longest_response(self, question: Question) -> int:
        return len(question.choices) + 3  # every letter in quotes, and a comma

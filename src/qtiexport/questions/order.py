"""`order`: lettered items the learner puts in the right order (Move up / Move down),
all or nothing or with credit per item in its place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from qtiexport.fields import Fields, describe_node
from qtiexport.model import Answer, Question
from qtiexport.questions.base import MARKDOWN, Key, QuestionKind, ResponseView, Word, number
from qtiexport.questions.choices import MAX_CHOICES, read_choice_keys, read_choices

ITEMS = Key(
    "choices",
    {
        "type": "object",
        "description": "The items to put in order, keyed a–z.",
        "propertyNames": {"pattern": "^[a-z]$"},
        "additionalProperties": {
            "anyOf": [
                MARKDOWN,
                {
                    "type": "object",
                    "properties": {"text": MARKDOWN},
                    "required": ["text"],
                    "additionalProperties": False,
                },
            ]
        },
        "minProperties": 2,
        "maxProperties": MAX_CHOICES,
    },
)
ORDER = Key(
    "answer",
    {
        "type": "array",
        "items": {"type": "string", "pattern": "^[a-z]$"},
        "minItems": 2,
        "uniqueItems": True,
        "description": "Every item's key once, in the correct order.",
    },
)
SCORING = Word(
    "scoring",
    ("all_or_nothing", "partial"),
    "partial: each item in its right place earns its share of the points.",
)


@dataclass(frozen=True)
class QtiItemView:
    identifier: str
    body: Markup


@dataclass(frozen=True)
class PlaceView:
    """Partial credit: `share` of the points when the item `key` is at `position` (1-based)."""

    position: int
    key: str
    share: str


@dataclass(frozen=True)
class OrderInteractionView:
    """What qti/questions/order.xml lays out."""

    shuffle: str  # "true" / "false"
    items: tuple[QtiItemView, ...]  # in the order they are first shown
    places: tuple[PlaceView, ...]  # empty when all or nothing


@dataclass(frozen=True)
class OrderAnswerView:
    """What scorm/questions/order.html lays out beside the question's common view."""

    items: tuple  # the page's views of the items, in the order they are first shown
    correct_items: tuple  # the same, in the correct order


def shown_order(question: Question) -> tuple[str, ...]:
    """The keys in the order the items are first shown: as written, unless that is the
    answer, which would leave nothing to do; then the first goes last. (A shuffling
    player draws again from this, and never settles on the answer either.)"""
    keys = tuple(c.key for c in question.choices)
    return keys[1:] + keys[:1] if keys == question.correct else keys


class Order(QuestionKind):
    name = "order"
    keys = (ITEMS, ORDER, SCORING)
    qti_interaction_type = "orderInteraction"
    qti_template = "qti/questions/order.xml"
    scorm_interaction_type = "sequencing"
    sco_template = "scorm/questions/order.html"
    instruction = "Put the items in the right order, first at the top, with Move up and Move down."
    player_script = "question-order.js"
    script_in_every_package = False  # other courses' packages stay as they were

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        scoring = SCORING.read(f)
        items = read_choices(f)
        for item in items:
            if item.fixed:
                f.diags.error(
                    item.location,
                    f"item `{item.key}` of {f.what} cannot be `fixed`: the learner moves "
                    "every item of an `order` question; remove `fixed`",
                )
        return Answer(choices=items, correct=self.read_order(f, items), scoring=scoring)

    def read_order(self, f: Fields, items: tuple) -> tuple[str, ...]:
        node = f.get("answer")
        if node is None:
            return ()
        if not node.is_list:
            example = ", ".join(c.key for c in items) or "b, a, c"
            f.diags.error(
                node.location,
                f"the answer of {f.what} must list every item's key in the correct order, "
                f"like [{example}], not {describe_node(node)}",
            )
            return ()
        order = read_choice_keys(f, node.value, items)
        left_out = [c.key for c in items if c.key not in order]
        if left_out and (order or not node.value):  # [] leaves out every item
            f.diags.error(
                node.location,
                f"the answer of {f.what} leaves out {', '.join(f'`{k}`' for k in left_out)}; "
                "list every item once, in the correct order",
            )
            return ()
        return order

    def complete(self, answer: Answer) -> bool:
        return bool(answer.correct and answer.choices)

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        texts = {c.key: c.text.text for c in question.choices}
        shown = "; ".join(f"{n}. {texts[k]}" for n, k in enumerate(question.correct, start=1))
        return f"The correct order: {shown}."

    def qti_response(self, question: Question) -> ResponseView:
        return ResponseView("ordered", "identifier", question.correct)

    def qti_mapped_score(self, question: Question) -> bool:
        """Partial credit sets SCORE before the right/wrong condition: the partial's
        `score` macro adds each item's share when it is in its place."""
        return question.scoring == "partial"

    def qti_interaction(self, question: Question) -> OrderInteractionView:
        texts = {c.key: c.text.html for c in question.choices}
        places = ()
        if question.scoring == "partial":
            share = number(question.points / len(question.correct))
            places = tuple(
                PlaceView(n, key, share) for n, key in enumerate(question.correct, start=1)
            )
        return OrderInteractionView(
            shuffle="true" if question.shuffle else "false",
            items=tuple(QtiItemView(key, texts[key]) for key in shown_order(question)),
            places=places,
        )

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        """The state code is the keys in the learner's order ("bac"); SCORM 1.2 writes a
        sequence as the keys separated by commas ("b,a,c", RTE 3.4.2.7.4)."""
        return {
            "correct": "".join(question.correct),
            "correctPattern": ",".join(question.correct),
            "accepted": None,
            "choiceValues": None,
            "maxLength": None,
            "partial": question.scoring == "partial",
        }

    def longest_response(self, question: Question) -> int:
        return len(question.choices) + 3  # every letter in quotes, and a comma

    def sco_answer(self, question: Question, choices: tuple) -> OrderAnswerView:
        by_key = {c.key: c for c in choices}
        return OrderAnswerView(
            items=tuple(by_key[key] for key in shown_order(question)),
            correct_items=tuple(by_key[key] for key in question.correct),
        )

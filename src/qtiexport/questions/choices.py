"""What the choice kinds (single, multiple, true_false) share: lettered choices read from
`choices:`, an answer of choice keys, a QTI choiceInteraction and a SCORM choice state."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from qtiexport.fields import Fields, describe_node, read_markdown, read_text
from qtiexport.loader import Node
from qtiexport.model import Answer, Choice, Question, markdown_mode
from qtiexport.questions.base import MARKDOWN, Key, QuestionKind, ResponseView

CHOICE_KEY = re.compile(r"[a-z]")
MAX_CHOICES = 26  # SCORM 1.2 reports a choice as one letter
CHOICE_KEYS = ("text", "fixed")

CHOICES = Key(
    "choices",
    {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z]$"},
        "additionalProperties": {
            "anyOf": [
                MARKDOWN,
                {
                    "type": "object",
                    "description": "A choice that stays in place when shuffled.",
                    "properties": {"text": MARKDOWN, "fixed": {"type": "boolean"}},
                    "required": ["text"],
                    "additionalProperties": False,
                },
            ]
        },
        "minProperties": 2,
        "maxProperties": MAX_CHOICES,
    },
)


@dataclass(frozen=True)
class ChoiceInteractionView:
    """What qti/questions/choice.xml lays out."""

    shuffle: str  # "true" / "false"
    max_choices: int  # 0: any number
    choices: tuple[QtiChoiceView, ...]


@dataclass(frozen=True)
class QtiChoiceView:
    identifier: str
    fixed: str  # "true" / "false"
    body: Markup


@dataclass(frozen=True)
class ChoiceAnswerView:
    """What scorm/questions/choices.html lays out beside the question's common view."""

    input_type: str  # radio or checkbox
    correct_choices: tuple  # the page's views of the correct choices


def read_choices(f: Fields) -> tuple[Choice, ...]:
    """The lettered choices of a question: a mapping of letters to Markdown texts, or to
    `{text, fixed}`; each different from the others."""
    what, diags = f.what, f.diags
    node = f.get("choices")
    if node is None:
        f.error("type", f"{what} needs `choices` (a: …, b: …)")
        return ()
    if not node.is_map:
        diags.error(
            node.location,
            f"`choices` of {what} must be a mapping of letters "
            f"to texts (a: …, b: …), not {describe_node(node)}",
        )
        return ()
    count = len(node.value)
    if count < 2 or count > MAX_CHOICES:
        diags.error(
            node.location,
            f"{what} has {count} choice"
            f"{'s' if count != 1 else ''}; give between 2 and {MAX_CHOICES} "
            "(SCORM 1.2 reports a choice as one letter a–z)",
        )
        return ()
    choices = []
    texts: dict[str, str] = {}
    for key, value in node.value.items():
        where = node.key_locations[key]
        if not CHOICE_KEY.fullmatch(key):
            diags.error(where, f"choice key `{key}` must be one lowercase letter a–z")
            continue
        fixed = False
        if value.is_map:
            cf = Fields(value, f"choice `{key}` of {what}", CHOICE_KEYS, ("text",), diags)
            text = cf.markdown("text", Choice)
            fixed = cf.boolean("fixed", False)
        else:
            text = read_markdown(
                value, f"choice `{key}` of {what}", diags, markdown_mode(Choice, "text")
            )
        if text is None:
            continue
        norm = " ".join(text.source.casefold().split())
        if norm in texts:
            diags.error(
                value.location,
                f"choices `{texts[norm]}` and `{key}` of {what} "
                "have the same text; make each choice different",
            )
        texts[norm] = key
        choices.append(Choice(key, text, fixed, None, value.location))
    return tuple(choices)


def keys_in_one_text(node: Node) -> list[str] | None:
    """The choice keys of an answer written as one text (`a, b` or `a b`), which YAML
    reads as a single string; None when the value is not such a text."""
    if not node.is_scalar or not isinstance(node.value, str):
        return None
    parts = [part for part in re.split(r"[\s,;]+", node.value) if part]
    if len(parts) < 2 or not all(CHOICE_KEY.fullmatch(part) for part in parts):
        return None
    return parts


def read_choice_keys(f: Fields, items: list[Node], choices: tuple[Choice, ...]) -> tuple[str, ...]:
    """The choice keys an answer lists, in its order: each must name a choice, once; ()
    after reporting any that does not."""
    keys = [c.key for c in choices]
    answer: list[str] = []
    for item in items:
        key = read_text(item, f"the answer of {f.what}", f.diags)
        if key is None:
            continue
        if key in answer:
            f.diags.error(item.location, f"the answer of {f.what} names `{key}` twice")
        elif choices and key not in keys:
            f.diags.error(
                item.location,
                f"the answer `{key}` of {f.what} names no choice; "
                f"its choices are {', '.join(keys)}",
            )
        else:
            answer.append(key)
    return tuple(answer) if len(answer) == len(items) else ()


class ChoiceKind(QuestionKind):
    """A question answered by choosing among lettered choices."""

    choice_feedback = True
    qti_interaction_type = "choiceInteraction"
    qti_template = "qti/questions/choice.xml"
    scorm_interaction_type = "choice"
    sco_template = "scorm/questions/choices.html"
    player_script = "question-choices.js"
    input_type = "radio"

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        choices = read_choices(f)
        return Answer(choices=choices, correct=self.read_answer(f, choices))

    def complete(self, answer: Answer) -> bool:
        return bool(answer.correct and answer.choices)

    def answer_items(self, f: Fields, node: Node) -> list[Node] | None:
        """The entries of `answer`, or None after reporting why it cannot be read."""
        return node.value if node.is_list else [node]

    def read_answer(self, f: Fields, choices: tuple[Choice, ...]) -> tuple[str, ...]:
        node = f.get("answer")
        if node is None:
            return ()
        items = self.answer_items(f, node)
        if items is None:
            return ()
        return read_choice_keys(f, items, choices)

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        shown = "; ".join(f"({c.key}) {c.text.text}" for c in question.correct_choices)
        return f"The correct answer: {shown}."

    def qti_response(self, question: Question) -> ResponseView:
        return ResponseView("single", "identifier", question.correct)

    def max_choices(self, question: Question) -> int:
        return 1

    def qti_interaction(self, question: Question) -> ChoiceInteractionView:
        return ChoiceInteractionView(
            shuffle="true" if question.shuffle else "false",
            max_choices=self.max_choices(question),
            choices=tuple(
                QtiChoiceView(c.key, "true" if c.fixed else "false", c.text.html)
                for c in question.choices
            ),
        )

    # -- SCORM 1.2 and the player
    def state_code(self, keys: Iterable[str]) -> str:
        """How a set of chosen keys is written in suspend_data (see tracking.py)."""
        return "".join(sorted(keys))

    def correct_pattern(self, question: Question) -> str:
        """cmi.interactions.n.correct_responses.0.pattern in SCORM 1.2's format."""
        return ",".join(sorted(question.correct))

    def choice_values(self, question: Question) -> dict[str, float] | None:
        return None

    def player_spec(self, question: Question) -> dict[str, Any]:
        return {
            "correct": self.state_code(question.correct),
            "correctPattern": self.correct_pattern(question),
            "accepted": None,
            "choiceValues": self.choice_values(question),
            "maxLength": None,
        }

    def longest_response(self, question: Question) -> int:
        return 4  # one letter in quotes, and a comma

    def shows_letters(self, question: Question) -> bool:
        return not question.shuffle  # shuffled letters would mean nothing

    def sco_answer(self, question: Question, choices: tuple) -> ChoiceAnswerView:
        return ChoiceAnswerView(
            input_type=self.input_type,
            correct_choices=tuple(c for c in choices if c.key in question.correct),
        )

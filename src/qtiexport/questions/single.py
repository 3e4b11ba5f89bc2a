"""`single`: one correct choice among lettered choices (radio buttons)."""

from __future__ import annotations

from qtiexport.fields import Fields
from qtiexport.loader import Node
from qtiexport.questions.base import Key
from qtiexport.questions.choices import CHOICES, ChoiceKind


class Single(ChoiceKind):
    name = "single"
    keys = (CHOICES, Key("answer", {"type": "string", "description": "The correct choice's key."}))
    instruction = "Choose one answer."

    def answer_items(self, f: Fields, node: Node) -> list[Node] | None:
        if node.is_list:
            f.diags.error(
                node.location,
                f"{f.what} is `single` and takes one key as its answer;"
                " use type `multiple` for several correct choices",
            )
            return None
        return [node]

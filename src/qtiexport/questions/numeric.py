"""`numeric`: a number typed by the learner, right when it lies within `tolerance` of
`answer` (both ends included), with an optional unit shown beside the input."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qtiexport.fields import Fields, describe_node
from qtiexport.model import Answer, Question
from qtiexport.questions.base import TEXT, Key, QuestionKind, ResponseView

# The player computes in doubles, exact to 15 significant digits: larger numbers would
# be compared with rounding a learner cannot see.
MAX_MAGNITUDE = Decimal(10) ** 15
MAX_UNIT_LENGTH = 40
# Characters a learner may type; the saved number is at most one longer (".5" → "0.5").
MAX_TYPED = 40
EXPECTED_LENGTH = 10  # the width QTI players give the field, in characters

NUMBER = {"type": "number", "minimum": -1e15, "maximum": 1e15}
# A number as an author might quote it by mistake: "3", "-2.5", "2,5".
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


@dataclass(frozen=True)
class NumericAnswer:
    """What a numeric question keeps beyond Answer's fields (Question.details)."""

    answer: Decimal
    tolerance: Decimal
    unit: str | None

    @property
    def low(self) -> Decimal:
        return self.answer - self.tolerance

    @property
    def high(self) -> Decimal:
        return self.answer + self.tolerance


@dataclass(frozen=True)
class NumericEntryView:
    """What qti/questions/numeric.xml lays out."""

    expected_length: int
    unit: str | None
    low: str  # the accepted range, both ends included, as xsd:double text
    high: str


@dataclass(frozen=True)
class NumericAnswerView:
    """What scorm/questions/numeric.html lays out beside the question's common view."""

    answer: str
    low: str
    high: str
    exact: bool  # no tolerance: only the answer itself is right
    unit: str | None
    max_length: int


def decimal_text(value: Decimal) -> str:
    """A number as plain decimal text, without exponent or trailing zeros: `2.5`, `-3`,
    `0.001`. xsd:double, SCORM's CMIDecimal and JavaScript's parseFloat all read it."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def read_decimal(f: Fields, key: str) -> Decimal | None:
    """A finite number within ±10^15, as the exact decimal the author wrote."""
    node = f.get(key)
    if node is None:
        return None
    value = node.value
    where = f"`{key}` of {f.what}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = ""
        written = value.strip().replace(",", ".", 1) if isinstance(value, str) else ""
        if PLAIN_NUMBER.fullmatch(written):
            point = ", with a decimal point" if "," in value else ""
            hint = f"; write `{written}` without quotes{point}"
        f.diags.error(
            node.location,
            f"{where} must be a number, such as 3 or 2.5, not {describe_node(node)}{hint}",
        )
        return None
    if isinstance(value, float) and not math.isfinite(value):
        f.diags.error(
            node.location, f"{where} is `{node.raw}`; write a finite number, such as 3 or 2.5"
        )
        return None
    # repr gives the shortest text that reads back as the same float: the author's digits.
    number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    if abs(number) > MAX_MAGNITUDE:
        f.diags.error(
            node.location,
            f"{where} is {node.raw}; keep it between -1000000000000000 and 1000000000000000 "
            "(the player computes with 15 significant digits)",
        )
        return None
    return number


class Numeric(QuestionKind):
    name = "numeric"
    keys = (
        Key("answer", {**NUMBER, "description": "The correct number."}),
        Key(
            "tolerance",
            {
                "type": "number",
                "minimum": 0,
                "maximum": 1e15,
                "description": "How far from `answer` a number may be and still be right "
                "(absolute, both ends included).",
            },
        ),
        Key(
            "unit",
            {**TEXT, "maxLength": MAX_UNIT_LENGTH, "description": "Shown with the input."},
        ),
    )
    qti_interaction_type = "textEntryInteraction"
    qti_template = "qti/questions/numeric.xml"
    scorm_interaction_type = "numeric"
    sco_template = "scorm/questions/numeric.html"
    instruction = "Type a number."
    player_script = "question-numeric.js"
    script_in_every_package = False

    def foreign_key(self, key: str, owners: tuple[str, ...]) -> str:
        if key == "choices":
            return "a `numeric` question has no `choices`; give the correct number under `answer`"
        return super().foreign_key(key, owners)

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        answer = read_decimal(f, "answer")
        tolerance = Decimal(0)
        if f.get("tolerance") is not None:
            read = read_decimal(f, "tolerance")
            if read is not None and read < 0:
                f.error(
                    "tolerance",
                    f"`tolerance` of {f.what} is {f.get('tolerance').raw}; it must be 0 or "
                    "more: how far from `answer` a number may be and still be right",
                )
                read = None
            tolerance = read if read is not None else tolerance
            answer = answer if read is not None else None
        unit = f.text("unit")
        if unit is not None and len(unit) > MAX_UNIT_LENGTH:
            f.error(
                "unit",
                f"`unit` of {f.what} is longer than {MAX_UNIT_LENGTH} characters; "
                "shorten it (it is shown with the input)",
            )
            unit = None
        if answer is None:
            return None
        details = NumericAnswer(answer, tolerance, unit.strip() if unit else None)
        return Answer(correct=(decimal_text(answer),), details=details)

    @staticmethod
    def details(question: Question) -> NumericAnswer:
        assert isinstance(question.details, NumericAnswer)
        return question.details

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        numeric = self.details(question)
        unit = f" {numeric.unit}" if numeric.unit else ""
        text = f"The correct answer: {decimal_text(numeric.answer)}{unit}"
        if numeric.tolerance:
            text += f" (accepted: {decimal_text(numeric.low)} to {decimal_text(numeric.high)})"
        return text + "."

    def qti_response(self, question: Question) -> ResponseView:
        return ResponseView("single", "float", question.correct)

    def qti_interaction(self, question: Question) -> NumericEntryView:
        """Right when low ≤ RESPONSE ≤ high, written with `gte` and `lte`: `equal` with
        an absolute `tolerance` says the same, but pyslet 0.7 misreads its two-valued
        attribute. A NULL response (nothing, or not a number) makes both false."""
        numeric = self.details(question)
        return NumericEntryView(
            expected_length=EXPECTED_LENGTH,
            unit=numeric.unit,
            low=decimal_text(numeric.low),
            high=decimal_text(numeric.high),
        )

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        """SCORM 1.2's numeric pattern is a single number: the answer. The range is the
        player's to apply (JSON numbers: the doubles nearest the exact bounds, as
        parseFloat reads a typed number)."""
        numeric = self.details(question)
        return {
            "correct": None,
            "correctPattern": decimal_text(numeric.answer),
            "accepted": None,
            "choiceValues": None,
            "maxLength": MAX_TYPED + 1,
            "low": float(numeric.low),
            "high": float(numeric.high),
        }

    def longest_response(self, question: Question) -> int:
        # Digits, a sign and a point need no JSON escape: the code in quotes, and a comma.
        return MAX_TYPED + 1 + 3

    def sco_answer(self, question: Question, choices: tuple) -> NumericAnswerView:
        numeric = self.details(question)
        return NumericAnswerView(
            answer=decimal_text(numeric.answer),
            low=decimal_text(numeric.low),
            high=decimal_text(numeric.high),
            exact=not numeric.tolerance,
            unit=numeric.unit,
            max_length=MAX_TYPED,
        )

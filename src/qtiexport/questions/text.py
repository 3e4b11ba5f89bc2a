"""`text`: a short typed answer, compared with the accepted answers ignoring letter case
and surrounding spaces."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from qtiexport.fields import Fields
from qtiexport.model import Answer, Question
from qtiexport.questions.base import (
    TEXT,
    Key,
    MapEntryView,
    QuestionKind,
    ResponseView,
    WholeNumber,
    number,
)

DEFAULT_MAX_LENGTH = 100
MAX_TEXT_LENGTH = 255  # SCORM 1.2 caps a fill-in student_response at 255 characters
MAX_LENGTH = WholeNumber(
    "max_length",
    DEFAULT_MAX_LENGTH,
    1,
    MAX_TEXT_LENGTH,
    "The longest answer a learner may type (SCORM 1.2 keeps 255 characters).",
)
# Characters with a meaning in XML Schema regular expressions (the `\` escapes they take).
XSD_REGEX_SPECIAL = frozenset("\\|.?*+(){}-[]^")


@dataclass(frozen=True)
class TextEntryView:
    """What qti/questions/text.xml lays out."""

    interaction: str  # textEntryInteraction, or extendedTextInteraction (see Text)
    expected_length: int
    accepted: tuple[str, ...]  # compared ignoring case with stringMatch
    accepted_patterns: tuple[str, ...]  # the same, spaces around allowed


@dataclass(frozen=True)
class TextAnswerView:
    """What scorm/questions/text.html lays out beside the question's common view."""

    accepted: tuple[str, ...]
    max_length: int


def answer_pattern(answer: str) -> str:
    """An XML Schema regular expression (which matches whole strings) that accepts
    `answer` as the SCORM player does: in any letter case, with spaces, tabs or line
    breaks before and after. `stringMatch` alone would refuse ` calcinosis `, and QTI has
    no operator that trims."""
    parts = []
    for character in answer:
        cases = dict.fromkeys(
            c for c in (character, character.lower(), character.upper()) if len(c) == 1
        )
        if len(cases) > 1:  # a letter with case: no letter needs escaping in a class
            parts.append("[" + "".join(cases) + "]")
        elif character in XSD_REGEX_SPECIAL:
            parts.append("\\" + character)
        else:
            parts.append(character)
    return r"\s*" + "".join(parts) + r"\s*"


def normalise_answer(text: str) -> str:
    """How typed answers are compared: trimmed, NFC, lower case (the player does the same)."""
    return unicodedata.normalize("NFC", text.strip()).lower()


class Text(QuestionKind):
    name = "text"
    keys = (
        Key(
            "answer",
            {
                "anyOf": [TEXT, {"type": "array", "items": TEXT}],
                "description": "The accepted answers, compared ignoring letter case.",
            },
        ),
        MAX_LENGTH,
    )
    qti_interaction_type = "textEntryInteraction"
    # Several accepted answers: see `qti_interaction_of`.
    several_answers_interaction = "extendedTextInteraction"
    qti_template = "qti/questions/text.xml"
    scorm_interaction_type = "fill-in"
    sco_template = "scorm/questions/text.html"
    instruction = "Type your answer."
    player_script = "question-text.js"

    def foreign_key(self, key: str, owners: tuple[str, ...]) -> str:
        if key == "choices":
            return "a `text` question has no `choices`; list the accepted answers under `answer`"
        return super().foreign_key(key, owners)

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        max_length = MAX_LENGTH.read(f)
        correct = f.text_list("answer")
        for accepted in correct:
            if len(accepted) > max_length:
                f.error(
                    "answer",
                    f"accepted answer `{accepted[:30]}` is longer than `max_length` ({max_length})",
                )
        lowered = [a.casefold() for a in correct]
        if len(set(lowered)) != len(lowered):
            f.error(
                "answer",
                "two accepted answers differ only in letter case; answers "
                "are compared without case, so keep one",
            )
        return Answer(correct=correct, max_length=max_length) if correct else None

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        return "Accepted answers: " + ", ".join(question.correct) + "."

    def qti_response(self, question: Question) -> ResponseView:
        """A single response has one correct value: the first accepted answer. Each
        accepted answer earns the full points, ignoring case: the mapping is declared for
        importers and editors that read it."""
        return ResponseView(
            "single",
            "string",
            question.correct[:1],
            tuple(MapEntryView(answer, number(question.points)) for answer in question.correct),
            mapping_case_insensitive=True,
        )

    def qti_interaction_of(self, question: Question) -> str:
        """A one-line text entry; with several accepted answers, a one-line extended text.

        Canvas's importer (instructure/canvas-lms, gems/plugins/qti_exporter/lib/qti/)
        turns a textEntryInteraction into a fill-in-the-blank question whose accepted
        texts are only the correctResponse values (fill_in_the_blank.rb,
        `process_text_entry`), and a single response has one correct value in QTI 2.1:
        the other accepted answers would be lost and marked wrong there. An
        extendedTextInteraction becomes a short-answer question that accepts the text
        of every `stringMatch` in the response processing (extended_text_interaction.rb,
        `process_response_conditions`). The response, its processing and so the scores
        stay the same; other players show a text box one line high (`expectedLines`),
        and OpenOLAT asks a grader to confirm an item with an extended text."""
        if len(question.correct) > 1:
            return self.several_answers_interaction
        return self.qti_interaction_type

    def qti_interaction(self, question: Question) -> TextEntryView:
        """Answers are compared with `stringMatch caseSensitive="false"`, one per accepted
        answer: the same scores as `map_response` over a case-insensitive mapping, but also
        evaluated by engines that predate `mapEntry/@caseSensitive` (pyslet ignores it),
        and the form Canvas's importer reads a short answer's accepted texts from."""
        return TextEntryView(
            interaction=self.qti_interaction_of(question),
            expected_length=question.max_length,
            accepted=question.correct,
            accepted_patterns=tuple(answer_pattern(a) for a in question.correct),
        )

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        return {
            "correct": None,
            "correctPattern": question.correct[0],
            "accepted": [normalise_answer(a) for a in question.correct],
            "choiceValues": None,
            "maxLength": question.max_length,
        }

    def longest_response(self, question: Question) -> int:
        # JSON escapes at most double a typed text (quotes and backslashes): the player
        # drops control characters, the only ones JSON would write as six, and caps the
        # text at max_length UTF-16 units, which is never more than max_length characters.
        return 2 * question.max_length + 3

    def sco_answer(self, question: Question, choices: tuple) -> TextAnswerView:
        return TextAnswerView(accepted=question.correct, max_length=question.max_length)

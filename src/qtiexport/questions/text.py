"""`text`: a short typed answer, right when it is one of the accepted answers once letter
case, spaces around and between the words, and punctuation at the end are set aside.

One rule, three implementations that must agree: `normalise_answer` here (the accepted
answers the player compares with), `normaliseAnswer` in the player's question-text.js
(the learner's text), and `answer_pattern`, the QTI `patternMatch` that accepts exactly
the texts that normalise to the answer. tests/test_question_text_matching.py scores the
same learner texts through pyslet and through the player in Chromium.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from markupsafe import Markup, escape

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

# White space as JavaScript's `\s` and `trim()` know it, which the player uses: tab, line
# feed, carriage return, every Unicode space separator (the no-break spaces a Mac's
# Option+Space and French typography type, the ideographic space of CJK input), the line
# and paragraph separators, and U+FEFF. Vertical tab and form feed are left out: XML
# cannot carry them and the player drops control characters before comparing.
WHITESPACE = (
    "\t\n\r \u00a0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# Punctuation a learner may end an answer with; "…" is what phones make of "...".
FINAL_PUNCTUATION = ".,;:!?\u2026"
# The typographic apostrophe phones and word processors put for ' (Ewing’s sarcoma).
APOSTROPHES = {"\u2019": "'"}
# Characters with letter case lie in the first two Unicode planes (tested).
CASED_PLANES_END = 0x20000
# XML Schema regular expression metacharacters written with a `\` outside a class. `^` and
# `$` are plain characters there, but anchors to the Java and PCRE engines that run QTI
# (OpenOLAT, TAO): they go in a class, where every dialect reads them as themselves.
ESCAPED = frozenset("\\|.?*+(){}[]")
IN_A_CLASS = {"^": r"[\^]", "$": "[$]"}

_SPACES = re.compile(f"[{re.escape(WHITESPACE)}]+")


@dataclass(frozen=True)
class TextEntryView:
    """What qti/questions/text.xml lays out."""

    interaction: str  # textEntryInteraction, or extendedTextInteraction (see Text)
    expected_length: int
    accepted: tuple[str, ...]  # as written: `stringMatch` ignoring case, read by Canvas
    accepted_patterns: tuple[Markup, ...]  # `answer_pattern` of each, as attribute text


@dataclass(frozen=True)
class TextAnswerView:
    """What scorm/questions/text.html lays out beside the question's common view."""

    accepted: tuple[str, ...]
    max_length: int


# ------------------------------------------------------------------ the comparison


def fold_character(character: str) -> str:
    """One character as answers are compared: the lower case of its upper case, as
    Python and JavaScript give them for the character alone, in no particular language
    (each step only where it gives one character: ß, whose upper case is SS, stays ß).
    So Σ, σ and ς are one letter, as are S, s and ſ, µ (micro) and μ, ẞ and ß; İ, whose
    lower case is two characters, stays itself. And ’ is '."""
    if character in APOSTROPHES:
        return APOSTROPHES[character]
    upper = character.upper()
    if len(upper) == 1:
        character = upper
    lower = character.lower()
    return lower if len(lower) == 1 else character


def tidy_answer(text: str) -> str:
    """`text` in NFC, without white space around it or punctuation (and white space
    among it) at its end, each run of white space inside it made one space; letter case
    as written."""
    text = unicodedata.normalize("NFC", text)
    text = text.lstrip(WHITESPACE).rstrip(WHITESPACE + FINAL_PUNCTUATION)
    return _SPACES.sub(" ", text)


def normalise_answer(text: str) -> str:
    """What is compared: two texts are the same answer when this is equal for both."""
    return "".join(map(fold_character, tidy_answer(text)))


@cache
def _folded_together() -> dict[str, tuple[str, ...]]:
    """For each character other characters fold to, all of them, itself first."""
    together: dict[str, list[str]] = {}
    for code in range(CASED_PLANES_END):
        character = chr(code)
        folded = fold_character(character)
        if folded != character:
            together.setdefault(folded, [folded]).append(character)
    return {folded: tuple(characters) for folded, characters in together.items()}


def same_when_folded(character: str) -> tuple[str, ...]:
    """Every character that folds as `character` does (c, C; k, K and the Kelvin sign)."""
    folded = fold_character(character)
    return _folded_together().get(folded, (folded,))


# ------------------------------------------------------------------ the QTI pattern


def _outside_a_class(character: str) -> str:
    if character in ESCAPED:
        return "\\" + character
    return IN_A_CLASS.get(character, character)


def _inside_a_class(character: str) -> str:
    if character in "\\[]^-":
        return "\\" + character
    return {"\t": r"\t", "\n": r"\n", "\r": r"\r"}.get(character, character)


def _one_of(characters: str | tuple[str, ...]) -> list[str]:
    """Alternatives that together match any one of `characters`: the ASCII ones in one
    class, each other one on its own. PCRE without its `u` flag (TAO's server engine)
    and JavaScript without it (TAO's browser engine) read a class one byte or one UTF-16
    unit at a time, which splits any other character."""
    ascii_characters = [c for c in characters if c.isascii()]
    options = [_outside_a_class(c) for c in characters if not c.isascii()]
    if len(ascii_characters) == 1:
        options.insert(0, _outside_a_class(ascii_characters[0]))
    elif ascii_characters:
        options.insert(0, "[" + "".join(map(_inside_a_class, ascii_characters)) + "]")
    return options


def _group(options: list[str]) -> str:
    return options[0] if len(options) == 1 else "(" + "|".join(options) + ")"


# An answer's characters repeat across a course: each one's pattern is made once.
@lru_cache(maxsize=4096)
def _character_pattern(character: str) -> str:
    """One character of an answer in any letter case, and, for a letter with accents,
    each case also spelled as a base letter and combining accents (NFD: text pasted from
    macOS file names), which the player makes one character (NFC) before comparing."""
    cases = same_when_folded(character)
    spelled_out = [unicodedata.normalize("NFD", c) for c in cases]
    options = _one_of(cases)
    options += ["".join(map(_outside_a_class, s)) for s in dict.fromkeys(spelled_out) if len(s) > 1]
    return _group(options)


def answer_pattern(answer: str) -> str:
    """An XML Schema regular expression (which must match the whole text) accepting
    exactly the texts that are `answer` by `normalise_answer`, for QTI's `patternMatch`:
    white space before, between and after the words, punctuation at the end, any letter
    case. Written in the part of the syntax that the engines running QTI read alike:
    XML Schema's (pyslet, the schema check), Java's (OpenOLAT, through JQTI+),
    PCRE's (TAO's server) and JavaScript's (TAO's browser runner). Each repeated part is
    followed by characters it cannot match and the alternatives of a group start with
    different characters, so a text matches in one way only: engines that take the first
    match as the only one (pyslet) decide right, and none can backtrack for long."""
    spaces, ending = _spaces_and_ending()
    words = ["".join(map(_character_pattern, word)) for word in tidy_answer(answer).split(" ")]
    return f"{spaces}*{(spaces + '+').join(words)}{ending}*"


@cache
def _spaces_and_ending() -> tuple[str, str]:
    """The groups matching one white space character, and one that may end an answer."""
    return _group(_one_of(WHITESPACE)), _group(_one_of(WHITESPACE + FINAL_PUNCTUATION))


class _AttributeCharacters(dict):
    """`str.translate` table for `attribute_text`, filled as characters are met: a
    pattern repeats the same few characters (every group of spaces is the same)."""

    def __missing__(self, code: int) -> str:
        character = chr(code)
        if character != " " and unicodedata.category(character)[0] in "ZMC":
            text = f"&#x{code:X};"
        else:
            text = str(escape(character))
        if len(self) < MAX_REMEMBERED_CHARACTERS:
            self[code] = text
        return text


MAX_REMEMBERED_CHARACTERS = 10_000
_ATTRIBUTE_CHARACTERS = _AttributeCharacters()


def attribute_text(pattern: str) -> Markup:
    """`pattern` as the text of an XML attribute: escaped, and characters one cannot see
    (spaces other than U+0020, combining accents, format characters) as character
    references, so that the item reads as it matches."""
    return Markup(pattern.translate(_ATTRIBUTE_CHARACTERS))


# ------------------------------------------------------------------------- the kind


class Text(QuestionKind):
    name = "text"
    keys = (
        Key(
            "answer",
            {
                "anyOf": [TEXT, {"type": "array", "items": TEXT}],
                "description": "The accepted answers, compared ignoring letter case, spaces "
                "around and between the words, and punctuation at the end.",
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
        first_of: dict[str, str] = {}
        for accepted in correct:
            if len(accepted) > max_length:
                f.error(
                    "answer",
                    f"accepted answer `{accepted[:30]}` is longer than `max_length` ({max_length})",
                )
            compared = normalise_answer(accepted)
            if not compared:
                f.error(
                    "answer",
                    f"accepted answer `{accepted[:30]}` is only punctuation, and answers are "
                    "compared without the punctuation at their end; write the words a "
                    "learner would type",
                )
            elif compared in first_of:
                f.error(
                    "answer",
                    f"accepted answers `{first_of[compared][:30]}` and `{accepted[:30]}` are "
                    "the same answer: answers are compared ignoring letter case, spaces and "
                    "punctuation at the end, so keep one",
                )
            else:
                first_of[compared] = accepted
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
        """Right when any accepted answer matches: a `stringMatch caseSensitive="false"`
        per answer as written (the form Canvas's importer reads a short answer's accepted
        texts from, and what engines without patternMatch still score), or its
        `patternMatch` (`answer_pattern`), which Canvas does not read."""
        return TextEntryView(
            interaction=self.qti_interaction_of(question),
            expected_length=question.max_length,
            accepted=question.correct,
            accepted_patterns=tuple(attribute_text(answer_pattern(a)) for a in question.correct),
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

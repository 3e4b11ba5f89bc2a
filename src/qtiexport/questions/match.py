"""`match`: each lettered choice (the left-hand items) is matched with one of the lettered
targets (the right-hand options).

    choices: {a: Early phase, b: Intermediate phase, c: Mature phase}
    targets: {x: Normal or soft-tissue swelling, y: Peripheral rim calcification, z: …}
    answer: {a: x, b: y, c: z}
    scoring: partial     # optional: each right pair earns its share of the points

Target keys are single letters that no choice uses: SCORM 1.2 writes a pair as `a.x`
and QTI needs every identifier of the interaction to differ. Every choice has exactly
one target in `answer`; a target may be the match of several choices, or of none (a
distractor). In the player each choice has a select listing the targets; the learner
state is the chosen target of each choice, in the order of `choices` ("xyz").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from qtiexport.fields import Fields, describe_node, read_markdown, read_text
from qtiexport.markdown import Markdown
from qtiexport.model import Answer, Choice, Question, markdown_mode
from qtiexport.questions.base import (
    MARKDOWN,
    Key,
    MapEntryView,
    QuestionKind,
    ResponseView,
    Word,
    number,
)
from qtiexport.questions.choices import CHOICE_KEY, CHOICES, read_choices

LETTER = {"type": "string", "pattern": "^[a-z]$"}
TARGETS = Key(
    "targets",
    {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z]$"},
        "additionalProperties": MARKDOWN,
        "minProperties": 2,
        "maxProperties": 24,
        "description": "The options each choice is matched with, keyed by letters the "
        "choices do not use.",
    },
)
ANSWER = Key(
    "answer",
    {
        "type": "object",
        "propertyNames": {"pattern": "^[a-z]$"},
        "additionalProperties": LETTER,
        "minProperties": 1,
        "description": "The target key of each choice (a: x, b: y).",
    },
)
SCORING = Word(
    "scoring",
    ("all_or_nothing", "partial"),
    "partial: each right pair earns its share of the points.",
)


@dataclass(frozen=True)
class Target:
    key: str  # one letter a–z that no choice of the question uses
    text: Markdown  # inline, like a choice; the player's select shows its words
    location: Any


@dataclass(frozen=True)
class MatchDetails:
    """What a match question keeps beyond its choices: its targets, and the target of
    each choice in the order of the choices."""

    targets: tuple[Target, ...]
    pairs: tuple[tuple[str, str], ...]


# ------------------------------------------------------------------ views


@dataclass(frozen=True)
class QtiAssociableView:
    identifier: str
    fixed: str  # "true" / "false"
    body: Markup


@dataclass(frozen=True)
class MatchInteractionView:
    """What qti/questions/match.xml lays out."""

    shuffle: str  # "true" / "false"
    max_associations: int
    target_match_max: int  # how many choices may take one target: any of them
    choices: tuple[QtiAssociableView, ...]
    targets: tuple[QtiAssociableView, ...]


@dataclass(frozen=True)
class TargetView:
    key: str
    text: str  # plain text: an <option> holds no markup


@dataclass(frozen=True)
class PairView:
    choice: Any  # the page's view of the choice
    target: str


@dataclass(frozen=True)
class MatchAnswerView:
    """What scorm/questions/match.html lays out beside the question's common view."""

    targets: tuple[TargetView, ...]
    pairs: tuple[PairView, ...]


# ------------------------------------------------------------------ reading


def details_of(question: Question) -> MatchDetails:
    details = question.details
    assert isinstance(details, MatchDetails)
    return details


def read_targets(f: Fields, choice_keys: set[str]) -> tuple[Target, ...]:
    """The lettered targets: texts under letters that no choice uses, each different."""
    what, diags = f.what, f.diags
    node = f.get("targets")
    if node is None:
        return ()
    if not node.is_map:
        diags.error(
            node.location,
            f"`targets` of {what} must be a mapping of letters to texts "
            f"(x: …, y: …), not {describe_node(node)}",
        )
        return ()
    if len(node.value) < 2:
        diags.error(
            node.location, f"{what} has {len(node.value)} target; give at least 2 to match with"
        )
        return ()
    targets = []
    texts: dict[str, str] = {}
    mode = markdown_mode(Choice, "text")
    for key, value in node.value.items():
        where = node.key_locations[key]
        if not CHOICE_KEY.fullmatch(key):
            diags.error(where, f"target key `{key}` must be one lowercase letter a–z")
            continue
        if key in choice_keys:
            diags.error(
                where,
                f"target key `{key}` of {what} is also a choice key; give the targets "
                "letters the choices do not use (SCORM 1.2 reports a match as `a.x`)",
            )
            continue
        text = read_markdown(value, f"target `{key}` of {what}", diags, mode)
        if text is None:
            continue
        if not text.text.strip():
            diags.error(
                value.location,
                f"target `{key}` of {what} has no words to show in a list; write it as text",
            )
            continue
        norm = " ".join(text.source.casefold().split())
        if norm in texts:
            diags.error(
                value.location,
                f"targets `{texts[norm]}` and `{key}` of {what} "
                "have the same text; make each target different",
            )
        texts[norm] = key
        targets.append(Target(key, text, value.location))
    return tuple(targets)


def read_pairs(
    f: Fields, choices: tuple[Choice, ...], targets: tuple[Target, ...]
) -> tuple[tuple[str, str], ...]:
    """The target of every choice, in the order of the choices; () after an error."""
    what, diags = f.what, f.diags
    node = f.get("answer")
    if node is None:
        return ()
    if not node.is_map:
        diags.error(
            node.location,
            f"the answer of {what} must map each choice to its target (a: x, b: y), "
            f"not {describe_node(node)}",
        )
        return ()
    choice_keys = [c.key for c in choices]
    target_keys = [t.key for t in targets]
    found: dict[str, str] = {}
    ok = True
    for key, value in node.value.items():
        if choices and key not in choice_keys:
            diags.error(
                node.key_locations[key],
                f"the answer of {what} matches `{key}`, which is not a choice; "
                f"its choices are {', '.join(choice_keys)}",
            )
            ok = False
            continue
        target = read_text(value, f"the target of choice `{key}` in the answer of {what}", diags)
        if target is None:
            ok = False
        elif targets and target not in target_keys:
            diags.error(
                value.location,
                f"the answer of {what} matches `{key}` with `{target}`, which is not a "
                f"target; its targets are {', '.join(target_keys)}",
            )
            ok = False
        else:
            found[key] = target
    missing = [key for key in choice_keys if key not in node.value]
    if missing:
        names = ", ".join(f"`{key}`" for key in missing)
        plural = "s" if len(missing) > 1 else ""
        diags.error(
            node.location,
            f"the answer of {what} gives no target for choice{plural} {names}; "
            "match every choice with a target",
        )
        ok = False
    if not (ok and choices and targets):
        return ()
    return tuple((key, found[key]) for key in choice_keys)


# ------------------------------------------------------------------ kind


class Match(QuestionKind):
    name = "match"
    keys = (CHOICES, TARGETS, ANSWER, SCORING)
    required = ("choices", "targets", "answer")
    qti_interaction_type = "matchInteraction"
    qti_template = "qti/questions/match.xml"
    scorm_interaction_type = "matching"
    sco_template = "scorm/questions/match.html"
    instruction = "Choose the match of each item."
    player_script = "question-match.js"
    script_in_every_package = False

    # -- validation
    def read(self, f: Fields) -> Answer | None:
        scoring = SCORING.read(f)
        # A missing key is reported once, by `required`.
        choices = read_choices(f) if f.get("choices") is not None else ()
        targets = read_targets(f, {c.key for c in choices})
        pairs = read_pairs(f, choices, targets)
        return Answer(
            choices=choices,
            correct=tuple(f"{choice} {target}" for choice, target in pairs),
            scoring=scoring,
            details=MatchDetails(targets, pairs),
        )

    def complete(self, answer: Answer) -> bool:
        return bool(answer.correct)

    # -- QTI 2.1
    def answer_text(self, question: Question) -> str:
        texts = {t.key: t.text.text for t in details_of(question).targets}
        choices = {c.key: c.text.text for c in question.choices}
        shown = "; ".join(
            f"({choice}) {choices[choice]} → {texts[target]}"
            for choice, target in details_of(question).pairs
        )
        return f"The correct matches: {shown}."

    def qti_response(self, question: Question) -> ResponseView:
        """One directedPair `choice target` per choice. With partial scoring each right
        pair is mapped to its share of the points; the mapping's bounds (0 and the
        points) are the item template's."""
        mapping: tuple[MapEntryView, ...] = ()
        if question.scoring == "partial":
            share = number(question.points / len(question.choices))
            mapping = tuple(MapEntryView(pair, share) for pair in question.correct)
        return ResponseView("multiple", "directedPair", question.correct, mapping)

    def qti_mapped_score(self, question: Question) -> bool:
        return question.scoring == "partial"

    def qti_interaction(self, question: Question) -> MatchInteractionView:
        return MatchInteractionView(
            shuffle="true" if question.shuffle else "false",
            max_associations=len(question.choices),
            target_match_max=len(question.choices),
            choices=tuple(
                QtiAssociableView(c.key, "true" if c.fixed else "false", c.text.html)
                for c in question.choices
            ),
            targets=tuple(
                QtiAssociableView(t.key, "false", t.text.html) for t in details_of(question).targets
            ),
        )

    # -- SCORM 1.2 and the player
    def player_spec(self, question: Question) -> dict[str, Any]:
        pairs = details_of(question).pairs
        return {
            "correct": "".join(target for _, target in pairs),
            "correctPattern": ",".join(f"{choice}.{target}" for choice, target in pairs),
            "accepted": None,
            "choiceValues": None,
            "maxLength": None,
            "partial": question.scoring == "partial",
        }

    def longest_response(self, question: Question) -> int:
        return len(question.choices) + 3  # a target letter per choice in quotes, a comma

    def shows_letters(self, question: Question) -> bool:
        return not question.shuffle  # shuffled letters would mean nothing

    def sco_answer(self, question: Question, choices: tuple) -> MatchAnswerView:
        details = details_of(question)
        texts = {t.key: t.text.text for t in details.targets}
        by_key = {c.key: c for c in choices}
        return MatchAnswerView(
            targets=tuple(TargetView(t.key, t.text.text) for t in details.targets),
            pairs=tuple(PairView(by_key[c], texts[t]) for c, t in details.pairs),
        )

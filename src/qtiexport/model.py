"""The typed course model: built once by `validate`, read by every later stage."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from qtiexport.diagnostics import Location
from qtiexport.markdown import Markdown, MarkdownMode

# The question types are the kinds in qtiexport.questions (REGISTRY), one module each.
Scoring = Literal["all_or_nothing", "partial"]


def shown(mode: MarkdownMode, **options: Any) -> Any:
    """Declare a Markdown field and the mode it is shown in. The validator renders it
    once in that mode (`markdown_mode`); every package uses that rendering."""
    return field(metadata={"markdown": mode}, **options)


@cache  # asked for every Markdown field read; the declarations never change
def markdown_mode(owner: type, name: str) -> MarkdownMode:
    """The mode the Markdown field `owner.name` is declared with."""
    for declared in fields(owner):
        if declared.name == name:
            return declared.metadata["markdown"]
    raise KeyError(f"{owner.__name__}.{name}")


@dataclass(frozen=True)
class Image:
    id: str
    file: Path  # absolute path on disk, checked to lie inside the case folder
    href: str  # path relative to the case folder, with forward slashes
    caption: Markdown = shown("block")
    alt: str
    modality: str | None
    media_type: str
    width: int
    height: int
    annotated: Image | None
    location: Location
    # A series (the slices of one sequence) lists every slice in order, this image's own
    # file first; a single image has none.
    series: tuple[Image, ...] = ()
    # Shown once the case's questions are answered: findings would give answers away.
    findings: Markdown | None = shown("block", default=None)


@dataclass(frozen=True)
class TeachingSection:
    title: str
    body: Markdown = shown("block")
    location: Location


@dataclass(frozen=True)
class Choice:
    key: str  # a single letter a–z: SCORM 1.2 reports a choice as one character
    text: Markdown = shown("inline")  # in a <label> and a simpleChoice
    fixed: bool
    feedback: Markdown | None = shown("block")
    location: Location


@dataclass(frozen=True)
class Feedback:
    correct: Markdown | None = shown("block")
    incorrect: Markdown | None = shown("block")
    explanation: Markdown | None = shown("block")


@dataclass(frozen=True)
class Answer:
    """What a question's kind reads from its own keys: the type-specific part of a
    Question. A kind that needs more than these keeps its own frozen data in `details`."""

    choices: tuple[Choice, ...] = ()  # true_false: the two fixed choices `true` and `false`
    correct: tuple[str, ...] = ()  # choice keys; for `text`, the accepted answers
    scoring: Scoring = "all_or_nothing"
    max_length: int = 0  # longest answer a learner may type (text questions)
    details: object | None = None


@dataclass(frozen=True)
class Question:
    id: str
    type: str  # the name of its kind in qtiexport.questions.REGISTRY
    stem: Markdown = shown("block")
    images: tuple[Image, ...]
    choices: tuple[Choice, ...]  # true_false: the two fixed choices `true` and `false`
    correct: tuple[str, ...]  # choice keys; for `text`, the accepted answers
    shuffle: bool
    points: float
    scoring: Scoring
    max_length: int  # longest answer a learner may type (text questions)
    feedback: Feedback
    location: Location
    details: object | None = None  # what its kind keeps beyond the fields above

    @property
    def correct_choices(self) -> tuple[Choice, ...]:
        return tuple(c for c in self.choices if c.key in self.correct)


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    history: Markdown = shown("block")
    images: tuple[Image, ...]
    diagnosis: Markdown | None = shown("inline")  # after "Diagnosis:" in QTI
    teaching: tuple[TeachingSection, ...]
    references: tuple[Markdown, ...] = shown("inline")  # each a list item; may hold links
    keywords: tuple[str, ...]
    questions: tuple[Question, ...]
    folder: Path
    location: Location
    # Whom the case or its images come from ("Courtesy of …"): one line under the history,
    # in small print, in the player and in QTI.
    credit: Markdown | None = shown("inline", default=None)
    # This case's pass mark, 0–100, in place of the course's; None: the course's applies.
    mastery_score: int | None = None

    @property
    def max_score(self) -> float:
        """The points of the questions scored automatically (an essay's are not)."""
        from qtiexport.questions import kind_of  # the kinds import this module

        return sum(q.points for q in self.questions if kind_of(q.type).scored)


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    description: Markdown | None = shown("block")  # plain text in the manifests
    language: str
    version: str | None
    authors: tuple[str, ...]
    license: str | None
    mastery_score: int | None
    cases: tuple[Case, ...]
    root: Path
    location: Location

    @cached_property
    def question_types(self) -> frozenset[str]:
        """The types of the questions the course asks, found once: every case's page
        names the player scripts they need."""
        return frozenset(q.type for case in self.cases for q in case.questions)

    def pass_mark(self, case: Case) -> int | None:
        """The mastery score that applies to `case`: its own, else the course's."""
        return case.mastery_score if case.mastery_score is not None else self.mastery_score

    def questions_named(self, reference: str) -> list[tuple[Case, Question]]:
        """Every question `reference` names: `case-id/question-id` names at most one;
        a bare question id names the question of that id in each case that has one
        (question ids are unique within their case only)."""
        case_id, _, question_id = reference.rpartition("/")
        return [
            (case, question)
            for case in self.cases
            if not case_id or case.id == case_id
            for question in case.questions
            if question.id == question_id
        ]

    def question(self, reference: str) -> tuple[Case, Question] | None:
        """The question `reference` (`case-id/question-id`, or a question id that only
        one case uses) names, or None when it names none."""
        found = self.questions_named(reference)
        if len(found) > 1:
            raise AmbiguousQuestion(reference, tuple(case.id for case, _ in found))
        return found[0] if found else None


class AmbiguousQuestion(LookupError):
    """A bare question id that several cases use: name it as `case-id/question-id`."""

    def __init__(self, question_id: str, case_ids: tuple[str, ...]):
        self.question_id = question_id
        self.case_ids = case_ids
        super().__init__(
            f"question `{question_id}` is in several cases ({', '.join(case_ids)}); "
            f"name one as `{case_ids[0]}/{question_id}`"
        )

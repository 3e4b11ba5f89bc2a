"""The typed course model: built once by `validate`, read by every later stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from qtiexport.diagnostics import Location

QuestionType = Literal["single", "multiple", "true_false", "text"]
QUESTION_TYPES: tuple[str, ...] = ("single", "multiple", "true_false", "text")
Scoring = Literal["all_or_nothing", "partial"]


@dataclass(frozen=True)
class Image:
    id: str
    file: Path  # absolute path on disk, checked to lie inside the case folder
    href: str  # path relative to the case folder, with forward slashes
    caption: str
    alt: str
    modality: str | None
    media_type: str
    width: int
    height: int
    annotated: Image | None
    location: Location


@dataclass(frozen=True)
class TeachingSection:
    title: str
    body: str  # Markdown
    location: Location


@dataclass(frozen=True)
class Choice:
    key: str  # a single letter a–z: SCORM 1.2 reports a choice as one character
    text: str  # Markdown
    fixed: bool
    feedback: str | None
    location: Location


@dataclass(frozen=True)
class Feedback:
    correct: str | None
    incorrect: str | None
    explanation: str | None


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    stem: str  # Markdown
    images: tuple[Image, ...]
    choices: tuple[Choice, ...]  # true_false: the two fixed choices `true` and `false`
    correct: tuple[str, ...]  # choice keys; for `text`, the accepted answers
    shuffle: bool
    points: float
    scoring: Scoring
    max_length: int  # longest answer a learner may type (text questions)
    feedback: Feedback
    location: Location

    @property
    def correct_choices(self) -> tuple[Choice, ...]:
        return tuple(c for c in self.choices if c.key in self.correct)


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    history: str  # Markdown
    images: tuple[Image, ...]
    diagnosis: str | None
    teaching: tuple[TeachingSection, ...]
    references: tuple[str, ...]
    keywords: tuple[str, ...]
    questions: tuple[Question, ...]
    folder: Path
    location: Location

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    description: str | None
    language: str
    version: str | None
    authors: tuple[str, ...]
    license: str | None
    mastery_score: int | None
    cases: tuple[Case, ...]
    root: Path
    location: Location

    def question(self, question_id: str) -> tuple[Case, Question] | None:
        for case in self.cases:
            for question in case.questions:
                if question.id == question_id:
                    return case, question
        return None

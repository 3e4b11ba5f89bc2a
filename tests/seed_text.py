"""Reading the seed text the way a person reads it, for the faithfulness tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

QUESTION = re.compile(r"^Q(\d+)\s*[–-]\s*(.+)$")
ANSWER = re.compile(r"^A(\d+)\s*[–-]\s*\(([a-z])\)\s*(.+)$")
CHOICE = re.compile(r"^\(([a-z])\)\s*(.+)$")
NUMBERED = re.compile(r"^\d+\.\s*")


def normalise(text: str) -> str:
    return " ".join(text.split())


@dataclass
class SeedText:
    questions: dict[str, str] = field(default_factory=dict)  # "q1" -> stem
    choices: dict[str, dict[str, str]] = field(default_factory=dict)  # "q1" -> {a: text}
    answers: dict[str, tuple[str, str]] = field(default_factory=dict)  # "q1" -> (key, text)
    other_lines: list[str] = field(default_factory=list)  # every other line, list marks removed


def read_seed(path: Path) -> SeedText:
    seed = SeedText()
    current = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = normalise(raw)
        if not line:
            continue
        if match := QUESTION.match(line):
            current = f"q{match[1]}"
            seed.questions[current] = match[2]
            seed.choices[current] = {}
        elif match := ANSWER.match(line):
            seed.answers[f"q{match[1]}"] = (match[2], match[3])
            current = None
        elif (match := CHOICE.match(line)) and current is not None:
            seed.choices[current][match[1]] = match[2]
        else:
            current = None
            seed.other_lines.append(NUMBERED.sub("", line).removesuffix(":"))
    return seed

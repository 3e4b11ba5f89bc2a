"""Located errors about an author's files, and the ways they are printed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """A point in an author's file; line and column count from 1."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    location: Location
    message: str

    def __post_init__(self) -> None:
        # One error, one line: author text quoted in a message may hold line breaks.
        object.__setattr__(self, "message", " ".join(self.message.split()))

    def __str__(self) -> str:
        return f"{self.location}: error: {self.message}"


@dataclass
class Diagnostics:
    """Collects every error of a run so that the author sees them all at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, location: Location, message: str) -> None:
        self.items.append(Diagnostic(location, message))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    def __bool__(self) -> bool:
        return bool(self.items)


class ContentError(Exception):
    """The course has errors; carries all of them, sorted by file and line."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(set(diagnostics))
        super().__init__(f"{len(self.diagnostics)} error(s)")


def display_path(path: Path, base: Path | None = None) -> str:
    """A path as the author would type it: relative to the working directory when possible."""
    base = base or Path.cwd()
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def format_text(diagnostics: list[Diagnostic]) -> str:
    lines = [str(d) for d in diagnostics]
    count = len(diagnostics)
    lines.append(f"{count} error{'s' if count != 1 else ''}")
    return "\n".join(lines)


def format_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps(
        {
            "errors": [
                {
                    "file": d.location.path,
                    "line": d.location.line,
                    "column": d.location.col,
                    "message": d.message,
                }
                for d in diagnostics
            ],
            "count": len(diagnostics),
        },
        indent=2,
        ensure_ascii=False,
    )


def _escape_github(value: str, *, prop: bool = False) -> str:
    # Workflow commands treat %, CR and LF specially; properties also , and :.
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def format_github(diagnostics: list[Diagnostic]) -> str:
    lines = [
        f"::error file={_escape_github(d.location.path, prop=True)},"
        f"line={d.location.line},col={d.location.col}::{_escape_github(d.message)}"
        for d in diagnostics
    ]
    count = len(diagnostics)
    lines.append(f"{count} error{'s' if count != 1 else ''}")
    return "\n".join(lines)


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}

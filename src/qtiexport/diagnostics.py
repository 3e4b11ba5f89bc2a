"""Located errors about an author's files, and the ways they are printed."""

from __future__ import annotations

import json
import re
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


# Characters that must never reach a terminal or a log raw from author text: C0 and C1
# controls (ESC and CSI start terminal escape sequences), DEL, bidirectional overrides
# and isolates (they make text read differently from what it is) and the Unicode line and
# paragraph separators. Tab, line feed and carriage return become spaces instead.
UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def describe_forbidden(character: str) -> str:
    """What a character that author text may not hold is, and why, for a message."""
    code = ord(character)
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        kind = "a bidirectional override, which makes text read differently from what it is"
    elif code in (0x2028, 0x2029, 0x85):
        kind = "a Unicode line or paragraph separator, which tools read as a line break"
    else:
        kind = "an invisible control character"
    return f"U+{code:04X}, {kind}"


def escape_unprintable(text: str) -> str:
    """Author text made safe to print: each dangerous character as a visible escape."""
    return UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


@dataclass(frozen=True, order=True)
class Diagnostic:
    location: Location
    message: str

    def __post_init__(self) -> None:
        # One error, one line: author text quoted in a message may hold line breaks.
        object.__setattr__(self, "message", " ".join(escape_unprintable(self.message).split()))
        path = escape_unprintable(self.location.path)
        if path != self.location.path:
            object.__setattr__(
                self, "location", Location(path, self.location.line, self.location.col)
            )

    def __str__(self) -> str:
        return f"{self.location}: error: {self.message}"


# Enough for any author to work through; a file of 200,000 broken values (or one value
# that aliases repeat) would otherwise hold hundreds of MB of messages.
MAX_ERRORS_PER_FILE = 1000


@dataclass
class Diagnostics:
    """Collects every error of a run so that the author sees them all at once (up to
    MAX_ERRORS_PER_FILE different errors in each file, then one that says so)."""

    items: list[Diagnostic] = field(default_factory=list)
    kept: dict[str, set[Diagnostic]] = field(default_factory=dict)  # by file

    def error(self, location: Location, message: str) -> None:
        diagnostic = Diagnostic(location, message)
        kept = self.kept.setdefault(diagnostic.location.path, set())
        if diagnostic in kept or len(kept) > MAX_ERRORS_PER_FILE:
            return
        if len(kept) == MAX_ERRORS_PER_FILE:
            diagnostic = Diagnostic(
                Location(diagnostic.location.path),
                f"more than {MAX_ERRORS_PER_FILE:,} errors in this file; the first "
                f"{MAX_ERRORS_PER_FILE:,} found are shown: fix them and validate again",
            )
        kept.add(diagnostic)
        self.items.append(diagnostic)

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

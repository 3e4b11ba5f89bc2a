"""Reading the keys of one YAML mapping: the checks every field needs, with located,
suggestion-bearing messages. The validator and every question kind read through these."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from qtiexport.diagnostics import Diagnostics, Location, describe_forbidden
from qtiexport.loader import Node
from qtiexport.markdown import Markdown, MarkdownMode, render_markdown
from qtiexport.model import Image, markdown_mode

# Matched whole (fullmatch): `$` would let a final line break through.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
MAX_IDENTIFIER = 255
DIGITS = re.compile(r"\d+")


def suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


# A missing file's name is a likely typo of an existing one when their names (without the
# extension, any letter case) are this alike: one wrong, missing or swapped letter in a
# name of 8 letters, two in one of 16.
FILE_NAME_CUTOFF = 0.75
# With no likely typo, a folder this small is listed instead, so the author sees the names.
LISTED_FILES = 5
EXTENSION_FAMILIES = {".jpeg": ".jpg", ".tiff": ".tif"}


def _name_likeness(wanted: PurePosixPath, existing: PurePosixPath) -> float:
    """How alike two paths' folders and names are, 0 to 1; 0 when the names differ only in
    their numbers (`slice-2` is another slice, not a typo of `slice-1`)."""
    wanted_name, existing_name = wanted.stem.casefold(), existing.stem.casefold()
    if wanted_name != existing_name and DIGITS.sub("", wanted_name) == DIGITS.sub(
        "", existing_name
    ):
        return 0.0
    name = difflib.SequenceMatcher(None, wanted_name, existing_name).ratio()
    folder = difflib.SequenceMatcher(
        None, str(wanted.parent).casefold(), str(existing.parent).casefold()
    ).ratio()
    return min(name, folder)


def _family(path: PurePosixPath) -> str:
    suffix = path.suffix.casefold()
    return EXTENSION_FAMILIES.get(suffix, suffix)


def suggest_file(wanted: str, existing: list[str]) -> str:
    """A "did you mean" naming the existing file that `wanted` is a likely typo of (the
    same kind of file first), else the existing files when there are few, else ""."""
    target = PurePosixPath(wanted)
    # Hidden files (.DS_Store, editors' backups) are never what an author meant.
    existing = [name for name in existing if not name.startswith(".") and "/." not in name]
    scored = []
    for name in existing:
        path = PurePosixPath(name)
        likeness = _name_likeness(target, path)
        if likeness >= FILE_NAME_CUTOFF:
            scored.append((_family(path) == _family(target), likeness, name))
    if scored:
        return f"; did you mean `{max(scored)[2]}`?"
    if not existing:
        return "; the case folder holds no files besides its YAML"
    if len(existing) <= LISTED_FILES:
        return "; the case folder holds " + ", ".join(f"`{name}`" for name in existing)
    return ""


def describe_node(node: Node) -> str:
    if node.is_map:
        return "a mapping"
    if node.is_list:
        return "a list"
    if node.value is None:
        return "nothing"
    if isinstance(node.value, bool):
        return f"`{node.raw}` (true/false)"
    if isinstance(node.value, (int, float)):
        return f"the number `{node.raw}`"
    text = str(node.value)
    return f"the text `{text}`" if len(text) <= 40 and "\n" not in text else "text"


@dataclass(frozen=True)
class CaseContext:
    """What a question's kind may look up in its case (an image question's image)."""

    case_id: str
    images: dict[str, Image]  # the case's images that validated, by id
    declared: frozenset[str]  # every image id case.yaml declares, valid or not


class Fields:
    """The keys of one YAML mapping, read with the checks every field needs."""

    # Set by the validator on a question's fields, for its kind's `read`.
    case: CaseContext | None = None

    def __init__(
        self,
        node: Node,
        what: str,
        known: tuple[str, ...],
        required: tuple[str, ...],
        diags: Diagnostics,
    ):
        self.node = node
        self.diags = diags
        self.ok = node.is_map
        self.values: dict[str, Node] = node.value if node.is_map else {}
        # Name the thing by its id when it has one: "question `q2`", not "a question".
        own_id = self.values.get("id")
        generic = what.startswith(("a ", "an "))
        if generic and own_id is not None and isinstance(own_id.value, str):
            what = f"{what.removeprefix('a ').removeprefix('an ')} `{own_id.value[:60]}`"
        self.what = what
        if not self.ok:
            diags.error(
                node.location,
                f"{what} must be a mapping of `key: value` lines, not {describe_node(node)}",
            )
            return
        self.misspelt: set[str] = set()  # known keys a "did you mean" already names
        locations = node.key_locations
        for key in locations:  # a key's location is made only for a message
            if key not in known:
                where = locations[key]
                close = suggest(key, known)
                self.misspelt.update(k for k in known if close.endswith(f"`{k}`?"))
                hint = close or f" (allowed: {', '.join(known)})"
                diags.error(where, f"unknown key `{key}` in {what}{hint}")
        self.require(*required)

    def require(self, *keys: str) -> None:
        """Report each of `keys` the mapping lacks. A misspelt key is one mistake: "did
        you mean" already names the missing key."""
        if not self.ok:
            return
        for key in keys:
            if key not in self.values and key not in self.misspelt:
                self.diags.error(
                    self.node.location, f"{self.what} is missing the required key `{key}`"
                )

    def error(self, key: str, message: str) -> None:
        self.diags.error(self.where(key), message)

    def where(self, key: str) -> Location:
        node = self.values.get(key)
        return node.location if node is not None else self.node.location

    def get(self, key: str) -> Node | None:
        return self.values.get(key)

    def text(self, key: str) -> str | None:
        node = self.values.get(key)
        if node is None:
            return None
        return read_text(node, f"`{key}` of {self.what}", self.diags)

    def markdown(self, key: str, owner: type) -> Markdown | None:
        """The Markdown field `key`, rendered in the mode `owner` declares for it."""
        node = self.values.get(key)
        if node is None:
            return None
        what = f"`{key}` of {self.what}"
        return read_markdown(node, what, self.diags, markdown_mode(owner, key))

    def identifier(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not check_identifier(value, self.where(key), self.diags):
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        node = self.values.get(key)
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.diags.error(
                node.location,
                f"`{key}` of {self.what} must be true or false, not {describe_node(node)}",
            )
            return default
        return node.value

    def number(
        self, key: str, default: float, low: float, high: float, integer: bool = False
    ) -> float:
        node = self.values.get(key)
        if node is None:
            return default
        value = node.value
        kind = "a whole number" if integer else "a number"
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (integer and not isinstance(value, int))
        ):
            self.diags.error(
                node.location, f"`{key}` of {self.what} must be {kind}, not {describe_node(node)}"
            )
            return default
        if not low <= value <= high or value != value:
            self.diags.error(
                node.location,
                f"`{key}` of {self.what} is {node.raw}; it must be between {low:g} and {high:g}",
            )
            return default
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        """A list of texts; a single text stands for a list of one."""
        node = self.values.get(key)
        if node is None:
            return ()
        if node.is_scalar and node.value is not None:
            value = read_text(node, f"`{key}` of {self.what}", self.diags)
            return (value,) if value is not None else ()
        if not node.is_list:
            self.diags.error(
                node.location, f"`{key}` of {self.what} must be a list, not {describe_node(node)}"
            )
            return ()
        values = []
        for item in node.value:
            value = read_text(item, f"an entry of `{key}` in {self.what}", self.diags)
            if value is not None:
                values.append(value)
        return tuple(values)

    def markdown_list(self, key: str, owner: type) -> tuple[Markdown, ...]:
        """A list of Markdown texts, each rendered in the mode `owner` declares for `key`;
        a single text stands for a list of one."""
        node = self.values.get(key)
        if node is None:
            return ()
        mode = markdown_mode(owner, key)
        if node.is_scalar and node.value is not None:
            value = read_markdown(node, f"`{key}` of {self.what}", self.diags, mode)
            return (value,) if value is not None else ()
        values = []
        for item in self.list_of(key):
            value = read_markdown(item, f"an entry of `{key}` in {self.what}", self.diags, mode)
            if value is not None:
                values.append(value)
        return tuple(values)

    def list_of(self, key: str) -> list[Node]:
        node = self.values.get(key)
        if node is None:
            return []
        if not node.is_list:
            self.diags.error(
                node.location, f"`{key}` of {self.what} must be a list, not {describe_node(node)}"
            )
            return []
        return node.value


def read_text(node: Node, what: str, diags: Diagnostics) -> str | None:
    if not node.is_scalar:
        diags.error(node.location, f"{what} must be text, not {describe_node(node)}")
        return None
    if node.value is None:
        diags.error(node.location, f"{what} has no value; write the text after the colon")
        return None
    # A title `yes` or a version `1.0` is what the author typed, not a boolean or number.
    value = node.value if isinstance(node.value, str) else node.raw or ""
    if not value.strip():
        diags.error(node.location, f"{what} is empty; write the text or remove the key")
        return None
    if (found := FORBIDDEN_CHARACTER.search(value)) is not None:
        diags.error(_character_location(node, value, found.start()), _forbidden(what, found[0]))
        # Checks go on without the characters, so one mistake gives one error; nothing
        # is rendered or written after an error.
        value = FORBIDDEN_CHARACTER.sub("", value)
    return value


def read_markdown(node: Node, what: str, diags: Diagnostics, mode: MarkdownMode) -> Markdown | None:
    """A Markdown text, rendered once in the mode it is shown in and checked against the
    HTML policy; the model keeps that rendering for every package."""
    value = read_text(node, what, diags)
    if value is None:
        return None
    html, problems = render_markdown(value, mode)
    for problem in problems:
        line = node.location.line + problem.line + (1 if _is_block(node) else 0)
        if node.style == '"':
            # A `\n` escape is a line of the text but not of the file: name the start.
            line = node.location.line
        diags.error(
            Location(node.location.path, line, node.location.col), f"{what}: {problem.message}"
        )
    return Markdown(value, html)


# Never in author text: C0 controls but tab and line feed, DEL, C1 controls (lxml refuses
# the C0 ones; ESC and CSI drive terminals), bidirectional overrides and isolates, which
# make text read differently from what it is, and the Unicode line and paragraph
# separators, which JavaScript and many tools read as line breaks.
FORBIDDEN_CHARACTER = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def _forbidden(what: str, character: str) -> str:
    return f"{what} contains {describe_forbidden(character)}; remove it"


def _character_location(node: Node, value: str, offset: int) -> Location:
    """Where a character of a scalar's text is: exact on one-line values, the line of a
    block scalar's text otherwise (quoted escapes make columns approximate)."""
    where = node.location
    lines_before = value.count("\n", 0, offset)
    if _is_block(node):
        return Location(where.path, where.line + 1 + lines_before, where.col)
    if lines_before == 0 and node.style is None:
        return Location(where.path, where.line, where.col + offset)
    return where


def _is_block(node: Node) -> bool:
    # A block scalar's text starts on the line after its `|` or `>`.
    return node.style in ("|", ">")


def check_identifier(value: str, where: Location, diags: Diagnostics) -> bool:
    if len(value) > MAX_IDENTIFIER:
        diags.error(
            where,
            f"identifier `{value[:40]}…` is {len(value)} characters long; "
            f"the standards allow at most {MAX_IDENTIFIER}",
        )
        return False
    if not IDENTIFIER.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "…"
        # A line break or tab in an id would otherwise print as a space.
        shown = shown.translate({10: "\\n", 13: "\\r", 9: "\\t"})
        diags.error(
            where,
            f"`{shown}` is not a valid identifier: it must start with a letter "
            "or `_` and contain only letters, digits, `_`, `-` and `.`",
        )
        return False
    return True

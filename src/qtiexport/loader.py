"""Stage 1: read an author's YAML file into nodes that remember where they came from.

libyaml's parser gives every event a start mark; we keep its line and column on our own
`Node` so that errors found long after loading (a wrong answer key, a missing image)
still point at `file:line:col`. The nodes are built straight from the event stream, so
libyaml's own node graph never exists, and every value is counted as it is produced: a
file is refused at MAX_VALUES values before their memory is spent, however it is shaped
(one long flow list, aliases that repeat a list many times over). PyYAML silently keeps
the last of two equal keys and expands aliases without bound; both are caught here.
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.tokens import (
    BlockEntryToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
    ScalarToken,
    ValueToken,
)

from qtiexport.diagnostics import Diagnostic, Location, describe_forbidden

# A real case file holds a few thousand values: questions.yaml of the largest case that
# SCORM's learner state allows has some 15,000. Every value an alias repeats counts again,
# so this one figure stops alias bombs too. At the limit a file's nodes take 30-40 MB.
MAX_VALUES = 100_000
MAX_DEPTH = 100
# Checking a text's Markdown takes a few hundred bytes a character at worst; a case
# history of 100,000 characters is some 15,000 words.
MAX_TEXT_CHARACTERS = 100_000
# A YAML file larger than this is not a hand-written course file. Loading one costs up to
# seven times its size at once (its bytes, libyaml's buffer, a text stored four bytes a
# character), so two workers each loading one stay well within 300 MB.
MAX_FILE_BYTES = 10 * 1024 * 1024
# The most memory validating a file may take, from the worst shapes tests/test_memory.py
# measures: its nodes (some 350 bytes a value, a value in every three bytes of YAML at
# the densest, up to the values limit); at once, its bytes, libyaml's buffer and a text
# stored four bytes a character; and the Markdown check of its longest text.
NODE_MEMORY_PER_BYTE = 120
NODE_MEMORY_LIMIT = 40 * 1024 * 1024
TEXT_MEMORY_PER_BYTE = 7
MARKDOWN_MEMORY_PER_CHARACTER = 400
# libyaml's parser is about fifteen times faster than PyYAML's and gives the same marks.
PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
STRING_TAG = STANDARD_TAG_PREFIX + "str"
MERGE_TAG = "tag:yaml.org,2002:merge"
IMPLICIT_TAGS = PARSER.yaml_implicit_resolvers
SCALAR_CONSTRUCTORS = yaml.SafeLoader.yaml_constructors
BYTE_ORDER_MARK = codecs.BOM_UTF8
UTF8_CHECK_CHUNK = 1 << 20
# The line breaks of str.splitlines, which tab messages have always counted lines by.
LINE_BREAK = re.compile(rb"\r\n|[\n\r\x0b\x0c\x1c-\x1e]|\xc2\x85|\xe2\x80[\xa8\xa9]")
# A key's line and column packed in one int: a mapping keeps one small object per key.
COLUMN_BITS = 32


class Node:
    """One YAML value with its location.

    `value` is a dict of str to Node, a list of Node, or a plain scalar (str, int,
    float, bool or None). `raw` is a scalar's text as written, so that a field meant
    as text (a version `1.0`, a title `yes`) keeps exactly what the author typed.
    A value an alias repeats is the very node of its anchor, at the anchor's location.
    """

    __slots__ = ("value", "path", "line", "col", "raw", "style", "key_positions")

    def __init__(
        self,
        value: Any,
        path: str,
        line: int,
        col: int,
        raw: str | None = None,
        style: str | None = None,
    ):
        self.value = value
        self.path = path
        self.line = line
        self.col = col
        self.raw = raw
        self.style = style
        self.key_positions: dict[str, int] | None = None

    @property
    def location(self) -> Location:
        return Location(self.path, self.line, self.col)

    @property
    def key_locations(self) -> Mapping[str, Location]:
        """Where each key of a mapping is written."""
        return KeyLocations(self.path, self.key_positions or {})

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, (dict, list))

    def __repr__(self) -> str:
        return f"Node({self.value!r} at {self.location})"


class KeyLocations(Mapping[str, Location]):
    """The keys of one mapping and their locations, made into Locations when asked for."""

    __slots__ = ("path", "positions")

    def __init__(self, path: str, positions: dict[str, int]):
        self.path = path
        self.positions = positions

    def __getitem__(self, key: str) -> Location:
        line, col = divmod(self.positions[key], 1 << COLUMN_BITS)
        return Location(self.path, line, col)

    def __iter__(self) -> Iterator[str]:
        return iter(self.positions)

    def __len__(self) -> int:
        return len(self.positions)


class _Failure(Exception):
    def __init__(self, diagnostic: Diagnostic, *, final: bool = False):
        self.diagnostic = diagnostic
        self.final = final  # a limit reached: stop reading at once


def _location(shown: str, mark: Any) -> Location:
    if mark is None:
        return Location(shown, 1, 1)
    return Location(shown, mark.line + 1, mark.column + 1)


def _offset_location(shown: str, data: bytes, offset: int) -> Location:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return Location(shown, line, col)


def check_utf8(data: bytes, shown: str) -> None:
    """Refuse bytes that are not UTF-8; an author must learn which byte is wrong. Checked
    a chunk at a time, so the file's text is never held whole next to its bytes."""
    view = memoryview(data)
    start = 0
    while start < len(data):
        end = start + UTF8_CHECK_CHUNK
        try:
            _, used = codecs.utf_8_decode(view[start:end], "strict", end >= len(data))
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            raise _Failure(
                Diagnostic(
                    _offset_location(shown, data, offset),
                    f"the file is not valid UTF-8: byte 0x{data[offset]:02x} at byte offset "
                    f"{offset}; save the file with UTF-8 encoding",
                )
            ) from None
        start += used


# The characters that author text may not hold but YAML lets through unescaped, as UTF-8:
# U+0085, U+2028 and U+2029 (line breaks to YAML, which would garble its message), the
# bidirectional overrides U+202A–U+202E and isolates U+2066–U+2069 (they make a file read
# differently from what it is, in comments too). Escaped forms are checked as values.
_RAW_FORBIDDEN = re.compile(rb"\xc2\x85|\xe2\x80[\xa8-\xae]|\xe2\x81[\xa6-\xa9]")
MAX_CHARACTER_ERRORS = 100


def _forbidden_characters(data: bytes, shown: str) -> list[Diagnostic]:
    """Every such character in the file, at its line and column, before YAML reads it."""
    problems = []
    for match in _RAW_FORBIDDEN.finditer(data):
        if len(problems) == MAX_CHARACTER_ERRORS:
            break
        character = match.group().decode("utf-8")
        problems.append(
            Diagnostic(
                _offset_location(shown, data, match.start()),
                f"the file contains {describe_forbidden(character)}; remove it",
            )
        )
    return problems


def _mark(line: int, col: int) -> yaml.Mark:
    return yaml.Mark("", 0, line - 1, col - 1, None, None)


_CONSTRUCTOR = yaml.SafeLoader("")


def _scalar_value(text: str, tag: str, style: str | None) -> Any:
    """The value a plain scalar stands for (a number, true/false, nothing), else its text."""
    construct = SCALAR_CONSTRUCTORS.get(tag)
    if construct is None:
        return text
    try:
        value = construct(_CONSTRUCTOR, yaml.ScalarNode(tag, text, style=style))
    # The author's text under any tag: whatever a constructor makes of it, or fails
    # with, the text as written stays.
    except Exception:
        return text
    if not isinstance(value, (str, int, float, bool, type(None))):
        return text  # dates and binary stay as the text written
    return value


# A collection being read: [its node, its list or dict, the key waiting for its value
# (KEY_EXPECTED before one is read), its anchor, the values count when it started, the
# deepest level reached before it started].
NODE, ITEMS, KEY, ANCHOR, START_VALUES, DEEPEST_BEFORE = range(6)


class _KeyExpected:
    """Marks a mapping that waits for a key, not for a key's value."""


KEY_EXPECTED = _KeyExpected()


class _Builder:
    """Nodes from libyaml's events, one value at a time, counted and depth-checked."""

    def __init__(self, shown: str, parser: Any):
        self.shown = shown
        self.next_event = parser.get_event
        self.values = 0
        self.expanded = 0  # of `values`, those repeated by aliases
        # anchor -> (node, values in it, levels below it, its tag when a scalar)
        self.anchors: dict[str, tuple[Node, int, int, str | None]] = {}
        self.open_anchors: dict[str, Node] = {}  # collections still being read
        self.deepest = 0  # the deepest level read since the innermost open anchor
        self.root_mark: Any = None

    def fail(self, where: Location, message: str, *, final: bool = False) -> None:
        raise _Failure(Diagnostic(where, message), final=final)

    def count(self, added: int, mark: Any) -> None:
        self.values += added
        if self.values <= MAX_VALUES:
            return
        where = _location(self.shown, mark)
        if self.expanded:
            self.fail(
                where,
                f"the file expands to more than {MAX_VALUES:,} values (an alias bomb?); "
                "remove the anchors and aliases (&name, *name)",
                final=True,
            )
        self.fail(
            where,
            f"the file holds more than {MAX_VALUES:,} values (texts, numbers, keys, lists "
            "and mappings); split the case",
            final=True,
        )

    def too_deep(self, where: Location) -> None:
        self.fail(
            where,
            f"the file nests deeper than {MAX_DEPTH} levels or an alias refers to itself; "
            "flatten it",
        )

    def document(self) -> Node | None:
        """The file's one document, or None when it holds none."""
        self.next_event()  # the stream starts
        if isinstance(self.next_event(), StreamEndEvent):
            return None
        root = self.tree()
        self.next_event()  # the document ends
        after = self.next_event()
        if not isinstance(after, StreamEndEvent):
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                self.root_mark,
                "but found another document",
                after.start_mark,
            )
        return root

    def tree(self) -> Node:
        """The document's root node, read event by event without recursion."""
        shown = self.shown
        stack: list[list[Any]] = []
        while True:
            event = self.next_event()
            kind = type(event)
            tag = None
            if kind is SequenceEndEvent or kind is MappingEndEvent:
                frame = stack.pop()
                node = frame[NODE]
                anchor = frame[ANCHOR]
                if anchor is not None:
                    del self.open_anchors[anchor]
                    below = self.deepest - len(stack)
                    self.anchors[anchor] = (node, self.values - frame[START_VALUES], below, None)
                    self.deepest = max(self.deepest, frame[DEEPEST_BEFORE])
            else:
                depth = len(stack)
                mark = event.start_mark
                if not depth:
                    self.root_mark = mark
                is_key = depth and stack[-1][KEY] is KEY_EXPECTED
                if kind is ScalarEvent:
                    self.count(1, mark)
                    if event.tag not in (None, "!") and not event.tag.startswith(
                        STANDARD_TAG_PREFIX
                    ):
                        self.foreign_tag(event, stack[-1] if depth and not is_key else None)
                    node, tag = self.scalar(event)
                    if event.anchor is not None:
                        self.new_anchor(event.anchor, mark)
                        self.anchors[event.anchor] = (node, 1, 0, tag)
                    if not is_key:
                        if depth > MAX_DEPTH:
                            self.too_deep(node.location)
                        if depth > self.deepest:
                            self.deepest = depth
                elif kind is AliasEvent:
                    node, tag = self.alias(event, depth, is_key)
                else:
                    if is_key:
                        self.fail(
                            _location(shown, mark),
                            "a key must be plain text, not a list or mapping",
                        )
                    self.count(1, mark)
                    is_map = kind is MappingStartEvent
                    items: Any = {} if is_map else []
                    node = Node(items, shown, mark.line + 1, mark.column + 1)
                    if is_map:
                        node.key_positions = {}
                    if depth > MAX_DEPTH:
                        self.too_deep(node.location)
                    if depth > self.deepest:
                        self.deepest = depth
                    anchor = event.anchor
                    frame = [node, items, KEY_EXPECTED if is_map else None, anchor, 0, 0]
                    if anchor is not None:
                        self.new_anchor(anchor, mark)
                        self.open_anchors[anchor] = node
                        frame[START_VALUES] = self.values - 1
                        frame[DEEPEST_BEFORE] = self.deepest
                        self.deepest = depth
                    stack.append(frame)
                    continue
            if not stack:
                return node
            self.attach(stack[-1], node, tag)

    def foreign_tag(self, event: ScalarEvent, frame: list[Any] | None) -> None:
        """Refuse `title: !Important finding`: YAML takes `!Important` for a tag, and the
        text would lose it without a word. The message shows the line quoted."""
        written = ""
        if frame is not None:
            written = "- " if type(frame[ITEMS]) is list else f"{frame[KEY]}: "
        text = quote_text(f"{event.tag} {event.value}".rstrip())
        self.fail(
            _location(self.shown, event.start_mark),
            f"YAML reads `{event.tag}` at the start of this value as a tag and drops it; "
            f"put the text in quotes: `{written}{text}`",
        )

    def scalar(self, event: ScalarEvent) -> tuple[Node, str]:
        text = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = STRING_TAG
            if event.implicit[0]:
                for candidate, pattern in IMPLICIT_TAGS.get(text[:1], ()):
                    if pattern.match(text):
                        tag = candidate
                        break
        mark = event.start_mark
        if len(text) > MAX_TEXT_CHARACTERS:
            self.fail(
                _location(self.shown, mark),
                f"this text has {len(text):,} characters; texts are limited to "
                f"{MAX_TEXT_CHARACTERS:,} (shorten it or split it)",
            )
        value = text if tag == STRING_TAG else _scalar_value(text, tag, event.style)
        return Node(value, self.shown, mark.line + 1, mark.column + 1, text, event.style), tag

    def attach(self, frame: list[Any], node: Node, tag: str | None) -> None:
        """Add a finished value to the collection of `frame`."""
        items = frame[ITEMS]
        if type(items) is list:
            items.append(node)
            return
        key = frame[KEY]
        if key is not KEY_EXPECTED:
            items[key] = node
            frame[KEY] = KEY_EXPECTED
            return
        # `node` is a key: a scalar, or the node an alias repeats.
        if not node.is_scalar:
            self.fail(node.location, "a key must be plain text, not a list or mapping")
        if tag == MERGE_TAG:
            self.fail(node.location, "merge keys (<<) are not supported; write the keys out")
        key = node.raw
        positions = frame[NODE].key_positions
        if key in positions:
            first = positions[key] >> COLUMN_BITS
            self.fail(
                node.location,
                f"duplicate key `{key}` (first defined at line {first}); remove one of them",
            )
        positions[key] = (node.line << COLUMN_BITS) | node.col
        frame[KEY] = key

    def new_anchor(self, name: str, mark: Any) -> None:
        first = self.anchors[name][0] if name in self.anchors else self.open_anchors.get(name)
        if first is not None:
            raise yaml.composer.ComposerError(
                "found duplicate anchor; first occurrence",
                _mark(first.line, first.col),
                "second occurrence",
                mark,
            )

    def alias(self, event: AliasEvent, depth: int, is_key: bool) -> tuple[Node, str | None]:
        name = event.anchor
        found = self.anchors.get(name)
        if found is None:
            if name in self.open_anchors:
                self.too_deep(self.open_anchors[name].location)
            raise yaml.composer.ComposerError(None, None, "found undefined alias", event.start_mark)
        node, size, below, tag = found
        self.expanded += size
        self.count(size, event.start_mark)
        if not is_key:
            if depth + below > MAX_DEPTH:
                self.too_deep(_node_at_depth(node, MAX_DEPTH + 1 - depth).location)
            self.deepest = max(self.deepest, depth + below)
        return node, tag

    def drain(self) -> None:
        """Read the rest of the stream without building it, for the errors YAML itself
        would raise there: those come first, as when the whole file was composed before
        it was checked. Bounded like building: at most MAX_VALUES more events, and never
        deeper than twice MAX_DEPTH (libyaml spends time in proportion to the depth on
        every event)."""
        names = {name: (node.line, node.col) for name, (node, *_) in self.anchors.items()}
        names.update((name, (node.line, node.col)) for name, node in self.open_anchors.items())
        depth = 0
        for _ in range(MAX_VALUES):
            event = self.next_event()
            if event is None or isinstance(event, StreamEndEvent):
                return
            if isinstance(event, (SequenceStartEvent, MappingStartEvent)):
                depth += 1
                if depth > 2 * MAX_DEPTH:
                    return
            elif isinstance(event, (SequenceEndEvent, MappingEndEvent)):
                depth -= 1
            if isinstance(event, DocumentStartEvent):
                raise yaml.composer.ComposerError(
                    "expected a single document in the stream",
                    self.root_mark,
                    "but found another document",
                    event.start_mark,
                )
            if isinstance(event, AliasEvent):
                if event.anchor not in names:
                    raise yaml.composer.ComposerError(
                        None, None, "found undefined alias", event.start_mark
                    )
            elif getattr(event, "anchor", None) is not None:
                mark = event.start_mark
                if event.anchor in names:
                    raise yaml.composer.ComposerError(
                        "found duplicate anchor; first occurrence",
                        _mark(*names[event.anchor]),
                        "second occurrence",
                        mark,
                    )
                names[event.anchor] = (mark.line + 1, mark.column + 1)


def _node_at_depth(node: Node, levels: int) -> Node:
    """The first node, in reading order, `levels` levels below `node` (it exists)."""
    found = _deep_enough(node, levels)
    return found if found is not None else node


def _deep_enough(node: Node, levels: int) -> Node | None:
    if levels == 0:
        return node
    if node.is_scalar:
        return None
    children = node.value.values() if node.is_map else node.value
    for child in children:
        found = _deep_enough(child, levels - 1)
        if found is not None:
            return found
    return None


def _line_text(data: bytes, index: int) -> str | None:
    """Line `index` (from 0) of the file, split as str.splitlines splits, or None."""
    start = 0
    for _ in range(index):
        found = LINE_BREAK.search(data, start)
        if found is None:
            return None
        start = found.end()
    if start >= len(data) and index > 0:
        return None
    found = LINE_BREAK.search(data, start)
    return data[start : found.start() if found else len(data)].decode("utf-8")


# Prose trips YAML in a few ways: a colon inside a title, a text that starts with a
# character YAML reserves, quotes around only part of a text. Those errors get a message
# that shows the author's line quoted. Finding the value takes libyaml's tokens up to the
# error (about a second per MB); a hand-written file is far smaller than this.
PROSE_HELP_LIMIT = 2 * 1024 * 1024
RESERVED_START = "@`%"
SHOWN_TEXT = 80  # characters of the author's text a fix shows


def quote_text(text: str) -> str:
    """`text` as a YAML quoted scalar: double quotes unless it holds `"` or `\\`."""
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rest_of_line(line: str, col: int) -> str:
    """The text of a line from column `col` (from 0), without a trailing comment."""
    rest = line[col:]
    comment = re.search(r"[ \t]#", rest)
    return (rest[: comment.start()] if comment else rest).rstrip()


def _tokens_before(data: bytes, line: int, col: int) -> tuple[list[Any], list[Any]]:
    """libyaml's tokens that start before (line, col), both counted from 0, and the
    flow collections (`[`, `{`) still open there."""
    scanner = PARSER(data)
    before: list[Any] = []
    open_flows: list[Any] = []
    try:
        while (token := scanner.get_token()) is not None:
            start = token.start_mark
            if (start.line, start.column) >= (line, col):
                break
            if isinstance(token, (FlowSequenceStartToken, FlowMappingStartToken)):
                open_flows.append(token)
            elif isinstance(token, (FlowSequenceEndToken, FlowMappingEndToken)) and open_flows:
                token.opened = open_flows.pop()
            before.append(token)
            del before[:-4]  # the value and its key are the last few
    except yaml.YAMLError:
        pass  # the error being explained
    return before, open_flows


def _key_of(tokens: list[Any], index: int) -> str:
    """What precedes the value `tokens[index]` (or the value about to start, at the end of
    `tokens`) on its line, as the author writes it again in the fix: `key: `, `- ` or
    nothing."""
    if index >= 2 and isinstance(tokens[index - 1], ValueToken):
        key = tokens[index - 2]
        if isinstance(key, ScalarToken) and key.plain:
            return f"{key.value}: "
    if index >= 1 and isinstance(tokens[index - 1], BlockEntryToken):
        return "- "
    return ""


def _fix(before: str, text: str) -> str:
    """A line as the author should write it, in backticks unless it holds one; a long
    text is cut short, as the author needs to see only how it starts and ends."""
    if len(text) > SHOWN_TEXT:
        text = text[: SHOWN_TEXT - 12] + " … " + text[-9:]
    written = before + quote_text(text)
    return written if "`" in written else f"`{written}`"


def _prose_error(shown: str, data: bytes, exc: yaml.YAMLError) -> Diagnostic | None:
    """A plain-language message for the YAML errors that writing prose causes, at the
    value's location and with the fix written out; None for other errors."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or ""
    context = getattr(exc, "context", None) or ""
    context_mark = getattr(exc, "context_mark", None)
    if mark is None or len(data) > PROSE_HELP_LIMIT:
        return None
    if "while scanning" in context and context_mark is not None:
        mark = context_mark  # where the value being scanned starts
    line = _line_text(data, mark.line) or ""
    tokens, _ = _tokens_before(data, mark.line, mark.column)
    last = len(tokens) - 1
    value = tokens[last] if tokens else None

    def at(where: Any, message: str) -> Diagnostic:
        return Diagnostic(Location(shown, where.line + 1, where.column + 1), message)

    def starting_here() -> str:
        """The fix when the value starts at `mark`: the key, and the line from there."""
        return _fix(_key_of(tokens, len(tokens)), _rest_of_line(line, mark.column))

    if problem.startswith("mapping values are not allowed"):
        # A colon followed by a space (or ending the line) inside a plain text.
        if not isinstance(value, ScalarToken):
            return None
        start = value.start_mark
        if start.line == mark.line:
            fix = _fix(_key_of(tokens, last), _rest_of_line(line, start.column))
            return at(
                start,
                f"the colon at column {mark.column + 1} makes YAML read this text as a "
                f"`key: value`; put the text in quotes: {fix}",
            )
        key = _key_of(tokens, last).removesuffix(": ") or "key"
        before_colon = line[: mark.column].strip()
        hint = ""
        if before_colon and " " not in before_colon:
            hint = f"; if `{before_colon}:` starts a new key, indent it as the keys around it"
        return at(
            start,
            f"this text runs over several lines and the colon on line {mark.line + 1} makes "
            f"YAML read it as a `key: value`; write `{key}: |` and the text on the lines "
            f"below it, indented{hint}",
        )
    if problem.startswith("found character that cannot start any token"):
        character = line[mark.column : mark.column + 1]
        if character not in RESERVED_START:
            return None
        named = "a backtick" if character == "`" else f"`{character}`"
        return at(
            mark,
            f"YAML does not let a text start with {named}; put the text in quotes: "
            f"{starting_here()}",
        )
    if "block sequence entries are not allowed" in problem:
        key = _key_of(tokens, len(tokens)).removesuffix(": ")
        below = f" below `{key}:`" if key else " below"
        return at(
            mark,
            "`- ` here starts a list, which cannot begin on the line of its key; if this is "
            f"text, put it in quotes: {starting_here()}; for a list, write each `- item` on "
            f"its own line{below}",
        )
    if "while scanning a block scalar" in context:
        indicator = line[mark.column : mark.column + 1]
        return at(
            mark,
            f"a value that starts with `{indicator}` is read as a block of text, and "
            f"`{indicator}` must end its line; put the text in quotes: {starting_here()}",
        )
    if "while scanning an alias" in context or "found undefined alias" in problem:
        return at(
            mark,
            "a value that starts with `*` is read as an alias (`*name` repeats the value "
            f"marked `&name`); if it is text, put it in quotes: {starting_here()}",
        )
    if "while scanning a quoted scalar" in context and "end of stream" in problem:
        return at(
            mark,
            f"the text in quotes that starts here has no closing `{line[mark.column]}`; add "
            "it at the end of the text",
        )
    if "could not find expected ':'" in problem:
        # A wrapped line of a plain text, written flush with its key: YAML takes it for
        # the next key.
        if not (
            isinstance(value, ScalarToken)
            and value.plain
            and isinstance(tokens[last - 1], ValueToken)
            and value.end_mark.line < mark.line
        ):
            return None
        key = _key_of(tokens, last).removesuffix(": ") or "key"
        return at(
            mark,
            f"this line goes on with the text of `{key}:` (line {value.start_mark.line + 1}) "
            "but is not indented under it, so YAML reads it as a key; indent it, or write "
            f"`{key}: |` and the whole text below it, indented",
        )
    if not problem.startswith(("did not find expected key", "did not find expected '-'")):
        return None
    if isinstance(value, ScalarToken) and value.style in ("'", '"'):
        # Quotes around part of the text only: `"Doctor" said no`, `'Paget's disease'`.
        start = value.start_mark
        if start.line != mark.line:
            return None
        text = _rest_of_line(line, start.column)
        if len(text) > 1 and text[0] == text[-1] == value.style:
            text = text[1:-1]  # the outer quotes were meant for the whole text
        return at(
            start,
            "the quotes close before the text ends, so YAML cannot read the rest of the "
            f"line; put the whole text in quotes: {_fix(_key_of(tokens, last), text)}",
        )
    opened = getattr(value, "opened", None)
    if opened is not None and opened.start_mark.line == mark.line:
        # `[Left] hand mass`: a list (or mapping) and text after it.
        start = opened.start_mark
        before, _ = _tokens_before(data, start.line, start.column)
        fix = _fix(_key_of(before, len(before)), _rest_of_line(line, start.column))
        opener, closer, kind = ("[", "]", "list") if opened.id == "[" else ("{", "}", "mapping")
        return at(
            start,
            f"a value that starts with `{opener}` is read as a {kind} that ends at "
            f"`{closer}`, and text follows it; if it is text, put it in quotes: {fix}",
        )
    if (
        isinstance(value, ScalarToken)
        and value.plain
        and line[mark.column : mark.column + 2].rstrip() == "-"
        and isinstance(tokens[last - 1], ValueToken)
    ):
        # A Markdown list right under a plain text, at the key's indentation.
        key = _key_of(tokens, last).removesuffix(": ") or "key"
        return at(
            value.start_mark,
            f"the list on line {mark.line + 1} cannot follow the text of `{key}:`; to put a "
            f"list in the text, write `{key}: |` and indent the text and the list below it",
        )
    return None


def _yaml_error(shown: str, data: bytes, exc: yaml.YAMLError) -> Diagnostic:
    if isinstance(exc, yaml.reader.ReaderError):
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Diagnostic(
            _offset_location(shown, data, exc.position),
            f"the file contains the character U+{code:04X}, which YAML does not allow; remove it",
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = _location(shown, mark)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        line = _line_text(data, mark.line)
        if line is not None:
            tab = line.find("\t")
            if tab != -1 and (tab <= mark.column or "\t" in problem):
                return Diagnostic(
                    Location(shown, mark.line + 1, tab + 1),
                    "a tab character is used for indentation; YAML allows only spaces",
                )
    if (help_for_prose := _prose_error(shown, data, exc)) is not None:
        return help_for_prose
    context = getattr(exc, "context", None)
    if "single document" in str(context):
        return Diagnostic(where, "the file holds a second YAML document after `---`; keep one")
    context_mark = getattr(exc, "context_mark", None)
    message = problem
    if context:
        started = ""
        if context_mark is not None and mark is not None and context_mark.line != mark.line:
            started = f" that starts at line {context_mark.line + 1}"
        message = f"{problem} ({context}{started})"
    return Diagnostic(where, f"the YAML does not parse: {message}")


def validation_memory(folder: Path) -> int:
    """The most memory that validating the YAML files in `folder` may take, in bytes."""
    total = longest = 0
    for path in folder.glob("*.yaml"):
        with contextlib.suppress(OSError):
            size = min(path.stat().st_size, MAX_FILE_BYTES)
            nodes = min(size * NODE_MEMORY_PER_BYTE, NODE_MEMORY_LIMIT)
            total += nodes + size * TEXT_MEMORY_PER_BYTE
            longest = max(longest, min(size, MAX_TEXT_CHARACTERS))
    return total + longest * MARKDOWN_MEMORY_PER_CHARACTER


def load_yaml(path: Path, shown: str) -> tuple[Node | None, list[Diagnostic]]:
    """Read one YAML file; return its root node, or the errors that stop it loading."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Diagnostic(
                    Location(shown),
                    f"the file is {size / 1048576:.1f} MB; course files are limited to "
                    f"{MAX_FILE_BYTES // 1048576} MB (split the case)",
                )
            ]
        data = path.read_bytes()
    except OSError as exc:
        return None, [Diagnostic(Location(shown), f"cannot read the file: {exc.strerror}")]
    try:
        check_utf8(data, shown)
    except _Failure as failure:
        return None, [failure.diagnostic]
    if data.startswith(BYTE_ORDER_MARK):
        data = data[len(BYTE_ORDER_MARK) :]
    if problems := _forbidden_characters(data, shown):
        return None, problems
    builder = _Builder(shown, PARSER(data))
    try:
        try:
            root = builder.document()
        except _Failure as failure:
            if not failure.final:
                builder.drain()
            return None, [failure.diagnostic]
    except yaml.YAMLError as exc:
        del builder  # the nodes read so far, before the message is made
        return None, [_yaml_error(shown, data, exc)]
    if root is None:
        return None, [Diagnostic(Location(shown), "the file is empty")]
    return root, []

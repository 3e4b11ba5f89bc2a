"""Stage 1: read an author's YAML file into nodes that remember where they came from.

PyYAML's composer gives every node a start mark; we keep it on our own `Node` so that
errors found long after loading (a wrong answer key, a missing image) still point at
`file:line:col`. PyYAML silently keeps the last of two equal keys and expands aliases
without bound; both are caught here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qtiexport.diagnostics import Diagnostic, Location

# A file without aliases has fewer values than characters; an alias bomb expands to
# many more. Allow ordinary use of anchors and stop the bomb early.
MIN_NODE_BUDGET = 10_000
NODES_PER_CHARACTER = 4
MAX_DEPTH = 100
# libyaml's composer is about fifteen times faster and keeps the same marks.
COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
STRING_TAG = "tag:yaml.org,2002:str"
# A YAML file larger than this is not a hand-written course file.
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass
class Node:
    """One YAML value with its location.

    `value` is a dict of str to Node, a list of Node, or a plain scalar (str, int,
    float, bool or None). `raw` is a scalar's text as written, so that a field meant
    as text (a version `1.0`, a title `yes`) keeps exactly what the author typed.
    """

    value: Any
    location: Location
    raw: str | None = None
    style: str | None = None
    key_locations: dict[str, Location] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_scalar(self) -> bool:
        return not isinstance(self.value, (dict, list))


class _Failure(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


def _location(shown: str, mark: Any) -> Location:
    if mark is None:
        return Location(shown, 1, 1)
    return Location(shown, mark.line + 1, mark.column + 1)


def _offset_location(shown: str, data: bytes, offset: int) -> Location:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return Location(shown, line, col)


def decode_text(data: bytes, shown: str) -> str:
    """Decode UTF-8 strictly; an author must learn which byte is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = _offset_location(shown, data, exc.start)
        raise _Failure(
            Diagnostic(
                where,
                f"the file is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset "
                f"{exc.start}; save the file with UTF-8 encoding",
            )
        ) from None
    return text.removeprefix("\ufeff")


class _Converter:
    def __init__(self, shown: str, text_length: int):
        self.shown = shown
        self.count = 0
        self.budget = MIN_NODE_BUDGET + NODES_PER_CHARACTER * text_length
        self.scalars = yaml.SafeLoader("")

    def convert(
        self, node: yaml.Node, depth: int = 0, active: frozenset[int] = frozenset()
    ) -> Node:
        self.count += 1
        where = _location(self.shown, node.start_mark)
        if self.count > self.budget:
            raise _Failure(
                Diagnostic(
                    where,
                    f"the file expands to more than {self.budget:,} values "
                    "(an alias bomb?); remove the anchors and aliases (&name, *name)",
                )
            )
        if depth > MAX_DEPTH or id(node) in active:
            raise _Failure(
                Diagnostic(
                    where,
                    f"the file nests deeper than {MAX_DEPTH} levels or an alias refers to "
                    "itself; flatten it",
                )
            )
        if isinstance(node, yaml.ScalarNode):
            if node.tag == STRING_TAG:  # most values: the text as written
                return Node(node.value, where, raw=node.value, style=node.style)
            try:
                value = self.scalars.construct_object(node)
            except (yaml.YAMLError, ValueError, OverflowError):
                value = node.value
            if not isinstance(value, (str, int, float, bool, type(None))):
                value = node.value  # dates and binary stay as the text written
            return Node(value, where, raw=node.value, style=node.style)
        inner = active | {id(node)}
        if isinstance(node, yaml.SequenceNode):
            return Node([self.convert(item, depth + 1, inner) for item in node.value], where)
        mapping: dict[str, Node] = {}
        keys: dict[str, Location] = {}
        for key_node, value_node in node.value:
            key_where = _location(self.shown, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Failure(
                    Diagnostic(key_where, "a key must be plain text, not a list or mapping")
                )
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Failure(
                    Diagnostic(key_where, "merge keys (<<) are not supported; write the keys out")
                )
            key = key_node.value
            if key in keys:
                first = keys[key]
                raise _Failure(
                    Diagnostic(
                        key_where,
                        f"duplicate key `{key}` (first defined at line {first.line}); "
                        "remove one of them",
                    )
                )
            keys[key] = key_where
            mapping[key] = self.convert(value_node, depth + 1, inner)
        return Node(mapping, where, key_locations=keys)


def _yaml_error(shown: str, text: str, exc: yaml.YAMLError) -> Diagnostic:
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return Diagnostic(
            Location(shown, line, col),
            f"the file contains the character U+{code:04X}, which YAML does not allow; remove it",
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = _location(shown, mark)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        lines = text.splitlines()
        if mark.line < len(lines):
            line = lines[mark.line]
            tab = line.find("\t")
            if tab != -1 and (tab <= mark.column or "\t" in problem):
                return Diagnostic(
                    Location(shown, mark.line + 1, tab + 1),
                    "a tab character is used for indentation; YAML allows only spaces",
                )
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
        text = decode_text(data, shown)
        try:
            root = yaml.compose(text, Loader=COMPOSER)
        except yaml.YAMLError as exc:
            return None, [_yaml_error(shown, text, exc)]
        except RecursionError:
            return None, [
                Diagnostic(Location(shown), f"the file nests deeper than {MAX_DEPTH} levels")
            ]
        if root is None:
            return None, [Diagnostic(Location(shown), "the file is empty")]
        return _Converter(shown, len(text)).convert(root), []
    except _Failure as failure:
        return None, [failure.diagnostic]

"""Loading YAML with positions, and the failures PyYAML would hide."""

from __future__ import annotations

import time
from pathlib import Path

from qtiexport.loader import load_yaml


def load(tmp_path: Path, data: str | bytes):
    path = tmp_path / "file.yaml"
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return load_yaml(path, "file.yaml")


def test_every_node_keeps_its_line_and_column(tmp_path: Path) -> None:
    root, problems = load(tmp_path, "a:\n  - x: 1\n    y: [yes, 'two']\n")
    assert problems == []
    item = root.value["a"].value[0]
    assert (item.location.line, item.location.col) == (2, 5)
    assert item.key_locations["y"].line == 3
    flow = item.value["y"].value
    assert [(n.value, n.raw, n.location.col) for n in flow] == [
        (True, "yes", 9),
        ("two", "two", 14),
    ]


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    root, problems = load(tmp_path, b"\xef\xbb\xbfid: x\n")
    assert problems == [] and root.value["id"].value == "x"


def test_dates_stay_text(tmp_path: Path) -> None:
    root, _ = load(tmp_path, "version: 2024-01-31\n")
    assert root.value["version"].value == "2024-01-31"


def test_alias_bomb_stops_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijkl":
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
        previous = name
    started = time.process_time()
    root, problems = load(tmp_path, "\n".join(lines) + "\n")
    assert root is None
    assert "alias bomb" in problems[0].message
    # 9**11 values if expanded; the budget stops it after a few thousand.
    assert time.process_time() - started < 5


def test_self_referencing_alias_is_an_error(tmp_path: Path) -> None:
    root, problems = load(tmp_path, "a: &a [*a]\n")
    assert root is None
    assert "refers to itself" in problems[0].message


def test_ordinary_anchors_are_allowed(tmp_path: Path) -> None:
    root, problems = load(tmp_path, "a: &x {k: v}\nb: *x\n")
    assert problems == []
    assert root.value["b"].value["k"].value == "v"


def test_non_text_key_is_an_error(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "? [a, b]\n: 1\n")
    assert (
        str(problems[0]) == "file.yaml:1:3: error: a key must be plain text, not a list or mapping"
    )


def test_deep_nesting_is_an_error(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "a: " + "[" * 150 + "]" * 150 + "\n")
    assert "nests deeper than 100 levels" in problems[0].message

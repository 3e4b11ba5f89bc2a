"""Loading YAML with positions, and the failures PyYAML would hide."""

from __future__ import annotations

import time
from pathlib import Path

from qtiexport.diagnostics import Location
from qtiexport.loader import MAX_TEXT_CHARACTERS, MAX_VALUES, load_yaml


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


def test_values_an_alias_repeats_count_against_the_limit(tmp_path: Path) -> None:
    # A short file: the guard counts the values aliases produce, not the characters.
    anchor = "a: &a [" + ",".join(["1"] * 999) + "]\n"  # 1,000 values
    aliases = MAX_VALUES // 1000 - 2  # with the anchor, its list and keys: 4 values short
    fits = anchor + "b: [" + ",".join(["*a"] * aliases) + "]\n"
    root, problems = load(tmp_path, fits)
    assert problems == [] and len(root.value["b"].value) == aliases
    over = anchor + "b: [" + ",".join(["*a"] * (aliases + 1)) + "]\n"
    root, problems = load(tmp_path, over)
    assert root is None
    col = 5 + 3 * aliases  # the alias that went past the limit
    assert [str(p) for p in problems] == [
        f"file.yaml:2:{col}: error: the file expands to more than {MAX_VALUES:,} values "
        "(an alias bomb?); remove the anchors and aliases (&name, *name)"
    ]


def test_a_value_an_alias_repeats_is_its_anchor_node(tmp_path: Path) -> None:
    root, problems = load(tmp_path, "a: &x {k: v}\nb: *x\n")
    assert problems == [] and root.value["b"] is root.value["a"]
    assert root.value["b"].location == Location("file.yaml", 1, 4)


def test_values_beyond_the_limit_are_refused_as_they_are_read(tmp_path: Path) -> None:
    # A one-line flow list, the densest shape: refused at the value past the limit.
    root, problems = load(tmp_path, "[" + "1," * MAX_VALUES + "1]\n")
    assert root is None
    assert [str(p) for p in problems] == [
        f"file.yaml:1:{2 * MAX_VALUES}: error: the file holds more than {MAX_VALUES:,} values "
        "(texts, numbers, keys, lists and mappings); split the case"
    ]
    root, problems = load(tmp_path, "[" + "1," * (MAX_VALUES - 2) + "1]\n")
    assert problems == [] and len(root.value) == MAX_VALUES - 1


def test_a_text_over_the_limit_is_refused(tmp_path: Path) -> None:
    root, problems = load(tmp_path, "a: ok\nb: " + "x" * (MAX_TEXT_CHARACTERS + 1) + "\n")
    assert [str(p) for p in problems] == [
        f"file.yaml:2:4: error: this text has {MAX_TEXT_CHARACTERS + 1:,} characters; texts "
        f"are limited to {MAX_TEXT_CHARACTERS:,} (shorten it or split it)"
    ]
    root, problems = load(tmp_path, "b: " + "x" * MAX_TEXT_CHARACTERS + "\n")
    assert problems == [] and len(root.value["b"].value) == MAX_TEXT_CHARACTERS


def test_a_deep_line_is_refused_at_the_depth_limit(tmp_path: Path) -> None:
    started = time.process_time()
    root, problems = load(tmp_path, "a: " + "[" * 1_000_000 + "\n")
    assert [str(p) for p in problems] == [
        "file.yaml:1:104: error: the file nests deeper than 100 levels or an alias refers to "
        "itself; flatten it"
    ]
    assert time.process_time() - started < 5


def test_an_alias_too_deep_where_it_is_used(tmp_path: Path) -> None:
    # 60 levels inside the anchor, used 51 levels down: 111 levels once repeated; the error
    # points at the first value of the anchor that lies past the limit, its 51st list.
    text = "a: &d " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 50 + "*d" + "]" * 50 + "\n"
    _, problems = load(tmp_path, text)
    assert [str(p) for p in problems] == [
        "file.yaml:1:57: error: the file nests deeper than 100 levels or an alias refers to "
        "itself; flatten it"
    ]


def test_a_yaml_error_later_in_the_file_comes_first(tmp_path: Path) -> None:
    # As when the whole file was parsed before it was checked: the syntax error is reported.
    _, problems = load(tmp_path, "a: 1\na: 2\nb: [\n")
    assert [str(p) for p in problems] == [
        "file.yaml:4:1: error: the YAML does not parse: did not find expected node content "
        "(while parsing a flow node)"
    ]
    _, problems = load(tmp_path, "a: 1\na: 2\n")
    assert [str(p) for p in problems] == [
        "file.yaml:2:1: error: duplicate key `a` (first defined at line 1); remove one of them"
    ]


def test_a_character_yaml_refuses_is_located_by_character(tmp_path: Path) -> None:
    _, problems = load(tmp_path, "é: ü\x01\n")
    assert [str(p) for p in problems] == [
        "file.yaml:1:5: error: the file contains the character U+0001, which YAML does not "
        "allow; remove it"
    ]


def test_a_tag_that_cannot_hold_the_text_keeps_the_text(tmp_path: Path) -> None:
    root, problems = load(tmp_path, "a: !!timestamp not a date\nb: !!int x\nc: !!binary '#'\n")
    assert problems == []
    assert [root.value[k].value for k in "abc"] == ["not a date", "x", "#"]

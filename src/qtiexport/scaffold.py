"""`qtiexport new`: the files of a new course or case, from the templates in templates/new/.

A new case holds every case key and one question of each registered kind, each kind's
example coming from `templates/new/questions/<kind>.yaml`, so a new kind brings its own
example and nothing here changes. The placeholder images are drawn here, and the areas
the image questions ask about are taken from the same drawing, so they always lie on it.
Every file is the same bytes on every run. Nothing is written until every check passed;
a course or case appears whole or not at all.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
import yaml
from PIL import Image, ImageDraw, ImageFont

from qtiexport.diagnostics import Diagnostics, Location
from qtiexport.fields import IDENTIFIER, check_identifier
from qtiexport.questions import REGISTRY
from qtiexport.templating import templates_dir
from qtiexport.validate import windows_name_problem

DEFAULT_CASE_ID = "first-case"
FALLBACK_COURSE_ID = "my-course"
COURSE_FILE = "course.yaml"


class Refused(Exception):
    """Why nothing was written; `param` names the command-line argument at fault."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


# ---------------------------------------------------------------- placeholder images


@dataclass(frozen=True)
class Radiograph:
    """The placeholder radiograph and the shapes drawn on it, in its pixels. The hotspot
    and point examples ask about these shapes, so their areas lie on what is drawn."""

    id: str = "radiograph"
    file: str = "images/radiograph.png"
    annotated: str = "images/radiograph-annotated.png"
    width: int = 1200
    height: int = 900
    mass: tuple[int, int, int] = (760, 470, 110)  # circle: cx, cy, r
    bone: tuple[int, int, int, int] = (330, 190, 450, 900)  # rect: x1, y1, x2, y2
    soft_tissue: tuple[int, ...] = (900, 260, 1020, 300, 950, 380)  # poly: a triangle


@dataclass(frozen=True)
class Series:
    """The placeholder series: a few square MR slices through the same mass."""

    id: str = "axial-t2"
    folder: str = "images/axial-t2"
    slices: int = 3
    size: int = 512

    @property
    def pattern(self) -> str:
        return f"{self.folder}/*.png"

    def file(self, number: int) -> str:
        return f"{self.folder}/slice-{number}.png"


RADIOGRAPH = Radiograph()
SERIES = Series()
YELLOW = (255, 210, 60)
GREEN = (0, 200, 70)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's own font: the same glyphs on every machine, so the same bytes.
    return ImageFont.load_default(size=size)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)  # Pillow writes no date into a PNG
    return out.getvalue()


def draw_arrow(draw: ImageDraw.ImageDraw, tail: tuple[int, int], head: tuple[int, int]) -> None:
    """The green arrow that placeholder radiographs point with (the seed's images too)."""
    draw.line([tail, head], fill=GREEN, width=8)
    dx, dy = head[0] - tail[0], head[1] - tail[1]
    length = max((dx * dx + dy * dy) ** 0.5, 1)
    ux, uy = dx / length, dy / length
    back = (head[0] - 34 * ux, head[1] - 34 * uy)
    draw.polygon(
        [head, (back[0] - 18 * uy, back[1] + 18 * ux), (back[0] + 18 * uy, back[1] - 18 * ux)],
        fill=GREEN,
    )


def radiograph_png(annotated: bool) -> bytes:
    """A grey placeholder radiograph that says what it is and what to replace it with."""
    r = RADIOGRAPH
    image = Image.new("RGB" if annotated else "L", (r.width, r.height), 0)
    grey = (lambda v: (v, v, v)) if annotated else (lambda v: v)
    draw = ImageDraw.Draw(image)
    draw.ellipse([150, 60, 1150, 1000], fill=grey(70))  # the soft tissue of the thigh
    draw.rectangle(r.bone, fill=grey(175))
    cx, cy, radius = r.mass
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=grey(215))
    for offset in (-45, 0, 45):  # radiolucent septa
        draw.line(
            [(cx + offset, cy - radius + 20), (cx + offset + 10, cy + radius - 20)],
            fill=grey(120),
            width=5,
        )
    draw.text((40, 24), "PLACEHOLDER RADIOGRAPH", font=_font(44), fill=grey(255))
    draw.text(
        (40, 80),
        f"{r.width} x {r.height} px · replace {r.file} with your image",
        font=_font(28),
        fill=grey(235),
    )
    if annotated:
        draw.text((40, 118), "annotated: the arrow marks the mass", font=_font(28), fill=GREEN)
        draw_arrow(draw, (cx + 260, cy - 230), (cx + radius - 10, cy - radius + 30))
    return _png(image)


def slice_png(number: int) -> bytes:
    """One placeholder MR slice: the mass's size changes from slice to slice."""
    s = SERIES
    image = Image.new("L", (s.size, s.size), 10)
    draw = ImageDraw.Draw(image)
    middle = s.size // 2
    draw.ellipse([40, 70, s.size - 40, s.size - 20], fill=60)
    radius = 60 + 25 * (number if number <= (s.slices + 1) // 2 else s.slices + 1 - number)
    draw.ellipse(
        [middle - radius, middle - radius + 40, middle + radius, middle + radius + 40],
        fill=235,
        outline=110,
        width=6,
    )
    draw.text((20, 14), "PLACEHOLDER · axial T2", font=_font(28), fill=255)
    draw.text((20, 48), f"slice {number} of {s.slices}", font=_font(24), fill=220)
    return _png(image)


# ------------------------------------------------------------------------ templates


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # YAML, not HTML: nothing to escape, and only identifiers and numbers are filled in.
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "new")),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters["yaml"] = yaml_scalar
    environment.filters["coords"] = lambda numbers: "[" + ", ".join(map(str, numbers)) + "]"
    return environment


def yaml_scalar(value: str) -> str:
    """`value` as a YAML scalar that reads back as that text (`true` quoted, not a bool)."""
    return yaml.safe_dump([value], default_flow_style=True, width=10**6).strip()[1:-1]


def example_template(kind_name: str) -> str:
    """The template of a kind's example question, inside templates/new/."""
    return f"questions/{kind_name}.yaml"


def _render(name: str, **context: object) -> bytes:
    return _environment().get_template(name).render(**context).encode("utf-8")


def course_files(course_id: str, case_id: str) -> dict[str, bytes]:
    """Every file of a new course, by its path inside the course folder."""
    files = {COURSE_FILE: _render("course.yaml", course_id=course_id, case_id=case_id)}
    files.update({f"cases/{case_id}/{name}": data for name, data in case_files(case_id).items()})
    return files


def case_files(case_id: str) -> dict[str, bytes]:
    """Every file of a new case, by its path inside the case folder. A kind's example
    template sees `number` (its place in questions.yaml, for its id `q<number>`),
    `case_id`, and the placeholder `radiograph` and `series` to ask about."""
    context = {
        "case_id": case_id,
        "radiograph": RADIOGRAPH,
        "series": SERIES,
        # Wrapped here, as the comment that lists them must stay within the line.
        "kind_lines": textwrap.wrap(", ".join(kind.name for kind in REGISTRY), 64),
        "choice_feedback_kinds": [kind.name for kind in REGISTRY if kind.choice_feedback],
        "examples": [example_template(kind.name) for kind in REGISTRY],
    }
    files = {
        "case.yaml": _render("case.yaml", **context),
        "questions.yaml": _render("questions.yaml", **context),
        RADIOGRAPH.file: radiograph_png(annotated=False),
        RADIOGRAPH.annotated: radiograph_png(annotated=True),
    }
    for number in range(1, SERIES.slices + 1):
        files[SERIES.file(number)] = slice_png(number)
    return files


# ------------------------------------------------------------------------ checks


def course_id_from(folder: Path) -> str:
    """A course id from the folder's name: its letters, digits, `_`, `-` and `.`."""
    name = folder.resolve().name
    candidate = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")
    candidate = re.sub(r"^[^A-Za-z_]+", "", candidate)[:100].rstrip("-.")
    return candidate if IDENTIFIER.fullmatch(candidate) else FALLBACK_COURSE_ID


def check_case_id(case_id: str, param: str) -> None:
    """The rule the validator applies to a case id: an identifier, and a folder name
    every platform can unpack."""
    diags = Diagnostics()
    if not check_identifier(case_id, Location(param), diags):
        raise Refused(param, diags.items[0].message)
    problem = windows_name_problem(case_id, "case folder")
    if problem is not None:  # "…; rename the case folder": the folder is not made yet
        raise Refused(param, f"case `{case_id}` {problem.split(';')[0]}; choose another ID")


# ---------------------------------------------------------------------- writing


def _unused_sibling(path: Path, label: str) -> Path:
    for number in range(1000):
        candidate = path.with_name(f".{path.name}.{label}-{os.getpid()}-{number}")
        if not os.path.lexists(candidate):
            return candidate
    raise OSError(f"no free name for a temporary folder beside {path}")


@contextmanager
def _staged(path: Path, label: str) -> Iterator[Path]:
    """A new folder beside `path` to write into, removed again unless it was moved."""
    stage = _unused_sibling(path, label)
    stage.mkdir()  # as the user's own folders are: mode from the umask, not 0700
    try:
        yield stage
    finally:
        if stage.exists():
            shutil.rmtree(stage)


def _write_tree(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def create_course(path: Path, case_id: str = DEFAULT_CASE_ID) -> list[str]:
    """Make a course at `path` (new or an empty folder); return its files, relative to it."""
    if path.exists() and not path.is_dir():
        raise Refused("PATH", f"{path} is a file; give a new or empty folder for the course")
    if path.is_dir() and any(path.iterdir()):
        raise Refused(
            "PATH",
            f"{path} is not empty; give a new or empty folder, so that nothing is overwritten",
        )
    check_case_id(case_id, "--case")
    target = Path(os.path.abspath(path))  # `.` has no name to put a folder beside
    files = course_files(course_id_from(target), case_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _staged(target, "new") as stage:
        _write_tree(stage, files)
        if target.is_dir():  # empty: keep the folder the author made, move the files in
            for child in sorted(stage.iterdir()):
                child.rename(target / child.name)
        else:
            stage.rename(target)
    return sorted(files)


def create_case(path: Path, case_id: str) -> tuple[list[str], bool]:
    """Add case `case_id` to the course at `path` and list it in course.yaml; return the
    files, relative to the course folder, and whether course.yaml was changed."""
    course_file = path / COURSE_FILE
    if not path.exists():
        raise Refused(
            "PATH",
            f"{path} does not exist; give a course folder (one with {COURSE_FILE}), or make "
            f"a course with `qtiexport new course {path}`",
        )
    if not path.is_dir():
        raise Refused(
            "PATH", f"{path} is not a folder; give a course folder (one with {COURSE_FILE})"
        )
    if not course_file.is_file():
        raise Refused(
            "PATH",
            f"{path} is not a course: it has no {COURSE_FILE}; make a course with "
            f"`qtiexport new course {path}`",
        )
    check_case_id(case_id, "ID")
    cases = path / "cases"
    if cases.is_dir():
        for existing in sorted(cases.iterdir()):
            if existing.name == case_id:
                raise Refused(
                    "ID",
                    f"case `{case_id}` already exists: {existing}; choose another ID, "
                    "or edit that case",
                )
            if existing.name.casefold() == case_id.casefold():
                raise Refused(
                    "ID",
                    f"case `{case_id}` differs only in letter case from the existing case "
                    f"`{existing.name}` ({existing}); case ids name folders, so choose an ID "
                    "that differs in more than case",
                )
    text, updated = listed_in_course(course_file, case_id)
    files = case_files(case_id)
    cases.mkdir(exist_ok=True)
    folder = cases / case_id
    with _staged(folder, "new") as stage:
        _write_tree(stage, files)
        stage.rename(folder)
    if updated is not None:
        try:
            _replace_text(course_file, updated, text)
        except OSError:
            shutil.rmtree(folder)  # a case not listed in the course would only puzzle
            raise
    return [f"cases/{case_id}/{name}" for name in sorted(files)], updated is not None


# ------------------------------------------------------------ listing in course.yaml


def listed_in_course(course_file: Path, case_id: str) -> tuple[str, str | None]:
    """course.yaml's text, and that text with `case_id` added last to `cases`, keeping
    every other byte (None when the list already holds it)."""
    shown = course_file.as_posix()
    try:
        text = course_file.read_bytes().decode("utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError:
        raise Refused("PATH", f"{shown} is not UTF-8 text; save it as UTF-8") from None
    except yaml.YAMLError:
        raise Refused(
            "PATH",
            f"{shown} is not valid YAML, so the case cannot be listed in it; "
            f"`qtiexport validate {course_file.parent}` shows where, fix that first",
        ) from None
    if not isinstance(root, yaml.MappingNode):
        raise Refused("PATH", f"{shown} is not a mapping of `key: value` lines")
    entries = [value for key, value in root.value if key.value == "cases"]
    if len(entries) > 1:
        raise Refused("PATH", f"{shown} has `cases:` twice; keep one, then add the case")
    newline = "\r\n" if "\r\n" in text else "\n"
    node = entries[0] if entries else None
    if node is None:
        updated = text + ("" if text.endswith("\n") or not text else newline)
        updated += f"cases:{newline}  - {yaml_scalar(case_id)}{newline}"
    elif isinstance(node, yaml.SequenceNode):
        names = [item.value for item in node.value if isinstance(item, yaml.ScalarNode)]
        if case_id in names:
            return text, None
        updated = _appended(text, node, case_id, newline)
    elif _is_empty(node):
        line_end = _end_of_line(text, node.start_mark.index)
        updated = f"{text[:line_end]}{newline}  - {yaml_scalar(case_id)}{text[line_end:]}"
        if line_end == len(text):
            updated += newline
    else:
        updated = None
    # Whatever the list looked like, the result must read as that list plus the case.
    if updated is None or _listed_cases(updated) != [*(_listed_cases(text) or []), case_id]:
        line = node.start_mark.line + 1 if node is not None else 1
        raise Refused(
            "PATH",
            f"cannot add `{case_id}` to `cases` in {shown} (line {line}) without changing "
            "how it is written; write `cases:` as a list, one `- case-id` a line",
        )
    return text, updated


def _is_empty(node: yaml.Node) -> bool:
    return (
        isinstance(node, yaml.ScalarNode)
        and node.value == ""
        and node.style is None
        and node.start_mark.index == node.end_mark.index
    )


def _end_of_line(text: str, index: int) -> int:
    """Where the line holding `index` ends (before its line break)."""
    ends = [end for end in (text.find("\r", index), text.find("\n", index)) if end >= 0]
    return min(ends) if ends else len(text)


def _appended(text: str, node: yaml.SequenceNode, case_id: str, newline: str) -> str | None:
    """The text with `case_id` after the last entry of the list `node`, written as it is."""
    entry = yaml_scalar(case_id)
    if node.flow_style:
        close = node.end_mark.index - 1  # the closing `]`
        if text[close] != "]":
            return None
        if not node.value:
            return f"{text[:close]}{entry}{text[close:]}"
        after_last = node.value[-1].end_mark.index
        return f"{text[:after_last]}, {entry}{text[after_last:]}"
    last = node.value[-1]
    if not isinstance(last, yaml.ScalarNode) or last.start_mark.line != last.end_mark.line:
        return None
    line_start = text.rfind("\n", 0, last.start_mark.index) + 1
    prefix = text[line_start : last.start_mark.index]
    if not re.fullmatch(r" *- +", prefix):
        return None
    line_end = _end_of_line(text, last.end_mark.index)
    added = f"{newline}{prefix}{entry}"
    return text[:line_end] + added + text[line_end:]


def _listed_cases(text: str) -> list[str] | None:
    try:
        root = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    cases = root.get("cases") if isinstance(root, dict) else None
    return [str(case) for case in cases] if isinstance(cases, list) else []


def _replace_text(path: Path, text: str, expected: str) -> None:
    """Write `text` to `path` in one step, keeping its mode; refuse if it changed since
    it was read."""
    if path.read_bytes().decode("utf-8") != expected:
        raise OSError(f"{path} changed while the case was made; add the case to it by hand")
    temporary = _unused_sibling(path, "tmp")
    try:
        temporary.write_bytes(text.encode("utf-8"))
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()

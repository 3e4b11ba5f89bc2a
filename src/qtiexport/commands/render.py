"""`qtiexport render`: print what a platform receives for one question or case."""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections import Counter
from pathlib import Path

import click
from lxml import etree

from qtiexport.commands.options import load_checked_course
from qtiexport.model import AmbiguousQuestion, Course
from qtiexport.qti import render_item
from qtiexport.questions import kind_of
from qtiexport.questions.image_areas import AreasOnImage, draw_areas

# XHTML elements that sit in running text: whitespace around them shows, so an element
# holding any of them (or any text) is printed exactly as rendered.
_INLINE = frozenset(
    {"a", "abbr", "b", "br", "code", "em", "i", "img", "q", "small", "span", "strong", "sub"}
    | {"sup", "textEntryInteraction"}
)
_TAG = re.compile(r"<[^>]+>")  # text and attribute values have `<` and `>` escaped
_ATTRIBUTE = re.compile(r'([\w:.-]+)(=)("[^"]*")')
_NAME = re.compile(r"^(</?)([\w:.-]+)")


def _holds_only_blocks(element: etree._Element) -> bool:
    if (element.text or "").strip():
        return False
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).localname in _INLINE:
            return False
        if (child.tail or "").strip():
            return False
    return True


def _indent(element: etree._Element, depth: int) -> None:
    """Indent the children of elements that hold only other blocks; leave running text,
    where a space or a line break could change what learners see, untouched."""
    if len(element) == 0 or not _holds_only_blocks(element):
        return
    inner = "\n" + "  " * (depth + 1)
    element.text = inner
    for child in element:
        child.tail = inner
        _indent(child, depth + 1)
    element[-1].tail = "\n" + "  " * depth


def pretty_xml(data: bytes) -> str:
    """The document, indented wherever that cannot change what it shows."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False))
    _indent(root, 0)
    body = etree.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def highlight(text: str) -> str:
    """Tags blue, attribute names cyan, values green; text stays plain."""

    def colour_attribute(match: re.Match[str]) -> str:
        return (
            click.style(match.group(1), fg="cyan")
            + match.group(2)
            + click.style(match.group(3), fg="green")
        )

    def colour_tag(match: re.Match[str]) -> str:
        tag = match.group(0)
        if tag.startswith(("<?", "<!")):
            return click.style(tag, dim=True)
        opening = _NAME.match(tag)
        name_end = opening.end() if opening else 1
        closing = len(tag) - (2 if tag.endswith("/>") else 1)
        return (
            click.style(tag[:name_end], fg="blue", bold=True)
            + _ATTRIBUTE.sub(colour_attribute, tag[name_end:closing])
            + click.style(tag[closing:], fg="blue", bold=True)
        )

    return _TAG.sub(colour_tag, text)


@click.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("identifier")
@click.option(
    "--color/--no-color",
    default=None,
    help="Highlight the output; by default only on a terminal (and never with NO_COLOR).",
)
@click.option(
    "--png",
    "png_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="For a hotspot or point question: where to write the image with its areas drawn "
    "and labelled (default: CASE-ID.QUESTION-ID-areas.png in the current folder).",
)
def render(path: Path, identifier: str, color: bool | None, png_path: Path | None) -> None:
    """Print the QTI item XML of question IDENTIFIER (CASE-ID/QUESTION-ID, or a question
    id only one case uses), or the SCO page of case IDENTIFIER. For a hotspot or point
    question, also write a PNG of its image with the areas drawn (path on stderr)."""
    course = load_checked_course(path, "text")
    try:
        found = course.question(identifier)
    except AmbiguousQuestion as ambiguous:
        raise click.BadParameter(str(ambiguous), param_hint="IDENTIFIER") from None
    if found is not None:
        case, question = found
        text = pretty_xml(render_item(course, case, question))
        drawing = kind_of(question.type).areas_on_image(question)
        if drawing is not None:
            write_areas_png(drawing, png_path or Path(f"{case.id}.{question.id}-areas.png"))
        elif png_path is not None:
            raise click.BadParameter(
                f"question `{identifier}` is a `{question.type}` question; only hotspot and "
                "point questions have areas to draw",
                param_hint="--png",
            )
    else:
        cases = {case.id: case for case in course.cases}
        if identifier not in cases:
            raise click.BadParameter(
                unknown_identifier(course, identifier), param_hint="IDENTIFIER"
            )
        from qtiexport.scorm import render_sco  # only this use needs the SCORM renderer

        text = render_sco(course, cases[identifier])
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(highlight(text) if color else text, color=color, nl=not text.endswith("\n"))


def write_areas_png(drawing: AreasOnImage, target: Path) -> None:
    """The image with the question's areas drawn and labelled (correct ones green), for
    the author to check the coordinates; its path is told on stderr."""
    from PIL import UnidentifiedImageError

    try:
        draw_areas(drawing, target)
    except UnidentifiedImageError:
        click.echo(
            f"image `{drawing.image.id}` is not a raster image Pillow can draw on; no PNG written",
            err=True,
        )
        return
    except OSError as error:
        raise click.ClickException(f"cannot write {target}: {error.strerror or error}") from None
    click.echo(f"areas drawn on image `{drawing.image.id}`: {target}", err=True)


LISTED = 20  # identifiers named in the error; a large bank would fill the screen


def unknown_identifier(course: Course, identifier: str) -> str:
    """The usage error for an identifier that names nothing: the closest match, then the
    identifiers that exist (a question id that several cases use, with its case)."""
    uses = Counter(q.id for case in course.cases for q in case.questions)
    questions = [
        q.id if uses[q.id] == 1 else f"{case.id}/{q.id}"
        for case in course.cases
        for q in case.questions
    ]
    cases = [case.id for case in course.cases]
    known = questions + cases
    if "/" in identifier:  # suggest among `case-id/question-id` forms
        known = [f"{case.id}/{q.id}" for case in course.cases for q in case.questions]
    # Identifiers are case-sensitive, but `Q1` for `q1` is the likeliest slip.
    by_folded = {k.casefold(): k for k in reversed(known)}
    close = [by_folded[k] for k in difflib.get_close_matches(identifier.casefold(), by_folded, 1)]
    hint = f"; did you mean `{close[0]}`?" if close else ""

    def listing(ids: list[str]) -> str:
        return ", ".join(ids[:LISTED]) + (
            f" and {len(ids) - LISTED} more" if len(ids) > LISTED else ""
        )

    return (
        f"no question or case `{identifier}` in {course.id}{hint} "
        f"(questions: {listing(questions)}; cases: {listing(cases)})"
    )

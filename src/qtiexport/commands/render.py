"""`qtiexport render`: print what a platform receives for one question or case."""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path

import click
from lxml import etree

from qtiexport.commands.options import load_checked_course
from qtiexport.qti import render_item

# Tags, attribute names, attribute values: three colours are enough to read XML by.
_TOKEN = re.compile(r'(</?[\w:.-]+|/?>)|([\w:.-]+)(=)("[^"]*")')


def pretty_xml(data: bytes) -> str:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    root = etree.fromstring(data, parser)
    body = etree.tostring(root, encoding="unicode", pretty_print=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body


def highlight(text: str) -> str:
    def colour(match: re.Match[str]) -> str:
        if match.group(1):
            return click.style(match.group(1), fg="blue", bold=True)
        return (
            click.style(match.group(2), fg="cyan")
            + match.group(3)
            + click.style(match.group(4), fg="green")
        )

    return _TOKEN.sub(colour, text)


@click.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("identifier")
@click.option(
    "--color/--no-color",
    default=None,
    help="Highlight the output; by default only on a terminal (and never with NO_COLOR).",
)
def render(path: Path, identifier: str, color: bool | None) -> None:
    """Print the QTI item XML of question IDENTIFIER, or the SCO page of case IDENTIFIER."""
    course = load_checked_course(path, "text")
    found = course.question(identifier)
    if found is not None:
        case, question = found
        text = pretty_xml(render_item(course, case, question))
    else:
        cases = {case.id: case for case in course.cases}
        if identifier not in cases:
            known = [q.id for c in course.cases for q in c.questions] + list(cases)
            close = difflib.get_close_matches(identifier, known, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise click.BadParameter(
                f"no question or case `{identifier}` in {course.id}{hint} "
                f"(questions: {', '.join(known[:20])}{'…' if len(known) > 20 else ''})",
                param_hint="IDENTIFIER",
            )
        from qtiexport.scorm import render_sco

        text = render_sco(course, cases[identifier])
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    click.echo(highlight(text) if color else text, color=color)

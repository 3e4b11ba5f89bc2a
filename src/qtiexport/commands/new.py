"""`qtiexport new course|case`: start a course, or add a case, that builds as it is."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from qtiexport.diagnostics import display_path
from qtiexport.scaffold import DEFAULT_CASE_ID, Refused, create_case, create_course


def _report(heading: str, course: Path, files: list[str]) -> None:
    """What was made, file by file, and the command to run next."""
    click.echo(heading)
    for name in files:
        click.echo(f"  {display_path(course / name)}")
    click.echo(
        "Every key is explained in the comments of the YAML files; replace the placeholder "
        "text and images with your own."
    )
    click.echo(f"Next: qtiexport preview {shlex.quote(display_path(course))}")


def _refused(refusal: Refused) -> click.BadParameter:
    return click.BadParameter(refusal.message, param_hint=f"'{refusal.param}'")


@click.group()
def new() -> None:
    """Start a course, or add a case to one, with every key shown and explained."""


@new.command(short_help="Make a course in a new or empty folder.")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--case",
    "case_id",
    metavar="ID",
    default=DEFAULT_CASE_ID,
    show_default=True,
    help="The id (and folder name) of the course's first case.",
)
def course(path: Path, case_id: str) -> None:
    """Make a course in PATH, a new or empty folder: course.yaml and one case with a question
    of every type and placeholder images. It validates and builds as it is."""
    try:
        files = create_course(path, case_id)
    except Refused as refusal:
        raise _refused(refusal) from None
    except OSError as exc:
        raise click.ClickException(f"could not write the course: {exc}") from None
    _report(f"Made the course in {display_path(path)}/:", path, files)


@new.command(short_help="Add a case to a course and list it in course.yaml.")
@click.argument("path", type=click.Path(path_type=Path))
@click.argument("case_id", metavar="ID")
def case(path: Path, case_id: str) -> None:
    """Add case ID to the course in PATH: cases/ID/ with case.yaml, questions.yaml (a
    question of every type) and placeholder images, listed last in course.yaml."""
    try:
        files, listed = create_case(path, case_id)
    except Refused as refusal:
        raise _refused(refusal) from None
    except OSError as exc:
        raise click.ClickException(f"could not write the case: {exc}") from None
    course_file = display_path(path / "course.yaml")
    where = (
        f"and listed it last under `cases` in {course_file}"
        if listed
        else f"({course_file} already lists it)"
    )
    _report(f"Made the case `{case_id}` {where}:", path, files)

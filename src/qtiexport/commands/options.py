"""Options and reporting shared by the verbs that read a course."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from qtiexport.diagnostics import FORMATTERS, ContentError
from qtiexport.model import Course
from qtiexport.parallel import WorkerDied
from qtiexport.timing import StageTimes
from qtiexport.validate import validate_course

course_path = click.argument(
    "path",
    default="content",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)

error_format = click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATTERS)),
    default="text",
    show_default=True,
    help="How to print errors: text for people, json for tools, github for workflow annotations.",
)


def report_errors(error: ContentError, fmt: str) -> NoReturn:
    """Print every error of the run in the chosen format and exit with status 1."""
    output = FORMATTERS[fmt](error.diagnostics)
    # Annotations and JSON are read by machines from standard output.
    click.echo(output, err=fmt == "text")
    raise SystemExit(1)


def load_checked_course(path: Path, fmt: str, times: StageTimes | None = None) -> Course:
    try:
        return validate_course(path, times)
    except ContentError as error:
        report_errors(error, fmt)
    except WorkerDied as exc:
        click.echo(f"validation failed: {exc}", err=True)
        raise SystemExit(1) from None

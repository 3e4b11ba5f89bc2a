"""`qtiexport validate`: check a course and report every error with its location."""

from __future__ import annotations

from pathlib import Path

import click

from qtiexport.commands.options import course_path, error_format, load_checked_course


@click.command()
@course_path
@error_format
def validate(path: Path, fmt: str) -> None:
    """Check the course in PATH (default: content/) without writing anything."""
    course = load_checked_course(path, fmt)
    questions = sum(len(case.questions) for case in course.cases)
    summary = (
        f"{course.id}: {len(course.cases)} case{'s' if len(course.cases) != 1 else ''}, "
        f"{questions} question{'s' if questions != 1 else ''}, no errors"
    )
    if fmt == "json":
        click.echo('{\n  "errors": [],\n  "count": 0\n}')
    else:
        click.echo(summary)

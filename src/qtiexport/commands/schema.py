"""`qtiexport schema`: JSON Schemas of the course files, for editor completion."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qtiexport.editor_schema import EDITOR_SCHEMAS


@click.command()
@click.argument("kind", type=click.Choice(sorted(EDITOR_SCHEMAS)), required=False)
@click.option(
    "--output-dir",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write course.schema.json, case.schema.json and questions.schema.json here.",
)
def schema(kind: str | None, output_dir: Path | None) -> None:
    """Print the JSON Schema of course.yaml, case.yaml or questions.yaml (KIND).

    With --output-dir, write all three files for an editor to use.
    """
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        for name, document in sorted(EDITOR_SCHEMAS.items()):
            target = output_dir / f"{name}.schema.json"
            target.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            click.echo(str(target))
        return
    if kind is None:
        raise click.UsageError("name a KIND (course, case or questions) or give --output-dir")
    click.echo(json.dumps(EDITOR_SCHEMAS[kind], indent=2, ensure_ascii=False))

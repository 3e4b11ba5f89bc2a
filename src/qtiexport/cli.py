"""The `qtiexport` command: a Click group whose verbs live in `qtiexport.commands`."""

from __future__ import annotations

import os
import sys

import click

from qtiexport import __version__
from qtiexport.commands.build import build
from qtiexport.commands.new import new
from qtiexport.commands.preview import preview
from qtiexport.commands.render import render
from qtiexport.commands.schema import schema
from qtiexport.commands.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qtiexport")
def cli() -> None:
    """Turn teaching cases written in YAML into SCORM 1.2 and QTI 2.1 packages."""


cli.add_command(validate)
cli.add_command(build)
cli.add_command(render)
cli.add_command(schema)
cli.add_command(preview)
cli.add_command(new)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except Exception as exc:  # noqa: BLE001 - the last guard before an author sees a traceback
        if os.environ.get("QTIEXPORT_DEBUG"):
            raise
        click.echo(
            f"qtiexport: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in qtiexport, not in your content; run again with QTIEXPORT_DEBUG=1 "
            "to see the details and report them.",
            err=True,
        )
        sys.exit(3)

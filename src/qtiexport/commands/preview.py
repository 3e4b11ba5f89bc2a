"""`qtiexport preview`: serve the course on 127.0.0.1 and reload open pages on every save."""

from __future__ import annotations

import signal
import webbrowser
from pathlib import Path

import click

from qtiexport.commands.options import course_path
from qtiexport.parallel import workers_off
from qtiexport.preview.server import PortsTaken, Preview, bind, now
from qtiexport.preview.site import Rebuild, Site

DEFAULT_PORT = 8000


def report(rebuild: Rebuild) -> None:
    """One line per change on the console; the errors in full, as `validate` prints them."""
    snapshot = rebuild.snapshot
    if snapshot.problems:
        count = len(snapshot.problems)
        click.echo(
            f"{now()} {count} error{'s' if count != 1 else ''}; the pages show them until "
            "they are fixed:",
            err=True,
        )
        click.echo("\n".join(snapshot.problems), err=True)
    elif rebuild.changed:
        rendered = ", ".join(rebuild.rendered) or "nothing"
        click.echo(f"{now()} rendered {rendered} in {rebuild.seconds:.2f} s; pages reload")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the server as Ctrl-C does


@click.command()
@course_path
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port on 127.0.0.1; when it is taken, the next free one.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a browser.")
def preview(path: Path, port: int, open_browser: bool) -> None:
    """Serve the course in PATH (default: content/) on 127.0.0.1: each case in a
    simulated LMS, each item's QTI XML, the manifests. Every save re-validates the course
    and reloads the open pages; errors show in them at file:line:col. Writes nothing.
    Stop with Ctrl-C."""
    signal.signal(signal.SIGTERM, _interrupt)
    # The builds run on the watcher's thread beside the server's: forking worker
    # processes there could copy a lock another thread holds.
    with workers_off():
        preview_server: Preview | None = None
        try:
            site = Site(path)
            try:
                server = bind(port, site)
            except PortsTaken as taken:
                raise click.ClickException(f"{taken}; choose another with --port") from None
            preview_server = Preview(server, report)
            preview_server.start_watching()  # first, so that no save after the first read is missed
            report(site.rebuild())
            bound = server.server_address[1]
            if bound != port:
                click.echo(f"port {port} is in use; using {bound}", err=True)
            click.echo(f"Serving {path} at {server.url} (Ctrl-C to stop)")
            if open_browser:
                webbrowser.open(server.url)
            preview_server.serve()
        except KeyboardInterrupt:
            pass
        finally:
            if preview_server is not None:
                preview_server.close()
    click.echo("stopped")

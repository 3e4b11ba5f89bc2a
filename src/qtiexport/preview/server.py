"""The preview's HTTP server on 127.0.0.1 and the watcher that keeps it current.

Every address maps to something held in memory (a page rendered on request, a file of a
package, a static file read at start-up), looked up by its exact name: no address is
ever turned into a path on disk, so none can reach outside what is served.
"""

from __future__ import annotations

import errno
import json
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import watchfiles

from qtiexport.preview import pages
from qtiexport.preview.site import Rebuild, Site, Snapshot

LOOPBACK = "127.0.0.1"
PORTS_TRIED = 50  # the asked port and the next ones, like `mkdocs serve`
WAIT_SECONDS = 20.0  # a long poll's longest wait; short enough for proxies and timeouts
IDLE_CONNECTION_SECONDS = 30.0
STATIC_FOLDER = Path(__file__).resolve().parent / "static"
STATIC_PREFIX = "/_preview/static/"
WAIT_PATH = "/_preview/wait"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".md": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE files
}
# The preview's pages and the package files alike: scripts and styles from this server
# only, nothing from the network (the SCO's own policy, in its page, still applies).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'none'"
)


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def static_files() -> dict[str, bytes]:
    """The preview's own scripts and styles and scorm-again, read once."""
    return {p.name: p.read_bytes() for p in sorted(STATIC_FOLDER.iterdir()) if p.is_file()}


class PortsTaken(Exception):
    def __init__(self, first: int, last: int):
        self.first, self.last = first, last
        super().__init__(f"ports {first} to {last} on {LOOPBACK} are all in use")


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server on the loopback interface, serving one Site."""

    daemon_threads = True  # a long poll must not hold up Ctrl-C
    request_queue_size = 64  # a page opens its files over several connections at once

    def __init__(self, port: int, site: Site):
        self.site = site
        self.static = static_files()
        super().__init__((LOOPBACK, port), PreviewHandler)
        bound = self.server_address[1]
        self.hosts = {f"{LOOPBACK}:{bound}", f"localhost:{bound}"}
        self.url = f"http://{LOOPBACK}:{bound}/"

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser that closed its connection (a page reloaded, a tab closed) is normal;
        anything else is said in one line, not a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        print(f"qtiexport preview: internal error: {error!r}", file=sys.stderr)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks the resolver for the host's name; nothing here
        # should touch the network, and the name is not used.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def bind(port: int, site: Site, tries: int = PORTS_TRIED) -> PreviewServer:
    """A server on `port`, or on the next free port after it."""
    last = min(port + tries - 1, 65535)
    for candidate in range(port, last + 1):
        try:
            return PreviewServer(candidate, site)
        except OSError as error:
            if error.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
    raise PortsTaken(port, last)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"  # keep-alive: a page's many files over few connections
    timeout = IDLE_CONNECTION_SECONDS
    server_version = "qtiexport-preview"

    def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
        pass  # the console shows what changed, not every request

    def do_HEAD(self) -> None:
        self.respond_safely(send_body=False)

    def do_GET(self) -> None:
        self.respond_safely(send_body=True)

    def respond_safely(self, send_body: bool) -> None:
        try:
            self.respond(send_body)
        except (ConnectionError, TimeoutError):
            pass  # the browser went away (a page that reloaded): nothing to answer
        except Exception as error:  # noqa: BLE001 - a bug in one page must not stop the server
            print(f"qtiexport preview: internal error at {self.path}: {error!r}", file=sys.stderr)
            message = f"qtiexport: internal error: {type(error).__name__} (a bug; see the console)"
            self.send(HTTPStatus.INTERNAL_SERVER_ERROR, message.encode() + b"\n", "", send_body)

    # ------------------------------------------------------------------ routing

    def respond(self, send_body: bool) -> None:
        host = self.headers.get("Host")
        if host is not None and host not in self.server.hosts:
            # Another site's page, under a name that resolves to 127.0.0.1, gets nothing.
            self.send(HTTPStatus.FORBIDDEN, b"unknown host\n", "", send_body)
            return
        address = urlsplit(self.path)
        path = unquote(address.path)
        snapshot = self.server.site.snapshot  # one consistent view for this request
        if path == WAIT_PATH:
            self.wait(address.query, send_body)
            return
        if path.startswith(STATIC_PREFIX):
            name = path[len(STATIC_PREFIX) :]
            self.send_file(self.server.static.get(name), name, send_body, snapshot)
            return
        for package, files in (("scorm", snapshot.scorm_files), ("qti", snapshot.qti_files)):
            if path.startswith(f"/{package}/"):
                name = path[len(package) + 2 :]
                if snapshot.problems:
                    body = b"the course has errors: open / to see them\n"
                    self.send(HTTPStatus.SERVICE_UNAVAILABLE, body, "", send_body)
                else:
                    self.send_file(files.get(name), name, send_body, snapshot)
                return
        page = self.page(path, snapshot)
        if page is None:
            self.send_page(HTTPStatus.NOT_FOUND, pages.missing_page(snapshot, path), send_body)
        else:
            self.send_page(HTTPStatus.OK, page, send_body)

    def page(self, path: str, snapshot: Snapshot) -> str | None:
        """The HTML page at `path`, the errors instead while there are any, or None."""
        parts = path.strip("/").split("/") if path.strip("/") else []
        known = (
            parts == []
            or (parts[0] == "case" and len(parts) == 2)
            or (parts[0] == "item" and len(parts) == 3)
            or (parts[0] == "xml" and len(parts) >= 3)
        )
        if not known:
            return None
        if snapshot.problems:
            return pages.problems_page(snapshot)
        course = snapshot.course
        assert course is not None
        if not parts:
            return pages.index_page(snapshot)
        case = pages.find_case(course, parts[1])
        if parts[0] == "case":
            return pages.case_page(snapshot, case) if case else None
        if parts[0] == "item":
            question = next((q for q in case.questions if q.id == parts[2]), None) if case else None
            return pages.item_page(snapshot, case, question) if case and question else None
        package, name = parts[1], "/".join(parts[2:])
        files = {"qti": snapshot.qti_files, "scorm": snapshot.scorm_files}.get(package, {})
        data = files.get(name)
        if data is None or not name.endswith(".xml"):
            return None
        return pages.xml_page(snapshot, package, name, data)

    def wait(self, query: str, send_body: bool) -> None:
        since_values = parse_qs(query).get("since", [""])
        since = int(since_values[0]) if since_values[0].isdigit() else -1
        generation = self.server.site.wait_for_change(since, WAIT_SECONDS)
        body = json.dumps({"generation": str(generation)}).encode("utf-8")
        self.send(HTTPStatus.OK, body, "application/json", send_body)

    # ---------------------------------------------------------------- responses

    def send_file(self, data: bytes | None, name: str, send_body: bool, snapshot: Snapshot) -> None:
        if data is None:
            self.send_page(HTTPStatus.NOT_FOUND, pages.missing_page(snapshot, self.path), send_body)
        else:
            self.send(HTTPStatus.OK, data, content_type(name), send_body)

    def send_page(self, status: HTTPStatus, page: str, send_body: bool) -> None:
        self.send(status, page.encode("utf-8"), CONTENT_TYPES[".html"], send_body)

    def send(self, status: HTTPStatus, body: bytes, kind: str, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind or CONTENT_TYPES[""])
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.end_headers()
        if send_body:
            self.wfile.write(body)


# ---------------------------------------------------------------------- watching


WATCH_TICK_MS = 100  # how often the watcher looks up from waiting (to say it is ready)


def watch(
    site: Site, stop: threading.Event, ready: threading.Event, report: Callable[[Rebuild], None]
) -> None:
    """Rebuild the site after each burst of saves under its folder, until `stop`; `ready`
    is set once the folder is watched, so that no save after it goes unseen."""
    try:
        for changes in watchfiles.watch(
            site.root,
            stop_event=stop,
            step=50,  # a save is seen 50 ms after the last write of the burst
            rust_timeout=WATCH_TICK_MS,
            yield_on_timeout=True,  # an empty set: the watcher is in place
            raise_interrupt=False,
        ):
            ready.set()
            if changes:
                report(site.rebuild(path for _, path in changes))
    except Exception as error:  # noqa: BLE001 - the server goes on without live reload
        if not stop.is_set():
            print(f"qtiexport preview: stopped watching for changes: {error}", file=sys.stderr)
    finally:
        ready.set()


class Preview:
    """A running preview: the server, its site and the watcher thread."""

    def __init__(self, server: PreviewServer, report: Callable[[Rebuild], None]):
        self.server = server
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.watcher = threading.Thread(
            target=watch,
            args=(server.site, self.stop, self.ready, report),
            name="watcher",
            daemon=True,
        )

    def start_watching(self) -> None:
        """Watch the course folder; returns once saves are seen."""
        self.watcher.start()
        self.ready.wait(timeout=5.0)

    def serve(self) -> None:
        """Serve until Ctrl-C (KeyboardInterrupt reaches the caller)."""
        self.server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        self.stop.set()
        self.server.site.close()
        self.server.server_close()
        if self.watcher.is_alive():
            self.watcher.join(timeout=1.0)


def now() -> str:
    return time.strftime("%H:%M:%S")

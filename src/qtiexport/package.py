"""Final stage: write a package as a deterministic zip and an unzipped tree, atomically.

Entries go in the order given (renderers give a fixed order), with fixed timestamps
(SOURCE_DATE_EPOCH when set), fixed permissions and no directory entries, so the
same input gives byte-identical zips on any machine. Each output is written beside
its target under a temporary name and renamed into place: a failed or killed build
leaves the previous package as it was.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# 2000-01-01T00:00:00Z: a fixed time for builds that do not set SOURCE_DATE_EPOCH.
DEFAULT_EPOCH = 946684800
ZIP_EPOCH_MIN = 315532800  # zip timestamps start at 1980-01-01
FILE_MODE = 0o644
TEMP_PREFIX = ".qtiexport-tmp-"


@dataclass(frozen=True)
class PackageEntry:
    """One file of a package: its name inside the zip and its bytes or source file."""

    name: str
    data: bytes | Path
    schema: str | None = None  # which official schema checks it, if any

    def read(self) -> bytes:
        return self.data if isinstance(self.data, bytes) else self.data.read_bytes()


class PackageError(Exception):
    """A package could not be written; the previous one is intact."""


def check_entry_name(name: str) -> str:
    """Refuse any name that is not a plain relative path inside the package."""
    path = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or name.startswith("/")
        or ":" in path.parts[0]
        or any(part in ("", ".", "..") for part in name.split("/"))
        or path.as_posix() != name
    ):
        raise PackageError(f"refusing to write the unsafe package path {name!r}")
    return name


def build_timestamp() -> tuple[int, int, int, int, int, int]:
    """The timestamp of every entry: SOURCE_DATE_EPOCH, or a fixed date."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    try:
        epoch = int(raw) if raw else DEFAULT_EPOCH
    except ValueError:
        raise PackageError(f"SOURCE_DATE_EPOCH must be whole seconds, not {raw!r}") from None
    epoch = max(epoch, ZIP_EPOCH_MIN)
    return time.gmtime(epoch)[:6]


def _zip_info(name: str, stamp: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the permissions below mean the same everywhere
    info.external_attr = (0o100000 | FILE_MODE) << 16
    return info


class TreeWriter:
    """Writes files into an unzipped package tree. Any process may hold one for the same
    folder: the build's worker processes write the files they rendered themselves, so
    that the file system's work is spread over the cores."""

    def __init__(self, root: Path):
        self.root = root
        self.folders: set[str] = set()

    def _path(self, name: str) -> str:
        check_entry_name(name)  # before anything touches the disk
        path = os.path.join(self.root, *name.split("/"))
        folder = os.path.dirname(path)
        if folder not in self.folders:
            os.makedirs(folder, exist_ok=True)
            self.folders.add(folder)
        return path

    def write(self, name: str, data: bytes) -> str:
        """Write one file; return its path."""
        path = self._path(name)
        # os.open and os.write: a tree holds thousands of files, and the layers of
        # Path.write_bytes cost more than the write itself.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)
        return path

    def write_same(self, name: str, data: bytes, same_as: str) -> None:
        """Write a file whose bytes another tree already holds at `same_as`: as a hard
        link where the file system allows it. The SCORM tree repeats every QTI file, and
        a link costs a directory entry where a copy costs its pages too."""
        path = self._path(name)
        try:
            os.link(same_as, path)
        except OSError:
            self.write(name, data)


class PackageWriter:
    """Streams entries into a temporary zip and tree; `commit` renames both into place.

    A background thread, started with the first entry, compresses and writes in the order
    the entries were added while the caller renders the next document: zlib and file
    writes release the GIL, so this uses a second core. The queue is short, so memory
    holds only a few documents. An entry added with `in_tree=True` was already written to
    `temp_tree` by a `TreeWriter` (in a worker process) and goes into the zip only.
    Until `commit`, the previous package at the target paths is untouched; `discard`
    removes the temporary files.
    """

    QUEUE_LENGTH = 64

    def __init__(self, zip_path: Path, tree_path: Path):
        self.zip_path = zip_path
        self.tree_path = tree_path
        self.stamp = build_timestamp()
        # Folders this build creates, deepest first: a failed first build removes them again.
        self.created = [
            folder
            for folder in (tree_path.parent, *tree_path.parent.parents)
            if not folder.exists()
        ]
        self.created += [f for f in (zip_path.parent, *zip_path.parent.parents) if not f.exists()]
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        tree_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".zip", dir=zip_path.parent)
        self.temp_zip = Path(temp_name)
        self.temp_tree = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=tree_path.parent))
        self.raw = os.fdopen(handle, "wb")
        self.archive = zipfile.ZipFile(self.raw, "w")
        self.names: set[str] = set()
        self.tree = TreeWriter(self.temp_tree)
        self.committed = False
        self.failure: BaseException | None = None
        self.queue: queue.Queue[tuple[str, bytes, bool] | None] = queue.Queue(self.QUEUE_LENGTH)
        # Started with the first entry, not here: the build forks its workers after
        # making the writers, and a process should not fork while it runs threads.
        self.worker = threading.Thread(target=self._write_queued, daemon=True)

    def add(self, name: str, data: bytes, *, in_tree: bool = False) -> None:
        check_entry_name(name)
        if name.casefold() in self.names:
            raise PackageError(f"two files would share the package path {name!r}")
        self.names.add(name.casefold())
        self._raise_failure()
        if self.worker.ident is None:
            self.worker.start()
        self.queue.put((name, data, in_tree))

    def _write_queued(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.failure is not None:
                continue  # drain, so that `add` never blocks on a dead writer
            try:
                self._write(*item)
            except BaseException as exc:  # handed to the caller by add or commit
                self.failure = exc

    def _write(self, name: str, data: bytes, in_tree: bool) -> None:
        self.archive.writestr(_zip_info(name, self.stamp), data, compresslevel=6)
        if not in_tree:
            self.tree.write(name, data)

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise PackageError(f"writing the package failed: {self.failure}") from self.failure

    def _stop_worker(self) -> None:
        if self.worker.is_alive():
            self.queue.put(None)
            self.worker.join()

    def commit(self) -> int:
        """Finish the zip and put zip and tree in place; return the number of files."""
        self._stop_worker()
        self._raise_failure()
        self.archive.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.chmod(self.temp_zip, FILE_MODE)
        os.replace(self.temp_zip, self.zip_path)
        old = None
        if self.tree_path.exists():
            old = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.tree_path.parent))
            os.replace(self.tree_path, old / "old")
        os.replace(self.temp_tree, self.tree_path)
        if old is not None:
            shutil.rmtree(old)
        self.committed = True
        return len(self.names)

    def discard(self) -> None:
        if self.committed:
            return
        self._stop_worker()
        if not self.raw.closed:
            self.archive.close()
            self.raw.close()
        self.temp_zip.unlink(missing_ok=True)
        shutil.rmtree(self.temp_tree, ignore_errors=True)
        for folder in sorted(set(self.created), key=lambda f: len(f.parts), reverse=True):
            # A folder that is not empty holds the other target's package or the user's files.
            with contextlib.suppress(OSError):
                folder.rmdir()


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files a killed build left behind."""
    if folder.is_dir():
        for leftover in folder.glob(TEMP_PREFIX + "*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

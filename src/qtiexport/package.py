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
import shutil
import stat
import struct
import tempfile
import time
import zipfile
import zlib
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


COMPRESS_LEVEL = 6  # zlib's default: what zipfile and zip(1) use
EXTERNAL_ATTR = (0o100000 | FILE_MODE) << 16  # a regular file, rw-r--r--
MADE_BY_UNIX = 3 << 8  # so that the permissions above mean the same everywhere
ZIP_VERSION = 20  # deflate
ZIP64_VERSION = 45
MAX_16, MAX_32 = 0xFFFF, 0xFFFFFFFF


@dataclass(frozen=True)
class PackedFile:
    """A file's bytes as a zip stores them: deflated, or stored when deflating would not
    make them smaller (images), with the CRC-32 and size of the original. Packing is the
    costly part of writing a zip; the build does it once per file, in the process that
    rendered it, even for a file both packages carry."""

    crc: int
    size: int
    method: int  # zipfile.ZIP_DEFLATED or zipfile.ZIP_STORED
    payload: bytes


def pack(data: bytes) -> PackedFile:
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)  # raw deflate
    deflated = compressor.compress(data) + compressor.flush()
    crc = zlib.crc32(data)
    if len(deflated) < len(data):
        return PackedFile(crc, len(data), zipfile.ZIP_DEFLATED, deflated)
    return PackedFile(crc, len(data), zipfile.ZIP_STORED, data)


def _dos_stamp(stamp: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = stamp
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day


class ZipArchive:
    """A zip written in one pass from packed files: each local header and its data as the
    file comes, the central directory at `close`, with Zip64 records only where a count
    or an offset needs them (more than 65,535 files, more than 4 GiB).

    zipfile cannot take data that is already compressed, so the format is written here;
    the tests read every archive back with zipfile and unzip.
    """

    def __init__(self, stream, stamp: tuple[int, int, int, int, int, int]):
        self.stream = stream
        self.offset = 0
        self.central: list[bytes] = []
        self.time, self.date = _dos_stamp(stamp)

    def add(self, name: str, packed: PackedFile) -> None:
        if packed.size > MAX_32 or len(packed.payload) > MAX_32:
            raise PackageError(f"{name} is larger than 4 GiB")  # images stop at 50 MB
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), 0x800  # the "language encoding" flag
        fields = (packed.method, self.time, self.date, packed.crc, len(packed.payload))
        fields += (packed.size, len(encoded))
        local = struct.pack("<IHH" + "HHHIII" + "HH", 0x04034B50, ZIP_VERSION, flags, *fields, 0)
        self.stream.write(local)
        self.stream.write(encoded)
        self.stream.write(packed.payload)
        extra, version, offset = b"", ZIP_VERSION, self.offset
        if offset >= MAX_32:
            extra, version, offset = struct.pack("<HHQ", 1, 8, offset), ZIP64_VERSION, MAX_32
        self.central.append(
            struct.pack(
                "<IHHH" + "HHHIII" + "H" + "HHHHII",
                0x02014B50,
                MADE_BY_UNIX | version,
                version,
                flags,
                *fields,
                len(extra),
                0,  # comment
                0,  # disk
                0,  # internal attributes
                EXTERNAL_ATTR,
                offset,
            )
            + encoded
            + extra
        )
        self.offset += len(local) + len(encoded) + len(packed.payload)

    def close(self) -> None:
        start, count = self.offset, len(self.central)
        for entry in self.central:
            self.stream.write(entry)
        size = sum(len(entry) for entry in self.central)
        end = start + size
        if count >= MAX_16 or start >= MAX_32 or size >= MAX_32:
            self.stream.write(
                struct.pack(
                    "<IQHHIIQQQQ",
                    0x06064B50,  # Zip64 end of central directory
                    44,
                    MADE_BY_UNIX | ZIP64_VERSION,
                    ZIP64_VERSION,
                    0,
                    0,
                    count,
                    count,
                    size,
                    start,
                )
            )
            self.stream.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))  # its locator
        shown = min(count, MAX_16)
        self.stream.write(
            struct.pack(
                "<IHHHHIIH",
                0x06054B50,
                0,
                0,
                shown,
                shown,
                min(size, MAX_32),
                min(start, MAX_32),
                0,
            )
        )


def _open_no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


class TreeWriter:
    """Writes files into an unzipped package tree. Any process may hold one for the same
    folder: the build's worker processes write the files they rendered themselves, so
    that the file system's work is spread over the cores.

    With `previous`, the tree of the last build: a file whose bytes are unchanged there
    becomes a hard link to it instead of a new file. Creating thousands of files, and
    deleting the old ones, is what a rebuild of a large course spends most on; a link
    costs a directory entry, and the old tree's removal then frees nothing.
    """

    def __init__(self, root: Path, previous: Path | None = None):
        self.root = root
        self.previous = previous
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
        """Write one file (or link the previous build's, when the same); return its path."""
        path = self._path(name)
        if self.previous is not None and self._link_unchanged(name, data, path):
            return path
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

    def _link_unchanged(self, name: str, data: bytes, path: str) -> bool:
        old = os.path.join(self.previous, *name.split("/"))
        try:
            with open(old, "rb", opener=_open_no_follow) as old_file:
                facts = os.fstat(old_file.fileno())
                if not stat.S_ISREG(facts.st_mode) or facts.st_size != len(data):
                    return False
                if old_file.read() != data:
                    return False
            os.link(old, path, follow_symlinks=False)
        except OSError:
            return False  # new, not a plain file, or no hard links here
        return True

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
    """Streams files into a temporary zip and tree; `commit` renames both into place.

    `add` writes a file to both; `add_packed` takes a file that a `TreeWriter` already
    wrote to `temp_tree` and `pack` already packed, in the worker process that rendered
    it. Until `commit`, the previous package at the target paths is untouched; `discard`
    removes the temporary files.
    """

    def __init__(self, zip_path: Path, tree_path: Path):
        self.zip_path = zip_path
        self.tree_path = tree_path
        stamp = build_timestamp()
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
        self.raw = os.fdopen(handle, "wb", buffering=1024 * 1024)
        self.archive = ZipArchive(self.raw, stamp)
        self.names: set[str] = set()
        self.tree = TreeWriter(self.temp_tree, tree_path if tree_path.is_dir() else None)
        self.committed = False

    def add(self, name: str, data: bytes) -> None:
        """Write one file into the tree and the zip."""
        self._claim(name)
        self.tree.write(name, data)
        self._append(name, pack(data))

    def add_packed(self, name: str, packed: PackedFile) -> None:
        """Append a file already packed and already written to `temp_tree`."""
        self._claim(name)
        self._append(name, packed)

    def _claim(self, name: str) -> None:
        check_entry_name(name)
        if name.casefold() in self.names:
            raise PackageError(f"two files would share the package path {name!r}")
        self.names.add(name.casefold())

    def _append(self, name: str, packed: PackedFile) -> None:
        try:
            self.archive.add(name, packed)
        except OSError as exc:
            raise PackageError(f"writing the package failed: {exc}") from exc

    def commit(self) -> int:
        """Finish the zip and put zip and tree in place; return the number of files."""
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
        if not self.raw.closed:
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

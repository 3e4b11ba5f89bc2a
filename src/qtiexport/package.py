"""Final stage: write packages as deterministic zips, and unzipped trees when asked, all
or none.

Entries go in the order given (renderers give a fixed order), with fixed timestamps
(SOURCE_DATE_EPOCH when set), fixed permissions and no directory entries, so the
same input gives byte-identical zips on any machine. Each output is written beside
its target under a temporary name; `commit_packages` then puts every zip and tree of a
build in place together, and takes away the stale trees it is told to, or puts the
previous ones back, even after a kill (a journal says what to undo). A build replaces or
removes only zips and trees that a build wrote: each tree it writes holds a marker file,
and anything else standing at a target path stops it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import stat
import struct
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

# 2000-01-01T00:00:00Z: a fixed time for builds that do not set SOURCE_DATE_EPOCH.
DEFAULT_EPOCH = 946684800
ZIP_EPOCH_MIN = 315532800  # zip timestamps start at 1980-01-01
FILE_MODE = 0o644
TEMP_PREFIX = ".qtiexport-tmp-"
# In every tree a build writes (never in the zips): only a folder holding it is replaced.
TREE_MARKER = ".qtiexport-tree"
TREE_MARKER_TEXT = (
    b"qtiexport build wrote this folder; the next build of the course replaces all of it.\n"
    b"A build replaces only folders that hold this file.\n"
)
JOURNAL_NAME = ".qtiexport-commit.json"  # while a commit is under way; not a temporary name
LOCK_NAME = ".qtiexport.lock"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or an empty archive


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


class CommitIncomplete(Exception):
    """Putting the previous packages back failed too; the journal lets the next build do it."""


class OutputRefused(Exception):
    """Something a build did not write stands where a package goes; nothing was written."""


class OutputBusy(Exception):
    """Another build holds the output folder's lock."""

    def __init__(self, folder: Path, holder: str | None):
        self.folder = folder
        self.holder = holder
        who = f" (pid {holder})" if holder else ""
        super().__init__(
            f"another qtiexport build{who} is writing into {shown_path(folder)}/; "
            "wait for it to finish, or choose another output folder with -o"
        )


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


# Formats that are compressed already (PNG, JPEG, GIF, WebP): deflating them again costs
# time and saves nothing, so they are stored as they are.
COMPRESSED_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
COPY_BLOCK = 1024 * 1024  # bytes read at a time from a file copied into the zips


def is_compressed_format(head: bytes) -> bool:
    """Whether bytes starting with `head` are a PNG, JPEG, GIF or WebP file."""
    return head.startswith(COMPRESSED_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def pack(data: bytes) -> PackedFile:
    crc = zlib.crc32(data)
    if is_compressed_format(data[:12]):
        return PackedFile(crc, len(data), zipfile.ZIP_STORED, data)
    compressor = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)  # raw deflate
    deflated = compressor.compress(data) + compressor.flush()
    if len(deflated) < len(data):
        return PackedFile(crc, len(data), zipfile.ZIP_DEFLATED, deflated)
    return PackedFile(crc, len(data), zipfile.ZIP_STORED, data)


@dataclass(frozen=True)
class PendingEntry:
    """An entry whose local header is written and whose payload is being written."""

    encoded: bytes  # its name as the zip stores it
    flags: int
    method: int
    offset: int  # of its local header
    header_values: tuple[int, int, int]  # CRC, compressed and full size the header holds


LOCAL_HEADER_SIZE = 30


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
        pending = self.begin(name, packed.method, packed.crc, len(packed.payload), packed.size)
        self.write_payload(packed.payload)
        self.end(pending, packed.crc, packed.size)

    def begin(self, name: str, method: int, crc: int, compressed: int, size: int) -> PendingEntry:
        """Write an entry's local header; its payload follows (`write_payload`) and `end`
        completes it. A stored file copied while its CRC is computed starts with a CRC
        and size of 0, which `end` patches."""
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), 0x800  # the "language encoding" flag
        fields = (method, self.time, self.date, crc, compressed, size, len(encoded))
        local = struct.pack("<IHH" + "HHHIII" + "HH", 0x04034B50, ZIP_VERSION, flags, *fields, 0)
        self.stream.write(local)
        self.stream.write(encoded)
        pending = PendingEntry(encoded, flags, method, self.offset, (crc, compressed, size))
        self.offset += len(local) + len(encoded)
        return pending

    def write_payload(self, data: bytes | memoryview) -> None:
        self.stream.write(data)
        self.offset += len(data)

    def end(self, pending: PendingEntry, crc: int, size: int) -> None:
        compressed = self.offset - pending.offset - LOCAL_HEADER_SIZE - len(pending.encoded)
        if size > MAX_32 or compressed > MAX_32:
            raise PackageError(f"{pending.encoded.decode()} is larger than 4 GiB")
        if (crc, compressed, size) != pending.header_values:  # the file is a regular one
            self.stream.seek(pending.offset + 14)
            self.stream.write(struct.pack("<III", crc, compressed, size))
            self.stream.seek(0, os.SEEK_END)
        self.central.append(
            self.central_record(
                pending.encoded,
                pending.flags,
                pending.method,
                crc,
                compressed,
                size,
                pending.offset,
            )
        )

    def central_record(
        self,
        encoded: bytes,
        flags: int,
        method: int,
        crc: int,
        compressed: int,
        size: int,
        offset: int,
    ) -> bytes:
        """An entry's central directory record, whether its data was written here or
        copied from a previous archive (`copy_entries`): the same bytes either way."""
        fields = (method, self.time, self.date, crc, compressed, size, len(encoded))
        extra, version = b"", ZIP_VERSION
        if offset >= MAX_32:
            extra, version, offset = struct.pack("<HHQ", 1, 8, offset), ZIP64_VERSION, MAX_32
        return (
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

    def copy_entries(self, source: int, start: int, entries: list[ArchivedEntry]) -> None:
        """Append entries of a previous archive whose local headers and data are the bytes
        `source` (an open file) holds from `start` on, one after the other: copied by the
        kernel where it can (`os.copy_file_range`), never through Python's memory."""
        length = sum(entry.length for entry in entries)
        copy_range(source, start, self.stream, length)
        for entry in entries:
            offset = self.offset + entry.offset - start
            self.central.append(
                self.central_record(
                    entry.encoded,
                    entry.flags,
                    entry.method,
                    entry.crc,
                    entry.compressed,
                    entry.size,
                    offset,
                )
            )
        self.offset += length

    def close(self) -> None:
        """Write the central directory; `directory` keeps where it starts and its digest,
        by which a later build knows this archive again (`read_archive`)."""
        start, count = self.offset, len(self.central)
        digest = hashlib.sha256()
        for entry in self.central:
            self._write_directory(entry, digest)
        size = sum(len(entry) for entry in self.central)
        end = start + size
        if count >= MAX_16 or start >= MAX_32 or size >= MAX_32:
            self._write_directory(
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
                ),
                digest,
            )
            # its locator
            self._write_directory(struct.pack("<IIQI", 0x07064B50, 0, end, 1), digest)
        shown = min(count, MAX_16)
        self._write_directory(
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
            ),
            digest,
        )
        self.directory = ArchiveDirectory(start, count, digest.hexdigest())

    def _write_directory(self, data: bytes, digest: hashlib._Hash) -> None:
        self.stream.write(data)
        digest.update(data)


@dataclass(frozen=True)
class ArchiveDirectory:
    """Where an archive's central directory starts, its entry count, and the digest of
    everything from there to the end of the file."""

    offset: int
    entries: int
    digest: str


@dataclass(frozen=True)
class ArchivedEntry:
    """An entry of an archive this module wrote, from its central directory: where its
    local header starts, how many bytes header and data take, and what its central
    record holds besides the offset."""

    encoded: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int

    @property
    def length(self) -> int:
        return LOCAL_HEADER_SIZE + len(self.encoded) + self.compressed


CENTRAL_RECORD = struct.Struct("<IHHHHHHIIIHHHHHII")


def read_archive(handle: int, directory: ArchiveDirectory) -> list[ArchivedEntry] | None:
    """The entries of the archive open as `handle`, if its central directory is the one
    `directory` describes (same place, count and digest) and its entries lie one after
    the other as this module writes them; None for anything else."""
    try:
        size = os.fstat(handle).st_size
        tail = _read_at(handle, size - directory.offset, directory.offset)
    except (OSError, ValueError, OverflowError):
        return None
    if hashlib.sha256(tail).hexdigest() != directory.digest:
        return None
    entries, at, expected = [], 0, 0
    try:
        for _ in range(directory.entries):
            fields = CENTRAL_RECORD.unpack_from(tail, at)
            if fields[0] != 0x02014B50:
                return None
            _, _, _, flags, method, _, _, crc, compressed, full, name, extra, comment = fields[:13]
            offset = fields[16]
            at += CENTRAL_RECORD.size
            encoded = tail[at : at + name]
            if offset == MAX_32 and extra >= 12:
                (offset,) = struct.unpack_from("<Q", tail, at + name + 4)
            at += name + extra + comment
            entry = ArchivedEntry(encoded, flags, method, crc, compressed, full, offset)
            if offset != expected:
                return None
            expected = offset + entry.length
            entries.append(entry)
    except struct.error:
        return None
    return entries if expected == directory.offset else None


COPY_RANGE_BLOCK = 8 * 1024 * 1024


def _read_at(handle: int, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(handle, size, offset)
    os.lseek(handle, offset, os.SEEK_SET)  # Windows: no pread
    return os.read(handle, size)


def copy_range(source: int, start: int, stream, length: int) -> None:
    """Append `length` bytes of `source` from `start` to `stream` (a file opened for
    writing, at its end): in the kernel (`os.copy_file_range`, no bytes through user
    space) where it can, else read and written in blocks."""
    stream.flush()
    target, at = stream.fileno(), stream.tell()
    done = 0
    kernel = hasattr(os, "copy_file_range")
    while done < length:
        if kernel:
            try:
                copied = os.copy_file_range(source, target, length - done, start + done, at + done)
            except OSError:  # another file system, or not supported here
                kernel = False
                stream.seek(at + done)
                continue
            if copied:
                stream.seek(0, os.SEEK_END)
        else:
            block = _read_at(source, min(COPY_RANGE_BLOCK, length - done), start + done)
            copied = len(block)
            stream.write(block)
        if not copied:
            raise PackageError("the previous package ended before its recorded size")
        done += copied


def _open_no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


def make_temporary_folder(parent: Path) -> Path:
    """A new folder with a temporary name in `parent`, with the permissions of any folder
    the user makes (0o777 less the umask): it becomes an unzipped tree that others may
    need to read, where `tempfile.mkdtemp` would give 0o700."""
    while True:
        folder = parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}"
        try:
            os.mkdir(folder, 0o777)
        except FileExistsError:
            continue
        return folder


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


def shown_path(path: Path) -> str:
    """A path as the user would type it, relative to the working directory when inside it;
    links are not followed, so that a message about a link names the link."""
    absolute = os.path.abspath(path)
    try:
        inside = os.path.commonpath([absolute, os.getcwd()]) == os.getcwd()
    except ValueError:  # another drive
        inside = False
    return Path(os.path.relpath(absolute) if inside else absolute).as_posix()


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _kind(facts: os.stat_result) -> str:
    if stat.S_ISLNK(facts.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(facts.st_mode):
        return "a folder"
    return "a file" if stat.S_ISREG(facts.st_mode) else "a special file"


def is_zip_file(path: Path) -> bool:
    """A regular file (not a link) that begins as a zip does."""
    try:
        with open(path, "rb", opener=_open_no_follow) as handle:
            return stat.S_ISREG(os.fstat(handle.fileno()).st_mode) and (
                handle.read(4) in ZIP_SIGNATURES
            )
    except OSError:
        return False


def is_marked_tree(path: Path) -> bool:
    """A real folder (not a link) holding the marker that a build writes into its trees."""
    folder, marker = _lstat(path), _lstat(path / TREE_MARKER)
    return (
        folder is not None
        and stat.S_ISDIR(folder.st_mode)
        and marker is not None
        and stat.S_ISREG(marker.st_mode)
    )


def is_stale_tree(tree_path: Path) -> bool:
    """Whether a tree a build wrote stands at `tree_path`, reached through real folders
    only: one that a build writing no tree must take away, as it no longer matches the
    zip. Its folder must be a real folder too, so that a link there (an author's, maybe
    to the course) is never followed to a marked tree elsewhere."""
    folder = _lstat(tree_path.parent)
    return folder is not None and stat.S_ISDIR(folder.st_mode) and is_marked_tree(tree_path)


def check_package_paths(zip_path: Path, tree_path: Path | None = None) -> None:
    """Raise OutputRefused when anything a build did not write stands where this package
    goes. A build replaces a zip file and a marked tree; a folder, link or other file at
    the zip's name, an unmarked folder or a link at the tree's, and anything but a real
    folder where the tree's folder goes are an author's, and stay as they are. Without
    `tree_path` (a build writing the zip only) the tree's paths are not checked."""
    zip_facts = _lstat(zip_path)
    if zip_facts is not None and not is_zip_file(zip_path):
        raise OutputRefused(
            f"{shown_path(zip_path)} is {_kind(zip_facts)} that is not a zip a build wrote, "
            "and this build would replace it: move it away or choose another output folder"
        )
    if tree_path is None:
        return
    folder_facts = _lstat(tree_path.parent)
    if folder_facts is not None and not stat.S_ISDIR(folder_facts.st_mode):
        raise OutputRefused(
            f"{shown_path(tree_path.parent)} is {_kind(folder_facts)}, not a folder, and this "
            "build would put its unzipped packages there: move it away or choose another "
            "output folder"
        )
    tree_facts = _lstat(tree_path)
    if tree_facts is not None and not is_marked_tree(tree_path):
        raise OutputRefused(
            f"{shown_path(tree_path)} is {_kind(tree_facts)} that no build wrote (it holds no "
            f"{TREE_MARKER} file), and this build would replace it: move it away or choose "
            "another output folder"
        )


class PackageWriter:
    """Streams files into a temporary zip, and into a temporary tree when given a
    `tree_path`; `commit` puts them in place (and `commit_packages` several writers'
    together).

    `add` writes a file to both; `add_packed` takes a file that `pack` already packed
    (and a `TreeWriter` already wrote to `temp_tree`, if there is one) in the worker
    process that rendered it. Until the commit, the previous package at the target paths
    is untouched; `discard` removes the temporary files.
    """

    def __init__(self, zip_path: Path, tree_path: Path | None = None):
        self.zip_path = zip_path
        self.tree_path = tree_path
        stamp = build_timestamp()
        # Folders this build creates, deepest first: a failed first build removes them again.
        self.created = [f for f in (zip_path.parent, *zip_path.parent.parents) if not f.exists()]
        if tree_path is not None:
            self.created += [
                folder
                for folder in (tree_path.parent, *tree_path.parent.parents)
                if not folder.exists()
            ]
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".zip", dir=zip_path.parent)
        self.temp_zip = Path(temp_name)
        self.raw = os.fdopen(handle, "wb", buffering=1024 * 1024)
        self.temp_tree: Path | None = None
        self.tree: TreeWriter | None = None
        if tree_path is not None:
            tree_path.parent.mkdir(parents=True, exist_ok=True)
            self.temp_tree = make_temporary_folder(tree_path.parent)
            (self.temp_tree / TREE_MARKER).write_bytes(TREE_MARKER_TEXT)
            previous = tree_path if is_marked_tree(tree_path) else None
            self.tree = TreeWriter(self.temp_tree, previous)
        self.archive = ZipArchive(self.raw, stamp)
        self.names: set[str] = set()
        self.finished = False
        self.committed = False

    def add(self, name: str, data: bytes) -> None:
        """Write one file into the zip, and into the tree if there is one."""
        self._claim(name)
        if self.tree is not None:
            self.tree.write(name, data)
        self._append(name, pack(data))

    def add_packed(self, name: str, packed: PackedFile) -> None:
        """Append a file already packed (and already written to `temp_tree`, if any)."""
        self._claim(name)
        self._append(name, packed)

    def copy_entries(self, source: int, entries: list[ArchivedEntry]) -> None:
        """Append `entries` of a previous archive open as `source` (consecutive there),
        as they are: headers and data copied, not rewritten."""
        for entry in entries:  # names this module checked when it first wrote them
            name = entry.encoded.decode("utf-8" if entry.flags & 0x800 else "ascii")
            self._claim(name, checked=True)
        try:
            self.archive.copy_entries(source, entries[0].offset, entries)
        except OSError as exc:
            raise PackageError(f"copying from the previous package failed: {exc}") from exc

    @property
    def entries(self) -> int:
        """How many entries the zip holds so far."""
        return len(self.archive.central)

    def _claim(self, name: str, checked: bool = False) -> None:
        if not checked:
            check_entry_name(name)
        if name.casefold() in self.names or name.casefold() == TREE_MARKER:
            raise PackageError(f"two files would share the package path {name!r}")
        self.names.add(name.casefold())

    def _append(self, name: str, packed: PackedFile) -> None:
        try:
            self.archive.add(name, packed)
        except OSError as exc:
            raise PackageError(f"writing the package failed: {exc}") from exc

    def finish(self) -> None:
        """Complete the temporary zip on disk, ready to be put in place."""
        if self.finished:
            return
        self.archive.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        os.chmod(self.temp_zip, FILE_MODE)
        self.finished = True

    def commit(self) -> int:
        """Put this package alone in place; return the number of files."""
        parents = [self.zip_path.parent]
        if self.tree_path is not None:
            parents.append(self.tree_path.parent)
        commit_packages([self], Path(os.path.commonpath(parents)))  # the journal's folder
        return len(self.names)

    def discard(self) -> None:
        if self.committed:
            return
        if not self.raw.closed:
            self.raw.close()
        self.temp_zip.unlink(missing_ok=True)
        if self.temp_tree is not None:
            shutil.rmtree(self.temp_tree, ignore_errors=True)
        for folder in sorted(set(self.created), key=lambda f: len(f.parts), reverse=True):
            # A folder that is not empty holds the other target's package or the user's files.
            with contextlib.suppress(OSError):
                folder.rmdir()


def add_source_file(
    copies: list[tuple[PackageWriter, str]], source: Path
) -> tuple[os.stat_result, bytes]:
    """Copy a file of the course (an image) into every package that carries it, reading it
    once, in blocks: a PNG, JPEG, GIF or WebP is stored, its CRC computed as each block
    goes to every zip, and the headers patched once the size is known; anything else is
    packed like a rendered document. Return the file's stat as it was opened and the
    SHA-256 of the bytes copied, taken in the same read (the build cache names records
    by it)."""
    for writer, name in copies:
        writer._claim(name)
    try:
        with open(source, "rb") as handle:
            facts = os.fstat(handle.fileno())
            first = handle.read(COPY_BLOCK)
            digest = hashlib.sha256(first)
            if not is_compressed_format(first[:12]):
                rest = handle.read()
                digest.update(rest)
                packed = pack(first + rest)
                for writer, name in copies:
                    writer.archive.add(name, packed)
                return facts, digest.digest()
            second = handle.read(COPY_BLOCK)
            if not second:  # the whole file in one block: its header written right at once
                packed = PackedFile(zlib.crc32(first), len(first), zipfile.ZIP_STORED, first)
                for writer, name in copies:
                    writer.archive.add(name, packed)
                return facts, digest.digest()
            pending = [
                (writer.archive, writer.archive.begin(name, zipfile.ZIP_STORED, 0, 0, 0))
                for writer, name in copies
            ]
            crc, size = zlib.crc32(first), len(first)
            for archive, _ in pending:
                archive.write_payload(first)
            block = second
            while block:
                crc, size = zlib.crc32(block, crc), size + len(block)
                digest.update(block)
                for archive, _ in pending:
                    archive.write_payload(block)
                block = handle.read(COPY_BLOCK)
            for archive, entry in pending:
                archive.end(entry, crc, size)
            return facts, digest.digest()
    except OSError as exc:
        raise PackageError(f"copying {shown_path(source)} into the package failed: {exc}") from exc


@dataclass(frozen=True)
class Move:
    """One path of a commit: the new zip or tree that goes to `final` (None for a stale
    tree that only goes away), and where the one standing there waits until the commit
    is complete (None when there is none). An old zip waits as a second hard link, so its
    name never stands empty; an old tree is renamed out of the way, as a folder cannot
    replace another in one step."""

    final: Path
    new: Path | None
    kept: Path | None
    tree: bool


def _keep_zip(zip_path: Path) -> Path:
    kept = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=zip_path.parent)) / "previous.zip"
    try:
        os.link(zip_path, kept)  # a regular file: check_package_paths saw to that
    except OSError:  # no hard links on this file system
        shutil.copyfile(zip_path, kept)
    return kept


def _tree_kept(tree_path: Path) -> Path:
    """Where the tree at `tree_path` waits during the commit: beside it, on its file system."""
    return Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=tree_path.parent)) / "previous"


def _planned_moves(writer: PackageWriter) -> list[Move]:
    moves = []
    if writer.tree_path is not None:
        assert writer.temp_tree is not None
        kept = _tree_kept(writer.tree_path) if os.path.lexists(writer.tree_path) else None
        moves.append(Move(writer.tree_path, writer.temp_tree, kept, tree=True))
    zip_kept = _keep_zip(writer.zip_path) if os.path.lexists(writer.zip_path) else None
    return [*moves, Move(writer.zip_path, writer.temp_zip, zip_kept, tree=False)]


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not every system syncs folders
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _write_journal(folder: Path, moves: list[Move]) -> None:
    def relative(path: Path | None) -> str | None:
        return None if path is None else Path(os.path.relpath(path, folder)).as_posix()

    text = json.dumps(
        {
            "moves": [
                {
                    "final": relative(m.final),
                    "new": relative(m.new),
                    "kept": relative(m.kept),
                    "tree": m.tree,
                }
                for m in moves
            ]
        },
        indent=1,
    )
    handle, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as temp:
            temp.write(text)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, folder / JOURNAL_NAME)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def _read_journal(folder: Path) -> list[Move] | None:
    journal = folder / JOURNAL_NAME
    try:
        with open(journal, encoding="utf-8", opener=_open_no_follow) as handle:
            text = handle.read(1_000_000)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PackageError(f"{shown_path(journal)} cannot be read: {exc}") from None

    def inside(name: object) -> Path:
        if not isinstance(name, str):
            raise ValueError(name)
        return folder / check_entry_name(name)  # never a path out of the output folder

    try:
        moves = [
            Move(
                inside(m["final"]),
                None if m["new"] is None else inside(m["new"]),
                None if m["kept"] is None else inside(m["kept"]),
                m["tree"] is True,
            )
            for m in json.loads(text)["moves"]
        ]
        # Only temporary names are ever removed, and never a final one; only a tree
        # that was kept aside may go away with nothing new in its place.
        for move in moves:
            if move.new is None:
                new_is_temporary = move.tree and move.kept is not None
            else:
                new_is_temporary = move.new.name.startswith(TEMP_PREFIX)
            if move.final.name.startswith(TEMP_PREFIX) or not (
                new_is_temporary
                and (move.kept is None or move.kept.parent.name.startswith(TEMP_PREFIX))
            ):
                raise ValueError(move)
        return moves
    except (ValueError, KeyError, TypeError, PackageError):
        raise PackageError(
            f"{shown_path(journal)} is not a journal a build wrote; remove it and build again"
        ) from None


def _put_back(moves: list[Move]) -> None:
    """Undo a commit that did not complete, from what stands on disk: every final path gets
    back what stood there before. Safe to repeat, after a kill in the middle too."""
    for move in reversed(moves):
        if move.tree:
            if move.kept is not None:
                if os.path.lexists(move.kept):  # moved out of the way: the new tree out, it in
                    if move.new is not None and os.path.lexists(move.final):
                        os.replace(move.final, move.new)
                    os.replace(move.kept, move.final)
            elif not os.path.lexists(move.new) and is_marked_tree(move.final):
                os.replace(move.final, move.new)  # a first build's tree went in: out again
        elif move.kept is not None:
            if os.path.lexists(move.kept):
                os.replace(move.kept, move.final)  # whether or not the new zip went in
        elif not os.path.lexists(move.new) and is_zip_file(move.final):
            os.replace(move.final, move.new)


def _remove_kept(moves: list[Move]) -> None:
    for move in moves:
        if move.kept is not None:
            shutil.rmtree(move.kept.parent, ignore_errors=True)


def commit_packages(
    writers: list[PackageWriter], folder: Path, stale_trees: list[Path] | None = None
) -> list[Path]:
    """Put every writer's zip and tree in place, and take the `stale_trees` away (trees of
    an earlier build that no longer match the zips), all of them or none; return the stale
    trees taken away (those still marked as a build's).

    The zips and trees standing there are checked again (a build replaces only what a
    build wrote) and kept aside; a journal in `folder` lists the moves before the first
    one, so that whatever fails (a rename here, or a kill, which the next build undoes
    through `recover_interrupted_commit`) every path gets its previous zip or tree back.
    Removing the journal is the moment the new packages count as in place.
    """
    for writer in writers:
        writer.finish()
    for writer in writers:
        check_package_paths(writer.zip_path, writer.tree_path)
    moves: list[Move] = []
    restored = True
    try:
        for writer in writers:
            moves += _planned_moves(writer)
        for tree_path in stale_trees or []:
            if is_stale_tree(tree_path):  # checked again, holding the lock
                moves.append(Move(tree_path, None, _tree_kept(tree_path), tree=True))
        try:
            _write_journal(folder, moves)
            for move in moves:
                if move.tree and move.kept is not None:
                    os.replace(move.final, move.kept)
            for move in moves:
                if move.new is not None:
                    os.replace(move.new, move.final)
            (folder / JOURNAL_NAME).unlink()  # the commit point: the new packages stand
        except BaseException as exc:
            try:
                _put_back(moves)
            except OSError as again:
                restored = False
                raise CommitIncomplete(
                    f"putting the packages in place failed ({exc}), and so did putting the "
                    f"previous ones back ({again}); the next build into "
                    f"{shown_path(folder)}/ puts them back"
                ) from None
            (folder / JOURNAL_NAME).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise PackageError(f"putting the packages in place failed: {exc}") from None
            raise
        _sync_folder(folder)
        for writer in writers:
            writer.committed = True
    finally:
        if restored:
            _remove_kept(moves)
    return [move.final for move in moves if move.new is None]


def recover_interrupted_commit(folder: Path) -> bool:
    """Put the previous packages back if a build was killed during its commit (its journal
    is still there); say whether there was one. Call it holding the folder's lock, before
    `remove_leftovers`, which would delete the kept packages."""
    moves = _read_journal(folder)
    if moves is None:
        return False
    _put_back(moves)
    (folder / JOURNAL_NAME).unlink()
    _remove_kept(moves)
    for move in moves:  # the killed build's new packages, back under their temporary names
        if move.new is None:
            continue
        facts = _lstat(move.new)
        if facts is not None and stat.S_ISDIR(facts.st_mode):
            shutil.rmtree(move.new, ignore_errors=True)
        elif facts is not None:
            move.new.unlink(missing_ok=True)
    return True


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files and folders a killed build left behind: only names that
    start with TEMP_PREFIX, and a link so named is removed, never followed."""
    facts = _lstat(folder)
    if facts is None or not stat.S_ISDIR(facts.st_mode):
        return
    for leftover in folder.glob(TEMP_PREFIX + "*"):
        facts = _lstat(leftover)
        if facts is not None and stat.S_ISDIR(facts.st_mode):
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _try_lock(handle: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            import msvcrt

            # Windows locks byte ranges, and a locked byte cannot be read: lock one past
            # the holder's pid so that the second build can still read it.
            os.lseek(handle, 64, os.SEEK_SET)
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(handle: int) -> None:
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        import msvcrt

        os.lseek(handle, 64, os.SEEK_SET)
        msvcrt.locking(handle, msvcrt.LK_UNLCK, 1)


class OutputLock:
    """The lock file of an output folder, held for a whole build: a second build into the
    same folder stops at once with OutputBusy, naming the first one's process, instead of
    mixing its files with the first one's. The lock belongs to the open file, so it ends
    with the process, however that ends. The file exists only while a build holds it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.handle: int | None = None

    def __enter__(self) -> OutputLock:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        while True:
            handle = os.open(self.path, flags, 0o644)
            if not _try_lock(handle):
                try:
                    os.lseek(handle, 0, os.SEEK_SET)
                    holder = os.read(handle, 32).decode("ascii", "replace").strip()
                except OSError:
                    holder = ""
                finally:
                    os.close(handle)
                raise OutputBusy(self.folder, holder if holder.isdigit() else None)
            # The build before may have removed the file after this one opened it: then
            # the lock is on a file nobody else can find, and it must be taken again.
            with contextlib.suppress(OSError):
                if os.path.samestat(os.fstat(handle), os.stat(self.path)):
                    break
            _unlock(handle)
            os.close(handle)
        os.ftruncate(handle, 0)
        os.write(handle, f"{os.getpid()}\n".encode())
        self.handle = handle
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self.handle is not None
        try:
            with contextlib.suppress(OSError):  # Windows keeps a file that is open
                self.path.unlink()
            _unlock(self.handle)
        finally:
            os.close(self.handle)
            self.handle = None

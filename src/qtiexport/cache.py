"""The incremental build cache: `OUT/.qtiexport-cache/`, content-addressed.

A case whose inputs are unchanged reuses what the previous build made of it: its
validated model (a "v" record, named by the digest of everything validation reads: the
case folder's files, the course folder, the working folder, the tool) and its rendered,
schema-checked, compressed documents (an "r" record, named by that digest and what
rendering adds: the course settings and player files a case uses, the schema set, the
targets). A name says everything its content depends on, so a record is either found
and right, or not found.

Records are pickles, and a course repository may be cloned with a committed cache, so
every file is authenticated with an HMAC whose key lives outside the output folder
(`$XDG_CACHE_HOME/qtiexport/cache-key`, made 0600 on first use): a file that does not
verify (truncated, flipped, planted, another machine's) is never unpickled, only
ignored. New records are staged while the build runs (as the packages' temporary files)
and put in place only after the packages are committed; then every record the build did
not use is removed, so the cache holds one build's worth.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.metadata
import os
import pickle
import secrets
import shutil
import stat
import sys
import time
import zlib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import qtiexport
from qtiexport.package import TEMP_PREFIX, ArchivedEntry, ArchiveDirectory, read_archive
from qtiexport.parallel import collector_paused
from qtiexport.templating import templates_dir

CACHE_FOLDER = ".qtiexport-cache"
KEY_NAME = "cache-key"
KEY_SIZE = 32
FORMAT = b"qtiexport-cache-1\n"  # the layout of this folder; a new one makes every name new
MAC_SIZE = hashlib.sha256().digest_size
INDEX_NAME = "index"
OBJECTS = "objects"
STAGING_PREFIX = ".staging-"
# A file changed within this many seconds of the build's start may change again within
# the same stat signature (same size, same coarse time): it is hashed again next time.
RACY_SECONDS = 2

Signature = tuple[int, int, int, int]  # size, mtime_ns, inode, ctime_ns


def signature_of(facts: os.stat_result) -> Signature:
    return (facts.st_size, facts.st_mtime_ns, facts.st_ino, facts.st_ctime_ns)


def key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    folder = Path(base) if base else Path.home() / ".cache"
    return folder / "qtiexport" / KEY_NAME


def secret_key() -> bytes | None:
    """This user's key for the cache's HMACs, made on first use; None when it cannot be
    made or read, or is not the user's own private file (then no cache is used)."""
    path = key_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            # Written under another name, then linked into place: a second build never
            # reads a key half written, and the first key made wins.
            temp = path.parent / f".{KEY_NAME}-{secrets.token_hex(6)}"
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(handle, secrets.token_bytes(KEY_SIZE))
                os.fsync(handle)
            finally:
                os.close(handle)
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
            finally:
                temp.unlink(missing_ok=True)
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            facts = os.fstat(handle)
            mine = not hasattr(os, "geteuid") or facts.st_uid == os.geteuid()
            if not stat.S_ISREG(facts.st_mode) or not mine or facts.st_mode & 0o077:
                return None
            key = os.read(handle, KEY_SIZE + 1)
        finally:
            os.close(handle)
    except OSError:
        return None
    return key if len(key) == KEY_SIZE else None


def _hash_files(digest: hashlib._Hash, folder: Path) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


@cache
def tool_fingerprint() -> bytes:
    """What the tool's output depends on besides the course: its own code, templates and
    player files (an edited checkout counts, not only a new version), Python, zlib and
    the libraries that write bytes."""
    digest = hashlib.sha256(FORMAT)
    _hash_files(digest, Path(qtiexport.__file__).resolve().parent)
    _hash_files(digest, templates_dir())
    versions = [sys.version, zlib.ZLIB_RUNTIME_VERSION]
    for name in ("qtiexport", *_requirements()):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{name}=={importlib.metadata.version(name)}")
    with contextlib.suppress(ImportError):
        from lxml import etree

        versions.append(repr((etree.LXML_VERSION, etree.LIBXML_VERSION, etree.LIBXSLT_VERSION)))
    digest.update(repr(versions).encode())
    return digest.digest()


def _requirements() -> list[str]:
    try:
        required = importlib.metadata.requires("qtiexport") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    names = []
    for line in required:
        if "extra ==" in line:
            continue
        name = line.split(";")[0].strip()
        for stop in "<>=!~[ (":
            name = name.split(stop)[0]
        names.append(name)
    return sorted(names)


def schema_fingerprint(folder: Path | None) -> bytes:
    """The schema set the documents were checked against, by content; unchecked
    documents are a different thing from checked ones."""
    if folder is None:
        return b"unchecked"
    digest = hashlib.sha256(b"checked\0")
    _hash_files(digest, folder)
    return digest.digest()


def digest_of(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


@dataclass
class CaseInputs:
    """A case folder's files as the build saw them before reading them: each file's path,
    link target and digest, and its stat signature, checked again before the records are
    kept (a file edited during the build makes no record). The digest of a settled file
    of a case changed for sure is not taken here: the file is read when the packages
    copy it, and the digest taken in that same read (`BuildCache.complete`)."""

    head: tuple[bytes | str, ...]  # the tool and the folders the model's paths hold
    files: list[tuple[str, str, bytes | str | None]]  # path, link, digest (None: not yet)
    signatures: dict[str, Signature]
    key: str | None = None  # the validation key, once every digest is known

    def __post_init__(self) -> None:
        if self.key is None and all(digest is not None for *_, digest in self.files):
            self.key = self.make_key()

    def make_key(self) -> str:
        parts: list[bytes | str] = list(self.head)
        for path, link, digest in self.files:
            assert digest is not None
            parts += [path, link, digest]
        return digest_of(*parts)


@dataclass(frozen=True)
class ZipLayout:
    """A zip the last build committed, as the index records it: the file (its path and
    stat signature, taken after the commit), its central directory, the timestamp its
    entries carry, and where each case's entries lie in it, by render record name
    (first entry, count). A later build copies those entries from it unread, once the
    file proves to be this one."""

    path: str
    signature: Signature
    directory: ArchiveDirectory
    stamp: tuple[int, int]  # the DOS time and date of every entry
    segments: dict[str, tuple[int, int]]


@dataclass
class PreviousArchive:
    """The last build's zip of one package, open and checked: its entries and where each
    reusable case's lie."""

    handle: int
    signature: Signature
    entries: list[ArchivedEntry]
    segments: dict[str, tuple[int, int]]

    def unchanged(self) -> bool:
        """Whether the file is still as it was checked (nobody wrote into it since)."""
        try:
            return signature_of(os.fstat(self.handle)) == self.signature
        except OSError:
            return False

    def close(self) -> None:
        """Close the file (again: no effect); before the commit replaces it, as Windows
        replaces no file that is open."""
        if self.handle >= 0:
            with contextlib.suppress(OSError):
                os.close(self.handle)
            self.handle = -1


@dataclass
class BuildCache:
    """One build's view of the cache folder: the records it may read, those it makes."""

    folder: Path
    secret: bytes
    # The previous build's file digests by path: a file whose stat signature is the same
    # is taken as unchanged without being read, as git's index does.
    known: dict[str, tuple[Signature, bytes]] = field(default_factory=dict)
    # Files the last build saw change within RACY_SECONDS of its start: the same signature
    # may hide new bytes, so they are read again (their signature says their size).
    unsure: dict[str, Signature] = field(default_factory=dict)
    seen: dict[str, tuple[Signature, bytes]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # record names this build reads or makes
    staging: Path | None = None
    started: float = field(default_factory=time.time)
    reading: bool = True  # False (--no-cache): every lookup misses; the cache is rewritten
    reused: int = 0  # cases whose documents came from the cache
    cases: int = 0
    # The zips the last build committed, by path; those this build commits (`save`).
    zips: dict[str, ZipLayout] = field(default_factory=dict)
    committed: list[ZipLayout] = field(default_factory=list)
    # Digests of documents that passed the schema check, by what they were checked with
    # (tool and schema set): a document with the same bytes needs no check again.
    checks: tuple[str, frozenset[str]] = ("", frozenset())
    passed: set[str] = field(default_factory=set)
    checks_key: str = ""
    # Digests taken while the packages copied files, by the file's stat signature then.
    copied: dict[Signature, bytes] = field(default_factory=dict)

    @classmethod
    def open(cls, output: Path, reading: bool = True) -> BuildCache | None:
        """The cache of the output folder, or None when no key can be had. Not `reading`,
        it finds nothing, and what the build makes replaces it."""
        secret = secret_key()
        if secret is None:
            return None
        cache_folder = cls(output / CACHE_FOLDER, secret, reading=reading)
        index = cache_folder._read(INDEX_NAME)
        if isinstance(index, dict) and isinstance(index.get("files"), dict):
            cache_folder.known = index["files"]
            unsure = index.get("unsure")
            cache_folder.unsure = unsure if isinstance(unsure, dict) else {}
            cache_folder.zips = {
                layout.path: layout
                for layout in index.get("zips", ())
                if isinstance(layout, ZipLayout)
            }
            checks = index.get("checks")
            if isinstance(checks, tuple) and len(checks) == 2:
                cache_folder.checks = checks
        return cache_folder

    def previous_archive(self, zip_path: Path, stamp: tuple[int, int]) -> PreviousArchive | None:
        """The zip standing at `zip_path`, open, if it is the one the last build committed
        there: the same file (stat signature: size, times, inode), the same central
        directory (digest), entries with this build's timestamp; else None. Not
        `reading` (--no-cache), None."""
        layout = self.zips.get(str(zip_path))
        if not self.reading or layout is None or layout.stamp != stamp:
            return None
        try:
            handle = os.open(zip_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            facts = os.fstat(handle)
            entries = None
            if stat.S_ISREG(facts.st_mode) and signature_of(facts) == layout.signature:
                entries = read_archive(handle, layout.directory)
        except OSError:
            entries = None
        if entries is None:
            os.close(handle)
            return None
        return PreviousArchive(handle, layout.signature, entries, layout.segments)

    def known_valid(self, key: str) -> frozenset[str]:
        """The digests of documents checked valid with `key` (tool and schema set)."""
        self.checks_key = key
        found, valid = self.checks
        return valid if self.reading and found == key else frozenset()

    # --- authenticated files
    def _mac(self, name: str, payload: bytes) -> bytes:
        return hmac.new(self.secret, FORMAT + name.encode() + b"\0" + payload, "sha256").digest()

    def _path(self, name: str) -> Path:
        return self.folder / INDEX_NAME if name == INDEX_NAME else self.folder / OBJECTS / name

    def _verified_payload(self, name: str) -> bytes | None:
        """The payload of the file `name` if its HMAC verifies, else None."""
        if not self.reading:
            return None
        facts = _lstat(self.folder)
        if facts is None or not stat.S_ISDIR(facts.st_mode):  # a link is not followed
            return None
        try:
            handle = os.open(self._path(name), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(handle, "rb") as file:
                if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                    return None
                data = file.read()
        except OSError:
            return None
        mac, payload = data[:MAC_SIZE], data[MAC_SIZE:]
        if len(mac) != MAC_SIZE or not hmac.compare_digest(mac, self._mac(name, payload)):
            return None  # not a file this user's builds wrote: never unpickled
        return payload

    def _read(self, name: str) -> object | None:
        """The record `name`, or None when it is missing or does not verify."""
        payload = self._verified_payload(name)
        if payload is None:
            return None
        try:
            with collector_paused(keep=True):
                return pickle.loads(payload)
        except Exception:  # written by us, yet unreadable (another Python): a miss
            return None

    def read(self, name: str) -> object | None:
        record = self._read(name)
        if record is not None:
            self.used.add(name)
        return record

    def has(self, name: str) -> bool:
        return self.reading and os.path.isfile(self._path(name))

    def verified(self, name: str) -> bool:
        """Whether the record `name` is in place and verifies (a worker process read it)."""
        return self._verified_payload(name) is not None

    def stage(self, name: str, record: object) -> None:
        """Keep a new record aside until the build commits (`save`)."""
        if self.staging is None:
            # Beside the packages' temporary files, under their prefix: a killed build's
            # are removed by the next build's clean-up, and the cache folder itself is
            # made only once a build has committed.
            self.staging = self.folder.parent / f"{TEMP_PREFIX}cache-{secrets.token_hex(6)}"
            self.staging.mkdir()
        payload = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        (self.staging / name).write_bytes(self._mac(name, payload) + payload)
        self.used.add(name)

    def discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def save(self) -> None:
        """After the commit: put the staged records in place, write the index of file
        digests, and remove every record this build did not use. Each file is whole or
        fails its check, so a build killed here leaves a cache that is partly missed,
        never wrong."""
        objects = self.folder / OBJECTS
        facts = _lstat(self.folder)
        if facts is not None and not stat.S_ISDIR(facts.st_mode):
            return  # not ours to replace
        objects.mkdir(parents=True, exist_ok=True)
        if self.staging is not None:
            for staged in self.staging.iterdir():
                os.replace(staged, objects / staged.name)
            self.discard()
        for old in objects.iterdir():
            if old.name not in self.used:
                old.unlink(missing_ok=True)
        for leftover in self.folder.glob(STAGING_PREFIX + "*"):  # a killed build's
            shutil.rmtree(leftover, ignore_errors=True)
        files, unsure = {}, {}
        for path, (signature, digest) in self.seen.items():
            if self._settled(signature):
                files[path] = (signature, digest)
            else:
                unsure[path] = signature
        zips = []
        for layout in self.committed:  # signed as they stand now, after the commit
            facts = _lstat(Path(layout.path))
            if facts is not None and stat.S_ISREG(facts.st_mode):
                zips.append(replace(layout, signature=signature_of(facts)))
        index = {
            "files": files,
            "unsure": unsure,
            "zips": zips,
            "checks": (self.checks_key, frozenset(self.passed)),
        }
        payload = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
        temp = self.folder / f"{STAGING_PREFIX}{INDEX_NAME}"
        temp.write_bytes(self._mac(INDEX_NAME, payload) + payload)
        os.replace(temp, self.folder / INDEX_NAME)

    # --- what a case's records are named by
    def _last_signature(self, path: str) -> Signature | None:
        known = self.known.get(path)
        return known[0] if known is not None else self.unsure.get(path)

    def _settled(self, signature: Signature) -> bool:
        """Whether the file was last written well before this build began: any write
        during the build then gives it another signature, however coarse the file
        system's clock, so a digest taken late still names what the build read early."""
        settled_before = (self.started - RACY_SECONDS) * 1e9
        return signature[1] < settled_before and signature[3] < settled_before

    def _digest_now(self, path: str, signature: Signature, changed: bool) -> bytes | None:
        """The digest of a file for its case's key, before validation: the one the last
        build recorded for the same signature; else, when the case has `changed` for sure
        and the file is settled, None (taken when the packages copy it); else the file
        read now (a file just written may change again within its signature, and its
        digest must then come before what validation reads of it)."""
        known = self.known.get(path)
        if known is not None and known[0] == signature:
            self.seen[path] = known
            return known[1]
        if changed and self._settled(signature):
            return None
        return self.file_digest(path, signature)

    def file_digest(self, path: str, signature: Signature) -> bytes:
        """The digest of a file whose signature is `signature`: taken while the packages
        copied it, or else read now."""
        digest = self.copied.get(signature)
        if digest is None:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").digest()
        self.seen[path] = (signature, digest)
        return digest

    def note_copied(self, facts: os.stat_result, digest: bytes) -> None:
        """Keep the digest the packages' copy of a file took (see `file_digest`)."""
        self.copied[signature_of(facts)] = digest

    def case_inputs(self, root: Path, name: str, folder: Path) -> CaseInputs | None:
        """The inputs of a case folder: every file in it, by content (links by where they
        lead too), with the course and working folders, whose paths the model and its
        messages hold; None when the folder cannot be read.

        A case with a file the last build did not see, or of another size, is changed for
        sure: no record can match it, so its new files are not read now, unless just
        written, but hashed as the packages copy them, and it gets its key once rendered
        (`complete`). Otherwise a file with a new signature (touched, checked out again,
        just edited) is read now, as its bytes may well be the same."""
        head = (
            tool_fingerprint(),
            os.path.realpath(root),
            os.getcwd(),
            str(root),
            name,
            str(folder),
        )
        found: list[tuple[str, str, os.stat_result]] = []
        try:
            for path in sorted(_files_under(str(folder))):
                link = os.readlink(path) if os.path.islink(path) else ""
                found.append((path, link, os.stat(path)))
            changed = any(
                (last := self._last_signature(path)) is None or last[0] != facts.st_size
                for path, _, facts in found
                if stat.S_ISREG(facts.st_mode)
            )
            files: list[tuple[str, str, bytes | str | None]] = []
            signatures: dict[str, Signature] = {}
            for path, link, facts in found:
                if not stat.S_ISREG(facts.st_mode):
                    files.append((path, link, "not a file"))
                    continue
                signature = signature_of(facts)
                files.append((path, link, self._digest_now(path, signature, changed)))
                signatures[path] = signature
        except OSError:
            return None
        return CaseInputs(head, files, signatures)

    def complete(self, inputs: CaseInputs) -> str | None:
        """The validation key of a case rendered in this build: the digests still missing
        come from the packages' copy of each file, or are read now (files the packages
        do not carry). None when a file changed since the build first saw it."""
        if inputs.key is not None:
            return inputs.key
        if not still_the_same(inputs):
            return None
        try:
            inputs.files = [
                (path, link, self.file_digest(path, inputs.signatures[path]))
                if digest is None
                else (path, link, digest)
                for path, link, digest in inputs.files
            ]
        except OSError:
            return None
        inputs.key = inputs.make_key()
        return inputs.key


def remove_staged_records(output: Path) -> None:
    """Remove the records a killed build staged in `output` (under the lock)."""
    for staged in output.glob(f"{TEMP_PREFIX}cache-*"):
        if (facts := _lstat(staged)) is not None and stat.S_ISDIR(facts.st_mode):
            shutil.rmtree(staged, ignore_errors=True)


def still_the_same(inputs: CaseInputs) -> bool:
    """Whether a case's files are as they were when its key was made."""
    try:
        return all(
            signature_of(os.stat(path)) == signature
            for path, signature in inputs.signatures.items()
        )
    except OSError:
        return False


def _files_under(folder: str) -> list[str]:
    """Every file in `folder` and below. A link to a folder inside it would hide what it
    leads to: such a case is not cached (OSError)."""
    found = []

    def fail(error: OSError) -> None:
        raise error

    for base, folders, files in os.walk(folder, onerror=fail):
        if any(os.path.islink(os.path.join(base, name)) for name in folders):
            raise OSError(f"a link to a folder in {base}")
        found += [os.path.join(base, name) for name in files]
    return found


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None

"""Final stage: write a package as a deterministic zip and an unzipped tree, atomically.

Entries go in the order given (renderers give a fixed order), with fixed timestamps
(SOURCE_DATE_EPOCH when set), fixed permissions and no directory entries, so the
same input gives byte-identical zips on any machine. Each output is written beside
its target under a temporary name and renamed into place: a failed or killed build
leaves the previous package as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterable
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


def write_zip(entries: Iterable[PackageEntry], target: Path) -> int:
    """Write entries to `target` atomically; return the number of entries."""
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = build_timestamp()
    handle, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".zip", dir=target.parent)
    temp = Path(temp_name)
    seen: set[str] = set()
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for entry in entries:
                name = check_entry_name(entry.name)
                if name.casefold() in seen:
                    raise PackageError(f"two files would share the package path {name!r}")
                seen.add(name.casefold())
                archive.writestr(_zip_info(name, stamp), entry.read(), compresslevel=6)
            archive.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(temp, FILE_MODE)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return len(seen)


def write_tree(entries: Iterable[PackageEntry], target: Path) -> None:
    """Write entries as a folder for authors to read, replacing the old folder whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=target.parent))
    try:
        for entry in entries:
            path = temp.joinpath(*check_entry_name(entry.name).split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(entry.read())
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=target.parent))
            os.replace(target, old / "old")
        os.replace(temp, target)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def remove_leftovers(folder: Path) -> None:
    """Delete temporary files a killed build left behind."""
    if folder.is_dir():
        for leftover in folder.glob(TEMP_PREFIX + "*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

"""The zip floor: a course's input files put into two zips with `zipfile` and nothing else.

    python benchmarks/zip_floor.py COURSE OUT

Every file of the course (its YAML and its images) goes into OUT/floor-1.zip and
OUT/floor-2.zip, as a build puts them into two packages: images stored (they are
compressed already), everything else deflated at zlib's default level. The benchmark runs
this as its own process, timed from start to exit like `qtiexport build`, so that the
floor pays for an interpreter's start-up too. Only the standard library is imported.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

COMPRESSED_ALREADY = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


def write_floor_zips(course: Path, out: Path) -> None:
    files = sorted(path for path in course.rglob("*") if path.is_file())
    out.mkdir(parents=True, exist_ok=True)
    for number in (1, 2):
        with zipfile.ZipFile(out / f"floor-{number}.zip", "w") as archive:
            for path in files:
                stored = path.suffix.lower() in COMPRESSED_ALREADY
                archive.write(
                    path,
                    path.relative_to(course).as_posix(),
                    zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                )


if __name__ == "__main__":
    write_floor_zips(Path(sys.argv[1]), Path(sys.argv[2]))

"""Write a course of N copies of the seed case, the benchmark's image-heavy workload.

    python benchmarks/seed_copies.py OUT --copies 1000

Each copy is `content/cases/tumoral-calcinosis` under its own case id (the folder name and
`id:` in its case.yaml): 5 questions and 4 PNGs of about 40 KB per case, as a radiology
course has. Every copy's PNGs get a small text chunk naming the copy, so that no two image
files in the course are the same bytes and no build can share work between copies, as in
a real course (`--identical-images` leaves them byte-for-byte copies). `course.yaml` is the
seed course's, listing the copies.
"""

from __future__ import annotations

import argparse
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SEED_COURSE = REPO / "content"
SEED_CASE = SEED_COURSE / "cases" / "tumoral-calcinosis"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IHDR_END = len(PNG_SIGNATURE) + 4 + 4 + 13 + 4  # length, type, fields, CRC

# The question the rebuild workload edits, and the line of questions.yaml holding its stem.
EDITED_QUESTION = "q1"
EDITED_STEM_LINE = "    stem: Which is the most likely diagnosis?\n"


@dataclass(frozen=True)
class SeedCopies:
    root: Path
    course_id: str
    case_ids: list[str]


def _png_with_note(data: bytes, note: str) -> bytes:
    """The PNG with a tEXt chunk after its header: other bytes, the same picture."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    body = b"Comment\0" + note.encode("ascii")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body))
    return data[:IHDR_END] + chunk + data[IHDR_END:]


def write_seed_copies(
    root: Path, copies: int, source: Path = SEED_CASE, distinct_images: bool = True
) -> SeedCopies:
    """Write a course of `copies` copies of the case folder `source` under `root`."""
    case_yaml = (source / "case.yaml").read_text(encoding="utf-8")
    id_line = re.compile(rf"^id: {re.escape(source.name)}$", re.MULTILINE)
    if len(id_line.findall(case_yaml)) != 1:
        raise ValueError(f"{source}/case.yaml: no single `id: {source.name}` line")
    questions_yaml = (source / "questions.yaml").read_bytes()
    images = sorted(p for p in source.rglob("*.png") if p.is_file())
    image_bytes = {p.relative_to(source): p.read_bytes() for p in images}

    root.mkdir(parents=True, exist_ok=True)
    case_ids = [f"{source.name}-{n:04d}" for n in range(1, copies + 1)]
    for case_id in case_ids:
        folder = root / "cases" / case_id
        folder.mkdir(parents=True)
        (folder / "case.yaml").write_text(
            id_line.sub(f"id: {case_id}", case_yaml), encoding="utf-8"
        )
        (folder / "questions.yaml").write_bytes(questions_yaml)
        for relative, data in image_bytes.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            if distinct_images:
                data = _png_with_note(data, f"copy {case_id}")
            (folder / relative).write_bytes(data)
    course = yaml.safe_load((SEED_COURSE / "course.yaml").read_text(encoding="utf-8"))
    course["id"] = f"seed-x{copies}"
    course["title"] = f"{course['title']} ({copies} copies of the seed case)"
    course["cases"] = case_ids
    (root / "course.yaml").write_text(
        yaml.safe_dump(course, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    return SeedCopies(root, course["id"], case_ids)


def edit_stem(root: Path, case_id: str, note: str) -> str:
    """Append `note` to the stem of EDITED_QUESTION in one case; return the QTI zip's name
    for that item, the one entry a rebuild should change."""
    path = root / "cases" / case_id / "questions.yaml"
    text = path.read_text(encoding="utf-8")
    if text.count(EDITED_STEM_LINE) != 1:
        raise ValueError(f"{path}: the stem to edit is not there once (edited already?)")
    path.write_text(
        text.replace(EDITED_STEM_LINE, EDITED_STEM_LINE.rstrip("\n") + f" ({note})\n"),
        encoding="utf-8",
    )
    return f"item-{case_id}.{EDITED_QUESTION}.xml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--identical-images", action="store_true", help="copy PNGs as they are")
    args = parser.parse_args()
    written = write_seed_copies(args.out, args.copies, distinct_images=not args.identical_images)
    print(f"wrote {len(written.case_ids)} copies of the seed case to {args.out}")


if __name__ == "__main__":
    main()

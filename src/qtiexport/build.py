"""The pipeline after validation: render the targets, check them, then package them.

Documents stream from the renderer through the schema check into the package writer,
so memory stays flat however large the course. Nothing replaces the previous packages
until every document of every target has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qtiexport.model import Course
from qtiexport.package import PackageEntry, PackageWriter, remove_leftovers
from qtiexport.qti import render_qti_case, render_qti_manifest
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import as_scorm_entry, render_sco_entry, render_scorm_course_files
from qtiexport.timing import StageTimes

TARGETS = ("scorm12", "qti21")


class SchemaViolation(Exception):
    """Generated documents break the official schemas; nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} schema violation(s)")


@dataclass(frozen=True)
class BuiltPackage:
    target: str
    zip_path: Path
    tree_path: Path
    files: int


class _Packager:
    """Checks each document once and writes it into every package that carries it."""

    def __init__(
        self, writers: dict[str, PackageWriter], schemas: SchemaSet | None, times: StageTimes
    ):
        self.writers = writers
        self.schemas = schemas
        self.times = times
        self.problems: list[str] = []

    def emit(self, copies: list[tuple[str, PackageEntry]]) -> None:
        """`copies`: the same document as each target names it (rendered lazily upstream)."""
        with self.times.stage("render"):
            data = copies[0][1].read()
        target, first = copies[0]
        if self.schemas is not None and first.schema is not None:
            with self.times.stage("schema"):
                self.problems.extend(
                    self.schemas.problems(f"{target}/{first.name}", first.schema, data)
                )
        if not self.problems:  # after a violation, only go on checking
            with self.times.stage("zip"):
                for target, entry in copies:
                    self.writers[target].add(entry.name, data)


def _timed(iterator, times: StageTimes):
    """The items of a rendering generator, with the time spent making them counted."""
    while True:
        with times.stage("render"):
            item = next(iterator, None)
        if item is None:
            return
        yield item


def build_course(
    course: Course,
    output: Path,
    targets: tuple[str, ...],
    schemas: SchemaSet | None,
    times: StageTimes | None = None,
) -> list[BuiltPackage]:
    """Render, check and package the targets, streaming one document at a time.

    The SCORM package carries the QTI documents under `qti/`: each is rendered and
    checked once and written into both packages. Every target is written to temporary
    files first; only when every document has passed the schemas are they renamed into
    place.
    """
    times = times if times is not None else StageTimes()
    remove_leftovers(output)
    remove_leftovers(output / course.id)
    writers: dict[str, PackageWriter] = {}
    try:
        for target in TARGETS:
            if target in targets:
                writers[target] = PackageWriter(
                    output / f"{course.id}-{target}.zip", output / course.id / target
                )
        packager = _Packager(writers, schemas, times)
        qti, scorm = "qti21" in writers, "scorm12" in writers
        if scorm:
            for entry in _timed(render_scorm_course_files(course), times):
                packager.emit([("scorm12", entry)])
        if qti:
            with times.stage("render"):
                manifest = render_qti_manifest(course)
            packager.emit([("qti21", manifest)])
        for case in course.cases:
            if scorm:
                with times.stage("render"):
                    sco = render_sco_entry(course, case)
                packager.emit([("scorm12", sco)])
            for entry in _timed(render_qti_case(course, case), times):
                copies = [("qti21", entry)] if qti else []
                if scorm:
                    copies.append(("scorm12", as_scorm_entry(entry)))
                packager.emit(copies)
        if packager.problems:
            raise SchemaViolation(packager.problems)
        with times.stage("zip"):
            return [
                BuiltPackage(target, w.zip_path, w.tree_path, w.commit())
                for target, w in writers.items()
            ]
    finally:
        for writer in writers.values():
            writer.discard()

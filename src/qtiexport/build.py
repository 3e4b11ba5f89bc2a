"""The pipeline after validation: render each target, check it, then package it.

Documents stream from the renderer through the schema check into the package writer,
so memory stays flat however large the course. Nothing replaces the previous packages
until every document of every target has passed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from qtiexport.model import Course
from qtiexport.package import PackageEntry, PackageWriter, remove_leftovers
from qtiexport.schemas import SchemaSet
from qtiexport.timing import StageTimes

# Each target's renderer, imported only when that target is built.
RENDERERS = {
    "scorm12": "qtiexport.scorm:render_scorm_package",
    "qti21": "qtiexport.qti:render_qti_package",
}
TARGETS = tuple(RENDERERS)


def renderer(target: str) -> Callable[[Course], Iterable[PackageEntry]]:
    module, name = RENDERERS[target].split(":")
    return getattr(importlib.import_module(module), name)


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


def build_course(
    course: Course,
    output: Path,
    targets: tuple[str, ...],
    schemas: SchemaSet | None,
    times: StageTimes | None = None,
) -> list[BuiltPackage]:
    """Render, check and package each target, streaming one document at a time.

    Every target is written to temporary files first; only when every document of every
    target has passed the schemas are they renamed into place.
    """
    times = times if times is not None else StageTimes()
    remove_leftovers(output)
    remove_leftovers(output / course.id)
    problems: list[str] = []
    writers: list[tuple[str, PackageWriter]] = []
    try:
        for target in targets:
            writer = PackageWriter(
                output / f"{course.id}-{target}.zip", output / course.id / target
            )
            writers.append((target, writer))
            entries = iter(renderer(target)(course))
            while True:
                with times.stage("render"):
                    entry = next(entries, None)
                    data = entry.read() if entry is not None else b""
                if entry is None:
                    break
                if schemas is not None and entry.schema is not None:
                    with times.stage("schema"):
                        problems.extend(
                            schemas.problems(f"{target}/{entry.name}", entry.schema, data)
                        )
                if not problems:  # after a violation, only go on checking
                    with times.stage("zip"):
                        writer.add(entry.name, data)
        if problems:
            raise SchemaViolation(problems)
        with times.stage("zip"):
            return [
                BuiltPackage(target, w.zip_path, w.tree_path, w.commit()) for target, w in writers
            ]
    finally:
        for _, writer in writers:
            writer.discard()

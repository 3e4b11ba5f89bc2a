"""The pipeline after validation: render each target, check it, then package it.

Every document of every target is rendered and checked before the first byte is
written, so a schema violation leaves the previous packages untouched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qtiexport.model import Course
from qtiexport.package import PackageEntry, remove_leftovers, write_tree, write_zip
from qtiexport.schemas import SchemaSet

# Each target's renderer, imported only when that target is built.
RENDERERS = {
    "scorm12": "qtiexport.scorm:render_scorm_package",
    "qti21": "qtiexport.qti:render_qti_package",
}
TARGETS = tuple(RENDERERS)


def renderer(target: str) -> Callable[[Course], list[PackageEntry]]:
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


def check_documents(target: str, entries: list[PackageEntry], schemas: SchemaSet) -> list[str]:
    problems: list[str] = []
    for entry in entries:
        if entry.schema is not None:
            problems.extend(schemas.problems(f"{target}/{entry.name}", entry.schema, entry.read()))
    return problems


def build_course(
    course: Course, output: Path, targets: tuple[str, ...], schemas: SchemaSet | None
) -> list[BuiltPackage]:
    rendered = {target: renderer(target)(course) for target in targets}
    if schemas is not None:
        problems = [
            p for t, entries in rendered.items() for p in check_documents(t, entries, schemas)
        ]
        if problems:
            raise SchemaViolation(problems)
    remove_leftovers(output)
    remove_leftovers(output / course.id)
    built = []
    for target, entries in rendered.items():
        zip_path = output / f"{course.id}-{target}.zip"
        count = write_zip(entries, zip_path)
        tree_path = output / course.id / target
        write_tree(entries, tree_path)
        built.append(BuiltPackage(target, zip_path, tree_path, count))
    return built

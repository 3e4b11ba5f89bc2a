"""The pipeline after validation: render the targets, check them, then package them.

Documents stream from the renderer through the schema check into the package writer,
so memory stays flat however large the course. Nothing replaces the previous packages
until every document of every target has passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qtiexport.model import Course
from qtiexport.package import (
    PackageEntry,
    PackageWriter,
    PackedFile,
    TreeWriter,
    pack,
    remove_leftovers,
)
from qtiexport.parallel import run_steps, worker_count
from qtiexport.qti import render_qti_case, render_qti_manifest
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import as_scorm_entry, render_sco_entry, render_scorm_course_files
from qtiexport.timing import StageTimes

TARGETS = ("scorm12", "qti21")
MANIFEST_SCHEMAS = {"scorm12": "scorm-manifest", "qti21": "qti-manifest"}


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


@dataclass(frozen=True)
class CheckedDocument:
    """One rendered document, its schema problems, and where each package puts it."""

    destinations: tuple[tuple[str, str], ...]  # (target, name inside that package)
    data: bytes
    problems: tuple[str, ...]


def check_document(
    copies: list[tuple[str, PackageEntry]], schemas: SchemaSet | None, times: StageTimes
) -> CheckedDocument:
    """Read (render) one document once and check it against its schema once."""
    target, first = copies[0]
    with times.stage("render"):
        data = first.read()
    problems: tuple[str, ...] = ()
    if schemas is not None and first.schema is not None:
        with times.stage("schema"):
            problems = tuple(schemas.problems(f"{target}/{first.name}", first.schema, data))
    return CheckedDocument(tuple((t, e.name) for t, e in copies), data, problems)


def _timed(iterator: Iterator[PackageEntry], times: StageTimes) -> Iterator[PackageEntry]:
    """The items of a rendering generator, with the time spent making them counted."""
    while True:
        with times.stage("render"):
            item = next(iterator, None)
        if item is None:
            return
        yield item


@dataclass(frozen=True)
class Work:
    """What every rendering step needs; worker processes inherit it when forked."""

    course: Course
    targets: frozenset[str]
    schemas: SchemaSet | None
    trees: dict[str, TreeWriter]  # for the temporary tree of each target's package


@dataclass(frozen=True)
class PackedDocument:
    """A checked document as the zips take it, already written to the trees."""

    destinations: tuple[tuple[str, str], ...]  # (target, name inside that package)
    packed: PackedFile | None  # None when the document breaks a schema
    problems: tuple[str, ...]


Rendered = tuple[list[PackedDocument], dict[str, float]]  # documents, seconds per stage


def _package(work: Work, documents: list[CheckedDocument], times: StageTimes) -> Rendered:
    """Write the documents that passed into the packages' trees and pack them for the
    zips, in the process that rendered them: that spreads the file system's and zlib's
    work over the cores, packs a file that both packages carry once, and sends the
    main process compressed bytes."""
    packed = []
    with times.stage("zip"):
        for document in documents:
            if document.problems:
                packed.append(PackedDocument(document.destinations, None, document.problems))
                continue
            (target, name), *copies = document.destinations
            written = work.trees[target].write(name, document.data)
            for target, name in copies:
                work.trees[target].write_same(name, document.data, written)
            packed.append(PackedDocument(document.destinations, pack(document.data), ()))
    return packed, times.seconds


def render_course_files(work: Work) -> Rendered:
    """The documents that belong to the whole course: the manifests and the player."""
    times = StageTimes()
    documents = []
    if "scorm12" in work.targets:
        for entry in _timed(render_scorm_course_files(work.course), times):
            documents.append(check_document([("scorm12", entry)], work.schemas, times))
    if "qti21" in work.targets:
        with times.stage("render"):
            manifest = render_qti_manifest(work.course)
        documents.append(check_document([("qti21", manifest)], work.schemas, times))
    return _package(work, documents, times)


def render_case(work: Work, index: int) -> Rendered:
    """Every document of one case, checked: its SCO, and its QTI test, items and images
    (each written once per package that carries it)."""
    times = StageTimes()
    case = work.course.cases[index]
    documents = []
    if "scorm12" in work.targets:
        with times.stage("render"):
            sco = render_sco_entry(work.course, case)
        documents.append(check_document([("scorm12", sco)], work.schemas, times))
    for entry in _timed(render_qti_case(work.course, case), times):
        copies = [("qti21", entry)] if "qti21" in work.targets else []
        if "scorm12" in work.targets:
            copies.append(("scorm12", as_scorm_entry(entry)))
        documents.append(check_document(copies, work.schemas, times))
    return _package(work, documents, times)


# Courses from this size on are rendered by worker processes, case by case.
PARALLEL_FROM_QUESTIONS = 500


def build_course(
    course: Course,
    output: Path,
    targets: tuple[str, ...],
    schemas: SchemaSet | None,
    times: StageTimes | None = None,
) -> list[BuiltPackage]:
    """Render, check and package the targets, streaming one case at a time.

    The SCORM package carries the QTI documents under `qti/`: each is rendered and
    checked once and written into both packages. Large courses are rendered by worker
    processes, case by case, and written in the same order, so the packages are the
    same bytes as from one process; each process writes the files it rendered into the
    packages' unzipped trees itself. Every target is written to temporary files first;
    only when every document has passed the schemas are they renamed into place.
    """
    times = times if times is not None else StageTimes()
    remove_leftovers(output)
    remove_leftovers(output / course.id)
    wanted = frozenset(targets)
    questions = sum(len(case.questions) for case in course.cases)
    workers = worker_count(len(course.cases), questions >= PARALLEL_FROM_QUESTIONS)
    writers: dict[str, PackageWriter] = {}
    rendered = None
    try:
        for target in TARGETS:
            if target in wanted:
                writers[target] = PackageWriter(
                    output / f"{course.id}-{target}.zip", output / course.id / target
                )
        # Each worker process gets its own copy of the tree writers when forked.
        work = Work(course, wanted, schemas, {t: w.tree for t, w in writers.items()})
        if workers and schemas is not None:  # compiled once, before the fork, for every worker
            for kind in ["qti"] + [MANIFEST_SCHEMAS[target] for target in writers]:
                schemas.schema(kind)

        def step(index: int) -> Rendered:  # 0: the course's own files; n: case n - 1
            return render_course_files(work) if index == 0 else render_case(work, index - 1)

        rendered = run_steps(step, len(course.cases) + 1, workers)
        problems: list[str] = []
        for documents, seconds in rendered:
            times.add(seconds)
            for document in documents:
                problems.extend(document.problems)
                if not problems:  # after a violation, only go on checking
                    with times.stage("zip"):
                        for target, name in document.destinations:
                            writers[target].add_packed(name, document.packed)
        if problems:
            raise SchemaViolation(problems)
        with times.stage("zip"):
            return [
                BuiltPackage(target, w.zip_path, w.tree_path, w.commit())
                for target, w in writers.items()
            ]
    finally:
        if rendered is not None:
            rendered.close()  # stops the workers at once if the build failed
        # The last writer made goes first: the folders the first one created empty out.
        for writer in reversed(writers.values()):
            writer.discard()

"""The pipeline after validation: render the targets, check them, then package them.

Documents stream from the renderer through the schema check into the package writer,
so memory stays flat however large the course. Nothing replaces the previous packages
until every document of every target has passed.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
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


def render_case(
    course: Course, index: int, targets: frozenset[str], schemas: SchemaSet | None
) -> tuple[list[CheckedDocument], dict[str, float]]:
    """Every document of one case, checked: its SCO, and its QTI test, items and images
    (each written once per package that carries it)."""
    times = StageTimes()
    case = course.cases[index]
    documents = []
    if "scorm12" in targets:
        with times.stage("render"):
            sco = render_sco_entry(course, case)
        documents.append(check_document([("scorm12", sco)], schemas, times))
    for entry in _timed(render_qti_case(course, case), times):
        copies = [("qti21", entry)] if "qti21" in targets else []
        if "scorm12" in targets:
            copies.append(("scorm12", as_scorm_entry(entry)))
        documents.append(check_document(copies, schemas, times))
    return documents, times.seconds


# Cases are rendered in worker processes when a course is large enough to gain from it.
# The workers are forked before any writer thread starts and find their work here.
PARALLEL_FROM_QUESTIONS = 500
WORKERS_VARIABLE = "QTIEXPORT_WORKERS"
_work: tuple[Course, frozenset[str], SchemaSet | None] | None = None


def _render_case_in_worker(index: int) -> tuple[list[CheckedDocument], dict[str, float]]:
    assert _work is not None
    course, targets, schemas = _work
    return render_case(course, index, targets, schemas)


def _in_order(pool, count: int, ahead: int):
    """The workers' results in case order, with at most `ahead` cases rendered and not yet
    written, so that memory stays flat however many cases there are."""
    pending: deque = deque()
    for index in range(count):
        pending.append(pool.apply_async(_render_case_in_worker, (index,)))
        if len(pending) >= ahead:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def worker_count(course: Course) -> int:
    """How many processes render cases: 0 renders in this process."""
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    if setting.isdigit():
        wanted = int(setting)
    else:
        questions = sum(len(case.questions) for case in course.cases)
        wanted = os.cpu_count() or 1 if questions >= PARALLEL_FROM_QUESTIONS else 0
    wanted = min(wanted, len(course.cases))
    return wanted if wanted > 1 and "fork" in multiprocessing.get_all_start_methods() else 0


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
    same bytes as from one process. Every target is written to temporary files first;
    only when every document has passed the schemas are they renamed into place.
    """
    global _work
    times = times if times is not None else StageTimes()
    remove_leftovers(output)
    remove_leftovers(output / course.id)
    wanted = frozenset(targets)
    workers = worker_count(course)
    pool = None
    writers: dict[str, PackageWriter] = {}
    try:
        if workers:
            if schemas is not None:
                schemas.schema("qti")  # compiled once, before the fork, for every worker
            _work = (course, wanted, schemas)
            pool = multiprocessing.get_context("fork").Pool(workers)
            cases = _in_order(pool, len(course.cases), ahead=2 * workers)
        else:
            cases = (render_case(course, i, wanted, schemas) for i in range(len(course.cases)))
        for target in TARGETS:
            if target in wanted:
                writers[target] = PackageWriter(
                    output / f"{course.id}-{target}.zip", output / course.id / target
                )
        problems: list[str] = []

        def write(document: CheckedDocument) -> None:
            problems.extend(document.problems)
            if not problems:  # after a violation, only go on checking
                with times.stage("zip"):
                    for target, name in document.destinations:
                        writers[target].add(name, document.data)

        if "scorm12" in writers:
            for entry in _timed(render_scorm_course_files(course), times):
                write(check_document([("scorm12", entry)], schemas, times))
        if "qti21" in writers:
            with times.stage("render"):
                manifest = render_qti_manifest(course)
            write(check_document([("qti21", manifest)], schemas, times))
        for documents, seconds in cases:
            for stage, spent in seconds.items():
                times.seconds[stage] = times.seconds.get(stage, 0.0) + spent
            for document in documents:
                write(document)
        if problems:
            raise SchemaViolation(problems)
        with times.stage("zip"):
            return [
                BuiltPackage(target, w.zip_path, w.tree_path, w.commit())
                for target, w in writers.items()
            ]
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        _work = None
        for writer in writers.values():
            writer.discard()

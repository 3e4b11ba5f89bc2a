"""The pipeline after validation: render the targets, check them, then package them.

Documents stream from the renderer through the schema check into the package writer,
so memory stays flat however large the course. Nothing replaces the previous packages
until every document of every target has passed, and then both packages are replaced
together: the zips, with their unzipped trees when asked for (`trees`), and without, a
previous build's trees of the same packages go away in the same step, as they would no
longer match the zips. The output folder never overlaps the course, and one build at a
time writes into it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qtiexport.diagnostics import display_path
from qtiexport.model import Course
from qtiexport.package import (
    OutputLock,
    OutputRefused,
    PackageEntry,
    PackageWriter,
    PackedFile,
    TreeWriter,
    check_package_paths,
    commit_packages,
    is_stale_tree,
    pack,
    recover_interrupted_commit,
    remove_leftovers,
)
from qtiexport.parallel import run_steps, worker_count
from qtiexport.qti import render_qti_case, render_qti_manifest
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import as_scorm_entry, render_sco_entries, render_scorm_course_files
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
    tree_path: Path | None  # the unzipped tree written beside the zip, if asked for
    files: int
    removed_tree: Path | None = None  # a previous build's tree of it, taken away as stale


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
    trees: dict[str, TreeWriter]  # the temporary tree of each target's package; {}: none


@dataclass(frozen=True)
class PackedDocument:
    """A checked document as the zips take it, already written to the trees if any."""

    destinations: tuple[tuple[str, str], ...]  # (target, name inside that package)
    packed: PackedFile | None  # None when the document breaks a schema
    problems: tuple[str, ...]


Rendered = tuple[list[PackedDocument], dict[str, float]]  # documents, seconds per stage


def _package(work: Work, documents: list[CheckedDocument], times: StageTimes) -> Rendered:
    """Pack the documents that passed for the zips (and write them into the packages'
    trees, when the build writes trees), in the process that rendered them: that spreads
    zlib's and the file system's work over the cores, packs a file that both packages
    carry once, and sends the main process compressed bytes."""
    packed = []
    with times.stage("zip"):
        for document in documents:
            if document.problems:
                packed.append(PackedDocument(document.destinations, None, document.problems))
                continue
            if work.trees:
                _write_to_trees(work.trees, document)
            packed.append(PackedDocument(document.destinations, pack(document.data), ()))
    return packed, times.seconds


def _write_to_trees(trees: dict[str, TreeWriter], document: CheckedDocument) -> None:
    """Write a document into the tree of every package that carries it: once, then as
    links to that first file."""
    written = None
    for target, name in document.destinations:
        if written is None:
            written = trees[target].write(name, document.data)
        else:
            trees[target].write_same(name, document.data, written)


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
    """Every document of one case, checked: its SCO with its findings and thumbnails, and
    its QTI test, items and images (each written once per package that carries it)."""
    times = StageTimes()
    case = work.course.cases[index]
    documents = []
    if "scorm12" in work.targets:
        for entry in _timed(render_sco_entries(work.course, case), times):
            documents.append(check_document([("scorm12", entry)], work.schemas, times))
    for entry in _timed(render_qti_case(work.course, case), times):
        copies = [("qti21", entry)] if "qti21" in work.targets else []
        if "scorm12" in work.targets:
            copies.append(("scorm12", as_scorm_entry(entry)))
        documents.append(check_document(copies, work.schemas, times))
    return _package(work, documents, times)


# Courses from this size on are rendered by worker processes, case by case.
PARALLEL_FROM_QUESTIONS = 500


def _is_within(path: Path, folder: Path) -> bool:
    """Whether the real path `path` is `folder` or lies inside it. Folders are compared as
    the file system sees them (device and inode), so that letter case on a file system that
    ignores it, or another name of the same folder, cannot hide an overlap."""
    try:
        wanted = os.stat(folder)
    except OSError:
        return False
    for ancestor in (path, *path.parents):
        with contextlib.suppress(OSError):
            if os.path.samestat(os.stat(ancestor), wanted):
                return True
    return False


def check_output_folder(course_folder: Path, output: Path) -> None:
    """Raise OutputRefused for an output folder that is the course folder, lies inside it
    or contains it, or is the root of a file system: a build there could replace the
    course's own files. Real paths are compared, so links and `..` change nothing."""
    real_course = Path(os.path.realpath(course_folder))
    real_output = Path(os.path.realpath(output))
    shown, course = (display_path(folder).rstrip("/") + "/" for folder in (output, course_folder))
    # A folder to suggest: `build` beside the course (unless the course is called so).
    suggested = real_course.parent / ("build" if real_course.name != "build" else "build-out")
    with contextlib.suppress(ValueError):  # on another drive, it stays absolute
        suggested = Path(os.path.relpath(suggested))
    beside = suggested.as_posix()
    if real_output.parent == real_output:
        raise OutputRefused(
            f"the output folder {shown} is the root of the file system, where a build could "
            f"replace anything; choose a folder of its own, such as -o {beside}"
        )
    if _is_within(real_output, real_course):
        where = "is" if _is_within(real_course, real_output) else "lies inside"
        raise OutputRefused(
            f"the output folder {shown} {where} the course folder {course}, where a build "
            f"could replace the course's files; choose a folder outside it, such as -o {beside}"
        )
    if _is_within(real_course, real_output):
        raise OutputRefused(
            f"the output folder {shown} contains the course folder {course}, where a build "
            "could replace the course's files; choose a folder beside the course, not above it"
        )


@contextmanager
def claimed_output(course_folder: Path, output: Path) -> Iterator[None]:
    """Hold the output folder for one build: refuse it if it overlaps the course, make it,
    take its lock (OutputBusy if another build holds it), and put back the previous
    packages if a build was killed during its commit. A failed first build takes away
    the folders it made."""
    check_output_folder(course_folder, output)
    created = [folder for folder in (output, *output.parents) if not folder.exists()]
    output.mkdir(parents=True, exist_ok=True)
    try:
        with OutputLock(output):
            recover_interrupted_commit(output)
            yield
    except BaseException:
        for folder in created:  # deepest first; a folder not empty holds someone's files
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def build_course(
    course: Course,
    output: Path,
    targets: tuple[str, ...],
    schemas: SchemaSet | None,
    times: StageTimes | None = None,
    *,
    output_claimed: bool = False,
    trees: bool = False,
) -> list[BuiltPackage]:
    """Render, check and package the targets, streaming one case at a time.

    The SCORM package carries the QTI documents under `qti/`: each is rendered and
    checked once and written into both packages. Large courses are rendered by worker
    processes, case by case, and written in the same order, so the packages are the
    same bytes as from one process. With `trees`, the unzipped trees are written too,
    under `output/<course-id>/<target>/`, each process writing the files it rendered
    itself; without, no tree is written and a previous build's tree of a package built
    now is taken away with the commit (`BuiltPackage.removed_tree`). Every target is
    written to temporary files first; only when every document has passed the schemas
    are they put in place, all together.

    Raises OutputRefused (the output folder overlaps the course, or something a build did
    not write stands where a package goes) and OutputBusy (another build holds the folder)
    before anything is written. With `output_claimed`, the caller holds `claimed_output`.
    """
    times = times if times is not None else StageTimes()
    if output_claimed:
        return _build_holding_the_lock(course, output, targets, schemas, times, trees)
    with claimed_output(course.root, output):
        return _build_holding_the_lock(course, output, targets, schemas, times, trees)


def _build_holding_the_lock(
    course: Course,
    output: Path,
    targets: tuple[str, ...],
    schemas: SchemaSet | None,
    times: StageTimes,
    trees: bool,
) -> list[BuiltPackage]:
    trees_folder = output / course.id
    paths = {
        target: (output / f"{course.id}-{target}.zip", trees_folder / target if trees else None)
        for target in TARGETS
        if target in targets
    }
    for zip_path, tree_path in paths.values():
        check_package_paths(zip_path, tree_path)
    # Without trees, a previous build's tree of a package built now would no longer match
    # its zip: it goes away with the commit (only a marked one, reached through folders).
    stale_trees = [] if trees else [trees_folder / target for target in paths]
    stale_trees = [tree for tree in stale_trees if is_stale_tree(tree)]
    remove_leftovers(output)
    remove_leftovers(trees_folder)
    wanted = frozenset(targets)
    questions = sum(len(case.questions) for case in course.cases)
    workers = worker_count(len(course.cases), questions >= PARALLEL_FROM_QUESTIONS)
    writers: dict[str, PackageWriter] = {}
    rendered = None
    try:
        for target, (zip_path, tree_path) in paths.items():
            writers[target] = PackageWriter(zip_path, tree_path)
        # Each worker process gets its own copy of the tree writers when forked.
        tree_writers = {t: w.tree for t, w in writers.items() if w.tree is not None}
        work = Work(course, wanted, schemas, tree_writers)
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
            removed = commit_packages(list(writers.values()), output, stale_trees)
        if removed:  # the trees' folder, when the stale trees were all it held
            with contextlib.suppress(OSError):
                trees_folder.rmdir()
        return [
            BuiltPackage(
                target,
                w.zip_path,
                w.tree_path,
                len(w.names),
                trees_folder / target if trees_folder / target in removed else None,
            )
            for target, w in writers.items()
        ]
    finally:
        if rendered is not None:
            rendered.close()  # stops the workers at once if the build failed
        # The last writer made goes first: the folders the first one created empty out.
        for writer in reversed(writers.values()):
            writer.discard()

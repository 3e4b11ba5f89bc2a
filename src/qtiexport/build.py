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
from dataclasses import dataclass, field
from pathlib import Path

from qtiexport.cache import (
    BuildCache,
    CaseInputs,
    PreviousArchive,
    ZipLayout,
    digest_of,
    remove_staged_records,
    schema_fingerprint,
    still_the_same,
    tool_fingerprint,
)
from qtiexport.diagnostics import display_path
from qtiexport.model import Case, Course
from qtiexport.package import (
    OutputLock,
    OutputRefused,
    PackageEntry,
    PackageError,
    PackageWriter,
    PackedFile,
    TreeWriter,
    add_source_file,
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
from qtiexport.scorm import (
    as_scorm_entry,
    player_asset_paths,
    render_sco_entries,
    render_scorm_course_files,
)
from qtiexport.timing import StageTimes
from qtiexport.validate import CaseValidation, validate_case

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
    passed: str | None = None  # its check's digest, when it passed one


def check_document(
    copies: list[tuple[str, PackageEntry]],
    schemas: SchemaSet | None,
    times: StageTimes,
    known_valid: frozenset[str] = frozenset(),
) -> CheckedDocument:
    """Read (render) one document once and check it against its schema once, unless
    the same bytes passed the same check in the last build (`known_valid`)."""
    target, first = copies[0]
    with times.stage("render"):
        data = first.read()
    problems: tuple[str, ...] = ()
    passed = None
    if schemas is not None and first.schema is not None:
        with times.stage("schema"):
            digest = digest_of(first.schema, data)
            if digest not in known_valid:
                problems = tuple(schemas.problems(f"{target}/{first.name}", first.schema, data))
            passed = None if problems else digest
    return CheckedDocument(tuple((t, e.name) for t, e in copies), data, problems, passed)


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
    known_valid: frozenset[str] = frozenset()  # see check_document


@dataclass(frozen=True)
class PackedDocument:
    """A checked document as the zips take it, already written to the trees if any."""

    destinations: tuple[tuple[str, str], ...]  # (target, name inside that package)
    packed: PackedFile | None  # None when the document breaks a schema
    problems: tuple[str, ...]
    passed: str | None = None  # see CheckedDocument


@dataclass(frozen=True)
class SourceFile:
    """A file of the course that the packages carry as it is (an image): the main process
    reads it once, in blocks, into every zip that carries it, so that its bytes never
    travel between processes nor sit in memory whole."""

    destinations: tuple[tuple[str, str], ...]  # (target, name inside that package)
    path: Path


Rendered = tuple[list[PackedDocument | SourceFile], dict[str, float]]  # documents, seconds


def _package(
    work: Work, documents: list[CheckedDocument | SourceFile], times: StageTimes
) -> Rendered:
    """Pack the documents that passed for the zips (and write them into the packages'
    trees, when the build writes trees), in the process that rendered them: that spreads
    zlib's and the file system's work over the cores, packs a file that both packages
    carry once, and sends the main process compressed bytes."""
    packed: list[PackedDocument | SourceFile] = []
    with times.stage("zip"):
        for document in documents:
            if isinstance(document, SourceFile):
                if work.trees:
                    data = document.path.read_bytes()
                    _write_to_trees(work.trees, CheckedDocument(document.destinations, data, ()))
                packed.append(document)
                continue
            if document.problems:
                packed.append(PackedDocument(document.destinations, None, document.problems))
                continue
            if work.trees:
                _write_to_trees(work.trees, document)
            packed.append(
                PackedDocument(document.destinations, pack(document.data), (), document.passed)
            )
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
            documents.append(
                check_document([("scorm12", entry)], work.schemas, times, work.known_valid)
            )
    if "qti21" in work.targets:
        with times.stage("render"):
            manifest = render_qti_manifest(work.course)
        documents.append(
            check_document([("qti21", manifest)], work.schemas, times, work.known_valid)
        )
    return _package(work, documents, times)


def render_case(work: Work, index: int) -> Rendered:
    """Every document of one case, checked: its SCO with its findings and thumbnails, and
    its QTI test, items and images (each written once per package that carries it)."""
    times = StageTimes()
    case = work.course.cases[index]
    documents: list[CheckedDocument | SourceFile] = []
    if "scorm12" in work.targets:
        for entry in _timed(render_sco_entries(work.course, case), times):
            documents.append(
                check_document([("scorm12", entry)], work.schemas, times, work.known_valid)
            )
    for entry in _timed(render_qti_case(work.course, case), times):
        copies = [("qti21", entry)] if "qti21" in work.targets else []
        if "scorm12" in work.targets:
            copies.append(("scorm12", as_scorm_entry(entry)))
        if isinstance(entry.data, Path) and entry.schema is None:  # an image, copied as it is
            documents.append(SourceFile(tuple((t, e.name) for t, e in copies), entry.data))
        else:
            documents.append(check_document(copies, work.schemas, times, work.known_valid))
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
            remove_staged_records(output)  # a killed build's, which its commit never took
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
    cache: CachePlan | None = None,
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

    With a `cache`, a case whose rendering is recorded there is not rendered again: its
    documents come from the record (the images from the course), in the same order, so
    the packages are the same bytes; after the commit, the cache is saved.
    """
    times = times if times is not None else StageTimes()
    if output_claimed:
        return _build_holding_the_lock(course, output, targets, schemas, times, trees, cache)
    with claimed_output(course.root, output):
        return _build_holding_the_lock(course, output, targets, schemas, times, trees, cache)


@dataclass
class CachePlan:
    """The build cache and what the build knows of each case folder's inputs, by
    (case id, folder) as validation names them; no entry: the case is not cached."""

    cache: BuildCache
    inputs: dict[tuple[str, str], CaseInputs]
    schema_folder: Path | None  # the schema set checked against; None: unchecked
    # What rendering adds to every case's inputs, by targets (see render_key).
    contexts: dict[frozenset[str], str] = field(default_factory=dict)

    @classmethod
    def make(cls, cache: BuildCache, root: Path, schema_folder: Path | None) -> CachePlan:
        """The inputs of every folder in `root/cases`, read before validation reads them."""
        inputs = {}
        cases = root / "cases"
        with contextlib.suppress(OSError):
            for entry in sorted(os.scandir(cases), key=lambda entry: entry.name):
                if entry.is_dir():
                    folder = cases / entry.name
                    found = cache.case_inputs(root, entry.name, folder)
                    if found is not None:
                        inputs[(entry.name, str(folder))] = found
        return cls(cache, inputs, schema_folder)

    def validate_case(self, root: Path, name: str, folder: Path) -> CaseValidation:
        """validate_case, or its recorded result when the case's files are unchanged (in
        the worker processes of validation, which inherit the plan)."""
        inputs = self.inputs.get((name, str(folder)))
        if inputs is not None and inputs.key is not None:
            case = self.cache.read("v-" + inputs.key)
            if isinstance(case, Case):
                return CaseValidation(case, [], {})
        return validate_case(root, name, folder)

    def is_recorded(self, name: str, folder: Path) -> bool:
        """Whether the case's validated model is likely in the cache (its record exists;
        whether it verifies is found when it is read)."""
        inputs = self.inputs.get((name, str(folder)))
        return inputs is not None and inputs.key is not None and self.cache.has("v-" + inputs.key)

    def keep_validations(self, course: Course) -> None:
        """Stage the validated model of each case whose key is known and that is not yet
        recorded (or damaged there); the others are kept once rendered (`keep_case`)."""
        for case in course.cases:
            inputs = self.inputs.get((case.id, str(case.folder)))
            if inputs is not None and inputs.key is not None:
                self._keep_validation(case, inputs)

    def _keep_validation(self, case: Case, inputs: CaseInputs) -> None:
        name = "v-" + str(inputs.key)
        if self.cache.verified(name):
            self.cache.used.add(name)
        elif still_the_same(inputs):
            self.cache.stage(name, case)

    def keep_case(self, course: Course, case: Case, targets: frozenset[str]) -> str | None:
        """The render record name of a case just rendered, its validated model kept too
        when its key was made only now, from the digests its images' copy took; None when
        the case is not cached or its files changed during the build (nothing is kept of
        it then)."""
        inputs = self.inputs.get((case.id, str(case.folder)))
        if inputs is None:
            return None
        if inputs.key is None:
            if self.cache.complete(inputs) is None:  # checks the files are unchanged
                return None
            self._keep_validation(case, inputs)
        elif not still_the_same(inputs):
            return None
        return self.render_key(course, inputs, targets)

    def previous_archives(self, writers: dict[str, PackageWriter]) -> dict[str, PreviousArchive]:
        """The last build's zip of every package, open, when each is the one the cache
        recorded (see BuildCache.previous_archive); {} when any is not."""
        found: dict[str, PreviousArchive] = {}
        for target, writer in writers.items():
            stamp = (writer.archive.time, writer.archive.date)
            archive = self.cache.previous_archive(writer.zip_path, stamp)
            if archive is None:
                for other in found.values():
                    other.close()
                return {}
            found[target] = archive
        return found

    def known_valid(self) -> frozenset[str]:
        """Documents that passed this schema set's check in the last build, by digest."""
        return self.cache.known_valid(
            digest_of(tool_fingerprint(), schema_fingerprint(self.schema_folder))
        )

    def render_keys(self, course: Course, targets: frozenset[str]) -> list[str | None]:
        """Each case's render record name, where its inputs' key is known already."""
        return [
            self.render_key(course, inputs, targets)
            if (inputs := self.inputs.get((case.id, str(case.folder)))) is not None
            else None
            for case in course.cases
        ]

    def render_key(self, course: Course, inputs: CaseInputs, targets: frozenset[str]) -> str | None:
        """A case's render record name: its inputs, and all rendering adds to them."""
        if inputs.key is None:
            return None
        context = self.contexts.get(targets)
        if context is None:
            context = self.contexts[targets] = digest_of(
                repr(
                    (
                        course.id,
                        course.title,
                        course.description,
                        course.language,
                        course.version,
                        course.authors,
                        course.license,
                        course.mastery_score,
                        player_asset_paths(course),  # a SCO links the player files it needs
                    )
                ),
                schema_fingerprint(self.schema_folder),
                repr(sorted(targets)),
            )
        return "r-" + digest_of(inputs.key, context)


class EntryRuns:
    """The entries a package takes from the previous zip, gathered into runs: the cases
    that lie one after the other there are copied with one call (`flush`)."""

    def __init__(self, writer: PackageWriter, archive: PreviousArchive):
        self.writer = writer
        self.archive = archive
        self.start = self.end = 0  # the run waiting to be copied: entries [start, end)

    @property
    def entries(self) -> int:
        """How many entries the package holds once the waiting run is copied."""
        return self.writer.entries + self.end - self.start

    def take(self, first: int, count: int) -> None:
        if first != self.end:
            self.flush()
            self.start = self.end = first
        self.end = first + count

    def flush(self) -> None:
        if self.end > self.start:
            self.writer.copy_entries(
                self.archive.handle, self.archive.entries[self.start : self.end]
            )
        self.start = self.end = 0


def _build_holding_the_lock(
    course: Course,
    output: Path,
    targets: tuple[str, ...],
    schemas: SchemaSet | None,
    times: StageTimes,
    trees: bool,
    plan: CachePlan | None = None,
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
    remove_leftovers(output)  # a killed build's staged cache records too
    remove_leftovers(trees_folder)
    if plan is not None:
        with times.stage("cache"):
            plan.keep_validations(course)
    wanted = frozenset(targets)
    keys = plan.render_keys(course, wanted) if plan is not None else [None] * len(course.cases)
    writers: dict[str, PackageWriter] = {}
    rendered = None
    previous: dict[str, PreviousArchive] = {}
    try:
        for target, (zip_path, tree_path) in paths.items():
            writers[target] = PackageWriter(zip_path, tree_path)
        if plan is not None and not trees:  # a tree is written from rendered documents
            with times.stage("cache"):
                previous = plan.previous_archives(writers)
        # A case recorded in the cache is not rendered: its entries are copied from the
        # previous zips (`copyable`), or its documents read from its record.
        copyable = {
            index
            for index, key in enumerate(keys)
            if key is not None and previous and all(key in p.segments for p in previous.values())
        }
        reused = set(copyable)
        if plan is not None and not trees:
            reused |= {i for i, key in enumerate(keys) if key is not None and plan.cache.has(key)}
        missed = [index for index in range(len(course.cases)) if index not in reused]
        questions = sum(len(course.cases[index].questions) for index in missed)
        # The course's own files (the manifests, which list every case) are a step of
        # their own: in a large course, worth a worker beside the cases rendered again.
        listed = sum(len(case.questions) for case in course.cases) if missed else 0
        workers = worker_count(len(missed) + 1, max(questions, listed) >= PARALLEL_FROM_QUESTIONS)
        # Each worker process gets its own copy of the tree writers when forked.
        tree_writers = {t: w.tree for t, w in writers.items() if w.tree is not None}
        known_valid = plan.known_valid() if plan is not None else frozenset()
        work = Work(course, wanted, schemas, tree_writers, known_valid)
        # Compiled once, before the fork, for every worker, when workers take several
        # steps; else each compiles only what its documents need (see check_document).
        if workers and len(missed) > workers and schemas is not None:
            for kind in ["qti"] + [MANIFEST_SCHEMAS[target] for target in writers]:
                schemas.schema(kind)

        def step(index: int) -> Rendered:  # 0: the course's own files; n: the n-th missed case
            return render_course_files(work) if index == 0 else render_case(work, missed[index - 1])

        rendered = run_steps(step, len(missed) + 1, workers)
        problems: list[str] = []
        runs = {target: EntryRuns(writers[target], archive) for target, archive in previous.items()}

        def add(documents: list[PackedDocument | SourceFile]) -> None:
            for run in runs.values():  # what was copied before goes first
                run.flush()
            for document in documents:
                if isinstance(document, SourceFile):
                    if not problems:
                        with times.stage("zip"):
                            facts, digest = add_source_file(
                                [(writers[t], name) for t, name in document.destinations],
                                document.path,
                            )
                        if plan is not None:
                            plan.cache.note_copied(facts, digest)
                    continue
                problems.extend(document.problems)
                if plan is not None and document.passed is not None:
                    plan.cache.passed.add(document.passed)
                if not problems:  # after a violation, only go on checking
                    with times.stage("zip"):
                        for target, name in document.destinations:
                            writers[target].add_packed(name, document.packed)

        documents, seconds = next(rendered)
        times.add(seconds)
        add(documents)
        # Where each case's entries lie in the new zips, for the next build to copy.
        segments: dict[str, dict[str, tuple[int, int]]] = {target: {} for target in writers}

        def note_segment(key: str, first: dict[str, int]) -> None:
            for target, writer in writers.items():
                run = runs.get(target)
                count = (run.entries if run is not None else writer.entries) - first[target]
                segments[target][key] = (first[target], count)

        if plan is not None:
            plan.cache.cases = len(course.cases)
        for index, case in enumerate(course.cases):
            key = keys[index]
            first = {
                target: runs[target].entries if target in runs else writer.entries
                for target, writer in writers.items()
            }
            if index in copyable:
                assert plan is not None and key is not None
                plan.cache.used.add(key)  # its record stays, for a build without the zips
                plan.cache.reused += 1
                for run in runs.values():
                    run.take(*run.archive.segments[key])
                note_segment(key, first)
                continue
            if index in reused:
                assert plan is not None and key is not None
                with times.stage("cache"):
                    record = plan.cache.read(key)
                if isinstance(record, list):
                    plan.cache.reused += 1
                    add(record)
                    if not problems:
                        note_segment(key, first)
                    continue
                # Damaged, or not this user's: rendered here after all.
                documents, seconds = render_case(work, index)
            else:
                documents, seconds = next(rendered)
            times.add(seconds)
            add(documents)
            if plan is not None and not problems:
                with times.stage("cache"):
                    key = plan.keep_case(course, case, wanted)
                    if key is not None:
                        plan.cache.stage(key, documents)
                        note_segment(key, first)
        with times.stage("zip"):
            for run in runs.values():
                run.flush()
        if any(not archive.unchanged() for archive in previous.values()):
            raise PackageError(
                "a previous package changed while this build copied from it; build again"
            )
        for archive in previous.values():
            archive.close()
        if problems:
            raise SchemaViolation(problems)
        with times.stage("zip"):
            removed = commit_packages(list(writers.values()), output, stale_trees)
        if plan is not None:  # only once the packages stand: a failed build keeps the old one
            with times.stage("cache"):
                plan.cache.committed = [
                    ZipLayout(
                        str(writer.zip_path),
                        (0, 0, 0, 0),  # signed by `save`, as it stands after the commit
                        writer.archive.directory,
                        (writer.archive.time, writer.archive.date),
                        segments[target],
                    )
                    for target, writer in writers.items()
                ]
                plan.cache.save()
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
        for archive in previous.values():
            archive.close()
        if plan is not None:
            plan.cache.discard()
        # The last writer made goes first: the folders the first one created empty out.
        for writer in reversed(writers.values()):
            writer.discard()

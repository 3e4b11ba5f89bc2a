"""The course as its two packages hold it, rendered in memory and kept case by case.

Each rebuild validates the whole course (so the errors shown are all of them, as
`qtiexport validate` prints them) and then renders again only the cases whose folder
changed, unless something every case depends on changed: course.yaml, the player's files
the course needs, or a file outside the case folders. Nothing is written to disk.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from qtiexport.diagnostics import ContentError
from qtiexport.model import Case, Course
from qtiexport.parallel import WorkerDied
from qtiexport.qti import render_qti_case, render_qti_manifest
from qtiexport.scorm import (
    as_scorm_entry,
    player_asset_paths,
    render_sco_entries,
    render_scorm_course_files,
)
from qtiexport.validate import validate_course


@dataclass(frozen=True)
class RenderedCase:
    """One case's own files, by their names inside each package."""

    scorm_files: Mapping[str, bytes]  # its page, findings, thumbnails and its QTI files
    qti_files: Mapping[str, bytes]  # its test, items and images


@dataclass(frozen=True)
class Snapshot:
    """What the preview serves at one moment: a valid course rendered, or its errors."""

    generation: int
    course: Course | None = None
    problems: tuple[str, ...] = ()  # `file:line:col: error: message`, as validate prints
    cases: Mapping[str, RenderedCase] = field(default_factory=dict)  # in course order
    scorm_files: Mapping[str, bytes] = field(default_factory=dict)  # the whole package
    qti_files: Mapping[str, bytes] = field(default_factory=dict)

    def same_content(self, other: Snapshot) -> bool:
        return (self.problems, self.scorm_files, self.qti_files) == (
            other.problems,
            other.scorm_files,
            other.qti_files,
        )


@dataclass(frozen=True)
class Rebuild:
    """What one rebuild did, for the console."""

    snapshot: Snapshot
    rendered: tuple[str, ...]  # ids of the cases rendered again
    seconds: float
    changed: bool  # whether open pages have something new to show


def render_case(course: Course, case: Case) -> RenderedCase:
    """The files of one case, read into memory (images included), named as in each
    package; the same renderers as `build`, so the same bytes."""
    scorm_files = {entry.name: entry.read() for entry in render_sco_entries(course, case)}
    qti_files: dict[str, bytes] = {}
    for entry in render_qti_case(course, case):
        data = entry.read()
        qti_files[entry.name] = data
        scorm_entry = as_scorm_entry(dataclasses.replace(entry, data=data))
        if scorm_entry is not None:
            scorm_files[scorm_entry.name] = data
    return RenderedCase(scorm_files, qti_files)


def course_context(course: Course) -> object:
    """Everything outside a case that a case's rendering reads: the course's own fields
    and the player files the course's question types need."""
    return dataclasses.replace(course, cases=()), tuple(player_asset_paths(course))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class Site:
    """The latest snapshot of a course folder, rebuilt on demand; open pages wait on
    `wait_for_change` to learn that a new one is out."""

    def __init__(self, root: Path):
        self.root = root
        self._rendered: dict[str, RenderedCase] = {}
        self._context: object = None
        # Paths changed since the last successful render; None means render everything.
        self._pending: set[Path] | None = None
        self._rebuilding = threading.Lock()  # the first build and the watcher's may overlap
        self._published = threading.Condition()
        self._closed = False
        self.snapshot = Snapshot(generation=0, problems=("the course is being read",))

    # -------------------------------------------------------------- rebuilding

    def rebuild(self, changed: Iterable[str | Path] | None = None) -> Rebuild:
        """Validate the course again and render what `changed` (paths under the course
        folder; None for everything) affects; publish the result."""
        with self._rebuilding:
            return self._rebuild(changed)

    def _rebuild(self, changed: Iterable[str | Path] | None) -> Rebuild:
        started = time.perf_counter()
        if changed is None:
            self._pending = None
        elif self._pending is not None:
            self._pending.update(Path(p).resolve() for p in changed)
        rendered: tuple[str, ...] = ()
        try:
            course = validate_course(self.root)
            snapshot, rendered = self._render(course)
        except ContentError as error:
            snapshot = Snapshot(0, problems=tuple(str(d) for d in error.diagnostics))
        except WorkerDied as error:
            snapshot = Snapshot(0, problems=(f"validation failed: {error}",))
        except Exception as error:  # noqa: BLE001 - a bug must not stop the server
            snapshot = Snapshot(
                0,
                problems=(
                    f"qtiexport: internal error: {type(error).__name__}: {error} (this is a "
                    "bug in qtiexport, not in your content; please report it)",
                ),
            )
        changed_content = not snapshot.same_content(self.snapshot)
        self._publish(snapshot, changed_content)
        return Rebuild(self.snapshot, rendered, time.perf_counter() - started, changed_content)

    def _render(self, course: Course) -> tuple[Snapshot, tuple[str, ...]]:
        context = course_context(course)
        folders = {case.id: case.folder.resolve() for case in course.cases}
        pending = self._pending
        everything = (
            pending is None
            or context != self._context
            or any(not any(_inside(p, f) for f in folders.values()) for p in pending)
        )
        cases: dict[str, RenderedCase] = {}
        rendered: list[str] = []
        for case in course.cases:
            kept = self._rendered.get(case.id)
            touched = pending is not None and any(_inside(p, folders[case.id]) for p in pending)
            if everything or kept is None or touched:
                kept = render_case(course, case)
                rendered.append(case.id)
            cases[case.id] = kept
        scorm_files = {entry.name: entry.read() for entry in render_scorm_course_files(course)}
        manifest = render_qti_manifest(course)
        qti_files = {manifest.name: manifest.read()}
        for case in cases.values():
            scorm_files.update(case.scorm_files)
            qti_files.update(case.qti_files)
        # Only now, with everything rendered, does the cache move on.
        self._rendered, self._context, self._pending = cases, context, set()
        return Snapshot(0, course, (), cases, scorm_files, qti_files), tuple(rendered)

    # -------------------------------------------------------------- publishing

    def _publish(self, snapshot: Snapshot, changed: bool) -> None:
        with self._published:
            generation = self.snapshot.generation + (1 if changed else 0)
            self.snapshot = dataclasses.replace(snapshot, generation=generation)
            self._published.notify_all()

    def wait_for_change(self, since: int, timeout: float) -> int:
        """The current generation, once it differs from `since`, the timeout passes or
        the server closes."""
        with self._published:
            self._published.wait_for(
                lambda: self.snapshot.generation != since or self._closed, timeout
            )
            return self.snapshot.generation

    def close(self) -> None:
        """Let every waiting page go."""
        with self._published:
            self._closed = True
            self._published.notify_all()

"""Stage 2: check the loaded YAML against every rule and build the typed model.

Every problem is collected, never raised one at a time, so an author sees all of them
in one run. Nothing here writes a file.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from markupsafe import Markup

from qtiexport.diagnostics import (
    ContentError,
    Diagnostic,
    Diagnostics,
    Location,
    display_path,
)
from qtiexport.fields import (
    FORBIDDEN_CHARACTER,  # noqa: F401 (part of this module's interface)
    IDENTIFIER,  # noqa: F401
    CaseContext,
    Fields,
    check_identifier,
    read_markdown,
    read_text,
    suggest,
    suggest_file,
)
from qtiexport.images import ImageFacts, ImageProblem, extension_matches, read_image_facts
from qtiexport.loader import Node, load_yaml, validation_memory
from qtiexport.markdown import Markdown
from qtiexport.model import (
    Case,
    Choice,
    Course,
    Feedback,
    Image,
    Question,
    TeachingSection,
    markdown_mode,
)
from qtiexport.parallel import run_steps, worker_count
from qtiexport.questions import KIND_KEYS, REGISTRY, kind_of, owners_of
from qtiexport.questions import NAMES as KIND_NAMES
from qtiexport.timing import StageTimes
from qtiexport.tracking import SUSPEND_DATA_LIMIT, longest_state

LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")

COURSE_KEYS = (
    "id",
    "title",
    "description",
    "language",
    "version",
    "authors",
    "license",
    "mastery_score",
    "cases",
)
CASE_KEYS = (
    "id",
    "title",
    "history",
    "credit",
    "images",
    "diagnosis",
    "teaching",
    "references",
    "keywords",
    "mastery_score",
)
IMAGE_KEYS = ("id", "file", "series", "caption", "alt", "modality", "annotated", "findings")
SECTION_KEYS = ("title", "body")
# Every question has these; its kind declares the rest (qtiexport.questions).
QUESTION_KEYS = ("id", "type", "stem", "images", *KIND_KEYS, "shuffle", "points", "feedback")
CHOICE_FEEDBACK_KINDS = " or ".join(f"`{kind.name}`" for kind in REGISTRY if kind.choice_feedback)
FEEDBACK_KEYS = ("correct", "incorrect", "explanation", "choices")


def _image(
    found: tuple[str, Path, ImageFacts],
    image_id: str,
    caption: Markdown,
    alt: str,
    where: Location,
    **extra: object,
) -> Image:
    """An image of the model from one checked file."""
    href, path, facts = found
    return Image(
        id=image_id,
        file=path,
        href=href,
        caption=caption,
        alt=alt,
        modality=extra.pop("modality", None),
        media_type=facts.media_type,
        width=facts.width,
        height=facts.height,
        annotated=extra.pop("annotated", None),
        location=where,
        **extra,
    )


def mastery_score(fields: Fields) -> int | None:
    """The pass mark `mastery_score` of course.yaml or case.yaml: a whole number 0–100."""
    if "mastery_score" not in fields.values:
        return None
    mastery = int(fields.number("mastery_score", -1, 0, 100, integer=True))
    return None if mastery < 0 else mastery


def _natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{n}" for n in range(1, 10)]
    + [f"LPT{n}" for n in range(1, 10)]
)
UNPORTABLE_CHARACTERS = re.compile(r'[<>:"|?*\x00-\x1f]')
MAX_NAME = 100  # per path component: short enough for every platform's unzip
MAX_PATH = 200


def portable_path_problem(parts: tuple[str, ...]) -> str | None:
    """Why a path would not unpack on every learner's and teacher's machine, if it would not."""
    if len("/".join(parts)) > MAX_PATH:
        return f"is longer than {MAX_PATH} characters; use a shorter name"
    for part in parts:
        if len(part) > MAX_NAME:
            return f"has a name longer than {MAX_NAME} characters; use a shorter name"
        if UNPORTABLE_CHARACTERS.search(part):
            return (
                'contains a character Windows forbids in names (< > : " | ? * or a '
                "control character)"
            )
        if (problem := windows_name_problem(part, "file")) is not None:
            return problem
    return None


def windows_name_problem(name: str, kind: str) -> str | None:
    """Why Windows would not unpack a file or folder of this name, if it would not."""
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        return f"uses `{name}`, a name Windows reserves; rename the {kind}"
    if name.endswith((".", " ")):
        return f"has a name ending in a dot or space, which Windows drops; rename the {kind}"
    return None


def _exact_case(folder: Path, parts: tuple[str, ...]) -> bool:
    """True when every component is spelt as on disk: an LMS on Linux tells case apart."""
    current = folder
    for part in parts:
        if part not in os.listdir(current):
            return False
        current = current / part
    return True


def duplicate_question_id(qid: str, first_id: str, first: Location) -> str:
    if qid == first_id:
        return (
            f"question id `{qid}` is already used at {first}; "
            "question ids must be unique in their case"
        )
    return (
        f"question id `{qid}` differs only in letter case from `{first_id}` at {first}; "
        "ids name files, so they must differ in more than case"
    )


# Case folders holding this much YAML in all are worth validating in worker processes
# (about 250 questions; forking costs some tens of milliseconds).
PARALLEL_FROM_BYTES = 256 * 1024


def _worth_forking(listed: list[tuple[str, Path]]) -> bool:
    total = 0
    for _, folder in listed:
        for name in ("case.yaml", "questions.yaml"):
            with contextlib.suppress(OSError):
                total += (folder / name).stat().st_size
    return total >= PARALLEL_FROM_BYTES


@dataclass(frozen=True)
class CaseValidation:
    """One case validated on its own: the model, its errors and the seconds spent
    loading and validating."""

    case: Case | None
    diagnostics: list[Diagnostic]
    seconds: dict[str, float]


def validate_case(root: Path, name: str, folder: Path) -> CaseValidation:
    validator = CourseValidator(root, StageTimes())
    with validator.times.stage("validate"):
        case = validator.case(name, folder)
    seconds = validator.times.seconds
    seconds["validate"] -= seconds.get("load", 0.0)  # loading happens inside validation
    return CaseValidation(case, validator.diags.items, seconds)


# validate_case, or a step that gives the same result another way (the build cache's).
CaseStep = Callable[[Path, str, Path], CaseValidation]
# Whether that step has a case's result at hand (name, folder): such cases cost no work.
RecordedCase = Callable[[str, Path], bool]


class CourseValidator:
    def __init__(
        self,
        root: Path,
        times: StageTimes,
        validate_one: CaseStep | None = None,
        recorded: RecordedCase | None = None,
    ):
        self.root = root
        self.times = times
        self.diags = Diagnostics()
        # The question ids of the case being validated (one validator per case), by
        # casefold: unique within their case, free to repeat in other cases.
        self.question_ids: dict[str, tuple[str, Location]] = {}
        self.in_cases = 0.0  # seconds spent waiting for the per-case steps
        self.case_times = StageTimes()  # what the per-case steps report
        self.validate_one = validate_one or validate_case  # the build's cache replaces it
        self.recorded = recorded or (lambda name, folder: False)

    def shown(self, path: Path) -> str:
        return display_path(path)

    def leads_outside(self, path: Path) -> bool:
        """True when `path` exists and its real location is outside the course folder:
        a symbolic link out is refused before anything behind it is read."""
        real = Path(os.path.realpath(path))
        return os.path.lexists(path) and not real.is_relative_to(os.path.realpath(self.root))

    def claim_question_id(self, qid: str, where: Location) -> str | None:
        """Record the first use of `qid` in its case, or say why it cannot be used again
        there. Keyed by casefold: with its case id, each id names a file in both packages
        (qtiexport.identifiers), and `Q1` and `q1` would be one file on Windows, macOS and
        in some importers. Other cases may use the same ids."""
        first = self.question_ids.get(qid.casefold())
        if first is None:
            self.question_ids[qid.casefold()] = (qid, where)
            return None
        return duplicate_question_id(qid, *first)

    def load(self, path: Path) -> Node | None:
        if self.leads_outside(path):  # refused unread: its text must not reach a message
            self.diags.error(
                # Where the link is: its resolved path would name the target.
                Location((PurePosixPath(self.shown(path.parent)) / path.name).as_posix()),
                "the file is a symbolic link that leads outside the course; "
                "copy the file into the course",
            )
            return None
        with self.times.stage("load"):
            node, problems = load_yaml(path, self.shown(path))
        self.diags.extend(problems)
        return node

    # course.yaml -----------------------------------------------------------------
    def course(self) -> Course | None:
        course_file = self.root / "course.yaml"
        if not course_file.is_file():
            self.diags.error(
                Location(self.shown(course_file)),
                "course.yaml not found; a course folder starts with course.yaml",
            )
            return None
        node = self.load(course_file)
        if node is None:
            return None
        fields = Fields(node, "course.yaml", COURSE_KEYS, ("id", "title", "cases"), self.diags)
        course_id = fields.identifier("id")
        title = fields.text("title")
        description = fields.markdown("description", Course)
        language = fields.text("language") or "en"
        if "language" in fields.values and not LANGUAGE.fullmatch(language):
            fields.error(
                "language",
                f"`{language}` is not a BCP 47 language tag such as `en`, `de` or `pt-BR`",
            )
        mastery = mastery_score(fields)
        cases = self.cases(fields)
        if not fields.ok or self.diags or course_id is None or title is None:
            return None
        return Course(
            id=course_id,
            title=title,
            description=description,
            language=language,
            version=fields.text("version"),
            authors=fields.text_list("authors"),
            license=fields.text("license"),
            mastery_score=mastery,
            cases=tuple(cases),
            root=self.root,
            location=node.location,
        )

    def cases(self, fields: Fields) -> list[Case]:
        seen: dict[str, tuple[str, Location]] = {}  # by casefold, as in question ids
        listed: list[tuple[str, Path]] = []
        cases = []
        entries = fields.list_of("cases")
        node = fields.get("cases")
        if node is not None and node.is_list and not entries:
            fields.error("cases", "`cases` is empty; list at least one case folder")
        for entry in entries:
            name = read_text(entry, "an entry of `cases` in course.yaml", self.diags)
            if name is None or not check_identifier(name, entry.location, self.diags):
                continue
            first = seen.get(name.casefold())
            if first is not None:
                first_name, where = first
                self.diags.error(
                    entry.location,
                    f"case `{name}` is listed twice (first at line {where.line})"
                    if first_name == name
                    else f"case `{name}` differs only in letter case from `{first_name}` (line "
                    f"{where.line}); case ids name folders, so they must differ in more than case",
                )
                continue
            seen[name.casefold()] = (name, entry.location)
            # A case id names a folder in the course and in both packages.
            problem = windows_name_problem(name, "case folder and its id")
            if problem is not None:
                self.diags.error(entry.location, f"case `{name}` {problem}")
                continue
            folder = self.root / "cases" / name
            if self.leads_outside(folder):
                self.diags.error(
                    entry.location,
                    f"case folder `{name}` is a symbolic link that leads outside the course; "
                    "move the case folder into the course",
                )
                continue
            if not (folder / "case.yaml").is_file():
                known = sorted(p.name for p in (self.root / "cases").glob("*/") if p.is_dir())
                self.diags.error(
                    entry.location,
                    f"case `{name}` not found: expected "
                    f"{self.shown(folder / 'case.yaml')}{suggest(name, known)}",
                )
                continue
            listed.append((name, folder))
        # Each case validates on its own (in worker processes for a large course), and
        # the results come in here in order. Question ids need be unique only within their
        # case, so nothing about them spans cases.
        started = time.perf_counter()
        for checked in run_steps(
            lambda index: self.validate_one(self.root, *listed[index]),
            len(listed),
            worker_count(
                len(listed),
                # Cases already recorded are read, not validated: forking workers to read
                # them would only send each model through a pipe once more.
                _worth_forking([entry for entry in listed if not self.recorded(*entry)]),
                max((validation_memory(folder) for _, folder in listed), default=0),
            ),
        ):
            self.diags.extend(checked.diagnostics)
            self.case_times.add(checked.seconds)
            if checked.case is not None:
                cases.append(checked.case)
        self.in_cases += time.perf_counter() - started
        return cases

    # case.yaml ---------------------------------------------------------------------
    def case(self, name: str, folder: Path) -> Case | None:
        node = self.load(folder / "case.yaml")
        questions_file = folder / "questions.yaml"
        qnode = None
        if questions_file.is_file():
            qnode = self.load(questions_file)
        else:
            self.diags.error(
                Location(self.shown(questions_file)),
                "questions.yaml not found; every case needs its questions",
            )
        if node is None:
            return None
        fields = Fields(node, "case.yaml", CASE_KEYS, ("id", "title", "history"), self.diags)
        case_id = fields.identifier("id")
        if case_id is not None and case_id != name:
            fields.error(
                "id",
                f"case id `{case_id}` does not match its folder `{name}`; "
                "use the folder name as the id",
            )
        images, declared = self.images(fields, folder)
        teaching = []
        for section in fields.list_of("teaching"):
            sf = Fields(section, "a teaching section", SECTION_KEYS, ("title", "body"), self.diags)
            title, body = sf.text("title"), sf.markdown("body", TeachingSection)
            if title is not None and body is not None:
                teaching.append(TeachingSection(title, body, section.location))
        valid = {i.id: i for i in images}
        context = CaseContext(name, valid, frozenset(declared))
        questions = self.questions(qnode, context) if qnode else []
        case = Case(
            id=case_id or name,
            title=fields.text("title") or "",
            history=fields.markdown("history", Case) or Markdown("", Markup("")),
            images=tuple(images),
            diagnosis=fields.markdown("diagnosis", Case),
            teaching=tuple(teaching),
            references=fields.markdown_list("references", Case),
            keywords=fields.text_list("keywords"),
            questions=tuple(questions),
            folder=folder,
            location=node.location,
            credit=fields.markdown("credit", Case),
            mastery_score=mastery_score(fields),
        )
        if qnode is not None and not questions and qnode.is_map and "questions" in qnode.value:
            self.diags.error(qnode.location, "the case has no questions; add at least one")
        size = longest_state(case)
        if size > SUSPEND_DATA_LIMIT and qnode is not None:
            self.diags.error(
                qnode.location,
                f"a learner's saved state for this case can reach "
                f"{size} characters, over SCORM 1.2's limit of {SUSPEND_DATA_LIMIT} "
                "for cmi.suspend_data; split the case or lower `max_length` of its "
                "text questions",
            )
        return case

    def images(self, fields: Fields, folder: Path) -> tuple[list[Image], set[str]]:
        images: list[Image] = []
        seen: dict[str, Location] = {}
        hrefs: dict[str, tuple[str, Location]] = {}
        for entry in fields.list_of("images"):
            f = Fields(entry, "an image", IMAGE_KEYS, ("id", "caption", "alt"), self.diags)
            if not f.ok:
                continue
            image_id = f.identifier("id")
            if image_id is not None:
                if image_id in seen:
                    f.error(
                        "id",
                        f"image id `{image_id}` is already used at line "
                        f"{seen[image_id].line}; give each image its own id",
                    )
                seen[image_id] = f.where("id")
            files = self.image_files(f, folder)
            annotated = None
            if "annotated" in f.values:
                if "series" in f.values:
                    f.error(
                        "annotated",
                        "`annotated` goes with a single `file`, not a `series`; "
                        "give the annotated slice its own image entry",
                    )
                else:
                    annotated = self.image_file(f.text("annotated"), f.where("annotated"), folder)
            for found, where in [*files, (annotated, f.where("annotated"))]:
                if found is None:
                    continue
                other = hrefs.setdefault(found[0].casefold(), (found[0], where))
                if other[0] != found[0]:
                    self.diags.error(
                        where,
                        f"image path `{found[0]}` differs from `{other[0]}` (line "
                        f"{other[1].line}) only in letter case; Windows and macOS would "
                        "unpack them as one file, so rename one",
                    )
            caption, alt = f.markdown("caption", Image), f.text("alt")
            findings = f.markdown("findings", Image)
            if (
                image_id is None
                or not files
                or any(found is None for found, _ in files)
                or caption is None
                or alt is None
            ):
                continue

            series: tuple[Image, ...] = ()
            if "series" in f.values:
                count = len(files)
                series = tuple(
                    _image(
                        found,
                        f"{image_id}-slice-{n}",
                        caption,
                        f"{alt} (slice {n} of {count})",
                        where,
                    )
                    for n, (found, where) in enumerate(files, start=1)
                )
            annotated_image = None
            if annotated is not None:
                annotated_image = _image(
                    annotated,
                    f"{image_id}-annotated",
                    caption,
                    f"{alt} (annotated)",
                    f.where("annotated"),
                )
            images.append(
                _image(
                    files[0][0],
                    image_id,
                    caption,
                    alt,
                    entry.location,
                    modality=f.text("modality"),
                    annotated=annotated_image,
                    series=series,
                    findings=findings,
                )
            )
        return images, set(seen)

    def image_files(self, f: Fields, folder: Path) -> list[tuple[object, Location]]:
        """The files of an image entry: its `file`, or the slices its `series` lists (a
        list of paths, or one path with `*` that names them all, in natural order)."""
        if "file" in f.values and "series" in f.values:
            f.error(
                "series",
                "an image takes either `file` (one image) or `series` (the slices of one "
                "sequence), not both",
            )
            return []
        if "file" in f.values:
            return [(self.image_file(f.text("file"), f.where("file"), folder), f.where("file"))]
        node = f.get("series")
        if node is None:
            if f.ok:
                self.diags.error(
                    f.node.location,
                    f"{f.what} needs `file` (one image) or `series` (the slices of one "
                    "sequence, in order)",
                )
            return []
        if node.is_scalar and isinstance(node.value, str) and "*" in node.value:
            pattern = read_text(node, f"`series` of {f.what}", self.diags)
            paths = self.series_pattern(pattern, node.location, folder) if pattern else []
            return [(self.image_file(path, node.location, folder), node.location) for path in paths]
        items = f.list_of("series")
        if node.is_list and len(items) < 2:
            self.diags.error(
                node.location,
                f"`series` of {f.what} lists {len(items)} file{'s' if len(items) != 1 else ''}; "
                "a series has at least 2 slices (use `file` for one image)",
            )
            return []
        files = []
        for item in items:
            path = read_text(item, f"an entry of `series` in {f.what}", self.diags)
            found = self.image_file(path, item.location, folder) if path is not None else None
            files.append((found, item.location))
        return files

    def series_pattern(self, pattern: str, where: Location, folder: Path) -> list[str]:
        """The files one `*` pattern names inside the case folder, in natural order
        (slice2 before slice10)."""
        parts = PurePosixPath(pattern).parts
        if pattern.startswith("/") or ".." in parts or "\\" in pattern or "**" in pattern:
            self.diags.error(
                where,
                f"series pattern `{pattern}` must stay inside the case folder: a relative "
                "path such as `images/t2/*.png`, without `..` or `**`",
            )
            return []
        matches = [
            p.relative_to(folder).as_posix()
            for p in folder.glob(pattern)
            if p.is_file() or p.is_symlink()
        ]
        matches.sort(key=_natural_key)
        if len(matches) < 2:
            self.diags.error(
                where,
                f"series pattern `{pattern}` names {len(matches)} file"
                f"{'s' if len(matches) != 1 else ''} in {self.shown(folder)}; a series has "
                "at least 2 slices",
            )
            return []
        return matches

    def image_file(self, value: str | None, where: Location, folder: Path):
        if value is None:
            return None
        if "\\" in value:
            self.diags.error(where, f"image path `{value}` uses `\\`; write paths with `/`")
            return None
        if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
            self.diags.error(
                where,
                f"image path `{value}` is absolute; give it relative to the "
                "case folder, such as `images/xray.png`",
            )
            return None
        parts = PurePosixPath(value).parts
        if ".." in parts:
            self.diags.error(
                where,
                f"image path `{value}` leaves the case folder through `..`;"
                " keep images inside the case folder",
            )
            return None
        problem = portable_path_problem(parts)
        if problem:
            self.diags.error(where, f"image path `{value[:80]}` {problem}")
            return None
        path = folder.joinpath(*parts)
        try:
            real = path.resolve(strict=True)
            if not _exact_case(folder, parts):
                raise FileNotFoundError(value)
        except (OSError, RuntimeError):
            near = [
                p.relative_to(folder).as_posix()
                for p in sorted(folder.rglob("*"))
                if p.is_file() and p.suffix.lower() != ".yaml"
            ]
            self.diags.error(
                where,
                f"image file `{value}` not found in {self.shown(folder)}"
                f"{suggest_file(value, near)}",
            )
            return None
        if not real.is_relative_to(folder.resolve()):
            self.diags.error(
                where,
                f"image path `{value}` is a symbolic link that leads outside "
                "the case folder; copy the image into the case folder",
            )
            return None
        if not real.is_file():
            self.diags.error(where, f"image path `{value}` is not a file")
            return None
        try:
            facts = read_image_facts(real)
        except ImageProblem as problem:
            self.diags.error(where, f"image `{value}`: {problem}")
            return None
        if not extension_matches(path, facts.media_type):
            kind = facts.media_type.split("/")[1].split("+")[0].upper()
            self.diags.error(
                where,
                f"image `{value}` holds a {kind} image but its name says "
                f"otherwise; rename it to end in .{kind.lower()}",
            )
            return None
        return PurePosixPath(*parts).as_posix(), real, facts

    # questions.yaml ------------------------------------------------------------------
    def questions(self, node: Node, context: CaseContext) -> list[Question]:
        fields = Fields(node, "questions.yaml", ("questions",), ("questions",), self.diags)
        questions = []
        for entry in fields.list_of("questions"):
            question = self.question(entry, context)
            if question is not None:
                questions.append(question)
        return questions

    def question(self, node: Node, context: CaseContext) -> Question | None:
        f = Fields(node, "a question", QUESTION_KEYS, ("id", "type", "stem"), self.diags)
        if not f.ok:
            return None
        f.case = context
        images, declared = context.images, context.declared
        qid = f.identifier("id")
        what = f.what
        if qid is not None and (problem := self.claim_question_id(qid, f.where("id"))):
            f.error("id", problem)
        qtype = f.text("type")
        kind = None
        if qtype is not None and qtype not in KIND_NAMES:
            f.error(
                "type",
                f"unknown question type `{qtype}`{suggest(qtype, KIND_NAMES)}"
                f" (types: {', '.join(KIND_NAMES)})",
            )
        elif qtype is not None:
            kind = kind_of(qtype)
        stem = f.markdown("stem", Question)
        shown_images = []
        for ref in f.list_of("images"):
            ref_id = read_text(ref, f"an entry of `images` in {what}", self.diags)
            if ref_id is None:
                continue
            if ref_id in declared and ref_id not in images:
                continue  # the image itself has an error, reported where it is defined
            if ref_id not in images:
                defined = ", ".join(sorted(declared)) or "none"
                self.diags.error(
                    ref.location,
                    f"{what} shows image `{ref_id}`, which case.yaml "
                    f"does not define (defined: {defined})"
                    f"{suggest(ref_id, list(images))}",
                )
            else:
                shown_images.append(images[ref_id])
        points = f.number("points", 1, 0.001, 1000)
        shuffle = f.boolean("shuffle", False)
        answer = None
        if kind is not None:
            f.require(*kind.required)
            own = {key.name for key in kind.keys}
            for key in f.values:
                if key in KIND_KEYS and key not in own:
                    f.error(key, kind.foreign_key(key, owners_of(key)))
            answer = kind.read(f)
        choices = answer.choices if answer is not None and kind.choice_feedback else ()
        feedback, per_choice = self.feedback(f, what, choices)
        if qid is None or kind is None or stem is None or answer is None:
            return None
        if not kind.complete(answer):
            return None
        return Question(
            id=qid,
            type=kind.name,
            stem=stem,
            images=tuple(shown_images),
            choices=tuple(
                Choice(c.key, c.text, c.fixed, per_choice.get(c.key), c.location)
                for c in answer.choices
            ),
            correct=answer.correct,
            shuffle=shuffle,
            points=points,
            scoring=answer.scoring,
            max_length=answer.max_length,
            feedback=feedback,
            location=node.location,
            details=answer.details,
        )

    def feedback(
        self, f: Fields, what: str, choices: tuple[Choice, ...]
    ) -> tuple[Feedback, dict[str, Markdown]]:
        node = f.get("feedback")
        if node is None:
            return Feedback(None, None, None), {}
        ff = Fields(node, f"`feedback` of {what}", FEEDBACK_KEYS, (), self.diags)
        per_choice: dict[str, Markdown] = {}
        choice_node = ff.get("choices")
        if choice_node is not None:
            keys = [c.key for c in choices]
            if not choices:
                self.diags.error(
                    choice_node.location,
                    f"per-choice feedback needs a {CHOICE_FEEDBACK_KINDS} question; "
                    f"{what} has no choices",
                )
            elif not choice_node.is_map:
                self.diags.error(
                    choice_node.location,
                    "`choices` of feedback must be a mapping of choice letters to texts",
                )
            else:
                for key, value in choice_node.value.items():
                    text = read_markdown(
                        value,
                        f"feedback for choice `{key}`",
                        self.diags,
                        markdown_mode(Choice, "feedback"),
                    )
                    if key not in keys:
                        self.diags.error(
                            choice_node.key_locations[key],
                            f"feedback for choice `{key}`, but {what} has no choice "
                            f"`{key}`; its choices are {', '.join(keys)}",
                        )
                    elif text is not None:
                        per_choice[key] = text
        feedback = Feedback(
            ff.markdown("correct", Feedback),
            ff.markdown("incorrect", Feedback),
            ff.markdown("explanation", Feedback),
        )
        return feedback, per_choice


def validate_course(
    root: Path,
    times: StageTimes | None = None,
    validate_one: CaseStep | None = None,
    recorded: RecordedCase | None = None,
) -> Course:
    """Load and check a course folder; raise ContentError with every problem found.

    `times` gets the seconds spent loading YAML ("load") and checking it ("validate").
    """
    times = times if times is not None else StageTimes()
    validator = CourseValidator(root, StageTimes(), validate_one, recorded)
    with validator.times.stage("validate"):
        course = validator.course()
    # The "validate" stage holds this process's loading and the case steps' time;
    # report loading apart, and the cases' own figures (summed over the workers).
    own = validator.times.seconds
    load = own.get("load", 0.0)
    times.add({"load": load, "validate": own["validate"] - load - validator.in_cases})
    times.add(validator.case_times.seconds)
    if validator.diags or course is None:
        raise ContentError(validator.diags.items)
    return course

"""Stage 2: check the loaded YAML against every rule and build the typed model.

Every problem is collected, never raised one at a time, so an author sees all of them
in one run. Nothing here writes a file.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from markupsafe import Markup

from qtiexport.diagnostics import (
    ContentError,
    Diagnostic,
    Diagnostics,
    Location,
    describe_forbidden,
    display_path,
)
from qtiexport.images import ImageFacts, ImageProblem, extension_matches, read_image_facts
from qtiexport.loader import Node, load_yaml, validation_memory
from qtiexport.markdown import Markdown, MarkdownMode, render_markdown
from qtiexport.model import (
    QUESTION_TYPES,
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
from qtiexport.timing import StageTimes
from qtiexport.tracking import SUSPEND_DATA_LIMIT, longest_state

# Matched whole (fullmatch): `$` would let a final line break through.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
MAX_IDENTIFIER = 255
CHOICE_KEY = re.compile(r"[a-z]")
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
MAX_CHOICES = 26
DEFAULT_MAX_LENGTH = 100
MAX_TEXT_LENGTH = 255  # SCORM 1.2 caps a fill-in student_response at 255 characters

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
CASE_KEYS = ("id", "title", "history", "images", "diagnosis", "teaching", "references", "keywords")
IMAGE_KEYS = ("id", "file", "series", "caption", "alt", "modality", "annotated", "findings")
SECTION_KEYS = ("title", "body")
QUESTION_KEYS = (
    "id",
    "type",
    "stem",
    "images",
    "choices",
    "answer",
    "shuffle",
    "points",
    "scoring",
    "max_length",
    "feedback",
)
CHOICE_KEYS = ("text", "fixed")
FEEDBACK_KEYS = ("correct", "incorrect", "explanation", "choices")
SCORINGS = ("all_or_nothing", "partial")


def _suggest(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _kind(node: Node) -> str:
    if node.is_map:
        return "a mapping"
    if node.is_list:
        return "a list"
    if node.value is None:
        return "nothing"
    if isinstance(node.value, bool):
        return f"`{node.raw}` (true/false)"
    if isinstance(node.value, (int, float)):
        return f"the number `{node.raw}`"
    text = str(node.value)
    return f"the text `{text}`" if len(text) <= 40 and "\n" not in text else "text"


class Fields:
    """The keys of one YAML mapping, read with the checks every field needs."""

    def __init__(
        self,
        node: Node,
        what: str,
        known: tuple[str, ...],
        required: tuple[str, ...],
        diags: Diagnostics,
    ):
        self.node = node
        self.diags = diags
        self.ok = node.is_map
        self.values: dict[str, Node] = node.value if node.is_map else {}
        # Name the thing by its id when it has one: "question `q2`", not "a question".
        own_id = self.values.get("id")
        generic = what.startswith(("a ", "an "))
        if generic and own_id is not None and isinstance(own_id.value, str):
            what = f"{what.removeprefix('a ').removeprefix('an ')} `{own_id.value[:60]}`"
        self.what = what
        if not self.ok:
            diags.error(
                node.location, f"{what} must be a mapping of `key: value` lines, not {_kind(node)}"
            )
            return
        misspelt = set()
        for key, where in node.key_locations.items():
            if key not in known:
                close = _suggest(key, known)
                misspelt.update(k for k in required if close.endswith(f"`{k}`?"))
                hint = close or f" (allowed: {', '.join(known)})"
                diags.error(where, f"unknown key `{key}` in {what}{hint}")
        for key in required:
            # A misspelt key is one mistake; "did you mean" already names the missing key.
            if key not in self.values and key not in misspelt:
                diags.error(node.location, f"{what} is missing the required key `{key}`")

    def error(self, key: str, message: str) -> None:
        self.diags.error(self.where(key), message)

    def where(self, key: str) -> Location:
        node = self.values.get(key)
        return node.location if node is not None else self.node.location

    def get(self, key: str) -> Node | None:
        return self.values.get(key)

    def text(self, key: str) -> str | None:
        node = self.values.get(key)
        if node is None:
            return None
        return read_text(node, f"`{key}` of {self.what}", self.diags)

    def markdown(self, key: str, owner: type) -> Markdown | None:
        """The Markdown field `key`, rendered in the mode `owner` declares for it."""
        node = self.values.get(key)
        if node is None:
            return None
        what = f"`{key}` of {self.what}"
        return read_markdown(node, what, self.diags, markdown_mode(owner, key))

    def identifier(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not check_identifier(value, self.where(key), self.diags):
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool:
        node = self.values.get(key)
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.diags.error(
                node.location, f"`{key}` of {self.what} must be true or false, not {_kind(node)}"
            )
            return default
        return node.value

    def number(
        self, key: str, default: float, low: float, high: float, integer: bool = False
    ) -> float:
        node = self.values.get(key)
        if node is None:
            return default
        value = node.value
        kind = "a whole number" if integer else "a number"
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (integer and not isinstance(value, int))
        ):
            self.diags.error(
                node.location, f"`{key}` of {self.what} must be {kind}, not {_kind(node)}"
            )
            return default
        if not low <= value <= high or value != value:
            self.diags.error(
                node.location,
                f"`{key}` of {self.what} is {node.raw}; it must be between {low:g} and {high:g}",
            )
            return default
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        """A list of texts; a single text stands for a list of one."""
        node = self.values.get(key)
        if node is None:
            return ()
        if node.is_scalar and node.value is not None:
            value = read_text(node, f"`{key}` of {self.what}", self.diags)
            return (value,) if value is not None else ()
        if not node.is_list:
            self.diags.error(
                node.location, f"`{key}` of {self.what} must be a list, not {_kind(node)}"
            )
            return ()
        values = []
        for item in node.value:
            value = read_text(item, f"an entry of `{key}` in {self.what}", self.diags)
            if value is not None:
                values.append(value)
        return tuple(values)

    def markdown_list(self, key: str, owner: type) -> tuple[Markdown, ...]:
        """A list of Markdown texts, each rendered in the mode `owner` declares for `key`;
        a single text stands for a list of one."""
        node = self.values.get(key)
        if node is None:
            return ()
        mode = markdown_mode(owner, key)
        if node.is_scalar and node.value is not None:
            value = read_markdown(node, f"`{key}` of {self.what}", self.diags, mode)
            return (value,) if value is not None else ()
        values = []
        for item in self.list_of(key):
            value = read_markdown(item, f"an entry of `{key}` in {self.what}", self.diags, mode)
            if value is not None:
                values.append(value)
        return tuple(values)

    def list_of(self, key: str) -> list[Node]:
        node = self.values.get(key)
        if node is None:
            return []
        if not node.is_list:
            self.diags.error(
                node.location, f"`{key}` of {self.what} must be a list, not {_kind(node)}"
            )
            return []
        return node.value


def read_text(node: Node, what: str, diags: Diagnostics) -> str | None:
    if not node.is_scalar:
        diags.error(node.location, f"{what} must be text, not {_kind(node)}")
        return None
    if node.value is None:
        diags.error(node.location, f"{what} has no value; write the text after the colon")
        return None
    # A title `yes` or a version `1.0` is what the author typed, not a boolean or number.
    value = node.value if isinstance(node.value, str) else node.raw or ""
    if not value.strip():
        diags.error(node.location, f"{what} is empty; write the text or remove the key")
        return None
    if (found := FORBIDDEN_CHARACTER.search(value)) is not None:
        diags.error(_character_location(node, value, found.start()), _forbidden(what, found[0]))
        # Checks go on without the characters, so one mistake gives one error; nothing
        # is rendered or written after an error.
        value = FORBIDDEN_CHARACTER.sub("", value)
    return value


def read_markdown(node: Node, what: str, diags: Diagnostics, mode: MarkdownMode) -> Markdown | None:
    """A Markdown text, rendered once in the mode it is shown in and checked against the
    HTML policy; the model keeps that rendering for every package."""
    value = read_text(node, what, diags)
    if value is None:
        return None
    html, problems = render_markdown(value, mode)
    for problem in problems:
        line = node.location.line + problem.line + (1 if _is_block(node) else 0)
        if node.style == '"':
            # A `\n` escape is a line of the text but not of the file: name the start.
            line = node.location.line
        diags.error(
            Location(node.location.path, line, node.location.col), f"{what}: {problem.message}"
        )
    return Markdown(value, html)


# Never in author text: C0 controls but tab and line feed, DEL, C1 controls (lxml refuses
# the C0 ones; ESC and CSI drive terminals), bidirectional overrides and isolates, which
# make text read differently from what it is, and the Unicode line and paragraph
# separators, which JavaScript and many tools read as line breaks.
FORBIDDEN_CHARACTER = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def _forbidden(what: str, character: str) -> str:
    return f"{what} contains {describe_forbidden(character)}; remove it"


def _character_location(node: Node, value: str, offset: int) -> Location:
    """Where a character of a scalar's text is: exact on one-line values, the line of a
    block scalar's text otherwise (quoted escapes make columns approximate)."""
    where = node.location
    lines_before = value.count("\n", 0, offset)
    if _is_block(node):
        return Location(where.path, where.line + 1 + lines_before, where.col)
    if lines_before == 0 and node.style is None:
        return Location(where.path, where.line, where.col + offset)
    return where


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


def _natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", name)]


def _is_block(node: Node) -> bool:
    # A block scalar's text starts on the line after its `|` or `>`.
    return node.style in ("|", ">")


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


def check_identifier(value: str, where: Location, diags: Diagnostics) -> bool:
    if len(value) > MAX_IDENTIFIER:
        diags.error(
            where,
            f"identifier `{value[:40]}…` is {len(value)} characters long; "
            f"the standards allow at most {MAX_IDENTIFIER}",
        )
        return False
    if not IDENTIFIER.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "…"
        # A line break or tab in an id would otherwise print as a space.
        shown = shown.translate({10: "\\n", 13: "\\r", 9: "\\t"})
        diags.error(
            where,
            f"`{shown}` is not a valid identifier: it must start with a letter "
            "or `_` and contain only letters, digits, `_`, `-` and `.`",
        )
        return False
    return True


def duplicate_question_id(qid: str, first_id: str, first: Location) -> str:
    if qid == first_id:
        return (
            f"question id `{qid}` is already used at {first}; "
            "question ids must be unique in the course"
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
    """One case validated on its own: the model, its errors, the question ids it
    declares (by casefold, first use) and the seconds spent loading and validating."""

    case: Case | None
    diagnostics: list[Diagnostic]
    question_ids: dict[str, tuple[str, Location]]
    seconds: dict[str, float]


def validate_case(root: Path, name: str, folder: Path) -> CaseValidation:
    validator = CourseValidator(root, StageTimes())
    with validator.times.stage("validate"):
        case = validator.case(name, folder)
    seconds = validator.times.seconds
    seconds["validate"] -= seconds.get("load", 0.0)  # loading happens inside validation
    return CaseValidation(case, validator.diags.items, validator.question_ids, seconds)


class CourseValidator:
    def __init__(self, root: Path, times: StageTimes):
        self.root = root
        self.times = times
        self.diags = Diagnostics()
        self.question_ids: dict[str, tuple[str, Location]] = {}  # by casefold
        self.in_cases = 0.0  # seconds spent waiting for the per-case steps
        self.case_times = StageTimes()  # what the per-case steps report

    def shown(self, path: Path) -> str:
        return display_path(path)

    def leads_outside(self, path: Path) -> bool:
        """True when `path` exists and its real location is outside the course folder:
        a symbolic link out is refused before anything behind it is read."""
        real = Path(os.path.realpath(path))
        return os.path.lexists(path) and not real.is_relative_to(os.path.realpath(self.root))

    def claim_question_id(self, qid: str, where: Location) -> str | None:
        """Record the first use of `qid`, or say why it cannot be used again. Keyed by
        casefold: each id names a file in both packages, and `Q1` and `q1` would be one
        file on Windows, macOS and in some importers."""
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
        mastery = None
        if "mastery_score" in fields.values:
            mastery = int(fields.number("mastery_score", -1, 0, 100, integer=True))
            mastery = None if mastery < 0 else mastery
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
                    f"{self.shown(folder / 'case.yaml')}{_suggest(name, known)}",
                )
                continue
            listed.append((name, folder))
        # Each case validates on its own (in worker processes for a large course); what
        # spans cases, unique question ids, is checked here as the results come in order.
        started = time.perf_counter()
        for checked in run_steps(
            lambda index: validate_case(self.root, *listed[index]),
            len(listed),
            worker_count(
                len(listed),
                _worth_forking(listed),
                max((validation_memory(folder) for _, folder in listed), default=0),
            ),
        ):
            self.diags.extend(checked.diagnostics)
            for qid, where in checked.question_ids.values():
                if (problem := self.claim_question_id(qid, where)) is not None:
                    self.diags.error(where, problem)
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
        questions = self.questions(qnode, valid, declared) if qnode else []
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
                f"image file `{value}` not found in {self.shown(folder)}{_suggest(value, near)}",
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
    def questions(self, node: Node, images: dict[str, Image], declared: set[str]) -> list[Question]:
        fields = Fields(node, "questions.yaml", ("questions",), ("questions",), self.diags)
        questions = []
        for entry in fields.list_of("questions"):
            question = self.question(entry, images, declared)
            if question is not None:
                questions.append(question)
        return questions

    def question(self, node: Node, images: dict[str, Image], declared: set[str]) -> Question | None:
        f = Fields(node, "a question", QUESTION_KEYS, ("id", "type", "stem", "answer"), self.diags)
        if not f.ok:
            return None
        qid = f.identifier("id")
        what = f.what
        if qid is not None and (problem := self.claim_question_id(qid, f.where("id"))):
            f.error("id", problem)
        qtype = f.text("type")
        if qtype is not None and qtype not in QUESTION_TYPES:
            f.error(
                "type",
                f"unknown question type `{qtype}`{_suggest(qtype, QUESTION_TYPES)}"
                f" (types: {', '.join(QUESTION_TYPES)})",
            )
            qtype = None
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
                    f"{_suggest(ref_id, list(images))}",
                )
            else:
                shown_images.append(images[ref_id])
        points = f.number("points", 1, 0.001, 1000)
        shuffle = f.boolean("shuffle", False)
        scoring = f.text("scoring") or "all_or_nothing"
        if scoring not in SCORINGS:
            f.error("scoring", f"unknown scoring `{scoring}`; use `all_or_nothing` or `partial`")
        elif "scoring" in f.values and qtype != "multiple":
            f.error("scoring", "`scoring` applies only to `multiple` questions")
        max_length = int(
            f.number("max_length", DEFAULT_MAX_LENGTH, 1, MAX_TEXT_LENGTH, integer=True)
        )
        if "max_length" in f.values and qtype not in (None, "text"):
            f.error("max_length", "`max_length` applies only to `text` questions")
        choices: tuple[Choice, ...] = ()
        correct: tuple[str, ...] = ()
        if qtype in ("single", "multiple"):
            choices = self.choices(f, what)
            correct = self.choice_answer(f, what, qtype, choices)
        elif qtype == "true_false":
            if "choices" in f.values:
                f.error(
                    "choices",
                    "a `true_false` question has no `choices`; its answer is true or false",
                )
            choices = (
                Choice("true", Markdown("True", Markup("True")), True, None, node.location),
                Choice("false", Markdown("False", Markup("False")), True, None, node.location),
            )
            answer = f.get("answer")
            if answer is not None:
                if isinstance(answer.value, bool):
                    correct = ("true" if answer.value else "false",)
                else:
                    self.diags.error(
                        answer.location,
                        f"the answer of {what} must be true or false, not {_kind(answer)}",
                    )
        elif qtype == "text":
            if "choices" in f.values:
                f.error(
                    "choices",
                    "a `text` question has no `choices`; list the accepted answers under `answer`",
                )
            correct = f.text_list("answer")
            for accepted in correct:
                if len(accepted) > max_length:
                    f.error(
                        "answer",
                        f"accepted answer `{accepted[:30]}` is longer than "
                        f"`max_length` ({max_length})",
                    )
            lowered = [a.casefold() for a in correct]
            if len(set(lowered)) != len(lowered):
                f.error(
                    "answer",
                    "two accepted answers differ only in letter case; answers "
                    "are compared without case, so keep one",
                )
        feedback = self.feedback(f, what, choices if qtype in ("single", "multiple") else ())
        if (
            qid is None
            or qtype is None
            or stem is None
            or not correct
            or (qtype in ("single", "multiple") and not choices)
        ):
            return None
        choices = tuple(
            Choice(c.key, c.text, c.fixed, feedback[1].get(c.key), c.location) for c in choices
        )
        return Question(
            id=qid,
            type=qtype,
            stem=stem,
            images=tuple(shown_images),
            choices=choices,
            correct=correct,
            shuffle=shuffle,
            points=points,
            scoring=scoring if scoring in SCORINGS else "all_or_nothing",
            max_length=max_length,
            feedback=feedback[0],
            location=node.location,
        )

    def choices(self, f: Fields, what: str) -> tuple[Choice, ...]:
        node = f.get("choices")
        if node is None:
            f.error("type", f"{what} needs `choices` (a: …, b: …)")
            return ()
        if not node.is_map:
            self.diags.error(
                node.location,
                f"`choices` of {what} must be a mapping of letters "
                f"to texts (a: …, b: …), not {_kind(node)}",
            )
            return ()
        count = len(node.value)
        if count < 2 or count > MAX_CHOICES:
            self.diags.error(
                node.location,
                f"{what} has {count} choice"
                f"{'s' if count != 1 else ''}; give between 2 and {MAX_CHOICES} "
                "(SCORM 1.2 reports a choice as one letter a–z)",
            )
            return ()
        choices = []
        texts: dict[str, str] = {}
        for key, value in node.value.items():
            where = node.key_locations[key]
            if not CHOICE_KEY.fullmatch(key):
                self.diags.error(where, f"choice key `{key}` must be one lowercase letter a–z")
                continue
            fixed = False
            if value.is_map:
                cf = Fields(value, f"choice `{key}` of {what}", CHOICE_KEYS, ("text",), self.diags)
                text = cf.markdown("text", Choice)
                fixed = cf.boolean("fixed", False)
            else:
                text = read_markdown(
                    value, f"choice `{key}` of {what}", self.diags, markdown_mode(Choice, "text")
                )
            if text is None:
                continue
            norm = " ".join(text.source.casefold().split())
            if norm in texts:
                self.diags.error(
                    value.location,
                    f"choices `{texts[norm]}` and `{key}` of {what} "
                    "have the same text; make each choice different",
                )
            texts[norm] = key
            choices.append(Choice(key, text, fixed, None, value.location))
        return tuple(choices)

    def choice_answer(
        self, f: Fields, what: str, qtype: str, choices: tuple[Choice, ...]
    ) -> tuple[str, ...]:
        node = f.get("answer")
        if node is None:
            return ()
        keys = [c.key for c in choices]
        if qtype == "single" and node.is_list:
            self.diags.error(
                node.location,
                f"{what} is `single` and takes one key as its answer;"
                " use type `multiple` for several correct choices",
            )
            return ()
        items = node.value if node.is_list else [node]
        if qtype == "multiple" and not items:
            self.diags.error(
                node.location,
                f"{what} is `multiple` and needs at least one correct choice in `answer`",
            )
            return ()
        answer: list[str] = []
        for item in items:
            key = read_text(item, f"the answer of {what}", self.diags)
            if key is None:
                continue
            if key in answer:
                self.diags.error(item.location, f"the answer of {what} names `{key}` twice")
            elif choices and key not in keys:
                self.diags.error(
                    item.location,
                    f"the answer `{key}` of {what} names no choice; "
                    f"its choices are {', '.join(keys)}",
                )
            else:
                answer.append(key)
        return tuple(answer) if len(answer) == len(items) else ()

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
                    f"per-choice feedback needs a `single` or "
                    f"`multiple` question; {what} has no choices",
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


def validate_course(root: Path, times: StageTimes | None = None) -> Course:
    """Load and check a course folder; raise ContentError with every problem found.

    `times` gets the seconds spent loading YAML ("load") and checking it ("validate").
    """
    times = times if times is not None else StageTimes()
    validator = CourseValidator(root, StageTimes())
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

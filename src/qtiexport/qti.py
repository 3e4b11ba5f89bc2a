"""Stage 3 (QTI): render the course as a QTI 2.1 content package.

Python decides everything here (identifiers, scores, feedback, file paths); the
templates in `templates/qti/` only lay the decisions out as XML. Author text reaches
the templates either as plain strings, which Jinja escapes, or as the XHTML that
validation rendered from Markdown and checked against the HTML policy (`Markdown.html`),
the only values marked safe.

Layout of the package: every document sits at the root, so that every reference in it
is a plain relative path without `..`, whether an importer resolves it against the
document (as the standard says) or against the package root (as some do):

    imsmanifest.xml
    test-<case-id>.xml
    item-<case-id>.<question-id>.xml       (qtiexport.identifiers.question_key)
    media/<case-id>/<image path in the case folder>

Canvas, for one, looks an image up by the `src` written in the item, matched against
the end of the paths the manifest lists, without resolving `..`: an item in a
sub-folder that reached its images through `../` would show them broken there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from markupsafe import Markup

from qtiexport import __version__
from qtiexport.identifiers import question_identifier, shortened
from qtiexport.model import Case, Course, Image, Question
from qtiexport.package import PackageEntry
from qtiexport.questions import kind_of
from qtiexport.questions.base import ResponseView, number
from qtiexport.questions.text import answer_pattern  # noqa: F401 (tests read it here)
from qtiexport.templating import render_template

MANIFEST_NAME = "imsmanifest.xml"
MEDIA_FOLDER = "media"
# Values of the FEEDBACK outcome, which are also the identifiers of the modalFeedback.
# Canvas's importer sorts modal feedback by identifier: one containing "incorrect" becomes
# its incorrect comment, then one containing "correct" or ending in "_c" its correct
# comment, then one containing "general_" its general comment (shown after any answer);
# it drops the rest. Per-choice identifiers therefore use a hyphen: `choice_c` would
# end in "_c" and overwrite the correct comment.
CORRECT = "correct"
INCORRECT = "incorrect"
GENERAL = "general_feedback"  # the explanation and, after a case's last item, its teaching
# A file name component stays within what every unzip tool and file system takes (the
# validator holds image names to the same bound); longer identifiers are shortened.
MAX_FILE_NAME = 100


# The characters `quote` never encodes with the `safe` below: a path of only these is its
# own URL, as most are (a manifest of 5,000 items quotes some 46,000 paths).
_OWN_URL = re.compile(r"[A-Za-z0-9/\-._~]*")


def url(path: str) -> str:
    """A package path as a relative URL for `href` and `src`: spaces, `#`, `%`, `+` and
    non-ASCII letters in image names are percent-encoded (importers decode them)."""
    if _OWN_URL.fullmatch(path):
        return path
    return quote(path, safe="/-._~")


def file_name(name: str, suffix: str = "") -> str:
    """`name + suffix`, or, when that is too long for a file name, the start of `name`
    and a digest of the whole (the same name always gives the same result)."""
    return shortened(name, MAX_FILE_NAME - len(suffix)) + suffix


def item_resource_identifier(case: Case, question: Question) -> str:
    """The manifest resource of a question's item."""
    return f"item-{question_identifier(case, question)}"


def item_href(case: Case, question: Question) -> str:
    return file_name(item_resource_identifier(case, question), ".xml")


def assessment_test_href(case: Case) -> str:
    return file_name(f"test-{case.id}", ".xml")


def media_href(case: Case, image: Image) -> str:
    """Where an image file lives in the package (the SCORM package keeps it there too)."""
    return f"{MEDIA_FOLDER}/{file_name(case.id)}/{image.href}"


def case_images(case: Case) -> list[Image]:
    """Every image file of a case, each file once: each image, the slices of a series
    (its own file is the first), and annotated versions."""
    files: dict[str, Image] = {}
    for image in case.images:
        for shown in (image, *image.series, image.annotated):
            if shown is not None:
                files.setdefault(shown.href, shown)
    return list(files.values())


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class FigureView:
    src: str
    alt: str
    width: int
    height: int
    caption: Markup
    modality: str | None
    slice_note: str | None = None  # a series shows its first slice and says so


@dataclass(frozen=True)
class FindingsView:
    """The findings of one image, titled by its caption."""

    title: str
    body: Markup


@dataclass(frozen=True)
class CaseIntroView:
    """The case history and its images: the opening of the first item, and the rubric."""

    title: str
    history: Markup
    figures: tuple[FigureView, ...]
    credit: Markup | None = None  # "Courtesy of …", in small print under the history


@dataclass(frozen=True)
class TeachingView:
    """What a case teaches once it is answered: the diagnosis, the teaching points, the
    findings on each image and the references."""

    diagnosis: Markup | None
    sections: tuple[tuple[str, Markup], ...]  # (title, body)
    findings: tuple[FindingsView, ...] = ()
    references: tuple[Markup, ...] = ()


@dataclass(frozen=True)
class ChoiceFeedbackRule:
    """Add `feedback` to FEEDBACK when the learner chose `choice`."""

    choice: str
    feedback: str


@dataclass(frozen=True)
class ModalFeedbackView:
    identifier: str
    title: str
    body: Markup
    teaching: TeachingView | None = None
    solution: Markup | None = None  # shown first, as the model answer


@dataclass(frozen=True)
class ItemView:
    """What the item template lays out; every decision is taken here, the kind's by the
    question's kind (qtiexport.questions)."""

    identifier: str
    title: str
    language: str
    response: ResponseView  # the responseDeclaration
    points: str
    # responseProcessing: SCORE is the mapped response (map_response) or all or nothing,
    # right when the kind's `correct_when` holds
    mapped_score: bool
    on_correct: str  # the FEEDBACK value for a right answer
    on_incorrect: str
    choice_feedback: tuple[ChoiceFeedbackRule, ...]
    always_shown: tuple[str, ...]  # FEEDBACK values set whatever the answer
    # itemBody
    case_intro: CaseIntroView | None
    stem: Markup
    figures: tuple[FigureView, ...]
    template: str  # the kind's partial: macros interaction(item) and correct_when(item)
    interaction: object  # what the kind's partial lays out
    modal_feedback: tuple[ModalFeedbackView, ...]
    # An unscored kind (essay): no correct response, SCORE never set, MAXSCORE 0, and
    # `correct_when` holds once the learner answered.
    scored: bool = True


def figure_view(case: Case, image: Image) -> FigureView:
    # QTI has no viewer to scroll a series in: its first slice stands for it.
    shown = image.series[0] if image.series else image
    return FigureView(
        src=url(media_href(case, shown)),
        alt=shown.alt,
        width=shown.width,
        height=shown.height,
        caption=image.caption.html,
        modality=image.modality,
        slice_note=f"Slice 1 of {len(image.series)}." if image.series else None,
    )


def case_intro_view(case: Case) -> CaseIntroView:
    return CaseIntroView(
        title=case.title,
        history=case.history.html,
        figures=tuple(figure_view(case, image) for image in case.images),
        credit=case.credit.html if case.credit is not None and case.credit.html else None,
    )


def teaching_view(case: Case) -> TeachingView | None:
    findings = tuple(
        FindingsView(image.caption.text or image.id, image.findings.html)
        for image in case.images
        if image.findings is not None and image.findings.html
    )
    references = tuple(r.html for r in case.references if r.html)
    if not (case.teaching or case.diagnosis or findings or references):
        return None
    return TeachingView(
        diagnosis=case.diagnosis.html if case.diagnosis else None,
        sections=tuple((s.title, s.body.html) for s in case.teaching),
        findings=findings,
        references=references,
    )


def choice_feedback_identifier(key: str) -> str:
    return f"choice-{key}"


def modal_feedback_of(case: Case, question: Question) -> tuple[ModalFeedbackView, ...]:
    kind = kind_of(question.type)
    feedback = question.feedback
    modal: list[ModalFeedbackView] = []
    if kind.scored:  # an unscored kind's answer is neither right nor wrong
        modal += [
            ModalFeedbackView(
                CORRECT,
                "Correct",
                feedback.correct.html if feedback.correct else Markup("Correct."),
            ),
            ModalFeedbackView(
                INCORRECT,
                "Incorrect",
                feedback.incorrect.html
                if feedback.incorrect
                else Markup.escape(f"Incorrect. {kind.answer_text(question)}"),
            ),
        ]
    for choice in question.choices:
        if choice.feedback:
            modal.append(
                ModalFeedbackView(
                    choice_feedback_identifier(choice.key),
                    f"About ({choice.key})",
                    choice.feedback.html,
                )
            )
    # Platforms that ignore test feedback (Canvas) still show the teaching points after
    # the case's last question. One general feedback carries both: Canvas keeps only one
    # general comment per question.
    # An essay's model answer goes there too, first: Canvas shows it as the comment every
    # learner sees after answering.
    teaching = teaching_view(case) if question is case.questions[-1] else None
    solution = kind.solution(question)
    if feedback.explanation or teaching or solution:
        parts = [
            name
            for name, given in (
                ("Model answer", solution),
                ("Explanation", feedback.explanation),
                ("Teaching points", teaching),
            )
            if given
        ]
        named = [parts[0], *(part.lower() for part in parts[1:])]
        title = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        body = feedback.explanation.html if feedback.explanation else Markup("")
        modal.append(ModalFeedbackView(GENERAL, title, body, teaching, solution))
    return tuple(modal)


def item_view(course: Course, case: Case, question: Question) -> ItemView:
    kind = kind_of(question.type)
    first = question is case.questions[0]
    intro = case_intro_view(case) if first else None
    # The first item already shows every case image with the history.
    shown_with_intro = {image.id for image in case.images} if first else set()
    modal = modal_feedback_of(case, question)
    return ItemView(
        # Canvas finds an item by this identifier, which its reference in the test
        # repeats; it must be unique in the whole package.
        identifier=question_identifier(case, question),
        title=f"{case.title} – {question.id}",
        language=course.language,
        response=kind.qti_response(question),
        points=number(question.points) if kind.scored else "0",
        mapped_score=kind.qti_mapped_score(question),
        # An unscored kind shows its general feedback once answered, not whatever happens.
        on_correct=CORRECT if kind.scored else GENERAL,
        on_incorrect=INCORRECT,
        choice_feedback=tuple(
            ChoiceFeedbackRule(c.key, choice_feedback_identifier(c.key))
            for c in question.choices
            if c.feedback
        ),
        always_shown=tuple(m.identifier for m in modal if m.identifier == GENERAL and kind.scored),
        case_intro=intro,
        stem=question.stem.html,
        figures=tuple(
            figure_view(case, image)
            for image in question.images
            if image.id not in shown_with_intro
        ),
        template=kind.qti_template,
        interaction=kind.qti_interaction(question),
        modal_feedback=modal,
        scored=kind.scored,
    )


def render_item(course: Course, case: Case, question: Question) -> bytes:
    """One question as a QTI 2.1 assessmentItem document."""
    view = item_view(course, case, question)
    return render_template("qti/item.xml", item=view, tool_version=__version__).encode("utf-8")


# --------------------------------------------------------------------------- tests


@dataclass(frozen=True)
class ItemRefView:
    identifier: str
    href: str
    points: str


@dataclass(frozen=True)
class AssessmentTestView:
    identifier: str
    title: str
    part_identifier: str
    section_identifier: str
    points: str
    rubric: CaseIntroView
    teaching: TeachingView | None
    item_refs: tuple[ItemRefView, ...]


def fresh_identifier(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`… whichever no question of the test uses: the
    identifiers of a test's parts, sections and item references must all differ."""
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def assessment_test_view(case: Case) -> AssessmentTestView:
    refs = [
        ItemRefView(
            question_identifier(case, q),
            url(item_href(case, q)),
            # Canvas's points: an unscored question (essay) counts in no total.
            number(q.points if kind_of(q.type).scored else 0),
        )
        for q in case.questions
    ]
    taken = {ref.identifier for ref in refs}
    return AssessmentTestView(
        identifier=f"test-{case.id}",
        title=case.title,
        part_identifier=fresh_identifier("part", taken),
        section_identifier=fresh_identifier("section", taken),
        points=number(case.max_score),
        rubric=case_intro_view(case),
        teaching=teaching_view(case),
        item_refs=tuple(refs),
    )


def render_test(course: Course, case: Case) -> bytes:
    """One case as a QTI 2.1 assessmentTest: linear, individual submission, items in order."""
    view = assessment_test_view(case)
    return render_template("qti/test.xml", test=view, tool_version=__version__).encode("utf-8")


# ------------------------------------------------------------------------ manifest


def lom(course: Course, title: str, description: str | None, keywords=()) -> dict:
    return {
        "language": course.language,
        "title": title,
        "description": description,
        "keywords": tuple(keywords),
        "version": course.version,
    }


# The QTI metadata schema (imsqti_metadata_v2p1.xsd) spells one interaction differently
# from the element itself.
_METADATA_INTERACTION_NAMES = {"selectPointInteraction": "selectionPointInteraction"}


def metadata_interaction_name(interaction: str) -> str:
    """An interaction's name as the manifest's `imsqti:interactionType` must write it."""
    return _METADATA_INTERACTION_NAMES.get(interaction, interaction)


def manifest_resources(course: Course) -> list[dict]:
    """The package's resources with plain (not URL-encoded) paths; the SCORM manifest
    lists the same resources under `qti/`."""
    resources: list[dict] = []
    for case in course.cases:
        resources.append(
            {
                "identifier": f"test-{case.id}",
                "type": "imsqti_test_xmlv2p1",
                "interaction_type": None,
                "href": assessment_test_href(case),
                "lom": lom(course, case.title, case.history.text, case.keywords),
                "files": [assessment_test_href(case)],
                "dependencies": [item_resource_identifier(case, q) for q in case.questions]
                + [f"media-{case.id}"] * bool(case.images),
            }
        )
        for question in case.questions:
            images = [
                *question.images,
                *kind_of(question.type).media(question),
                *(case.images if question is case.questions[0] else ()),
            ]
            resources.append(
                {
                    "identifier": item_resource_identifier(case, question),
                    "type": "imsqti_item_xmlv2p1",
                    "href": item_href(case, question),
                    # Title only: the stem is in the item, and the manifest of a large
                    # bank stays small enough to check against its schema in little memory.
                    "lom": lom(course, f"{case.title} – {question.id}", None),
                    "interaction_type": metadata_interaction_name(
                        kind_of(question.type).qti_interaction_of(question)
                    ),
                    "files": [item_href(case, question)],
                    "dependencies": [f"media-{case.id}"] if images else [],
                }
            )
        if case.images:
            resources.append(
                {
                    "identifier": f"media-{case.id}",
                    "type": "webcontent",
                    "interaction_type": None,
                    "href": None,
                    "lom": None,
                    "files": [media_href(case, image) for image in case_images(case)],
                    "dependencies": [],
                }
            )
    return resources


def render_manifest(course: Course) -> bytes:
    resources = [
        {
            **resource,
            "href": url(resource["href"]) if resource["href"] else None,
            "files": [url(f) for f in resource["files"]],
        }
        for resource in manifest_resources(course)
    ]
    view = {
        "identifier": f"MANIFEST-{course.id}",
        "lom": lom(
            course,
            course.title,
            course.description.text if course.description else None,
            sorted({k for case in course.cases for k in case.keywords}),
        ),
        "resources": resources,
    }
    return render_template("qti/imsmanifest.xml", manifest=view, tool_version=__version__).encode(
        "utf-8"
    )


# ------------------------------------------------------------------------- package


def render_qti_manifest(course: Course) -> PackageEntry:
    return PackageEntry(MANIFEST_NAME, render_manifest(course), schema="qti-manifest")


def render_qti_case(course: Course, case: Case) -> Iterator[PackageEntry]:
    """The test, items and images of one case, in a fixed order, one at a time (the build
    streams them into the packages)."""
    yield PackageEntry(assessment_test_href(case), render_test(course, case), schema="qti")
    for question in case.questions:
        yield PackageEntry(
            item_href(case, question), render_item(course, case, question), schema="qti"
        )
    for image in case_images(case):
        yield PackageEntry(media_href(case, image), image.file)


def render_qti_package(course: Course) -> list[PackageEntry]:
    """Every file of the QTI package in a fixed order: the manifest, then per case its
    test, its items and its images. Images are read when written."""
    return [render_qti_manifest(course)] + [
        entry for case in course.cases for entry in render_qti_case(course, case)
    ]

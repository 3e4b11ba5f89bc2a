"""The SCORM 1.2 target: one SCO (a static HTML player page) per case, and the manifest.

Package layout:

    imsmanifest.xml
    player/*.css, player/*.js             shared by every SCO (an `asset` resource), minified
    cases/<case-id>/index.html            the SCO of one case
    cases/<case-id>/findings.js           the case's findings, loaded once it is answered
    thumbs/<case-id>/<image-id>.webp      the thumbnails the page shows
    qti/...                               the QTI 2.1 items and tests (`asset` resources)
    qti/media/<case-id>/<image href>      the images, stored once for the SCOs and the items

Python decides everything the player needs to know (interaction types, correct
patterns, the scoring of each question, the mastery score) and hands it to the page
either as escaped HTML or as inline JSON; the templates only lay it out and the
JavaScript only runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

import rcssmin
import rjsmin
from markupsafe import Markup

from qtiexport import __version__
from qtiexport.identifiers import interaction_identifier
from qtiexport.markdown import Markdown
from qtiexport.model import Case, Course, Image, Question
from qtiexport.package import PackageEntry
from qtiexport.qti import (
    MANIFEST_NAME as QTI_MANIFEST_NAME,
)
from qtiexport.qti import (
    case_images,
    file_name,
    manifest_resources,
    media_href,
    render_qti_case,
    url,
)
from qtiexport.questions import REGISTRY, kind_of
from qtiexport.templating import render_template, templates_dir
from qtiexport.thumbnails import (
    THUMBNAIL_SUFFIX,
    has_thumbnail_file,
    make_thumbnail,
    thumbnail_size,
)
from qtiexport.tracking import STATE_VERSION

MANIFEST_NAME = "imsmanifest.xml"
PLAYER_FOLDER = "player"
CASES_FOLDER = "cases"
THUMBS_FOLDER = "thumbs"
FINDINGS_SCRIPT = "findings.js"
QTI_FOLDER = "qti"
SCO_PAGE = "index.html"
IMSCP_NS = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
QTI_CP_NAMESPACES = (
    "http://www.imsglobal.org/xsd/imscp_v1p1",
    "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
)
# IMS CP 1.1.2 caps a title at 200 characters and a manifest version at 20.
MAX_MANIFEST_TITLE = 200
MAX_MANIFEST_VERSION = 20
MAX_WEIGHTING = 100
# Characters that would end or confuse an inline <script> block, written as JSON escapes.
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


# --------------------------------------------------------------------------- paths


def case_folder(case: Case) -> str:
    return f"{CASES_FOLDER}/{case.id}"


def sco_path(case: Case) -> str:
    return f"{case_folder(case)}/{SCO_PAGE}"


def image_entry_name(case: Case, image: Image) -> str:
    """Where an image lives in the package: where the QTI items look for it too, so that
    the largest files of a case are stored once."""
    return f"{QTI_FOLDER}/{media_href(case, image)}"


def image_src(case: Case, image: Image) -> str:
    """The URL of an image as the case's SCO page refers to it."""
    return relative_to_sco(image_entry_name(case, image))


def thumb_entry_name(case: Case, image: Image) -> str:
    return f"{THUMBS_FOLDER}/{file_name(case.id)}/{file_name(image.id, THUMBNAIL_SUFFIX)}"


def thumb_src(case: Case, image: Image) -> str:
    """The URL of an image's thumbnail from the SCO page; an SVG is its own thumbnail."""
    if has_thumbnail_file(image):
        return relative_to_sco(thumb_entry_name(case, image))
    return image_src(case, image)


def findings_entry_name(case: Case) -> str:
    return f"{case_folder(case)}/{FINDINGS_SCRIPT}"


def player_assets(course: Course | None = None) -> list[str]:
    """The player's static files: whatever templates/scorm/assets holds, in name order,
    so that a new script or stylesheet needs no change here; a kind's script (and its
    stylesheet of the same name, if it has one) that is not in every package only when
    `course` asks a question of that kind."""
    folder = templates_dir() / "scorm" / "assets"
    used = course.question_types if course else frozenset()
    left_out = {
        name
        for kind in REGISTRY
        if not kind.script_in_every_package and kind.name not in used
        for name in (kind.player_script, PurePosixPath(kind.player_script).stem + ".css")
    }
    return [name for name in _asset_files(folder) if name not in left_out]


@lru_cache(maxsize=4)
def _asset_files(folder: Path) -> tuple[str, ...]:
    """The player files in `folder`, in name order: listed once per process, as a build
    asks for them for every case's page and resource (templates do not change during a
    run: see templating.environment)."""
    return tuple(sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in MINIFIERS))


def player_asset_paths(course: Course | None = None) -> list[str]:
    return [f"{PLAYER_FOLDER}/{name}" for name in player_assets(course)]


def minified(name: str, source: bytes) -> bytes:
    """A player file as shipped: minified (the sources stay readable in templates/)."""
    return MINIFIERS[PurePosixPath(name).suffix](source.decode("utf-8")).encode("utf-8")


# rJSmin and rCSSmin only drop comments and whitespace, the same way every time.
MINIFIERS = {
    ".js": lambda text: rjsmin.jsmin(text, keep_bang_comments=False),
    ".css": lambda text: rcssmin.cssmin(text, keep_bang_comments=False),
}


def relative_to_sco(path: str) -> str:
    """URL of a package file as seen from a SCO page two folders down."""
    return url(f"../../{path}")


# --------------------------------------------------------------- tracking decisions


def format_number(value: float) -> str:
    """A CMIDecimal without a trailing `.0`."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


# ------------------------------------------------------------------- player data


def inline_json(data: object) -> Markup:
    """JSON that is safe inside <script>: no `</script>`, `<!--` or `]]>` can appear."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for character, escape in _SCRIPT_UNSAFE.items():
        text = text.replace(character, escape)
    return Markup(text)


def _image_data(case: Case, image: Image) -> dict[str, object]:
    return {
        "src": image_src(case, image),
        "alt": image.alt,
        "width": image.width,
        "height": image.height,
    }


def shown_images(case: Case) -> list[Image]:
    """Every image the case's page shows, each once: the case's images in order, then
    those only questions show. The viewer's next/previous follows this order."""
    images: dict[str, Image] = {}
    for image in [*case.images, *(i for q in case.questions for i in q.images)]:
        images.setdefault(image.id, image)
    return list(images.values())


def findings_of(case: Case) -> dict[str, Markup]:
    """The findings of each image that has them, as checked XHTML (tables wrapped)."""
    return {
        image.id: for_page(image.findings.html)
        for image in shown_images(case)
        if image.findings is not None and image.findings.html
    }


def render_findings_script(case: Case) -> bytes:
    """`findings.js`: kept out of the page, which the player adds only once the last
    question is answered, so that no finding gives an answer away."""
    return f"window.qtiexportFindings = {inline_json(findings_of(case))};\n".encode()


def player_data(course: Course, case: Case) -> dict[str, object]:
    """What the player's script needs: tracking facts and the viewer's image texts."""
    # SCORM 1.2 LMSes take a weighting of at most 100 (and three integer digits);
    # scaling every question alike keeps their ratios when points run higher.
    # A question of a kind that is not scored (essay) has no points here: it counts in
    # neither the score nor its maximum, and weighs 0.
    scored_points = {id(q): q.points if kind_of(q.type).scored else 0 for q in case.questions}
    weighting_scale = min(1.0, MAX_WEIGHTING / max(max(scored_points.values()), 1e-9))
    questions = []
    for question in case.questions:
        kind = kind_of(question.type)
        points = scored_points[id(question)]
        questions.append(
            {
                "id": question.id,
                "interactionId": interaction_identifier(case, question),
                "interactionType": kind.scorm_interaction_type,
                "type": question.type,
                "points": points,
                "weighting": format_number(points * weighting_scale),
                "shuffle": question.shuffle,
                "fixed": [c.key for c in question.choices if c.fixed],
                **kind.player_spec(question),
            }
        )
    images = {}
    for image in shown_images(case):
        thumb = thumbnail_size(image.width, image.height)
        images[image.id] = {
            **_image_data(case, image),
            "caption": image.caption.text,  # the viewer's title: plain text
            "modality": image.modality,
            "annotated": _image_data(case, image.annotated) if image.annotated else None,
            "thumb": {"src": thumb_src(case, image), "width": thumb.width, "height": thumb.height},
            "series": [_image_data(case, s) for s in image.series] if image.series else None,
            "hasFindings": image.findings is not None and bool(image.findings.html),
        }
    return {
        "stateVersion": STATE_VERSION,
        "caseId": case.id,
        "caseTitle": case.title,
        "courseTitle": course.title,
        "masteryScore": course.pass_mark(case),
        "maxPoints": case.max_score,
        "questions": questions,
        "images": images,
        "imageOrder": list(images),
        "findingsScript": FINDINGS_SCRIPT if findings_of(case) else None,
    }


# ------------------------------------------------------------------ view models


@dataclass(frozen=True)
class ImageView:
    id: str
    dom_id: str
    src: str
    alt: str
    caption: str  # plain text
    caption_html: Markup  # the caption's checked XHTML
    modality: str | None
    width: int
    height: int
    has_annotations: bool
    thumb_src: str
    thumb_width: int  # the thumbnail's own pixel size
    thumb_height: int
    slice_count: int  # 0 for a single image


@dataclass(frozen=True)
class ChoiceView:
    key: str
    label: str  # the letter shown to learners, or "" when the choices are shuffled
    input_id: str
    html: Markup
    feedback_html: Markup | None


@dataclass(frozen=True)
class QuestionView:
    index: int
    number: int
    dom_id: str
    type: str
    template: str  # the kind's partial: macros answer(question) and correct_answer(question)
    instruction: str
    stem_html: Markup
    images: tuple[ImageView, ...]
    choices: tuple[ChoiceView, ...]
    answer: object  # what the kind's partial lays out beside this view
    feedback_correct: Markup | None
    feedback_incorrect: Markup | None
    explanation: Markup | None
    next_label: str


# A table wider than a phone scrolls inside its own box, which the keyboard can reach
# (a scrolling region needs a tab stop) and a screen reader names.
TABLE_BOX_START = '<div class="table-scroll" role="region" tabindex="0" aria-label="Table">'


def for_page(html: Markup) -> Markup:
    """Checked XHTML as the player shows it: each table in a scrolling box. Only the
    Markdown renderer writes `<table>` into checked XHTML (author raw HTML may not hold
    it, and `<` in text is escaped), so the tags can be found as text."""
    if "<table>" not in html:
        return html
    return Markup(
        str(html)
        .replace("<table>", TABLE_BOX_START + "<table>")
        .replace("</table>", "</table></div>")
    )


def _markdown(text: Markdown | None) -> Markup | None:
    """The XHTML validation rendered and checked: the only author text the page takes as
    markup."""
    if text is None or not text.html:
        return None
    return for_page(text.html)


def _image_view(case: Case, image: Image, scope: str) -> ImageView:
    thumb = thumbnail_size(image.width, image.height)
    return ImageView(
        id=image.id,
        dom_id=f"{scope}-{image.id}",
        src=image_src(case, image),
        alt=image.alt,
        caption=image.caption.text,  # beside the badges, as plain text
        caption_html=for_page(image.caption.html),
        modality=image.modality,
        width=image.width,
        height=image.height,
        has_annotations=image.annotated is not None,
        thumb_src=thumb_src(case, image),
        thumb_width=thumb.width,
        thumb_height=thumb.height,
        slice_count=len(image.series),
    )


def _question_view(case: Case, index: int, question: Question) -> QuestionView:
    kind = kind_of(question.type)
    dom_id = f"question-{index + 1}"
    letters = kind.shows_letters(question)
    choices = tuple(
        ChoiceView(
            key=choice.key,
            label=choice.key.upper() if letters else "",
            input_id=f"{dom_id}-choice-{choice.key}",
            html=choice.text.html,
            feedback_html=_markdown(choice.feedback),
        )
        for choice in question.choices
    )
    last = index == len(case.questions) - 1
    return QuestionView(
        index=index,
        number=index + 1,
        dom_id=dom_id,
        type=question.type,
        template=kind.sco_template,
        instruction=kind.instruction,
        stem_html=_markdown(question.stem) or Markup(""),
        images=tuple(_image_view(case, i, f"{dom_id}-image") for i in question.images),
        choices=choices,
        answer=kind.sco_answer(question, choices),
        feedback_correct=_markdown(question.feedback.correct),
        feedback_incorrect=_markdown(question.feedback.incorrect),
        explanation=_markdown(question.feedback.explanation),
        next_label="See your result" if last else "Next question",
    )


def render_sco(course: Course, case: Case) -> str:
    """The HTML page of one case's SCO."""
    return render_template(
        "scorm/sco.html",
        language=course.language,
        course_title=course.title,
        case=case,
        history_html=_markdown(case.history),
        credit_html=_markdown(case.credit),
        diagnosis_html=_markdown(case.diagnosis),
        images=[_image_view(case, i, "case-image") for i in case.images],
        questions=[_question_view(case, i, q) for i, q in enumerate(case.questions)],
        teaching=[(s.title, _markdown(s.body)) for s in case.teaching],
        question_count=len(case.questions),
        mastery_score=course.pass_mark(case),
        # Every stylesheet and script of the player, in name order (player.* before viewer.*).
        stylesheets=[relative_to_sco(p) for p in player_asset_paths(course) if p.endswith(".css")],
        scripts=[relative_to_sco(p) for p in player_asset_paths(course) if p.endswith(".js")],
        player_data=inline_json(player_data(course, case)),
    )


# ---------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class ManifestResource:
    identifier: str
    scorm_type: str  # sco or asset
    href: str | None
    files: tuple[str, ...]  # URLs, relative to the package root
    dependencies: tuple[str, ...] = ()
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()


def qti_resources(course: Course) -> list[ManifestResource]:
    """The QTI package's own resources, re-listed as SCORM assets under `qti/`.

    Taken from the same description the QTI manifest is rendered from, so the grouping
    (an item with its images) is kept and nothing has to be rendered twice.
    """
    return [
        ManifestResource(
            identifier=f"QTI-{resource['identifier']}",
            scorm_type="asset",
            href=url(f"{QTI_FOLDER}/{resource['href']}") if resource["href"] else None,
            files=tuple(url(f"{QTI_FOLDER}/{f}") for f in resource["files"]),
            dependencies=tuple(f"QTI-{d}" for d in resource["dependencies"]),
        )
        for resource in manifest_resources(course)
    ]


def case_files(case: Case) -> list[str]:
    """The package paths of a case's own SCORM files besides its page: its findings
    script, if any, and its thumbnails."""
    files = [findings_entry_name(case)] if findings_of(case) else []
    files += [thumb_entry_name(case, i) for i in shown_images(case) if has_thumbnail_file(i)]
    return files


def _sco_resource(course: Course, case: Case) -> ManifestResource:
    images = tuple(url(image_entry_name(case, i)) for i in case_images(case))
    own = tuple(url(p) for p in case_files(case))
    return ManifestResource(
        identifier=f"SCO-{case.id}",
        scorm_type="sco",
        href=url(sco_path(case)),
        # The player's own files too: an LMS that copies only a SCO's files still works.
        files=(url(sco_path(case)), *own, *(url(p) for p in player_asset_paths(course)), *images),
        dependencies=("PLAYER",),
        title=case.title,
        description=case.history.text or None,
        keywords=case.keywords,
    )


def manifest_title(text: str) -> str:
    """A title within IMS CP's 200 characters; the LOM metadata keeps the whole of it."""
    if len(text) <= MAX_MANIFEST_TITLE:
        return text
    return text[: MAX_MANIFEST_TITLE - 1].rstrip() + "…"


def render_manifest(course: Course) -> bytes:
    resources = [
        *(_sco_resource(course, case) for case in course.cases),
        ManifestResource(
            "PLAYER", "asset", None, tuple(url(p) for p in player_asset_paths(course))
        ),
        *qti_resources(course),
    ]
    keywords = list(dict.fromkeys(k for case in course.cases for k in case.keywords))
    # The course description is Markdown; LOM wants plain text.
    description = (course.description.text if course.description else "") or "; ".join(
        case.title for case in course.cases
    )
    text = render_template(
        "scorm/imsmanifest.xml",
        course=course,
        course_title=manifest_title(course.title),
        case_titles={case.id: manifest_title(case.title) for case in course.cases},
        version=course.version
        if course.version and len(course.version) <= MAX_MANIFEST_VERSION
        else None,
        description=description,
        keywords=keywords,
        mastery_scores={case.id: course.pass_mark(case) for case in course.cases},
        resources=resources,
        tool=f"qtiexport {__version__}",
    )
    return text.encode("utf-8")


# -------------------------------------------------------------------------- entry


def render_scorm_course_files(course: Course) -> Iterator[PackageEntry]:
    """The manifest and the player's shared files."""
    yield PackageEntry(MANIFEST_NAME, render_manifest(course), schema="scorm-manifest")
    assets = templates_dir() / "scorm" / "assets"
    for path, name in zip(player_asset_paths(course), player_assets(course), strict=True):
        yield PackageEntry(path, minified(name, (assets / name).read_bytes()))


def render_sco_entry(course: Course, case: Case) -> PackageEntry:
    return PackageEntry(sco_path(case), render_sco(course, case).encode("utf-8"))


def render_sco_entries(course: Course, case: Case) -> Iterator[PackageEntry]:
    """A case's own SCORM files: its page, its findings script and its thumbnails (made
    here, in the process that renders the case)."""
    yield render_sco_entry(course, case)
    if findings_of(case):
        yield PackageEntry(findings_entry_name(case), render_findings_script(case))
    for image in shown_images(case):
        if has_thumbnail_file(image):
            yield PackageEntry(thumb_entry_name(case, image), make_thumbnail(image))


def as_scorm_entry(qti_entry: PackageEntry) -> PackageEntry | None:
    """A QTI file as the SCORM package carries it: under `qti/`, with its schema, so that
    `--target scorm12` alone still checks the QTI documents. Its manifest stays out."""
    if qti_entry.name == QTI_MANIFEST_NAME:
        return None
    return PackageEntry(f"{QTI_FOLDER}/{qti_entry.name}", qti_entry.data, qti_entry.schema)


def render_scorm_package(course: Course) -> Iterator[PackageEntry]:
    """Every file of the SCORM 1.2 package, manifest first, in a fixed order: the shared
    files, then per case its SCO, findings and thumbnails and its QTI test, items and
    images."""
    yield from render_scorm_course_files(course)
    for case in course.cases:
        yield from render_sco_entries(course, case)
        for entry in render_qti_case(course, case):
            yield as_scorm_entry(entry)

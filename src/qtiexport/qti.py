"""Stage 3 (QTI): render the course as a QTI 2.1 content package.

Python decides everything here (identifiers, scores, feedback texts, file paths); the
templates in `templates/qti/` only lay the decisions out as XML. Author text reaches
the templates either as plain strings, which Jinja escapes, or as XHTML rendered by
`markdown_to_xhtml` from checked Markdown, the only values marked safe.

Layout of the package:
    imsmanifest.xml
    items/<question-id>.xml
    tests/<case-id>.xml
    media/<case-id>/<image path in the case folder>
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from markupsafe import Markup

from qtiexport import __version__
from qtiexport.markdown import markdown_to_text, markdown_to_xhtml
from qtiexport.model import Case, Course, Image, Question
from qtiexport.package import PackageEntry
from qtiexport.templating import render_template

MANIFEST_NAME = "imsmanifest.xml"
ALWAYS_SHOWN = ("explanation", "teaching")
INTERACTION_TYPES = {
    "single": "choiceInteraction",
    "multiple": "choiceInteraction",
    "true_false": "choiceInteraction",
    "text": "textEntryInteraction",
}


def number(value: float) -> str:
    """A score as QTI writes it: no trailing `.0`, full precision otherwise."""
    return f"{value:g}" if float(value).is_integer() else repr(float(value))


def item_href(question: Question) -> str:
    return f"items/{question.id}.xml"


def test_href(case: Case) -> str:
    return f"tests/{case.id}.xml"


def media_href(case: Case, image: Image) -> str:
    return f"media/{case.id}/{image.href}"


def case_images(case: Case) -> list[Image]:
    """Every image file of a case, annotated versions included, each file once."""
    files: dict[str, Image] = {}
    for image in case.images:
        files.setdefault(image.href, image)
        if image.annotated is not None:
            files.setdefault(image.annotated.href, image.annotated)
    return list(files.values())


def render_figure(case: Case, image: Image, base: str) -> Markup:
    """An image with its caption; `base` leads from the document to the package root."""
    src = Markup.escape(base + media_href(case, image))
    alt = Markup.escape(image.alt)
    modality = Markup('<p class="modality">{}</p>').format(image.modality) if image.modality else ""
    return Markup(
        f'<div class="figure"><p><img src="{src}" alt="{alt}" width="{image.width}" '
        f'height="{image.height}"/></p><div class="caption">{markdown_to_xhtml(image.caption)}'
        f"</div>{modality}</div>"
    )


def render_case_intro(case: Case, base: str) -> Markup:
    """The case history and its images, as the first item and the rubric show them."""
    parts = [f"<h2>{Markup.escape(case.title)}</h2>", markdown_to_xhtml(case.history)]
    parts += [render_figure(case, image, base) for image in case.images]
    return Markup("\n".join(parts))


def render_teaching(case: Case) -> Markup:
    """The case's teaching sections, each a heading and its Markdown body."""
    parts = []
    if case.diagnosis:
        parts.append(
            Markup("<p><strong>Diagnosis:</strong> {}</p>").format(
                markdown_to_xhtml(case.diagnosis, inline=True)
            )
        )
    for section in case.teaching:
        parts.append(Markup("<h3>{}</h3>").format(section.title))
        parts.append(markdown_to_xhtml(section.body))
    return Markup("\n".join(parts))


def answer_text(question: Question) -> str:
    """The correct answer in words, for the default feedback of a wrong answer."""
    if question.type == "text":
        return "Accepted answers: " + ", ".join(question.correct) + "."
    if question.type == "true_false":
        return f"The statement is {question.correct[0]}."
    shown = "; ".join(f"({c.key}) {markdown_to_text(c.text)}" for c in question.correct_choices)
    return f"The correct answer: {shown}."


@dataclass(frozen=True)
class ItemView:
    """What the item template lays out; every decision is taken here."""

    identifier: str
    title: str
    language: str
    cardinality: str
    base_type: str
    correct: tuple[str, ...]
    points: str
    mapping: tuple[dict, ...]
    score_by_mapping: bool
    accepted: tuple[str, ...]
    case_intro: Markup | None
    stem: Markup
    figures: tuple[Markup, ...]
    text_entry: bool
    expected_length: int
    shuffle: str
    max_choices: int
    choices: tuple[dict, ...]
    choice_feedback: tuple[dict, ...]
    always_shown: tuple[str, ...]  # feedback shown whatever the answer
    modal_feedback: tuple[dict, ...] = field(default=())


def scoring_mapping(question: Question) -> tuple[dict, ...]:
    """The response mapping, where one is declared.

    Partial credit (map_response): each correct choice earns points/n (n correct
    choices), each wrong choice costs as much, and the total is bounded by 0 and the
    question's points. Text: each accepted answer earns the full points; the mapping
    tells importers the accepted answers, while response processing compares them with
    `stringMatch caseSensitive="false"`, which every QTI 2.x engine evaluates (the
    `caseSensitive` of a mapEntry is newer and not honoured everywhere).
    """
    if question.type == "text":
        return tuple(
            {"key": answer, "value": number(question.points)} for answer in question.correct
        )
    if question.type == "multiple" and question.scoring == "partial":
        share = question.points / len(question.correct)
        return tuple(
            {"key": c.key, "value": number(share if c.key in question.correct else -share)}
            for c in question.choices
        )
    return ()


def item_view(course: Course, case: Case, question: Question) -> ItemView:
    first = question is case.questions[0]
    base = "../"
    choices = tuple(
        {
            "identifier": c.key,
            "fixed": "true" if c.fixed else "false",
            "body": markdown_to_xhtml(c.text, inline=True),
        }
        for c in question.choices
    )
    feedback = question.feedback
    modal = [
        {
            "identifier": "correct",
            "title": "Correct",
            "body": markdown_to_xhtml(feedback.correct) if feedback.correct else Markup("Correct."),
        },
        {
            "identifier": "incorrect",
            "title": "Incorrect",
            "body": markdown_to_xhtml(feedback.incorrect)
            if feedback.incorrect
            else Markup.escape(f"Incorrect. {answer_text(question)}"),
        },
    ]
    choice_feedback = []
    for choice in question.choices:
        if choice.feedback:
            identifier = f"choice_{choice.key}"
            choice_feedback.append({"identifier": choice.key, "feedback_identifier": identifier})
            modal.append(
                {
                    "identifier": identifier,
                    "title": f"About ({choice.key})",
                    "body": markdown_to_xhtml(choice.feedback),
                }
            )
    if feedback.explanation:
        modal.append(
            {
                "identifier": "explanation",
                "title": "Explanation",
                "body": markdown_to_xhtml(feedback.explanation),
            }
        )
    if question is case.questions[-1] and case.teaching:
        # Platforms that ignore test feedback (Canvas) still show the teaching points.
        modal.append(
            {"identifier": "teaching", "title": "Teaching points", "body": render_teaching(case)}
        )
    return ItemView(
        identifier=question.id,
        title=f"{case.title} – {question.id}",
        language=course.language,
        cardinality="multiple" if question.type == "multiple" else "single",
        base_type="string" if question.type == "text" else "identifier",
        correct=question.correct[:1] if question.type == "text" else question.correct,
        points=number(question.points),
        mapping=scoring_mapping(question),
        score_by_mapping=question.type == "multiple" and question.scoring == "partial",
        accepted=question.correct if question.type == "text" else (),
        case_intro=render_case_intro(case, base) if first else None,
        stem=markdown_to_xhtml(question.stem),
        figures=tuple(render_figure(case, image, base) for image in question.images),
        text_entry=question.type == "text",
        expected_length=question.max_length,
        shuffle="true" if question.shuffle else "false",
        max_choices=0 if question.type == "multiple" else 1,
        choices=choices,
        choice_feedback=tuple(choice_feedback),
        always_shown=tuple(m["identifier"] for m in modal if m["identifier"] in ALWAYS_SHOWN),
        modal_feedback=tuple(modal),
    )


def render_item(course: Course, case: Case, question: Question) -> bytes:
    """One question as a QTI 2.1 assessmentItem document."""
    view = item_view(course, case, question)
    return render_template("qti/item.xml", item=view, tool_version=__version__).encode("utf-8")


def render_test(course: Course, case: Case) -> bytes:
    """One case as a QTI 2.1 assessmentTest: linear, individual submission, items in order."""
    view = {
        "identifier": f"test-{case.id}",
        "title": case.title,
        "points": number(case.max_score),
        "rubric": render_case_intro(case, "../"),
        "teaching": render_teaching(case) if case.teaching else None,
        "item_refs": [{"identifier": q.id, "href": "../" + item_href(q)} for q in case.questions],
    }
    return render_template("qti/test.xml", test=view, tool_version=__version__).encode("utf-8")


def lom(course: Course, title: str, description: str | None, keywords=()) -> dict:
    return {
        "language": course.language,
        "title": title,
        "description": description,
        "keywords": tuple(keywords),
        "version": course.version,
    }


def manifest_resources(course: Course) -> list[dict]:
    resources: list[dict] = []
    for case in course.cases:
        resources.append(
            {
                "identifier": f"test-{case.id}",
                "type": "imsqti_test_xmlv2p1",
                "interaction_type": None,
                "href": test_href(case),
                "lom": lom(course, case.title, markdown_to_text(case.history), case.keywords),
                "files": [test_href(case)],
                "dependencies": [f"item-{q.id}" for q in case.questions]
                + [f"media-{case.id}"] * bool(case.images),
            }
        )
        for question in case.questions:
            images = [*question.images, *(case.images if question is case.questions[0] else ())]
            resources.append(
                {
                    "identifier": f"item-{question.id}",
                    "type": "imsqti_item_xmlv2p1",
                    "href": item_href(question),
                    # Title only: the stem is in the item, and the manifest of a large
                    # bank stays small enough to check against its schema in little memory.
                    "lom": lom(course, f"{case.title} – {question.id}", None),
                    "interaction_type": INTERACTION_TYPES[question.type],
                    "files": [item_href(question)],
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
    view = {
        "identifier": f"MANIFEST-{course.id}",
        "lom": lom(
            course,
            course.title,
            markdown_to_text(course.description) if course.description else None,
            sorted({k for case in course.cases for k in case.keywords}),
        ),
        "resources": manifest_resources(course),
    }
    return render_template("qti/imsmanifest.xml", manifest=view, tool_version=__version__).encode(
        "utf-8"
    )


def render_qti_manifest(course: Course) -> PackageEntry:
    return PackageEntry(MANIFEST_NAME, render_manifest(course), schema="qti-manifest")


def render_qti_case(course: Course, case: Case) -> Iterator[PackageEntry]:
    """The test, items and images of one case, in a fixed order."""
    yield PackageEntry(test_href(case), render_test(course, case), schema="qti")
    for question in case.questions:
        yield PackageEntry(item_href(question), render_item(course, case, question), schema="qti")
    for image in case_images(case):
        yield PackageEntry(media_href(case, image), image.file)


def render_qti_package(course: Course) -> Iterator[PackageEntry]:
    """Every file of the QTI package, one at a time, in a fixed order."""
    yield render_qti_manifest(course)
    for case in course.cases:
        yield from render_qti_case(course, case)

"""The preview's HTML pages: Python decides what each shows, templates/preview/ lays it out.

The QTI XML is shown as `qtiexport render` prints it, highlighted with the same rules;
an item's body is shown as plain HTML built element by element from the parsed XML, so
that nothing the item holds reaches the page as markup it did not pass through here.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from lxml import etree, html
from markupsafe import Markup, escape

from qtiexport.commands.render import highlight, pretty_xml
from qtiexport.model import Case, Course, Question
from qtiexport.preview.site import Snapshot
from qtiexport.qti import MANIFEST_NAME as QTI_MANIFEST
from qtiexport.qti import assessment_test_href, item_href
from qtiexport.scorm import MANIFEST_NAME as SCORM_MANIFEST
from qtiexport.scorm import inline_json, sco_path
from qtiexport.templating import render_template

# What the simulated LMS's panel lists, in this order (the interactions come after).
PANEL_ELEMENTS = (
    "cmi.core.lesson_status",
    "cmi.core.score.raw",
    "cmi.core.score.min",
    "cmi.core.score.max",
    "cmi.core.lesson_location",
    "cmi.core.exit",
    "cmi.core.entry",
    "cmi.core.lesson_mode",
    "cmi.core.credit",
    "cmi.core.session_time",
    "cmi.student_data.mastery_score",
)
INTERACTION_FIELDS = (
    "id",
    "type",
    "student_response",
    "result",
    "correct_responses",
    "weighting",
    "latency",
    "time",
)
PREVIEW_LEARNER = {"student_id": "preview", "student_name": "Preview, Author"}


# ------------------------------------------------------------------------ urls


def case_url(case: Case) -> str:
    return f"/case/{quote(case.id, safe='')}/"


def item_url(case: Case, question: Question) -> str:
    return f"/item/{quote(case.id, safe='')}/{quote(question.id, safe='')}"


def xml_url(package: str, name: str) -> str:
    return f"/xml/{package}/{quote(name, safe='/')}"


# ------------------------------------------------------------------- highlighting

# render.highlight marks XML with terminal colours; the page shows the same marks as
# classes. Only click.style writes escape sequences there: XML cannot hold ESC.
_STYLED_RUN = re.compile(r"((?:\x1b\[\d+m)+)(.*?)\x1b\[0m", re.S)
_CLASS_OF_CODE = {"34": "xml-tag", "36": "xml-attribute", "32": "xml-value", "2": "xml-prolog"}
_ANY_ESCAPE = re.compile(r"\x1b\[\d+m")


def highlighted_xml(data: bytes) -> Markup:
    """The document as `qtiexport render` prints it, as escaped HTML with spans."""
    escaped = str(escape(highlight(pretty_xml(data))))

    def span(match: re.Match[str]) -> str:
        codes = re.findall(r"\d+", match.group(1))
        classes = [_CLASS_OF_CODE[c] for c in codes if c in _CLASS_OF_CODE]
        if not classes:
            return match.group(2)
        return f'<span class="{classes[0]}">{match.group(2)}</span>'

    return Markup(_ANY_ESCAPE.sub("", _STYLED_RUN.sub(span, escaped)))


# --------------------------------------------------------------- item as HTML

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
# The XHTML subset QTI 2.1 item bodies hold; any other element is QTI's own and is shown
# as a labelled box.
XHTML_ELEMENTS = frozenset(
    {"a", "abbr", "acronym", "address", "b", "big", "blockquote", "br", "caption", "cite"}
    | {"code", "col", "colgroup", "dd", "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3"}
    | {"h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "q", "samp"}
    | {"small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th"}
    | {"thead", "tr", "tt", "ul", "var"}
)
KEPT_ATTRIBUTES = frozenset({"alt", "width", "height", "colspan", "rowspan", "scope", "title"})
INLINE_QTI = frozenset({"textEntryInteraction", "inlineChoiceInteraction", "printedVariable"})
# Interactions whose correct response lists the right choices by identifier.
CHOICE_MARKED = frozenset({"choiceInteraction", "hotspotInteraction"})
LINK_SCHEMES = ("http", "https", "mailto")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _package_url(reference: str, item_name: str) -> str | None:
    """A URL inside the QTI package, relative to the item, as this server serves it;
    None for anything else (an image from elsewhere is never loaded)."""
    if not reference or urlsplit(reference).scheme or reference.startswith(("/", "\\")):
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(item_name), reference))
    if joined.startswith(".."):
        return None
    return "/qti/" + quote(joined, safe="/")


@dataclass(frozen=True)
class ItemParts:
    body: Markup
    correct: tuple[tuple[str, str], ...]  # (response identifier, its correct values)
    feedback: tuple[tuple[str, Markup], ...]  # (outcome and identifier, content)


class _ItemConverter:
    def __init__(self, item_name: str, correct: dict[str, set[str]]):
        self.item_name = item_name
        self.correct = correct

    def convert(self, source: etree._Element, marked: set[str] | None = None) -> html.HtmlElement:
        name = _local(source)
        if name in XHTML_ELEMENTS:
            target = html.Element(name)
            for attribute in KEPT_ATTRIBUTES & set(source.attrib):
                target.set(attribute, source.get(attribute))
            if name == "img":
                src = _package_url(source.get("src", ""), self.item_name)
                if src:
                    target.set("src", src)
            elif name == "a":
                href = source.get("href", "")
                if urlsplit(href).scheme in LINK_SCHEMES:
                    target.set("href", href)
                    target.set("rel", "noopener noreferrer")
        elif name == "object":  # the image of a graphic interaction
            target = html.Element("img")
            src = _package_url(source.get("data", ""), self.item_name)
            if src:
                target.set("src", src)
            target.set("alt", "".join(source.itertext()).strip())
            for attribute in ("width", "height"):
                if source.get(attribute):
                    target.set(attribute, source.get(attribute))
            return target
        else:
            target = html.Element("span" if name in INLINE_QTI else "div")
            target.set("class", f"qti qti-{name}")
            label = html.Element("span")
            label.set("class", "qti-label")
            shown = " ".join(f'{key}="{value}"' for key, value in source.attrib.items())
            label.text = f"{name} {shown}".strip()
            if marked is not None and source.get("identifier") in marked:
                label.text += " ✓ correct"
                target.set("class", f"qti qti-{name} qti-correct")
            target.append(label)
            if name in CHOICE_MARKED:
                marked = self.correct.get(source.get("responseIdentifier", ""), set())
        return self.convert_children(source, target, marked)

    def convert_children(
        self, source: etree._Element, target: html.HtmlElement, marked: set[str] | None = None
    ) -> html.HtmlElement:
        _append_text(target, source.text)
        for child in source:
            if isinstance(child.tag, str):  # comments and processing instructions stay out
                target.append(self.convert(child, marked))
            _append_text(target, child.tail)
        return target


def _append_text(target: html.HtmlElement, text: str | None) -> None:
    """Text after what `target` holds so far (lxml escapes it when serialising)."""
    if not text:
        return
    if len(target):
        target[-1].tail = (target[-1].tail or "") + text
    else:
        target.text = (target.text or "") + text


def _serialise(element: html.HtmlElement) -> Markup:
    return Markup(html.tostring(element, encoding="unicode", method="html"))


def item_parts(data: bytes, item_name: str) -> ItemParts:
    """An item's body as plain HTML (images from this server, QTI elements as labelled
    boxes, right choices marked), its correct responses and its modal feedback."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"q": QTI_NS}
    correct: dict[str, set[str]] = {}
    listed: list[tuple[str, str]] = []
    for declaration in root.iterfind("q:responseDeclaration", ns):
        identifier = declaration.get("identifier", "")
        values = [v.text or "" for v in declaration.iterfind("q:correctResponse/q:value", ns)]
        areas = [
            f"{area.get('shape')} {area.get('coords')}"
            for area in declaration.iterfind("q:areaMapping/q:areaMapEntry", ns)
        ]
        correct[identifier] = {token for value in values for token in value.split()}
        listed.append((identifier, ", ".join(values + areas) or "(none: marked by a person)"))
    converter = _ItemConverter(item_name, correct)
    shown = html.Element("div")
    shown.set("class", "item-body")
    body = root.find("q:itemBody", ns)
    if body is not None:
        converter.convert_children(body, shown)
    feedback = tuple(
        (
            f"{modal.get('outcomeIdentifier')} = {modal.get('identifier')}"
            f" ({modal.get('showHide')})",
            _serialise(converter.convert_children(modal, html.Element("div"))),
        )
        for modal in root.iterfind("q:modalFeedback", ns)
    )
    return ItemParts(_serialise(shown), tuple(listed), feedback)


# ------------------------------------------------------------------------ pages


def _page(template: str, snapshot: Snapshot, **context: object) -> str:
    return render_template(
        f"preview/{template}",
        generation=snapshot.generation,
        course=snapshot.course,
        **context,
    )


def problems_page(snapshot: Snapshot) -> str:
    return _page("problems.html", snapshot, problems=snapshot.problems)


def missing_page(snapshot: Snapshot, path: str) -> str:
    return _page("missing.html", snapshot, path=path)


def index_page(snapshot: Snapshot) -> str:
    course = snapshot.course
    assert course is not None
    cases = [
        {
            "case": case,
            "url": case_url(case),
            "test_url": xml_url("qti", assessment_test_href(case)),
            "questions": [
                {"question": q, "url": item_url(case, q), "stem": q.stem.text}
                for q in case.questions
            ],
        }
        for case in course.cases
    ]
    return _page(
        "index.html",
        snapshot,
        cases=cases,
        qti_manifest_url=xml_url("qti", QTI_MANIFEST),
        scorm_manifest_url=xml_url("scorm", SCORM_MANIFEST),
    )


def case_page(snapshot: Snapshot, case: Case) -> str:
    course = snapshot.course
    assert course is not None
    lms = {
        "sco": "/scorm/" + quote(sco_path(case), safe="/"),
        "masteryScore": course.pass_mark(case),
        "learner": PREVIEW_LEARNER,
    }
    return _page(
        "case.html",
        snapshot,
        case=case,
        lms_data=inline_json(lms),
        panel_elements=PANEL_ELEMENTS,
        interaction_fields=INTERACTION_FIELDS,
        items=[{"question": q, "url": item_url(case, q)} for q in case.questions],
    )


def item_page(snapshot: Snapshot, case: Case, question: Question) -> str:
    name = item_href(case, question)
    data = snapshot.qti_files[name]
    questions = list(case.questions)
    index = questions.index(question)
    return _page(
        "item.html",
        snapshot,
        case=case,
        question=question,
        case_url=case_url(case),
        xml=highlighted_xml(data),
        xml_raw_url="/qti/" + quote(name, safe="/"),
        parts=item_parts(data, name),
        previous_url=item_url(case, questions[index - 1]) if index > 0 else None,
        next_url=item_url(case, questions[index + 1]) if index + 1 < len(questions) else None,
    )


def xml_page(snapshot: Snapshot, package: str, name: str, data: bytes) -> str:
    return _page(
        "xml.html",
        snapshot,
        package={"qti": "QTI 2.1 package", "scorm": "SCORM 1.2 package"}[package],
        document=name,
        xml=highlighted_xml(data),
        raw_url=f"/{package}/" + quote(name, safe="/"),
    )


def find_case(course: Course, case_id: str) -> Case | None:
    return next((case for case in course.cases if case.id == case_id), None)

"""The QTI 2.1 documents: valid against the official schemas, scored right by pyslet,
faithful to the seed text, and carrying author text as data."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pyslet.qtiv2.variables as qti_variables
import pyslet.qtiv2.xml as qti_xml
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from lms.radiology_course import CASE_ID, SERIES_SLICES, make_radiology_course
from qtiexport.markdown import markdown_to_text
from qtiexport.model import Case, Course, Question
from qtiexport.qti import answer_pattern, assessment_test_href, item_href, render_qti_package
from qtiexport.questions.text import normalise_answer
from qtiexport.validate import validate_course

from conftest import CONTENT, FIXTURES, SEED_TEXT
from seed_text import normalise, read_seed

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI = f"{{{QTI_NS}}}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
MD = "{http://www.imsglobal.org/xsd/imsmd_v1p2}"
QTI_META = "{http://www.imsglobal.org/xsd/imsqti_metadata_v2p1}"
ALL_TYPES = FIXTURES / "all-types"
INJECTION = FIXTURES / "player-injection"
COURSES = pytest.mark.parametrize("folder", [CONTENT, ALL_TYPES], ids=["seed", "all-types"])


@pytest.fixture(scope="module")
def all_types() -> Course:
    return validate_course(ALL_TYPES)


def package(course: Course) -> dict[str, bytes]:
    return {entry.name: entry.read() for entry in render_qti_package(course)}


def item_of(files: dict[str, bytes], case: Case, question: Question) -> etree._Element:
    return etree.fromstring(files[item_href(case, question)])


def words(element: etree._Element) -> str:
    return normalise(" ".join(element.itertext()))


@pytest.mark.parametrize(
    "folder", [CONTENT, ALL_TYPES, INJECTION], ids=["seed", "all-types", "injection"]
)
def test_every_document_is_valid_against_the_official_schemas(folder: Path, schema_set) -> None:
    course = validate_course(folder)
    entries = render_qti_package(course)
    checked = {e.name: e.schema for e in entries if e.schema}
    assert checked == {
        "imsmanifest.xml": "qti-manifest",
        **{assessment_test_href(case): "qti" for case in course.cases},
        **{item_href(case, q): "qti" for case in course.cases for q in case.questions},
    }
    for entry in entries:
        if entry.schema:
            assert schema_set.problems(entry.name, entry.schema, entry.read()) == [], entry.name


# --- scoring, by an independent QTI engine -------------------------------------------


def run_pyslet(item_xml: bytes, response) -> tuple[float, set[str]]:
    """Run the item's own response processing in pyslet; return SCORE and FEEDBACK."""
    document = qti_xml.QTIDocument()
    document.read(src=item_xml)
    item = document.root
    # `begin_attempt` also renders the item as HTML for pyslet's demo player, and that
    # renderer fails on standard items: for a choiceInteraction with maxChoices != 1 it
    # tests `identifier in RESPONSE.value` while RESPONSE is still NULL (a response
    # without defaultValue starts NULL), and TextEntryInteraction.render_html raises
    # NotImplementedError. Scoring (`end_attempt` → responseProcessing) never renders.
    item.render_html = lambda *args, **kwargs: None
    state = qti_variables.ItemSessionState(item)
    state.begin_session()
    state.begin_attempt()
    # The item's one response variable (true_false names it TF_RESPONSE for Canvas).
    state[item.ResponseDeclaration[0].identifier].set_value(response)
    state.end_attempt()
    feedback = state["FEEDBACK"].value
    return state["SCORE"].value, set(feedback) if feedback else set()


def is_last_of(case: Case, question: Question) -> bool:
    return question is case.questions[-1]


def intended(case: Case, question: Question, response) -> tuple[float, set[str], list[str]]:
    """What the author's YAML means for a response, worked out from the model: the score,
    the FEEDBACK values, and the author's texts the learner must then be shown."""
    correct = set(question.correct)
    if question.type == "text":
        # As the SCORM player: letter case, white space around and between the words and
        # punctuation at the end do not count (tests/test_question_text_matching.py).
        typed = normalise_answer(response) if response is not None else None
        right = typed in {normalise_answer(a) for a in correct}
        score = question.points if right else 0.0
    elif question.type == "multiple":
        chosen = set(response or ())
        right = chosen == correct
        if question.scoring == "partial":
            # Each correct choice earns points/n, each wrong one costs as much, bounded.
            share = question.points / len(correct)
            raw = share * len(chosen & correct) - share * len(chosen - correct)
            score = min(max(raw, 0.0), question.points)
        else:
            score = question.points if right else 0.0
    else:
        right = response in correct
        score = question.points if right else 0.0
    given = question.feedback
    feedback = {"correct" if right else "incorrect"}
    texts = [given.correct if right else given.incorrect]
    chosen_keys = set(response or ()) if question.type == "multiple" else {response}
    for choice in question.choices:
        if choice.feedback and choice.key in chosen_keys:
            feedback.add(f"choice-{choice.key}")
            texts.append(choice.feedback)
    # After the last question: the diagnosis, the teaching, the findings, the references.
    findings = [image.findings for image in case.images if image.findings]
    teaching = is_last_of(case, question) and (
        case.teaching or case.diagnosis or findings or case.references
    )
    if given.explanation or teaching:
        feedback.add("general_feedback")
        texts.append(given.explanation)
        if teaching:
            texts += [case.diagnosis, *(s.body for s in case.teaching), *findings]
            texts += case.references
    return score, feedback, [t for t in texts if t]


def every_response(question: Question):
    keys = [c.key for c in question.choices]
    if question.type == "multiple":
        for size in range(0, min(5, len(keys)) + 1):
            for subset in itertools.combinations(keys, size):
                yield list(subset)
    elif question.type == "text":
        for answer in question.correct:
            yield answer.upper()
            yield answer.swapcase()
            yield answer.title()
            yield f"  {answer.lower()}\t"  # spaces around: still right
            yield answer.replace(" ", "  ") + "."  # spaces between, a full stop: right
            yield answer.replace(" ", "") if " " in answer else f"{answer}s"  # wrong
        yield "a wrong answer"
    else:
        yield from keys


def shown_text(item: etree._Element, feedback: set[str]) -> str:
    """The words of the modal feedback a player shows for these FEEDBACK values."""
    shown = [
        m
        for m in item.iter(f"{QTI}modalFeedback")
        if m.get("outcomeIdentifier") == "FEEDBACK"
        and m.get("showHide") == "show"
        and m.get("identifier") in feedback
    ]
    assert {m.get("identifier") for m in shown} == feedback, "a FEEDBACK value shows nothing"
    return " ".join(words(m) for m in shown)


@COURSES
def test_pyslet_scores_every_response_as_intended(folder: Path) -> None:
    checked = assert_pyslet_scores_as_intended(validate_course(folder))
    assert checked >= (25 if folder == CONTENT else 60)


def test_pyslet_scores_items_with_tables_series_findings_and_references(tmp_path: Path) -> None:
    course = validate_course(make_radiology_course(tmp_path / "course"))
    assert assert_pyslet_scores_as_intended(course) == 3 + 8 + 2


def tight(text: str) -> str:
    """Text without the space `words` puts between a link and the full stop after it."""
    return re.sub(r" +([.,;:])", r"\1", text)


def assert_pyslet_scores_as_intended(course: Course) -> int:
    """Run every response to every item in pyslet; return how many were checked."""
    files = package(course)
    checked = 0
    for case in course.cases:
        for question in case.questions:
            item_xml = files[item_href(case, question)]
            item = etree.fromstring(item_xml)
            for response in every_response(question):
                score, feedback = run_pyslet(item_xml, response)
                expected_score, expected_feedback, texts = intended(case, question, response)
                assert score == pytest.approx(expected_score), (question.id, response)
                assert feedback == expected_feedback, (question.id, response)
                seen = tight(shown_text(item, feedback))
                for text in texts:
                    assert tight(normalise(markdown_to_text(text))) in seen, (question.id, text)
                checked += 1
    return checked


def test_unanswered_items_score_zero(all_types: Course) -> None:
    files = package(all_types)
    for case in all_types.cases:
        for question in case.questions:
            score, feedback = run_pyslet(files[item_href(case, question)], None)
            assert score == 0.0 and "incorrect" in feedback, question.id


def test_default_feedback_names_the_right_answer(all_types: Course) -> None:
    """Without an author's text, a wrong answer is told the right one."""
    files = package(all_types)
    multiple_all = all_types.question("multiple_all")
    text = shown_text(item_of(files, *multiple_all), {"incorrect"})
    assert text == "Incorrect. The correct answer: (a) One; (c) Three."
    text_answers = all_types.question("text_answers")
    text = shown_text(item_of(files, *text_answers), {"incorrect"})
    assert text == "Incorrect. Accepted answers: Sedimentation sign, liquid calcium."
    assert shown_text(item_of(files, *text_answers), {"correct"}) == "Correct."


# --- what a platform reads --------------------------------------------------------------


def test_response_declarations_and_processing(all_types: Course) -> None:
    files = package(all_types)
    for case in all_types.cases:
        for question in case.questions:
            item = item_of(files, case, question)
            declaration = item.find(f"{QTI}responseDeclaration")
            correct = [v.text for v in declaration.iterfind(f"{QTI}correctResponse/{QTI}value")]
            mapping = {
                e.get("mapKey"): (e.get("mappedValue"), e.get("caseSensitive"))
                for e in declaration.iterfind(f"{QTI}mapping/{QTI}mapEntry")
            }
            processing = item.find(f"{QTI}responseProcessing")
            # Written out: Canvas and others do not fetch template URIs.
            assert processing.get("template") is None and len(processing), question.id
            if question.type == "text":
                assert declaration.get("baseType") == "string"
                assert correct == [question.correct[0]]
                assert mapping == {a: (f"{question.points:g}", "false") for a in question.correct}
                matches = processing.findall(f".//{QTI}stringMatch")
                assert [m.get("caseSensitive") for m in matches] == ["false"] * len(matches)
                assert [m.findtext(f"{QTI}baseValue") for m in matches] == list(question.correct)
            else:
                assert declaration.get("baseType") == "identifier"
                assert correct == list(question.correct)
                assert declaration.get("cardinality") == (
                    "multiple" if question.type == "multiple" else "single"
                )
                partial = question.type == "multiple" and question.scoring == "partial"
                assert bool(mapping) == partial
                assert (processing.find(f".//{QTI}mapResponse") is not None) == partial


def test_item_body(all_types: Course) -> None:
    files = package(all_types)
    case = all_types.cases[0]
    single = case.questions[0]
    item = item_of(files, case, single)
    assert item.get("identifier") == "every-type.single_options"
    assert item.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    interaction = item.find(f".//{QTI}choiceInteraction")
    assert (interaction.get("shuffle"), interaction.get("maxChoices")) == ("true", "1")
    fixed = {c.get("identifier"): c.get("fixed") for c in interaction.iter(f"{QTI}simpleChoice")}
    assert fixed == {"a": "false", "b": "false", "c": "false", "d": "true"}
    multiple = item_of(files, *all_types.question("multiple_all"))
    assert multiple.find(f".//{QTI}choiceInteraction").get("maxChoices") == "0"
    assert multiple.find(f".//{QTI}choiceInteraction").get("shuffle") == "false"
    # The case history and every case image open the first item, in the QTI namespace;
    # the question's own images are not shown a second time.
    history = item.find(f"{QTI}itemBody/{QTI}div[@class='case']")
    assert history.findtext(f"{QTI}h2") == "Every type & option <in one case>"
    assert history.find(f".//{QTI}sup").text == "2+"
    assert history.find(f".//{QTI}a").get("href") == "https://example.org/a?b=1&c=2"
    images = [i.get("alt") for i in item.iter(f"{QTI}img")]
    assert images == [image.alt for image in case.images]
    for element in item.iter(f"{QTI}itemBody"):
        for child in element.iter():
            assert etree.QName(child).namespace == QTI_NS
    later = item_of(files, case, case.questions[1])
    assert later.find(f".//{QTI}div[@class='case']") is None
    # Several accepted answers: a one-line extended text, which Canvas imports with all
    # of them (tests/test_canvas_import.py).
    text_entry = item_of(files, *all_types.question("text_answers"))
    extended = text_entry.find(f".//{QTI}extendedTextInteraction")
    assert (extended.get("expectedLength"), extended.get("expectedLines")) == ("40", "1")
    modal = [m.get("identifier") for m in item.iter(f"{QTI}modalFeedback")]
    assert modal == ["correct", "incorrect", "choice-a", "choice-c", "general_feedback"]


def test_images_carry_alt_and_the_size_read_from_the_file(all_types: Course) -> None:
    files = package(all_types)
    by_alt = {image.alt: image for case in all_types.cases for image in case.images}
    seen = set()
    for name, data in files.items():
        if name.endswith(".xml") and name != "imsmanifest.xml":
            for img in etree.fromstring(data).iter(f"{QTI}img"):
                image = by_alt[img.get("alt")]
                assert (img.get("width"), img.get("height")) == (
                    str(image.width),
                    str(image.height),
                )
                seen.add(image.id)
    assert seen == {"photo", "drawing", "deposit"}
    assert (by_alt["A drawing"].width, by_alt['A grey photograph "quoted" & escaped'].width) == (
        120,
        64,
    )


def test_feedback_identifiers_survive_canvas_import(all_types: Course) -> None:
    """Canvas's importer files modal feedback by identifier: containing "incorrect" →
    incorrect comment; then "correct" or ending "_c" → correct comment; "general_" →
    general comment; others are dropped. Each of ours must land where it means."""
    files = package(all_types)

    def canvas_slot(identifier: str) -> str | None:
        if re.search(r"wrong|incorrect|_IC$", identifier, re.I):
            return "incorrect"
        if re.search(r"correct|_C$", identifier, re.I):
            return "correct"
        if re.search(r"general_|_all", identifier, re.I):
            return "general"
        return None

    for case in all_types.cases:
        for question in case.questions:
            for modal in item_of(files, case, question).iter(f"{QTI}modalFeedback"):
                identifier = modal.get("identifier")
                wanted = {"correct": "correct", "incorrect": "incorrect"}.get(identifier)
                if identifier == "general_feedback":
                    wanted = "general"
                # Per-choice feedback reaches Canvas through the response condition.
                assert canvas_slot(identifier) == wanted, identifier


def test_test_is_linear_individual_and_totals_score(all_types: Course) -> None:
    files = package(all_types)
    case = all_types.cases[0]
    test = etree.fromstring(files[assessment_test_href(case)])
    part = test.find(f"{QTI}testPart")
    assert (part.get("navigationMode"), part.get("submissionMode")) == ("linear", "individual")
    sections = part.findall(f"{QTI}assessmentSection")
    assert len(sections) == 1
    refs = sections[0].findall(f"{QTI}assessmentItemRef")
    assert [(r.get("identifier"), r.get("href")) for r in refs] == [
        (f"every-type.{q.id}", item_href(case, q)) for q in case.questions
    ]
    # Canvas takes each question's points from the weight; nothing else applies it.
    assert [r.find(f"{QTI}weight").get("value") for r in refs] == ["2", "1", "3", "1", "1", "1.5"]
    assert test.find(f".//{QTI}testVariables[@weightIdentifier]") is None
    rubric = sections[0].find(f"{QTI}rubricBlock")
    assert "A history with “quotes”" in words(rubric)
    assert [i.get("alt") for i in rubric.iter(f"{QTI}img")] == [i.alt for i in case.images]
    for outcome in ("SCORE", "MAXSCORE"):
        total = test.find(f"{QTI}outcomeProcessing/{QTI}setOutcomeValue[@identifier='{outcome}']")
        assert total.find(f"{QTI}sum/{QTI}testVariables").get("variableIdentifier") == outcome
    maxscore = test.find(f"{QTI}outcomeDeclaration[@identifier='MAXSCORE']")
    assert maxscore.findtext(f".//{QTI}value") == "9.5" == f"{case.max_score:g}"
    assert "Second point" in words(test.find(f"{QTI}testFeedback"))


def test_test_identifiers_differ_from_question_ids(all_types: Course) -> None:
    """Questions named `part` and `section` are named with their case, and leave those
    names to the test part and section."""
    case = all_types.cases[1]
    test = etree.fromstring(package(all_types)[assessment_test_href(case)])
    structural = [
        e.get("identifier")
        for e in test.iter(f"{QTI}testPart", f"{QTI}assessmentSection", f"{QTI}assessmentItemRef")
    ]
    assert structural == ["part", "section", f"{case.id}.part", f"{case.id}.section"]
    assert test.find(f"{QTI}testFeedback") is None  # no teaching, no diagnosis


def test_manifest_lists_every_file_with_dependencies(all_types: Course) -> None:
    files = package(all_types)
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = {r.get("identifier"): r for r in manifest.iter(f"{CP}resource")}
    case = all_types.cases[0]
    test = resources["test-every-type"]
    assert (test.get("type"), test.get("href")) == (
        "imsqti_test_xmlv2p1",
        assessment_test_href(case),
    )
    deps = [d.get("identifierref") for d in test.iter(f"{CP}dependency")]
    assert deps == [f"item-every-type.{q.id}" for q in case.questions] + ["media-every-type"]
    for dep in (d for r in resources.values() for d in r.iter(f"{CP}dependency")):
        assert dep.get("identifierref") in resources
    for question_case, question in ((c, q) for c in all_types.cases for q in c.questions):
        item = resources[f"item-{question_case.id}.{question.id}"]
        href = item_href(question_case, question)
        assert (item.get("type"), item.get("href")) == ("imsqti_item_xmlv2p1", href)
        assert [f.get("href") for f in item.iter(f"{CP}file")] == [href]
        kind = "choiceInteraction"
        if question.type == "text":
            several = len(question.correct) > 1
            kind = "extendedTextInteraction" if several else "textEntryInteraction"
        assert item.findtext(f".//{QTI_META}interactionType") == kind
        assert item.findtext(f".//{QTI_META}toolName") == "qtiexport"
        assert item.findtext(f".//{QTI_META}toolVersion")
        uses_images = question.images or (question is case.questions[0] and case.images)
        media = [d.get("identifierref") for d in item.iter(f"{CP}dependency")]
        assert media == (["media-every-type"] if uses_images else []), question.id
    media = resources["media-every-type"]
    assert media.get("type") == "webcontent"
    assert len(list(media.iter(f"{CP}file"))) == 4  # three images and one annotated version
    title = f"{CP}metadata/{MD}lom/{MD}general/{MD}title/{MD}langstring"
    assert manifest.findtext(title) == "Every question type"


# --- faithful and safe ------------------------------------------------------------------


def test_every_seed_line_is_in_the_package(seed_course: Course) -> None:
    files = package(seed_course)
    documents = [etree.fromstring(data) for name, data in files.items() if name.endswith(".xml")]
    text = normalise(" ".join(words(d) for d in documents if d.tag != f"{CP}manifest"))
    seed = read_seed(SEED_TEXT)
    missing = [line for line in seed.other_lines if line not in text]
    assert not missing
    assert set(seed.questions) == {q.id for q in seed_course.cases[0].questions}
    for qid, stem in seed.questions.items():
        item = item_of(files, *seed_course.question(qid))
        assert stem in words(item.find(f"{QTI}itemBody/{QTI}div[@class='stem']"))
        choices = {c.get("identifier"): words(c) for c in item.iter(f"{QTI}simpleChoice")}
        assert choices == seed.choices[qid]
        key, answer = seed.answers[qid]
        assert item.findtext(f".//{QTI}correctResponse/{QTI}value") == key
        assert choices[key] == answer


def test_text_survives_as_utf8(seed_course: Course, all_types: Course) -> None:
    """Curly quotes, dashes, Greek letters and `Ca+` are written as themselves: no
    character reference stands in for anything beyond ASCII."""
    data = b"".join(package(seed_course).values()) + b"".join(
        v for k, v in package(all_types).items() if k.endswith(".xml")
    )
    for text in ("“chicken wire”", "Ca+", "–", "α–β", "“quotes”"):
        assert text.encode("utf-8") in data, text
    # A text answer's pattern writes the characters one cannot see (spaces other than
    # U+0020, combining accents) as references on purpose (questions/text.py).
    outside_patterns = re.sub(rb'<patternMatch pattern="[^"]*"', b"", data)
    references = re.findall(rb"&#(x[0-9a-fA-F]+|[0-9]+);", outside_patterns)
    code_points = [int(r[1:], 16) if r.startswith(b"x") else int(r) for r in references]
    assert all(c < 128 for c in code_points)


def names(text: str) -> set[str]:
    return set(text.split())


ALLOWED_ELEMENTS = names(
    # QTI structure this renderer writes …
    "assessmentItem responseDeclaration correctResponse value mapping mapEntry "
    "outcomeDeclaration defaultValue itemBody choiceInteraction simpleChoice "
    "textEntryInteraction responseProcessing responseCondition responseIf responseElse "
    "match correct isNull mapResponse setOutcomeValue variable baseValue multiple member "
    "or stringMatch patternMatch modalFeedback assessmentTest testPart assessmentSection "
    "rubricBlock "
    "assessmentItemRef weight outcomeProcessing sum testVariables testFeedback "
    # … and the XHTML subset of markdown_to_xhtml and the figures.
    "p ul ol li pre blockquote h1 h2 h3 h4 h5 h6 hr em strong code a br sub sup b i small "
    "abbr div img"
)


def test_author_text_is_data_never_markup(schema_set) -> None:
    """A course full of markup-like text gives only the elements and attributes we write,
    and the author's characters come back as text."""
    course = validate_course(INJECTION)
    files = package(course)
    case = course.cases[0]
    for name, data in files.items():
        if not name.endswith(".xml") or name == "imsmanifest.xml":
            continue
        for element in etree.fromstring(data).iter():
            assert isinstance(element.tag, str), f"{name}: a comment or PI came through"
            assert etree.QName(element).localname in ALLOWED_ELEMENTS, (name, element.tag)
            for attribute, value in element.attrib.items():
                assert not attribute.lower().startswith("on"), (name, attribute)
                assert "javascript:" not in value.lower(), (name, attribute)
    test = etree.fromstring(files[assessment_test_href(case)])
    assert test.get("title") == case.title
    assert test.findtext(f".//{QTI}rubricBlock/{QTI}h2") == case.title
    alt = test.find(f".//{QTI}img").get("alt")
    assert alt == case.images[0].alt and "<script>" in alt
    manifest = etree.fromstring(files["imsmanifest.xml"])
    keywords = [k.text for k in manifest.iter(f"{MD}langstring")]
    assert "</script><script>alert('keyword')</script>" in keywords


def test_references_are_plain_relative_paths_that_resolve(all_types: Course) -> None:
    """Every `src` and `href` inside the documents names a file of the package, relative,
    without `..`, so importers find it whether they resolve against the document or the
    package root (Canvas matches image paths as written)."""
    from urllib.parse import unquote, urlsplit

    files = package(all_types)
    checked = 0
    for name, data in files.items():
        if not name.endswith(".xml") or name == "imsmanifest.xml":
            continue
        root = etree.fromstring(data)
        references = [i.get("src") for i in root.iter(f"{QTI}img")]
        references += [r.get("href") for r in root.iter(f"{QTI}assessmentItemRef")]
        for reference in references:
            parts = urlsplit(reference)
            assert not parts.scheme and not parts.netloc and not reference.startswith("/")
            assert ".." not in reference.split("/")
            assert unquote(parts.path) in files, (name, reference)
            checked += 1
    assert "media/every-type/images/Ca+ deposit #2 – röntgen.png" in files
    assert checked >= 14


def xsd_pattern_accepts(pattern: str, text: str) -> bool:
    """Ask libxml2's XML Schema engine, not our code, whether `pattern` matches `text`."""
    xsd = etree.XMLSchema(
        etree.fromstring(
            '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="v">'
            '<xs:simpleType><xs:restriction base="xs:string"><xs:pattern value="'
            + pattern.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            + '"/></xs:restriction></xs:simpleType></xs:element></xs:schema>'
        )
    )
    value = etree.Element("v")
    value.text = text
    return xsd.validate(etree.ElementTree(value))


WORD = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1)


@given(st.lists(WORD, min_size=1, max_size=4).map(" ".join))
def test_answer_patterns_accept_the_answer_in_any_case_with_spaces_around(answer: str) -> None:
    pattern = answer_pattern(answer)
    assert xsd_pattern_accepts(pattern, answer)
    upper = "".join(c.upper() if len(c.upper()) == 1 else c for c in answer)
    assert xsd_pattern_accepts(pattern, f" \t{upper}  ")
    assert not xsd_pattern_accepts(pattern, answer + "x")
    assert not xsd_pattern_accepts(pattern, "x" + answer)


# --- series, findings and references -------------------------------------------------


def test_a_series_shows_its_first_slice_and_says_so(tmp_path: Path) -> None:
    course = validate_course(make_radiology_course(tmp_path / "course"))
    files = package(course)
    rubric = etree.fromstring(files[f"test-{CASE_ID}.xml"]).find(f".//{QTI}rubricBlock")
    item = etree.fromstring(files[f"item-{CASE_ID}.q2.xml"])  # q2 shows the series
    for where in (rubric, item):
        figure = [
            f
            for f in where.iter(f"{QTI}div")
            if f.get("class") == "figure" and "/t2/" in f.find(f".//{QTI}img").get("src")
        ]
        assert len(figure) == 1
        img = figure[0].find(f".//{QTI}img")
        assert img.get("src") == f"media/{CASE_ID}/images/t2/slice-1.png"
        assert img.get("alt").endswith(f"(slice 1 of {SERIES_SLICES})")
        assert words(figure[0]).startswith(f"Axial T2, 24 slices Slice 1 of {SERIES_SLICES}.")


def test_findings_and_references_close_the_last_item_and_the_test(tmp_path: Path) -> None:
    course = validate_course(make_radiology_course(tmp_path / "course"))
    case = course.cases[0]
    files = package(course)
    last = etree.fromstring(files[item_href(case, case.questions[-1])])
    general = last.find(f"{QTI}modalFeedback[@identifier='general_feedback']")
    test_feedback = etree.fromstring(files[f"test-{CASE_ID}.xml"]).find(f"{QTI}testFeedback")
    for feedback in (general, test_feedback):
        headings = [h.text for h in feedback if h.tag in (f"{QTI}h3", f"{QTI}h4")]
        # after the teaching points, each image's findings under its caption, then references
        assert headings == [
            "Phases",
            "Findings",
            "Fig. 1 Frontal radiograph",
            "Axial T2, 24 slices",
            "References",
        ]
        text = words(feedback)
        assert "A round, well-defined calcified mass in the soft tissue." in text
        assert "High signal rim on the middle slices." in text
        links = feedback.findall(f"{QTI}ul/{QTI}li/{QTI}a")
        assert [(a.get("href"), a.text) for a in links] == [
            ("https://example.org/review", "A review")
        ]
    for question in case.questions[:-1]:  # findings would give the answers away
        assert b"calcified mass in the soft tissue" not in files[item_href(case, question)]

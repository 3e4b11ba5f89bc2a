"""What Canvas's QTI 2.1 import makes of our items, from the structures it keys on.

Canvas (classic quizzes, "QTI .zip" import) reads an item with Nokogiri CSS selectors in
instructure/canvas-lms, gems/plugins/qti_exporter/lib/qti/ (cited below by file and
method). No Canvas runs here: each test asserts, on the generated XML, exactly what those
selectors look for, with lxml XPath standing in for them (`a b` in CSS, a descendant, is
`.//b` from `a`; `[x^=TF]` is starts-with, case-sensitive). The same items stay valid
against the official XSD and score the same in pyslet, an independent QTI engine.
"""

from __future__ import annotations

import re

import pyslet.qtiv2.variables as qti_variables
import pyslet.qtiv2.xml as qti_xml
import pytest
from lxml import etree

from qtiexport.model import Course
from qtiexport.qti import render_item, render_manifest
from qtiexport.validate import validate_course

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
NS = {"q": QTI_NS}
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"

COURSE = """\
id: canvas
title: Canvas import
language: en
version: "1.0"
authors: [Test Author]
license: CC0
cases: [c1]
"""
CASE = """\
id: c1
title: A case
history: A history.
"""
QUESTIONS = """\
questions:
  - id: tf_yes
    type: true_false
    stem: The statement holds.
    answer: true
    points: 2
    feedback:
      correct: Yes.
      incorrect: No.
      explanation: Because.
  - id: tf_no
    type: true_false
    stem: The statement does not hold.
    answer: false
  - id: text_one
    type: text
    stem: One accepted answer.
    answer: Calcinosis
  - id: text_several
    type: text
    stem: Several accepted answers.
    answer: [Sedimentation sign, liquid calcium, "Ca2+ & fluid"]
    max_length: 60
    points: 3
  - id: multiple_one
    type: multiple
    stem: Every correct one (only one is).
    choices: {a: One, b: Two, c: Three}
    answer: [b]
  - id: multiple_two
    type: multiple
    stem: Every correct one.
    choices: {a: One, b: Two, c: Three}
    answer: [a, c]
    scoring: partial
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    root = tmp_path_factory.mktemp("canvas") / "content"
    (root / "cases" / "c1").mkdir(parents=True)
    (root / "course.yaml").write_text(COURSE, encoding="utf-8")
    (root / "cases" / "c1" / "case.yaml").write_text(CASE, encoding="utf-8")
    (root / "cases" / "c1" / "questions.yaml").write_text(QUESTIONS, encoding="utf-8")
    return validate_course(root)


def item_xml(course: Course, question_id: str) -> bytes:
    case, question = course.question(question_id)
    return render_item(course, case, question)


def item(course: Course, question_id: str) -> etree._Element:
    return etree.fromstring(item_xml(course, question_id))


def plain_text(element: etree._Element) -> str:
    """A simpleChoice's text as Canvas takes it: tags dropped, spaces collapsed
    (choice_interaction.rb, `get_answers`)."""
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def canvas_guess(element: etree._Element) -> str | None:
    """The interaction Canvas picks when no interactionType is visible to it (ours sits
    in the imsqti_metadata namespace, which it does not search): the first that holds in
    question_type_educated_guesser.rb, `educatedly_guess_type`."""
    for name in (
        "choiceInteraction",
        "associateInteraction",
        "extendedTextInteraction",
        "textEntryInteraction",
        "matchInteraction",
    ):
        if element.find(f".//q:{name}", NS) is not None:
            return name
    return None


def response_conditions(element: etree._Element) -> list[etree._Element]:
    """`@doc.search("responseProcessing responseCondition")`: every responseCondition
    under responseProcessing, at any depth."""
    return element.xpath("//q:responseProcessing//q:responseCondition", namespaces=NS)


def run_pyslet(xml: bytes, response) -> tuple[float, set[str]]:
    """The item's own response processing in pyslet: SCORE and FEEDBACK."""
    document = qti_xml.QTIDocument()
    document.read(src=xml)
    assessment_item = document.root
    assessment_item.render_html = lambda *args, **kwargs: None  # see tests/test_qti.py
    state = qti_variables.ItemSessionState(assessment_item)
    state.begin_session()
    state.begin_attempt()
    state[assessment_item.ResponseDeclaration[0].identifier].set_value(response)
    state.end_attempt()
    feedback = state["FEEDBACK"].value
    return state["SCORE"].value, set(feedback) if feedback else set()


# --- true_false → Canvas true_false_question ---------------------------------------------


def canvas_choice_question(element: etree._Element) -> tuple[str, dict[str, int]]:
    """Canvas's ChoiceInteraction on one of our items (choice_interaction.rb): the question
    type and each answer's weight. Only the branches our items can reach are modelled;
    the test asserts that the earlier branches cannot fire."""
    choices = element.xpath("//q:choiceInteraction//q:simpleChoice", namespaces=NS)
    weights = {c.get("identifier"): 0 for c in choices}  # `get_answers`
    texts = {c.get("identifier"): plain_text(c) for c in choices}
    question_type = None
    for condition in response_conditions(element):  # `process_response_conditions`
        # Branches before the TF one: multiple dropdowns and Blackboard (no
        # instructureField in ours), then RESP_MC / response variables.
        assert not condition.xpath(
            ".//q:match/q:variable[@identifier='RESP_MC' or @identifier='response']"
            " | .//q:member/q:variable[@identifier='RESP_MC']",
            namespaces=NS,
        )
        if condition.xpath(".//q:match/q:variable[starts-with(@identifier, 'TF')]", namespaces=NS):
            # `cond.at_css("match baseValue[baseType=identifier]").text`, not stripped,
            # must name a choice, or the item is imported as an "Error" question.
            first = condition.xpath(".//q:match/q:baseValue[@baseType='identifier']", namespaces=NS)
            assert first, "a TF match without a baseValue fails Canvas's import"
            assert first[0].text in weights, "a TF match must name a choice exactly"
            question_type = "true_false_question"
    for value in element.xpath("//q:correctResponse/q:value", namespaces=NS):
        if value.text in weights:  # "Check if there are correct answers explicitly specified"
            weights[value.text] = 100
    if question_type is None:  # `set_question_type`: ||=
        correct = sum(1 for w in weights.values() if w > 0)
        question_type = "multiple_choice_question" if correct == 1 else "multiple_answers_question"
    if question_type == "true_false_question":  # `process_true_false_question`
        true = [k for k, t in texts.items() if re.search("true", t, re.I)]
        false = [k for k, t in texts.items() if re.search("false", t, re.I) and k not in true[:1]]
        if not (len(texts) == 2 and true and false):
            question_type = "multiple_choice_question"
    return question_type, weights


@pytest.mark.parametrize(("question_id", "right"), [("tf_yes", "true"), ("tf_no", "false")])
def test_true_false_is_the_shape_canvas_imports_as_true_false(
    course: Course, question_id: str, right: str
) -> None:
    element = item(course, question_id)
    assert canvas_guess(element) == "choiceInteraction"
    assert len(element.findall(".//q:choiceInteraction", NS)) == 1  # >1 would be matching
    # The response Canvas's TF branch keys on: a `match` on a variable named TF….
    declaration = element.find("q:responseDeclaration", NS)
    assert declaration.get("identifier").startswith("TF")
    matches = element.xpath(
        "//q:responseProcessing//q:match[q:variable[starts-with(@identifier, 'TF')]]",
        namespaces=NS,
    )
    assert len(matches) == 1
    # Against the correct choice named outright, never <correct/> (Canvas: nil → "Error").
    assert [etree.QName(child).localname for child in matches[0]] == ["variable", "baseValue"]
    assert matches[0][1].get("baseType") == "identifier" and matches[0][1].text == right
    assert not element.xpath("//q:match/q:correct", namespaces=NS)
    # Exactly two choices whose texts say True and False.
    choices = element.findall(".//q:simpleChoice", NS)
    assert [(c.get("identifier"), plain_text(c)) for c in choices] == [
        ("true", "True"),
        ("false", "False"),
    ]
    assert canvas_choice_question(element) == (
        "true_false_question",
        {"true": 100 if right == "true" else 0, "false": 100 if right == "false" else 0},
    )


def test_true_false_still_scores_the_same_in_pyslet(course: Course) -> None:
    yes, no = item_xml(course, "tf_yes"), item_xml(course, "tf_no")
    assert run_pyslet(yes, "true") == (2.0, {"correct", "general_feedback"})
    assert run_pyslet(yes, "false") == (0.0, {"incorrect", "general_feedback"})
    assert run_pyslet(yes, None) == (0.0, {"incorrect", "general_feedback"})
    assert run_pyslet(no, "false") == (1.0, {"correct"})
    assert run_pyslet(no, "true") == (0.0, {"incorrect"})


def test_multiple_with_one_correct_choice_becomes_single_choice_in_canvas(course: Course) -> None:
    """Canvas counts the correct answers (choice_interaction.rb, `set_question_type`):
    one makes a multiple_choice_question (radio buttons), more a multiple_answers_question.
    The QTI stays `multiple` (check boxes, every correct choice); the README says so."""
    one = item(course, "multiple_one")
    assert one.find("q:responseDeclaration", NS).get("cardinality") == "multiple"
    assert canvas_choice_question(one) == ("multiple_choice_question", {"a": 0, "b": 100, "c": 0})
    two = item(course, "multiple_two")
    assert canvas_choice_question(two) == (
        "multiple_answers_question",
        {"a": 100, "b": 0, "c": 100},
    )


# --- text → every accepted answer ---------------------------------------------------------


def canvas_short_answers(element: etree._Element) -> list[str]:
    """The accepted texts Canvas's ExtendedTextInteraction collects
    (extended_text_interaction.rb, `process_response_conditions`): from every `stringMatch`
    or `match` in a responseCondition, the first string (else identifier) baseValue,
    merged when equal and skipped when empty; then every correctResponse value."""
    answers: list[str] = []
    for condition in response_conditions(element):
        for match in condition.xpath(".//q:stringMatch | .//q:match", namespaces=NS):
            value = match.xpath(
                "(.//q:baseValue[@baseType='string'])[1]", namespaces=NS
            ) or match.xpath("(.//q:baseValue[@baseType='identifier'])[1]", namespaces=NS)
            text = value[0].text if value else None
            assert text, "a match with no baseValue gives Canvas a blank accepted answer"
            if text not in answers:
                answers.append(text)
    answers += [v.text for v in element.xpath("//q:correctResponse//q:value", namespaces=NS)]
    return answers


def test_every_accepted_text_answer_reaches_canvas(course: Course) -> None:
    _, question = course.question("text_several")
    element = item(course, "text_several")
    # Canvas's guess finds the extended text first; no text entry would win instead.
    assert canvas_guess(element) == "extendedTextInteraction"
    assert element.find(".//q:textEntryInteraction", NS) is None
    interaction = element.find("q:itemBody/q:extendedTextInteraction", NS)
    assert interaction is not None, "a direct child of itemBody, outside the stem's divs"
    # One line high, as long as the author allows, bound to the one string response.
    assert (interaction.get("expectedLines"), interaction.get("expectedLength")) == ("1", "60")
    declaration = element.find("q:responseDeclaration", NS)
    assert (declaration.get("cardinality"), declaration.get("baseType")) == ("single", "string")
    assert interaction.get("responseIdentifier") == declaration.get("identifier")
    answers = canvas_short_answers(element)
    # Every accepted answer, as written; the correct response repeats the first (harmless:
    # Canvas's short answer grading takes the first match, trimmed and in lower case).
    assert answers == [*question.correct, question.correct[0]]
    assert question.correct == ("Sedimentation sign", "liquid calcium", "Ca2+ & fluid")


def test_a_single_accepted_answer_stays_a_text_entry_canvas_reads(course: Course) -> None:
    """One accepted answer: the one-line text entry every player shows. Canvas makes a
    fill-in-the-blank question whose answers are the correctResponse values
    (fill_in_the_blank.rb, `process_text_entry`): here the one answer."""
    element = item(course, "text_one")
    assert canvas_guess(element) == "textEntryInteraction"
    assert element.find(".//q:extendedTextInteraction", NS) is None
    assert element.find("q:itemBody/q:p/q:textEntryInteraction", NS) is not None
    values = element.xpath("//q:responseDeclaration/q:correctResponse/q:value", namespaces=NS)
    assert [v.text for v in values] == ["Calcinosis"]


def test_text_answers_still_score_the_same_in_pyslet(course: Course) -> None:
    several = item_xml(course, "text_several")
    right = ("Sedimentation sign", "LIQUID CALCIUM", "  ca2+ & FLUID\n", "liquid  calcium.")
    for answer in right:
        assert run_pyslet(several, answer) == (3.0, {"correct"}), answer
    for wrong in ("liquid", "liquidcalcium", "Ca2 & fluid", "", None):
        assert run_pyslet(several, wrong) == (0.0, {"incorrect"}), wrong
    one = item_xml(course, "text_one")
    assert run_pyslet(one, " calcinosis ") == (1.0, {"correct"})
    assert run_pyslet(one, "calcinosis cutis") == (0.0, {"incorrect"})


# --- the package as a whole ---------------------------------------------------------------


def test_no_interaction_type_canvas_would_read(course: Course) -> None:
    """Canvas reads a manifest interactionType only in the content-package or the
    imsqti_v2p1(item) namespaces (assessment_item_converter.rb, `get_interaction_type`);
    one there would overrule the guess, and a text entry would then lose its answers
    (fill_in_the_blank.rb, `process_canvas`). Ours is in imsqti_metadata_v2p1 and names
    the interaction each item really has."""
    manifest = etree.fromstring(render_manifest(course))
    named = {}
    for resource in manifest.iter(f"{{{CP_NS}}}resource"):
        for element in resource.iter():
            if etree.QName(element).localname == "interactionType":
                assert etree.QName(element).namespace == (
                    "http://www.imsglobal.org/xsd/imsqti_metadata_v2p1"
                )
                named[resource.get("href")] = element.text
    case = course.cases[0]
    assert sorted(named.values()) == sorted(
        canvas_guess(etree.fromstring(render_item(course, case, q))) for q in case.questions
    )


def test_every_item_is_valid_against_the_official_schemas(course: Course, schema_set) -> None:
    case = course.cases[0]
    for question in case.questions:
        problems = schema_set.problems(question.id, "qti", render_item(course, case, question))
        assert problems == [], question.id
    assert schema_set.problems("imsmanifest.xml", "qti-manifest", render_manifest(course)) == []

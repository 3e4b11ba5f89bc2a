"""Every registered question kind has every part, and a kind that lacks one is caught.

A kind (src/qtiexport/questions/) declares its validation, its editor schema, its QTI
partial, response declaration and interaction type, its SCORM interaction type and
learner state, and its player partial and script. `missing_parts` names what a kind
lacks; a deliberately incomplete kind shows that it names each part.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from lxml import etree

from qtiexport.editor_schema import EDITOR_SCHEMAS
from qtiexport.model import Answer, Question
from qtiexport.qti import render_item
from qtiexport.questions import NAMES, REGISTRY, kind_of
from qtiexport.questions.base import Key, QuestionKind
from qtiexport.scorm import player_data, render_sco
from qtiexport.templating import environment, templates_dir
from qtiexport.tracking import encode_state, longest_response
from qtiexport.validate import validate_course

from conftest import FIXTURES

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
# QTI 2.1's interactions a response can come from, and SCORM 1.2's interaction types
# (RTE 3.4.2.7.2).
QTI_INTERACTIONS = {
    "choiceInteraction",
    "orderInteraction",
    "associateInteraction",
    "matchInteraction",
    "gapMatchInteraction",
    "inlineChoiceInteraction",
    "textEntryInteraction",
    "extendedTextInteraction",
    "hottextInteraction",
    "hotspotInteraction",
    "selectPointInteraction",
    "graphicOrderInteraction",
    "graphicAssociateInteraction",
    "graphicGapMatchInteraction",
    "positionObjectInteraction",
    "sliderInteraction",
    "drawingInteraction",
    "uploadInteraction",
    "customInteraction",
}
SCORM_INTERACTIONS = {
    "true-false",
    "choice",
    "fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
}
# What player.js asks of a question type's module.
PLAYER_METHODS = (
    "setup",
    "focusTarget",
    "read",
    "accepts",
    "points",
    "studentResponse",
    "chosenKeys",
    "show",
)
EVERY_OPTION = FIXTURES / "every-option"


def overrides(kind: QuestionKind, method: str) -> bool:
    return getattr(type(kind), method) is not getattr(QuestionKind, method)


def template_macros(name: str | None) -> set[str] | None:
    """The macros a template defines, or None when it does not exist."""
    if not name or not (templates_dir() / name).is_file():
        return None
    module = environment().get_template(name).module
    return {n for n in dir(module) if not n.startswith("_")}


def missing_parts(kind: QuestionKind) -> list[str]:
    """The parts `kind` lacks, by name; [] when it is complete."""
    missing = []
    name = getattr(kind, "name", None)
    keys = getattr(kind, "keys", ())
    if not isinstance(name, str) or not re.fullmatch(r"[a-z_]+", name):
        missing.append("name")
    if not overrides(kind, "read") or not keys:
        missing.append("validation")
    try:
        for key in keys:
            jsonschema.Draft7Validator.check_schema(key.schema)
        jsonschema.Draft7Validator.check_schema(kind.schema())
        assert set(kind.required) <= {key.name for key in keys}
    except (jsonschema.SchemaError, AssertionError, AttributeError):
        missing.append("schema")
    if getattr(kind, "qti_interaction_type", None) not in QTI_INTERACTIONS:
        missing.append("QTI interaction type")
    if not {"interaction", "correct_when"} <= (
        template_macros(getattr(kind, "qti_template", None)) or set()
    ):
        missing.append("QTI partial")
    if not all(overrides(kind, m) for m in ("qti_response", "qti_interaction", "answer_text")):
        missing.append("QTI response")
    if getattr(kind, "scorm_interaction_type", None) not in SCORM_INTERACTIONS:
        missing.append("SCORM interaction type")
    if not overrides(kind, "player_spec") or not overrides(kind, "longest_response"):
        missing.append("state encoding")
    if not {"answer", "correct_answer"} <= (
        template_macros(getattr(kind, "sco_template", None)) or set()
    ):
        missing.append("player partial")
    if not overrides(kind, "sco_answer") or not getattr(kind, "instruction", ""):
        missing.append("player view")
    script = getattr(kind, "player_script", "")
    if not script or not (templates_dir() / "scorm" / "assets" / script).is_file():
        missing.append("player script")
    return missing


@pytest.mark.parametrize("kind", REGISTRY, ids=NAMES)
def test_every_registered_kind_has_every_part(kind: QuestionKind) -> None:
    assert missing_parts(kind) == []
    assert kind_of(kind.name) is kind


class HalfDone(QuestionKind):
    """A kind someone started: a name, an answer key and its reading, nothing else."""

    name = "half_done"
    keys = (Key("answer", {"type": "string"}),)
    qti_template = "qti/questions/half_done.xml"  # never written

    def read(self, f) -> Answer | None:
        return Answer(correct=(f.text("answer") or "",))


def test_a_kind_that_lacks_parts_is_caught_part_by_part() -> None:
    assert missing_parts(HalfDone()) == [
        "QTI interaction type",
        "QTI partial",
        "QTI response",
        "SCORM interaction type",
        "state encoding",
        "player partial",
        "player view",
        "player script",
    ]


def test_a_kind_that_only_names_itself_lacks_validation_and_schema() -> None:
    class NameOnly(QuestionKind):
        name = "name_only"
        keys = ()
        required = ("answer",)

    assert missing_parts(NameOnly())[:2] == ["validation", "schema"]


def test_the_editor_schema_carries_each_kinds_part() -> None:
    question = EDITOR_SCHEMAS["questions"]["properties"]["questions"]["items"]
    assert question["properties"]["type"] == {"enum": list(NAMES)}
    parts = {part["if"]["properties"]["type"]["const"]: part for part in question["allOf"]}
    assert list(parts) == list(NAMES)
    for kind in REGISTRY:
        then = parts[kind.name]["then"]
        assert then["properties"] == {key.name: key.schema for key in kind.keys}
        assert then["required"] == list(kind.required)


# --------------------------------------------------- each kind's parts at work


@pytest.fixture(scope="module")
def examples():
    """A question of every kind, from the fixture that uses every type and option, or
    from a later kind's own fixture (tests/fixtures/question-<name>/)."""
    found: dict[str, tuple[Any, Any, Question]] = {}
    for folder in [EVERY_OPTION, *sorted(FIXTURES.glob("question-*"))]:
        course = validate_course(folder)
        for case in course.cases:
            for question in case.questions:
                found.setdefault(question.type, (course, case, question))
    return found


def example_of(kind: QuestionKind, examples) -> tuple[Any, Any, Question]:
    assert kind.name in examples, f"`{kind.name}` is in no fixture"
    return examples[kind.name]


@pytest.mark.parametrize("kind", REGISTRY, ids=NAMES)
def test_each_kinds_qti_partial_renders_its_interaction(kind: QuestionKind, examples) -> None:
    course, case, question = example_of(kind, examples)
    item = etree.fromstring(render_item(course, case, question))
    interactions = item.findall(f"{QTI}itemBody//{QTI}{kind.qti_interaction_of(question)}")
    declaration = item.find(f"{QTI}responseDeclaration")
    assert declaration.get("identifier") == kind.qti_response(question).identifier
    assert [i.get("responseIdentifier") for i in interactions] == [declaration.get("identifier")]
    assert declaration.get("cardinality") == kind.qti_response(question).cardinality
    condition = item.find(f"{QTI}responseProcessing/{QTI}responseCondition/{QTI}responseIf")
    assert len(condition) >= 2  # the kind's condition, then what a right answer sets


@pytest.mark.parametrize("kind", REGISTRY, ids=NAMES)
def test_each_kinds_player_partial_and_state_render(kind: QuestionKind, examples) -> None:
    course, case, question = example_of(kind, examples)
    index = case.questions.index(question)
    page = render_sco(course, case)
    article = page.split(f'id="question-{index + 1}"', 1)[1].split("</article>", 1)[0]
    assert kind.instruction in article
    assert '<div class="correct-answer" data-when="incorrect" hidden>\n          <' in article
    spec = player_data(course, case)["questions"][index]
    assert spec["type"] == kind.name
    assert spec["interactionType"] == kind.scorm_interaction_type
    # The right answer's saved state fits the room the validator counts for it.
    right = spec["correct"] if spec["correct"] is not None else spec["correctPattern"]
    if isinstance(right, list):  # a hotspot lists its right areas; its state joins them
        right = "".join(right)
    assert len(encode_state([right])) - len(encode_state([])) + 1 <= longest_response(question)


def test_each_kinds_player_script_registers_what_the_player_asks(browser) -> None:
    page = browser.new_page()
    try:
        page.set_content("<!DOCTYPE html><title>kinds</title>")
        assets = templates_dir() / "scorm" / "assets"
        for script in sorted({kind.player_script for kind in REGISTRY}):
            page.add_script_tag(content=(assets / script).read_text(encoding="utf-8"))
        registered = page.evaluate(
            """(names) => Object.fromEntries(names.map((name) => {
                const type = (window.QtiQuestions || {})[name] || {};
                return [name, Object.keys(type).filter((k) => typeof type[k] === "function")
                    .concat(typeof type.emptyMessage === "string" ? ["emptyMessage"] : [])];
            }))""",
            list(NAMES),
        )
    finally:
        page.close()
    for name in NAMES:
        assert set(PLAYER_METHODS) | {"emptyMessage"} <= set(registered[name]), name


def test_the_player_itself_never_asks_for_a_type() -> None:
    player = (templates_dir() / "scorm" / "assets" / "player.js").read_text(encoding="utf-8")
    assert not re.search(r"\.type\s*[!=]==", player)
    for name in NAMES:
        # A name compared or switched on, not a word such as "point" in "2 points".
        quoted = re.escape(json.dumps(name))
        assert not re.search(rf"[=!]==\s*{quoted}|{quoted}\s*[=!]==|case\s+{quoted}", player)

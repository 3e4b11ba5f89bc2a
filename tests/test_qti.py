"""The QTI 2.1 package: valid against the official schemas, scored right by pyslet."""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path

import pyslet.qtiv2.variables as qti_variables
import pyslet.qtiv2.xml as qti_xml
import pytest
from lxml import etree

from qtiexport.model import Course, Question
from qtiexport.qti import render_qti_package
from qtiexport.validate import validate_course

from conftest import CONTENT, FIXTURES, SEED_TEXT
from seed_text import normalise, read_seed

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
ALL_TYPES = FIXTURES / "all-types"


@pytest.fixture(scope="module")
def all_types() -> Course:
    return validate_course(ALL_TYPES)


def package(course: Course) -> dict[str, bytes]:
    return {entry.name: entry.read() for entry in render_qti_package(course)}


@pytest.mark.parametrize("folder", [CONTENT, ALL_TYPES], ids=["seed", "all-types"])
def test_every_document_is_valid_against_the_official_schemas(folder: Path, schema_set) -> None:
    files = {e.name: e for e in render_qti_package(validate_course(folder))}
    checked = [name for name, entry in files.items() if entry.schema]
    assert "imsmanifest.xml" in checked and any(n.startswith("tests/") for n in checked)
    for name in checked:
        assert schema_set.problems(name, files[name].schema, files[name].read()) == [], name


# --- scoring, by an independent QTI engine -------------------------------------------


def run_pyslet(item_xml: bytes, response) -> tuple[float, set[str]]:
    """Run the item's own response processing in pyslet; return SCORE and FEEDBACK."""
    document = qti_xml.QTIDocument()
    document.read(src=item_xml)
    item = document.root
    # pyslet renders HTML when an attempt begins and fails on an empty multiple
    # response; scoring does not need the rendering.
    item.render_html = lambda *args, **kwargs: None
    state = qti_variables.ItemSessionState(item)
    state.begin_session()
    state.begin_attempt()
    state["RESPONSE"].set_value(response)
    state.end_attempt()
    feedback = state["FEEDBACK"].value
    return state["SCORE"].value, set(feedback) if feedback else set()


def intended(question: Question, response, last: bool) -> tuple[float, set[str]]:
    """What the author's YAML means for a response, worked out from the model."""
    correct = set(question.correct)
    if question.type == "text":
        right = response.casefold() in {a.casefold() for a in question.correct}
        score = question.points if right else 0.0
    elif question.type == "multiple":
        chosen = set(response or ())
        right = chosen == correct
        if question.scoring == "partial" and chosen:
            share = question.points / len(correct)
            raw = share * len(chosen & correct) - share * len(chosen - correct)
            score = min(max(raw, 0.0), question.points)
        else:
            score = question.points if right else 0.0
    else:
        right = response in correct
        score = question.points if right else 0.0
    feedback = {"correct" if right else "incorrect"}
    chosen_keys = set(response or ()) if question.type == "multiple" else {response}
    feedback |= {f"choice_{c.key}" for c in question.choices if c.feedback and c.key in chosen_keys}
    if question.feedback.explanation:
        feedback.add("explanation")
    if last:
        feedback.add("teaching")
    return score, feedback


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
        yield "a wrong answer"
    else:
        yield from keys


@pytest.mark.parametrize("folder", [CONTENT, ALL_TYPES], ids=["seed", "all-types"])
def test_pyslet_scores_every_response_as_intended(folder: Path) -> None:
    course = validate_course(folder)
    files = package(course)
    checked = 0
    for case in course.cases:
        for question in case.questions:
            for response in every_response(question):
                score, feedback = run_pyslet(files[f"items/{question.id}.xml"], response)
                last = question is case.questions[-1] and bool(case.teaching)
                expected_score, expected_feedback = intended(question, response, last)
                assert score == pytest.approx(expected_score), (question.id, response)
                assert feedback == expected_feedback, (question.id, response)
                checked += 1
    assert checked >= (25 if folder == CONTENT else 60)


def test_unanswered_items_score_zero(all_types: Course) -> None:
    files = package(all_types)
    for question in all_types.cases[0].questions:
        score, feedback = run_pyslet(files[f"items/{question.id}.xml"], None)
        assert score == 0.0 and "incorrect" in feedback, question.id


# --- what a platform reads --------------------------------------------------------------


def test_item_structure(all_types: Course) -> None:
    files = package(all_types)
    item = etree.fromstring(files["items/single_options.xml"])
    assert item.get("identifier") == "single_options"
    interaction = item.find(f".//{QTI}choiceInteraction")
    assert interaction.get("shuffle") == "true" and interaction.get("maxChoices") == "1"
    fixed = {c.get("identifier"): c.get("fixed") for c in interaction.iter(f"{QTI}simpleChoice")}
    assert fixed == {"a": "false", "b": "false", "c": "false", "d": "true"}
    images = item.findall(f".//{QTI}img")
    facts = [(i.get("src"), i.get("width"), i.get("height"), i.get("alt")) for i in images]
    assert (
        "../media/every-type/images/photo.jpg",
        "64",
        "48",
        'A grey photograph "quoted" & escaped',
    ) in facts
    assert ("../media/every-type/images/drawing.svg", "120", "80", "A drawing") in facts
    # The case history opens the case's first item, in the QTI namespace.
    history = item.find(f".//{QTI}div[@class='case']")
    assert history.findtext(f"{QTI}h2") == "Every type & option <in one case>"
    assert history.find(f".//{QTI}sup").text == "2+"
    modal = {m.get("identifier") for m in item.iter(f"{QTI}modalFeedback")}
    assert modal == {"correct", "incorrect", "choice_a", "choice_c", "explanation"}
    text_item = etree.fromstring(files["items/text_answers.xml"])
    entry = text_item.find(f".//{QTI}textEntryInteraction")
    assert entry.get("expectedLength") == "40"
    later = etree.fromstring(files["items/multiple_all.xml"])
    assert later.find(f".//{QTI}div[@class='case']") is None


def test_test_is_linear_individual_and_totals_score(all_types: Course) -> None:
    test = etree.fromstring(package(all_types)["tests/every-type.xml"])
    part = test.find(f"{QTI}testPart")
    assert (part.get("navigationMode"), part.get("submissionMode")) == ("linear", "individual")
    refs = [r.get("href") for r in test.iter(f"{QTI}assessmentItemRef")]
    assert refs == [f"../items/{q.id}.xml" for q in all_types.cases[0].questions]
    rubric = test.find(f".//{QTI}rubricBlock")
    assert "A history with" in "".join(rubric.itertext())
    total = test.find(f"{QTI}outcomeProcessing/{QTI}setOutcomeValue[@identifier='SCORE']")
    assert total.find(f"{QTI}sum/{QTI}testVariables").get("variableIdentifier") == "SCORE"
    maxscore = test.find(f"{QTI}outcomeDeclaration[@identifier='MAXSCORE']")
    assert maxscore.findtext(f".//{QTI}value") == "9.5"


def test_manifest_lists_every_file_with_dependencies(all_types: Course) -> None:
    files = package(all_types)
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = {r.get("identifier"): r for r in manifest.iter(f"{CP}resource")}
    listed = {f.get("href") for f in manifest.iter(f"{CP}file")}
    assert listed == set(files) - {"imsmanifest.xml"}
    test = resources["test-every-type"]
    assert test.get("type") == "imsqti_test_xmlv2p1"
    deps = [d.get("identifierref") for d in test.iter(f"{CP}dependency")]
    assert deps[:6] == [f"item-{q.id}" for q in all_types.cases[0].questions]
    for dep in (d for r in resources.values() for d in r.iter(f"{CP}dependency")):
        assert dep.get("identifierref") in resources
    item = resources["item-text_answers"]
    assert item.get("type") == "imsqti_item_xmlv2p1"
    meta = "{http://www.imsglobal.org/xsd/imsqti_metadata_v2p1}"
    assert item.findtext(f".//{meta}interactionType") == "textEntryInteraction"
    assert item.findtext(f".//{meta}toolName") == "qtiexport"
    lom = "{http://www.imsglobal.org/xsd/imsmd_v1p2}"
    assert manifest.findtext(f"{CP}metadata/{lom}lom/{lom}general/{lom}title/{lom}langstring") == (
        "Every question type"
    )


def test_every_seed_line_is_in_the_package(seed_course: Course) -> None:
    files = package(seed_course)
    documents = [etree.fromstring(data) for name, data in files.items() if name.endswith(".xml")]
    text = normalise(
        " ".join(" ".join(d.itertext()) for d in documents if d.tag != f"{CP}manifest")
    )
    seed = read_seed(SEED_TEXT)
    missing = [line for line in seed.other_lines if line not in text]
    assert not missing
    for qid, stem in seed.questions.items():
        item = etree.fromstring(files[f"items/{qid}.xml"])
        assert stem in normalise(" ".join(item.find(f"{QTI}itemBody").itertext()))
        choices = {
            c.get("identifier"): normalise("".join(c.itertext()))
            for c in item.iter(f"{QTI}simpleChoice")
        }
        assert choices == seed.choices[qid]
        key, answer = seed.answers[qid]
        assert item.findtext(f".//{QTI}correctResponse/{QTI}value") == key
        assert choices[key] == answer


# --- the zip on disk ------------------------------------------------------------------------


def build(run_cli, folder: Path, out: Path, *extra: str):
    return run_cli("build", str(folder), "-o", str(out), "--target", "qti21", *extra)


def test_build_writes_zip_and_tree(run_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("QTIEXPORT_SCHEMAS", raising=False)
    result = build(run_cli, CONTENT, tmp_path)
    assert result.exit_code == 0, result.output
    assert "schema check skipped" in result.stderr
    archive = tmp_path / "msk-teaching-cases-qti21.zip"
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert names[0] == "imsmanifest.xml"
        for name in names:
            assert not name.startswith("/") and ".." not in name.split("/")
            assert (tmp_path / "msk-teaching-cases/qti21" / name).read_bytes() == z.read(name)
        manifest = etree.fromstring(z.read("imsmanifest.xml"))
        hrefs = {f.get("href") for f in manifest.iter(f"{CP}file")}
        assert hrefs | {"imsmanifest.xml"} == set(names)
        for resource in manifest.iter(f"{CP}resource"):
            if resource.get("href"):
                assert resource.get("href") in names


def test_build_checks_schemas_when_given(run_cli, tmp_path: Path, schema_set) -> None:
    result = build(run_cli, ALL_TYPES, tmp_path, "--schemas", str(schema_set.folder))
    assert result.exit_code == 0, result.output
    assert "all documents valid against the official schemas" in result.stdout


def test_two_builds_are_byte_identical(run_cli, tmp_path: Path) -> None:
    build(run_cli, CONTENT, tmp_path / "one")
    build(run_cli, CONTENT, tmp_path / "two")
    name = "msk-teaching-cases-qti21.zip"
    assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_schema_violation_leaves_the_previous_zip_intact(
    run_cli, tmp_path: Path, schema_set, monkeypatch
) -> None:
    out = tmp_path / "out"
    assert build(run_cli, CONTENT, out).exit_code == 0
    archive = out / "msk-teaching-cases-qti21.zip"
    before = archive.read_bytes()

    import qtiexport.qti as qti

    real = qti.render_item

    def broken_item(course, case, question):  # an element QTI does not know
        return real(course, case, question).replace(b"<itemBody>", b"<itemBody><blink/>", 1)

    monkeypatch.setattr(qti, "render_item", broken_item)
    result = build(run_cli, CONTENT, out, "--schemas", str(schema_set.folder))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("qti21/items/q1.xml:") and "blink" in first
    assert "nothing was written" in result.stderr
    assert archive.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["msk-teaching-cases", archive.name]
    assert sorted(p.name for p in (out / "msk-teaching-cases").iterdir()) == ["qti21"]


def test_render_prints_the_item(run_cli) -> None:
    result = run_cli("render", str(CONTENT), "q4")
    assert result.exit_code == 0
    item = etree.fromstring(result.stdout.encode())
    assert item.get("identifier") == "q4"
    assert "\x1b[" not in result.stdout  # no colour when not on a terminal
    coloured = run_cli("render", str(CONTENT), "q4", "--color").stdout
    assert "\x1b[" in coloured


def test_render_unknown_id_is_a_usage_error(run_cli) -> None:
    result = run_cli("render", str(CONTENT), "q44")
    assert result.exit_code == 2
    assert "no question or case `q44`" in result.stderr


def test_large_documents_are_checked_while_streaming(all_types: Course, schema_set, monkeypatch):
    """Valid ones pass without being read whole; invalid ones still get every line."""
    import qtiexport.schemas as schemas

    manifest = package(all_types)["imsmanifest.xml"]
    broken = manifest.replace(b'<file href="items/tf_true.xml"/>', b'<file hrf="x"/>')
    line = broken[: broken.index(b'<file hrf="x"/>')].count(b"\n") + 1
    monkeypatch.setattr(schemas, "STREAMING_ABOVE", 100)
    whole_reads = []
    real_fromstring = schemas.etree.fromstring

    def counting_fromstring(*args, **kwargs):
        whole_reads.append(1)
        return real_fromstring(*args, **kwargs)

    monkeypatch.setattr(schemas.etree, "fromstring", counting_fromstring)
    assert schema_set.problems("m.xml", "qti-manifest", manifest) == []
    assert whole_reads == []
    element = "Element '{http://www.imsglobal.org/xsd/imscp_v1p1}file'"
    assert schema_set.problems("m.xml", "qti-manifest", broken) == [
        f"m.xml:{line}: {element}, attribute 'hrf': The attribute 'hrf' is not allowed.",
        f"m.xml:{line}: {element}: The attribute 'href' is required but missing.",
    ]
    assert whole_reads == [1]

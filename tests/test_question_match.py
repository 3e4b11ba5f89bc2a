"""The `match` question type: each choice is matched with one of the targets.

What an author sees when a match question is wrong; the QTI 2.1 item (valid, a
matchInteraction Canvas reads, scored by pyslet); and the SCORM player under scorm-again
(interaction `matching`, `a.x,b.y` responses, resume, keyboard only, axe-core).
The fixture tests/fixtures/question-match holds m1 (the issue's example, all or
nothing), m2 (partial scoring, shuffled with one fixed choice, a target two choices
share and a target none takes) and a single-choice q3.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import rjsmin
import yaml
from lxml import etree
from playwright.sync_api import Browser, Frame, Page

from lms.harness import (
    CONTENT_FOLDER,
    LmsServer,
    LmsSession,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
)
from qtiexport.diagnostics import ContentError
from qtiexport.editor_schema import EDITOR_SCHEMAS
from qtiexport.model import Course, Question
from qtiexport.qti import item_href, render_qti_package
from qtiexport.questions.match import MatchDetails
from qtiexport.schemas import SchemaSet
from qtiexport.templating import templates_dir
from qtiexport.validate import validate_course
from test_player_accessibility import axe_violations
from test_player_keyboard import assert_focus_visible, focused, tab_until
from test_player_resume import resume_data

from conftest import FIXTURES
from test_qti import run_pyslet

MATCH = FIXTURES / "question-match"
CASE = "phases"
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
ASSETS = templates_dir() / "scorm" / "assets"


@pytest.fixture(scope="module")
def course() -> Course:
    return validate_course(MATCH)


def question(course: Course, question_id: str) -> Question:
    found = course.question(question_id)
    assert found is not None
    return found[1]


# ------------------------------------------------------------------ validation


def test_the_fixture_reads_as_written(course: Course) -> None:
    m1, m2 = question(course, "m1"), question(course, "m2")
    assert m1.type == "match" and m1.scoring == "all_or_nothing"
    assert [c.key for c in m1.choices] == ["a", "b", "c"]
    assert isinstance(m1.details, MatchDetails)
    assert [(t.key, t.text.text) for t in m1.details.targets] == [
        ("x", "Normal or soft-tissue swelling"),
        ("y", "Peripheral rim calcification"),
        ("z", "Well-defined ossified mass with zoning"),
    ]
    assert m1.details.pairs == (("a", "x"), ("b", "y"), ("c", "z"))
    # A target may be several choices' match (w), or none's (z).
    assert m2.details.pairs == (("a", "w"), ("b", "x"), ("c", "y"), ("d", "w"))
    assert [t.key for t in m2.details.targets] == ["w", "x", "y", "z"]
    assert m2.scoring == "partial" and m2.shuffle and m2.choices[3].fixed


M1 = """questions:
  - id: m1
    type: match
    stem: Match each phase with its radiograph.
"""
GOOD_CHOICES = "    choices: {a: Early phase, b: Intermediate phase, c: Mature phase}\n"
GOOD_TARGETS = "    targets: {x: Normal, y: Peripheral rim, z: Zoning}\n"
GOOD_ANSWER = "    answer: {a: x, b: y, c: z}\n"
Q = "cases/phases/questions.yaml"
BROKEN = {
    "a target key that a choice uses": (
        GOOD_CHOICES + "    targets: {a: Normal, y: Peripheral rim, z: Zoning}\n" + GOOD_ANSWER,
        [
            f"{Q}:6:15: error: target key `a` of question `m1` is also a choice key; give the"
            " targets letters the choices do not use (SCORM 1.2 reports a match as `a.x`)",
            f"{Q}:7:17: error: the answer of question `m1` matches `a` with `x`, which is not a"
            " target; its targets are y, z",
        ],
    ),
    "a target key longer than a letter": (
        GOOD_CHOICES + "    targets: {xx: Normal, y: Peripheral rim}\n" + GOOD_ANSWER,
        [
            f"{Q}:6:15: error: target key `xx` must be one lowercase letter a–z",
            f"{Q}:7:17: error: the answer of question `m1` matches `a` with `x`, which is not a"
            " target; its targets are y",
            f"{Q}:7:29: error: the answer of question `m1` matches `c` with `z`, which is not a"
            " target; its targets are y",
        ],
    ),
    "an answer naming no target": (
        GOOD_CHOICES + GOOD_TARGETS + "    answer: {a: x, b: q, c: z}\n",
        [
            f"{Q}:7:23: error: the answer of question `m1` matches `b` with `q`, which is not a"
            " target; its targets are x, y, z"
        ],
    ),
    "an answer naming no choice": (
        GOOD_CHOICES + GOOD_TARGETS + "    answer: {a: x, b: y, c: z, d: x}\n",
        [
            f"{Q}:7:32: error: the answer of question `m1` matches `d`, which is not a choice;"
            " its choices are a, b, c"
        ],
    ),
    "an answer leaving choices out": (
        GOOD_CHOICES + GOOD_TARGETS + "    answer: {a: x}\n",
        [
            f"{Q}:7:13: error: the answer of question `m1` gives no target for choices `b`, `c`;"
            " match every choice with a target"
        ],
    ),
    "an answer that is a list": (
        GOOD_CHOICES + GOOD_TARGETS + "    answer: [x, y, z]\n",
        [
            f"{Q}:7:13: error: the answer of question `m1` must map each choice to its target"
            " (a: x, b: y), not a list"
        ],
    ),
    "an answer giving a choice two targets": (
        GOOD_CHOICES + GOOD_TARGETS + "    answer: {a: [x, y], b: y, c: z}\n",
        [
            f"{Q}:7:17: error: the target of choice `a` in the answer of question `m1` must be"
            " text, not a list"
        ],
    ),
    "two targets with the same text": (
        GOOD_CHOICES
        + "    targets: {x: Peripheral rim, y: ' peripheral  RIM', z: Zoning}\n"
        + GOOD_ANSWER,
        [
            f"{Q}:6:37: error: targets `x` and `y` of question `m1` have the same text; make each"
            " target different"
        ],
    ),
    "two choices with the same text": (
        "    choices: {a: Early phase, b: early phase}\n"
        + GOOD_TARGETS
        + "    answer: {a: x, b: y}\n",
        [
            f"{Q}:5:34: error: choices `a` and `b` of question `m1` have the same text; make each"
            " choice different"
        ],
    ),
    "no targets": (
        GOOD_CHOICES + GOOD_ANSWER,
        [f"{Q}:2:5: error: question `m1` is missing the required key `targets`"],
    ),
    "one target": (
        GOOD_CHOICES + "    targets: {x: Normal}\n" + "    answer: {a: x, b: x, c: x}\n",
        [f"{Q}:6:14: error: question `m1` has 1 target; give at least 2 to match with"],
    ),
    "targets as a list": (
        GOOD_CHOICES + "    targets: [Normal, Zoning]\n" + GOOD_ANSWER,
        [
            f"{Q}:6:14: error: `targets` of question `m1` must be a mapping of letters to texts"
            " (x: …, y: …), not a list"
        ],
    ),
    "an unknown scoring": (
        GOOD_CHOICES + GOOD_TARGETS + GOOD_ANSWER + "    scoring: per_pair\n",
        [f"{Q}:8:14: error: unknown scoring `per_pair`; use `all_or_nothing` or `partial`"],
    ),
    "feedback per choice": (
        GOOD_CHOICES + GOOD_TARGETS + GOOD_ANSWER + "    feedback: {choices: {a: Early.}}\n",
        None,  # the validator's own message, checked below for its location only
    ),
}


# A valid question after the one under test, so that the case still has one.
VALID = """  - id: q9
    type: single
    stem: Which phase?
    choices: {a: Early phase, b: Mature phase}
    answer: a
"""


def errors_of(tmp_path: Path, questions: str, monkeypatch) -> list[str]:
    course = tmp_path / "course"
    shutil.copytree(MATCH, course)
    (course / Q).write_text(questions + VALID, encoding="utf-8")
    monkeypatch.chdir(course)
    with pytest.raises(ContentError) as caught:
        validate_course(Path("."))
    return [str(d) for d in caught.value.diagnostics]


@pytest.mark.parametrize("name", BROKEN)
def test_each_mistake_gives_its_located_errors(name: str, tmp_path: Path, monkeypatch) -> None:
    own, expected = BROKEN[name]
    errors = errors_of(tmp_path, M1 + own, monkeypatch)
    if expected is None:
        assert len(errors) == 1 and errors[0].startswith(f"{Q}:8:"), errors
    else:
        assert errors == expected


def test_targets_on_another_type_name_the_match_type(tmp_path: Path, monkeypatch) -> None:
    questions = """questions:
  - id: q1
    type: single
    stem: Which phase?
    choices: {a: Early phase, b: Mature phase}
    targets: {x: Normal, y: Zoning}
    answer: a
"""
    assert errors_of(tmp_path, questions, monkeypatch) == [
        f"{Q}:6:14: error: `targets` applies only to `match` questions"
    ]


def test_the_editor_schema_takes_the_fixture_and_refuses_a_pair_list() -> None:
    schema = EDITOR_SCHEMAS["questions"]
    data = yaml.safe_load((MATCH / Q).read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    data["questions"][0]["answer"] = ["a.x", "b.y", "c.z"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


# ------------------------------------------------------------------ QTI 2.1


@pytest.fixture(scope="module")
def items(course: Course) -> dict[str, bytes]:
    files = {entry.name: entry.read() for entry in render_qti_package(course)}
    return {q.id: files[item_href(case, q)] for case in course.cases for q in case.questions}


def test_every_document_is_valid_against_the_official_schemas(
    course: Course, schema_set: SchemaSet
) -> None:
    entries = render_qti_package(course)
    assert {e.schema for e in entries} >= {"qti", "qti-manifest"}
    for entry in entries:
        if entry.schema:
            assert schema_set.problems(entry.name, entry.schema, entry.read()) == [], entry.name


def test_the_item_is_a_match_interaction_canvas_reads(items: dict[str, bytes]) -> None:
    item = etree.fromstring(items["m2"])
    declaration = item.find(f"{QTI}responseDeclaration")
    assert (declaration.get("cardinality"), declaration.get("baseType")) == (
        "multiple",
        "directedPair",
    )
    assert [v.text for v in declaration.iterfind(f"{QTI}correctResponse/{QTI}value")] == [
        "a w",
        "b x",
        "c y",
        "d w",
    ]
    body = item.find(f"{QTI}itemBody")
    # The stem is the body's own paragraph (Canvas drops a matchInteraction's prompt),
    # and the interaction is the body's child, not inside a paragraph Canvas would keep.
    assert [child.tag.removeprefix(QTI) for child in body] == ["div", "matchInteraction"]
    assert "Match each finding" in "".join(body.find(f"{QTI}div").itertext())
    interaction = body.find(f"{QTI}matchInteraction")
    assert interaction.find(f"{QTI}prompt") is None
    assert interaction.get("shuffle") == "true" and interaction.get("maxAssociations") == "4"
    left, right = interaction.findall(f"{QTI}simpleMatchSet")
    lefts = left.findall(f"{QTI}simpleAssociableChoice")
    rights = right.findall(f"{QTI}simpleAssociableChoice")
    assert [(c.get("identifier"), c.get("matchMax"), c.get("fixed")) for c in lefts] == [
        ("a", "1", "false"),
        ("b", "1", "false"),
        ("c", "1", "false"),
        ("d", "1", "true"),
    ]
    # Any target may be the match of every choice (w is of two, z of none).
    assert [(c.get("identifier"), c.get("matchMax")) for c in rights] == [
        ("w", "4"),
        ("x", "4"),
        ("y", "4"),
        ("z", "4"),
    ]
    assert etree.tostring(lefts[1], encoding="unicode").count("<em>mature at the rim</em>") == 1
    assert rights[0].text == "Tumoral calcinosis"


def test_the_manifest_names_the_match_interaction(course: Course) -> None:
    manifest = next(e for e in render_qti_package(course) if e.name == "imsmanifest.xml")
    types = [
        element.text
        for element in etree.fromstring(manifest.read()).iter()
        if isinstance(element.tag, str) and element.tag.endswith("interactionType")
    ]
    assert types.count("matchInteraction") == 2


M1_RIGHT = [("a", "x"), ("b", "y"), ("c", "z")]
M2_RIGHT = [("a", "w"), ("b", "x"), ("c", "y"), ("d", "w")]


@pytest.mark.parametrize(
    ("question_id", "response", "score", "verdict"),
    [
        ("m1", M1_RIGHT, 1.0, "correct"),
        ("m1", list(reversed(M1_RIGHT)), 1.0, "correct"),  # pairs in any order
        ("m1", [("a", "y"), ("b", "x"), ("c", "z")], 0.0, "incorrect"),  # crossed
        ("m1", [("x", "a"), ("y", "b"), ("z", "c")], 0.0, "incorrect"),  # directed
        ("m1", M1_RIGHT[:2], 0.0, "incorrect"),
        ("m2", M2_RIGHT, 2.0, "correct"),
        ("m2", [("a", "x"), ("b", "w"), ("c", "y"), ("d", "w")], 1.0, "incorrect"),  # crossed
        ("m2", [("a", "w"), ("b", "x"), ("c", "y"), ("d", "z")], 1.5, "incorrect"),
        ("m2", [("a", "z"), ("b", "z"), ("c", "z"), ("d", "z")], 0.0, "incorrect"),
        ("m2", [("a", "w")], 0.5, "incorrect"),
    ],
)
def test_pyslet_scores_right_full_and_crossed_lower(
    items: dict[str, bytes], question_id: str, response, score: float, verdict: str
) -> None:
    got_score, feedback = run_pyslet(items[question_id], response)
    assert got_score == score
    assert verdict in feedback and ({"correct", "incorrect"} - {verdict}).isdisjoint(feedback)


# ------------------------------------------------------------ the player's files


def test_the_script_is_small_and_ships_only_where_match_is_asked(
    tmp_path: Path, schema_set: SchemaSet
) -> None:
    script = rjsmin.jsmin((ASSETS / "question-match.js").read_text(), keep_bang_comments=False)
    print(f"question-match.js minified: {len(script.encode())} bytes")
    assert len(script.encode()) < 2500
    assert (ASSETS / "question-match.css").stat().st_size < 1000
    seed = build_scorm_package(CONTENT_FOLDER, tmp_path / "seed", schema_set)
    assert not list((seed / "player").glob("question-match.*"))
    match = build_scorm_package(MATCH, tmp_path / "match", schema_set)
    assert {p.name for p in (match / "player").glob("question-match.*")} == {
        "question-match.js",
        "question-match.css",
    }
    page = (match / "cases" / CASE / "index.html").read_text(encoding="utf-8")
    assert '<script src="../../player/question-match.js" defer></script>' in page
    manifest = (match / "imsmanifest.xml").read_text(encoding="utf-8")
    assert manifest.count('href="player/question-match.js"') == 2  # the SCO's and PLAYER's


# ------------------------------------------------------------------- the player


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-match")
    lms.mount("match", build_scorm_package(MATCH, output / "match", schema_set))
    yield lms
    lms.close()


def launch(lms: LmsSession, server: LmsServer, data=None) -> Frame:
    return lms.launch(f"{server.origin}/package-match", CASE, data or initial_cmi())


def match_with_mouse(frame: Frame, number: int, pairs: str) -> None:
    """Choose targets ("a.x,b.y") in question `number` and submit."""
    for pair in pairs.split(","):
        choice, target = pair.split(".")
        frame.select_option(f"#question-{number}-choice-{choice}", target)
    frame.click(f"#question-{number} button[type=submit]")
    frame.wait_for_selector(f"#question-{number}-feedback:not([hidden])")


def interactions(lms: LmsSession) -> list[dict]:
    found = lms.cmi()["interactions"]
    return [found[str(n)] for n in range(len(found))]


def test_right_and_wrong_answers_are_reported_as_matching(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = launch(lms, server)
    match_with_mouse(frame, 1, "a.x,b.y,c.z")
    assert frame.inner_text("#question-1-verdict") == "✓ Correct"
    go_on(frame, 1)
    match_with_mouse(frame, 2, "a.x,b.w,c.y,d.w")  # a and b crossed: 2 of 4 pairs
    assert frame.inner_text("#question-2-verdict") == "Partly correct: 1 of 2 points"
    assert frame.inner_text("#question-2 [data-key=a] .choice-mark") == (
        "(✗ incorrect; the match is Tumoral calcinosis)"
    )
    assert frame.inner_text("#question-2 [data-key=c] .choice-mark") == "(✓ correct)"
    assert frame.is_disabled("#question-2-choice-a")
    assert "Myositis ossificans" in frame.inner_text("#question-2 .correct-answer")
    go_on(frame, 2)
    answer_with_mouse(frame, 3, "a")
    go_on(frame, 3)
    frame.wait_for_selector("#results:not([hidden])")
    first, second, _ = interactions(lms)
    assert {k: first[k] for k in ("type", "student_response", "result")} == {
        "type": "matching",
        "student_response": "a.x,b.y,c.z",
        "result": "correct",
    }
    assert first["correct_responses"]["0"]["pattern"] == "a.x,b.y,c.z"
    assert {k: second[k] for k in ("type", "student_response", "result", "weighting")} == {
        "type": "matching",
        "student_response": "a.x,b.w,c.y,d.w",
        "result": "wrong",
        "weighting": "2",
    }
    assert second["correct_responses"]["0"]["pattern"] == "a.w,b.x,c.y,d.w"
    assert lms.cmi()["core"]["score"]["raw"] == "75"  # 3 of 4 points
    assert json.loads(lms.cmi()["suspend_data"]) == {"v": 1, "r": ["xyz", "xwyw", "a"]}
    assert [c for c in lms.calls() if c["error"] != "0"] == []


def test_a_wrong_all_or_nothing_match_scores_nothing(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    match_with_mouse(frame, 1, "a.y,b.x,c.z")
    assert frame.inner_text("#question-1-verdict") == "✗ Incorrect"
    record = interactions(lms)[0]
    assert (record["type"], record["student_response"], record["result"]) == (
        "matching",
        "a.y,b.x,c.z",
        "wrong",
    )
    assert record["correct_responses"]["0"]["pattern"] == "a.x,b.y,c.z"


def test_an_unmatched_choice_asks_for_every_match(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    frame.select_option("#question-1-choice-a", "x")
    frame.click("#question-1 button[type=submit]")
    assert frame.inner_text("#question-1-error") == "Choose a match for every item first."
    assert frame.is_hidden("#question-1-feedback")
    assert "interactions" not in lms.cmi() or not lms.cmi()["interactions"]


def selected(frame: Frame, number: int) -> dict[str, str]:
    return frame.evaluate(
        """(number) => Object.fromEntries([...document.querySelectorAll(
            `#question-${number} select`)].map((s) => [s.dataset.key, s.value]))""",
        number,
    )


def test_resume_mid_case_restores_the_selects(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server)
    match_with_mouse(frame, 1, "a.y,b.x,c.z")
    go_on(frame, 1)
    frame.select_option("#question-2-choice-a", "w")  # chosen but never submitted
    lms.exit()
    saved = lms.cmi()
    assert saved["suspend_data"] == '{"v":1,"r":["yxz"]}'
    assert saved["core"]["lesson_location"] == "m2"

    frame = launch(lms, server, resume_data(saved))
    assert selected(frame, 1) == {"a": "y", "b": "x", "c": "z"}
    assert all(frame.is_disabled(f"#question-1-choice-{key}") for key in "abc")
    assert frame.inner_text("#question-1-verdict") == "✗ Incorrect"
    assert frame.inner_text("#question-1 [data-key=c] .choice-mark") == "(✓ correct)"
    assert frame.is_visible("#question-2") and frame.is_enabled("#question-2-choice-a")
    assert selected(frame, 2) == {"a": "", "b": "", "c": "", "d": ""}
    match_with_mouse(frame, 2, "a.w,b.x,c.y,d.w")
    go_on(frame, 2)
    answer_with_mouse(frame, 3, "a")
    go_on(frame, 3)
    frame.wait_for_selector("#results:not([hidden])")
    assert lms.cmi()["core"]["score"]["raw"] == "75"  # m1 wrong, counted from the restore


def choose_by_keyboard(page: Page, frame: Frame, number: int, pairs: str) -> None:
    """Tab to each select in page order and pick its target with the arrow keys."""
    wanted = dict(pair.split(".") for pair in pairs.split(","))
    for _ in wanted:
        element = tab_until(
            page,
            frame,
            lambda e: (
                e["tag"] == "select"
                and e["id"].startswith(f"question-{number}-")
                and e["value"] == ""
            ),
            f"an unmatched select of question {number}",
        )
        assert_focus_visible(element)
        key = element["id"].rsplit("-", 1)[1]
        options = frame.eval_on_selector(
            f"#{element['id']}", "(s) => [...s.options].map((o) => o.value)"
        )
        for _ in range(options.index(wanted[key])):
            page.keyboard.press("ArrowDown")
        assert frame.eval_on_selector(f"#{element['id']}", "(s) => s.value") == wanted[key]
    tab_until(page, frame, lambda e: e["tag"] == "button" and e["type"] == "submit", "Submit")
    page.keyboard.press("Enter")
    assert focused(frame)["id"] == f"question-{number}-feedback"
    tab_until(page, frame, lambda e: "next-button" in e["cls"], "Next")
    page.keyboard.press("Enter")


def test_the_case_by_keyboard_alone(lms: LmsSession, server: LmsServer) -> None:
    page = lms.page
    frame = launch(lms, server)
    choose_by_keyboard(page, frame, 1, "a.x,b.y,c.z")
    assert focused(frame)["id"] == "question-2-heading"
    choose_by_keyboard(page, frame, 2, "a.w,b.x,c.y,d.w")
    radio = tab_until(page, frame, lambda e: e["name"] == "question-3", "question 3's choices")
    assert radio["type"] == "radio"
    page.keyboard.press("Space")
    tab_until(page, frame, lambda e: e["tag"] == "button" and e["type"] == "submit", "Submit")
    page.keyboard.press("Enter")
    tab_until(page, frame, lambda e: "next-button" in e["cls"], "Next")
    page.keyboard.press("Enter")
    assert focused(frame)["id"] == "results-heading"
    assert lms.cmi()["core"]["score"]["raw"] == "100"
    assert [i["student_response"] for i in interactions(lms)] == [
        "a.x,b.y,c.z",
        "a.w,b.x,c.y,d.w",
        "a",
    ]


@pytest.mark.parametrize("size", [(1280, 900), (375, 800)], ids=["1280", "375"])
def test_axe_finds_nothing_with_the_question_open_and_answered(
    browser: Browser, server: LmsServer, size: tuple[int, int]
) -> None:
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    context.set_default_timeout(5000)
    session = LmsSession(context.new_page(), server)
    try:
        frame = launch(session, server)
        found = {"open": axe_violations(frame)}
        match_with_mouse(frame, 1, "a.x,b.y,c.z")
        go_on(frame, 1)
        found["second open"] = axe_violations(frame)
        match_with_mouse(frame, 2, "a.x,b.w,c.y,d.w")
        found["answered, partly wrong"] = axe_violations(frame)
        # Nothing is wider than the screen: each select fits beside or below its choice.
        overflow = frame.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert session.errors == []
    finally:
        context.close()
    assert overflow <= 0
    assert {state: v for state, v in found.items() if v} == {}

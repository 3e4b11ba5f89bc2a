"""Question ids are unique within their case, not the course: authors number q1, q2… in
every case, and the packages name each question by its case and its id."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from lms.harness import LmsServer, LmsSession, answer_with_mouse, build_scorm_package, initial_cmi
from qtiexport.build import build_course
from qtiexport.fields import IDENTIFIER
from qtiexport.identifiers import interaction_identifier, question_identifier, question_key
from qtiexport.model import AmbiguousQuestion, Course
from qtiexport.qti import MAX_FILE_NAME
from qtiexport.schemas import SchemaSet
from qtiexport.scorm import player_data
from qtiexport.validate import validate_course

from conftest import FIXTURES
from test_qti import assert_pyslet_scores_as_intended

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
SCORM_CP = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}"
NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")  # the ASCII NCNames, which ids are
CMI_IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,255}")  # SCORM 1.2, RTE 3.4.2.7.1


def add_copy_of_c1(course: Path, case_id: str, question_ids: dict[str, str] | None = None):
    """Copy the minimal course's case c1 as `case_id`, renaming question ids on request."""
    shutil.copytree(course / "cases/c1", course / "cases" / case_id)
    case_file = course / "cases" / case_id / "case.yaml"
    case_file.write_text(case_file.read_text().replace("id: c1", f"id: {case_id}"))
    questions = course / "cases" / case_id / "questions.yaml"
    text = questions.read_text()
    for old, new in (question_ids or {}).items():
        text = text.replace(f"- id: {old}\n", f"- id: {new}\n")
    questions.write_text(text)
    (course / "course.yaml").write_text((course / "course.yaml").read_text() + f"  - {case_id}\n")


def numbered_alike(folder: Path) -> Path:
    """The minimal course (case c1: q1…q4) and case c2, numbered q1…q4 as well."""
    course = folder / "course"
    shutil.copytree(FIXTURES / "minimal", course)
    add_copy_of_c1(course, "c2")
    return course


@pytest.fixture(scope="module")
def two_cases(tmp_path_factory: pytest.TempPathFactory) -> Course:
    return validate_course(numbered_alike(tmp_path_factory.mktemp("ids")))


# --- validation ---------------------------------------------------------------------


def test_cases_may_use_the_same_question_ids(two_cases: Course) -> None:
    assert [[q.id for q in case.questions] for case in two_cases.cases] == [
        ["q1", "q2", "q3", "q4"],
        ["q1", "q2", "q3", "q4"],
    ]


def test_ids_that_differ_only_in_letter_case_may_sit_in_different_cases(tmp_path) -> None:
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "minimal", course)
    add_copy_of_c1(course, "c2", {"q1": "Q1"})
    assert [q.id for q in validate_course(course).cases[1].questions][0] == "Q1"


# --- the packages ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(two_cases: Course, schema_set: SchemaSet, tmp_path_factory) -> dict[str, Path]:
    """Both packages of the two-case course; the build checks every document against
    the official schemas and raises on any violation."""
    out = tmp_path_factory.mktemp("ids-build")
    return {
        b.target: b.zip_path for b in build_course(two_cases, out, ("scorm12", "qti21"), schema_set)
    }


def assert_unique(names: list[str]) -> None:
    """No name twice, not even ignoring letter case (file systems and importers do)."""
    assert len({n.casefold() for n in names}) == len(names), names


def test_every_name_of_a_question_in_the_qti_package_is_unique(built) -> None:
    with zipfile.ZipFile(built["qti21"]) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    items = {
        name: etree.fromstring(data).get("identifier")
        for name, data in files.items()
        if name.startswith("item-")
    }
    assert sorted(items) == [f"item-c{c}.q{q}.xml" for c in (1, 2) for q in range(1, 5)]
    assert sorted(items.values()) == [f"c{c}.q{q}" for c in (1, 2) for q in range(1, 5)]
    assert_unique(list(files))
    assert_unique(list(items.values()))
    # Canvas finds an item by its reference's identifier, and skips it when they differ.
    refs = [
        ref
        for name in ("test-c1.xml", "test-c2.xml")
        for ref in etree.fromstring(files[name]).iter(f"{QTI}assessmentItemRef")
    ]
    assert [(r.get("identifier"), items[r.get("href")]) for r in refs] == [
        (identifier, identifier) for identifier in sorted(items.values())
    ]
    manifest = etree.fromstring(files["imsmanifest.xml"])
    resources = [r.get("identifier") for r in manifest.iter(f"{CP}resource")]
    assert_unique(resources)
    assert {f"item-{i}" for i in items.values()} <= set(resources)


def test_the_scorm_package_carries_the_same_names(built) -> None:
    with zipfile.ZipFile(built["scorm12"]) as archive:
        names = archive.namelist()
        manifest = etree.fromstring(archive.read("imsmanifest.xml"))
    assert_unique(names)
    assert {f"qti/item-c{c}.q{q}.xml" for c in (1, 2) for q in range(1, 5)} <= set(names)
    assert_unique([r.get("identifier") for r in manifest.iter(f"{SCORM_CP}resource")])


def test_pyslet_scores_the_items_of_both_cases(two_cases: Course) -> None:
    assert assert_pyslet_scores_as_intended(two_cases) > 8


def test_each_case_reports_interactions_under_ids_of_its_own(two_cases: Course) -> None:
    ids = [
        question["interactionId"]
        for case in two_cases.cases
        for question in player_data(two_cases, case)["questions"]
    ]
    assert ids == [f"c{c}__q{q}" for c in (1, 2) for q in range(1, 5)]


# --- the naming rules, for any ids ------------------------------------------------------

# Ids from few characters, so that dots, underscores and letter case meet often.
ids = st.from_regex(r"[aA_][aA_.\-]{0,5}", fullmatch=True)


@st.composite
def pairs_that_join_alike(draw) -> list[tuple[str, str]]:
    """(case id, question id) pairs that a plain join would confuse: one text split at
    each of its dots and underscores (and `__`), and some pairs of any ids."""
    words = draw(st.lists(st.sampled_from(["a", "A", "b", "_c"]), min_size=3, max_size=5))
    joins = draw(st.lists(st.sampled_from([".", "_", "__", "..", "-"]), min_size=4, max_size=4))
    text = words[0] + "".join(j + w for j, w in zip(joins, words[1:], strict=False))
    splits = [(text[:i], text[i + 1 :]) for i, c in enumerate(text) if c in "._"]
    splits += [(text[:i], text[i + 2 :]) for i in range(len(text)) if text[i : i + 2] == "__"]
    pairs = [p for p in splits if all(IDENTIFIER.fullmatch(part) for part in p)]
    return pairs + draw(st.lists(st.tuples(ids, ids), max_size=8))


@given(pairs=pairs_that_join_alike())
def test_names_of_different_questions_never_meet(pairs: list[tuple[str, str]]) -> None:
    # Case ids differ ignoring letter case, and so do the question ids of one case.
    pairs = list({(c.casefold(), q.casefold()): (c, q) for c, q in pairs}.values())
    identifiers, interactions = [], []
    for case_id, question_id in pairs:
        case, question = SimpleNamespace(id=case_id), SimpleNamespace(id=question_id)
        identifiers.append(question_identifier(case, question))
        interactions.append(interaction_identifier(case, question))
    assert_unique(identifiers)
    assert len(set(interactions)) == len(interactions)
    assert all(NCNAME.fullmatch(i) and len(i) <= 250 for i in identifiers)
    assert all(CMI_IDENTIFIER.fullmatch(i) for i in interactions)


def test_the_case_id_ends_at_the_first_single_dot() -> None:
    assert question_key("a.b", "c") == "a..b.c"
    assert question_key("a", "b.c") == "a.b.c"


def test_long_ids_that_share_their_start_keep_apart(tmp_path, schema_set) -> None:
    """Ids of 255 characters, in cases of long names: identifiers stay within 255 (item
    resources, SCORM interactions) and file names within 100, all distinct, all valid."""
    course_folder = tmp_path / "course"
    shutil.copytree(FIXTURES / "minimal", course_folder)
    long_case = "c" * 90
    long_ids = {"q1": "q" + "x" * 254, "q2": "q" + "x" * 253 + "y"}
    add_copy_of_c1(course_folder, long_case, long_ids)
    add_copy_of_c1(course_folder, long_case + "2", long_ids)
    course = validate_course(course_folder)
    out = tmp_path / "out"
    built = {
        b.target: b.zip_path for b in build_course(course, out, ("scorm12", "qti21"), schema_set)
    }
    with zipfile.ZipFile(built["qti21"]) as archive:
        names = archive.namelist()
        items = [etree.fromstring(archive.read(n)) for n in names if n.startswith("item-")]
        manifest = etree.fromstring(archive.read("imsmanifest.xml"))
    assert len(items) == 12
    assert all(len(part) <= MAX_FILE_NAME for n in names for part in n.split("/"))
    assert_unique(names)
    identifiers = [item.get("identifier") for item in items]
    assert_unique(identifiers)
    assert all(len(i) <= 250 for i in identifiers)
    resources = [r.get("identifier") for r in manifest.iter(f"{CP}resource")]
    assert_unique(resources)
    assert all(len(r) <= 255 for r in resources)
    interactions = [
        q["interactionId"] for case in course.cases for q in player_data(course, case)["questions"]
    ]
    assert len(set(interactions)) == len(interactions) == 12
    assert all(CMI_IDENTIFIER.fullmatch(i) for i in interactions)


def test_a_question_is_found_by_case_and_id(two_cases: Course) -> None:
    case, question = two_cases.question("c2/q3")
    assert (case.id, question.id) == ("c2", "q3")
    assert two_cases.question("c3/q1") is None
    with pytest.raises(AmbiguousQuestion, match=r"in several cases \(c1, c2\)"):
        two_cases.question("q1")


def test_a_question_id_one_case_uses_needs_no_case(tmp_path) -> None:
    course = tmp_path / "course"
    shutil.copytree(FIXTURES / "minimal", course)
    add_copy_of_c1(course, "c2", {"q4": "q9"})
    case, question = validate_course(course).question("q9")
    assert (case.id, question.id) == ("c2", "q9")


# --- in the browser, under scorm-again ----------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("ids-scorm")
    course = numbered_alike(output)
    lms.mount("two", build_scorm_package(course, output / "two", schema_set))
    yield lms
    lms.close()


@pytest.mark.parametrize("case_id", ["c1", "c2"])
def test_the_player_names_interactions_with_their_case(
    lms: LmsSession, server: LmsServer, case_id: str
) -> None:
    frame = lms.launch(f"{server.origin}/package-two", case_id, initial_cmi())
    answer_with_mouse(frame, 1, "a")
    cmi = lms.cmi()
    assert cmi["interactions"]["0"]["id"] == f"{case_id}__q1"
    assert cmi["interactions"]["0"]["result"] == "correct"
    assert all(c["error"] == "0" for c in lms.calls())

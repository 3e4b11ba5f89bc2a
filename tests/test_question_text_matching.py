"""Text answers: right once letter case, white space around and between the words, and
punctuation at the end are set aside, the same in the SCORM player and in the QTI items.

The same learner texts are scored by pyslet (an independent QTI 2.1 engine running the
item's response processing) and by the real player in Chromium under scorm-again (what
it records in `cmi.interactions.n.result`), and the two must agree with each other and
with the rule as written in qtiexport/questions/text.py (`normalise_answer`), on texts
that must match and texts that must not. The patterns are also run by the XML Schema
engine of libxml2 (the schema check) and read as TAO's browser runner reads them, and
the player's white space and letter case are compared with Python's for every character.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from playwright.sync_api import Frame
from pyslet.xml.xsdatatypes import RegularExpression

from lms.harness import LmsServer, LmsSession, build_scorm_package, go_on, initial_cmi
from qtiexport.model import Course
from qtiexport.qti import item_href, render_qti_package
from qtiexport.questions.text import (
    CASED_PLANES_END,
    FINAL_PUNCTUATION,
    WHITESPACE,
    answer_pattern,
    fold_character,
    normalise_answer,
)
from qtiexport.schemas import SchemaSet
from qtiexport.validate import validate_course
from test_canvas_import import canvas_short_answers

from test_qti import run_pyslet, xsd_pattern_accepts

QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
NBSP = "\u00a0"


@dataclass(frozen=True)
class Family:
    """One case: accepted answers, and learner texts with whether each must be right."""

    case: str
    answers: tuple[str, ...]
    right: tuple[str, ...]
    wrong: tuple[str, ...]


FAMILIES = (
    Family(
        "tumoral",
        ("tumoral calcinosis",),
        right=(
            "Tumoral  calcinosis.",
            "TUMORAL CALCINOSIS",
            "  tumoral calcinosis  ",
            "tumoral calcinosis ! ?",
            "Tumoral\tcalcinosis",
            f"tumoral{NBSP}calcinosis{NBSP}",  # no-break space (Option+Space on a Mac)
            "tumoral\u3000calcinosis",  # ideographic space (CJK input)
            "tumoral calcinosis…",  # a phone's "..."
            "tumoral calcinosis;:,",
        ),
        wrong=(
            "tumoral sarcoma",  # a different word
            "tumoral calcinoses",  # an inner letter changed
            "calcinosis",  # a word missing
            "tumoralcalcinosis",  # the space missing
            ".tumoral calcinosis",  # punctuation before
            "tumoral, calcinosis",  # punctuation inside
            "tumoral calcinosis-",  # a dash is no final punctuation
            "tumoral calcinosis x",
        ),
    ),
    Family(
        "ewing",
        ("Ewing's sarcoma",),
        right=("ewing's sarcoma", "EWING'S  SARCOMA.", "Ewing\u2019s sarcoma"),
        wrong=("Ewings sarcoma", "Ewing sarcoma", "Ewing`s sarcoma"),
    ),
    Family(
        "muller",
        ("Müllerian duct anomaly",),
        right=(
            "müllerian duct anomaly",
            "MÜLLERIAN DUCT ANOMALY",
            "Mu\u0308llerian duct anomaly",  # ü as u and a combining diaeresis (NFD)
            "MU\u0308LLERIAN DUCT ANOMALY!",
        ),
        wrong=("Mullerian duct anomaly", "Muellerian duct anomaly", "Müllerian duct"),
    ),
    Family(
        "crp",
        ("C-reactive protein",),
        right=("c-reactive protein", "C-Reactive  Protein."),
        wrong=(
            "c reactive protein",
            "creactive protein",
            "C reactive-protein",
            "-C-reactive protein",
        ),
    ),
    Family(
        # Regular expression metacharacters, XML's own, and several answers (an extended
        # text). A wrong text here is what the answer would match were it not escaped.
        "metachar",
        (
            "C++",
            "[18F]FDG",
            "T2* (GRE)",
            "a|b",
            "x{2}",
            "C^2 $5",
            "\\d",
            "e.g. a?b",
            "Ca2+ & <fluid>",
        ),
        right=(
            "c++",
            "[18f]fdg.",
            "t2*  (gre)",
            "A|B",
            "X{2}",
            "c^2 $5",
            "\\D",
            "E.G. A?B",
            "ca2+ & <FLUID>",
        ),
        wrong=(
            "CC",
            "1FDG",
            "T22 GRE",
            "a",
            "xx",
            "C2 5",
            "7",
            "eXgX ab",
            "Ca22 & <fluid>",
            "C^2 5",
        ),
    ),
)


def family_course(root: Path) -> Path:
    """A course with one case per family and one question per learner text, in order:
    the family's right texts, then its wrong ones."""
    (root / "cases").mkdir(parents=True)
    cases = [family.case for family in FAMILIES]
    (root / "course.yaml").write_text(
        f"id: text-matching\ntitle: Text answers\ncases: {json.dumps(cases)}\n", encoding="utf-8"
    )
    for family in FAMILIES:
        folder = root / "cases" / family.case
        folder.mkdir()
        (folder / "case.yaml").write_text(
            f"id: {family.case}\ntitle: Typed answers\nhistory: A patient.\n", encoding="utf-8"
        )
        questions = ["questions:"]
        for number, _ in enumerate(family.right + family.wrong, start=1):
            questions += [
                f"  - id: t{number}",
                "    type: text",
                "    stem: Name it.",
                f"    answer: {json.dumps(list(family.answers))}",  # JSON is YAML
                "    max_length: 30",
            ]
        (folder / "questions.yaml").write_text("\n".join(questions) + "\n", encoding="utf-8")
    return root


def variants(family: Family) -> list[tuple[str, bool]]:
    return [(text, True) for text in family.right] + [(text, False) for text in family.wrong]


@pytest.fixture(scope="module")
def course_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return family_course(tmp_path_factory.mktemp("text-matching") / "course")


@pytest.fixture(scope="module")
def course(course_folder: Path) -> Course:
    return validate_course(course_folder)


@pytest.fixture(scope="module")
def qti_files(course: Course) -> dict[str, bytes]:
    return {entry.name: entry.read() for entry in render_qti_package(course)}


# ------------------------------------------------------------------------- the rule


def test_the_rule_as_written_accepts_the_right_texts_only() -> None:
    for family in FAMILIES:
        accepted = {normalise_answer(a) for a in family.answers}
        for text, right in variants(family):
            assert (normalise_answer(text) in accepted) == right, (family.case, text)


def test_the_rule_in_examples() -> None:
    assert normalise_answer("  Tumoral \t calcinosis . ") == "tumoral calcinosis"
    assert normalise_answer("MÜLLER") == normalise_answer("Mu\u0308ller") == "müller"
    assert normalise_answer("Ewing\u2019s") == "ewing's"
    # Character by character, the lower case of the upper case: final and medial sigma
    # are one letter, as are the micro sign and mu; İ's lower case is two characters, so
    # it stays itself.
    assert normalise_answer("ΟΔΟΣ") == normalise_answer("οδος") == "οδοσ"
    assert normalise_answer("5 µg") == normalise_answer("5 ΜG") == "5 μg"
    assert normalise_answer("İstanbul") == "İstanbul"
    # Letters are letters: no accent or sharp s is dropped or spelled out.
    assert normalise_answer("Straße") != normalise_answer("Strasse")


def test_the_unicode_facts_the_rule_relies_on() -> None:
    """WHITESPACE is every Unicode space separator, the line and paragraph separators,
    tab, line feed, carriage return and U+FEFF; cased letters stop before plane 2, where
    the QTI pattern's table of letter cases ends; folding twice is folding once."""
    separators = {
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) in ("Zs", "Zl", "Zp")
    }
    assert set(WHITESPACE) == separators | {"\t", "\n", "\r", "\ufeff"}
    assert len(WHITESPACE) == len(set(WHITESPACE))
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        folded = fold_character(character)
        if code >= CASED_PLANES_END:
            assert folded == character and character.upper() == character, hex(code)
        assert fold_character(folded) == folded, hex(code)


BROKEN = """\
questions:
  - id: dots
    type: text
    stem: Name it.
    answer: [tumoral calcinosis, "?!"]
  - id: twice
    type: text
    stem: Name it.
    answer: [Tumoral calcinosis, "tumoral calcinosis!", Calcinosis]
"""


def test_answers_that_compare_as_nothing_or_as_another_are_errors(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    folder = tmp_path / "course"
    family_course(folder)
    questions = folder / "cases" / "tumoral" / "questions.yaml"
    questions.write_text(BROKEN, encoding="utf-8")
    monkeypatch.chdir(folder)
    result = run_cli("validate", ".")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "cases/tumoral/questions.yaml:5:13: error: accepted answer `?!` is only punctuation, "
        "and answers are compared without the punctuation at their end; write the words a "
        "learner would type",
        "cases/tumoral/questions.yaml:9:13: error: accepted answers `Tumoral calcinosis` and "
        "`tumoral calcinosis!` are the same answer: answers are compared ignoring letter "
        "case, spaces and punctuation at the end, so keep one",
        "2 errors",
    ]


# ------------------------------------------------------------------------- QTI items


def item_of(qti_files: dict[str, bytes], case: str, number: int) -> bytes:
    return qti_files[f"item-{case}.t{number}.xml"]


def test_every_document_is_valid_against_the_official_schemas(
    course: Course, schema_set: SchemaSet
) -> None:
    entries = render_qti_package(course)
    checked = {e.name for e in entries if e.schema}
    for family in FAMILIES:
        case = next(c for c in course.cases if c.id == family.case)
        assert item_href(case, case.questions[0]) == f"item-{family.case}.t1.xml" in checked
    for entry in entries:
        if entry.schema:
            assert schema_set.problems(entry.name, entry.schema, entry.read()) == [], entry.name


def test_the_items_test_each_answer_as_written_and_by_its_pattern(
    qti_files: dict[str, bytes],
) -> None:
    for family in FAMILIES:
        item = etree.fromstring(item_of(qti_files, family.case, 1))
        condition = item.find(f"{QTI}responseProcessing/{QTI}responseCondition/{QTI}responseIf")
        either = condition.find(f"{QTI}or")
        # Each answer as written (what Canvas reads), then each answer's pattern.
        assert [e.tag.removeprefix(QTI) for e in either] == ["stringMatch"] * len(
            family.answers
        ) + ["patternMatch"] * len(family.answers)
        assert [e.findtext(f"{QTI}baseValue") for e in either[: len(family.answers)]] == list(
            family.answers
        )
        patterns = [e.get("pattern") for e in either[len(family.answers) :]]
        assert patterns == [answer_pattern(a) for a in family.answers]


def test_canvas_still_reads_every_answer_as_written(qti_files: dict[str, bytes]) -> None:
    """Canvas's importer collects a short answer's accepted texts from `stringMatch` and
    `match` only (extended_text_interaction.rb), and a fill-in-the-blank's from the
    correct response (fill_in_the_blank.rb): the patterns add nothing there, and each
    answer arrives as the author wrote it. Canvas then grades by its own rule."""
    several = etree.fromstring(item_of(qti_files, "metachar", 1))
    answers = FAMILIES[-1].answers
    assert canvas_short_answers(several) == [*answers, answers[0]]
    one = etree.fromstring(item_of(qti_files, "tumoral", 1))
    values = one.findall(f".//{QTI}correctResponse/{QTI}value")
    assert [v.text for v in values] == ["tumoral calcinosis"]
    assert one.find(f".//{QTI}textEntryInteraction") is not None


def test_a_pattern_as_written_in_the_item(qti_files: dict[str, bytes]) -> None:
    """What a reader of `qtiexport render` sees: letters as [xX], escaped metacharacters,
    spaces as a group whose members beyond ASCII are character references."""
    written = item_of(qti_files, "muller", 1)
    assert b'<patternMatch pattern="([\\t\\n\\r ]|&#xA0;|&#x1680;|&#x2000;|' in written
    assert b"[mM](\xc3\xbc|\xc3\x9c|u&#x308;|U&#x308;)[lL][lL]" in written  # ü, Ü, NFD
    assert "\u00a0".encode() not in written and "\u0308".encode() not in written
    pattern = answer_pattern("C++ (a)")
    spaces = pattern[: pattern.index(")") + 1]
    assert spaces.startswith("([\\t\\n\\r ]|\u00a0|\u1680|\u2000|")
    ending = pattern[pattern.rindex("(") :]
    assert ending.startswith("([\\t\\n\\r .,;:!?]|\u00a0|") and ending.endswith("|\u2026)*")
    assert pattern == f"{spaces}*[cC]\\+\\+{spaces}+\\([aA]\\){ending}"


def test_pyslet_scores_every_text_as_the_rule_says(qti_files: dict[str, bytes]) -> None:
    for family in FAMILIES:
        for number, (text, right) in enumerate(variants(family), start=1):
            expected = (1.0, {"correct"}) if right else (0.0, {"incorrect"})
            assert run_pyslet(item_of(qti_files, family.case, number), text) == expected, (
                family.case,
                text,
            )
    # Line breaks cannot be typed into the player's one-line field; QTI takes them as
    # white space too.
    item = item_of(qti_files, "tumoral", 1)
    assert run_pyslet(item, "tumoral\r\ncalcinosis\n") == (1.0, {"correct"})


# Words from letters with and without case and accents, digits, the metacharacters and
# punctuation, and the characters white space and final punctuation are made of.
ANSWER_CHARACTERS = "aBcßİΣσςkKÅåÜüéǅ'’-+*?.()[]{}|\\^$&<>2"
WORD = st.text(st.sampled_from(ANSWER_CHARACTERS), min_size=1, max_size=5)
SPACING = st.text(st.sampled_from(WHITESPACE), min_size=1, max_size=2)
ENDING = st.text(st.sampled_from(WHITESPACE + FINAL_PUNCTUATION), max_size=3)


@st.composite
def answer_and_text(draw) -> tuple[str, str, str]:
    """An accepted answer, a learner text, and its Unicode form: the answer as a learner
    might type it (letter case changed, any spacing, punctuation at the end), often with
    one character changed, added or dropped."""
    words = draw(st.lists(WORD, min_size=1, max_size=3))
    answer = " ".join(words)
    typed_words = []
    for word in words:
        changed = "".join(
            draw(st.sampled_from([c, c.upper(), c.lower(), c.swapcase()])) for c in word
        )
        typed_words.append(changed)
    typed = draw(st.sampled_from(["", " ", "\t"])) + draw(SPACING).join(typed_words)
    typed += draw(ENDING)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(typed)))
        change = draw(st.sampled_from(["add", "drop", "replace"]))
        other = draw(st.sampled_from(ANSWER_CHARACTERS + " "))
        typed = typed[:at] + (other if change != "drop" else "") + typed[at + (change != "add") :]
    return answer, typed, draw(st.sampled_from(["NFC", "NFD"]))


@settings(max_examples=300, deadline=None)
@given(answer_and_text())
def test_xml_schema_engines_accept_exactly_what_the_rule_accepts(
    case: tuple[str, str, str],
) -> None:
    """pyslet's and libxml2's XML Schema regular expressions, on texts with accents
    composed (as keyboards type them) or fully decomposed (NFD). The player makes a text
    NFC before comparing; a QTI engine compares it as it comes (see the next test)."""
    answer, typed, form = case
    if not normalise_answer(answer):
        return  # only punctuation: refused by validation
    typed = unicodedata.normalize(form, typed)
    pattern = answer_pattern(answer)
    expected = normalise_answer(typed) == normalise_answer(answer)
    assert RegularExpression(pattern).match(typed) == expected, (answer, typed, pattern)
    assert xsd_pattern_accepts(pattern, typed) == expected, (answer, typed, pattern)


def test_decomposed_accents_match_in_full_only() -> None:
    """Composed (as keyboards type) and fully decomposed (macOS file names) accents match
    in QTI as in the player; a text mixing both, which the player's NFC still accepts,
    is refused by the pattern: a difference kept because keyboards do not type it."""
    pattern = RegularExpression(answer_pattern("Nguyễn"))
    assert pattern.match("nguyễn") and pattern.match(unicodedata.normalize("NFD", "NGUYỄN"))
    mixed = "Nguy\u00ea\u0303n"  # ê, then a combining tilde
    assert normalise_answer(mixed) == normalise_answer("Nguyễn")
    assert not pattern.match(mixed)


# ----------------------------------------------------------------------- the player


@pytest.fixture(scope="module")
def server(course_folder: Path, tmp_path_factory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-text-matching")
    lms.mount("text", build_scorm_package(course_folder, output / "text", schema_set))
    yield lms
    lms.close()


def launch(lms: LmsSession, server: LmsServer, case: str) -> Frame:
    return lms.launch(f"{server.origin}/package-text", case, initial_cmi(mastery_score=None))


def test_the_player_records_what_pyslet_scores(
    lms: LmsSession, server: LmsServer, qti_files: dict[str, bytes]
) -> None:
    for family in FAMILIES:
        frame = launch(lms, server, family.case)
        texts = variants(family)
        for number, (text, _) in enumerate(texts, start=1):
            frame.fill(f"#question-{number}-text", text)
            frame.click(f"#question-{number} button[type=submit]")
            frame.wait_for_selector(f"#question-{number}-feedback:not([hidden])")
            go_on(frame, number)
        frame.wait_for_selector("#results:not([hidden])")
        found = lms.cmi()["interactions"]
        recorded = [found[str(n)] for n in range(len(found))]
        assert len(recorded) == len(texts)
        for number, (text, right) in enumerate(texts, start=1):
            interaction = recorded[number - 1]
            score, _ = run_pyslet(item_of(qti_files, family.case, number), text)
            verdict = "correct" if right else "wrong"
            assert (interaction["result"], score) == (verdict, float(right)), (family.case, text)
            # What the learner typed is kept (tabs as spaces), not what was compared.
            assert interaction["student_response"] == text.replace("\t", " ").strip()
        lms.exit()


def test_the_learner_is_told_what_does_not_matter(lms: LmsSession, server: LmsServer) -> None:
    frame = launch(lms, server, "tumoral")
    assert frame.inner_text("#question-1-instruction") == (
        "Type your answer. Up to 30 characters; letter case, spacing and punctuation at "
        "the end do not matter."
    )


def test_the_player_folds_and_trims_every_character_as_python_does(
    lms: LmsSession, server: LmsServer
) -> None:
    """Every character Python's Unicode database assigns, in planes 0 and 1, alone and
    between two letters: the player's rule gives the same text as `normalise_answer`."""
    frame = launch(lms, server, "tumoral")
    pairs = []
    for code in range(CASED_PLANES_END):
        character = chr(code)
        category = unicodedata.category(character)
        if category in ("Cn", "Cs", "Cc") and character not in "\t":
            continue  # unassigned, surrogates, control characters (the player drops them)
        for text in (character, f"a{character}b"):
            pairs.append((text, normalise_answer(text)))
    mismatches = frame.evaluate(
        """(pairs) => {
            const kind = window.QtiQuestions.text;
            return pairs.filter(([text, normalised]) =>
                kind.points({spec: {accepted: [normalised], points: 1}}, text) !== 1);
        }""",
        pairs,
    )
    assert [(t, [hex(ord(c)) for c in t]) for t, _ in mismatches] == []
    # And JavaScript's white space is WHITESPACE, with vertical tab and form feed.
    spaces = frame.evaluate(
        """() => {
            const found = [];
            for (let code = 0; code < 0x10000; code++) {
                if (/\\s/.test(String.fromCharCode(code))) found.push(code);
            }
            return found;
        }"""
    )
    assert {chr(c) for c in spaces} == set(WHITESPACE) | {"\v", "\f"}


def test_tao_s_browser_runner_reads_the_patterns_alike(lms: LmsSession, server: LmsServer) -> None:
    """TAO's browser runner (oat-sa/tao-item-runner-qti-fe, scoring/processor/expressions/
    operators/patternMatch.js) escapes every ^ and $, anchors the pattern and builds a
    JavaScript RegExp with no flags; so read, each pattern decides as the rule does."""
    frame = launch(lms, server, "tumoral")
    cases = [
        (answer_pattern(answer), text, right)
        for family in FAMILIES
        for text, right in variants(family)
        for answer in family.answers[:1]
        if len(family.answers) == 1
    ]
    metachar = FAMILIES[-1]
    cases += [
        (answer_pattern(answer), text, normalise_answer(text) == normalise_answer(answer))
        for answer in metachar.answers
        for text, _ in variants(metachar)
    ]
    assert any(right for _, _, right in cases) and not all(right for _, _, right in cases)
    decided = frame.evaluate(
        """(cases) => cases.map(([pattern, text]) => {
            let read = pattern.replace(/[\\^\\$]/g, "\\\\$&");
            if (!read.match(/^(\\.\\*)/)) read = "^" + read;
            if (!read.match(/(\\.\\*)$/)) read = read + "$";
            return new RegExp(read).test(text);
        })""",
        [[p, t] for p, t, _ in cases],
    )
    # The one difference: `[\\^]` read as a class of \\ and ^, so a backslash stands in for ^.
    assert decided == [right for _, _, right in cases]
    assert re.search(r"\[\\\^\]", answer_pattern("C^2"))

"""The format's rough edges that authors met writing real cases (issue 14, item 4).

Prose that YAML misreads gets a message at the value that says how to write it, and the
fix it shows is valid YAML that gives the author's text; `answer: a, b` on a `multiple`
question says to write a list; a missing file's suggestion is a likely typo of it or
nothing; a case's own `mastery_score` and `credit` reach the packages.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import html5lib
import pytest
from lxml import etree
from PIL import Image

from lms.harness import LmsServer, LmsSession, initial_cmi
from qtiexport.validate import validate_course

MINIMAL = Path(__file__).resolve().parent / "fixtures" / "minimal"
CASE_YAML = (MINIMAL / "cases" / "c1" / "case.yaml").read_text(encoding="utf-8")
QUESTIONS_YAML = (MINIMAL / "cases" / "c1" / "questions.yaml").read_text(encoding="utf-8")
IMSCP = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}"
ADLCP = "{http://www.adlnet.org/xsd/adlcp_rootv1p2}"
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
CREDIT = "Courtesy of Dr A. Example, [Radiopaedia](https://radiopaedia.org/cases/1), rID 12345"
CREDIT_TEXT = "Courtesy of Dr A. Example, Radiopaedia, rID 12345"


def course_with(tmp_path: Path, case_yaml: str = CASE_YAML, questions: str = QUESTIONS_YAML):
    """The minimal course with its case's YAML replaced."""
    course = tmp_path / "course"
    shutil.copytree(MINIMAL, course)
    (course / "cases" / "c1" / "case.yaml").write_text(case_yaml, encoding="utf-8")
    (course / "cases" / "c1" / "questions.yaml").write_text(questions, encoding="utf-8")
    return course


def errors_of(run_cli, course: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The error lines `qtiexport validate` prints for the course, without the count."""
    monkeypatch.chdir(course)
    result = run_cli("validate", ".")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    *errors, count = result.stderr.splitlines()
    assert count == f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    return errors


def with_title(line: str) -> str:
    return CASE_YAML.replace("title: A small case", line)


# (the line as written, the column of the message, what it says, the fix it shows, the
# title that fix gives)
PROSE = [
    (
        "title: Case 356: hip pain",
        8,
        "the colon at column 16 makes YAML read this text as a `key: value`; put the text "
        "in quotes: ",
        'title: "Case 356: hip pain"',
        "Case 356: hip pain",
    ),
    (
        "title: Differential:",
        8,
        "the colon at column 20 makes YAML read this text as a `key: value`; put the text "
        "in quotes: ",
        'title: "Differential:"',
        "Differential:",
    ),
    (
        'title: "Case 356": hip pain  # a comment stays a comment',
        8,
        "the colon at column 18 makes YAML read this text as a `key: value`; put the text "
        "in quotes: ",
        "title: '\"Case 356\": hip pain'",
        '"Case 356": hip pain',
    ),
    (
        "title: @home injury",
        8,
        "YAML does not let a text start with `@`; put the text in quotes: ",
        'title: "@home injury"',
        "@home injury",
    ),
    (
        "title: %50 of cases",
        8,
        "YAML does not let a text start with `%`; put the text in quotes: ",
        'title: "%50 of cases"',
        "%50 of cases",
    ),
    (
        "title: `os trigonum` on a lateral view",
        8,
        "YAML does not let a text start with a backtick; put the text in quotes: ",
        'title: "`os trigonum` on a lateral view"',
        "`os trigonum` on a lateral view",
    ),
    (
        'title: "Doctor" said no',
        8,
        "the quotes close before the text ends, so YAML cannot read the rest of the line; "
        "put the whole text in quotes: ",
        "title: '\"Doctor\" said no'",
        '"Doctor" said no',
    ),
    (
        "title: 'Paget's disease'",
        8,
        "the quotes close before the text ends, so YAML cannot read the rest of the line; "
        "put the whole text in quotes: ",
        'title: "Paget\'s disease"',
        "Paget's disease",
    ),
    (
        'title: "The "chicken wire" sign"',
        8,
        "the quotes close before the text ends, so YAML cannot read the rest of the line; "
        "put the whole text in quotes: ",
        "title: 'The \"chicken wire\" sign'",
        'The "chicken wire" sign',
    ),
    (
        "title: [Left] hand mass",
        8,
        "a value that starts with `[` is read as a list that ends at `]`, and text follows "
        "it; if it is text, put it in quotes: ",
        'title: "[Left] hand mass"',
        "[Left] hand mass",
    ),
    (
        "title: > 5 cm soft-tissue mass",
        8,
        "a value that starts with `>` is read as a block of text, and `>` must end its "
        "line; put the text in quotes: ",
        'title: "> 5 cm soft-tissue mass"',
        "> 5 cm soft-tissue mass",
    ),
    (
        "title: *Incidental* finding",
        8,
        "a value that starts with `*` is read as an alias (`*name` repeats the value marked "
        "`&name`); if it is text, put it in quotes: ",
        'title: "*Incidental* finding"',
        "*Incidental* finding",
    ),
    (
        "title: !Important finding",
        8,
        "YAML reads `!Important` at the start of this value as a tag and drops it; put the "
        "text in quotes: ",
        'title: "!Important finding"',
        "!Important finding",
    ),
    (
        "title: - a painful hip",
        8,
        "`- ` here starts a list, which cannot begin on the line of its key; if this is "
        "text, put it in quotes: {fix}; for a list, write each `- item` on its own line "
        "below `title:`",
        'title: "- a painful hip"',
        "- a painful hip",
    ),
]


@pytest.mark.parametrize(
    ("written", "col", "message", "fix", "title"), PROSE, ids=[p[0] for p in PROSE]
)
def test_prose_that_yaml_misreads_is_explained_and_the_fix_works(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written, col, message, fix, title
) -> None:
    course = course_with(tmp_path, with_title(written))
    shown = fix if "`" in fix else f"`{fix}`"  # a fix with backticks is shown bare
    message = message if "{fix}" in message else message + "{fix}"
    assert errors_of(run_cli, course, monkeypatch) == [
        f"cases/c1/case.yaml:2:{col}: error: {message.format(fix=shown)}"
    ]
    # The fix the message shows, written in place, gives the author's text.
    course = course_with(tmp_path / "fixed", with_title(fix))
    assert validate_course(course).cases[0].title == title


def test_a_colon_in_an_indented_value_names_its_own_key(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_yaml = CASE_YAML.replace(
        "caption: Frontal radiograph", "caption: Frontal radiograph: day 3"
    ).replace("- title: Point", '- title: "Point" of care')
    assert errors_of(run_cli, course_with(tmp_path, case_yaml), monkeypatch) == [
        # The first error stops YAML: one at a time, as the parser finds them.
        "cases/c1/case.yaml:7:14: error: the colon at column 32 makes YAML read this text as "
        'a `key: value`; put the text in quotes: `caption: "Frontal radiograph: day 3"`'
    ]


def test_a_list_entry_quoted_in_part_shows_the_entry_quoted_whole(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_yaml = CASE_YAML + 'references:\n  - "Radiology" 2001;1:1-10.\n'
    line = CASE_YAML.count("\n") + 2
    assert errors_of(run_cli, course_with(tmp_path, case_yaml), monkeypatch) == [
        f"cases/c1/case.yaml:{line}:5: error: the quotes close before the text ends, so YAML "
        "cannot read the rest of the line; put the whole text in quotes: "
        "`- '\"Radiology\" 2001;1:1-10.'`"
    ]


def test_a_colon_on_a_later_line_of_a_plain_text_says_to_write_a_block(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = "history: A painless swelling beside the hip.\n  Examination: firm, not tender.\n"
    case_yaml = CASE_YAML.replace("history: A short history.\n", written)
    assert errors_of(run_cli, course_with(tmp_path, case_yaml), monkeypatch) == [
        "cases/c1/case.yaml:3:10: error: this text runs over several lines and the colon on "
        "line 4 makes YAML read it as a `key: value`; write `history: |` and the text on the "
        "lines below it, indented; if `Examination:` starts a new key, indent it as the keys "
        "around it"
    ]
    fixed = written.replace("history: ", "history: |\n  ")
    course = course_with(
        tmp_path / "fixed", CASE_YAML.replace("history: A short history.\n", fixed)
    )
    assert validate_course(course).cases[0].history.source == (
        "A painless swelling beside the hip.\nExamination: firm, not tender.\n"
    )


def test_a_wrapped_line_flush_with_its_key_says_to_indent_it(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = "history: A painless swelling beside the hip,\nslowly enlarging over 2 years.\n"
    case_yaml = CASE_YAML.replace("history: A short history.\n", written)
    assert errors_of(run_cli, course_with(tmp_path, case_yaml), monkeypatch) == [
        "cases/c1/case.yaml:4:1: error: this line goes on with the text of `history:` (line 3) "
        "but is not indented under it, so YAML reads it as a key; indent it, or write "
        "`history: |` and the whole text below it, indented"
    ]


def test_a_list_under_a_plain_text_says_to_write_a_block(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = "history: The patient has\n- fever\n- night pain\n"
    case_yaml = CASE_YAML.replace("history: A short history.\n", written)
    assert errors_of(run_cli, course_with(tmp_path, case_yaml), monkeypatch) == [
        "cases/c1/case.yaml:3:10: error: the list on line 4 cannot follow the text of "
        "`history:`; to put a list in the text, write `history: |` and indent the text and "
        "the list below it"
    ]


def test_a_quote_that_never_closes_is_shown_where_it_opens(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_yaml = CASE_YAML.replace("alt: A frontal radiograph.", 'alt: "A frontal radiograph.')
    assert errors_of(run_cli, course_with(tmp_path, case_yaml), monkeypatch) == [
        'cases/c1/case.yaml:8:10: error: the text in quotes that starts here has no closing `"`; '
        "add it at the end of the text"
    ]


def test_other_yaml_errors_keep_the_parser_message(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_yaml = CASE_YAML.replace("history: A short history.", "history: [A short history.")
    assert errors_of(run_cli, course_with(tmp_path, case_yaml), monkeypatch) == [
        "cases/c1/case.yaml:4:7: error: the YAML does not parse: did not find expected ',' or "
        "']' (while parsing a flow sequence that starts at line 3)"
    ]


# ------------------------------------------------------------------ answer: a, b

MULTIPLE_ANSWER = "    answer: [a, b]\n"


@pytest.mark.parametrize(("written", "listed"), [("a, b", "a, b"), ("a c", "a, c")])
def test_several_keys_in_one_text_say_to_write_a_list(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str, listed: str
) -> None:
    assert QUESTIONS_YAML.count(MULTIPLE_ANSWER) == 1
    questions = QUESTIONS_YAML.replace(MULTIPLE_ANSWER, f"    answer: {written}\n")
    line = QUESTIONS_YAML[: QUESTIONS_YAML.index(MULTIPLE_ANSWER)].count("\n") + 1
    assert errors_of(run_cli, course_with(tmp_path, questions=questions), monkeypatch) == [
        f"cases/c1/questions.yaml:{line}:13: error: the answer `{written}` of question `q2` is "
        f"one text to YAML; for several keys, write a list: `[{listed}]`"
    ]


def test_one_key_stays_a_valid_multiple_answer(tmp_path: Path) -> None:
    questions = QUESTIONS_YAML.replace(MULTIPLE_ANSWER, "    answer: b\n")
    course = validate_course(course_with(tmp_path, questions=questions))
    assert course.cases[0].questions[1].correct == ("b",)


# ------------------------------------------------------------------ missing files


def missing_file_error(run_cli, tmp_path, monkeypatch, written: str, files: list[str]) -> str:
    course = course_with(tmp_path, CASE_YAML.replace("images/xray.png", written))
    images = course / "cases" / "c1" / "images"
    for name in files:
        (images / name).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4)).save(images / name, format="PNG")
    (images / ".DS_Store").write_bytes(b"")  # hidden files are never suggested
    [error] = errors_of(run_cli, course, monkeypatch)
    prefix = f"cases/c1/case.yaml:6:11: error: image file `{written}` not found in cases/c1"
    assert error.startswith(prefix)
    return error.removeprefix(prefix)


def test_a_misspelt_file_name_suggests_the_file(run_cli, tmp_path, monkeypatch) -> None:
    suggestion = missing_file_error(run_cli, tmp_path, monkeypatch, "images/xary.png", [])
    assert suggestion == "; did you mean `images/xray.png`?"


def test_a_wrong_folder_suggests_the_file(run_cli, tmp_path, monkeypatch) -> None:
    suggestion = missing_file_error(run_cli, tmp_path, monkeypatch, "image/xray.png", [])
    assert suggestion == "; did you mean `images/xray.png`?"


def test_the_same_kind_of_file_is_suggested_first(run_cli, tmp_path, monkeypatch) -> None:
    files = ["xray.jpg"]  # `xray.jpeg` is a JPEG under either name; the PNG is another file
    suggestion = missing_file_error(run_cli, tmp_path, monkeypatch, "images/xray.jpeg", files)
    assert suggestion == "; did you mean `images/xray.jpg`?"


def test_another_image_of_the_case_is_not_suggested(run_cli, tmp_path, monkeypatch) -> None:
    suggestion = missing_file_error(run_cli, tmp_path, monkeypatch, "images/ct-axial.png", [])
    assert suggestion == "; the case folder holds `images/xray.png`"


def test_a_missing_slice_suggests_no_other_slice(run_cli, tmp_path, monkeypatch) -> None:
    slices = [f"t2/slice-{n}.png" for n in (1, 2, 4, 5, 6, 7)]
    suggestion = missing_file_error(run_cli, tmp_path, monkeypatch, "images/t2/slice-3.png", slices)
    assert suggestion == ""  # no likely typo, and too many files to list


# ------------------------------------------------------------- mastery_score per case


def two_case_course(tmp_path: Path, second_case_extra: str) -> Path:
    """The minimal course (mastery_score 50) with a second case `c2`."""
    course = course_with(tmp_path)
    shutil.copytree(course / "cases" / "c1", course / "cases" / "c2")
    case_yaml = CASE_YAML.replace("id: c1", "id: c2") + second_case_extra
    (course / "cases" / "c2" / "case.yaml").write_text(case_yaml, encoding="utf-8")
    course_yaml = course / "course.yaml"
    course_yaml.write_text(course_yaml.read_text() + "  - c2\n", encoding="utf-8")
    return course


def built(run_cli, course: Path, output: Path) -> tuple[zipfile.ZipFile, zipfile.ZipFile]:
    result = run_cli("build", str(course), "-o", str(output))
    assert result.exit_code == 0, result.output
    return (
        zipfile.ZipFile(output / "minimal-scorm12.zip"),
        zipfile.ZipFile(output / "minimal-qti21.zip"),
    )


def test_a_case_mastery_score_is_its_sco_s_pass_mark(run_cli, tmp_path: Path) -> None:
    course = two_case_course(tmp_path, "mastery_score: 90\n")
    scorm, _ = built(run_cli, course, tmp_path / "out")
    manifest = etree.fromstring(scorm.read("imsmanifest.xml"))
    scores = {
        item.get("identifierref"): item.findtext(f"{ADLCP}masteryscore")
        for item in manifest.iter(f"{IMSCP}item")
    }
    assert scores == {"SCO-c1": "50", "SCO-c2": "90"}  # course.yaml says 50
    pages = {case: scorm.read(f"cases/{case}/index.html").decode() for case in ("c1", "c2")}
    progress = {
        case: html5lib.parse(page, namespaceHTMLElements=False).find(".//p[@id='progress']")
        for case, page in pages.items()
    }
    assert {case: "".join(p.itertext()) for case, p in progress.items()} == {
        "c1": "4 questions · pass mark 50%",
        "c2": "4 questions · pass mark 90%",
    }
    # What the player judges by, when the LMS gives no mastery score of its own.
    player_data = {
        case: json.loads(
            "".join(
                html5lib.parse(page, namespaceHTMLElements=False)
                .find(".//script[@id='player-data']")
                .itertext()
            )
        )
        for case, page in pages.items()
    }
    assert {case: data["masteryScore"] for case, data in player_data.items()} == {
        "c1": 50,
        "c2": 90,
    }


def test_a_case_mastery_score_outside_0_to_100_is_located(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = course_with(tmp_path, CASE_YAML + "mastery_score: 120\n")
    line = CASE_YAML.count("\n") + 1
    assert errors_of(run_cli, course, monkeypatch) == [
        f"cases/c1/case.yaml:{line}:16: error: `mastery_score` of case.yaml is 120; it must be "
        "between 0 and 100"
    ]


# ------------------------------------------------------------------------ credit


def credit_line(value: str) -> str:
    return CASE_YAML.replace(
        "history: A short history.\n", f"history: A short history.\ncredit: {value}\n"
    )


def test_the_credit_is_in_small_print_under_the_history_in_qti(run_cli, tmp_path: Path) -> None:
    course = course_with(tmp_path, credit_line(CREDIT))
    _, qti = built(run_cli, course, tmp_path / "out")
    item = etree.fromstring(qti.read("item-c1.q1.xml"))
    test = etree.fromstring(qti.read("test-c1.xml"))
    for document, where in ((item, f"{QTI}itemBody"), (test, f"{QTI}rubricBlock")):
        body = document.find(f".//{where}")
        credit = body.find(f".//{QTI}p[@class='credit']")
        assert credit is not None, etree.tostring(body).decode()
        # Right after the history paragraph, before the figures.
        previous = credit.getprevious()
        assert "".join(previous.itertext()) == "A short history."
        small = credit.find(f"{QTI}small")
        assert "".join(small.itertext()) == CREDIT_TEXT
        [link] = small.findall(f"{QTI}a")
        assert link.get("href") == "https://radiopaedia.org/cases/1"
    # The second question's item does not repeat the history, nor the credit.
    second = etree.fromstring(qti.read("item-c1.q2.xml"))
    assert second.find(f".//{QTI}p[@class='credit']") is None


def test_a_case_without_credit_shows_none(run_cli, tmp_path: Path) -> None:
    scorm, qti = built(run_cli, course_with(tmp_path), tmp_path / "out")
    assert b'class="credit"' not in scorm.read("cases/c1/index.html")
    assert b'class="credit"' not in qti.read("item-c1.q1.xml")


@pytest.mark.parametrize(
    ("credit", "message"),
    [
        (
            "Courtesy of [Dr X](javascript:alert(1))",
            "`credit` of case.yaml: link target `javascript:` is not allowed; links must start "
            "with http://, https:// or mailto:",
        ),
        (
            "Courtesy of Dr X <script>alert(1)</script>",
            "`credit` of case.yaml: raw HTML `<script>` is not allowed; write Markdown instead "
            "(allowed tags: abbr, b, br, code, em, i, small, strong, sub, sup)",
        ),
        (
            "|",  # a block with no text: a credit is one line
            "`credit` of case.yaml is empty; write the text or remove the key",
        ),
    ],
)
def test_an_unsafe_credit_is_refused_like_other_markdown(
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credit: str, message: str
) -> None:
    course = course_with(tmp_path, credit_line(credit))
    assert errors_of(run_cli, course, monkeypatch) == [f"cases/c1/case.yaml:4:9: error: {message}"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LmsServer]:
    """The minimal course, with a credit that holds a link and markup in a code span."""
    from click.testing import CliRunner

    from qtiexport.cli import cli

    folder = tmp_path_factory.mktemp("credit")
    credit = CREDIT + ", `<script>alert('credit')</script>`"
    course = course_with(folder, credit_line(credit))
    result = CliRunner().invoke(cli, ["build", str(course), "-o", str(folder / "out")])
    assert result.exit_code == 0, result.output
    unzipped = folder / "unzipped"
    with zipfile.ZipFile(folder / "out" / "minimal-scorm12.zip") as archive:
        archive.extractall(unzipped)
    lms = LmsServer()
    lms.mount("credit", unzipped)
    yield lms
    lms.close()


def test_the_player_shows_the_credit_under_the_history(lms: LmsSession, server: LmsServer) -> None:
    frame = lms.launch(f"{server.origin}/package-credit", "c1", initial_cmi())
    shown = frame.evaluate(
        """() => {
            const credit = document.querySelector(
                'section[aria-labelledby=history-heading] p.credit');
            const history = credit.previousElementSibling;
            const small = credit.querySelector('small');
            return {
                after: history.className,
                text: small.textContent,
                links: [...small.querySelectorAll('a')].map(a => a.href),
                code: [...small.querySelectorAll('code')].map(c => c.textContent),
                elements: small.querySelectorAll('*').length,
                smaller: parseFloat(getComputedStyle(small).fontSize)
                    < parseFloat(getComputedStyle(history).fontSize),
            };
        }"""
    )
    assert shown == {
        "after": "prose",
        "text": CREDIT_TEXT + ", <script>alert('credit')</script>",
        "links": ["https://radiopaedia.org/cases/1"],
        "code": ["<script>alert('credit')</script>"],
        "elements": 2,  # the link and the code span, nothing the text could have made
        "smaller": True,
    }
    assert lms.dialogs == []

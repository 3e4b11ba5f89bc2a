"""A learner who leaves comes back where they were (cmi.core.entry = "resume")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Frame

from lms.harness import (
    CONTENT_FOLDER,
    SEED_CASE,
    SEED_KEYS,
    LmsServer,
    LmsSession,
    answer_with_mouse,
    build_scorm_package,
    go_on,
    initial_cmi,
)
from qtiexport.schemas import SchemaSet
from qtiexport.tracking import SUSPEND_DATA_LIMIT, encode_state, longest_state
from qtiexport.validate import validate_course

LONG_COURSE = Path(__file__).resolve().parent / "fixtures" / "player-long"
# The longest thing a learner can type that JSON must escape: every character doubles.
WORST_TEXT = ('"\\' * 128)[:255]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-resume")
    lms.mount("seed", build_scorm_package(CONTENT_FOLDER, output / "seed", schema_set))
    lms.mount("long", build_scorm_package(LONG_COURSE, output / "long", schema_set))
    yield lms
    lms.close()


def resume_data(cmi: dict[str, Any], mastery_score: int | None = 80) -> dict[str, Any]:
    """What an LMS hands back on the next launch after a suspended session."""
    data = initial_cmi(
        mastery_score,
        entry="resume",
        lesson_location=cmi["core"]["lesson_location"],
        lesson_status=cmi["core"]["lesson_status"],
    )
    data["suspend_data"] = cmi["suspend_data"]
    data["interactions"] = cmi["interactions"]
    return data


def assert_locked_with(frame: Frame, number: int, key: str) -> None:
    assert frame.is_visible(f"#question-{number}")
    assert frame.is_disabled(f"#question-{number}-choice-{key}")
    assert frame.is_checked(f"#question-{number}-choice-{key}")
    assert frame.is_visible(f"#question-{number}-feedback")
    assert not frame.is_visible(f"#question-{number} button[type=submit]")


def test_resume_opens_at_the_next_question_with_earlier_answers_locked(
    lms: LmsSession, server: LmsServer
) -> None:
    seed = f"{server.origin}/package-seed"
    frame = lms.launch(seed, SEED_CASE, initial_cmi())
    answer_with_mouse(frame, 1, "a")
    go_on(frame, 1)
    answer_with_mouse(frame, 2, "b")  # wrong: the restored feedback must say so
    lms.exit()
    saved = lms.cmi()
    assert saved["core"]["exit"] == "suspend"
    assert saved["core"]["lesson_location"] == "q3"
    assert saved["suspend_data"] == '{"v":1,"r":["a","b"]}'

    frame = lms.launch(seed, SEED_CASE, resume_data(saved))
    assert_locked_with(frame, 1, "a")
    assert_locked_with(frame, 2, "b")
    assert "Incorrect" in frame.inner_text("#question-2-verdict")
    assert frame.is_visible("#question-3")
    assert frame.is_enabled("#question-3-choice-e")
    assert not frame.is_checked("#question-3-choice-e")
    assert not frame.is_visible("#question-4")
    assert not frame.is_visible("#question-2 .next-button")
    assert "Question 3 of 5" in frame.inner_text("#progress")

    for number in (3, 4, 5):
        answer_with_mouse(frame, number, SEED_KEYS[f"q{number}"])
        go_on(frame, number)
    frame.wait_for_selector("#results:not([hidden])")
    cmi = lms.cmi()
    assert cmi["core"]["score"]["raw"] == "80"  # 4 of 5, counting the restored answers
    assert cmi["core"]["lesson_status"] == "passed"
    # This session's answers follow the two the LMS already held.
    assert [cmi["interactions"][str(n)]["id"] for n in range(5)] == [
        f"{SEED_CASE}__{q}" for q in SEED_KEYS
    ]
    assert all(c["error"] == "0" for c in lms.calls())


def test_a_finished_case_reopens_on_its_result(lms: LmsSession, server: LmsServer) -> None:
    seed = f"{server.origin}/package-seed"
    frame = lms.launch(seed, SEED_CASE, initial_cmi())
    for number, key in enumerate(SEED_KEYS.values(), start=1):
        answer_with_mouse(frame, number, key)
        go_on(frame, number)
    saved = lms.cmi()
    lms.exit()
    data = resume_data(saved)
    data["core"]["entry"] = ""  # the attempt ended normally (cmi.core.exit was "")
    frame = lms.launch(seed, SEED_CASE, data)
    assert frame.is_visible("#results")
    assert "100%" in frame.inner_text("#result-score")
    lms.exit()
    cmi = lms.cmi()
    assert cmi["core"]["lesson_status"] == "passed"  # not set back to incomplete
    assert [c["method"] for c in lms.calls()].count("LMSFinish") == 1


def test_a_fresh_attempt_ignores_saved_answers(lms: LmsSession, server: LmsServer) -> None:
    data = initial_cmi(entry="ab-initio")
    data["suspend_data"] = '{"v":1,"r":["a","b"]}'
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, data)
    assert frame.is_visible("#question-1")
    assert frame.is_enabled("#question-1-choice-a")


def test_a_damaged_state_restores_only_its_valid_start(lms: LmsSession, server: LmsServer) -> None:
    data = initial_cmi(entry="resume")
    data["suspend_data"] = '{"v":1,"r":["a","zz","e"]}'
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, data)
    assert_locked_with(frame, 1, "a")
    assert frame.is_enabled("#question-2-choice-e")


def answer_longest(frame: Frame, number: int) -> str:
    """Give question `number` the answer that takes most room in suspend_data."""
    question = f"#question-{number}"
    if frame.locator(f"{question} input[type=text]").count():
        frame.fill(f"{question}-text", WORST_TEXT)
        code = WORST_TEXT
    elif frame.locator(f"{question} input[type=checkbox]").count():
        frame.locator(f"{question} input[type=checkbox]").evaluate_all(
            "boxes => boxes.forEach(box => { box.checked = true; })"
        )
        code = "abcdefghijklmnopqrstuvwxyz"
    elif frame.locator(f"{question}-choice-true").count():
        frame.check(f"{question}-choice-true")
        code = "t"
    else:
        frame.check(f"{question}-choice-z")
        code = "z"
    frame.click(f"{question} button[type=submit]")
    go_on(frame, number)
    return code


def test_suspend_data_of_26_questions_fits_4096_characters(
    lms: LmsSession, server: LmsServer
) -> None:
    case = validate_course(LONG_COURSE).cases[0]
    assert len(case.questions) == 26
    long = f"{server.origin}/package-long"
    frame = lms.launch(long, "long", initial_cmi(50))
    codes = [answer_longest(frame, number) for number in range(1, 14)]
    lms.exit()
    saved = lms.cmi()
    assert saved["suspend_data"] == encode_state(codes)

    frame = lms.launch(long, "long", resume_data(saved, 50))
    assert frame.input_value("#question-2-text") == WORST_TEXT
    assert frame.is_disabled("#question-2-text")
    assert frame.is_visible("#question-14")
    codes += [answer_longest(frame, number) for number in range(14, 27)]
    frame.wait_for_selector("#results:not([hidden])")
    suspend_data = lms.cmi()["suspend_data"]
    assert suspend_data == encode_state(codes)
    # The validator's bound holds for what the player really wrote, and fits SCORM 1.2.
    assert len(suspend_data) <= longest_state(case) <= SUSPEND_DATA_LIMIT
    assert len(suspend_data) > 3900, "the fixture should come close to the limit"
    assert all(c["error"] == "0" for c in lms.calls())


def test_a_result_that_never_reached_the_lms_is_reported_on_return(
    lms: LmsSession, server: LmsServer
) -> None:
    data = initial_cmi(entry="resume", lesson_status="incomplete")
    data["suspend_data"] = '{"v":1,"r":["a","e","e","c","a"]}'  # the last one wrong
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, data)
    assert frame.is_visible("#results")
    cmi = lms.cmi()
    assert cmi["core"]["score"]["raw"] == "80"
    assert cmi["core"]["lesson_status"] == "passed"
    assert all(c["error"] == "0" for c in lms.calls())

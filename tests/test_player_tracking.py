"""The player reports to a SCORM 1.2 LMS (scorm-again's run-time in the test LMS).

Every API call the SCO makes is journaled by the test LMS with the LMSGetLastError
that followed it, so the tests can check both what was reported and that the LMS
accepted all of it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame

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

CMI_TIMESPAN = re.compile(r"^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$")
CMI_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,2})?$")
WRONG_TWICE = {**SEED_KEYS, "q2": "a", "q4": "d"}  # 3 of 5 right: 60 %
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MULTI_DOT_PARTIAL = hashlib.sha256(b"types.multi.partial").hexdigest()[:12]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, schema_set: SchemaSet) -> Iterator[LmsServer]:
    lms = LmsServer()
    output = tmp_path_factory.mktemp("scorm-tracking")
    lms.mount("seed", build_scorm_package(CONTENT_FOLDER, output / "seed", schema_set))
    lms.mount("types", build_scorm_package(FIXTURES / "player-types", output / "t", schema_set))
    yield lms
    lms.close()


def complete_seed(lms: LmsSession, server: LmsServer, keys: dict[str, str], **initial) -> Frame:
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi(**initial))
    for number, key in enumerate(keys.values(), start=1):
        answer_with_mouse(frame, number, key)
        go_on(frame, number)
    frame.wait_for_selector("#results:not([hidden])")
    return frame


def assert_every_call_accepted(lms: LmsSession) -> None:
    calls = lms.calls()
    assert calls, "the SCO made no API call"
    refused = [c for c in calls if c["error"] != "0"]
    assert refused == [], f"the LMS reported errors: {refused}"
    asked = [c for c in calls if c["method"] == "LMSGetLastError"]
    made = [c for c in calls if c["method"] not in ("LMSGetLastError", "LMSGetErrorString")]
    # The player asks for the last error after every call it makes.
    assert len(asked) == len(made)
    assert all(c["result"] == "0" for c in asked)


def test_correct_answers_pass_with_full_score(lms: LmsSession, server: LmsServer) -> None:
    complete_seed(lms, server, SEED_KEYS)
    cmi = lms.cmi()
    assert cmi["core"]["lesson_status"] == "passed"
    assert cmi["core"]["score"] == {"raw": "100", "min": "0", "max": "100"}
    interactions = [cmi["interactions"][str(n)] for n in range(len(cmi["interactions"]))]
    # Named with the case: another case's q1 is another interaction.
    assert [i["id"] for i in interactions] == [f"{SEED_CASE}__{q}" for q in SEED_KEYS]
    assert [i["student_response"] for i in interactions] == list(SEED_KEYS.values())
    assert [i["correct_responses"]["0"]["pattern"] for i in interactions] == list(
        SEED_KEYS.values()
    )
    assert {i["type"] for i in interactions} == {"choice"}
    assert {i["result"] for i in interactions} == {"correct"}
    assert {i["weighting"] for i in interactions} == {"1"}
    for interaction in interactions:
        assert CMI_TIME.match(interaction["time"]), interaction["time"]
        assert CMI_TIMESPAN.match(interaction["latency"]), interaction["latency"]
    assert_every_call_accepted(lms)


def test_two_wrong_answers_fail_against_the_mastery_score(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = complete_seed(lms, server, WRONG_TWICE)
    cmi = lms.cmi()
    assert cmi["core"]["lesson_status"] == "failed"
    assert cmi["core"]["score"]["raw"] == "60"
    results = [cmi["interactions"][str(n)]["result"] for n in range(5)]
    assert results == ["correct", "wrong", "correct", "wrong", "correct"]
    responses = [cmi["interactions"][str(n)]["student_response"] for n in range(5)]
    assert responses == list(WRONG_TWICE.values())
    assert "60%" in frame.inner_text("#result-score")
    assert "Not passed" in frame.inner_text("#result-outcome")
    assert_every_call_accepted(lms)


def test_the_lms_mastery_score_wins_over_the_manifest(lms: LmsSession, server: LmsServer) -> None:
    complete_seed(lms, server, WRONG_TWICE, mastery_score=60)
    assert lms.cmi()["core"]["lesson_status"] == "passed"


def test_without_mastery_from_the_lms_the_manifest_decides(
    lms: LmsSession, server: LmsServer
) -> None:
    complete_seed(lms, server, WRONG_TWICE, mastery_score=None)
    assert lms.cmi()["core"]["lesson_status"] == "failed"


def test_call_sequence_and_lms_finish_exactly_once(lms: LmsSession, server: LmsServer) -> None:
    complete_seed(lms, server, SEED_KEYS)
    lms.exit()  # the page goes away after the end: no second LMSFinish
    lms.page.wait_for_timeout(100)
    methods = [c["method"] for c in lms.calls() if c["method"] != "LMSGetLastError"]
    assert methods[0] == "LMSInitialize"
    assert methods.count("LMSInitialize") == 1
    assert methods.count("LMSFinish") == 1
    assert methods[-1] == "LMSFinish"
    # A commit after each answer, and one after the start.
    assert methods.count("LMSCommit") == len(SEED_KEYS) + 1
    values = lms.set_values()
    assert CMI_TIMESPAN.match(values["cmi.core.session_time"])
    assert re.match(r"^\d{4}:", values["cmi.core.session_time"])  # HHHH, as SCORM 1.2 writes
    assert values["cmi.core.exit"] == ""
    assert values["cmi.core.lesson_location"] == "result"
    statuses = [
        c["args"][1]
        for c in lms.calls()
        if c["method"] == "LMSSetValue" and c["args"][0] == "cmi.core.lesson_status"
    ]
    assert statuses == ["incomplete", "passed"]


def test_leaving_midway_finishes_once_and_keeps_incomplete(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    answer_with_mouse(frame, 1, "a")
    lms.exit()
    lms.page.wait_for_timeout(100)
    methods = [c["method"] for c in lms.calls()]
    assert methods.count("LMSFinish") == 1
    cmi = lms.cmi()
    assert cmi["core"]["lesson_status"] == "incomplete"
    assert cmi["core"]["exit"] == "suspend"
    # No score before the end: an LMS would turn 20 % against a mastery of 80 into "failed".
    assert cmi["core"]["score"]["raw"] == ""
    assert_every_call_accepted(lms)


def test_every_question_type_reports_in_scorm_12_formats(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = lms.launch(f"{server.origin}/package-types", "types", initial_cmi(mastery_score=None))
    answer_with_mouse(frame, 1, "b")  # single, wrong
    go_on(frame, 1)
    # Shuffled choices: no letters shown, the fixed one stays last, answers go by key.
    keys = frame.eval_on_selector_all("#question-2 .choice", "els => els.map(e => e.dataset.key)")
    assert sorted(keys) == ["a", "b", "c", "d"] and keys[-1] == "d"
    assert frame.locator("#question-2 .choice-key").count() == 0
    answer_with_mouse(frame, 2, "ac")  # multiple, all or nothing, right
    go_on(frame, 2)
    answer_with_mouse(frame, 3, "ab")  # multiple, partial: one right, one wrong → 0
    go_on(frame, 3)
    answer_with_mouse(frame, 4, "ad")  # multiple, partial: both right of three → 2/3
    go_on(frame, 4)
    answer_with_mouse(frame, 5, "false")  # true/false, right
    go_on(frame, 5)
    frame.fill("#question-6-text", "  Tumoral CALCINOSIS ")  # text, right whatever the case
    frame.click("#question-6 button[type=submit]")
    go_on(frame, 6)
    frame.wait_for_selector("#results:not([hidden])")
    cmi = lms.cmi()
    rows = [cmi["interactions"][str(n)] for n in range(6)]
    assert [(r["id"], r["type"], r["student_response"], r["result"]) for r in rows] == [
        ("types__single_q", "choice", "b", "wrong"),
        ("types__multi-all", "choice", "a,c", "correct"),
        ("types__multi_partial", "choice", "a,b", "wrong"),
        # `multi.partial`, made CMI-safe: a digest keeps it apart from `multi_partial`.
        (f"types__multi_partial___{MULTI_DOT_PARTIAL}", "choice", "a,d", "wrong"),
        ("types__tf", "true-false", "f", "correct"),
        ("types__typed", "fill-in", "Tumoral CALCINOSIS", "correct"),
    ]
    assert [r["correct_responses"]["0"]["pattern"] for r in rows] == [
        "a",
        "a,c",
        "a,c",
        "a,c,d",
        "f",
        "tumoral calcinosis",
    ]
    assert [r["weighting"] for r in rows] == ["1", "2", "1", "1", "1", "1"]
    # 0 + 2 + 0 + 2/3 + 1 + 1 of 7 points.
    assert cmi["core"]["score"]["raw"] == "66.67"
    assert cmi["core"]["lesson_status"] == "completed"  # no mastery score anywhere
    assert cmi["suspend_data"] == '{"v":1,"r":["b","ac","ab","ad","f","Tumoral CALCINOSIS"]}'
    assert_every_call_accepted(lms)


def test_a_refused_value_does_not_stop_the_learner(lms: LmsSession, server: LmsServer) -> None:
    frame = lms.launch(
        f"{server.origin}/package-seed",
        SEED_CASE,
        initial_cmi(),
        refuse={"cmi.interactions.0.latency": "405"},
    )
    answer_with_mouse(frame, 1, "a")
    assert frame.is_visible("#notice-problem")
    assert "405" in frame.inner_text("#notice-problem")
    go_on(frame, 1)
    for number, key in list(enumerate(SEED_KEYS.values(), start=1))[1:]:
        answer_with_mouse(frame, number, key)
        go_on(frame, number)
    frame.wait_for_selector("#results:not([hidden])")
    assert lms.cmi()["core"]["lesson_status"] == "passed"


def test_without_an_lms_the_page_says_so_and_still_works(
    browser: Browser, server: LmsServer
) -> None:
    page = browser.new_page()
    page.goto(f"{server.origin}/package-seed/cases/{SEED_CASE}/index.html")
    assert page.is_visible("#notice-standalone")
    assert not page.is_visible("#notice-script")
    answer_with_mouse(page.main_frame, 1, "a")
    assert "Correct" in page.inner_text("#question-1-verdict")
    page.close()


def test_review_mode_shows_the_answers_and_records_nothing(
    lms: LmsSession, server: LmsServer
) -> None:
    data = initial_cmi(lesson_mode="review", entry="resume", lesson_status="failed")
    data["suspend_data"] = '{"v":1,"r":["a","a"]}'
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, data)
    assert frame.is_visible("#notice-review")
    assert frame.is_checked("#question-2-choice-a")
    answer_with_mouse(frame, 3, "e")
    lms.exit()
    set_elements = [c["args"][0] for c in lms.calls() if c["method"] == "LMSSetValue"]
    assert set_elements == ["cmi.core.session_time"]
    assert lms.cmi()["core"]["lesson_status"] == "failed"
    assert_every_call_accepted(lms)


def test_submitting_nothing_asks_for_an_answer_and_records_nothing(
    lms: LmsSession, server: LmsServer
) -> None:
    frame = lms.launch(f"{server.origin}/package-seed", SEED_CASE, initial_cmi())
    before = len(lms.calls())
    frame.click("#question-1 button[type=submit]")
    assert frame.inner_text("#question-1-error") == "Choose an answer first."
    assert frame.evaluate("document.activeElement.id") == "question-1-choice-a"
    assert not frame.is_visible("#question-1-feedback")
    assert len(lms.calls()) == before
    answer_with_mouse(frame, 1, "a")
    assert not frame.is_visible("#question-1-error")

"""How the SCORM player stores a learner's answers in `cmi.suspend_data`.

The player writes `{"v":1,"r":[...]}`: one JSON string per answered question, in
order (`"a"`, `"ace"`, `"t"`, or the typed text). The validator uses the same rule to
prove that the largest possible state of a case fits SCORM 1.2's 4096 characters.
"""

from __future__ import annotations

import json

from qtiexport.model import Case, Question

SUSPEND_DATA_LIMIT = 4096
STATE_VERSION = 1  # the player refuses a saved state of another version
STATE_OVERHEAD = len('{"v":1,"r":[]}')


def encode_state(responses: list[str]) -> str:
    """The suspend_data the player writes for these responses (JSON.stringify's output)."""
    return json.dumps(
        {"v": STATE_VERSION, "r": responses}, ensure_ascii=False, separators=(",", ":")
    )


def longest_response(question: Question) -> int:
    """Characters of the longest JSON-encoded response, with its separating comma."""
    if question.type == "text":
        # JSON escapes at most double a typed text (quotes and backslashes): the player
        # drops control characters, the only ones JSON would write as six, and caps the
        # text at max_length UTF-16 units, which is never more than max_length characters.
        return 2 * question.max_length + 3
    if question.type == "multiple":
        return len(question.choices) + 3
    return 4


def longest_state(case: Case) -> int:
    return STATE_OVERHEAD + sum(longest_response(q) for q in case.questions)

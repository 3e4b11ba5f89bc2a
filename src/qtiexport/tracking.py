"""How the SCORM player stores a learner's answers in `cmi.suspend_data`.

The player writes `{"v":1,"r":[...]}`: one JSON string per answered question, in
order, each as its kind writes it (`"a"`, `"ace"`, `"t"`, or the typed text). The
validator uses the same rule to prove that the largest possible state of a case fits
SCORM 1.2's 4096 characters.
"""

from __future__ import annotations

import json

from qtiexport.model import Case, Question
from qtiexport.questions import kind_of

SUSPEND_DATA_LIMIT = 4096
STATE_VERSION = 1  # the player refuses a saved state of another version
STATE_OVERHEAD = len('{"v":1,"r":[]}')


def encode_state(responses: list[str]) -> str:
    """The suspend_data the player writes for these responses (JSON.stringify's output)."""
    return json.dumps(
        {"v": STATE_VERSION, "r": responses}, ensure_ascii=False, separators=(",", ":")
    )


def longest_response(question: Question) -> int:
    """Characters of the longest JSON-encoded response, with its separating comma: each
    kind knows its own (qtiexport.questions)."""
    return kind_of(question.type).longest_response(question)


def longest_state(case: Case) -> int:
    return STATE_OVERHEAD + sum(longest_response(q) for q in case.questions)

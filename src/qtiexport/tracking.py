"""How the SCORM player stores a learner's answers in `cmi.suspend_data`.

The player writes `{"v":1,"r":[...]}`: one JSON string per answered question, in
order (`"a"`, `"ace"`, `"t"`, or the typed text). The validator uses the same rule to
prove that the largest possible state of a case fits SCORM 1.2's 4096 characters.
"""

from __future__ import annotations

from qtiexport.model import Case, Question

SUSPEND_DATA_LIMIT = 4096
STATE_OVERHEAD = len('{"v":1,"r":[]}')


def longest_response(question: Question) -> int:
    """Characters of the longest JSON-encoded response, with its separating comma."""
    if question.type == "text":
        # JSON escapes at most double a typed text (quotes and backslashes).
        return 2 * question.max_length + 3
    if question.type == "multiple":
        return len(question.choices) + 3
    return 4


def longest_state(case: Case) -> int:
    return STATE_OVERHEAD + sum(longest_response(q) for q in case.questions)

"""The names a question goes by in the packages, made from its case and its own id.

Question ids are unique within their case only (authors number `q1, q2…` in every case),
so every identifier and file name that names a question in a package combines the case
id and the question id. The combination is

- unique: different (case, question) pairs never give the same name, not even when
  letter case is ignored (file systems and some importers ignore it);
- an XML NCName (so an `xs:ID`), deterministic, and at most `MAX_QUESTION_IDENTIFIER`
  characters, which leaves room for a prefix such as `item-` within the 255 that the
  standards and LMSes allow.
"""

from __future__ import annotations

import hashlib
import re

from qtiexport.model import Case, Question

# 255 (the limit the standards and LMSes share) less room for a prefix (`item-`) or a
# counter (`_2`, SCORM's interaction ids).
MAX_QUESTION_IDENTIFIER = 250
DIGEST_LENGTH = 12
# SCORM 1.2 CMIIdentifier: letters, digits, `-` and `_` (RTE 3.4.2.7.1), at most 255.
MAX_CMI_IDENTIFIER = 255
_NOT_CMI_IDENTIFIER = re.compile(r"[^A-Za-z0-9_-]")


def shortened(name: str, limit: int) -> str:
    """`name`, or, when it is longer than `limit`, its start and a digest of the whole:
    the same name always gives the same result, and two long names that share their
    start still differ."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]
    return f"{name[: limit - DIGEST_LENGTH - 1]}-{digest}"


def question_key(case_id: str, question_id: str) -> str:
    """`<case-id>.<question-id>`, with every `.` of the case id doubled.

    Ids are letters, digits, `_`, `-` and `.`, and a question id starts with a letter or
    `_`: the first single `.` is therefore where the case id ends, and no two pairs give
    one key (`a.b` + `c` is `a..b.c`; `a` + `b.c` is `a.b.c`). Doubling a dot commutes
    with letter case, so keys that differ only in case come from pairs that do.
    """
    return f"{case_id.replace('.', '..')}.{question_id}"


def question_identifier(case: Case, question: Question) -> str:
    """The identifier of a question in both packages: the QTI item and its reference in
    the test, and (made a CMIIdentifier) its SCORM interaction."""
    return shortened(question_key(case.id, question.id), MAX_QUESTION_IDENTIFIER)


def interaction_identifier(case: Case, question: Question) -> str:
    """The question's SCORM 1.2 `cmi.interactions.n.id`: a strict CMIIdentifier, unique
    in the course, so that a report listing interactions across cases tells `q1` of
    one case from `q1` of another.

    `<case-id>__<question-id>` whenever that reads one way only: no `.` (not a
    CMIIdentifier character) and no `__` in either id, no `_` ending the case id or
    starting the question id, so that the one `__` is where the case id ends. Otherwise
    `.` becomes `_`, followed by `___` (which no plain form holds) and a digest of the
    pair, since `a__b` + `c` and `a` + `b__c`, or `a.b` + `c` and `a_b` + `c`, would
    read alike.
    """
    name = f"{case.id}__{question.id}"
    if name.count("__") != 1 or "___" in name or _NOT_CMI_IDENTIFIER.search(name):
        key = question_key(case.id, question.id)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]
        name = f"{_NOT_CMI_IDENTIFIER.sub('_', name)}___{digest}"
    return shortened(name, MAX_CMI_IDENTIFIER)

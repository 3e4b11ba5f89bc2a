"""The benchmark's course generator makes valid courses, and a small one builds."""

from __future__ import annotations

import sys
from pathlib import Path

from qtiexport.build import TARGETS, build_course
from qtiexport.timing import StageTimes
from qtiexport.validate import validate_course

from conftest import REPO

sys.path.insert(0, str(REPO))
from benchmarks.generate_course import generate_course, text2qti_quiz  # noqa: E402


def test_generator_is_deterministic_and_valid(tmp_path: Path) -> None:
    first = generate_course(tmp_path / "a", cases=1, questions=50, images=2, seed=3)
    second = generate_course(tmp_path / "b", cases=1, questions=50, images=2, seed=3)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.*"))
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    course = validate_course(first.root)
    assert sum(len(c.questions) for c in course.cases) == 50
    assert {q.type for q in course.cases[0].questions} == {
        "single",
        "multiple",
        "true_false",
        "text",
    }
    quiz = text2qti_quiz(second)
    assert quiz.count("\n1.  ") == 1 and "\n50.  " in quiz


def test_fifty_question_build_with_stage_times(tmp_path: Path, schema_set) -> None:
    generated = generate_course(tmp_path / "course", cases=1, questions=50, images=2, seed=50)
    times = StageTimes()
    course = validate_course(generated.root, times)
    built = build_course(course, tmp_path / "out", TARGETS, schema_set, times=times)
    # QTI: manifest, test, 50 items, 2 images; SCORM adds its manifest, player and SCO.
    assert [b.files for b in built] == [57, 54]
    assert set(times.seconds) == {"load", "validate", "render", "schema", "zip"}

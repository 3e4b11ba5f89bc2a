"""The benchmark's course generator makes valid courses, and a small one builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qtiexport.build import TARGETS, build_course
from qtiexport.scorm import player_assets
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
    # QTI: manifest, test, 50 items, 2 images; SCORM adds its manifest, the player's files
    # (player and viewer script and style, a script per question type), the SCO and a
    # thumbnail per raster image.
    assert [b.files for b in built] == [57 + len(player_assets()), 54]
    assert set(times.seconds) == {"load", "validate", "render", "schema", "zip"}


def run_script(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_benchmark_script_prints_the_table_and_every_target(schema_set) -> None:
    """Tiny sizes, one run each: the script works end to end (figures are not judged)."""
    out = run_script(
        "benchmarks/run.py",
        "--sizes",
        "20,40",
        "--repeat",
        "1",
        "--schemas",
        str(schema_set.folder),
    )
    lines = out.splitlines()
    assert lines[0].startswith("machine: ") and "cores" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("questions"))
    assert [line.split()[0] for line in lines[header + 2 : header + 4]] == ["20", "40"]
    targets = [line for line in lines if line.startswith(("met ", "NOT MET "))]
    assert len(targets) == 4
    assert "3x faster than text2qti at 40" in targets[0]


def test_parts_script_times_each_part(schema_set) -> None:
    out = run_script(
        "benchmarks/parts.py", "--questions", "20", "--schemas", str(schema_set.folder)
    )
    names = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert names == ["yaml", "jinja", "xsd", "zlib", "trees", "sum"]
    assert "3x faster than text2qti would be" in out.splitlines()[-1]

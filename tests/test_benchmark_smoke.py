"""The benchmark's scripts work end to end at tiny sizes, and what they generate is valid.

Their figures are not judged here: speed claims are made with the scripts themselves."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from qtiexport.build import TARGETS, build_course
from qtiexport.scorm import player_assets
from qtiexport.timing import StageTimes
from qtiexport.validate import validate_course

from conftest import REPO

sys.path.insert(0, str(REPO))
from benchmarks.generate_course import generate_course, text2qti_quiz  # noqa: E402
from benchmarks.seed_copies import EDITED_QUESTION  # noqa: E402


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


def test_workloads_table_has_every_goal_and_the_rebuild_redid_the_edited_item(
    tmp_path: Path,
) -> None:
    """benchmarks/run.py in quick mode at tiny sizes, one round: the table names the three
    workloads and peak RSS with figures and goals; B's course is the seed case copied (5
    questions and 4 images a copy, each copy its own case id); C's rebuild differs from B's
    cold build in the edited item, and in nothing else."""
    work = tmp_path / "work"
    out = run_script(
        "benchmarks/run.py",
        "--quick",
        "--text-cases",
        "2",
        "--seed-copies",
        "3",
        "--rounds",
        "1",
        "--work",
        str(work),
    )
    lines = out.splitlines()
    assert lines[0].startswith("machine: ") and "load average" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("workload"))
    assert lines[header].split() == ["workload", "ours", "reference", "ratio", "goal", "met?"]
    rows = lines[header + 2 : header + 6]
    assert [row.split()[0] for row in rows] == ["A.", "B.", "C.", "peak"]
    expected = [
        (r"A\. 100 text-only MCQs, 2 cases × 50", r"text2qti \d+\.\d\d s", "≥ 3× faster"),
        (
            r"B\. the seed case × 3: 15 questions, 12 PNGs",
            r"images stored: \d+\.\d\d s",
            "≤ 1.5× the floor",
        ),
        (r"C\. B again after editing one stem", r"cold build of B, \d+\.\d\d s", "≤ 0.1 of it"),
    ]
    for row, (workload, reference, goal) in zip(rows[:3], expected, strict=True):
        assert re.match(workload, row), row
        assert re.search(r"  \d+\.\d\d s  ", row) and re.search(reference, row), row
        assert re.search(r"\d+(\.\d+)?(× faster|× the floor| of it)", row), row
        assert goal in row and row.rstrip().endswith(("yes", "NO")), row
    assert re.search(r"\d+ MB .*< 250 MB", rows[3]), rows[3]
    timings = r"where B's time goes \(--timings\): .*\bload \d+\.\d\d s, .*stage-seconds"
    assert any(re.match(timings, line) for line in lines), out

    course = validate_course(work / "seed-course")
    assert [case.id for case in course.cases] == [f"tumoral-calcinosis-000{n}" for n in (1, 2, 3)]
    for case in course.cases:
        assert len(case.questions) == 5
        files = {image.file for image in case.images}
        files |= {image.annotated.file for image in case.images if image.annotated}
        assert len(files) == 4 and all(f.is_relative_to(case.folder) for f in files)

    # Round 0 (the warm-up) edited the first copy, round 1 the second, after B's last cold
    # build: the rebuild has the new stem in that item, and every other entry as before.
    [cold] = (work / "b-out").glob("*-qti21.zip")
    [rebuilt] = (work / "c-out").glob("*-qti21.zip")
    edited = f"item-tumoral-calcinosis-0002.{EDITED_QUESTION}.xml"
    with zipfile.ZipFile(cold) as before, zipfile.ZipFile(rebuilt) as after:
        assert before.namelist() == after.namelist()
        changed = [n for n in before.namelist() if before.read(n) != after.read(n)]
        assert changed == [edited]
        assert b"(edit 1)" in after.read(edited) and b"(edit 1)" not in before.read(edited)
    assert lines[-1] == f"C check: the rebuilt QTI zip differs from B's cold one in {edited} only"


def test_sweep_script_prints_the_table(schema_set) -> None:
    """Tiny sizes, one run each: the in-process size sweep works end to end."""
    out = run_script(
        "benchmarks/sweep.py",
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


def test_parts_script_times_each_part(schema_set) -> None:
    out = run_script(
        "benchmarks/parts.py", "--questions", "20", "--schemas", str(schema_set.folder)
    )
    names = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert names == ["yaml", "jinja", "xsd", "zlib", "trees", "sum", "start-up", "schemas", "floor"]
    assert "3x faster than text2qti would be" in out.splitlines()[-1]


def test_thumbnails_script_times_both_settings_for_both_radiographs() -> None:
    out = run_script("benchmarks/thumbnails.py", "--runs", "1")
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[1:]] == [
        "seed radiograph 960x720",
        "radiograph 2048x2560",
    ]
    for line in lines[1:]:
        assert re.search(r"thumbnail [\d.]+ ms .* against [\d.]+ ms before .* of it; ", line)
        assert line.endswith("dB from the exact resize")

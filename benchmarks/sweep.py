"""Size sweep: build generated text courses of growing size in-process, beside text2qti.

    python benchmarks/sweep.py                  # 50, 500 and 5,000 questions
    python benchmarks/sweep.py --sizes 50,500   # a quicker run
    python benchmarks/sweep.py --repeat 9       # more runs per size (default 5)

The goals are measured by `benchmarks/run.py` (whole CLI processes); this sweep shows how
a build scales with the size of a course and where its time goes, stage by stage. For each
size, in one run and on the same questions, each measurement in a fresh child process (so
that peak RSS belongs to that measurement alone), repeated and interleaved after a warm-up
round, the median kept:
- ours: `validate_course` + `build_course` for both targets with schema checking on, as
  `qtiexport build` runs by default (the zips, no unzipped trees);
- text2qti: the same questions as a plain-text quiz, converted to a QTI 1.2 zip;
- floor: the files we wrote, put into zips with `zipfile` and nothing else (they are
  unzipped from our zips onto the disk first, untimed).
Times exclude interpreter start-up and imports for all three alike.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

QUESTIONS_PER_CASE = 50
IMAGES_PER_CASE = 2


def peak_rss_mib() -> float:
    """This process's own peak RSS. getrusage's maxrss would also count the parent's
    memory that the child held between fork and exec."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) / 1024


def measure_ours(course: Path, out: Path, schemas: Path) -> dict:
    from qtiexport.build import TARGETS, build_course
    from qtiexport.schemas import SchemaSet
    from qtiexport.timing import StageTimes
    from qtiexport.validate import validate_course

    schema_set = SchemaSet(schemas)
    for kind in ("qti", "qti-manifest", "scorm-manifest"):
        schema_set.schema(kind)  # compiled once per process, like the CLI, before timing
    times = StageTimes()
    started = time.perf_counter()
    loaded = validate_course(course, times)
    build_course(loaded, out, TARGETS, schema_set, times=times)
    wall = time.perf_counter() - started
    # Worker processes (forked for large courses) report their own peak, shared pages
    # included; ru_maxrss of the children is the largest of them.
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall": wall, "rss": peak_rss_mib(), "worker_rss": workers, "stages": times.seconds}


def measure_text2qti(quiz: Path) -> dict:
    from text2qti.config import Config
    from text2qti.qti import QTI
    from text2qti.quiz import Quiz

    config = Config()
    config.load()
    os.chdir(quiz.parent)
    started = time.perf_counter()
    text = quiz.read_text(encoding="utf-8")
    QTI(Quiz(text, config=config, source_name=quiz.name)).save(quiz.with_suffix(".zip"))
    return {"wall": time.perf_counter() - started, "rss": peak_rss_mib()}


def measure_floor(out: Path, course_id: str) -> dict:
    files = out / "floor-files"
    for target in ("scorm12", "qti21"):
        with zipfile.ZipFile(out / f"{course_id}-{target}.zip") as archive:
            archive.extractall(files / target)
    os.sync()  # as before every measurement: no writing left over for the timed part
    trees = sorted(files.iterdir())
    started = time.perf_counter()
    for tree in trees:
        with zipfile.ZipFile(out / f"floor-{tree.name}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(tree.rglob("*")):
                if path.is_file():
                    z.write(path, path.relative_to(tree).as_posix())
    return {"wall": time.perf_counter() - started, "rss": peak_rss_mib()}


def child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark child {args[0]} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (its RSS and stage times come with it)."""
    return sorted(runs, key=lambda run: run["wall"])[len(runs) // 2]


def run_size(questions: int, schemas: Path, work: Path, repeat: int) -> dict:
    """Measure one size `repeat` times after a warm-up round, the three measurements
    interleaved in each round so that a slow spell of the machine hits all three alike;
    keep the medians."""
    from benchmarks.generate_course import generate_course, text2qti_quiz

    cases = max(1, questions // QUESTIONS_PER_CASE)
    per_case = questions // cases
    course = work / f"course-{questions}"
    generated = generate_course(course, cases, per_case, IMAGES_PER_CASE, seed=questions)
    quiz = work / f"quiz-{questions}" / "quiz.txt"
    quiz.parent.mkdir()
    quiz.write_text(text2qti_quiz(generated), encoding="utf-8")
    course_id = f"bench-{cases}x{per_case}"
    runs: dict[str, list[dict]] = {"ours": [], "text2qti": [], "floor": []}
    # Round 0 warms up and is not counted: on a virtual machine the first touch of memory
    # and of the page cache can cost many times the later ones, for all three alike.
    for round_ in range(repeat + 1):
        out = work / f"out-{questions}-{round_}"
        measured = {
            "ours": child("ours", str(course), str(out), str(schemas)),
            "text2qti": child("text2qti", str(quiz)),
            "floor": child("floor", str(out), course_id),
        }
        if round_:
            for kind, result in measured.items():
                runs[kind].append(result)
    return {"questions": cases * per_case, **{k: median_run(v) for k, v in runs.items()}}


def print_table(results: list[dict]) -> None:
    stages = ("load", "validate", "render", "schema", "zip")
    header = (
        f"{'questions':>9} {'wall s':>7} {'q/s':>7} {'RSS MiB':>8} {'workers':>8} "
        + " ".join(f"{s + ' s':>9}" for s in stages)
        + f" {'text2qti s':>10} {'t2q MiB':>8} {'floor s':>8} {'ours/t2q':>9} {'ours/floor':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ours, peer, floor = r["ours"], r["text2qti"], r["floor"]
        print(
            f"{r['questions']:>9} {ours['wall']:>7.2f} {r['questions'] / ours['wall']:>7.0f} "
            f"{ours['rss']:>8.0f} {ours['worker_rss']:>8.0f} "
            + " ".join(f"{ours['stages'].get(s, 0.0):>9.2f}" for s in stages)
            + f" {peer['wall']:>10.2f} {peer['rss']:>8.0f} {floor['wall']:>8.2f}"
            f" {ours['wall'] / peer['wall']:>9.2f} {ours['wall'] / floor['wall']:>10.2f}"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *args = sys.argv[2:]
        # Earlier measurements' files still being written to disk would slow this one.
        os.sync()
        if kind == "ours":
            result = measure_ours(Path(args[0]), Path(args[1]), Path(args[2]))
        elif kind == "text2qti":
            result = measure_text2qti(Path(args[0]))
        else:
            result = measure_floor(Path(args[0]), args[1])
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,500,5000")
    parser.add_argument("--repeat", type=int, default=5, help="runs per size; medians shown")
    parser.add_argument(
        "--schemas",
        type=Path,
        default=Path(os.environ.get("QTIEXPORT_SCHEMAS", REPO.parent / "shared" / "schemas")),
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="qtiexport-bench-") as work:
        for size in (int(s) for s in args.sizes.split(",")):
            results.append(run_size(size, args.schemas, Path(work), args.repeat))
    print(f"medians of {args.repeat} runs after a warm-up run, each in a fresh process")
    print_table(results)


if __name__ == "__main__":
    main()

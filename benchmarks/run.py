"""Benchmark: three workloads of whole `qtiexport build` processes, each beside its reference.

    python benchmarks/run.py              # full sizes, 3 timed rounds (17 min on 2 cores today)
    python benchmarks/run.py --rounds 5   # more rounds; medians shown
    python benchmarks/run.py --quick      # a tenth of the sizes, for a quick look
    python benchmarks/run.py --markdown   # the results as Markdown, for the README
    python benchmarks/run.py --quick --text-cases 2 --seed-copies 4 --rounds 1  # a smoke test

Workloads, each built with both targets and the schema check on (the bundled schemas, or
$QTIEXPORT_SCHEMAS when it is set), and the reference measured in the same run:
- A. text-only: 100 cases × 50 questions of mixed types, 2 small images per case
  (benchmarks/generate_course.py); reference: text2qti's command line on the same
  questions as a text2qti quiz. Goal: ours at least 3× faster.
- B. image-heavy: the seed case × 1,000 (benchmarks/seed_copies.py; 5,000 questions, 4,000
  PNGs of about 40 KB, each copy's made distinct by a text chunk unless
  `--identical-images`), built cold (a fresh output folder, and `--no-cache` when the build
  has it); reference: the zip floor, the same input files in two plain `zipfile` zips
  written by a Python process (benchmarks/zip_floor.py). Goal: at most 1.5× the floor.
- C. rebuild: B's course with one stem edited, rebuilt into an output folder that holds
  the previous build (and its cache); reference: B's cold build. Goal: at most 0.1 of it.
  Its output folder is built once before the rounds, untimed; each round then edits the
  stem of one more case (a different one each time), so every rebuild starts from the same
  state: one case changed since the last build.

Method: every measurement is a fresh process, timed from its start to its exit, so
interpreter start-up and imports count for all alike; `os.sync()` runs before each. One
untimed warm-up round, then `--rounds` rounds, each measuring A-ours, A-text2qti, B-ours,
B-floor and C-ours in turn, so that a slow spell of the machine hits all alike; medians are
shown. Peak RSS is that of the largest single process of our builds (wait4's maxrss of the
build and of the worker processes it forked and reaped, each counted alone, pages shared
with the parent included), the largest over every timed run. B's and C's stage seconds come
from `--timings` (their median run). After the rounds, C's last QTI zip is compared with B's
last cold one: they must differ in the edited item only, proving the rebuild redid it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from benchmarks.generate_course import generate_course, text2qti_quiz  # noqa: E402
from benchmarks.seed_copies import edit_stem, write_seed_copies  # noqa: E402

RSS_GOAL_MB = 250


@dataclass(frozen=True)
class Sizes:
    text_cases: int  # A: cases of 50 questions and 2 small images each
    seed_copies: int  # B and C: copies of the seed case


FULL = Sizes(text_cases=100, seed_copies=1000)
QUICK = Sizes(text_cases=10, seed_copies=100)
QUESTIONS_PER_CASE = 50
IMAGES_PER_CASE = 2
SEED_QUESTIONS, SEED_IMAGES = 5, 4  # per copy of the seed case


@dataclass
class Run:
    wall: float  # seconds from start to exit
    rss_mb: float  # the largest single process's peak, in MB (10^6 bytes)
    stages: dict[str, float] = field(default_factory=dict)  # from --timings


def program(name: str) -> str:
    """A console script of this Python's environment (not a shim in front of it)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        raise SystemExit(f"benchmark: `{name}` is not installed")
    return found


def stage_seconds(stderr: str) -> dict[str, float]:
    """The stages of `qtiexport build --timings`: "timings: load 0.01 s, zip 0.2 s; ..."."""
    line = next((line for line in stderr.splitlines() if line.startswith("timings:")), "")
    stages = line.removeprefix("timings:").split(";")[0]
    return {name: float(seconds) for name, seconds in re.findall(r"([\w-]+) ([\d.]+) s", stages)}


def measure(command: list[str], logs: Path, cwd: Path | None = None) -> Run:
    """Run `command` as a fresh process; its wall time, its peak RSS and its stage times."""
    os.sync()  # earlier measurements' writes still going to disk would slow this one
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "stdout", "wb") as out, open(logs / "stderr", "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        # wait4 gives this child's resource use with that of the processes it reaped
        # (build workers): maxrss is the largest single one of them.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = (logs / "stderr").read_text(encoding="utf-8", errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(command)} exited {process.returncode}:\n{stderr}")
    return Run(wall, usage.ru_maxrss * 1024 / 1e6, stage_seconds(stderr))


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    return folder


@dataclass
class Workbench:
    """The generated inputs and the commands of one benchmark run."""

    work: Path
    sizes: Sizes
    qtiexport: str = field(default_factory=lambda: program("qtiexport"))
    text2qti: str = field(default_factory=lambda: program("text2qti"))
    no_cache: list[str] = field(init=False)
    text_course: Path = field(init=False)
    quiz: Path = field(init=False)
    seed_course: Path = field(init=False)
    case_ids: list[str] = field(init=False)
    identical_images: bool = False  # B's PNGs as byte-for-byte copies of the seed's
    edited: list[str] = field(default_factory=list)  # C's edited items, round by round

    def __post_init__(self) -> None:
        help_text = subprocess.run(
            [self.qtiexport, "build", "--help"], capture_output=True, text=True, check=True
        ).stdout
        self.no_cache = ["--no-cache"] if "--no-cache" in help_text else []
        generated = generate_course(
            self.work / "text-course",
            self.sizes.text_cases,
            QUESTIONS_PER_CASE,
            IMAGES_PER_CASE,
            seed=1,
        )
        self.text_course = generated.root
        self.quiz = self.work / "quiz" / "quiz.txt"
        self.quiz.parent.mkdir()
        self.quiz.write_text(text2qti_quiz(generated), encoding="utf-8")
        copies = write_seed_copies(
            self.work / "seed-course",
            self.sizes.seed_copies,
            distinct_images=not self.identical_images,
        )
        self.seed_course, self.case_ids = copies.root, copies.case_ids

    def build(self, course: Path, out: Path, *extra: str) -> list[str]:
        return [self.qtiexport, "build", str(course), "-o", str(out), "--timings", *extra]

    def a_ours(self) -> Run:
        out = fresh(self.work / "a-out")
        return measure(self.build(self.text_course, out, *self.no_cache), self.work / "logs/a")

    def a_text2qti(self) -> Run:
        self.quiz.with_suffix(".zip").unlink(missing_ok=True)
        command = [self.text2qti, self.quiz.name]
        return measure(command, self.work / "logs/a-text2qti", cwd=self.quiz.parent)

    def b_ours(self) -> Run:
        out = fresh(self.work / "b-out")
        return measure(self.build(self.seed_course, out, *self.no_cache), self.work / "logs/b")

    def b_floor(self) -> Run:
        out = fresh(self.work / "floor-out")
        command = [sys.executable, str(HERE / "zip_floor.py"), str(self.seed_course), str(out)]
        return measure(command, self.work / "logs/b-floor")

    def c_prepare(self) -> None:
        """C's output folder: one ordinary build, so that the rebuilds find it (untimed)."""
        measure(self.build(self.seed_course, fresh(self.work / "c-out")), self.work / "logs/c0")

    def c_ours(self) -> Run:
        number = len(self.edited)
        self.edited.append(edit_stem(self.seed_course, self.case_ids[number], f"edit {number}"))
        return measure(self.build(self.seed_course, self.work / "c-out"), self.work / "logs/c")

    def c_check(self) -> tuple[bool, str]:
        """Whether C's last rebuild differs from B's last cold build in the edited item only
        (B's last cold build ran just before that edit)."""
        [cold] = (self.work / "b-out").glob("*-qti21.zip")
        [warm] = (self.work / "c-out").glob("*-qti21.zip")
        with zipfile.ZipFile(cold) as before, zipfile.ZipFile(warm) as after:
            names = before.namelist()
            if names != after.namelist():
                return False, "the rebuilt QTI zip has other entries than the cold one"
            changed = [n for n in names if before.read(n) != after.read(n)]
        if changed != [self.edited[-1]]:
            return False, f"the rebuilt QTI zip differs from the cold one in {changed or 'nothing'}"
        return True, f"the rebuilt QTI zip differs from B's cold one in {changed[0]} only"


WORKLOADS = ("a_ours", "a_text2qti", "b_ours", "b_floor", "c_ours")


def run_rounds(bench: Workbench, rounds: int, say: Callable[[str], None]) -> dict[str, list[Run]]:
    """One warm-up round, then `rounds` timed ones, each measuring every workload in turn."""
    bench.c_prepare()
    runs: dict[str, list[Run]] = {name: [] for name in WORKLOADS}
    for number in range(rounds + 1):
        for name in WORKLOADS:
            run = getattr(bench, name)()
            if number:  # round 0 warms the page cache and the disk up, for all alike
                runs[name].append(run)
        say(f"round {number}/{rounds}" + (" (warm-up)" if number == 0 else "") + " done")
    return runs


def median(runs: list[Run]) -> Run:
    """The run of median wall time (its stage times come with it)."""
    return sorted(runs, key=lambda run: run.wall)[len(runs) // 2]


@dataclass(frozen=True)
class Row:
    workload: str
    ours: str
    reference: str
    ratio: str
    goal: str
    met: bool


def result_rows(sizes: Sizes, runs: dict[str, list[Run]], identical_images: bool) -> list[Row]:
    wall = {name: statistics.median(run.wall for run in runs[name]) for name in WORKLOADS}
    text_questions = sizes.text_cases * QUESTIONS_PER_CASE
    copies = sizes.seed_copies
    faster = wall["a_text2qti"] / wall["a_ours"]
    of_floor = wall["b_ours"] / wall["b_floor"]
    of_cold = wall["c_ours"] / wall["b_ours"]
    peak = max(run.rss_mb for name in ("a_ours", "b_ours", "c_ours") for run in runs[name])
    return [
        Row(
            f"A. {text_questions:,} text-only MCQs, {sizes.text_cases} cases × "
            f"{QUESTIONS_PER_CASE} (the same questions as a text2qti quiz)",
            f"{wall['a_ours']:.2f} s",
            f"text2qti {wall['a_text2qti']:.2f} s",
            f"{faster:.2f}× faster",
            "≥ 3× faster",
            faster >= 3,
        ),
        Row(
            f"B. the seed case × {copies:,}: {copies * SEED_QUESTIONS:,} questions, "
            f"{copies * SEED_IMAGES:,} PNGs of ~40 KB"
            + (", the seed's 4 copied as they are" if identical_images else ""),
            f"{wall['b_ours']:.2f} s",
            f"two plain `zipfile` zips of the same input files, images stored: "
            f"{wall['b_floor']:.2f} s",
            f"{of_floor:.2f}× the floor",
            "≤ 1.5× the floor",
            of_floor <= 1.5,
        ),
        Row(
            "C. B again after editing one stem",
            f"{wall['c_ours']:.2f} s",
            f"the cold build of B, {wall['b_ours']:.2f} s",
            f"{of_cold:.2g} of it",
            "≤ 0.1 of it",
            of_cold <= 0.1,
        ),
        Row(
            "peak RSS, the largest process of any of our builds above",
            f"{peak:.0f} MB",
            "",
            "",
            f"< {RSS_GOAL_MB} MB",
            peak < RSS_GOAL_MB,
        ),
    ]


def stages_line(run: Run) -> str:
    parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in run.stages.items())
    return f"{parts}; {sum(run.stages.values()):.2f} stage-seconds in a {run.wall:.2f} s build"


def table(rows: list[Row], markdown: bool) -> list[str]:
    header = ("workload", "ours", "reference", "ratio", "goal", "met?")
    cells = [header] + [
        (r.workload, r.ours, r.reference, r.ratio, r.goal, "yes" if r.met else "NO") for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in cells]
        lines.insert(1, "|" + "---|" * len(header))
        return lines
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return [line.rstrip() for line in lines]


def report(
    bench: Workbench, rounds: int, runs: dict[str, list[Run]], loads: list[str], markdown: bool
) -> tuple[list[str], bool]:
    """The lines to print, and whether C's rebuild check held."""
    rows = result_rows(bench.sizes, runs, bench.identical_images)
    held, check = bench.c_check()
    cache = (
        "cold builds with --no-cache into a fresh folder"
        if bench.no_cache
        else "cold builds into a fresh folder (this build has no --no-cache)"
    )
    rss = ", ".join(
        f"{name[0].upper()} {max(run.rss_mb for run in runs[name]):.0f} MB"
        for name in ("a_ours", "b_ours", "c_ours")
    )
    head = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}; "
        f"{time.strftime('%Y-%m-%d')}, load average {loads[0]} at the start, {loads[1]} at "
        "the end",
        f"medians of {rounds} interleaved rounds after a warm-up round, each measurement a "
        f"fresh process timed from start to exit; {cache}",
    ]
    tail = [
        f"peak RSS of the largest single process (forked workers count alone): {rss}",
        f"where B's time goes (--timings): {stages_line(median(runs['b_ours']))}",
        f"where C's time goes (--timings): {stages_line(median(runs['c_ours']))}",
        f"C check: {check}" if held else f"C CHECK FAILED: {check}",
    ]
    if markdown:  # each line its own paragraph, to paste
        head, tail = ["\n\n".join(head)], ["\n\n".join(tail)]
    return [*head, "", *table(rows, markdown), "", *tail], held


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; medians shown")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--markdown", action="store_true", help="print the results as Markdown")
    parser.add_argument("--text-cases", type=int, help="A's cases of 50 questions (overrides)")
    parser.add_argument("--seed-copies", type=int, help="B's copies of the seed case (overrides)")
    parser.add_argument(
        "--identical-images",
        action="store_true",
        help="B's PNGs byte-for-byte the seed's (default: each copy's differ by a text chunk)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the generated courses and outputs in this new folder (default: a "
        "temporary folder, removed at the end)",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    sizes = QUICK if args.quick else FULL
    sizes = Sizes(
        text_cases=args.text_cases or sizes.text_cases,
        seed_copies=args.seed_copies or sizes.seed_copies,
    )
    if sizes.seed_copies < args.rounds + 1:
        parser.error("C edits one case per round: --seed-copies must exceed --rounds")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="qtiexport-bench-") as temporary:
        work = args.work or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        if any(work.iterdir()):
            raise SystemExit(f"benchmark: {work} is not empty")
        loads = [load_average()]
        say("generating the courses")
        bench = Workbench(work, sizes, identical_images=args.identical_images)
        runs = run_rounds(bench, args.rounds, say)
        loads.append(load_average())
        lines, held = report(bench, args.rounds, runs, loads, args.markdown)
    print("\n".join(lines).rstrip())
    if not held:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

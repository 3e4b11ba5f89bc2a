"""Peak memory of `qtiexport validate` on the worst shapes of YAML the limits allow.

Each shape fills a course file up to the file-size limit (or up to the values-per-file
limit, where more values than that are refused) and runs `python -m qtiexport validate`
in a child process. The figure is the memory of the whole process tree: the command and
its validation workers, sampled every few milliseconds as the sum of each process's
proportional set size (PSS: pages shared after fork counted once), and, exactly, the peak
resident set (VmHWM) of the largest single process. Both are printed and must stay under
MEMORY_LIMIT_MIB.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from qtiexport.loader import (
    MAX_FILE_BYTES,
    MAX_TEXT_CHARACTERS,
    MAX_VALUES,
    validation_memory,
)
from qtiexport.parallel import WORKERS_MEMORY, WORKERS_VARIABLE, worker_count

HERE = Path(__file__).resolve().parent
MINIMAL = HERE / "fixtures" / "minimal"
MEMORY_LIMIT_MIB = 300
TIMEOUT_SECONDS = 300
LOCATED_ERROR = re.compile(r"[^:\n]+:\d+:\d+: error: .+")

# Runs the CLI, then prints its own peak resident set and the largest of its reaped
# children's (the validation workers), in KiB, as the last line of stderr.
MEASURED_CLI = """
import re, resource, sys
from qtiexport.cli import main
try:
    main()
finally:
    status = open("/proc/self/status").read()
    own = re.search(r"VmHWM:\\s+(\\d+)", status)[1]
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(own, workers, file=sys.stderr)
"""


def fill(head: str, item: str, tail: str, budget: int = MAX_FILE_BYTES) -> str:
    """`head`, then `item` repeated until the text nearly reaches `budget` bytes, then `tail`."""
    count = (budget - len(head.encode()) - len(tail.encode())) // len(item.encode())
    return head + item * count + tail


# Each shape: the files it writes into the small course, relative to the course folder.
Shape = Callable[[], dict[str, str]]


def one_long_flow_list() -> dict[str, str]:
    return {"cases/c1/questions.yaml": fill("questions: [", "1,", "1]\n")}


def flow_list_of_empty_mappings() -> dict[str, str]:
    # Every value is a question with three errors of its own: the most errors per byte.
    return {"cases/c1/questions.yaml": fill("questions: [", "{},", "{}]\n")}


def values_up_to_the_limit() -> dict[str, str]:
    # Just under the values-per-file limit, so the file loads and every value is checked.
    count = MAX_VALUES - 10
    return {"cases/c1/questions.yaml": "questions: [" + "{}," * count + "{}]\n"}


def deep_nesting() -> dict[str, str]:
    # 98 levels inside `questions:`, the deepest the limit allows, line after line.
    line = "  - " + "[" * 97 + "1" + "]" * 97 + "\n"
    return {"cases/c1/questions.yaml": fill("questions:\n", line, "")}


def one_deep_line() -> dict[str, str]:
    return {"cases/c1/questions.yaml": fill("questions: ", "[", "\n")}


def many_aliases() -> dict[str, str]:
    question = "{id: q, type: single, stem: Which?, choices: {a: A, b: B}, answer: a}"
    return {"cases/c1/questions.yaml": fill(f"q: &q {question}\nquestions: [", "*q,", "*q]\n")}


def alias_bomb() -> dict[str, str]:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefghi", "bcdefghij", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    return {"cases/c1/questions.yaml": "\n".join(lines) + "\n"}


def many_small_keys() -> dict[str, str]:
    keys = "".join(f"k{n}: 1\n" for n in range(MAX_FILE_BYTES // 12))
    return {"cases/c1/case.yaml": keys[: MAX_FILE_BYTES - 100].rpartition("\n")[0] + "\n"}


def keys_up_to_the_limit() -> dict[str, str]:
    keys = "".join(f"k{n}: 1\n" for n in range(MAX_VALUES // 2 - 10))
    return {"cases/c1/case.yaml": "id: c1\ntitle: T\nhistory: H\n" + keys}


def case_with_history(history: str) -> str:
    case = (MINIMAL / "cases/c1/case.yaml").read_text(encoding="utf-8")
    return case.replace("history: A short history.", f"history: {history}")


def one_long_text() -> dict[str, str]:
    # One wide character makes Python store the whole text four bytes a character.
    head, tail = case_with_history("\U0001f600").split("\U0001f600")
    return {"cases/c1/case.yaml": fill(head + "\U0001f600", "x", tail)}


def markdown_at_the_text_limit() -> dict[str, str]:
    # Markdown that makes the most tokens a character: list items with inline markup.
    item = "- *a* [b](https://example.org/) `c`\n"
    history = "|\n" + "".join("  " + item for _ in range(MAX_TEXT_CHARACTERS // len(item)))
    return {"cases/c1/case.yaml": case_with_history(history)}


def questions_up_to_the_limit() -> dict[str, str]:
    # Valid questions (15 values each) up to the values limit: every one is checked.
    question = (
        "  - id: q{n}\n    type: single\n    stem: Which one?\n"
        "    choices: {{a: First, b: Second}}\n    answer: a\n"
    )
    count = MAX_VALUES // 15 - 10
    return {
        "cases/c1/questions.yaml": "questions:\n"
        + "".join(question.format(n=n) for n in range(count))
    }


def many_anchors() -> dict[str, str]:
    # Each value anchored: the loader remembers every anchor until the file ends.
    entries = "".join(f"  - &a{n} x\n" for n in range(MAX_VALUES))
    return {"cases/c1/questions.yaml": "questions:\n" + entries}


def many_long_lines() -> dict[str, str]:
    stem = "Which one of these is it " * 40
    question = f"  - id: q{{n}}\n    type: text\n    stem: {stem}\n    answer: [x]\n"
    count = (MAX_FILE_BYTES - 100) // len(question.format(n=10**6))
    text = "".join(question.format(n=n) for n in range(count))
    return {"cases/c1/questions.yaml": "questions:\n" + text}


SHAPES: dict[str, Shape] = {
    "one long flow list": one_long_flow_list,
    "flow list of empty mappings": flow_list_of_empty_mappings,
    "values up to the limit": values_up_to_the_limit,
    "deep nesting": deep_nesting,
    "one deep line": one_deep_line,
    "many aliases": many_aliases,
    "alias bomb": alias_bomb,
    "many anchors": many_anchors,
    "many small keys": many_small_keys,
    "keys up to the limit": keys_up_to_the_limit,
    "one long text": one_long_text,
    "Markdown at the text limit": markdown_at_the_text_limit,
    "questions up to the limit": questions_up_to_the_limit,
    "many long lines": many_long_lines,
}


def make_course(target: Path, files: dict[str, str], cases: int = 1) -> Path:
    """The small valid course with `files` laid over case c1, and c1 copied `cases` times."""
    course = target / "course"
    shutil.copytree(MINIMAL, course)
    for relative, text in files.items():
        (course / relative).write_text(text, encoding="utf-8")
    names = [f"c{n}" for n in range(1, cases + 1)]
    for name in names[1:]:
        shutil.copytree(course / "cases/c1", course / "cases" / name)
        case = course / "cases" / name / "case.yaml"
        case.write_text(case.read_text(encoding="utf-8").replace("id: c1", f"id: {name}", 1))
    listed = "".join(f"  - {name}\n" for name in names)
    (course / "course.yaml").write_text(
        "id: minimal\ntitle: Minimal course\ncases:\n" + listed, encoding="utf-8"
    )
    return course


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    queue.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return found


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            return int(re.search(r"^Pss:\s+(\d+)", rollup.read(), re.M)[1])
    except (OSError, TypeError):
        return 0


@dataclass
class Measured:
    done: subprocess.CompletedProcess
    tree_mib: float  # the sampled peak of the tree's summed PSS
    largest_mib: float  # the exact peak resident set of its largest process
    processes: int  # how many processes the tree had, the command's included


def run_validate(course: Path, workers: int | None = None) -> Measured:
    """`python -m qtiexport validate .` in `course`, with its process tree's peak memory."""
    environment = dict(os.environ)
    if workers is not None:
        environment[WORKERS_VARIABLE] = str(workers)
    out, err = course.parent / "stdout.txt", course.parent / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", MEASURED_CLI, "validate", "."],
            cwd=course,
            stdout=stdout,
            stderr=stderr,
            env=environment,
        )
        tree_peak, seen = 0, set()
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while child.poll() is None and time.monotonic() < deadline:
            pids = _descendants(child.pid)
            seen.update(pids)
            tree_peak = max(tree_peak, sum(_pss_kib(pid) for pid in pids))
            time.sleep(0.005)
        if child.poll() is None:
            child.kill()
        returncode = child.wait()
    lines = err.read_text().splitlines()
    figures = re.fullmatch(r"(\d+) (\d+)", lines[-1]) if lines else None
    if figures is not None:  # absent when the command was killed
        lines.pop()
    largest_kib = max(int(figures[1]), int(figures[2])) if figures else 0
    done = subprocess.CompletedProcess(child.args, returncode, out.read_text(), "\n".join(lines))
    return Measured(done, tree_peak / 1024, largest_kib / 1024, len(seen))


def assert_bounded_and_located(name: str, measured: Measured) -> None:
    done = measured.done
    print(
        f"\n{name}: tree peak {measured.tree_mib:.0f} MiB (PSS, {measured.processes} "
        f"processes), largest process {measured.largest_mib:.0f} MiB, exit {done.returncode}, "
        f"first line: {(done.stderr or done.stdout).splitlines()[:1]}"
    )
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode in (0, 1), done.stderr[-2000:]
    if done.returncode == 1:
        *errors, count = done.stderr.splitlines()
        assert errors and all(LOCATED_ERROR.fullmatch(line) for line in errors), errors[:5]
        assert re.fullmatch(r"\d+ errors?", count)
    assert measured.tree_mib < MEMORY_LIMIT_MIB, f"{name}: {measured.tree_mib:.0f} MiB"
    assert measured.largest_mib < MEMORY_LIMIT_MIB, f"{name}: {measured.largest_mib:.0f} MiB"


@pytest.fixture(scope="module")
def baseline_mib(tmp_path_factory) -> float:
    """The peak of validating the small course: the interpreter and the code."""
    return run_validate(make_course(tmp_path_factory.mktemp("baseline"), {})).largest_mib


@pytest.mark.parametrize("name", list(SHAPES))
def test_worst_shape_validates_in_bounded_memory(
    name: str, tmp_path: Path, baseline_mib: float
) -> None:
    course = make_course(tmp_path, SHAPES[name]())
    measured = run_validate(course)
    assert_bounded_and_located(name, measured)
    # The estimate that limits the workers covers what the case took beyond the baseline.
    estimate_mib = validation_memory(course / "cases/c1") / (1024 * 1024)
    assert measured.largest_mib - baseline_mib <= estimate_mib, f"estimate {estimate_mib:.0f}"


def near_the_values_limit(head: str, key: str) -> str:
    """`head`, then `key:` with a flow list of empty mappings: as many values as a file
    may hold, each one an error, so the file loads and all of it is checked."""
    return head + f"{key}: [" + "{}," * (MAX_VALUES - 100) + "{}]\n"


def long_text_questions() -> str:
    return fill("questions:\n  - id: q1\n    type: text\n    stem: \U0001f600", "x", "\n")


@pytest.mark.parametrize("questions", ["values", "long text"])
def test_two_workers_with_worst_files_stay_bounded(tmp_path: Path, questions: str) -> None:
    # Each case's case.yaml loads with as many values as a file may hold; its
    # questions.yaml is the same, or a text at the file-size limit. course.yaml, loaded
    # in the parent before the workers start, is at the values limit too.
    case = (MINIMAL / "cases/c1/case.yaml").read_text(encoding="utf-8")
    files = {
        "cases/c1/case.yaml": near_the_values_limit(case, "keywords"),
        "cases/c1/questions.yaml": (
            near_the_values_limit("", "questions")
            if questions == "values"
            else long_text_questions()
        ),
    }
    course = make_course(tmp_path, files, cases=2)
    course_file = course / "course.yaml"
    course_file.write_text(near_the_values_limit(course_file.read_text(), "authors"))
    measured = run_validate(course, workers=2)
    assert measured.processes >= 3, "the two cases did not run in two workers"
    assert_bounded_and_located(f"two workers, questions at the {questions} limit", measured)


def test_workers_are_limited_by_what_their_steps_may_take(monkeypatch) -> None:
    monkeypatch.setenv(WORKERS_VARIABLE, "8")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("workers need fork")
    mib = 1024 * 1024
    assert worker_count(8, True) == 8
    assert worker_count(8, True, step_memory=5 * mib) == 8  # ordinary cases
    assert worker_count(8, True, step_memory=40 * mib) == WORKERS_MEMORY // (50 * mib)
    assert worker_count(8, True, step_memory=500 * mib) == 2  # the measured worst case

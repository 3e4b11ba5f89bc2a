"""Worker processes: how many, results in order, and the same outcome as one process."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qtiexport.diagnostics import ContentError
from qtiexport.parallel import WORKERS_VARIABLE, WorkerDied, run_steps, worker_count
from qtiexport.questions import NAMES
from qtiexport.timing import StageTimes
from qtiexport.validate import validate_course

MINIMAL = Path(__file__).resolve().parent / "fixtures" / "minimal"


def test_worker_count_follows_the_setting_and_the_work(monkeypatch) -> None:
    monkeypatch.delenv(WORKERS_VARIABLE, raising=False)
    assert worker_count(100, worth_it=False) == 0
    assert worker_count(100, worth_it=True) == (os.cpu_count() if os.cpu_count() > 1 else 0)
    monkeypatch.setenv(WORKERS_VARIABLE, "3")
    assert worker_count(100, worth_it=False) == 3
    assert worker_count(2, worth_it=False) == 2  # never more workers than steps
    monkeypatch.setenv(WORKERS_VARIABLE, "1")
    assert worker_count(100, worth_it=True) == 0  # one worker would only add a fork


def test_no_worker_is_forked_from_another_thread_nor_within_workers_off(
    tmp_path, monkeypatch
) -> None:
    """As in `qtiexport preview`, whose file watcher validates beside the server's threads:
    a forked child would hold any lock another thread held, locked for ever."""
    import threading

    from qtiexport.parallel import workers_off

    course = three_cases(tmp_path)
    monkeypatch.setenv(WORKERS_VARIABLE, "2")
    assert worker_count(100, worth_it=True) == 2

    def no_fork(*args, **kwargs):
        raise AssertionError("forked where threads run beside the build")

    monkeypatch.setattr("qtiexport.parallel.forked_pool", no_fork)
    found: list = []

    def validate_on_a_thread() -> None:  # what preview's watcher does on each save
        found.append(worker_count(100, worth_it=True))
        found.append(validate_course(course, StageTimes()))

    watcher = threading.Thread(target=validate_on_a_thread)
    watcher.start()
    watcher.join()
    assert found[0] == 0 and len(found[1].cases) == 3
    with workers_off():
        assert worker_count(100, worth_it=True) == 0
        assert len(validate_course(course, StageTimes()).cases) == 3
    assert worker_count(100, worth_it=True) == 2


def test_steps_run_in_other_processes_and_come_back_in_order() -> None:
    results = list(run_steps(lambda step: (step, os.getpid()), 9, workers=2))
    assert [step for step, _ in results] == list(range(9))
    assert os.getpid() not in {pid for _, pid in results}


def test_steps_run_here_without_workers() -> None:
    assert list(run_steps(lambda step: (step, os.getpid()), 3, workers=0)) == [
        (0, os.getpid()),
        (1, os.getpid()),
        (2, os.getpid()),
    ]


def three_cases(tmp_path: Path) -> Path:
    """The minimal course with its case copied as c2 and c3 (same question ids)."""
    course = tmp_path / "course"
    shutil.copytree(MINIMAL, course)
    for name in ("c2", "c3"):
        shutil.copytree(course / "cases" / "c1", course / "cases" / name)
        case_file = course / "cases" / name / "case.yaml"
        case_file.write_text(case_file.read_text().replace("id: c1", f"id: {name}"))
    (course / "course.yaml").write_text((course / "course.yaml").read_text() + "  - c2\n  - c3\n")
    return course


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def course_with_errors_in_several_cases(tmp_path: Path) -> Path:
    """Every case numbers its questions q1, q2… (allowed: ids are unique within their
    case); c2 uses `q1` twice and c3 has an error of its own."""
    course = three_cases(tmp_path)
    edit(course / "cases" / "c2" / "questions.yaml", "id: q2", "id: q1")
    edit(course / "cases" / "c3" / "questions.yaml", "type: single", "type: singel")
    return course


@pytest.mark.parametrize("workers", ["1", "2"])
def test_validation_in_workers_gives_the_same_errors(tmp_path, monkeypatch, workers) -> None:
    course = course_with_errors_in_several_cases(tmp_path)
    monkeypatch.chdir(course)
    monkeypatch.setenv(WORKERS_VARIABLE, workers)
    with pytest.raises(ContentError) as caught:
        validate_course(Path("."))
    assert [str(d) for d in caught.value.diagnostics] == [
        "cases/c2/questions.yaml:10:9: error: question id `q1` is already used at "
        "cases/c2/questions.yaml:2:9; question ids must be unique in their case",
        "cases/c3/questions.yaml:3:11: error: unknown question type `singel`; did you mean "
        f"`single`? (types: {', '.join(NAMES)})",
    ]


def test_validation_in_workers_gives_the_same_model(tmp_path, monkeypatch) -> None:
    course = three_cases(tmp_path)  # three cases with the same question ids
    monkeypatch.setenv(WORKERS_VARIABLE, "1")
    alone = validate_course(course)
    monkeypatch.setenv(WORKERS_VARIABLE, "2")
    times = StageTimes()
    shared = validate_course(course, times)
    assert shared == alone
    assert [case.id for case in shared.cases] == ["c1", "c2", "c3"]
    assert times.seconds["load"] > 0 and times.seconds["validate"] > 0


def test_a_worker_that_dies_fails_the_steps_instead_of_hanging() -> None:
    def job(step: int) -> int:
        if step == 3:
            os._exit(1)  # as the out-of-memory killer would end it
        return step

    with pytest.raises(WorkerDied, match="QTIEXPORT_WORKERS=1 runs everything in one process"):
        list(run_steps(job, 8, workers=2))


def test_a_killed_worker_fails_the_build_and_keeps_the_previous_package(
    run_cli, tmp_path, monkeypatch
) -> None:
    course = three_cases(tmp_path)
    for name in ("c2", "c3"):
        edit(course / "cases" / name / "questions.yaml", "id: q", f"id: {name}q")
    out = tmp_path / "out"
    assert run_cli("build", str(course), "-o", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.glob("*.zip")}

    import qtiexport.build as build

    real = build.render_case

    def dies_on_the_second_case(work, index):
        if index == 1:
            os._exit(1)
        return real(work, index)

    monkeypatch.setattr(build, "render_case", dies_on_the_second_case)
    monkeypatch.setenv(WORKERS_VARIABLE, "2")
    result = run_cli("build", str(course), "-o", str(out), "--no-cache")  # every case rendered
    assert result.exit_code == 1
    failure = result.stderr.splitlines()[-1]
    assert failure.startswith("build failed: a worker process ended before finishing")
    assert failure.endswith("the previous packages are intact")
    assert {p.name: p.read_bytes() for p in out.glob("*.zip")} == before
    assert not list(out.rglob(".qtiexport-tmp-*"))


def test_a_killed_worker_fails_validation_with_a_message(run_cli, tmp_path, monkeypatch):
    course = three_cases(tmp_path)
    import qtiexport.validate as validate

    def dies(root, name, folder):
        os._exit(1)

    monkeypatch.setattr(validate, "validate_case", dies)
    monkeypatch.setenv(WORKERS_VARIABLE, "2")
    result = run_cli("validate", str(course))
    assert result.exit_code == 1
    assert result.stderr.startswith("validation failed: a worker process ended")
    assert "Traceback" not in result.stderr

"""`qtiexport validate`: exit codes, and the text, JSON and GitHub formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import CONTENT
from test_validate_broken import materialise

EXPECTED_TWO = [
    "cases/c1/questions.yaml:9:13: error: the answer `z` of question `q1` names no choice; "
    "its choices are a, b",
    "cases/c1/questions.yaml:11:11: error: unknown question type `many` "
    "(types: single, multiple, true_false, text, numeric, order, match, essay, hotspot, point)",
]


def test_valid_course_exits_0(run_cli) -> None:
    result = run_cli("validate", str(CONTENT))
    assert result.exit_code == 0
    assert result.stdout == "msk-teaching-cases: 1 case, 5 questions, no errors\n"


def test_default_path_is_content(run_cli, monkeypatch) -> None:
    monkeypatch.chdir(CONTENT.parent)
    assert run_cli("validate").exit_code == 0


def test_errors_exit_1_with_count(run_cli, tmp_path, monkeypatch) -> None:
    course = materialise("errors-in-several-files", tmp_path)
    monkeypatch.chdir(course)
    result = run_cli("validate")  # would be content/, which is missing here: usage error
    assert result.exit_code == 2
    result = run_cli("validate", ".")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "4 errors"
    assert lines[1:3] == EXPECTED_TWO


def test_usage_errors_exit_2(run_cli, tmp_path) -> None:
    assert run_cli("validate", str(tmp_path / "nowhere")).exit_code == 2
    assert run_cli("validate", "--format", "xml", str(CONTENT)).exit_code == 2
    assert run_cli("no-such-verb").exit_code == 2


def test_json_format(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(materialise("errors-in-several-files", tmp_path))
    result = run_cli("validate", ".", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["count"] == 4
    assert report["errors"][1] == {
        "file": "cases/c1/questions.yaml",
        "line": 9,
        "column": 13,
        "message": "the answer `z` of question `q1` names no choice; its choices are a, b",
    }


def test_json_format_when_valid(run_cli) -> None:
    result = run_cli("validate", str(CONTENT), "--format", "json")
    assert json.loads(result.stdout) == {"errors": [], "count": 0}


def test_github_format(run_cli, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(materialise("answer-names-no-choice", tmp_path))
    result = run_cli("validate", ".", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=cases/c1/questions.yaml,line=9,col=13::the answer `f` of question `q1` "
        "names no choice; its choices are a, b",
        "1 error",
    ]


def test_real_process_prints_no_traceback(tmp_path: Path) -> None:
    course = materialise("alias-bomb", tmp_path)
    for command in (["validate", "."], ["build", ".", "-o", str(tmp_path / "out")]):
        done = subprocess.run(
            [sys.executable, "-m", "qtiexport", *command],
            cwd=course,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert "Traceback" not in done.stderr + done.stdout
        assert done.stderr.startswith("cases/c1/questions.yaml:6:8: error: the file expands")
    assert not (tmp_path / "out").exists()


def test_version_and_help(run_cli) -> None:
    from qtiexport import __version__

    assert run_cli("--version").stdout == f"qtiexport, version {__version__}\n"
    help_text = run_cli("--help").stdout
    for verb in ("validate", "build", "schema"):
        assert verb in help_text

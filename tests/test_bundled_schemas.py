"""The official schemas ship in the package, and `build` checks against them by default."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qtiexport.schemas import BUNDLED_FOLDER

from conftest import CONTENT, REPO

SHARED_SCHEMAS = REPO.parent / "shared" / "schemas"
CHECKED_AGAINST_BUNDLED = "all documents valid against the official schemas (bundled schemas)"
FIRST_ITEM = "item-tumoral-calcinosis.q1.xml"


def break_items(monkeypatch) -> None:
    """Make every rendered item carry an element QTI does not know."""
    import qtiexport.qti as qti

    real = qti.render_item

    def broken_item(course, case, question):
        return real(course, case, question).replace(b"<itemBody>", b"<itemBody><blink/>", 1)

    monkeypatch.setattr(qti, "render_item", broken_item)


def test_a_build_with_no_schema_folder_named_checks_against_the_bundled_copy(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("QTIEXPORT_SCHEMAS", raising=False)
    out = tmp_path / "out"
    result = run_cli("build", str(CONTENT), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == CHECKED_AGAINST_BUNDLED
    assert "skipped" not in result.stderr

    break_items(monkeypatch)
    result = run_cli("build", str(CONTENT), "-o", str(tmp_path / "broken"))
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("qti21/item-tumoral-calcinosis.q1.xml:")
    assert "blink" in first and first.endswith("[schema]")
    assert result.stderr.splitlines()[-1].endswith("nothing was written")
    assert list((tmp_path / "broken").glob("*.zip")) == []


def test_a_named_schema_folder_is_used_instead_and_named(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "build", str(CONTENT), "-o", str(tmp_path / "out"), "--schemas", str(SHARED_SCHEMAS)
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"all documents valid against the official schemas ({SHARED_SCHEMAS.as_posix()})"
    )


def test_no_schema_check_skips_the_check_and_says_so_once(
    run_cli, tmp_path: Path, monkeypatch
) -> None:
    # Even with a folder in the environment, the flag wins.
    monkeypatch.setenv("QTIEXPORT_SCHEMAS", str(BUNDLED_FOLDER))
    break_items(monkeypatch)
    out = tmp_path / "out"
    result = run_cli("build", str(CONTENT), "-o", str(out), "--no-schema-check")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "note: schema check skipped (--no-schema-check)",
        "cache: 0 of 1 cases reused",
    ]
    assert "valid against" not in result.stdout
    with zipfile.ZipFile(out / "msk-teaching-cases-qti21.zip") as archive:
        assert b"<blink/>" in archive.read(FIRST_ITEM)  # written unchecked


def test_a_schema_folder_and_no_schema_check_together_are_refused(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "build",
        str(CONTENT),
        "-o",
        str(tmp_path / "out"),
        "--schemas",
        str(BUNDLED_FOLDER),
        "--no-schema-check",
    )
    assert result.exit_code == 2
    assert "give either --schemas DIR or --no-schema-check, not both" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not SHARED_SCHEMAS.is_dir(), reason="../shared/schemas is not beside the repo")
def test_the_bundled_schemas_are_the_shared_ones_byte_for_byte() -> None:
    def files(folder: Path) -> dict[str, bytes]:
        return {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    shared, bundled = files(SHARED_SCHEMAS), files(BUNDLED_FOLDER)
    assert len(shared) > 40
    assert set(bundled) == set(shared) | {"NOTICE.md"}
    for name, data in shared.items():
        assert bundled[name] == data, name


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def test_an_installed_wheel_checks_the_seed_course_against_its_own_schemas(
    tmp_path: Path,
) -> None:
    """Built and installed as a user would, with no schema folder named, and no network:
    the venv sees this machine's packages for the dependencies, the wheel for qtiexport."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QTIEXPORT_SCHEMAS", "PYTHONPATH", "VIRTUAL_ENV")
    }
    wheels, venv, work = tmp_path / "wheels", tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    pip_quietly = ["--quiet", "--disable-pip-version-check", "--no-input"]
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(wheels),
            *pip_quietly,
        ],
        cwd=work,
        env=env,
    )
    [wheel] = wheels.glob("qtiexport-*.whl")
    # No pip of its own: the machine's pip (a system site package) installs into the venv.
    run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        cwd=work,
        env=env,
    )
    python = str(venv / "bin" / "python")
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--force-reinstall",
            "--no-index",
            str(wheel),
            *pip_quietly,
        ],
        cwd=work,
        env=env,
    )
    where = run(
        [
            python,
            "-c",
            "import qtiexport, qtiexport.schemas as s; print(qtiexport.__file__, s.BUNDLED_FOLDER)",
        ],
        cwd=work,
        env=env,
    ).stdout.split()
    assert len(where) == 2
    for path in where:
        assert Path(path).resolve().is_relative_to(venv.resolve()), path

    built = run(
        [python, "-m", "qtiexport", "build", str(CONTENT), "-o", str(work / "out")],
        cwd=work,
        env=env,
    )
    assert built.stdout.splitlines()[-1] == CHECKED_AGAINST_BUNDLED
    assert "skipped" not in built.stderr
    assert sorted(p.name for p in (work / "out").glob("*.zip")) == [
        "msk-teaching-cases-qti21.zip",
        "msk-teaching-cases-scorm12.zip",
    ]

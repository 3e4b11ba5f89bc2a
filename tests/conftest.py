"""Shared fixtures: the seed course, the official schemas, and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from qtiexport.cli import cli
from qtiexport.model import Course
from qtiexport.schemas import SchemaSet
from qtiexport.validate import validate_course

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
SEED_TEXT = REPO.parent / "shared" / "seed" / "tumoral-calcinosis-case.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def schemas_folder() -> Path:
    value = os.environ.get("QTIEXPORT_SCHEMAS")
    return Path(value) if value else REPO.parent / "shared" / "schemas"


@pytest.fixture(scope="session", autouse=True)
def private_cache_key(tmp_path_factory) -> None:
    """The build cache's key in a folder of the test run, never the user's own."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def seed_course() -> Course:
    return validate_course(CONTENT)


@pytest.fixture(scope="session")
def schema_set() -> SchemaSet:
    folder = schemas_folder()
    if not folder.is_dir():
        pytest.fail(f"the official schemas are needed at {folder} (or set QTIEXPORT_SCHEMAS)")
    return SchemaSet(folder)


@pytest.fixture
def run_cli():
    """Run the CLI in-process; returns the Click result with stdout and stderr apart."""

    def run(*args: str, **kwargs):
        runner = CliRunner()
        return runner.invoke(cli, list(args), catch_exceptions=False, **kwargs)

    return run


# Hypothesis: a CI-sized profile by default; HYPOTHESIS_PROFILE=large for local runs.
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("large", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole run (never a downloaded browser)."""
    from lms.harness import launch_chromium

    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture
def lms(browser, server):
    """A page with the test LMS, for the module's `server`; fails on any script error."""
    from lms.harness import open_lms

    session = open_lms(browser, server)
    yield session
    assert session.errors == [], "the page raised script errors"
    session.page.context.close()

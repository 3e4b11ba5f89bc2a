"""`qtiexport build` options that no package test covers."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO


def test_timings_name_every_stage_and_the_total(run_cli, tmp_path: Path) -> None:
    result = run_cli("build", str(REPO / "content"), "-o", str(tmp_path), "--timings")
    assert result.exit_code == 0, result.output
    line = result.stderr.splitlines()[-1]
    match = re.fullmatch(
        r"timings: (.+); (\d+\.\d\d) s in all \(stages add up every process\)", line
    )
    assert match, line
    stages = dict(part.rsplit(" ", 2)[:2] for part in match[1].split(", "))
    assert (
        {"load", "validate", "render", "zip"}
        <= set(stages)
        <= {
            "load",
            "validate",
            "render",
            "schema",
            "zip",
        }
    )
    assert all(float(seconds) >= 0 for seconds in stages.values())
    # Standard output stays the build's report.
    assert not any(out.startswith("timings:") for out in result.stdout.splitlines())

"""Every benchmark script answers ``--help`` with its usage and runs nothing (one script ran a 40-second
measurement on ``--help``, another crashed, a third silently did nothing with an unknown argument)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))

# One interpreter for all scripts (torch is imported once): each runs as __main__ with --help, which
# must end in SystemExit(0) after printing a usage line.
CHECK = """
import contextlib, io, runpy, sys
failures = []
for path in sys.argv[1:]:
    sys.argv = [path, "--help"]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
        failures.append(f"{path}: ran without exiting on --help")
    except SystemExit as stop:
        if stop.code not in (0, None) or "usage:" not in out.getvalue():
            failures.append(f"{path}: exit {stop.code!r}, output {out.getvalue()[:80]!r}")
    except Exception as error:
        failures.append(f"{path}: {type(error).__name__}: {error}")
print("\\n".join(failures))
"""


def test_every_benchmark_script_answers_help() -> None:
    assert len(SCRIPTS) > 10
    result = subprocess.run(
        [sys.executable, "-c", CHECK, *map(str, SCRIPTS)],
        cwd=ROOT / "benchmarks",
        capture_output=True,
        text=True,
        timeout=280,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", result.stdout

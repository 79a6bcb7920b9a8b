"""Every case of the hostile-input corpus is refused cleanly.

For each case: exit status 2, exactly one ``error:`` line on stderr, no traceback, and every file that
existed before (the shared assets and the case's crafted inputs) is unchanged. Cases that would allocate
huge amounts if a check were missing run in one subprocess whose address space is capped
(``RLIMIT_AS``: what the process holds after start-up plus :data:`MEMORY_BUDGET`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import typer
import typer.testing
from hostile_cases import Case, cases
from typer.testing import CliRunner

from aekit.cli import app

ALL_CASES = list(cases())
IN_PROCESS = [case for case in ALL_CASES if not case.memory]
MEMORY_CASES = [case for case in ALL_CASES if case.memory]
MEMORY_BUDGET = 1536 << 20
"""Address space a memory case may add to the started process (1.5 GiB)."""


COMMAND = typer.main.get_command(app)
"""The click command, built once: typer's runner rebuilds it from the 40 functions on every call (0.3 s)."""


def invoke(argv: list[str]):  # type: ignore[no-untyped-def]
    """``CliRunner().invoke(app, argv)`` on the prebuilt command."""
    with mock.patch.object(typer.testing, "_get_command", lambda _app: COMMAND):
        return CliRunner().invoke(app, argv)


def _snapshot(*folders: Path) -> dict[Path, str]:
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ".aekit.lock"
    }


def _problems(exit_code: int, stderr: str, output: str) -> list[str]:
    problems = []
    if exit_code != 2:
        problems.append(f"exit status {exit_code}")
    error_lines = [line for line in stderr.splitlines() if line.strip().lower().startswith("error:")]
    if len(error_lines) != 1:
        problems.append(f"{len(error_lines)} error lines")
    if "Traceback" in output or "Traceback" in stderr:
        problems.append("a traceback")
    if "internal error" in stderr:
        problems.append("an internal error")
    return problems


@functools.cache
def _help_text(command: str) -> str:
    return invoke([command, "--help"]).stdout


def _wrong_advice(argv: tuple[str, ...], stderr: str) -> list[str]:
    """Options an error message tells the user to pass that the command does not have."""
    command = next(part for part in argv if not part.startswith("-"))
    advised = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", stderr))
    return [
        f"advice names {option}, which {command} does not accept"
        for option in sorted(advised)
        if option not in _help_text(command)
    ]


def _unchanged(before: dict[Path, str], after: dict[Path, str]) -> list[str]:
    return [f"{path} changed or removed" for path, digest in before.items() if after.get(path) != digest]


def _prepare(case: Case, assets: Path, root: Path) -> Path:
    work = root / case.name
    work.mkdir(parents=True)
    if case.setup is not None:
        case.setup(work, assets)
    return work


def test_the_corpus_is_large_and_names_are_unique() -> None:
    assert len(ALL_CASES) >= 250
    assert len({case.name for case in ALL_CASES}) == len(ALL_CASES)


@pytest.mark.parametrize("case", IN_PROCESS, ids=[case.name for case in IN_PROCESS])
def test_hostile_input_is_refused_cleanly(case: Case, assets: Path, tmp_path: Path) -> None:
    work = _prepare(case, assets, tmp_path)
    before = _snapshot(assets, work)
    result = invoke(case.command(assets, work))
    problems = _problems(result.exit_code, result.stderr, result.stdout)
    problems += _unchanged(before, _snapshot(assets, work))
    problems += _wrong_advice(case.argv, result.stderr)
    assert not problems, f"{case.name}: {problems}\nstderr: {result.stderr}\nexception: {result.exception!r}"


_RUNNER = r"""
import json, os, resource, sys
import torch
torch.set_num_threads(1)
import typer, typer.testing
from typer.testing import CliRunner
from aekit.cli import app
command = typer.main.get_command(app)
typer.testing._get_command = lambda _app: command
from aekit.apps.compression import load_default_codec
load_default_codec()  # loaded before the cap, as a long-running process would have it
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
budget = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (size + budget, size + budget))
results = []
for argv in json.load(open(sys.argv[1])):
    result = CliRunner().invoke(app, argv)
    results.append({"exit_code": result.exit_code, "stderr": result.stderr, "stdout": result.stdout,
                    "exception": repr(result.exception)})
print(json.dumps(results))
"""


def test_memory_bombs_are_refused_within_a_memory_ceiling(assets: Path, tmp_path: Path) -> None:
    works = [_prepare(case, assets, tmp_path) for case in MEMORY_CASES]
    before = _snapshot(assets, *works)
    commands = tmp_path / "commands.json"
    commands.write_text(
        json.dumps([case.command(assets, work) for case, work in zip(MEMORY_CASES, works, strict=True)])
    )
    # The allocation limit below the cap: a case that passes the estimate yet allocates shows as a failure.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "AEKIT_MAX_MEMORY": "1G"}
    completed = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(commands), str(MEMORY_BUDGET)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    failures = []
    for case, result in zip(MEMORY_CASES, results, strict=True):
        problems = _problems(result["exit_code"], result["stderr"], result["stdout"])
        if problems:
            failures.append(
                f"{case.name}: {problems} {result['stderr'].strip()[-300:]} {result['exception']}"
            )
    failures += _unchanged(before, _snapshot(assets, *works))
    assert not failures, "\n".join(failures)

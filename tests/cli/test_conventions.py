"""Conventions every command follows: help with examples, exit statuses, streams, colours, speed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from aekit import __version__
from aekit.cli import _console as console
from aekit.cli import app

COLOUR_VARIABLES = (
    "FORCE_COLOR",
    "CLICOLOR_FORCE",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "NO_COLOR",
    "COLUMNS",
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SGR_COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def clean_environment(**extra: str) -> dict[str, str]:
    """The current environment without variables that force or forbid colours, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in COLOUR_VARIABLES}
    env.update(OMP_NUM_THREADS="1", **extra)
    return env


def _commands() -> dict[str, Any]:
    """The root group's commands (Typer's click objects)."""
    return dict(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


COMMANDS = sorted(_commands())


def test_the_known_commands_are_registered() -> None:
    expected = {"train", "demo", "evaluate", "encode", "decode", "reconstruct", "models", "plan", "export"}
    assert expected | {"report"} <= set(COMMANDS)


def test_version_and_root_help(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"aekit {__version__}\n"
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert re.search(rf"^  {name}\s", result.stdout, re.MULTILINE), name
    for flag in ("--version", "--quiet", "--verbose", "--json", "--debug"):
        assert flag in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_examples_printed_as_written(runner: CliRunner, name: str) -> None:
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
    command = _commands()[name]
    examples = [
        line.strip() for line in (command.help or "").splitlines() if line.strip().startswith("aekit ")
    ]
    assert examples, f"`aekit {name} --help` shows no example command"
    printed = {line.strip() for line in result.stdout.splitlines()}
    for example in examples:
        assert example in printed, f"example re-wrapped in help: {example!r}"


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_and_argument_has_help(name: str) -> None:
    command = _commands()[name]
    missing = [
        param.name for param in command.params if param.name != "help" and not getattr(param, "help", None)
    ]
    assert not missing, f"`aekit {name}`: no help text for {missing}"


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], "Usage: "),
        (["no-such-command"], "No such command"),
        (["train", "--no-such-option"], "No such option"),
        (["train", "--epochs"], "requires an argument"),
        (["train", "--epochs", "many"], "Invalid value for '--epochs'"),
        (["report"], "Missing argument"),
        (["--json", "evaluate"], "Missing option '--model'"),
    ],
)
def test_usage_errors_exit_2_with_the_message_on_stderr(
    runner: CliRunner, args: list[str], expected: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert result.stdout == ""


def test_bad_input_exits_2_and_a_failed_task_exits_1(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and result.stdout == ""

    import aekit.workflows.run
    from aekit.errors import TrainingError

    def diverge(spec: object) -> None:
        raise TrainingError("loss term 'loss' became nan at epoch 1, batch 3")

    monkeypatch.setattr(aekit.workflows.run, "run_training", diverge)
    result = runner.invoke(app, ["train", "--epochs", "1"])
    assert result.exit_code == 1
    assert "error: loss term 'loss' became nan" in result.stderr


def test_debug_shows_the_traceback(runner: CliRunner, tmp_path: Path) -> None:
    from aekit.errors import DataError

    result = runner.invoke(app, ["--debug", "report", str(tmp_path)])
    assert isinstance(result.exception, DataError)


@pytest.mark.timeout(120)
def test_help_answers_in_under_a_second_without_heavy_imports() -> None:
    """In a fresh interpreter: import the CLI and answer ``--help`` in-process, interpreter start-up
    excluded; best of three so one hiccup of a busy machine does not fail it."""
    code = textwrap.dedent(
        """
        import json, sys, time
        started = time.perf_counter()
        from typer.testing import CliRunner
        import aekit.cli
        runner = CliRunner()
        codes = [runner.invoke(aekit.cli.app, args).exit_code for args in (["--help"], ["train", "--help"])]
        elapsed = time.perf_counter() - started
        heavy = [m for m in ("torch", "numpy", "matplotlib", "pandas", "sklearn", "PIL") if m in sys.modules]
        print(json.dumps({"elapsed": elapsed, "codes": codes, "heavy": heavy}))
        """
    )
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=clean_environment()
        ).stdout
        runs.append(json.loads(out))
        if runs[-1]["elapsed"] < 1.0:
            break
    assert runs[-1]["codes"] == [0, 0]
    assert runs[-1]["heavy"] == [], "move these imports inside the commands"
    assert min(run["elapsed"] for run in runs) < 1.0, runs


def test_quiet_silences_messages_and_json_prints_data(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps({"test_mse_per_pixel": 0.1}))
    loud = runner.invoke(app, ["report", str(tmp_path)])
    assert loud.exit_code == 0
    assert loud.stdout == f"{tmp_path / 'report.html'}\n"
    assert "report written" in loud.stderr
    quiet = runner.invoke(app, ["--quiet", "--json", "report", str(tmp_path), "-o", str(tmp_path / "r.html")])
    assert quiet.exit_code == 0 and quiet.stderr == ""
    payload = json.loads(quiet.stdout)
    assert payload["report"] == str(tmp_path / "r.html") and payload["bytes"] > 1000


@pytest.mark.timeout(120)
def test_verbose_logs_details_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps({"test_mse_per_pixel": 0.1}))
    result = subprocess.run(
        [sys.executable, "-c", "from aekit.cli import main; main()", "--verbose", "report", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env=clean_environment(),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "INFO aekit.report.html: report of" in result.stderr
    assert result.stdout.strip() == str(tmp_path / "report.html")


def test_progress_bars_show_rate_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    screen = io.StringIO()
    monkeypatch.setattr(console, "stderr", Console(file=screen, force_terminal=True, width=140))

    def slow_items() -> Iterator[int]:
        for item in range(4):
            time.sleep(0.01)
            yield item

    assert list(console.progress_iter(slow_items(), 4, "encoding", unit="chunks")) == [0, 1, 2, 3]
    text = ANSI.sub("", screen.getvalue())
    assert "encoding" in text and "4/4" in text and "chunks/s" in text and "left" in text

    screen.truncate(0)
    console.STATE.quiet = True
    assert list(console.progress_iter(range(3), 3, "encoding")) == [0, 1, 2]
    assert screen.getvalue() == ""


def _run_in_terminal(code: str, **env: str) -> str:
    """Run ``code`` with stderr on a pseudo-terminal; return what the terminal received."""
    import pty

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            env=clean_environment(TERM="xterm-256color", COLUMNS="120", **env),
        )
        os.close(terminal)
        terminal = -1
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    return b"".join(chunks).decode("utf-8", "replace")


STYLED_OUTPUT = (
    "from aekit.cli._console import message, progress_iter\n"
    "message('styled message')\n"
    "list(progress_iter(range(3), 3, 'working'))\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals as on Linux")
@pytest.mark.timeout(120)
def test_no_color_turns_off_styling_on_a_terminal() -> None:
    coloured = _run_in_terminal(STYLED_OUTPUT)
    assert SGR_COLOUR.search(coloured), "the check itself must see colours on a plain terminal"
    plain = _run_in_terminal(STYLED_OUTPUT, NO_COLOR="1")
    assert "styled message" in plain
    assert not re.search(r"\x1b\[[0-9;]*m", plain), repr(plain[:300])


@pytest.mark.timeout(300)
def test_piped_output_has_no_escape_codes_and_keeps_data_apart(tmp_path: Path) -> None:
    """A real run with pipes, as in a script: stdout is only the JSON result, stderr only messages."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from aekit.cli import main; main()",
            "--json",
            "train",
            "--epochs",
            "1",
            "--max-samples",
            "200",
            "--latent-dim",
            "3",
            "--set",
            "channels=[4,8]",
            "-o",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=clean_environment(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)  # nothing but the JSON document on stdout
    assert Path(payload["files"]["report"]).is_file()
    assert "training 'conv' on 'digits'" in result.stderr
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr


def test_status_lines_print_paths_as_they_are_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Square brackets in a path are not console markup, and a long line is not wrapped (a log file must
    hold one line per message: a redirected stderr was cut at 80 columns)."""
    from aekit.cli._console import message

    path = "photos[2024]/[bold]scan " + "x" * 150 + ".png"
    message(f"compressed {path} at 0.5 bits per pixel")
    assert capsys.readouterr().err == f"compressed {path} at 0.5 bits per pixel\n"


def test_under_torchrun_only_rank_0_prints_the_error_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every rank meets the same bad input; one ``error:`` line per rank repeated it."""
    missing = str(tmp_path / "nothere.npy")
    for rank, printed in (("1", False), ("0", True)):
        monkeypatch.setenv("RANK", rank)
        result = runner.invoke(app, ["train", "--dataset", missing, "-o", str(tmp_path / "run")])
        assert result.exit_code == 2
        assert ("error:" in result.stderr) is printed, result.stderr

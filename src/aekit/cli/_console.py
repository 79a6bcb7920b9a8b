"""Console output for the CLI: messages on stderr (rich), data on stdout, one-line errors.

Colours follow the usual conventions: none when stderr is not a terminal (rich's own detection), and no
styling at all when ``NO_COLOR`` is set to a non-empty value (https://no-color.org).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

__all__ = [
    "STATE",
    "data_out",
    "guarded",
    "message",
    "naming",
    "one_line",
    "progress_iter",
    "save_picture",
    "stderr",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def _stderr_console() -> Console:
    # color_system=None drops every ANSI style, not only colours (rich's own NO_COLOR keeps bold).
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=True, highlight=False, color_system=None if plain else "auto")


stderr = _stderr_console()


class _State:
    """Global CLI flags set by the root callback (the CLI process only; never library code)."""

    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    json: bool = False


STATE = _State()


def message(text: str) -> None:
    """A progress or status line on stderr, silenced by ``--quiet``: printed as it is (square brackets in
    a path are not markup) and not wrapped (a log holds one line per message, whatever its width)."""
    if not STATE.quiet:
        stderr.print(text, markup=False, soft_wrap=True, highlight=False)


def save_picture(figure: Any, path: Path) -> None:
    """Save a matplotlib figure (PNG) and say where."""
    from aekit.report.plots import save_figure

    save_figure(figure, path)
    message(f"wrote {path}")


def data_out(payload: Any, human: str | None = None) -> None:
    """Results on stdout: JSON with ``--json``, else ``human`` text (or JSON when none is given)."""
    if STATE.json or human is None:
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(human + "\n")


OUTPUT_PARAMETERS = ("output", "run_dir", "tensorboard", "grid", "array", "plot", "members", "profile")
"""Command parameters that name what a command writes; every other path argument is an input."""


def one_line(text: str, limit: int = 800) -> str:
    """``text`` on one line (lines joined with spaces), shortened to ``limit`` characters."""
    joined = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


def _error_line(text: str) -> None:
    """The one ``error:`` line; under ``torchrun`` rank 0 alone prints it (every rank meets the same bad
    input, and one line per rank repeated it)."""
    from aekit.training.distributed import is_main_process

    if is_main_process():
        stderr.print(f"error: {one_line(text)}", markup=False, soft_wrap=True, highlight=False)


def _paths(value: Any) -> Iterator[Path]:
    if isinstance(value, str | Path):
        yield Path(value)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _paths(item)


def _check_outputs(arguments: dict[str, Any]) -> None:
    """Refuse an output that is one of the inputs, a model file (see ``files.check_output_path``) or a
    file a run folder's commands read (see ``run_folder.check_not_run_input``)."""
    from aekit.formats.files import check_output_path
    from aekit.report.run_folder import check_not_run_input

    inputs = [
        path for name, value in arguments.items() if name not in OUTPUT_PARAMETERS for path in _paths(value)
    ]
    for name in OUTPUT_PARAMETERS:
        for output in _paths(arguments.get(name)):
            check_output_path(output, inputs)
            check_not_run_input(output)


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    """After a successful command with ``--verbose``: each distinct warning once, on one line.

    Without ``--verbose`` they are dropped: they come from libraries (Pillow, numpy, matplotlib) and
    speak of their internals, and aekit reports what matters to the user itself.
    """
    if not STATE.verbose or STATE.quiet:
        return
    seen: set[str] = set()
    for warning in caught:
        text = one_line(f"{warning.category.__name__}: {warning.message}")
        if text not in seen:
            seen.add(text)
            stderr.print(f"warning: {text}", markup=False, soft_wrap=True, highlight=False)


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Put ``path`` in front of an aekit error raised inside, unless its message already names the file:
    in a run over a folder, the one error line must say which file it was about."""
    from aekit.errors import AekitError

    try:
        yield
    except AekitError as error:
        text = str(error)
        if path.name in text:
            raise
        raise type(error)(f"{path}: {text}") from error


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Decorator for commands, the CLI's error boundary.

    - aekit errors and ``OSError`` become one ``error:`` line on stderr and exit status 2 (bad input) or
      1 (a failed task such as diverged training);
    - ``MemoryError`` becomes one line with exit status 2;
    - any other exception is a bug: one ``error: internal error …`` line asking for a report, exit 1;
    - library warnings are held back (printed after success with ``--verbose``), so nothing but the
      error line is printed when a command fails;
    - an output path that is one of the inputs, a model file or a file a run folder's commands read is
      refused before the command runs.

    ``--debug`` (or ``AEKIT_DEBUG=1``) re-raises instead, with the full traceback and every warning.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from aekit.errors import AekitError, TrainingError

        debug = STATE.debug or os.environ.get("AEKIT_DEBUG", "") not in ("", "0")
        with warnings.catch_warnings(record=not debug) as caught:
            if not debug:
                warnings.simplefilter("always")
            try:
                _check_outputs(dict(kwargs))
                result = command(*args, **kwargs)
            except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
                raise
            except (AekitError, OSError) as error:
                if debug:
                    raise
                _error_line(str(error) or type(error).__name__)
                raise typer.Exit(code=1 if isinstance(error, TrainingError) else 2) from None
            except MemoryError:
                if debug:
                    raise
                _error_line(
                    "out of memory; use smaller inputs or batches (see AEKIT_MAX_MEMORY in docs/safety.md)"
                )
                raise typer.Exit(code=2) from None
            except Exception as error:
                if debug:
                    raise
                detail = one_line(f"{type(error).__name__}: {error}", limit=300)
                _error_line(
                    f"internal error in aekit {command.__name__} ({detail}); this is a bug, please report it "
                    "with the command line; run with --debug for the traceback"
                )
                raise typer.Exit(code=1) from None
        if caught:
            _show_warnings(caught)
        return result

    return wrapper


def progress_iter(
    items: Iterable[T], total: int | None, description: str, unit: str = "steps"
) -> Iterator[T]:
    """Iterate with a progress bar on stderr showing count, rate (``unit``/s), time spent and time left.

    Nothing is drawn with ``--quiet`` or when stderr is not a terminal (logs and pipes stay clean).
    """
    if STATE.quiet or not stderr.is_terminal:
        yield from items
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            if speed is None and task.completed and task.elapsed:
                speed = task.completed / task.elapsed  # too few samples yet for rich's moving estimate
            return Text("…" if speed is None else f"{speed:,.1f} {unit}/s")

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=stderr,
    )
    with progress:
        yield from progress.track(items, total=total, description=description)

"""Console output for the CLI: messages on stderr (rich), data on stdout, one-line errors.

Colours follow the usual conventions: none when stderr is not a terminal (rich's own detection), and no
styling at all when ``NO_COLOR`` is set to a non-empty value (https://no-color.org).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

__all__ = ["STATE", "data_out", "guarded", "message", "progress_iter", "stderr"]

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
    """A progress or status line on stderr, silenced by ``--quiet``."""
    if not STATE.quiet:
        stderr.print(text)


def data_out(payload: Any, human: str | None = None) -> None:
    """Results on stdout: JSON with ``--json``, else ``human`` text (or JSON when none is given)."""
    if STATE.json or human is None:
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(human + "\n")


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Decorator for commands: aekit errors become one line on stderr and exit status 2 (bad input)
    or 1 (a failed task such as diverged training); ``--debug`` re-raises with the traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from aekit.errors import AekitError, TrainingError

        try:
            return command(*args, **kwargs)
        except (AekitError, OSError) as error:
            if STATE.debug:
                raise
            stderr.print(f"error: {error}", markup=False, soft_wrap=True)
            raise typer.Exit(code=1 if isinstance(error, TrainingError) else 2) from None

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
        def render(self, task) -> Text:  # type: ignore[no-untyped-def]
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

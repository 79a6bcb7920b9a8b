"""Console output for the CLI: messages on stderr (rich), data on stdout, one-line errors."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console

__all__ = ["STATE", "data_out", "guarded", "message", "progress_iter", "stderr"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

stderr = Console(stderr=True, highlight=False)


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


def progress_iter(items: Iterable[T], total: int | None, description: str) -> Iterator[T]:
    """Iterate with a progress bar (rate and time left) on stderr, unless ``--quiet`` or not a terminal."""
    if STATE.quiet or not stderr.is_terminal:
        yield from items
        return
    from rich.progress import track

    yield from track(items, total=total, description=description, console=stderr)

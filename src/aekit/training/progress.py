"""Training feedback on stderr: a rich progress bar in a terminal, one line per epoch elsewhere."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Literal, TextIO

from torch import Tensor

__all__ = ["ProgressReporter", "feedback_mode"]

FeedbackMode = Literal["off", "bar", "lines"]


def feedback_mode(verbose: object, *, progress: bool = False, stream: TextIO | None = None) -> FeedbackMode:
    """What ``verbose`` (Keras's meaning: 0, 1, 2 or ``auto``) shows on ``stream`` (stderr by default).

    ``auto`` (also what ``progress=True`` asks for) shows a bar when the stream is a terminal and one line
    per epoch otherwise, so logs piped to a file keep every epoch.
    """
    if verbose == 0 and progress:
        verbose = "auto"
    if verbose == 1:
        return "bar"
    if verbose == 2:
        return "lines"
    if verbose == "auto":
        target = stream if stream is not None else sys.stderr
        return "bar" if target.isatty() else "lines"
    return "off"


class ProgressReporter:
    """Shows training progress in ``mode`` (``off``, ``bar`` or ``lines``); imports nothing when off."""

    def __init__(self, *, mode: FeedbackMode, total_epochs: int, stream: TextIO | None = None) -> None:
        self.mode = mode
        self.total_epochs = total_epochs
        self.stream = stream
        self._progress: Any = None
        self._task: Any = None

    @property
    def enabled(self) -> bool:
        """True when a bar is shown (the running loss is only read then)."""
        return self.mode == "bar"

    def __enter__(self) -> ProgressReporter:
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[rate]} samples/s"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True) if self.stream is None else Console(file=self.stream),
                transient=False,
            )
            self._progress.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(kind, error, trace)

    def start_epoch(self, epoch: int, n_batches: int) -> None:
        """Begin a bar for epoch ``epoch`` (0-based) with ``n_batches`` steps."""
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(
            f"epoch {epoch + 1}/{self.total_epochs}", total=n_batches, loss="…", rate="…"
        )
        self._samples_start = self._progress.get_time()

    def advance(self, batch_size: int, loss_sum: Tensor | float | None, n_samples: int) -> None:
        """One batch done; refresh the shown loss and rate every few batches (the loss read syncs)."""
        if self._progress is None:
            return
        task = self._progress.tasks[self._task]
        fields: dict[str, str] = {}
        if task.completed % 10 == 0 and loss_sum is not None:
            fields["loss"] = f"{float(loss_sum) / max(n_samples, 1):.4g}"
            elapsed = max(self._progress.get_time() - self._samples_start, 1e-9)
            fields["rate"] = f"{n_samples / elapsed:,.0f}"
        self._progress.update(self._task, advance=1, **fields)

    def end_epoch(self, row: dict[str, float]) -> None:
        """Show the epoch's final figures: update the bar, or print one line."""
        if self.mode == "lines":
            stream = self.stream if self.stream is not None else sys.stderr
            stream.write(epoch_line(row, self.total_epochs) + "\n")
            stream.flush()
            return
        if self._progress is None:
            return
        loss = row.get("val_loss", row["train_loss"])
        self._progress.update(self._task, loss=f"{loss:.4g}", rate=f"{row['samples_per_second']:,.0f}")


def epoch_line(row: dict[str, float], total_epochs: int) -> str:
    """``epoch 3/10  train_loss 0.01234  val_loss 0.01301  1.2 s  5,432 samples/s``."""
    parts = [f"epoch {int(row['epoch'])}/{total_epochs}", f"train_loss {row['train_loss']:.5g}"]
    if "val_loss" in row:
        parts.append(f"val_loss {row['val_loss']:.5g}")
    if "seconds" in row:
        parts.append(f"{row['seconds']:.1f} s")
    if "samples_per_second" in row:
        parts.append(f"{row['samples_per_second']:,.0f} samples/s")
    return "  ".join(parts)

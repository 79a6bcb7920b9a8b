"""A rich progress bar on stderr: epoch, loss, samples/s and time left."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from torch import Tensor

__all__ = ["ProgressReporter"]


class ProgressReporter:
    """Shows training progress when ``enabled``; does nothing (and imports nothing) otherwise."""

    def __init__(self, *, enabled: bool, total_epochs: int) -> None:
        self.enabled = enabled
        self.total_epochs = total_epochs
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressReporter:
        if self.enabled:
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
                console=Console(stderr=True),
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
        """Show the epoch's final figures."""
        if self._progress is None:
            return
        loss = row.get("val_loss", row["train_loss"])
        self._progress.update(self._task, loss=f"{loss:.4g}", rate=f"{row['samples_per_second']:,.0f}")

"""Optional TensorBoard logging: every loss term per epoch, and reconstruction images.

Uses ``torch.utils.tensorboard``, which needs the ``tensorboard`` package
(``pip install aekit[tensorboard]``).
Pass :meth:`TensorBoardLogger.log_epoch` as the trainer's ``on_epoch_end`` to watch a run live::

    with TensorBoardLogger("runs/tb") as board:
        history = Trainer(config, on_epoch_end=board.log_epoch).fit(model, train, val)
        board.log_reconstructions(inputs, model.reconstruct(inputs), step=len(history))

then ``tensorboard --logdir runs/tb``.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

import torch
from torch import Tensor

from aekit.errors import ConfigError, ShapeError
from aekit.formats.files import make_output_folder

__all__ = ["TensorBoardLogger", "scalar_tag"]

_SPECIAL_TAGS = {
    "lr": "optimizer/learning_rate",
    "seconds": "speed/seconds_per_epoch",
    "samples_per_second": "speed/samples_per_second",
}


def scalar_tag(column: str) -> str | None:
    """The TensorBoard tag of a History column: ``train_recon`` → ``recon/train``, ``lr`` →
    ``optimizer/learning_rate``; ``epoch`` → ``None`` (it is the step, not a value).

    Grouping by term puts the training and validation curves of one term side by side.
    """
    if column == "epoch":
        return None
    for prefix in ("train_", "val_"):
        if column.startswith(prefix):
            return f"{column[len(prefix) :]}/{prefix.rstrip('_')}"
    return _SPECIAL_TAGS.get(column, f"other/{column}")


class TensorBoardLogger:
    """Writes TensorBoard event files under ``log_dir``.

    Args:
        log_dir: Folder for the event files (created).

    Raises:
        ConfigError: The ``tensorboard`` package is not installed.
        DataError: ``log_dir`` (or a folder above it) is an existing file.
    """

    def __init__(self, log_dir: str | os.PathLike[str]) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError(
                "TensorBoard logging needs the tensorboard package: pip install 'aekit[tensorboard]'"
            ) from None
        self.log_dir = os.fspath(make_output_folder(log_dir, "TensorBoard logging"))
        self._writer: Any = SummaryWriter(log_dir=self.log_dir)

    def log_epoch(self, epoch: int, row: dict[str, float]) -> None:
        """Log every value of one History row at step ``epoch`` (1-based, as in the row).

        The signature matches the trainer's ``on_epoch_end`` hook.
        """
        for column, value in row.items():
            tag = scalar_tag(column)
            if tag is not None:
                self._writer.add_scalar(tag, float(value), global_step=epoch)
        self._writer.flush()

    def log_reconstructions(
        self, inputs: Tensor, reconstructions: Tensor, *, step: int, tag: str = "reconstructions"
    ) -> None:
        """Log image pairs: inputs in the top half of each image, reconstructions below.

        Args:
            inputs: ``(B, C, H, W)`` images in [0, 1] (C = 1 or 3).
            reconstructions: Same shape as ``inputs``.
            step: The step (epoch) to file them under.
            tag: The TensorBoard image tag.

        Raises:
            ShapeError: The tensors are not ``(B, C, H, W)`` images of one shape.
        """
        if inputs.dim() != 4 or inputs.shape != reconstructions.shape or inputs.shape[1] not in (1, 3):
            raise ShapeError(
                "inputs and reconstructions must both have shape (B, C, H, W) with C = 1 or 3; "
                f"got {tuple(inputs.shape)} and {tuple(reconstructions.shape)}"
            )
        pairs = torch.cat([inputs, reconstructions], dim=2).detach().float().cpu().clamp(0, 1)
        self._writer.add_images(tag, pairs, global_step=step, dataformats="NCHW")
        self._writer.flush()

    def log_text(self, tag: str, text: str, *, step: int = 0) -> None:
        """Log a text entry (shown as Markdown by TensorBoard)."""
        self._writer.add_text(tag, text, global_step=step)

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()

    def __enter__(self) -> TensorBoardLogger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

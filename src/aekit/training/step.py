"""The training step as a module, so DDP wraps the whole step rather than the bare model."""

from __future__ import annotations

from torch import Tensor, nn

from aekit.models.base import AbstractAutoencoder, LossTerms

__all__ = ["TrainStep"]


class TrainStep(nn.Module):
    """``forward(inputs, target, condition)`` runs the model and its loss and returns the loss terms.

    DDP's ``forward`` does per-step bookkeeping that methods called on ``ddp.module`` skip
    (pytorch/pytorch#14616); wrapping this step keeps the model's own ``forward`` plain and makes a
    laptop run and a ``torchrun`` run execute the same code.
    """

    def __init__(self, model: AbstractAutoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor, target: Tensor, condition: Tensor | None = None) -> LossTerms:
        output = self.model(inputs, condition)
        return self.model.loss(output, target)

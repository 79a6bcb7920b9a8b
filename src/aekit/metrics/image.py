"""Reconstruction metrics on images or vectors: per-sample MSE and PSNR."""

from __future__ import annotations

import torch
from torch import Tensor

from aekit.errors import ShapeError

__all__ = ["mse_per_sample", "psnr"]


def _check_pair(prediction: Tensor, target: Tensor) -> None:
    if prediction.shape != target.shape:
        raise ShapeError(
            f"prediction and target shapes differ: {tuple(prediction.shape)} vs {tuple(target.shape)}"
        )


def mse_per_sample(prediction: Tensor, target: Tensor) -> Tensor:
    """Mean squared error of each sample over all its elements, shape ``(B,)``."""
    _check_pair(prediction, target)
    return (prediction - target).double().square().reshape(len(target), -1).mean(1)


def psnr(prediction: Tensor, target: Tensor, data_range: float = 1.0) -> Tensor:
    """Peak signal-to-noise ratio of each sample in dB, ``10 log10(range² / MSE)``, shape ``(B,)``.

    Identical samples give ``inf``.
    """
    mse = mse_per_sample(prediction, target)
    return 10.0 * torch.log10(torch.as_tensor(data_range, dtype=torch.float64) ** 2 / mse)

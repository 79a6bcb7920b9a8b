"""Loss terms as pure functions.

Reductions: reconstruction losses average over every element (``"mean"``, the Keras/PyTorch default, so
values are comparable across image sizes) or sum over a sample's elements and average over the batch
(``"sum"``, what a likelihood such as the VAE's ELBO needs).
"""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor

from aekit.config import check_choice

__all__ = [
    "RECONSTRUCTION_LOSSES",
    "Reconstruction",
    "Reduction",
    "bce",
    "gaussian_kl",
    "l1",
    "mse",
    "per_sample_error",
    "reconstruction_loss",
]

Reconstruction = Literal["mse", "bce", "l1"]
Reduction = Literal["mean", "sum"]
RECONSTRUCTION_LOSSES: tuple[str, ...] = ("mse", "bce", "l1")


def _reduce(elementwise: Tensor, reduction: Reduction) -> Tensor:
    if reduction == "mean":
        return elementwise.mean()
    return elementwise.reshape(len(elementwise), -1).sum(1).mean()


def mse(x_hat: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Squared error ``(x̂ − x)²``, reduced as described in the module docstring."""
    return _reduce((x_hat - target).square(), reduction)


def l1(x_hat: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Absolute error ``|x̂ − x|``."""
    return _reduce((x_hat - target).abs(), reduction)


def bce(x_hat: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Binary cross-entropy ``−[x log x̂ + (1 − x) log(1 − x̂)]`` for ``x̂, x`` in ``[0, 1]``."""
    return _reduce(F.binary_cross_entropy(x_hat, target, reduction="none"), reduction)


_LOSSES = {"mse": mse, "bce": bce, "l1": l1}


def reconstruction_loss(x_hat: Tensor, target: Tensor, kind: Reconstruction, reduction: Reduction = "mean") -> Tensor:
    """Dispatch to :func:`mse`, :func:`bce` or :func:`l1` by name."""
    check_choice("reconstruction", kind, _LOSSES)
    return _LOSSES[kind](x_hat, target, reduction)


def per_sample_error(x_hat: Tensor, target: Tensor, kind: Reconstruction = "mse") -> Tensor:
    """Mean elementwise error of each sample, shape ``(B,)`` (anomaly scores, evaluation)."""
    check_choice("reconstruction", kind, _LOSSES)
    if kind == "mse":
        elementwise = (x_hat - target).square()
    elif kind == "l1":
        elementwise = (x_hat - target).abs()
    else:
        elementwise = F.binary_cross_entropy(x_hat.clamp(1e-7, 1 - 1e-7), target, reduction="none")
    return elementwise.reshape(len(elementwise), -1).mean(1)


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(μ, σ²) ‖ N(0, I))`` summed over latent dimensions, averaged over the batch.

    ``KL = ½ Σ (μ² + σ² − log σ² − 1)``.
    """
    return 0.5 * (mu.square() + logvar.exp() - logvar - 1.0).sum(dim=1).mean()


"""Loss terms as pure functions.

Reductions: reconstruction losses average over every element (``"mean"``, the Keras/PyTorch default, so
values are comparable across image sizes) or sum over a sample's elements and average over the batch
(``"sum"``, what a likelihood such as the VAE's ELBO needs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.config import check_choice
from aekit.errors import ConfigError

__all__ = [
    "RECONSTRUCTION_LOSSES",
    "Reconstruction",
    "Reduction",
    "bce",
    "bernoulli_log_likelihood",
    "diagonal_gaussian_log_density",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "kl_sparsity",
    "l1",
    "l1_sparsity",
    "log_mean_exp",
    "mse",
    "reconstruction_loss",
    "standard_normal_log_density",
]

Reconstruction = Literal["mse", "bce", "l1"]
Reduction = Literal["mean", "sum"]
RECONSTRUCTION_LOSSES: tuple[str, ...] = ("mse", "bce", "l1")

_LOG_2PI = math.log(2.0 * math.pi)


def _reduce(total_or_mean: Callable[[str], Tensor], batch_size: int, reduction: Reduction) -> Tensor:
    """Apply PyTorch's fused loss with ``mean``, or ``sum`` divided by the batch size."""
    if reduction == "mean":
        return total_or_mean("mean")
    return total_or_mean("sum") / batch_size


def mse(x_hat: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Squared error ``(x̂ − x)²``, reduced as described in the module docstring."""
    return _reduce(lambda how: F.mse_loss(x_hat, target, reduction=how), len(target), reduction)


def l1(x_hat: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Absolute error ``|x̂ − x|``."""
    return _reduce(lambda how: F.l1_loss(x_hat, target, reduction=how), len(target), reduction)


def bce(x_hat: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Binary cross-entropy ``−[x log x̂ + (1 − x) log(1 − x̂)]`` for ``x̂, x`` in ``[0, 1]``."""
    return _reduce(lambda how: F.binary_cross_entropy(x_hat, target, reduction=how), len(target), reduction)


_LOSSES = {"mse": mse, "bce": bce, "l1": l1}


def reconstruction_loss(
    x_hat: Tensor, target: Tensor, kind: Reconstruction, reduction: Reduction = "mean"
) -> Tensor:
    """Dispatch to :func:`mse`, :func:`bce` or :func:`l1` by name."""
    check_choice("reconstruction", kind, _LOSSES)
    return _LOSSES[kind](x_hat, target, reduction)


def gaussian_kl(mu: Tensor, logvar: Tensor, reduction: Literal["mean", "none"] = "mean") -> Tensor:
    """``KL(N(μ, σ²) ‖ N(0, I))`` summed over latent dimensions, averaged over the batch.

    ``KL = ½ Σ (μ² + σ² − log σ² − 1)``.

    Args:
        mu, logvar: Posterior means and log-variances ``(B, latent_dim)``.
        reduction: ``"mean"`` averages over the batch (a scalar); ``"none"`` returns each sample's ``(B,)``.
    """
    per_sample = 0.5 * (mu.square() + logvar.exp() - logvar - 1.0).sum(dim=1)
    return per_sample if reduction == "none" else per_sample.mean()


def l1_sparsity(code: Tensor) -> Tensor:
    """Mean absolute code activation ``mean_{b,j} |h_bj|`` of a code batch ``(B, latent_dim)``.

    Minimising it drives most code units to exactly zero for each sample (a Laplace prior on codes).
    """
    return code.abs().mean()


def kl_sparsity(probabilities: Tensor, target: float, eps: float = 1e-6) -> Tensor:
    """``Σ_j KL(ρ ‖ ρ̂_j)`` between a target firing rate ρ and each unit's mean firing rate.

    ``ρ̂_j = mean_b p_bj`` is unit ``j``'s batch-mean activation in ``(0, 1)`` and
    ``KL(ρ ‖ ρ̂) = ρ log(ρ / ρ̂) + (1 − ρ) log((1 − ρ) / (1 − ρ̂))`` (Ng, "Sparse autoencoder",
    CS294A lecture notes, 2011). It is zero only when every unit fires at rate ρ on average.

    Args:
        probabilities: Activations in ``(0, 1)``, shape ``(B, latent_dim)``.
        target: The target rate ρ in ``(0, 1)``.
        eps: ``ρ̂`` is clamped to ``[eps, 1 − eps]`` so the logarithms stay finite.

    Returns:
        A scalar: the KL divergences summed over units (not averaged, as in the formula).

    Raises:
        ConfigError: ``target`` is outside ``(0, 1)``.
    """
    if not 0.0 < target < 1.0:
        raise ConfigError(f"target must be in (0, 1); got {target!r}")
    rate = probabilities.mean(0).clamp(eps, 1.0 - eps)
    kl = target * torch.log(target / rate) + (1.0 - target) * torch.log((1.0 - target) / (1.0 - rate))
    return kl.sum()


def standard_normal_log_density(z: Tensor) -> Tensor:
    """``log N(z; 0, I) = −½ Σ_j (z_j² + log 2π)`` of codes ``(..., latent_dim)``, shape ``(...)``."""
    return -0.5 * (z.square() + _LOG_2PI).sum(-1)


def diagonal_gaussian_log_density(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """``log N(z; μ, diag σ²) = −½ Σ_j ((z_j − μ_j)² / σ_j² + log σ_j² + log 2π)`` over the last axis."""
    return -0.5 * ((z - mu).square() * torch.exp(-logvar) + logvar + _LOG_2PI).sum(-1)


def bernoulli_log_likelihood(logits: Tensor, target: Tensor) -> Tensor:
    """``log p(x | z) = Σ_i [x_i log p_i + (1 − x_i) log(1 − p_i)]`` with ``p = sigmoid(logits)``.

    Computed from logits (numerically stable); summed over all but the first axis, shape ``(B,)``.
    Targets in ``[0, 1]`` that are not binary are allowed (the usual cross-entropy).
    """
    elementwise = -F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return elementwise.reshape(len(elementwise), -1).sum(1)


def gaussian_log_likelihood(mean: Tensor, log_std: Tensor, target: Tensor) -> Tensor:
    """``log N(x; x̂, σ² I) = −Σ_i [½ ((x_i − x̂_i) / σ)² + log σ + ½ log 2π]``, shape ``(B,)``.

    Args:
        mean: Decoded means ``x̂`` ``(B, ...)``.
        log_std: ``log σ``, broadcastable to ``mean`` (a scalar for one shared scale).
        target: Observations ``x``, same shape as ``mean``.
    """
    elementwise = 0.5 * ((target - mean) * torch.exp(-log_std)).square() + log_std + 0.5 * _LOG_2PI
    return -elementwise.reshape(len(elementwise), -1).sum(1)


def log_mean_exp(values: Tensor, dim: int = -1) -> Tensor:
    """``log (1/K Σ_k exp(v_k))`` along ``dim``, stable for large ``|v|`` (via ``logsumexp``)."""
    return torch.logsumexp(values, dim=dim) - math.log(values.shape[dim])

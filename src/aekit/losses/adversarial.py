"""Adversarial (GAN) loss terms on discriminator logits.

A logit ``d`` means ``P(real) = σ(d)``. The terms use ``softplus`` forms, which are the binary
cross-entropies ``BCE(σ(d), 1) = softplus(−d)`` and ``BCE(σ(d), 0) = softplus(d)`` without the
overflow of ``log σ``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["discriminator_loss", "generator_loss", "real_gradient_penalty"]


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Discriminator objective ``½ [−log σ(d_real) − log(1 − σ(d_fake))]``, averaged over the batch.

    Args:
        real_logits: Logits on real samples (data, or prior samples for an AAE) ``(B,)``.
        fake_logits: Logits on generated samples (reconstructions, or codes) ``(B,)``.
    """
    return 0.5 * (F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())


def generator_loss(fake_logits: Tensor) -> Tensor:
    """Non-saturating generator objective ``−log σ(d_fake)``, averaged over the batch.

    Goodfellow et al. (2014) recommend it over minimising ``log(1 − σ(d_fake))``, whose gradient
    vanishes while the discriminator wins easily (early in training).
    """
    return F.softplus(-fake_logits).mean()


def real_gradient_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1 penalty ``E_real ‖∇_x D(x)‖²``, the squared gradient norm of ``D`` at real samples, averaged.

    Mescheder, Geiger, Nowozin, "Which training methods for GANs do actually converge?", ICML 2018:
    penalising ``D``'s gradient on real data stops the oscillation of plain GAN training around the
    equilibrium. Gradients are computed even under ``torch.no_grad`` (evaluation), so the value is the
    same in training and evaluation; the result is differentiable (w.r.t. ``D``'s parameters) only where
    gradients are enabled.

    Args:
        discriminator: Maps samples ``(B, ...)`` to logits ``(B,)``.
        real: Real samples ``(B, ...)`` (data, or prior samples for an AAE); treated as constants.
    """
    differentiable = torch.is_grad_enabled()
    with torch.enable_grad():
        inputs = real.detach().requires_grad_()
        (gradient,) = torch.autograd.grad(discriminator(inputs).sum(), inputs, create_graph=differentiable)
    return gradient.flatten(1).square().sum(1).mean()

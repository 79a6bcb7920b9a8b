"""Adversarial (GAN) loss terms on discriminator logits.

A logit ``d`` means ``P(real) = σ(d)``. The terms use ``softplus`` forms, which are the binary
cross-entropies ``BCE(σ(d), 1) = softplus(−d)`` and ``BCE(σ(d), 0) = softplus(d)`` without the
overflow of ``log σ``.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["discriminator_loss", "generator_loss"]


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

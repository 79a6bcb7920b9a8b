"""Toy data with known structure for the latent-space tests."""

from __future__ import annotations

import torch
from torch import Tensor


def blobs(
    n_per_class: int = 60, n_classes: int = 3, dim: int = 4, spread: float = 0.2, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Well-separated Gaussian blobs: codes ``(n_classes·n, dim)`` and labels."""
    generator = torch.Generator().manual_seed(seed)
    centres = 5.0 * torch.eye(n_classes, dim)
    labels = torch.arange(n_classes).repeat_interleave(n_per_class)
    codes = centres[labels] + spread * torch.randn(len(labels), dim, generator=generator)
    return codes, labels

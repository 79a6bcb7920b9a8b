"""Seeded train/validation splits of in-memory datasets."""

from __future__ import annotations

import math

import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError

__all__ = ["train_val_split"]


def train_val_split(data: TensorData, val_fraction: float, seed: int) -> tuple[TensorData, TensorData]:
    """Split ``data`` at random into a training and a validation part.

    The permutation comes from a ``torch.Generator`` seeded with ``seed``, so the same data and seed
    always give the same split, without touching the global random state. Both parts keep the
    original sample order.

    Args:
        data: The dataset to split.
        val_fraction: Share of samples for validation, in (0, 1); the count is rounded to the nearest
            integer.
        seed: Seed of the permutation.

    Returns:
        ``(train, val)``.

    Raises:
        ConfigError: ``val_fraction`` is not in (0, 1).
        DataError: One side would get no samples.
    """
    if not (isinstance(val_fraction, int | float) and 0.0 < val_fraction < 1.0):
        raise ConfigError(f"val_fraction must be in (0, 1); got {val_fraction!r}")
    n_samples = len(data)
    n_val = math.floor(val_fraction * n_samples + 0.5)
    if n_val < 1 or n_val > n_samples - 1:
        raise DataError(
            f"val_fraction={val_fraction} of {n_samples} samples gives {n_val} validation and "
            f"{n_samples - n_val} training samples; each side needs at least one"
        )
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(n_samples, generator=generator)
    val_index, _ = order[:n_val].sort()
    train_index, _ = order[n_val:].sort()
    return data.subset(train_index), data.subset(val_index)

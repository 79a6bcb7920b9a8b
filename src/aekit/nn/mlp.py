"""Fully connected stacks."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from torch import nn

from aekit.nn.layers import make_activation

__all__ = ["mlp"]


def mlp(
    widths: Sequence[int],
    *,
    activation: str = "relu",
    final_activation: str | None = None,
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.Sequential:
    """Linear layers ``widths[0] → widths[1] → … → widths[-1]``.

    Hidden layers get (batch norm,) activation (and dropout); the last layer gets ``final_activation``
    only, or nothing when it is ``None``.
    """
    layers: list[nn.Module] = []
    last = len(widths) - 2
    for index, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
        layers.append(nn.Linear(n_in, n_out))
        if index < last:
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        elif final_activation is not None:
            layers.append(make_activation(final_activation))
    return nn.Sequential(*layers)

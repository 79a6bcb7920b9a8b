"""Small layer factories shared by the MLP and convolutional stacks."""

from __future__ import annotations

from typing import Literal

from torch import nn

from aekit.config import check_choice

__all__ = ["ACTIVATIONS", "Activation", "OutputActivation", "make_activation"]

Activation = Literal["relu", "leaky_relu", "gelu", "elu", "silu", "tanh", "sigmoid"]
OutputActivation = Literal["sigmoid", "identity", "tanh"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module by name (see :data:`ACTIVATIONS`)."""
    check_choice("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]()

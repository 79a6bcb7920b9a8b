"""Perceptual (feature) loss over a frozen, caller-supplied feature network; nothing is downloaded.

Johnson, Alahi, Fei-Fei, "Perceptual losses for real-time style transfer and super-resolution",
ECCV 2016: compare images through the activations ``φ_l`` of chosen layers of a fixed network,

    L(x̂, x) = Σ_l w_l · mean((φ_l(x̂) − φ_l(x))²)      (``distance="mse"``; ``"l1"`` uses |·|),

which rewards matching structure the network has learnt to see rather than exact pixels. Any
``nn.Module`` works; :class:`EncoderFeatures` turns a model trained by aekit (its ``encode``) into one,
so a feature network can come from the same data without pretrained downloads.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Sequence
from typing import Literal

from torch import Tensor, nn

from aekit.errors import ConfigError, ShapeError

__all__ = ["EncoderFeatures", "PerceptualLoss", "feature_layers"]

OUTPUT = "output"
"""Layer name that selects the network's final output."""


def feature_layers(network: nn.Module) -> list[str]:
    """Names usable in ``PerceptualLoss(layers=...)``: ``"output"`` and every named submodule."""
    return [OUTPUT, *(name for name, _ in network.named_modules() if name)]


class EncoderFeatures(nn.Module):
    """A trained autoencoder's encoder as a feature network: ``forward(x) = model.encode(x)``.

    Works with any object that has an ``encode(x)`` method and is an ``nn.Module`` (every aekit model).
    Its layers are named ``model.<submodule>`` (e.g. ``model.encoder.1``).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        if not isinstance(model, nn.Module) or not callable(getattr(model, "encode", None)):
            raise TypeError(f"model must be an nn.Module with an encode method; got {type(model).__name__}")
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        """Codes of ``x``, ``(B, latent_dim)``."""
        return self.model.encode(x)  # type: ignore[operator]


class PerceptualLoss(nn.Module):
    """Feature-matching loss through a frozen copy of ``feature_network`` (formula in the module docstring).

    The network is deep-copied, put in eval mode and its parameters frozen, so training with the loss
    changes neither it nor the caller's original; gradients flow to the compared images only.

    Args:
        feature_network: Maps images ``(B, ...)`` to features; trained or not, any architecture.
        layers: Names of submodules whose outputs are compared (see :func:`feature_layers`), or
            ``("output",)`` for the network's output.
        layer_weights: ``w_l`` per layer; all 1 by default.
        distance: ``mse`` or ``l1`` between feature maps.

    Raises:
        ConfigError: A layer name is unknown (the message suggests close ones) or weights mismatch.
    """

    def __init__(
        self,
        feature_network: nn.Module,
        layers: Sequence[str] = (OUTPUT,),
        layer_weights: Sequence[float] | None = None,
        distance: Literal["mse", "l1"] = "mse",
    ) -> None:
        super().__init__()
        if not isinstance(feature_network, nn.Module):
            raise TypeError(f"feature_network must be an nn.Module; got {type(feature_network).__name__}")
        if isinstance(layers, str):
            layers = (layers,)
        if not layers:
            raise ConfigError("layers must name at least one layer")
        if distance not in ("mse", "l1"):
            raise ConfigError(f"distance must be 'mse' or 'l1'; got {distance!r}")
        weights = tuple(layer_weights) if layer_weights is not None else (1.0,) * len(layers)
        if len(weights) != len(layers):
            raise ConfigError(
                f"layer_weights must have one entry per layer ({len(layers)}); got {len(weights)}"
            )
        network = copy.deepcopy(feature_network)
        known = feature_layers(network)
        for name in layers:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=3)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise ConfigError(f"feature_network has no layer {name!r}{hint}")
        for parameter in network.parameters():
            parameter.requires_grad_(False)
        self.network = network.eval()
        self.layers = tuple(layers)
        self.layer_weights = weights
        self.distance = distance

    def train(self, mode: bool = True) -> PerceptualLoss:
        """Keep the feature network in eval mode whatever ``mode`` (its batch norm must not adapt)."""
        super().train(mode)
        self.network.eval()
        return self

    def features(self, x: Tensor) -> list[Tensor]:
        """The compared features of ``x``, one tensor per entry of ``layers``."""
        captured: dict[str, Tensor] = {}
        modules = dict(self.network.named_modules())
        handles = []
        for name in self.layers:
            if name != OUTPUT:

                def hook(_module: nn.Module, _inputs: object, output: Tensor, name: str = name) -> None:
                    captured[name] = output

                handles.append(modules[name].register_forward_hook(hook))
        try:
            output = self.network(x)
        finally:
            for handle in handles:
                handle.remove()
        return [output if name == OUTPUT else captured[name] for name in self.layers]

    def forward(self, x_hat: Tensor, target: Tensor) -> Tensor:
        """Scalar loss between ``x_hat`` and ``target`` (same shape, as the network expects)."""
        if x_hat.shape != target.shape:
            raise ShapeError(
                f"x_hat and target must have the same shape; "
                f"got {tuple(x_hat.shape)} and {tuple(target.shape)}"
            )
        total = x_hat.new_zeros(())
        for weight, a, b in zip(self.layer_weights, self.features(x_hat), self.features(target), strict=True):
            difference = a - b.detach()
            total = (
                total + weight * (difference.square() if self.distance == "mse" else difference.abs()).mean()
            )
        return total

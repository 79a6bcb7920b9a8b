"""Output heads: the Gaussian posterior head and discriminators for adversarial training.

The discriminators return one logit per sample, ``(B,)``; a logit ``d`` means ``P(real) = σ(d)``, the form
the losses in :mod:`aekit.losses.adversarial` take.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from aekit.errors import ConfigError, ShapeError
from aekit.nn.backbone import fitting_channels
from aekit.nn.shapes import plan_conv_stages

__all__ = ["ConvDiscriminator", "GaussianHead", "MLPDiscriminator", "make_discriminator"]

LEAKY_SLOPE = 0.2
"""Negative slope of the discriminators' leaky ReLUs (the usual GAN choice; 0.01 lets units die)."""


def _check_widths(name: str, widths: Sequence[int]) -> None:
    for width in widths:
        if isinstance(width, bool) or not isinstance(width, int) or width <= 0:
            raise ConfigError(f"{name} entries must be positive ints; got {tuple(widths)!r}")


class GaussianHead(nn.Module):
    """Linear map from features to the parameters ``(μ, log σ²)`` of a diagonal Gaussian.

    One linear layer ``linear`` of ``2 · latent_dim`` outputs: the first half is ``μ``, the second
    ``log σ²`` (the layout of saved VAE weights, ``head.linear.weight`` / ``head.linear.bias``).

    Args:
        in_features: Size of the input features.
        latent_dim: Size of ``μ`` and ``log σ²``.
    """

    def __init__(self, in_features: int, latent_dim: int) -> None:
        super().__init__()
        _check_widths("in_features and latent_dim", (in_features, latent_dim))
        self.latent_dim = latent_dim
        self.linear = nn.Linear(in_features, 2 * latent_dim)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        """Map ``(B, in_features)`` to ``μ`` and ``log σ²``, each ``(B, latent_dim)``."""
        mu, logvar = self.linear(features).chunk(2, dim=1)
        return mu, logvar


class MLPDiscriminator(nn.Module):
    """Fully connected discriminator: ``in_features → hidden_dims → 1`` logit, leaky-ReLU hidden layers.

    Args:
        in_features: Size of the (flattened) input.
        hidden_dims: Widths of the hidden layers.
        dropout: Dropout after each hidden layer (keeps a small discriminator from memorising).
    """

    def __init__(
        self, in_features: int, hidden_dims: Sequence[int] = (256, 256), dropout: float = 0.0
    ) -> None:
        super().__init__()
        _check_widths("in_features", (in_features,))
        _check_widths("hidden_dims", hidden_dims)
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1); got {dropout!r}")
        self.in_features = in_features
        layers: list[nn.Module] = []
        width = in_features
        for hidden in hidden_dims:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(LEAKY_SLOPE)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(B, ...)`` with ``in_features`` elements per sample to logits ``(B,)``."""
        flat = x.flatten(1)
        if flat.shape[1] != self.in_features:
            raise ShapeError(
                f"discriminator input must have {self.in_features} features per sample; got {tuple(x.shape)}"
            )
        return self.net(flat).squeeze(1)


class ConvDiscriminator(nn.Module):
    """Convolutional discriminator on images: strided convolutions, then a linear logit.

    Args:
        input_shape: Image shape ``(C, H, W)``.
        channels: Output channels of each strided stage; stages that would shrink the image below
            2 pixels a side are dropped, as in the conv autoencoder.
    """

    def __init__(self, input_shape: tuple[int, ...], channels: Sequence[int] = (32, 64)) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ConfigError(f"input_shape must be (C, H, W) for a conv discriminator; got {input_shape!r}")
        _check_widths("channels", channels)
        if not channels:
            raise ConfigError("channels must name at least one stage")
        self.input_shape = tuple(input_shape)
        image = (input_shape[0], input_shape[1], input_shape[2])
        stages = plan_conv_stages(image, fitting_channels(image, tuple(channels)))
        layers: list[nn.Module] = []
        for stage in stages:
            layers += [
                nn.Conv2d(
                    stage.in_channels, stage.out_channels, stage.kernel_size, stage.stride, stage.padding
                ),
                nn.LeakyReLU(LEAKY_SLOPE),
            ]
        last = stages[-1]
        layers += [nn.Flatten(), nn.Linear(last.out_channels * last.out_size[0] * last.out_size[1], 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Map images ``(B, C, H, W)`` to logits ``(B,)``."""
        if x.dim() != 4 or tuple(x.shape[1:]) != self.input_shape:
            shape = ", ".join(map(str, self.input_shape))
            raise ShapeError(f"discriminator input must have shape (B, {shape}); got {tuple(x.shape)}")
        return self.net(x).squeeze(1)


def make_discriminator(
    input_shape: tuple[int, ...],
    *,
    kind: str = "auto",
    hidden_dims: Sequence[int] = (256, 256),
    channels: Sequence[int] = (32, 64),
) -> nn.Module:
    """Build a discriminator for samples of ``input_shape``.

    Args:
        input_shape: Shape of one sample.
        kind: ``"mlp"``, ``"conv"`` (needs ``(C, H, W)``) or ``"auto"`` (conv for images, MLP otherwise).
        hidden_dims: Hidden widths of the MLP discriminator.
        channels: Stage channels of the conv discriminator.
    """
    if kind not in ("auto", "mlp", "conv"):
        raise ConfigError(f"kind must be one of 'auto', 'mlp', 'conv'; got {kind!r}")
    if kind == "conv" or (kind == "auto" and len(input_shape) == 3):
        return ConvDiscriminator(input_shape, channels)
    return MLPDiscriminator(math.prod(input_shape), hidden_dims)

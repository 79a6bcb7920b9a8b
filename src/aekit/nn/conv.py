"""Strided-convolution encoders and transposed-convolution decoders built from a stage plan."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from aekit.nn.layers import make_activation
from aekit.nn.shapes import ConvStage

__all__ = ["conv_decoder", "conv_encoder"]


def _refine(channels: int, activation: str, batch_norm: bool) -> list[nn.Module]:
    """A size-keeping 3×3 convolution that adds depth to a stage."""
    layers: list[nn.Module] = [nn.Conv2d(channels, channels, 3, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(channels))
    layers.append(make_activation(activation))
    return layers


def conv_encoder(
    stages: Sequence[ConvStage],
    *,
    activation: str = "relu",
    batch_norm: bool = False,
    blocks_per_stage: int = 0,
) -> nn.Sequential:
    """Strided convolutions down, following ``stages``; ``blocks_per_stage`` extra 3×3 convs each."""
    layers: list[nn.Module] = []
    for stage in stages:
        layers.append(
            nn.Conv2d(stage.in_channels, stage.out_channels, stage.kernel_size, stage.stride, stage.padding)
        )
        if batch_norm:
            layers.append(nn.BatchNorm2d(stage.out_channels))
        layers.append(make_activation(activation))
        for _ in range(blocks_per_stage):
            layers.extend(_refine(stage.out_channels, activation, batch_norm))
    return nn.Sequential(*layers)


def conv_decoder(
    stages: Sequence[ConvStage],
    *,
    activation: str = "relu",
    batch_norm: bool = False,
    blocks_per_stage: int = 0,
    final_activation: str | None = None,
) -> nn.Sequential:
    """Transposed convolutions up, mirroring ``stages`` so the output size equals the encoder's input.

    The last transposed convolution keeps the first stage's width and a 3×3 convolution then maps it
    to the image channels, which reconstructs finer detail than ending on the transposed convolution.
    """
    layers: list[nn.Module] = []
    for index, stage in enumerate(reversed(stages)):
        is_last = index == len(stages) - 1
        for _ in range(blocks_per_stage):
            layers.extend(_refine(stage.out_channels, activation, batch_norm))
        out_channels = stage.out_channels if is_last else stage.in_channels
        layers.append(
            nn.ConvTranspose2d(
                stage.out_channels,
                out_channels,
                stage.kernel_size,
                stage.stride,
                stage.padding,
                output_padding=stage.output_padding,
            )
        )
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(make_activation(activation))
    layers.append(nn.Conv2d(stages[0].out_channels, stages[0].in_channels, 3, padding=1))
    if final_activation is not None:
        layers.append(make_activation(final_activation))
    return nn.Sequential(*layers)

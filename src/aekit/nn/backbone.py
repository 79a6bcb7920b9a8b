"""The one encoder/decoder builder: fully connected (``mlp``) and strided-conv (``conv``) backbones.

Every autoencoder family with an MLP or conv encoder builds it here, from a :class:`BackboneSpec`, so the
rules below hold for all of them:

* a conv backbone keeps only the stride-2 stages the image fits (:func:`fitting_channels`);
* the conv bottleneck, between the last feature map (``F`` values) and the code, is one linear layer while
  the squeeze ``F / latent_dim`` stays below :data:`DENSE_SQUEEZE`, and steps down through ``F / 4`` and
  ``F / 8`` beyond it (:func:`bottleneck_dims`, measured on MNIST);
* an extra per-sample input (a one-hot label for conditional models) joins the flattened input of an
  MLP, or a conv input as constant channels, and the code before decoding (:func:`encoder_input`).

Layers come in two parts each, so families can keep the module names their saved weights use:
:func:`encoder_parts` gives ``(features, code)`` and :func:`decoder_parts` ``(from_code, body)``;
:func:`build_encoder` and :func:`build_decoder` join them into one ``nn.Sequential``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import Tensor, nn

from aekit.nn.conv import conv_decoder, conv_encoder
from aekit.nn.mlp import mlp
from aekit.nn.shapes import ConvStage, plan_conv_stages

__all__ = [
    "DENSE_SQUEEZE",
    "Architecture",
    "BackboneSpec",
    "bottleneck_dims",
    "build_decoder",
    "build_encoder",
    "decoder_parts",
    "encoder_input",
    "encoder_parts",
    "fitting_channels",
]

Architecture = Literal["mlp", "conv"]

DENSE_SQUEEZE = 256
"""A conv bottleneck squeezing its feature map this many times or more gets dense layers by default."""


def fitting_channels(input_shape: tuple[int, ...], channels: tuple[int, ...]) -> tuple[int, ...]:
    """The stride-2 stages of ``channels`` that fit an image ``(C, H, W)``.

    At most ``log2(min(H, W) / 2)`` stages (the smallest map keeps at least 2 pixels a side), at least one.
    """
    smallest = min(input_shape[1:])
    fitting = max(1, math.floor(math.log2(max(smallest, 2) / 2)))
    return channels[:fitting]


def bottleneck_dims(flat: int, latent_dim: int, dense_dims: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Hidden widths between a conv feature map of ``flat`` values and a code of ``latent_dim``.

    ``dense_dims`` when given; otherwise ``()`` (one linear layer) while ``flat < DENSE_SQUEEZE · latent_dim``
    and ``(flat // 4, flat // 8)`` beyond. Measured on MNIST (``F`` = 2048, ``benchmarks/reconstruction.py``,
    conv autoencoder, 15 epochs): the dense steps give 0.61× / 0.30× PCA's error at k = 2 / 8 against
    0.67× / 0.34× for one layer, but 0.24× against 0.17× at k = 32 (squeeze 64).
    """
    if dense_dims is not None:
        return dense_dims
    if flat < DENSE_SQUEEZE * latent_dim:
        return ()
    return (flat // 4, flat // 8)


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """What the builder needs to know about an encoder/decoder pair.

    Attributes:
        input_shape: Shape of one sample; ``(C, H, W)`` for ``conv``.
        latent_dim: Size of the code the decoder takes.
        architecture: ``mlp`` or ``conv``.
        hidden_dims: Hidden widths of the MLP encoder (the decoder mirrors them); ``mlp`` only.
        channels: Stage channels of the conv encoder (stages the image does not fit are dropped).
        kernel_size: Odd kernel size of the strided convolutions.
        activation: Hidden activation.
        batch_norm: Batch normalisation after hidden layers.
        dropout: Dropout after the hidden layers of MLP stacks.
        blocks_per_stage: Extra size-keeping 3×3 convolutions per conv stage.
        dense_dims: Hidden widths of the conv bottleneck; ``None`` chooses by the squeeze
            (:func:`bottleneck_dims`).
    """

    input_shape: tuple[int, ...]
    latent_dim: int
    architecture: Architecture = "mlp"
    hidden_dims: tuple[int, ...] = ()
    channels: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    activation: str = "relu"
    batch_norm: bool = False
    dropout: float = 0.0
    blocks_per_stage: int = 0
    dense_dims: tuple[int, ...] | None = None

    @property
    def n_features(self) -> int:
        """Values per sample."""
        return math.prod(self.input_shape)

    @property
    def used_channels(self) -> tuple[int, ...]:
        """The conv stages that fit the image (see :func:`fitting_channels`)."""
        return fitting_channels(self.input_shape, self.channels)

    def stages(self, extra_inputs: int = 0) -> list[ConvStage]:
        """The conv stage plan, with ``extra_inputs`` constant channels joined to the image."""
        channels, height, width = self.input_shape
        shape = (channels + extra_inputs, height, width)
        return plan_conv_stages(shape, self.used_channels, self.kernel_size)

    @property
    def feature_map_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of the last conv stage's output, the map the bottleneck flattens."""
        last = self.stages()[-1]
        return (last.out_channels, *last.out_size)

    @property
    def code_dims(self) -> tuple[int, ...]:
        """Hidden widths between the encoder's input (flattened input or feature map) and the code."""
        if self.architecture == "mlp":
            return self.hidden_dims
        return bottleneck_dims(math.prod(self.feature_map_shape), self.latent_dim, self.dense_dims)

    def code_input_width(self, extra_inputs: int = 0) -> int:
        """Width entering the code layers: the flattened input (``mlp``) or feature map (``conv``)."""
        if self.architecture == "mlp":
            return self.n_features + extra_inputs
        return math.prod(self.feature_map_shape)

    def feature_width(self, extra_inputs: int = 0) -> int:
        """Width of the encoder's last hidden layer (what a head such as a Gaussian one takes)."""
        return (self.code_input_width(extra_inputs), *self.code_dims)[-1]


def encoder_input(x: Tensor, extra: Tensor | None, architecture: Architecture) -> Tensor:
    """The encoder's input: ``x`` flattened (``mlp``) with ``extra`` ``(B, E)`` joined when given, as
    ``E`` constant channels for ``conv``."""
    if architecture == "mlp":
        flat = x.flatten(1)
        return flat if extra is None else torch.cat([flat, extra.to(flat.dtype)], dim=1)
    if extra is None:
        return x
    planes = extra.to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
    return torch.cat([x, planes], dim=1)


def encoder_parts(
    spec: BackboneSpec, *, extra_inputs: int = 0, out_features: int | None = None
) -> tuple[nn.Sequential, nn.Sequential]:
    """``(features, code)``: the conv stages (empty for ``mlp``) and the fully connected layers after them.

    ``code`` maps the flattened input (``mlp``) or feature map (``conv``) through
    :attr:`BackboneSpec.code_dims` to ``out_features`` (a linear output), or, when ``out_features`` is
    None, ends on the last hidden layer with its activation, for a head to follow.
    """
    if spec.architecture == "conv":
        features = conv_encoder(
            spec.stages(extra_inputs),
            activation=spec.activation,
            batch_norm=spec.batch_norm,
            blocks_per_stage=spec.blocks_per_stage,
        )
    else:
        features = nn.Sequential()
    widths = (spec.code_input_width(extra_inputs), *spec.code_dims)
    if out_features is None:
        code = mlp(
            widths, activation=spec.activation, batch_norm=spec.batch_norm, final_activation=spec.activation
        )
    else:
        code = mlp(
            (*widths, out_features),
            activation=spec.activation,
            batch_norm=spec.batch_norm,
            dropout=spec.dropout,
        )
    return features, code


def build_encoder(
    spec: BackboneSpec, *, extra_inputs: int = 0, out_features: int | None = None
) -> nn.Sequential:
    """The encoder as one ``nn.Sequential`` (see :func:`encoder_parts`); its input is :func:`encoder_input`.

    ``mlp``: the code layers alone; ``conv``: ``[stages, Flatten, *code layers]``.
    """
    features, code = encoder_parts(spec, extra_inputs=extra_inputs, out_features=out_features)
    if spec.architecture == "mlp":
        return code
    return nn.Sequential(features, nn.Flatten(1), *code)


def decoder_parts(
    spec: BackboneSpec, *, extra_inputs: int = 0, output_activation: str | None = None
) -> tuple[nn.Sequential, nn.Module]:
    """``(from_code, body)`` mirroring :func:`encoder_parts`, for codes ``(B, latent_dim + extra_inputs)``.

    ``mlp``: ``from_code`` is the whole MLP ending on the flattened output (with ``output_activation``)
    and ``body`` an ``Unflatten`` to the input shape. ``conv``: ``from_code`` maps the code to the
    flattened feature map (hidden activation) and ``body`` is the transposed-conv stack ending on
    ``output_activation`` (None: no activation, e.g. logits).
    """
    code_width = spec.latent_dim + extra_inputs
    if spec.architecture == "mlp":
        widths = (code_width, *reversed(spec.code_dims), spec.n_features)
        from_code = mlp(
            widths,
            activation=spec.activation,
            batch_norm=spec.batch_norm,
            dropout=spec.dropout,
            final_activation=output_activation,
        )
        return from_code, nn.Unflatten(1, spec.input_shape)
    widths = (code_width, *reversed(spec.code_dims), math.prod(spec.feature_map_shape))
    from_code = mlp(
        widths, activation=spec.activation, batch_norm=spec.batch_norm, final_activation=spec.activation
    )
    body = conv_decoder(
        spec.stages(),
        activation=spec.activation,
        batch_norm=spec.batch_norm,
        blocks_per_stage=spec.blocks_per_stage,
        final_activation=output_activation,
    )
    return from_code, body


def build_decoder(
    spec: BackboneSpec, *, extra_inputs: int = 0, output_activation: str | None = None
) -> nn.Sequential:
    """The decoder as one ``nn.Sequential`` ``(B, latent_dim + extra_inputs) → (B, *input_shape)``.

    ``mlp``: ``[from_code, Unflatten]``; ``conv``: ``[*from_code, Unflatten, body]``.
    """
    from_code, body = decoder_parts(spec, extra_inputs=extra_inputs, output_activation=output_activation)
    if spec.architecture == "mlp":
        return nn.Sequential(from_code, body)
    return nn.Sequential(*from_code, nn.Unflatten(1, spec.feature_map_shape), body)

"""Encoder/decoder networks and label handling shared by the composed families (AAE, multi-decoder).

A backbone is an MLP or a strided-conv stack (the same blocks as :mod:`aekit.models.ae`), with an optional
extra input joined to the decoder's code (a one-hot label for conditional models).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.config import check_choice, check_positive
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.losses.functional import RECONSTRUCTION_LOSSES, Reconstruction
from aekit.models.base import ModelConfig
from aekit.nn.conv import conv_decoder, conv_encoder
from aekit.nn.layers import ACTIVATIONS, make_activation
from aekit.nn.mlp import mlp
from aekit.nn.shapes import plan_conv_stages

__all__ = ["BackboneConfig", "Encoder", "as_one_hot", "build_decoder", "build_encoder", "check_labels"]

Architecture = Literal["mlp", "conv"]


@dataclasses.dataclass(frozen=True)
class BackboneConfig(ModelConfig):
    """Encoder/decoder fields shared by the composed families.

    Attributes:
        latent_dim: Size of the code.
        architecture: ``mlp`` (any input shape) or ``conv`` (images ``(C, H, W)``).
        hidden_dims: Hidden widths of the MLP encoder; the decoder mirrors them.
        channels: Stage channels of the conv encoder (stages that do not fit the image are dropped).
        kernel_size: Odd kernel size of the strided convolutions.
        activation: Hidden activation.
        batch_norm: Batch normalisation after hidden layers.
        reconstruction: ``mse``, ``bce`` (data in [0, 1]) or ``l1``.
        output_activation: ``sigmoid``, ``identity``, ``tanh``, or ``auto`` (sigmoid for bce, else identity).
    """

    latent_dim: int = 32
    architecture: Architecture = "mlp"
    hidden_dims: tuple[int, ...] = (256, 128)
    channels: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    activation: str = "relu"
    batch_norm: bool = False
    reconstruction: Reconstruction = "mse"
    output_activation: Literal["auto", "sigmoid", "identity", "tanh"] = "auto"

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        check_choice("architecture", self.architecture, ("mlp", "conv"))
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("reconstruction", self.reconstruction, RECONSTRUCTION_LOSSES)
        check_choice("output_activation", self.output_activation, ("auto", "sigmoid", "identity", "tanh"))
        for width in self.hidden_dims:
            check_positive("hidden_dims entries", width)
        if self.architecture == "conv":
            if len(self.input_shape) != 3:
                raise ConfigError(
                    f"architecture 'conv' needs input_shape (C, H, W); got {self.input_shape!r} (use 'mlp')"
                )
            if not self.channels:
                raise ConfigError("channels must name at least one stage")
            for width in self.channels:
                check_positive("channels entries", width)
            plan_conv_stages(self.input_shape, self.used_channels, self.kernel_size)  # type: ignore[arg-type]

    @property
    def used_channels(self) -> tuple[int, ...]:
        """The conv stages that fit the image: at most ``log2(min(H, W) / 2)``, at least one."""
        fitting = max(1, math.floor(math.log2(max(min(self.input_shape[1:]), 2) / 2)))
        return self.channels[:fitting]

    @property
    def resolved_output_activation(self) -> str:
        """The output activation after resolving ``auto``."""
        if self.output_activation != "auto":
            return self.output_activation
        return "sigmoid" if self.reconstruction == "bce" else "identity"


class Encoder(nn.Module):
    """Encoder ``(B, *input_shape) → (B, latent_dim)``, optionally with an extra per-sample input.

    The extra input (a one-hot label ``(B, extra_inputs)``) is joined to the flattened input of an MLP,
    or to a conv input as ``extra_inputs`` constant channels, the usual way to condition a conv net.
    """

    def __init__(self, config: BackboneConfig, extra_inputs: int = 0) -> None:
        super().__init__()
        self.extra_inputs = extra_inputs
        self.architecture = config.architecture
        activation, batch_norm = config.activation, config.batch_norm
        if config.architecture == "mlp":
            widths = (math.prod(config.input_shape) + extra_inputs, *config.hidden_dims, config.latent_dim)
            self.net = mlp(widths, activation=activation, batch_norm=batch_norm)
            return
        channels, height, width = config.input_shape
        stages = plan_conv_stages(
            (channels + extra_inputs, height, width), config.used_channels, config.kernel_size
        )
        last = stages[-1]
        flat = last.out_channels * last.out_size[0] * last.out_size[1]
        self.net = nn.Sequential(
            conv_encoder(stages, activation=activation, batch_norm=batch_norm),
            nn.Flatten(),
            nn.Linear(flat, config.latent_dim),
        )

    def forward(self, x: Tensor, extra: Tensor | None = None) -> Tensor:
        """Codes ``(B, latent_dim)`` of ``x``, with ``extra`` ``(B, extra_inputs)`` when configured."""
        if self.extra_inputs == 0:
            return self.net(x.flatten(1) if self.architecture == "mlp" else x)  # type: ignore[no-any-return]
        if extra is None:
            raise DataError(f"this encoder needs an extra input of {self.extra_inputs} values per sample")
        extra = extra.to(x.dtype)
        if self.architecture == "mlp":
            return self.net(torch.cat([x.flatten(1), extra], dim=1))  # type: ignore[no-any-return]
        planes = extra[:, :, None, None].expand(-1, -1, *x.shape[2:])
        return self.net(torch.cat([x, planes], dim=1))  # type: ignore[no-any-return]


def build_encoder(config: BackboneConfig, extra_inputs: int = 0) -> Encoder:
    """Encoder ``(B, *input_shape) [+ (B, extra_inputs)] → (B, latent_dim)`` as configured."""
    return Encoder(config, extra_inputs)


def build_decoder(config: BackboneConfig, extra_inputs: int = 0) -> nn.Sequential:
    """Decoder ``(B, latent_dim + extra_inputs) → (B, *input_shape)`` mirroring :func:`build_encoder`."""
    activation, batch_norm = config.activation, config.batch_norm
    output = config.resolved_output_activation
    code_width = config.latent_dim + extra_inputs
    if config.architecture == "mlp":
        widths = (code_width, *reversed(config.hidden_dims), math.prod(config.input_shape))
        return nn.Sequential(
            mlp(widths, activation=activation, batch_norm=batch_norm, final_activation=output),
            nn.Unflatten(1, config.input_shape),
        )
    stages = plan_conv_stages(config.input_shape, config.used_channels, config.kernel_size)  # type: ignore[arg-type]
    last = stages[-1]
    map_shape = (last.out_channels, *last.out_size)
    return nn.Sequential(
        nn.Linear(code_width, math.prod(map_shape)),
        make_activation(config.activation),
        nn.Unflatten(1, map_shape),
        conv_decoder(stages, activation=activation, batch_norm=batch_norm, final_activation=output),
    )


def check_labels(labels: Tensor | None, n_classes: int, batch_size: int, *, name: str, model: str) -> Tensor:
    """Return ``labels`` as int64 ``(B,)`` after checking presence, shape and range.

    Raises:
        DataError: Labels are missing, not integers, or outside ``[0, n_classes)``.
        ShapeError: The labels do not have shape ``(batch_size,)``.
    """
    if labels is None:
        raise DataError(
            f"{model} needs {name} in the batch (y of shape (B,) with values in [0, {n_classes})); got none"
        )
    if not isinstance(labels, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(labels).__name__}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise DataError(f"{name} must be integer class indices; got dtype {labels.dtype}")
    if tuple(labels.shape) != (batch_size,):
        raise ShapeError(f"{name} must have shape ({batch_size},); got {tuple(labels.shape)}")
    if batch_size and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise DataError(
            f"{name} must lie in [0, {n_classes}); got values from {int(labels.min())} to {int(labels.max())}"
        )
    return labels.long()


def as_one_hot(condition: Tensor | None, n_classes: int, batch_size: int, *, model: str) -> Tensor:
    """Turn a condition (class indices ``(B,)`` or one-hot/soft labels ``(B, n_classes)``) into floats.

    Raises:
        DataError: The condition is missing or its indices are out of range.
        ShapeError: Its shape is neither ``(B,)`` nor ``(B, n_classes)``.
    """
    if condition is not None and condition.is_floating_point():
        if tuple(condition.shape) != (batch_size, n_classes):
            raise ShapeError(
                f"condition must be class indices ({batch_size},) or one-hot ({batch_size}, {n_classes}); "
                f"got {tuple(condition.shape)}"
            )
        return condition
    labels = check_labels(condition, n_classes, batch_size, name="condition (class labels)", model=model)
    return F.one_hot(labels, n_classes).float()

"""The one architecture config of the families with an ``mlp``/``conv`` switch, and label handling.

:class:`ArchitectureConfig` holds the encoder/decoder fields (the VAE, CVAE, AAE, CAAE and multi-decoder
configs extend it); its :meth:`~ArchitectureConfig.backbone` is the :class:`~aekit.nn.backbone.BackboneSpec`
that :mod:`aekit.nn.backbone`, the one encoder/decoder builder, takes. The deterministic ``mlp`` and
``conv`` autoencoders describe their backbones with the same spec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, Self

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aekit.config import check_choice, check_positive
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.losses.functional import RECONSTRUCTION_LOSSES, Reconstruction
from aekit.models.base import ModelConfig
from aekit.nn.backbone import Architecture, BackboneSpec, build_encoder, encoder_input
from aekit.nn.layers import ACTIVATIONS

__all__ = [
    "AnySizeUNetConfig",
    "ArchitectureConfig",
    "BackboneConfig",
    "Encoder",
    "as_one_hot",
    "check_labels",
]


@dataclasses.dataclass(frozen=True)
class AnySizeUNetConfig(ModelConfig):
    """The network part of the configs of fully convolutional image-to-image families
    (:class:`aekit.nn.unet.UNet` on a pixel-unshuffled image; they take images of any size).

    Attributes:
        input_shape: ``(C, H, W)`` of the training patches.
        channels: U-Net feature width per level, finest first.
        convs_per_block: 3×3 convolutions per level on each side of the U.
        unshuffle: Pixel-unshuffle factor before the U-Net (1 = none).
    """

    channels: tuple[int, ...] = (64, 128, 256)
    convs_per_block: int = 2
    unshuffle: int = 2

    def validate(self) -> None:
        super().validate()
        if len(self.input_shape) != 3:
            raise ConfigError(f"input_shape must be (C, H, W) for this family; got {self.input_shape!r}")
        if not self.channels:
            raise ConfigError("channels must name at least one level")
        for width in self.channels:
            check_positive("channels entries", width)
        check_positive("convs_per_block", self.convs_per_block)
        check_positive("unshuffle", self.unshuffle)


@dataclasses.dataclass(frozen=True)
class ArchitectureConfig(ModelConfig):
    """Encoder/decoder fields of the families with an ``mlp``/``conv`` switch.

    Attributes:
        latent_dim: Size of the code.
        architecture: ``mlp`` (any input shape) or ``conv`` (images ``(C, H, W)``).
        hidden_dims: Hidden widths of the MLP encoder; the decoder mirrors them; ``mlp`` only.
        channels: Stage channels of the conv encoder (stages that do not fit the image are dropped);
            ``conv`` only.
        kernel_size: Odd kernel size of the strided convolutions; ``conv`` only.
        activation: Hidden activation.
        batch_norm: Batch normalisation after hidden layers.
        dense_dims: Widths of fully connected layers between the last feature map and the code, mirrored
            in the decoder; ``conv`` only. ``()`` is one linear layer; ``None`` (the default) chooses by
            the squeeze (see :func:`aekit.nn.backbone.bottleneck_dims`). Model folders saved before this
            field existed load with ``()``, the layout they were trained with.
    """

    latent_dim: int = 32
    architecture: Architecture = "mlp"
    hidden_dims: tuple[int, ...] = (256, 128)
    channels: tuple[int, ...] = (32, 64)
    kernel_size: int = 3
    activation: str = "relu"
    batch_norm: bool = False
    dense_dims: tuple[int, ...] | None = None

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        check_choice("architecture", self.architecture, ("mlp", "conv"))
        check_choice("activation", self.activation, ACTIVATIONS)
        for width in self.hidden_dims:
            check_positive("hidden_dims entries", width)
        for width in self.dense_dims or ():
            check_positive("dense_dims entries", width)
        if self.architecture == "conv":
            if len(self.input_shape) != 3:
                raise ConfigError(
                    f"input_shape must be (C, H, W) for architecture='conv'; got {self.input_shape!r} "
                    "(architecture 'conv' needs input_shape images; use 'mlp' for vectors)"
                )
            if not self.channels:
                raise ConfigError("channels must name at least one stage")
            for width in self.channels:
                check_positive("channels entries", width)
            self.backbone().stages()

    @classmethod
    def from_saved(cls, data: Mapping[str, Any]) -> Self:
        """The config of a saved model folder: one saved before ``dense_dims`` existed gets ``()``."""
        values = dict(data)
        values.setdefault("dense_dims", ())
        return cls.from_dict(values)

    def backbone(self) -> BackboneSpec:
        """The encoder/decoder the builder makes for this config."""
        return BackboneSpec(
            input_shape=self.input_shape,
            latent_dim=self.latent_dim,
            architecture=self.architecture,
            hidden_dims=self.hidden_dims,
            channels=self.channels,
            kernel_size=self.kernel_size,
            activation=self.activation,
            batch_norm=self.batch_norm,
            dense_dims=self.dense_dims,
        )

    @property
    def used_channels(self) -> tuple[int, ...]:
        """The conv stages that fit the image: at most ``log2(min(H, W) / 2)``, at least one."""
        return self.backbone().used_channels

    @property
    def used_dense_dims(self) -> tuple[int, ...]:
        """The dense layers of the conv bottleneck (``dense_dims`` or the choice by the squeeze)."""
        return self.backbone().code_dims if self.architecture == "conv" else ()


@dataclasses.dataclass(frozen=True)
class BackboneConfig(ArchitectureConfig):
    """:class:`ArchitectureConfig` with a reconstruction loss (the AAE and multi-decoder families).

    Attributes:
        reconstruction: ``mse``, ``bce`` (data in [0, 1]) or ``l1``.
        output_activation: ``sigmoid``, ``identity``, ``tanh``, or ``auto`` (sigmoid for bce, else identity).
    """

    reconstruction: Reconstruction = "mse"
    output_activation: Literal["auto", "sigmoid", "identity", "tanh"] = "auto"

    def validate(self) -> None:
        super().validate()
        check_choice("reconstruction", self.reconstruction, RECONSTRUCTION_LOSSES)
        check_choice("output_activation", self.output_activation, ("auto", "sigmoid", "identity", "tanh"))

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

    def __init__(self, spec: BackboneSpec, extra_inputs: int = 0) -> None:
        super().__init__()
        self.extra_inputs = extra_inputs
        self.architecture = spec.architecture
        self.net = build_encoder(spec, extra_inputs=extra_inputs, out_features=spec.latent_dim)

    def forward(self, x: Tensor, extra: Tensor | None = None) -> Tensor:
        """Codes ``(B, latent_dim)`` of ``x``, with ``extra`` ``(B, extra_inputs)`` when configured."""
        if self.extra_inputs == 0:
            extra = None
        elif extra is None:
            raise DataError(f"this encoder needs an extra input of {self.extra_inputs} values per sample")
        return self.net(encoder_input(x, extra, self.architecture))


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

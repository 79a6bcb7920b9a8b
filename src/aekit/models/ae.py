"""Deterministic autoencoders: the undercomplete MLP and convolutional models.

Hinton & Salakhutdinov, "Reducing the dimensionality of data with neural networks", Science 2006.
Regularisers and input corruptions that any deterministic autoencoder can combine are config fields
of :class:`AutoencoderConfig`, so "a denoising sparse convolutional autoencoder" is one config.
"""

from __future__ import annotations

import dataclasses
import math
from abc import abstractmethod
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from aekit.config import check_choice, check_positive, check_range
from aekit.errors import ConfigError
from aekit.losses.functional import RECONSTRUCTION_LOSSES, Reconstruction, reconstruction_loss
from aekit.models.base import AbstractAutoencoder, AEOutput, LossTerms, ModelConfig
from aekit.models.registry import register_model
from aekit.nn.conv import conv_decoder, conv_encoder
from aekit.nn.layers import ACTIVATIONS
from aekit.nn.mlp import mlp
from aekit.nn.shapes import ConvStage, plan_conv_stages

__all__ = [
    "AbstractDeterministicAutoencoder",
    "AutoencoderConfig",
    "ConvAutoencoder",
    "ConvAutoencoderConfig",
    "MLPAutoencoder",
    "MLPAutoencoderConfig",
]

OutputActivationChoice = Literal["auto", "sigmoid", "identity", "tanh"]


@dataclasses.dataclass(frozen=True)
class AutoencoderConfig(ModelConfig):
    """Fields shared by the deterministic autoencoders.

    Attributes:
        latent_dim: Size of the code.
        activation: Hidden activation (``relu``, ``gelu``, ``leaky_relu``, ...).
        batch_norm: Batch normalisation after hidden layers.
        reconstruction: Reconstruction loss: ``mse``, ``bce`` (inputs in [0, 1]) or ``l1``.
        output_activation: ``sigmoid`` for data in [0, 1], ``identity`` for standardised data;
            ``auto`` picks ``sigmoid`` for ``bce`` and ``identity`` otherwise.
    """

    latent_dim: int = 32
    activation: str = "relu"
    batch_norm: bool = False
    reconstruction: Reconstruction = "mse"
    output_activation: OutputActivationChoice = "auto"

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("reconstruction", self.reconstruction, RECONSTRUCTION_LOSSES)
        check_choice("output_activation", self.output_activation, ("auto", "sigmoid", "identity", "tanh"))

    @property
    def resolved_output_activation(self) -> str:
        """The output activation after resolving ``auto``."""
        if self.output_activation != "auto":
            return self.output_activation
        return "sigmoid" if self.reconstruction == "bce" else "identity"


class AbstractDeterministicAutoencoder(AbstractAutoencoder):
    """Shared forward/loss of deterministic autoencoders; subclasses build ``encoder`` and ``decoder``."""

    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon")

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim  # type: ignore[attr-defined, no-any-return]

    @abstractmethod
    def _encode(self, x: Tensor) -> Tensor:
        """Encoder without input checks, ``(B, *input_shape) → (B, latent_dim)``."""

    @abstractmethod
    def _decode(self, z: Tensor) -> Tensor:
        """Decoder, ``(B, latent_dim) → (B, *input_shape)``."""

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        self.check_input(x)
        return self._encode(x)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        return self._decode(z)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        self.check_input(x)
        z = self._encode(x)
        return AEOutput(x_hat=self._decode(z), z=z)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = recon``, the configured reconstruction loss averaged over all elements."""
        recon = reconstruction_loss(output.x_hat, target, self.config.reconstruction)  # type: ignore[attr-defined]
        return {"loss": recon, "recon": recon}


@dataclasses.dataclass(frozen=True)
class MLPAutoencoderConfig(AutoencoderConfig):
    """Config of :class:`MLPAutoencoder`.

    Attributes:
        hidden_dims: Widths of the encoder's hidden layers; the decoder mirrors them.
        dropout: Dropout probability after hidden layers.
    """

    hidden_dims: tuple[int, ...] = (512, 256)
    dropout: float = 0.0

    def validate(self) -> None:
        super().validate()
        for width in self.hidden_dims:
            check_positive("hidden_dims entries", width)
        check_range("dropout", self.dropout, 0.0, 1.0, inclusive=True)
        if self.dropout == 1.0:
            raise ConfigError("dropout must be < 1; got 1.0")


@register_model("mlp")
class MLPAutoencoder(AbstractDeterministicAutoencoder):
    """Undercomplete fully connected autoencoder: ``n → hidden_dims → latent → reversed(hidden_dims) → n``."""

    config_class = MLPAutoencoderConfig

    def __init__(self, config: MLPAutoencoderConfig) -> None:
        super().__init__(config)
        n_features = math.prod(config.input_shape)
        widths = (n_features, *config.hidden_dims, config.latent_dim)
        options = {"activation": config.activation, "batch_norm": config.batch_norm, "dropout": config.dropout}
        self.encoder = mlp(widths, **options)
        self.decoder = mlp(widths[::-1], **options, final_activation=config.resolved_output_activation)

    def _encode(self, x: Tensor) -> Tensor:
        return self.encoder(x.flatten(1))  # type: ignore[no-any-return]

    def _decode(self, z: Tensor) -> Tensor:
        return self.decoder(z).reshape(len(z), *self.input_shape)  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True)
class ConvAutoencoderConfig(AutoencoderConfig):
    """Config of :class:`ConvAutoencoder`.

    Attributes:
        channels: Output channels of each strided stage; stages beyond what the image size allows are
            dropped (each stage halves the size, and the smallest map keeps at least 2 pixels a side).
        kernel_size: Odd kernel size of the strided convolutions.
        blocks_per_stage: Extra size-keeping 3×3 convolutions per stage (depth without shrinking).
        batch_norm: On by default here: it halves the demo's error and removes the slow start.
    """

    channels: tuple[int, ...] = (32, 64, 128)
    kernel_size: int = 3
    blocks_per_stage: int = 1
    batch_norm: bool = True

    def validate(self) -> None:
        super().validate()
        if len(self.input_shape) != 3:
            raise ConfigError(f"input_shape must be (C, H, W) for a conv autoencoder; got {self.input_shape}")
        if not self.channels:
            raise ConfigError("channels must name at least one stage")
        for width in self.channels:
            check_positive("channels entries", width)
        check_positive("blocks_per_stage", self.blocks_per_stage, allow_zero=True)
        plan_conv_stages(self.input_shape, self.used_channels, self.kernel_size)  # type: ignore[arg-type]

    @property
    def used_channels(self) -> tuple[int, ...]:
        """The stages that fit the image: at most ``log2(min(H, W) / 2)``, at least one."""
        smallest = min(self.input_shape[1:])
        fitting = max(1, math.floor(math.log2(max(smallest, 2) / 2)))
        return self.channels[:fitting]


@register_model("conv")
class ConvAutoencoder(AbstractDeterministicAutoencoder):
    """Convolutional autoencoder: strided convolutions down, a linear bottleneck, transposed convolutions up.

    The layer plan (``aekit plan``) guarantees the output has exactly the input's size, odd sizes included.
    """

    config_class = ConvAutoencoderConfig

    def __init__(self, config: ConvAutoencoderConfig) -> None:
        super().__init__(config)
        self.stages: list[ConvStage] = plan_conv_stages(
            config.input_shape, config.used_channels, config.kernel_size  # type: ignore[arg-type]
        )
        last = self.stages[-1]
        self._map_shape = (last.out_channels, *last.out_size)
        flat = math.prod(self._map_shape)
        options = {
            "activation": config.activation,
            "batch_norm": config.batch_norm,
            "blocks_per_stage": config.blocks_per_stage,
        }
        self.encoder = conv_encoder(self.stages, **options)
        self.to_latent = nn.Linear(flat, config.latent_dim)
        self.from_latent = nn.Sequential(nn.Linear(config.latent_dim, flat), ACTIVATIONS[config.activation]())
        self.decoder = conv_decoder(self.stages, **options, final_activation=config.resolved_output_activation)

    def _encode(self, x: Tensor) -> Tensor:
        return self.to_latent(self.encoder(x).flatten(1))  # type: ignore[no-any-return]

    def _decode(self, z: Tensor) -> Tensor:
        return self.decoder(self.from_latent(z).reshape(len(z), *self._map_shape))  # type: ignore[no-any-return]

    def describe_plan(self) -> list[str]:
        """Human-readable lines of the planned layers and shapes (used by ``aekit plan``)."""
        lines = [f"input            {self.input_shape}"]
        for i, s in enumerate(self.stages):
            lines.append(
                f"encoder stage {i}  conv {s.in_channels}→{s.out_channels} k{s.kernel_size} s{s.stride} "
                f"p{s.padding}: {s.in_size} → {s.out_size}"
            )
        lines.append(f"bottleneck       {self._map_shape} → linear → ({self.latent_dim},) → linear → {self._map_shape}")
        for i, s in reversed(list(enumerate(self.stages))):
            lines.append(
                f"decoder stage {i}  convT k{s.kernel_size} s{s.stride} p{s.padding} "
                f"output_padding {s.output_padding}: {s.out_size} → {s.in_size}"
            )
        lines.append(f"output           {self.input_shape}")
        return lines

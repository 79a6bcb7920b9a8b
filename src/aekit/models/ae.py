"""Deterministic autoencoders: the undercomplete MLP and convolutional models and their regularisers.

Hinton & Salakhutdinov, "Reducing the dimensionality of data with neural networks", Science 2006.
Regularisers and input corruptions that any deterministic autoencoder can combine are config fields
of :class:`AutoencoderConfig`, so "a denoising sparse convolutional autoencoder" is one config:

* sparse (Ng, "Sparse autoencoder", CS294A lecture notes, 2011): an L1 or KL penalty on the code;
* contractive (Rifai et al., "Contractive auto-encoders", ICML 2011): the encoder Jacobian's squared
  Frobenius norm;
* denoising (Vincent et al., "Extracting and composing robust features with denoising autoencoders",
  ICML 2008): ``prepare_batch`` corrupts the input, the target stays clean;
* structural similarity (Wang et al., IEEE TIP 2004; used as a training loss by Zhao et al., "Loss
  functions for image restoration with neural networks", IEEE TCI 2017): ``1 − SSIM(x̂, x)`` added to the
  pixel loss, for images.

Every deterministic autoencoder returns the same loss terms whatever its config,
``("loss", "recon", "sparsity", "contractive", "ssim")``; a switched-off term is reported as 0.
"""

from __future__ import annotations

import dataclasses
import math
from abc import abstractmethod
from typing import ClassVar, Literal, TypeVar

import torch
from torch import Tensor, nn

from aekit.config import check_choice, check_positive, check_range
from aekit.data.corruptions import apply_corruption
from aekit.errors import ConfigError, ShapeError
from aekit.losses.functional import (
    RECONSTRUCTION_LOSSES,
    Reconstruction,
    kl_sparsity,
    l1_sparsity,
    reconstruction_loss,
)
from aekit.losses.regularizers import contractive_exact, jacobian_frobenius_sq, jacobian_projection_sq
from aekit.losses.ssim import ssim_loss
from aekit.models.base import (
    AbstractAutoencoder,
    AEOutput,
    Batch,
    ErrorKind,
    LossTerms,
    ModelConfig,
    PreparedBatch,
)
from aekit.models.registry import register_model
from aekit.nn.backbone import DENSE_SQUEEZE, BackboneSpec, decoder_parts, encoder_parts, fitting_channels
from aekit.nn.layers import ACTIVATIONS, make_activation
from aekit.nn.shapes import ConvStage

__all__ = [
    "DENSE_SQUEEZE",
    "AbstractDeterministicAutoencoder",
    "AutoencoderConfig",
    "ConvAutoencoder",
    "ConvAutoencoderConfig",
    "MLPAutoencoder",
    "MLPAutoencoderConfig",
    "check_code",
    "fitting_channels",
]

OutputActivationChoice = Literal["auto", "sigmoid", "identity", "tanh"]
LatentActivation = Literal["identity", "sigmoid", "tanh", "relu"]
Sparsity = Literal["none", "l1", "kl"]
ContractiveMethod = Literal["exact", "autograd", "projection"]
Corruption = Literal["none", "gaussian", "mask", "salt_pepper", "occlusion"]

LATENT_ACTIVATIONS: tuple[str, ...] = ("identity", "sigmoid", "tanh", "relu")
SPARSITY_KINDS: tuple[str, ...] = ("none", "l1", "kl")
CONTRACTIVE_METHODS: tuple[str, ...] = ("exact", "autograd", "projection")
CORRUPTION_KINDS: tuple[str, ...] = ("none", "gaussian", "mask", "salt_pepper", "occlusion")


def check_code(z: Tensor, latent_dim: int, name: str = "z") -> None:
    """Raise a clear error unless ``z`` is a floating-point code batch ``(B, latent_dim)``.

    Raises:
        TypeError: ``z`` is not a floating-point tensor.
        ShapeError: ``z`` does not have shape ``(B, latent_dim)``.
    """
    if not isinstance(z, Tensor) or not z.is_floating_point():
        described = f"dtype {z.dtype}" if isinstance(z, Tensor) else type(z).__name__
        raise TypeError(f"{name} must be a floating-point tensor; got {described}")
    if z.dim() != 2 or z.shape[1] != latent_dim:
        raise ShapeError(f"{name} must have shape (B, {latent_dim}); got {tuple(z.shape)}")


@dataclasses.dataclass(frozen=True)
class AutoencoderConfig(ModelConfig):
    """Fields shared by the deterministic autoencoders, regularisers and input corruption included.

    Attributes:
        latent_dim: Size of the code.
        activation: Hidden activation (``relu``, ``gelu``, ``leaky_relu``, ...).
        batch_norm: Batch normalisation after hidden layers.
        reconstruction: Reconstruction loss: ``mse``, ``bce`` (inputs in [0, 1]) or ``l1``.
        output_activation: ``sigmoid`` for data in [0, 1], ``identity`` for standardised data;
            ``auto`` picks ``sigmoid`` for ``bce`` and ``identity`` otherwise.
        latent_activation: Activation of the code ``h``: ``identity`` (a linear bottleneck),
            ``sigmoid`` (codes in (0, 1), as in the classic sparse and contractive autoencoders),
            ``tanh`` or ``relu``.
        sparsity: Penalty on code activations: ``none``; ``l1``, ``mean_{b,j} |h_bj|``; or ``kl``,
            ``Σ_j KL(ρ ‖ ρ̂_j)`` with ``ρ̂_j`` the batch mean of ``sigmoid(a_j)``, ``a_j`` the code unit's
            pre-activation (the KL needs rates in (0, 1); for sigmoid codes ``sigmoid(a_j) = h_j``).
        sparsity_weight: Weight of the sparsity term in ``loss``.
        sparsity_target: Target mean firing rate ρ of the ``kl`` penalty, in (0, 1).
        contractive_weight: Weight of ``‖∂h/∂x‖²_F`` in ``loss``; 0 switches the term off. It is
            computed in training mode only (it needs input gradients); evaluation reports 0.
        contractive_method: ``exact`` (closed form, only for an encoder that is one sigmoid layer:
            an ``mlp`` with ``hidden_dims=()`` and ``latent_activation="sigmoid"``), ``autograd``
            (exact for any encoder, one backward pass per code unit) or ``projection`` (an unbiased
            estimate from ``contractive_projections`` random projections; cost independent of
            ``latent_dim``).
        contractive_projections: Random projections per sample of the ``projection`` method.
        corruption: Input corruption of a denoising autoencoder: ``none``, ``gaussian``, ``mask``,
            ``salt_pepper`` or ``occlusion`` (see :mod:`aekit.data.corruptions`); the target stays clean.
        corruption_strength: Noise std for ``gaussian``; pixel fraction for ``mask`` and
            ``salt_pepper`` (0.3–0.5 are usual); ignored by ``occlusion`` (one 2-row band per image).
        ssim_weight: Weight of ``1 − SSIM(x̂, x)`` in ``loss`` (11×11 Gaussian window, data range 1:
            images in [0, 1]); needs an image ``input_shape`` ``(C, H, W)``; 0 switches the term off.
            Pixel losses average away edges; the SSIM term keeps local contrast and structure.
    """

    latent_dim: int = 32
    activation: str = "relu"
    batch_norm: bool = False
    reconstruction: Reconstruction = "mse"
    output_activation: OutputActivationChoice = "auto"
    latent_activation: LatentActivation = "identity"
    sparsity: Sparsity = "none"
    sparsity_weight: float = 1e-3
    sparsity_target: float = 0.05
    contractive_weight: float = 0.0
    contractive_method: ContractiveMethod = "autograd"
    contractive_projections: int = 1
    corruption: Corruption = "none"
    corruption_strength: float = 0.3
    ssim_weight: float = 0.0

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("reconstruction", self.reconstruction, RECONSTRUCTION_LOSSES)
        check_choice("output_activation", self.output_activation, ("auto", "sigmoid", "identity", "tanh"))
        check_choice("latent_activation", self.latent_activation, LATENT_ACTIVATIONS)
        check_choice("sparsity", self.sparsity, SPARSITY_KINDS)
        check_positive("sparsity_weight", self.sparsity_weight, allow_zero=True)
        check_positive("sparsity_target", self.sparsity_target)
        check_range("sparsity_target", self.sparsity_target, 0.0, 1.0, inclusive=False)
        check_positive("contractive_weight", self.contractive_weight, allow_zero=True)
        check_choice("contractive_method", self.contractive_method, CONTRACTIVE_METHODS)
        projections = self.contractive_projections
        if isinstance(projections, bool) or not isinstance(projections, int) or projections < 1:
            raise ConfigError(f"contractive_projections must be a positive integer; got {projections!r}")
        if self.contractive_method == "exact" and not self.encoder_is_one_sigmoid_layer:
            raise ConfigError(
                "contractive_method='exact' needs an encoder that is one sigmoid layer (an 'mlp' with "
                f"hidden_dims=() and latent_activation='sigmoid'); got {self.describe_encoder()}. "
                "Use contractive_method='autograd' (exact for any encoder) or 'projection'"
            )
        self._validate_corruption()
        check_positive("ssim_weight", self.ssim_weight, allow_zero=True)
        if self.ssim_weight and len(self.input_shape) != 3:
            raise ConfigError(
                f"ssim_weight > 0 compares images, so input_shape must be (C, H, W); got {self.input_shape}"
            )

    def _validate_corruption(self) -> None:
        check_choice("corruption", self.corruption, CORRUPTION_KINDS)
        strength = self.corruption_strength
        if isinstance(strength, bool) or not isinstance(strength, int | float) or not math.isfinite(strength):
            raise ConfigError(f"corruption_strength must be a finite number; got {strength!r}")
        if self.corruption == "gaussian":
            check_positive("corruption_strength (the noise std)", strength, allow_zero=True)
        elif self.corruption in ("mask", "salt_pepper"):
            check_range("corruption_strength (the pixel fraction)", strength, 0.0, 1.0)
        elif self.corruption == "occlusion" and (len(self.input_shape) < 2 or self.input_shape[-2] < 2):
            raise ConfigError(
                "corruption='occlusion' covers a 2-row band, so input_shape must be an image with "
                f"height ≥ 2, e.g. (C, H, W); got {self.input_shape}"
            )

    @property
    def encoder_is_one_sigmoid_layer(self) -> bool:
        """Whether the encoder is ``h = sigmoid(W x + b)``, the case of the closed-form contractive term."""
        return False

    def describe_encoder(self) -> str:
        """A few words on the configured encoder, for error messages."""
        return f"the encoder of a {type(self).__name__}"

    @property
    def resolved_output_activation(self) -> str:
        """The output activation after resolving ``auto``."""
        if self.output_activation != "auto":
            return self.output_activation
        return "sigmoid" if self.reconstruction == "bce" else "identity"


AutoencoderConfigT = TypeVar("AutoencoderConfigT", bound=AutoencoderConfig)


class AbstractDeterministicAutoencoder(AbstractAutoencoder[AutoencoderConfigT]):
    """Shared forward, loss, regularisers and input corruption of deterministic autoencoders.

    Subclasses build the layers and implement :meth:`_pre_code` (input → code pre-activation ``a``)
    and :meth:`_decode`; the code is ``h = latent_activation(a)``.
    """

    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon", "sparsity", "contractive", "ssim")

    def __init__(self, config: AutoencoderConfigT) -> None:
        super().__init__(config)
        self.code_activation = make_activation(config.latent_activation)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def error_kind(self) -> ErrorKind:
        return self.config.reconstruction

    @abstractmethod
    def _pre_code(self, x: Tensor) -> Tensor:
        """Encoder up to the code's activation, no input checks: ``(B, *input_shape) → (B, latent_dim)``."""

    @abstractmethod
    def _decode(self, z: Tensor) -> Tensor:
        """Decoder, ``(B, latent_dim) → (B, *input_shape)``."""

    def _single_layer_weight(self) -> Tensor:
        """Weight ``W`` of a one-layer encoder ``h = σ(W x + b)``; other encoders have none."""
        raise ConfigError(f"the encoder of {type(self).__name__} is not a single layer")

    def _encode(self, x: Tensor) -> Tensor:
        return self.code_activation(self._pre_code(x))

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        self.check_input(x)
        return self._encode(x)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        check_code(z, self.latent_dim)
        return self._decode(z)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        """Encode and decode ``x`` ``(B, *input_shape)``, with the ``sparsity`` and ``contractive`` penalties.

        The contractive penalty needs input gradients, so it is computed in training mode only (and
        only when ``contractive_weight > 0``); otherwise it is reported as 0.
        """
        self.check_input(x)
        config = self.config
        if self.training and config.contractive_weight > 0:
            with torch.enable_grad():
                inputs = x if x.requires_grad else x.detach().requires_grad_(True)
                pre_code = self._pre_code(inputs)
                z = self.code_activation(pre_code)
                contractive = self._contractive(inputs, z, None)
        else:
            pre_code = self._pre_code(x)
            z = self.code_activation(pre_code)
            contractive = z.new_zeros(())
        penalties = {"sparsity": self._sparsity(z, pre_code), "contractive": contractive}
        return AEOutput(x_hat=self._decode(z), z=z, penalties=penalties)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = recon + sparsity_weight·sparsity + contractive_weight·contractive + ssim_weight·ssim``.

        ``recon`` is the configured reconstruction loss averaged over all elements; the penalties are
        the unweighted values :meth:`forward` computed; ``ssim = 1 − SSIM(x̂, x)`` (0 when switched off).
        """
        config = self.config
        recon = reconstruction_loss(output.x_hat, target, config.reconstruction)
        sparsity = output.penalties.get("sparsity", recon.new_zeros(()))
        contractive = output.penalties.get("contractive", recon.new_zeros(()))
        total = recon
        if config.sparsity_weight:  # switched-off penalties stay out of the graph
            total = total + config.sparsity_weight * sparsity
        if config.contractive_weight:
            total = total + config.contractive_weight * contractive
        structural = recon.new_zeros(())
        if config.ssim_weight:
            structural = ssim_loss(output.x_hat, target)
            total = total + config.ssim_weight * structural
        return {
            "loss": total,
            "recon": recon,
            "sparsity": sparsity,
            "contractive": contractive,
            "ssim": structural,
        }

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(corrupted inputs, clean inputs, None)``; no corruption for ``corruption="none"``.

        Raises:
            TypeError: A corruption is configured but ``generator`` is not a ``torch.Generator``.
        """
        inputs, _labels = batch
        config = self.config
        if config.corruption == "none":
            return inputs, inputs, None
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"generator must be a torch.Generator to corrupt inputs (corruption={config.corruption!r}); "
                f"got {type(generator).__name__}"
            )
        corrupted = apply_corruption(config.corruption, inputs, generator, config.corruption_strength)
        return corrupted, inputs, None

    def sparsity_penalty(self, x: Tensor) -> Tensor:
        """The unweighted sparsity penalty of the codes of ``x`` ``(B, *input_shape)``; 0 when off."""
        self.check_input(x)
        pre_code = self._pre_code(x)
        return self._sparsity(self.code_activation(pre_code), pre_code)

    def contractive_penalty(self, x: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """``mean_b ‖∂h(x_b) / ∂x_b‖²_F`` at ``x`` ``(B, *input_shape)`` by the configured method.

        Computed whatever ``contractive_weight`` is and in either mode; the result is differentiable.

        Args:
            x: Inputs ``(B, *input_shape)``.
            generator: Source of the random directions of the ``projection`` method (global RNG if None).
        """
        self.check_input(x)
        with torch.enable_grad():
            inputs = x if x.requires_grad else x.detach().requires_grad_(True)
            return self._contractive(inputs, self._encode(inputs), generator)

    def _sparsity(self, z: Tensor, pre_code: Tensor) -> Tensor:
        config = self.config
        if config.sparsity == "l1":
            return l1_sparsity(z)
        if config.sparsity == "kl":
            # KL needs firing rates in (0, 1): sigmoid of the pre-activation is the code itself for
            # sigmoid codes, and a squashed firing probability for unbounded ones.
            return kl_sparsity(torch.sigmoid(pre_code), config.sparsity_target)
        return z.new_zeros(())

    def _contractive(self, inputs: Tensor, z: Tensor, generator: torch.Generator | None) -> Tensor:
        config = self.config
        if config.contractive_method == "exact":
            return contractive_exact(z, self._single_layer_weight())
        if config.contractive_method == "projection":
            return jacobian_projection_sq(
                inputs, z, n_projections=config.contractive_projections, generator=generator
            )
        return jacobian_frobenius_sq(inputs, z)


@dataclasses.dataclass(frozen=True)
class MLPAutoencoderConfig(AutoencoderConfig):
    """Config of :class:`MLPAutoencoder`.

    Attributes:
        hidden_dims: Widths of the encoder's hidden layers; the decoder mirrors them. ``()`` gives a
            one-layer encoder (with identity activations: the linear autoencoder that spans PCA's subspace).
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

    @property
    def encoder_is_one_sigmoid_layer(self) -> bool:
        return not self.hidden_dims and self.latent_activation == "sigmoid"

    def describe_encoder(self) -> str:
        activation = self.latent_activation
        return f"an 'mlp' with hidden_dims={self.hidden_dims} and latent_activation={activation!r}"

    def backbone(self) -> BackboneSpec:
        """The encoder/decoder the builder makes for this config (:mod:`aekit.nn.backbone`)."""
        return BackboneSpec(
            input_shape=self.input_shape,
            latent_dim=self.latent_dim,
            architecture="mlp",
            hidden_dims=self.hidden_dims,
            activation=self.activation,
            batch_norm=self.batch_norm,
            dropout=self.dropout,
        )


@register_model("mlp")
class MLPAutoencoder(AbstractDeterministicAutoencoder[MLPAutoencoderConfig]):
    """Undercomplete fully connected autoencoder: ``n → hidden_dims → latent → reversed(hidden_dims) → n``."""

    config_class = MLPAutoencoderConfig

    def __init__(self, config: MLPAutoencoderConfig) -> None:
        super().__init__(config)
        spec = config.backbone()
        _features, self.encoder = encoder_parts(spec, out_features=config.latent_dim)
        self.decoder, _unflatten = decoder_parts(spec, output_activation=config.resolved_output_activation)

    def _pre_code(self, x: Tensor) -> Tensor:
        return self.encoder(x.flatten(1))

    def _decode(self, z: Tensor) -> Tensor:
        return self.decoder(z).reshape(-1, *self.input_shape)

    def _single_layer_weight(self) -> Tensor:
        if len(self.encoder) != 1:
            return super()._single_layer_weight()
        layer = self.encoder[0]
        if not isinstance(layer, nn.Linear):
            return super()._single_layer_weight()
        return layer.weight


@dataclasses.dataclass(frozen=True)
class ConvAutoencoderConfig(AutoencoderConfig):
    """Config of :class:`ConvAutoencoder`.

    Attributes:
        channels: Output channels of each strided stage; stages beyond what the image size allows are
            dropped (each stage halves the size, and the smallest map keeps at least 2 pixels a side).
        kernel_size: Odd kernel size of the strided convolutions.
        blocks_per_stage: Extra size-keeping 3×3 convolutions per stage (depth without shrinking). Off by
            default: on MNIST the plain stages already reach 0.17× PCA's error at k = 32 in 15 epochs
            (``benchmarks/reconstruction.py``) and train twice as fast.
        batch_norm: On by default here: it halves the demo's error and removes the slow start. With a
            contractive penalty, switch it off: batch statistics couple the samples of a batch, so the
            penalty is then no longer each sample's own Jacobian norm.
        dense_dims: Widths of fully connected hidden layers between the last feature map and the code,
            mirrored in the decoder; ``()`` maps the feature map to the code with one linear layer.
            ``None`` (the default) chooses by the squeeze (see :attr:`used_dense_dims`).
    """

    channels: tuple[int, ...] = (32, 64, 128)
    kernel_size: int = 3
    blocks_per_stage: int = 0
    batch_norm: bool = True
    dense_dims: tuple[int, ...] | None = None

    def validate(self) -> None:
        if len(self.input_shape) != 3:
            raise ConfigError(
                f"input_shape must be (C, H, W) for a conv autoencoder; got {self.input_shape}"
                + (
                    " (vectors such as table rows: use the 'mlp' family)"
                    if len(self.input_shape) == 1
                    else ""
                )
            )
        super().validate()
        if not self.channels:
            raise ConfigError("channels must name at least one stage")
        for width in self.channels:
            check_positive("channels entries", width)
        check_positive("blocks_per_stage", self.blocks_per_stage, allow_zero=True)
        for width in self.dense_dims or ():
            check_positive("dense_dims entries", width)
        self.backbone().stages()

    def describe_encoder(self) -> str:
        return "a 'conv' encoder"

    def backbone(self) -> BackboneSpec:
        """The encoder/decoder the builder makes for this config (:mod:`aekit.nn.backbone`)."""
        return BackboneSpec(
            input_shape=self.input_shape,
            latent_dim=self.latent_dim,
            architecture="conv",
            channels=self.channels,
            kernel_size=self.kernel_size,
            activation=self.activation,
            batch_norm=self.batch_norm,
            blocks_per_stage=self.blocks_per_stage,
            dense_dims=self.dense_dims,
        )

    @property
    def used_channels(self) -> tuple[int, ...]:
        """The stages that fit the image (see :func:`fitting_channels`)."""
        return fitting_channels(self.input_shape, self.channels)

    @property
    def feature_map_shape(self) -> tuple[int, ...]:
        """``(C, H, W)`` of the last encoder stage's output, the map the bottleneck flattens."""
        return self.backbone().feature_map_shape

    @property
    def used_dense_dims(self) -> tuple[int, ...]:
        """The dense layers of the bottleneck: ``dense_dims``, or when ``None`` a choice by the squeeze.

        One linear layer from the last feature map (``F`` values) to the code while the squeeze
        ``F / latent_dim`` is below :data:`DENSE_SQUEEZE`, steps through ``F / 4`` and ``F / 8`` beyond
        (:func:`aekit.nn.backbone.bottleneck_dims`, where the measurement is). The conv VAE, AAE and
        multi-decoder models follow the same rule.
        """
        return self.backbone().code_dims


@register_model("conv")
class ConvAutoencoder(AbstractDeterministicAutoencoder[ConvAutoencoderConfig]):
    """Convolutional autoencoder: strided convolutions down, a linear bottleneck, transposed convolutions up.

    The layer plan (``aekit plan``) guarantees the output has exactly the input's size, odd sizes included.
    """

    config_class = ConvAutoencoderConfig

    def __init__(self, config: ConvAutoencoderConfig) -> None:
        super().__init__(config)
        spec = config.backbone()
        self.stages: list[ConvStage] = spec.stages()
        self._map_shape = spec.feature_map_shape
        self.dense_dims = spec.code_dims
        self.encoder, self.to_latent = encoder_parts(spec, out_features=config.latent_dim)
        self.from_latent, self.decoder = decoder_parts(
            spec, output_activation=config.resolved_output_activation
        )

    def _pre_code(self, x: Tensor) -> Tensor:
        return self.to_latent(self.encoder(x).flatten(1))

    def _decode(self, z: Tensor) -> Tensor:
        return self.decoder(self.from_latent(z).reshape(-1, *self._map_shape))

    def describe_plan(self) -> list[str]:
        """Human-readable lines of the planned layers and shapes (used by ``aekit plan``)."""
        lines = [f"input            {self.input_shape}"]
        for i, s in enumerate(self.stages):
            lines.append(
                f"encoder stage {i}  conv {s.in_channels}→{s.out_channels} k{s.kernel_size} s{s.stride} "
                f"p{s.padding}: {s.in_size} → {s.out_size}"
            )
        shape = self._map_shape
        dense = "".join(f" → {width}" for width in self.dense_dims)
        back = "".join(f" → {width}" for width in reversed(self.dense_dims))
        lines.append(f"bottleneck       {shape}{dense} → ({self.latent_dim},){back} → {shape}")
        for i, s in reversed(list(enumerate(self.stages))):
            lines.append(
                f"decoder stage {i}  convT k{s.kernel_size} s{s.stride} p{s.padding} "
                f"output_padding {s.output_padding}: {s.out_size} → {s.in_size}"
            )
        lines.append(f"output           {self.input_shape}")
        return lines

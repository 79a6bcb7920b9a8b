"""The stacked autoencoder: a deep MLP autoencoder built from shallow ones, one layer at a time.

Bengio, Lamblin, Popovici, Larochelle, "Greedy layer-wise training of deep networks", NIPS 2007;
Vincent, Larochelle, Lajoie, Bengio, Manzagol, "Stacked denoising autoencoders", JMLR 2010.

Layer ``k`` of the stack is a shallow autoencoder: encoder ``h_{k+1} = a(W_k h_k + b_k)`` and decoder
``ĥ_k = a'(W'_k h_{k+1} + b'_k)``, where ``h_0 = x``. The whole stack encodes with layers ``0 … L−1`` and
decodes with their decoders in reverse order, so it is an ordinary deep MLP autoencoder once built.
The family declares ``fitting = "layerwise"``, so ``Trainer.fit`` (and ``aekit.fit``, ``aekit train``) first
trains each layer on the codes of the layers below (through :meth:`StackedAutoencoder.layer_autoencoders`),
then fine-tunes the whole stack.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from aekit.config import check_choice, check_positive, check_range
from aekit.errors import ConfigError, ShapeError
from aekit.losses.functional import RECONSTRUCTION_LOSSES, Reconstruction, reconstruction_loss
from aekit.models.base import (
    AbstractAutoencoder,
    AEOutput,
    Batch,
    ErrorKind,
    Fitting,
    LossTerms,
    ModelConfig,
    PreparedBatch,
)
from aekit.models.registry import register_model
from aekit.nn.layers import ACTIVATIONS
from aekit.nn.mlp import mlp

__all__ = ["StackedAutoencoder", "StackedAutoencoderConfig", "StackedLayerAutoencoder", "StackedLayerConfig"]


def _layer(n_in: int, n_out: int, activation: str) -> nn.Sequential:
    """One shallow layer ``Linear → activation`` (the MLP builder's one-layer stack)."""
    return mlp((n_in, n_out), final_activation=activation)


def _check_mask_fraction(value: float) -> None:
    check_range("pretrain_mask_fraction", value, 0.0, 1.0, inclusive=True)
    if value == 1.0:
        raise ConfigError("pretrain_mask_fraction must be < 1 (1 masks every input); got 1.0")


@dataclasses.dataclass(frozen=True)
class StackedAutoencoderConfig(ModelConfig):
    """Config of :class:`StackedAutoencoder`.

    Attributes:
        latent_dim: Width of the top layer (the code).
        hidden_dims: Widths of the layers between the input and the code; the stack has
            ``len(hidden_dims) + 1`` layers.
        activation: Activation of every encoder layer but the code layer (linear), and of every
            decoder layer but the output one. ``tanh`` (the default) or ``elu``: an upper layer's
            decoder outputs through it, and a ``relu`` output unit whose pre-activation turns negative
            gets no gradient again, which stalls greedy pretraining of the upper layers.
        reconstruction: Loss of the whole stack and of the bottom layer: ``mse``, ``bce``, ``l1``.
            Upper layers reconstruct hidden codes with ``mse``.
        output_activation: ``sigmoid``, ``identity``, ``tanh``; ``auto`` = sigmoid for bce, else identity.
        pretrain_mask_fraction: Fraction of each layer's inputs set to 0 during pretraining (the masking
            noise of stacked denoising autoencoders); 0 trains plain autoencoders.
    """

    latent_dim: int = 32
    hidden_dims: tuple[int, ...] = (256, 128)
    activation: str = "tanh"
    reconstruction: Reconstruction = "mse"
    output_activation: Literal["auto", "sigmoid", "identity", "tanh"] = "auto"
    pretrain_mask_fraction: float = 0.0

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        for width in self.hidden_dims:
            check_positive("hidden_dims entries", width)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("reconstruction", self.reconstruction, RECONSTRUCTION_LOSSES)
        check_choice("output_activation", self.output_activation, ("auto", "sigmoid", "identity", "tanh"))
        _check_mask_fraction(self.pretrain_mask_fraction)

    @property
    def widths(self) -> tuple[int, ...]:
        """``(n_features, *hidden_dims, latent_dim)``: layer ``k`` maps ``widths[k] → widths[k + 1]``."""
        return (math.prod(self.input_shape), *self.hidden_dims, self.latent_dim)

    @property
    def resolved_output_activation(self) -> str:
        """The output activation after resolving ``auto``."""
        if self.output_activation != "auto":
            return self.output_activation
        return "sigmoid" if self.reconstruction == "bce" else "identity"


@register_model("stacked")
class StackedAutoencoder(AbstractAutoencoder[StackedAutoencoderConfig]):
    """Deep MLP autoencoder made of shallow autoencoder layers (Bengio et al. 2007; Vincent et al. 2010).

    ``Trainer.fit`` pretrains it greedily, layer by layer (``pretrain_epochs`` each), then fine-tunes it end
    to end; the loss of the whole stack is ``loss = recon``.
    """

    config_class = StackedAutoencoderConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon")
    fitting: ClassVar[Fitting] = "layerwise"

    def __init__(self, config: StackedAutoencoderConfig) -> None:
        super().__init__(config)
        widths = config.widths
        n_layers = len(widths) - 1
        self.encoder_layers = nn.ModuleList(
            _layer(widths[k], widths[k + 1], config.activation if k < n_layers - 1 else "identity")
            for k in range(n_layers)
        )
        self.decoder_layers = nn.ModuleList(
            _layer(
                widths[k + 1], widths[k], config.activation if k > 0 else config.resolved_output_activation
            )
            for k in range(n_layers)
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def n_layers(self) -> int:
        """Number of shallow autoencoder layers in the stack."""
        return len(self.encoder_layers)

    @property
    def error_kind(self) -> ErrorKind:
        return self.config.reconstruction

    def layer_autoencoders(self) -> list[AbstractAutoencoder]:
        """One shallow autoencoder per layer, bottom first (see :meth:`layer_autoencoder`)."""
        return [self.layer_autoencoder(layer) for layer in range(self.n_layers)]

    def layer_inputs(self, x: Tensor, layer: int) -> Tensor:
        """``h_layer`` of inputs ``x``: what layer ``layer`` reconstructs during pretraining."""
        return self.encode_to(x, layer)

    def encode_to(self, x: Tensor, layer: int) -> Tensor:
        """Input of layer ``layer``: ``h_layer`` ``(B, widths[layer])`` (``h_0`` = flattened ``x``)."""
        self.check_input(x)
        if not 0 <= layer <= self.n_layers:
            raise ValueError(f"layer must be in [0, {self.n_layers}]; got {layer}")
        h = x.flatten(1)
        for module in self.encoder_layers[:layer]:
            h = module(h)
        return h

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        return self.encode_to(x, self.n_layers)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        h = z
        for module in reversed(self.decoder_layers):
            h = module(h)
        return h.reshape(-1, *self.input_shape)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        z = self.encode(x)
        return AEOutput(x_hat=self.decode(z), z=z)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = recon``, the configured reconstruction loss averaged over all elements."""
        recon = reconstruction_loss(output.x_hat, target, self.config.reconstruction)
        return {"loss": recon, "recon": recon}

    def layer_autoencoder(self, layer: int) -> StackedLayerAutoencoder:
        """A shallow autoencoder sharing the parameters of layer ``layer`` (training it trains the stack).

        Its input is ``h_layer`` (see :meth:`encode_to`); layer 0 uses the stack's reconstruction loss
        and output activation, upper layers reconstruct hidden codes with ``mse``.
        """
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer must be in [0, {self.n_layers - 1}]; got {layer}")
        config = self.config
        widths = config.widths
        shallow = StackedLayerAutoencoder(
            StackedLayerConfig(
                input_shape=(widths[layer],),
                latent_dim=widths[layer + 1],
                reconstruction=config.reconstruction if layer == 0 else "mse",
                mask_fraction=config.pretrain_mask_fraction,
            )
        )
        shallow.encoder = self.encoder_layers[layer]
        shallow.decoder = self.decoder_layers[layer]
        return shallow


@dataclasses.dataclass(frozen=True)
class StackedLayerConfig(ModelConfig):
    """Config of one :class:`StackedLayerAutoencoder`.

    Attributes:
        latent_dim: Width of the layer's code.
        reconstruction: Loss on the layer's input.
        mask_fraction: Fraction of inputs zeroed in ``prepare_batch`` (denoising pretraining).
    """

    latent_dim: int = 32
    reconstruction: Reconstruction = "mse"
    mask_fraction: float = 0.0

    def validate(self) -> None:
        super().validate()
        if len(self.input_shape) != 1:
            raise ConfigError(
                f"input_shape of a stacked layer must be (n_features,); got {self.input_shape!r}"
            )
        check_positive("latent_dim", self.latent_dim)
        check_choice("reconstruction", self.reconstruction, RECONSTRUCTION_LOSSES)
        _check_mask_fraction(self.mask_fraction)


class StackedLayerAutoencoder(AbstractAutoencoder[StackedLayerConfig]):
    """One layer of a stack as a shallow autoencoder ``(B, n) → (B, latent_dim) → (B, n)``.

    Not registered: it exists during greedy pretraining only, usually built by
    :meth:`StackedAutoencoder.layer_autoencoder` around the stack's own layers. Built from a config
    alone it gets fresh linear ``ReLU`` layers.
    """

    config_class = StackedLayerConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon")

    def __init__(self, config: StackedLayerConfig) -> None:
        super().__init__(config)
        n_features = config.input_shape[0]
        self.encoder: nn.Module = _layer(n_features, config.latent_dim, "relu")
        self.decoder: nn.Module = _layer(config.latent_dim, n_features, "identity")

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(masked inputs, inputs, None)``: a ``mask_fraction`` of inputs set to 0."""
        inputs, _labels = batch
        fraction = self.config.mask_fraction
        if fraction == 0:
            return inputs, inputs, None
        keep = torch.rand(inputs.shape, generator=generator, device=generator.device if generator else None)
        return inputs * (keep.to(inputs.device) >= fraction).to(inputs.dtype), inputs, None

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        self.check_input(x)
        return self.encoder(x)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        z = self.encode(x)
        return AEOutput(x_hat=self.decoder(z), z=z)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = recon``, the configured reconstruction loss of the layer's input."""
        recon = reconstruction_loss(output.x_hat, target, self.config.reconstruction)
        return {"loss": recon, "recon": recon}

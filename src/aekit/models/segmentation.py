"""The segmentation encoder–decoder: the autoencoder's shape with a supervised target, a class mask.

Ronneberger, Fischer, Brox, "U-Net: Convolutional networks for biomedical image segmentation",
MICCAI 2015 (skip connections); Badrinarayanan, Kendall, Cipolla, "SegNet", TPAMI 2017 (the plain
encoder–decoder).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.config import check_choice, check_positive
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models.base import (
    AbstractAutoencoder,
    AEOutput,
    Batch,
    LabelRole,
    LossTerms,
    ModelConfig,
    PreparedBatch,
)
from aekit.models.registry import register_model
from aekit.nn.layers import ACTIVATIONS
from aekit.nn.shapes import ConvStage
from aekit.nn.unet import UNet, earlier_code_unet_names, plan_unet_stages

__all__ = ["SegmentationAutoencoder", "SegmentationConfig", "dice_loss"]


def dice_loss(logits: Tensor, mask: Tensor, eps: float = 1.0) -> Tensor:
    """Soft Dice loss ``1 − mean_c (2 Σ p_c g_c + ε) / (Σ p_c + Σ g_c + ε)`` over classes ``c``.

    ``p = softmax(logits)`` ``(B, K, H, W)``, ``g`` the one-hot ``mask`` ``(B, H, W)``; sums run over the
    batch and pixels (Milletari et al., "V-Net", 2016), ``ε`` smooths classes absent from the batch.
    """
    probs = logits.softmax(1)
    one_hot = F.one_hot(mask, logits.shape[1]).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (0, 2, 3)
    overlap = (probs * one_hot).sum(dims)
    total = probs.sum(dims) + one_hot.sum(dims)
    return 1.0 - ((2 * overlap + eps) / (total + eps)).mean()


@dataclasses.dataclass(frozen=True)
class SegmentationConfig(ModelConfig):
    """Config of :class:`SegmentationAutoencoder`.

    Attributes:
        latent_dim: Size of the bottleneck code returned by ``encode``.
        n_classes: Number of mask classes (2 for foreground/background).
        channels: Width of the full-resolution stem, then of each strided stage (stages that do not fit
            the image are dropped; each halves the size).
        skip_connections: Join each encoder level's features to the decoder at the same resolution
            (U-Net); off, the mask must pass the bottleneck (SegNet-like encoder–decoder).
        dice_weight: Weight of the soft Dice term in ``loss = cross_entropy + dice_weight · dice``.
        activation: Hidden activation.
        batch_norm: Batch normalisation after each convolution.
    """

    latent_dim: int = 32
    n_classes: int = 2
    channels: tuple[int, ...] = (16, 32, 64)
    skip_connections: bool = True
    dice_weight: float = 0.0
    activation: str = "relu"
    batch_norm: bool = True

    def validate(self) -> None:
        super().validate()
        if len(self.input_shape) != 3:
            raise ConfigError(f"input_shape must be (C, H, W) for segmentation; got {self.input_shape!r}")
        check_positive("latent_dim", self.latent_dim)
        check_positive("n_classes", self.n_classes)
        if self.n_classes < 2:
            raise ConfigError(f"n_classes must be ≥ 2; got {self.n_classes}")
        if len(self.channels) < 2:
            raise ConfigError(f"channels must name the stem and at least one stage; got {self.channels!r}")
        for width in self.channels:
            check_positive("channels entries", width)
        check_positive("dice_weight", self.dice_weight, allow_zero=True)
        check_choice("activation", self.activation, ACTIVATIONS)

    @property
    def stages(self) -> list[ConvStage]:
        """The strided stages that fit the image (at most ``log2(min(H, W) / 2)``, at least one)."""
        return plan_unet_stages(self.channels, (self.input_shape[1], self.input_shape[2]))


@dataclasses.dataclass(frozen=True)
class SegmentationOutput(AEOutput):
    """Forward result: ``x_hat`` holds the class logits ``(B, n_classes, H, W)``, ``z`` the code."""


@register_model("segmentation")
class SegmentationAutoencoder(AbstractAutoencoder[SegmentationConfig]):
    """Convolutional encoder–decoder that maps an image to per-pixel class logits.

    Encoder: a full-resolution stem, strided stages, and a linear bottleneck of ``latent_dim`` (what
    ``encode`` returns). Decoder: a linear map back to the deepest feature map, then per stage a
    transposed convolution up and a 3×3 convolution, which with ``skip_connections`` also takes the
    encoder's features at that resolution; a 1×1 convolution gives the logits.

    Batches carry the target mask as ``y``: int64 ``(B, H, W)`` with values in ``[0, n_classes)``.
    Loss: ``cross_entropy`` (mean over pixels), ``dice`` (:func:`dice_loss`, always reported), and
    ``loss = cross_entropy + dice_weight · dice``.
    """

    config_class = SegmentationConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "cross_entropy", "dice")
    label_role: ClassVar[LabelRole | None] = "masks"
    reconstructs: ClassVar[bool] = False

    @classmethod
    def config_from_labels(cls, n_labels: int) -> dict[str, Any]:
        """``n_classes`` from the masks (at least 2: foreground and background)."""
        return {"n_classes": max(n_labels, 2)}

    legacy_state_names: ClassVar[dict[str, str]] = earlier_code_unet_names("net", tail="head")
    """The layer names of folders saved before the family used :class:`~aekit.nn.unet.UNet`."""

    def __init__(self, config: SegmentationConfig) -> None:
        super().__init__(config)
        self.net = UNet(
            config.input_shape[0],
            config.n_classes,
            config.channels,
            convs_per_block=1,
            unshuffle=1,
            input_size=(config.input_shape[1], config.input_shape[2]),
            skip="concat" if config.skip_connections else "none",
            code_dim=config.latent_dim,
            activation=config.activation,
            batch_norm=config.batch_norm,
            encoder_convs=0,
            tail_kernel=1,
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def n_classes(self) -> int:
        """Number of mask classes."""
        return self.config.n_classes

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(x, mask, None)`` with the batch's ``y`` as the mask.

        Raises:
            DataError: The mask is missing, not integer, or has values outside ``[0, n_classes)``.
            ShapeError: The mask's shape is not ``(B, H, W)``.
        """
        inputs, mask = batch
        return inputs, self.check_mask(mask, len(inputs)).long(), None

    def check_mask(self, mask: Tensor | None, batch_size: int) -> Tensor:
        """Return ``mask`` after checking it is an integer ``(batch_size, H, W)`` class mask; raise a clear
        error otherwise."""
        height, width = self.input_shape[1:]
        if mask is None:
            raise DataError(
                f"segmentation needs a mask in the batch (y of shape (B, {height}, {width})); got none"
            )
        if mask.is_floating_point() or mask.dtype == torch.bool:
            raise DataError(f"the mask must hold integer class indices; got dtype {mask.dtype}")
        if tuple(mask.shape) != (batch_size, height, width):
            raise ShapeError(
                f"the mask must have shape ({batch_size}, {height}, {width}); got {tuple(mask.shape)}"
            )
        if int(mask.min()) < 0 or int(mask.max()) >= self.n_classes:
            raise DataError(
                f"mask values must lie in [0, {self.n_classes}); got {int(mask.min())} to {int(mask.max())}"
            )
        return mask

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Bottleneck codes ``(B, latent_dim)`` of images ``(B, C, H, W)``."""
        self.check_input(x)
        return self.net.code(self.net.features(x))

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Logits ``(B, n_classes, H, W)`` from codes ``(B, latent_dim)`` alone.

        With ``skip_connections`` the encoder features are unknown here, so zeros stand in for them;
        use :meth:`forward` (or :meth:`predict`) to segment an image.
        """
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        return self.net.output(None, z)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> SegmentationOutput:
        """Class logits ``x_hat`` ``(B, n_classes, H, W)`` and code ``z`` ``(B, latent_dim)`` of images.

        Logits, not a reconstruction, fill ``x_hat``: the target of this family is the mask.
        """
        self.check_input(x)
        features = self.net.features(x)
        z = self.net.code(features)
        return SegmentationOutput(x_hat=self.net.output(features, z), z=z)

    def reconstruct(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The logits of :meth:`forward` ``(B, n_classes, H, W)`` (skip features included)."""
        return self.forward(x).x_hat

    def predict(self, x: Tensor) -> Tensor:
        """Predicted class of each pixel, int64 ``(B, H, W)``."""
        return self.forward(x).x_hat.argmax(1)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``cross_entropy`` over pixels, soft ``dice``, ``loss = cross_entropy + dice_weight · dice``."""
        cross_entropy = F.cross_entropy(output.x_hat, target)
        dice = dice_loss(output.x_hat, target)
        weight = self.config.dice_weight
        return {"loss": cross_entropy + weight * dice, "cross_entropy": cross_entropy, "dice": dice}

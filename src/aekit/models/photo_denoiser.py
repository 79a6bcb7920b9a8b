"""A blind residual denoiser for photographs: a U-Net that predicts the noise.

Zhang et al., "Beyond a Gaussian denoiser: residual learning of deep CNN for image denoising" (DnCNN),
TIP 2017: learn the noise ``v`` of ``y = x + v`` and return ``y − R(y)``; one network for a whole range of
noise levels ("blind"). Zhang et al., "FFDNet", TIP 2018: run the network on a pixel-unshuffled image.
The network here is :class:`aekit.nn.unet.UNet`: a denoising autoencoder whose encoder–decoder is joined by
skip connections, fully convolutional, so it applies to images of any size (:meth:`denoise`).

Training needs only clean images: ``prepare_batch`` adds Gaussian noise with a standard deviation drawn
per image uniformly from ``noise_range``. Batches that carry targets ``y`` of the inputs' shape are
(noisy, clean) pairs and are used as they are, for real noise that no synthetic model describes.

A *guided* denoiser (``guide_channels`` > 0) takes extra input planes that steer the cleaning but are not
cleaned themselves: the shipped chrominance denoiser cleans one colour-difference plane of a photograph
with its luminance plane beside it, whose edges say where the colour may change
(:mod:`aekit.apps.denoise`). The guide planes come back as they went in, so the output keeps the input's
shape, and the loss counts only the cleaned planes.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import torch
from torch import Tensor

from aekit.config import check_choice
from aekit.errors import ConfigError, ShapeError
from aekit.losses.functional import l1, mse
from aekit.models._backbone import AnySizeUNetConfig
from aekit.models.base import AbstractAutoencoder, AEOutput, Batch, LossTerms, PreparedBatch
from aekit.models.registry import register_model
from aekit.nn.dihedral import VIEW_COUNTS, self_ensemble
from aekit.nn.unet import UNet, pad_to_multiple

__all__ = ["AnySizeDenoiser", "PhotoDenoiser", "PhotoDenoiserConfig"]


class AnySizeDenoiser(ABC):
    """Interface of denoisers that clean a whole image of any size in one call (fully convolutional),
    blind to the noise level up to :attr:`noise_limit`. :mod:`aekit.apps.denoise` runs these on large
    tiles instead of tiles of the training size."""

    @property
    @abstractmethod
    def noise_limit(self) -> float:
        """The highest noise standard deviation (unit pixel scale) the model was trained for."""

    @abstractmethod
    def denoise(self, noisy: Tensor) -> Tensor:
        """Clean images ``(B, C, H, W)`` of any height and width; same shape out (guide planes, the last
        :attr:`guide_channels`, come back unchanged)."""

    @property
    def guide_channels(self) -> int:
        """Trailing input planes that guide the cleaning of the others and are not cleaned (0: none)."""
        return 0


@dataclasses.dataclass(frozen=True)
class PhotoDenoiserConfig(AnySizeUNetConfig):
    """Config of :class:`PhotoDenoiser`: the U-Net's (:class:`~aekit.models._backbone.AnySizeUNetConfig`;
    :meth:`PhotoDenoiser.denoise` takes any size) and the training noise.

    Attributes:
        noise_range: ``(low, high)`` standard deviation of the training noise, on the [0, 1] pixel scale;
            each image's level is uniform in the range.
        reconstruction: Pixel loss ``mse`` or ``l1`` between the denoised and the clean image.
        self_ensemble: Views averaged by :meth:`PhotoDenoiser.denoise`: 1 (the image as it is), 2 (and
            its mirror image), 4 (its four rotations by 90°) or 8 (rotations of the image and of its
            mirror image), each denoised and turned back (:func:`aekit.nn.dihedral.self_ensemble`);
            ``k`` views cost ``k`` times as much. Inference only: training sees one view.
        guide_channels: The last ``guide_channels`` of the ``C`` input planes only guide the cleaning of
            the others (e.g. a luminance plane beside a chrominance plane); they are returned unchanged,
            and training adds noise of the same level to them as to the cleaned planes. 0: every plane
            is cleaned.
    """

    noise_range: tuple[float, float] = (0.0, 55 / 255)
    reconstruction: Literal["mse", "l1"] = "mse"
    self_ensemble: Literal[1, 2, 4, 8] = 1
    guide_channels: int = 0

    def validate(self) -> None:
        super().validate()
        guides = self.guide_channels
        if isinstance(guides, bool) or not isinstance(guides, int) or not 0 <= guides < self.input_shape[0]:
            raise ConfigError(
                f"guide_channels must be an integer from 0 to {self.input_shape[0] - 1} (fewer than the "
                f"input's {self.input_shape[0]} planes); got {guides!r}"
            )
        low, high = self.noise_range if len(self.noise_range) == 2 else (math.nan, math.nan)
        if not 0.0 <= low <= high or not math.isfinite(high):
            raise ConfigError(
                f"noise_range must be (low, high) with 0 ≤ low ≤ high; got {self.noise_range!r}"
            )
        check_choice("reconstruction", self.reconstruction, ("mse", "l1"))
        check_choice("self_ensemble", self.self_ensemble, VIEW_COUNTS)


@register_model("photo_denoiser")
class PhotoDenoiser(AbstractAutoencoder[PhotoDenoiserConfig], AnySizeDenoiser):
    """Residual U-Net denoiser: ``x̂ = y − UNet(y)`` for a noisy image ``y``.

    The code of a U-Net is its whole feature pyramid (the skips carry the detail), so ``encode`` returns
    the flattened features of every level plus the noisy input (the residual path), and ``decode`` runs
    the decoder on them: ``decode(encode(y))`` equals the forward pass. Loss: ``recon`` = MSE (or L1)
    between ``x̂`` and the clean image over the cleaned planes (all but the guide planes), ``loss = recon``.
    """

    config_class = PhotoDenoiserConfig
    paired_targets: ClassVar[bool] = True
    """Capability flag: batches may carry clean targets ``y`` of the inputs' shape (noisy, clean pairs)."""

    def __init__(self, config: PhotoDenoiserConfig) -> None:
        super().__init__(config)
        channels = config.input_shape[0]
        self._cleaned = channels - config.guide_channels
        self.net = UNet(channels, self._cleaned, config.channels, config.convs_per_block, config.unshuffle)

    # -- any size ---------------------------------------------------------------------------------
    @property
    def noise_limit(self) -> float:
        return float(self.config.noise_range[1])

    @property
    def guide_channels(self) -> int:
        return self.config.guide_channels

    def _residual(self, padded: Tensor, levels: list[Tensor] | None = None) -> Tensor:
        """The padded input with the predicted noise taken from its cleaned planes."""
        noise = self.net(padded) if levels is None else self.net.output(levels)
        cleaned = padded[:, : self._cleaned] - noise
        return torch.cat([cleaned, padded[:, self._cleaned :]], dim=1) if self.guide_channels else cleaned

    def denoise(self, noisy: Tensor) -> Tensor:
        """Denoise images ``(B, C, H, W)`` of any height and width (mirror-padded to the U-Net's
        multiple), averaged over ``self_ensemble`` views."""
        if noisy.dim() != 4 or noisy.shape[1] != self.input_shape[0]:
            raise ShapeError(
                f"noisy must have shape (B, {self.input_shape[0]}, H, W); got {tuple(noisy.shape)}"
            )
        return self_ensemble(self._denoise_once, noisy, views=self.config.self_ensemble)

    def _denoise_once(self, noisy: Tensor) -> Tensor:
        padded, (height, width) = self._pad(noisy)
        return self._residual(padded)[..., :height, :width]

    def _pad(self, x: Tensor) -> tuple[Tensor, tuple[int, int]]:
        return pad_to_multiple(x, self.net.size_multiple), (x.shape[-2], x.shape[-1])

    # -- the autoencoder interface ---------------------------------------------------------------------
    @property
    def latent_dim(self) -> int:
        channels, height, width = self.input_shape
        multiple = self.net.size_multiple
        rows, cols = -(-height // multiple) * multiple, -(-width // multiple) * multiple
        size = channels * rows * cols
        first = self.config.unshuffle
        for level, width_ in enumerate(self.config.channels):
            size += width_ * (rows // (first * 2**level)) * (cols // (first * 2**level))
        return size

    def _code(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        padded, _ = self._pad(x)
        levels = self.net.features(padded)
        return padded, levels

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The noisy input and every level's features, flattened: ``(B, latent_dim)``."""
        self.check_input(x)
        padded, levels = self._code(x)
        return torch.cat([t.flatten(1) for t in (padded, *levels)], dim=1)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Denoised images ``(B, *input_shape)`` from codes of :meth:`encode`."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {tuple(z.shape)}")
        channels, height, width = self.input_shape
        multiple = self.net.size_multiple
        rows, cols = -(-height // multiple) * multiple, -(-width // multiple) * multiple
        shapes = [(channels, rows, cols)]
        first = self.config.unshuffle
        for level, width_ in enumerate(self.config.channels):
            scale = first * 2**level
            shapes.append((width_, rows // scale, cols // scale))
        pieces = torch.split(z, [math.prod(shape) for shape in shapes], dim=1)
        # -1, not len(z): len() fixes the batch size when torch.export traces the decoder
        tensors = [piece.reshape(-1, *shape) for piece, shape in zip(pieces, shapes, strict=True)]
        padded, levels = tensors[0], tensors[1:]
        return self._residual(padded, levels)[..., :height, :width]

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        self.check_input(x)
        padded, levels = self._code(x)
        height, width = x.shape[-2:]
        x_hat = self._residual(padded, levels)[..., :height, :width]
        z = torch.cat([t.flatten(1) for t in (padded, *levels)], dim=1)
        return AEOutput(x_hat=x_hat, z=z)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        error = l1 if self.config.reconstruction == "l1" else mse
        recon = error(output.x_hat[:, : self._cleaned], target[:, : self._cleaned])
        return {"loss": recon, "recon": recon}

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """``(noisy, clean, None)``: pairs as given when the batch carries clean targets of the inputs'
        shape, otherwise clean inputs plus Gaussian noise of a per-image level uniform in ``noise_range``
        (class labels ``(B,)`` are ignored).

        Raises:
            ShapeError: Targets are present but not of the inputs' shape.
            TypeError: Noise must be drawn but ``generator`` is not a ``torch.Generator``.
        """
        inputs, targets = batch
        if targets is not None and targets.shape == inputs.shape:
            return inputs, targets.to(inputs.dtype), None
        if targets is not None and targets.dim() != 1:  # class labels (B,) are ignored
            raise ShapeError(
                f"clean targets must have the noisy inputs' shape {tuple(inputs.shape)}; "
                f"got {tuple(targets.shape)}"
            )
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"generator must be a torch.Generator to draw noise; got {type(generator).__name__}"
            )
        low, high = self.config.noise_range
        device = generator.device
        sigma = low + (high - low) * torch.rand((len(inputs), 1, 1, 1), generator=generator, device=device)
        noise = torch.randn(inputs.shape, generator=generator, device=device) * sigma
        return inputs + noise.to(inputs.device), inputs, None

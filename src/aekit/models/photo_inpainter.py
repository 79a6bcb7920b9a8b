"""A mask-aware inpainter for photographs: a U-Net that corrects a smooth fill of the holes.

Yu et al., "Free-form image inpainting with gated convolution", ICCV 2019 (free-form masks given to the
network as an extra channel); Ronneberger et al., "U-Net", MICCAI 2015. Holes are first filled smoothly
from their borders (:func:`smooth_fill`, a push–pull pyramid: masked averages down to a scale where every
cell has known pixels, then upsampled back into the holes), so the network starts from an interpolation
and learns only what the interpolation misses (edges, texture), residual learning as in DnCNN. The
network is fully convolutional, so one call fills a whole photograph of any size: no tile borders inside
a hole.

Training needs only clean images: ``prepare_batch`` draws holes (free-form strokes, rectangles or both,
:func:`aekit.models.inpainting.hole_masks`) per image; masks given as the batch's ``y`` are used as they
are.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.config import check_choice, check_positive, check_range
from aekit.errors import ConfigError, ShapeError
from aekit.models._backbone import AnySizeUNetConfig
from aekit.models.base import AbstractAutoencoder, AEOutput, Batch, LossTerms, PreparedBatch
from aekit.models.inpainting import HOLE_KINDS, HoleKind, InpaintingOutput, checked_hole_mask, hole_masks
from aekit.models.registry import register_model
from aekit.nn.dihedral import VIEW_COUNTS, self_ensemble
from aekit.nn.unet import UNet, pad_to_multiple

__all__ = ["AnySizeInpainter", "PhotoInpainter", "PhotoInpainterConfig", "smooth_fill"]


class AnySizeInpainter(ABC):
    """Interface of inpainters that fill a whole image of any size in one call (fully convolutional).
    :mod:`aekit.apps.inpaint` runs these on large tiles instead of tiles of the training size."""

    @abstractmethod
    def fill(self, image: Tensor, mask: Tensor) -> Tensor:
        """Images ``(B, C, H, W)`` with the pixels where ``mask`` ``(B, 1, H, W)`` is 1 filled; known
        pixels are returned unchanged."""


def smooth_fill(image: Tensor, mask: Tensor) -> Tensor:
    """Fill the holes of ``image`` ``(B, C, H, W)`` (``mask`` ``(B, 1, H, W)``, 1 = missing) smoothly
    from the known pixels around them (push–pull pyramid); known pixels are kept.

    Down ("push"): average the known values and their weights over 2×2 cells, level by level, until the
    image is one pixel. Up ("pull"): each level's estimate is its own masked average where it has known
    weight and the upsampled coarser estimate where it has none, blended by the known fraction. An image
    without known pixels comes back as zeros.
    """
    known = 1.0 - mask
    values, weights = image * known, known
    levels = [(values, weights)]
    while min(values.shape[-2:]) > 1:
        values = F.avg_pool2d(values, 2, ceil_mode=True)
        weights = F.avg_pool2d(weights, 2, ceil_mode=True)
        levels.append((values, weights))
    estimate = levels[-1][0] / levels[-1][1].clamp(min=1e-6)
    for values, weights in reversed(levels[:-1]):
        coarse = F.interpolate(estimate, size=values.shape[-2:], mode="bilinear", align_corners=False)
        local = values / weights.clamp(min=1e-6)
        share = weights.clamp(0.0, 1.0)
        estimate = share * local + (1.0 - share) * coarse
    return torch.where(mask > 0.5, estimate, image)


@dataclasses.dataclass(frozen=True)
class PhotoInpainterConfig(AnySizeUNetConfig):
    """Config of :class:`PhotoInpainter`: the U-Net's (:class:`~aekit.models._backbone.AnySizeUNetConfig`;
    :meth:`PhotoInpainter.fill` takes any size; more levels see further across a hole), the training
    holes and the loss.

    Attributes:
        holes: Training masks: ``strokes`` (free-form), ``rectangles`` or ``mixed``.
        hole_size: Range of a rectangle's side as a fraction of the patch side.
        max_strokes: Most strokes per image.
        stroke_width: Widest brush as a fraction of the shorter patch side.
        reconstruction: Loss over the hole pixels, ``mse`` (what PSNR measures) or ``l1``.
        self_ensemble: Views averaged by :meth:`PhotoInpainter.fill`: 1 (the image as it is), 2 (and its
            mirror image), 4 (its four rotations by 90°) or 8 (rotations of the image and of its mirror
            image); each view is filled and turned back (:func:`aekit.nn.dihedral.self_ensemble`).
            Inference only: training sees one view.
    """

    channels: tuple[int, ...] = (32, 64, 128, 256)
    holes: HoleKind = "mixed"
    hole_size: tuple[float, float] = (0.1, 0.4)
    max_strokes: int = 4
    stroke_width: float = 0.1
    reconstruction: Literal["mse", "l1"] = "mse"
    self_ensemble: Literal[1, 2, 4, 8] = 8

    def validate(self) -> None:
        super().validate()
        check_choice("holes", self.holes, HOLE_KINDS)
        if len(self.hole_size) != 2 or not 0 < self.hole_size[0] <= self.hole_size[1] <= 1:
            raise ConfigError(
                f"hole_size must be (low, high) with 0 < low ≤ high ≤ 1; got {self.hole_size!r}"
            )
        check_positive("max_strokes", self.max_strokes)
        check_range("stroke_width", self.stroke_width, 0.0, 1.0, inclusive=True)
        check_choice("reconstruction", self.reconstruction, ("mse", "l1"))
        check_choice("self_ensemble", self.self_ensemble, VIEW_COUNTS)


@register_model("photo_inpainter")
class PhotoInpainter(AbstractAutoencoder[PhotoInpainterConfig], AnySizeInpainter):
    """``x̂ = m · (s + UNet([s, m])) + (1 − m) · x`` with ``s`` the smooth fill of ``x`` in the holes ``m``.

    The code of a U-Net is its whole feature pyramid, so ``encode`` returns the network input (smooth fill
    and mask) and every level's features, flattened; ``decode`` runs the decoder on them and composes
    the known pixels from the input: ``decode(encode(x, m))`` equals the forward pass. Loss: ``recon`` =
    MSE (or L1) over the hole pixels only (known pixels are copied, so they carry no error);
    ``loss = recon``.
    """

    config_class = PhotoInpainterConfig
    takes_mask: ClassVar[bool] = True

    def __init__(self, config: PhotoInpainterConfig) -> None:
        super().__init__(config)
        channels = config.input_shape[0]
        self.net = UNet(channels + 1, channels, config.channels, config.convs_per_block, config.unshuffle)

    # -- any size ---------------------------------------------------------------------------------
    def fill(self, image: Tensor, mask: Tensor) -> Tensor:
        """Fill ``image`` ``(B, C, H, W)`` of any size where ``mask`` ``(B, 1, H, W)`` is 1."""
        if image.dim() != 4 or image.shape[1] != self.input_shape[0]:
            raise ShapeError(
                f"image must have shape (B, {self.input_shape[0]}, H, W); got {tuple(image.shape)}"
            )
        holes = self._check_mask(mask, image.shape).to(image.device)
        filled = self_ensemble(self._fill_once, image, holes, views=self.config.self_ensemble)
        return torch.where(holes > 0.5, filled, image)

    def _fill_once(self, image: Tensor, holes: Tensor) -> Tensor:
        height, width = image.shape[-2:]
        network_input = self._network_input(image, holes)
        return self._compose(network_input, self.net(network_input))[..., :height, :width]

    def _network_input(self, image: Tensor, holes: Tensor) -> Tensor:
        """The smooth fill and the mask, padded to the U-Net's size multiple: ``(B, C + 1, H', W')``."""
        multiple = self.net.size_multiple
        padded, padded_holes = pad_to_multiple(image, multiple), pad_to_multiple(holes, multiple)
        return torch.cat([smooth_fill(padded, padded_holes), padded_holes], dim=1)

    def _compose(self, network_input: Tensor, correction: Tensor) -> Tensor:
        filled, holes = network_input[:, :-1], network_input[:, -1:]
        return torch.where(holes > 0.5, filled + correction, filled)

    def _check_mask(self, mask: Tensor | None, shape: torch.Size) -> Tensor:
        batch, _, height, width = shape
        return (checked_hole_mask(mask, (batch, 1, height, width)) > 0.5).float()

    # -- the autoencoder interface ---------------------------------------------------------------------
    def _level_shapes(self) -> list[tuple[int, int, int]]:
        channels, height, width = self.input_shape
        multiple = self.net.size_multiple
        rows, cols = -(-height // multiple) * multiple, -(-width // multiple) * multiple
        shapes = [(channels + 1, rows, cols)]
        for level, level_width in enumerate(self.config.channels):
            scale = self.config.unshuffle * 2**level
            shapes.append((level_width, rows // scale, cols // scale))
        return shapes

    @property
    def latent_dim(self) -> int:
        return sum(math.prod(shape) for shape in self._level_shapes())

    def _code(self, x: Tensor, condition: Tensor | None) -> tuple[Tensor, list[Tensor]]:
        self.check_input(x)
        network_input = self._network_input(x, self._check_mask(condition, x.shape).to(x.device))
        return network_input, self.net.features(network_input)

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The network input and every level's features, flattened: ``(B, latent_dim)``;
        ``condition`` is the missing-pixel mask ``(B, 1, H, W)`` (None: nothing missing)."""
        network_input, levels = self._code(x, condition)
        return torch.cat([t.flatten(1) for t in (network_input, *levels)], dim=1)

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Filled images ``(B, *input_shape)`` from codes of :meth:`encode` (the mask travels in the code)."""
        if not isinstance(z, Tensor) or z.dim() != 2 or z.shape[1] != self.latent_dim:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {shape}")
        shapes = self._level_shapes()
        pieces = torch.split(z, [math.prod(shape) for shape in shapes], dim=1)
        # -1, not len(z): len() fixes the batch size when torch.export traces the decoder
        tensors = [piece.reshape(-1, *shape) for piece, shape in zip(pieces, shapes, strict=True)]
        height, width = self.input_shape[1:]
        return self._compose(tensors[0], self.net.output(tensors[1:]))[..., :height, :width]

    def forward(self, x: Tensor, condition: Tensor | None = None) -> InpaintingOutput:
        """Filled images ``x_hat``, the code ``z`` and the mask used ``(B, 1, H, W)``."""
        network_input, levels = self._code(x, condition)
        height, width = x.shape[-2:]
        x_hat = self._compose(network_input, self.net.output(levels))[..., :height, :width]
        z = torch.cat([t.flatten(1) for t in (network_input, *levels)], dim=1)
        return InpaintingOutput(x_hat=x_hat, z=z, mask=network_input[:, -1:, :height, :width])

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """Mean error over the hole pixels; ``output`` must come from :meth:`forward`."""
        if not isinstance(output, InpaintingOutput) or output.mask is None:
            raise TypeError("the photo inpainter's loss needs the output of its forward pass (with the mask)")
        difference = output.x_hat - target
        error = difference.abs() if self.config.reconstruction == "l1" else difference.square()
        weights = output.mask.expand_as(error)
        recon = (error * weights).sum() / weights.sum().clamp(min=1.0)
        return {"loss": recon, "recon": recon}

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """``(x, x, mask)``: the batch's ``y`` as the mask when it has a mask's shape (``(B, 1, H, W)`` or
        ``(B, H, W)``), else freshly drawn holes of kind ``config.holes`` (class labels are ignored).

        Raises:
            TypeError: Holes must be drawn but ``generator`` is not a ``torch.Generator``.
        """
        inputs, given = batch
        size = tuple(inputs.shape[-2:])
        if given is not None and given.dim() in (3, 4) and tuple(given.shape[-2:]) == size:
            return inputs, inputs, self._check_mask(given, inputs.shape).to(inputs.device)
        if not isinstance(generator, torch.Generator):
            raise TypeError(
                f"generator must be a torch.Generator to draw hole masks; got {type(generator).__name__}"
            )
        config = self.config
        mask = hole_masks(
            config.holes,
            len(inputs),
            (int(size[0]), int(size[1])),
            generator,
            side_fraction=config.hole_size,
            max_strokes=config.max_strokes,
            max_width_fraction=config.stroke_width,
        )
        return inputs, inputs, mask.to(inputs.device)

    def extra_repr(self) -> str:
        return f"holes={self.config.holes!r}, channels={self.config.channels}"

"""The mask-aware inpainting autoencoder and the hole masks it trains on.

Pathak et al., "Context encoders: feature learning by inpainting", CVPR 2016 (an encoder–decoder that
fills a missing region); Yu et al., "Free-form image inpainting with gated convolution", ICCV 2019
(free-form stroke masks, the mask given to the network as an extra input channel).

The model sees the damaged image with its holes blanked to ``fill_value`` and the mask ``m``
(1 = missing) as one more channel, and is trained to return the clean image. ``prepare_batch`` draws
the holes (free-form strokes, rectangles or both) from the trainer's generator, so training needs only
clean images. The simpler method of the lecture material, running the damaged image through an
autoencoder trained on clean images, needs no special model; :mod:`aekit.apps.inpaint` does both.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from aekit.config import check_choice, check_positive, check_range
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.losses.functional import l1, mse
from aekit.losses.perceptual import OUTPUT, PerceptualLoss
from aekit.losses.ssim import ssim
from aekit.models.base import AbstractAutoencoder, AEOutput, Batch, LossTerms, ModelConfig, PreparedBatch
from aekit.models.registry import register_model
from aekit.nn.layers import ACTIVATIONS
from aekit.nn.shapes import ConvStage
from aekit.nn.unet import UNet, earlier_code_unet_names, plan_unet_stages

__all__ = [
    "HOLE_KINDS",
    "InpaintingAutoencoder",
    "InpaintingConfig",
    "InpaintingOutput",
    "checked_hole_mask",
    "hole_masks",
    "rectangle_masks",
    "stroke_masks",
]

HoleKind = Literal["strokes", "rectangles", "mixed"]
HOLE_KINDS: tuple[str, ...] = ("strokes", "rectangles", "mixed")
_MAX_VERTICES = 5
_DISTANCE_BUDGET = 1 << 22  # floats per chunk when rasterising strokes (bounds memory for large images)


def _uniform(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    return torch.rand(shape, generator=generator, device=generator.device)


def rectangle_masks(
    batch_size: int,
    size: tuple[int, int],
    generator: torch.Generator,
    *,
    side_fraction: tuple[float, float] = (0.2, 0.5),
) -> Tensor:
    """One axis-aligned rectangular hole per image.

    Each side is uniform in ``side_fraction`` of the image side (at least 1 pixel); the position is
    uniform over where the rectangle fits.

    Returns:
        float32 masks ``(B, 1, H, W)`` on the generator's device, 1 = missing.
    """
    height, width = size
    low, high = side_fraction
    draws = _uniform((batch_size, 4), generator)
    heights = (height * (low + (high - low) * draws[:, 0])).round().clamp(1, height)
    widths = (width * (low + (high - low) * draws[:, 1])).round().clamp(1, width)
    tops = ((height - heights + 1) * draws[:, 2]).floor().clamp(max=height - heights)
    lefts = ((width - widths + 1) * draws[:, 3]).floor().clamp(max=width - widths)
    rows = torch.arange(height, device=generator.device).reshape(1, height, 1)
    cols = torch.arange(width, device=generator.device).reshape(1, 1, width)
    inside_rows = (rows >= tops.reshape(-1, 1, 1)) & (rows < (tops + heights).reshape(-1, 1, 1))
    inside_cols = (cols >= lefts.reshape(-1, 1, 1)) & (cols < (lefts + widths).reshape(-1, 1, 1))
    return (inside_rows & inside_cols).unsqueeze(1).float()


def stroke_masks(
    batch_size: int,
    size: tuple[int, int],
    generator: torch.Generator,
    *,
    max_strokes: int = 3,
    max_width_fraction: float = 0.15,
) -> Tensor:
    """Free-form brush strokes: 1..``max_strokes`` polylines of 2..5 vertices per image.

    A stroke starts at a uniform point; each next vertex lies at a uniform angle and a distance of
    10–40 % of the longer image side (clamped to the image). Its brush width is uniform between
    1 pixel and ``max_width_fraction`` of the shorter side; a pixel is covered when its centre lies
    within half a width of the polyline.

    Returns:
        float32 masks ``(B, 1, H, W)`` on the generator's device, 1 = missing.
    """
    height, width = size
    device = generator.device
    longer, shorter = max(height, width), min(height, width)
    n_strokes = 1 + (_uniform((batch_size,), generator) * max_strokes).floor().clamp(max=max_strokes - 1)
    n_vertices = 2 + (_uniform((batch_size, max_strokes), generator) * (_MAX_VERTICES - 1)).floor()
    n_vertices = n_vertices.clamp(max=_MAX_VERTICES)
    start = _uniform((batch_size, max_strokes, 2), generator) * torch.tensor([height, width], device=device)
    angles = _uniform((batch_size, max_strokes, _MAX_VERTICES - 1), generator) * (2 * math.pi)
    lengths = longer * (0.1 + 0.3 * _uniform((batch_size, max_strokes, _MAX_VERTICES - 1), generator))
    widest = max(1.0, max_width_fraction * shorter)
    widths = 1.0 + (widest - 1.0) * _uniform((batch_size, max_strokes), generator)
    steps = torch.stack([lengths * torch.sin(angles), lengths * torch.cos(angles)], dim=-1)
    vertices = [start]
    limit = torch.tensor([height, width], device=device, dtype=torch.float32)
    for index in range(_MAX_VERTICES - 1):
        vertices.append(
            torch.minimum(
                torch.maximum(vertices[-1] + steps[:, :, index], torch.zeros(2, device=device)), limit
            )
        )
    points = torch.stack(vertices, dim=2)  # (B, strokes, vertices, 2) as (row, column)
    stroke_index = torch.arange(max_strokes, device=device).reshape(1, -1, 1)
    segment_index = torch.arange(_MAX_VERTICES - 1, device=device).reshape(1, 1, -1)
    active = (stroke_index < n_strokes.reshape(-1, 1, 1)) & (segment_index < (n_vertices - 1).unsqueeze(-1))
    radius = torch.where(active, widths.unsqueeze(-1) / 2, torch.full_like(active, -1.0, dtype=torch.float32))
    starts = points[:, :, :-1].reshape(batch_size, -1, 1, 2)
    ends = points[:, :, 1:].reshape(batch_size, -1, 1, 2)
    radius = radius.reshape(batch_size, -1, 1)
    rows, cols = torch.meshgrid(
        torch.arange(height, device=device) + 0.5, torch.arange(width, device=device) + 0.5, indexing="ij"
    )
    centres = torch.stack([rows, cols], dim=-1).reshape(1, 1, -1, 2)
    n_segments = starts.shape[1]
    chunk = max(1, _DISTANCE_BUDGET // (n_segments * height * width))
    covered = []
    for first in range(0, batch_size, chunk):
        a, b, r = starts[first : first + chunk], ends[first : first + chunk], radius[first : first + chunk]
        direction = b - a
        squared = direction.square().sum(-1).clamp(min=1e-12)
        along = (((centres - a) * direction).sum(-1) / squared).clamp(0.0, 1.0)
        nearest = a + along.unsqueeze(-1) * direction
        distance = (centres - nearest).square().sum(-1).sqrt()
        covered.append((distance <= r).any(dim=1))
    return torch.cat(covered).reshape(batch_size, 1, height, width).float()


def hole_masks(
    kind: HoleKind,
    batch_size: int,
    size: tuple[int, int],
    generator: torch.Generator,
    *,
    side_fraction: tuple[float, float] = (0.2, 0.5),
    max_strokes: int = 3,
    max_width_fraction: float = 0.15,
) -> Tensor:
    """Masks of ``kind`` ``"strokes"``, ``"rectangles"`` or ``"mixed"`` (each image either, chance 1/2).

    Returns:
        float32 masks ``(B, 1, H, W)`` on the generator's device, 1 = missing.

    Raises:
        ConfigError: Unknown ``kind``.
    """
    check_choice("holes", kind, HOLE_KINDS)
    strokes = rectangles = None
    if kind in ("strokes", "mixed"):
        strokes = stroke_masks(
            batch_size, size, generator, max_strokes=max_strokes, max_width_fraction=max_width_fraction
        )
    if kind in ("rectangles", "mixed"):
        rectangles = rectangle_masks(batch_size, size, generator, side_fraction=side_fraction)
    if strokes is None or rectangles is None:
        masks = strokes if rectangles is None else rectangles
        assert masks is not None  # check_choice allowed only the three kinds
        return masks
    pick = (_uniform((batch_size,), generator) < 0.5).reshape(-1, 1, 1, 1)
    return torch.where(pick, strokes, rectangles)


def checked_hole_mask(mask: Tensor | None, shape: tuple[int, int, int, int]) -> Tensor:
    """A hole mask (1 = missing) as float ``shape`` = ``(B, 1, H, W)``; zeros when None; ``(B, H, W)``
    is taken as one channel.

    Raises:
        TypeError: ``mask`` is not a tensor.
        ShapeError: ``mask`` does not have the shape (the batch's images' size).
        DataError: ``mask`` holds NaN or infinite values.
    """
    if mask is None:
        return torch.zeros(shape)
    if not isinstance(mask, Tensor):
        raise TypeError(f"the mask (condition) must be a torch.Tensor; got {type(mask).__name__}")
    if mask.dim() == 3:
        mask = mask.unsqueeze(1)
    if tuple(mask.shape) != tuple(shape):
        shape_text = ", ".join(str(size) for size in shape)
        raise ShapeError(f"the mask (condition) must have shape ({shape_text}); got {tuple(mask.shape)}")
    mask = mask.float()
    if not torch.isfinite(mask).all():
        raise DataError("the mask (condition) contains NaN or infinite values")
    return mask


@dataclasses.dataclass(frozen=True)
class InpaintingConfig(ModelConfig):
    """Config of :class:`InpaintingAutoencoder`.

    Attributes:
        latent_dim: Size of the bottleneck code returned by ``encode``.
        channels: Width of the full-resolution stem, then of each strided stage (stages that do not fit
            the image are dropped; each halves the size).
        skip_connections: Join each encoder level's features to the decoder at the same resolution
            (U-Net), so known detail need not pass the bottleneck; off, everything does.
        activation: Hidden activation.
        batch_norm: Batch normalisation after each convolution.
        output_activation: ``sigmoid`` for images in [0, 1], ``identity`` otherwise.
        holes: Training masks: ``strokes`` (free-form), ``rectangles`` or ``mixed``.
        hole_size: Range of a rectangle's side as a fraction of the image side.
        max_strokes: Most strokes per image.
        stroke_width: Widest brush as a fraction of the shorter image side.
        fill_value: What the network sees in place of missing pixels.
        reconstruction: Pixel loss ``mse`` or ``l1``.
        hole_weight: Weight of the pixel loss inside the holes (``hole``), added to the loss over all
            pixels (``recon``).
        ssim_weight: Weight of ``1 − SSIM`` between the composite (known pixels from the target, holes
            from ``x̂``) and the target.
        perceptual_weight: Weight of the perceptual feature loss on the composite; needs a feature network
            (:meth:`InpaintingAutoencoder.use_feature_network`) before training.
    """

    latent_dim: int = 64
    channels: tuple[int, ...] = (32, 64, 128)
    skip_connections: bool = True
    activation: str = "relu"
    batch_norm: bool = True
    output_activation: Literal["sigmoid", "identity"] = "sigmoid"
    holes: HoleKind = "mixed"
    hole_size: tuple[float, float] = (0.2, 0.5)
    max_strokes: int = 3
    stroke_width: float = 0.15
    fill_value: float = 0.0
    reconstruction: Literal["mse", "l1"] = "l1"
    hole_weight: float = 1.0
    ssim_weight: float = 0.0
    perceptual_weight: float = 0.0

    def validate(self) -> None:
        super().validate()
        if len(self.input_shape) != 3:
            raise ConfigError(f"input_shape must be (C, H, W) for inpainting; got {self.input_shape!r}")
        check_positive("latent_dim", self.latent_dim)
        if len(self.channels) < 2:
            raise ConfigError(f"channels must name the stem and at least one stage; got {self.channels!r}")
        for width in self.channels:
            check_positive("channels entries", width)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("output_activation", self.output_activation, ("sigmoid", "identity"))
        check_choice("holes", self.holes, HOLE_KINDS)
        if len(self.hole_size) != 2 or not 0 < self.hole_size[0] <= self.hole_size[1] <= 1:
            raise ConfigError(
                f"hole_size must be (low, high) with 0 < low ≤ high ≤ 1; got {self.hole_size!r}"
            )
        check_positive("max_strokes", self.max_strokes)
        check_range("stroke_width", self.stroke_width, 0.0, 1.0, inclusive=True)
        if not math.isfinite(self.fill_value):
            raise ConfigError(f"fill_value must be finite; got {self.fill_value!r}")
        check_choice("reconstruction", self.reconstruction, ("mse", "l1"))
        for name in ("hole_weight", "ssim_weight", "perceptual_weight"):
            check_positive(name, getattr(self, name), allow_zero=True)

    @property
    def stages(self) -> list[ConvStage]:
        """The strided stages that fit the image (at most ``log2(min(H, W) / 2)``, at least one)."""
        return plan_unet_stages(self.channels, (self.input_shape[1], self.input_shape[2]))


@dataclasses.dataclass(frozen=True)
class InpaintingOutput(AEOutput):
    """Forward result: ``x_hat`` the filled image ``(B, C, H, W)``, ``z`` the code, ``mask`` the holes."""

    mask: Tensor | None = None


@register_model("inpainting")
class InpaintingAutoencoder(AbstractAutoencoder[InpaintingConfig]):
    """Convolutional encoder–decoder that fills the missing pixels of an image, given their mask.

    Input: images ``x`` ``(B, C, H, W)`` and, as ``condition``, the mask ``(B, 1, H, W)`` (or
    ``(B, H, W)``) with 1 at missing pixels; no mask means nothing is missing. The network sees
    ``x`` with missing pixels set to ``fill_value`` and the mask as an extra channel.

    Loss, with ``e`` the elementwise ``|x̂ − x|`` (``l1``) or ``(x̂ − x)²`` (``mse``) and the composite
    ``x̃ = m·x̂ + (1 − m)·x``:

    * ``recon = mean(e)`` over every pixel, ``hole = Σ m·e / Σ m`` over missing pixels (0 without any),
    * ``ssim = 1 − SSIM(x̃, x)``, ``perceptual`` the feature loss between ``x̃`` and ``x`` (0 when its
      weight is 0),
    * ``loss = recon + hole_weight·hole + ssim_weight·ssim + perceptual_weight·perceptual``.
    """

    config_class = InpaintingConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon", "hole", "ssim", "perceptual")
    takes_mask: ClassVar[bool] = True
    """The ``condition`` of ``encode``/``forward`` is the missing-pixel mask (:mod:`aekit.apps.inpaint`)."""

    legacy_state_names: ClassVar[dict[str, str]] = earlier_code_unet_names("net", tail="head.0")
    """The layer names of folders saved before the family used :class:`~aekit.nn.unet.UNet`."""

    def __init__(self, config: InpaintingConfig) -> None:
        super().__init__(config)
        # The network sees the blanked image and the mask as one more channel.
        self.net = UNet(
            config.input_shape[0] + 1,
            config.input_shape[0],
            config.channels,
            convs_per_block=1,
            unshuffle=1,
            input_size=(config.input_shape[1], config.input_shape[2]),
            skip="concat" if config.skip_connections else "none",
            code_dim=config.latent_dim,
            activation=config.activation,
            batch_norm=config.batch_norm,
            encoder_convs=0,
        )
        self._perceptual: list[PerceptualLoss] = []  # a plain list: not a submodule, not in the weights file

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def use_feature_network(self, network: nn.Module, layers: tuple[str, ...] = (OUTPUT,)) -> None:
        """Set the frozen feature network of the perceptual term (see :class:`~aekit.losses.PerceptualLoss`).

        It is not saved with the model (record where it came from in the model folder's metadata);
        a trained model needs it only to keep training.
        """
        self._perceptual[:] = [PerceptualLoss(network, layers)]

    def check_mask(self, mask: Tensor | None, batch_size: int) -> Tensor:
        """The mask as float ``(B, 1, H, W)`` for this batch and the model's image size (see
        :func:`checked_hole_mask`)."""
        height, width = self.input_shape[1:]
        return checked_hole_mask(mask, (batch_size, 1, height, width))

    def prepare_batch(self, batch: Batch, generator: torch.Generator | None = None) -> PreparedBatch:
        """Return ``(x with holes blanked, clean x, mask)``.

        The mask is the batch's ``y`` when that has the shape of a mask (``(B, 1, H, W)`` or ``(B, H, W)``),
        else freshly drawn holes of kind ``config.holes`` (class labels are ignored).

        Raises:
            TypeError: Holes must be drawn but ``generator`` is not a ``torch.Generator``.
        """
        inputs, given = batch
        config = self.config
        size = tuple(self.input_shape[1:])
        if given is not None and given.dim() in (3, 4) and tuple(given.shape[-2:]) == size:
            mask = self.check_mask(given, len(inputs)).to(inputs.device)
        else:
            if not isinstance(generator, torch.Generator):
                raise TypeError(
                    f"generator must be a torch.Generator to draw hole masks; got {type(generator).__name__}"
                )
            mask = hole_masks(
                config.holes,
                len(inputs),
                (size[0], size[1]),
                generator,
                side_fraction=config.hole_size,
                max_strokes=config.max_strokes,
                max_width_fraction=config.stroke_width,
            ).to(inputs.device)
        return self._blank(inputs, mask), inputs, mask

    def _blank(self, x: Tensor, mask: Tensor) -> Tensor:
        fill = self.config.fill_value
        return torch.where(mask > 0.5, torch.full_like(x, fill), x)

    def _features(self, x: Tensor, mask: Tensor) -> list[Tensor]:
        return self.net.features(torch.cat([self._blank(x, mask), mask], dim=1))

    def _decode(self, z: Tensor, skips: list[Tensor] | None) -> Tensor:
        out = self.net.output(skips, z)
        return torch.sigmoid(out) if self.config.output_activation == "sigmoid" else out

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """Codes ``(B, latent_dim)`` of images ``(B, C, H, W)`` with missing-pixel mask ``condition``."""
        self.check_input(x)
        mask = self.check_mask(condition, x.shape[0]).to(x.device)
        return self.net.code(self._features(x, mask))

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """Images ``(B, C, H, W)`` from codes ``(B, latent_dim)`` alone.

        With ``skip_connections`` the encoder features are unknown here, so zeros stand in for them;
        use :meth:`forward` or :meth:`reconstruct` to fill an image.
        """
        if not isinstance(z, Tensor) or z.dim() != 2 or z.shape[1] != self.latent_dim:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ShapeError(f"z must have shape (B, {self.latent_dim}); got {shape}")
        return self._decode(z, None)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> InpaintingOutput:
        """Filled images ``x_hat`` ``(B, C, H, W)``, code ``z`` and the mask used ``(B, 1, H, W)``."""
        self.check_input(x)
        mask = self.check_mask(condition, x.shape[0]).to(x.device)
        features = self._features(x, mask)
        z = self.net.code(features)
        return InpaintingOutput(x_hat=self._decode(z, features), z=z, mask=mask)

    def reconstruct(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        """The network's output for every pixel (skip features included); compose with the known pixels
        yourself, or use :func:`aekit.apps.inpaint.inpaint`, which does."""
        return self.forward(x, condition).x_hat

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """The terms in the class docstring; ``output`` must come from :meth:`forward`."""
        config = self.config
        x_hat = output.x_hat
        mask = getattr(output, "mask", None)
        if mask is None:
            mask = torch.zeros_like(x_hat[:, :1])
        elementwise = (x_hat - target).abs() if config.reconstruction == "l1" else (x_hat - target).square()
        recon = l1(x_hat, target) if config.reconstruction == "l1" else mse(x_hat, target)
        weights = mask.expand_as(elementwise)
        hole = (elementwise * weights).sum() / weights.sum().clamp(min=1.0)
        composite = mask * x_hat + (1 - mask) * target
        zero = recon.new_zeros(())
        ssim_term = 1.0 - ssim(composite, target) if config.ssim_weight > 0 else zero
        perceptual = self._perceptual_term(composite, target) if config.perceptual_weight > 0 else zero
        total = (
            recon
            + config.hole_weight * hole
            + config.ssim_weight * ssim_term
            + config.perceptual_weight * perceptual
        )
        return {"loss": total, "recon": recon, "hole": hole, "ssim": ssim_term, "perceptual": perceptual}

    def _perceptual_term(self, composite: Tensor, target: Tensor) -> Tensor:
        if not self._perceptual:
            raise ConfigError(
                "perceptual_weight > 0 needs a feature network: call model.use_feature_network(network) "
                "(e.g. aekit.losses.EncoderFeatures(a trained model)) before training"
            )
        loss = self._perceptual[0].to(composite.device)
        return loss(composite, target)

    def extra_repr(self) -> str:
        config: Any = self.config
        return f"holes={config.holes!r}, skip_connections={config.skip_connections}"

"""Batched, seeded geometric augmentation of image batches.

All random draws for a batch come from one explicit ``torch.Generator`` and the whole batch is warped
by a single ``grid_sample`` call, so augmentation costs a few tensor operations per batch (no
per-image Python) and replays exactly from the same generator state.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import Tensor

from aekit.config import ConfigBase
from aekit.errors import ConfigError, ShapeError

__all__ = ["Augmentation"]


@dataclasses.dataclass(frozen=True)
class Augmentation(ConfigBase):
    """Random shifts, rotations and flips of image batches ``(B, C, H, W)``.

    Each image gets its own draw: a shift of a whole number of pixels in ``[-max_shift, max_shift]``
    along each axis (whole pixels keep the image sharp), a rotation angle uniform in
    ``[-max_rotation, max_rotation]`` degrees about the image centre, and flips with the given
    probabilities. All zero (the default) is the identity.

    Attributes:
        max_shift: Largest shift in pixels, along height and width independently.
        horizontal_flip_probability: Chance of mirroring an image left-right.
        vertical_flip_probability: Chance of mirroring an image top-bottom.
        max_rotation: Largest rotation in degrees, in [0, 180].
        padding: What fills pixels moved in from outside: ``"zeros"`` (black, right for MNIST-like
            data), ``"border"`` (repeat the edge) or ``"reflection"``.
    """

    max_shift: int = 0
    horizontal_flip_probability: float = 0.0
    vertical_flip_probability: float = 0.0
    max_rotation: float = 0.0
    padding: Literal["zeros", "border", "reflection"] = "zeros"

    def validate(self) -> None:
        """Check the ranges; raise :class:`ConfigError` naming the field."""
        if isinstance(self.max_shift, bool) or not isinstance(self.max_shift, int) or self.max_shift < 0:
            raise ConfigError(f"max_shift must be a whole number of pixels >= 0; got {self.max_shift!r}")
        for name in ("horizontal_flip_probability", "vertical_flip_probability"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ConfigError(f"{name} must be a probability in [0, 1]; got {value!r}")
        if not (isinstance(self.max_rotation, int | float) and 0.0 <= self.max_rotation <= 180.0):
            raise ConfigError(f"max_rotation must be in [0, 180] degrees; got {self.max_rotation!r}")
        if self.padding not in ("zeros", "border", "reflection"):
            raise ConfigError(f"padding must be 'zeros', 'border' or 'reflection'; got {self.padding!r}")

    @property
    def is_identity(self) -> bool:
        """True when :meth:`apply` returns its input unchanged."""
        return (
            self.max_shift == 0
            and self.horizontal_flip_probability == 0
            and self.vertical_flip_probability == 0
            and self.max_rotation == 0
        )

    def apply(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """Augment a batch.

        Args:
            x: Floating-point images ``(B, C, H, W)``.
            generator: Source of every random draw; the same state gives the same output. Draws happen
                on the generator's device and are moved to ``x``'s.

        Returns:
            The augmented batch, same shape and dtype as ``x`` (``x`` itself when :attr:`is_identity`).

        Raises:
            ShapeError: ``x`` is not a 4-D floating-point batch.
        """
        if x.dim() != 4 or not x.is_floating_point():
            raise ShapeError(
                f"x must be a floating-point image batch (B, C, H, W); got shape {tuple(x.shape)}, {x.dtype}"
            )
        if self.is_identity:
            return x
        batch, _, height, width = x.shape

        def uniform(low: float, high: float) -> Tensor:
            draw = torch.rand(batch, generator=generator, device=generator.device, dtype=torch.float64)
            return (low + (high - low) * draw).to(x.device)

        if self.horizontal_flip_probability > 0:
            flip = uniform(0, 1) < self.horizontal_flip_probability
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        if self.vertical_flip_probability > 0:
            flip = uniform(0, 1) < self.vertical_flip_probability
            x = torch.where(flip[:, None, None, None], x.flip(-2), x)
        if self.max_shift == 0 and self.max_rotation == 0:
            return x
        zeros = torch.zeros(batch, dtype=torch.float64, device=x.device)
        angle = zeros
        if self.max_rotation > 0:
            angle = uniform(-self.max_rotation, self.max_rotation) * (math.pi / 180.0)
        shift_y, shift_x = zeros, zeros
        if self.max_shift > 0:
            low, high = -self.max_shift, self.max_shift + 1
            device = generator.device
            shift_y = torch.randint(low, high, (batch,), generator=generator, device=device).to(zeros)
            shift_x = torch.randint(low, high, (batch,), generator=generator, device=device).to(zeros)
        # affine_grid maps output coordinates to input coordinates in [-1, 1] units, which differ per
        # axis on non-square images; the rotation is done in pixel units, hence the H/W factors.
        # Sampling from (p - shift) moves the content by +shift.
        cos, sin = angle.cos(), angle.sin()
        theta = torch.stack(
            [
                torch.stack([cos, -sin * height / width, -2.0 * shift_x / width], dim=1),
                torch.stack([sin * width / height, cos, -2.0 * shift_y / height], dim=1),
            ],
            dim=1,
        ).to(x.dtype)
        grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
        return torch.nn.functional.grid_sample(
            x, grid, mode="bilinear", padding_mode=self.padding, align_corners=False
        )

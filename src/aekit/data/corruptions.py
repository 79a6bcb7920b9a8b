"""Input corruptions for denoising and inpainting autoencoders.

A denoising autoencoder sees a corrupted input and is trained to reproduce the clean one (Vincent et
al., 2008), so it must learn the data's structure instead of copying pixels. Each function here is
pure: it takes a batch with values in [0, 1] and an explicit ``torch.Generator`` and returns a new
batch, so a corrupted batch can be replayed from the same generator state. Random draws happen on the
generator's device and are moved to the batch's device.

For image batches ``(B, C, H, W)`` a "pixel" is one spatial position with all its channels; for any
other shape ``(B, ...)`` it is one element of a sample.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

import torch
from torch import Tensor

from aekit.errors import ConfigError, ShapeError

__all__ = [
    "CORRUPTIONS",
    "apply_corruption",
    "gaussian_noise",
    "mask_pixels",
    "occlusion_bars",
    "pixel_mask",
    "salt_and_pepper",
]


def _check_batch(x: Tensor, name: str = "x") -> None:
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.dim() < 2:
        described = f"shape {tuple(x.shape)}, {x.dtype}" if isinstance(x, Tensor) else type(x).__name__
        raise ShapeError(
            f"{name} must be a floating-point batch (B, ...) with values in [0, 1]; got {described}"
        )


def _check_fraction(fraction: float, name: str = "fraction") -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0.0 <= fraction <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1]; got {fraction!r}")


def _rand(shape: tuple[int, ...], generator: torch.Generator, like: Tensor) -> Tensor:
    """Uniform [0, 1) draws made on the generator's device, returned on ``like``'s device."""
    return torch.rand(shape, generator=generator, device=generator.device).to(like.device)


def pixel_mask(x: Tensor, fraction: float, generator: torch.Generator) -> Tensor:
    """Choose exactly ``round(fraction * n_pixels)`` pixels of each sample, uniformly at random.

    Args:
        x: Batch ``(B, C, H, W)`` or ``(B, ...)``; only its shape and device are used.
        fraction: Share of pixels to choose, in [0, 1].
        generator: Source of the choice.

    Returns:
        Boolean mask, True at chosen pixels: ``(B, 1, H, W)`` for images (broadcasts over channels),
        else ``x``'s shape.

    Raises:
        ConfigError: ``fraction`` is outside [0, 1].
    """
    _check_batch(x)
    _check_fraction(fraction)
    shape = (x.shape[0], 1, *x.shape[2:]) if x.dim() == 4 else tuple(x.shape)
    n_pixels = math.prod(shape[1:])
    n_chosen = math.floor(fraction * n_pixels + 0.5)
    # Ranking uniform scores gives a uniformly random subset of exactly n_chosen pixels per sample.
    chosen = _rand((shape[0], n_pixels), generator, x).argsort(dim=1)[:, :n_chosen]
    mask = torch.zeros(shape[0], n_pixels, dtype=torch.bool, device=x.device)
    mask.scatter_(1, chosen, True)
    return mask.reshape(shape)


def gaussian_noise(x: Tensor, std: float, generator: torch.Generator, clip: bool = True) -> Tensor:
    """Add white Gaussian noise: ``x + std * ε`` with ``ε ~ N(0, 1)`` per element.

    Args:
        x: Batch ``(B, ...)`` with values in [0, 1].
        std: Noise standard deviation, >= 0 (0.1–0.5 are usual for denoising autoencoders).
        generator: Source of the noise.
        clip: Clamp the result to [0, 1] so it stays a valid image (this lowers the effective std
            near 0 and 1).

    Raises:
        ConfigError: ``std`` is negative or not finite.
    """
    _check_batch(x)
    if isinstance(std, bool) or not isinstance(std, int | float) or not (math.isfinite(std) and std >= 0):
        raise ConfigError(f"std must be a finite number >= 0; got {std!r}")
    noise = torch.randn(tuple(x.shape), generator=generator, device=generator.device, dtype=x.dtype)
    noisy = x + std * noise.to(x.device)
    return noisy.clamp(0.0, 1.0) if clip else noisy


def mask_pixels(x: Tensor, fraction: float, generator: torch.Generator, value: float = 0.0) -> Tensor:
    """Set exactly ``round(fraction * n_pixels)`` random pixels of each sample to ``value`` (masking noise).

    Args:
        x: Batch ``(B, C, H, W)`` or ``(B, ...)``.
        fraction: Share of pixels masked, in [0, 1]; 0.3–0.5 are usual for denoising autoencoders
            (more makes the task harder and the features more global).
        generator: Source of the choice of pixels.
        value: What masked pixels become (0 = black).

    Raises:
        ConfigError: ``fraction`` is outside [0, 1].
    """
    mask = pixel_mask(x, fraction, generator)
    return x.masked_fill(mask, value)


def salt_and_pepper(x: Tensor, fraction: float, generator: torch.Generator) -> Tensor:
    """Set exactly ``round(fraction * n_pixels)`` random pixels per sample to 0 or 1 (each with chance 1/2).

    Args:
        x: Batch ``(B, C, H, W)`` or ``(B, ...)`` with values in [0, 1].
        fraction: Share of pixels replaced, in [0, 1].
        generator: Source of the pixels and their values.

    Raises:
        ConfigError: ``fraction`` is outside [0, 1].
    """
    mask = pixel_mask(x, fraction, generator)
    salt = (_rand(tuple(mask.shape), generator, x) < 0.5).to(x.dtype)
    return torch.where(mask, salt, x)


def occlusion_bars(x: Tensor, generator: torch.Generator, height: int = 2, value: float = 1.0) -> Tensor:
    """Cover a random full-width horizontal band of ``height`` rows per image with ``value`` (white).

    The band's top row is uniform over every position where it fits, so the model must fill in rows
    from their neighbours (an inpainting task).

    Args:
        x: Images ``(B, ..., H, W)``, e.g. ``(B, C, H, W)``.
        generator: Source of the band positions.
        height: Rows per band, 1..H.
        value: What covered pixels become (1 = white).

    Raises:
        ShapeError: ``x`` has fewer than 3 dimensions (no rows to cover).
        ConfigError: ``height`` is not an integer in 1..H.
    """
    _check_batch(x)
    if x.dim() < 3:
        raise ShapeError(f"occlusion_bars needs images (B, C, H, W) or (B, H, W); got shape {tuple(x.shape)}")
    batch, rows = x.shape[0], x.shape[-2]
    if isinstance(height, bool) or not isinstance(height, int) or not 1 <= height <= rows:
        raise ConfigError(f"height must be an integer in 1..{rows} (the image height); got {height!r}")
    top = torch.randint(0, rows - height + 1, (batch, 1), generator=generator, device=generator.device)
    row = torch.arange(rows, device=generator.device)
    band = ((row >= top) & (row < top + height)).to(x.device)
    return x.masked_fill(band.reshape(batch, *([1] * (x.dim() - 3)), rows, 1), value)


def _gaussian(x: Tensor, generator: torch.Generator, strength: float) -> Tensor:
    return gaussian_noise(x, strength, generator)


def _mask(x: Tensor, generator: torch.Generator, strength: float) -> Tensor:
    return mask_pixels(x, strength, generator)


def _salt_pepper(x: Tensor, generator: torch.Generator, strength: float) -> Tensor:
    return salt_and_pepper(x, strength, generator)


def _occlusion(x: Tensor, generator: torch.Generator, strength: float) -> Tensor:
    return occlusion_bars(x, generator)


CORRUPTIONS: Mapping[str, Callable[[Tensor, torch.Generator, float], Tensor]] = MappingProxyType(
    {"gaussian": _gaussian, "mask": _mask, "salt_pepper": _salt_pepper, "occlusion": _occlusion}
)
"""Corruption name -> ``f(x, generator, strength)`` (read-only); see :func:`apply_corruption`."""


def apply_corruption(name: str, x: Tensor, generator: torch.Generator, strength: float) -> Tensor:
    """Apply the corruption called ``name`` with one strength knob, for configs that name a corruption.

    Args:
        name: ``"gaussian"``, ``"mask"``, ``"salt_pepper"`` or ``"occlusion"``.
        x: Batch with values in [0, 1].
        generator: Source of randomness.
        strength: The std for ``"gaussian"``, the pixel fraction for ``"mask"`` and ``"salt_pepper"``;
            ignored for ``"occlusion"`` (one 2-row white band per image).

    Raises:
        ConfigError: Unknown ``name`` (with the closest match) or an invalid ``strength``.
    """
    corruption = CORRUPTIONS.get(name)
    if corruption is None:
        close = difflib.get_close_matches(name, list(CORRUPTIONS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown corruption {name!r}{hint} (known: {', '.join(CORRUPTIONS)})")
    return corruption(x, generator, strength)

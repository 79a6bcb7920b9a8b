"""Structural similarity (SSIM) with a Gaussian window, as a differentiable loss.

Wang, Bovik, Sheikh, Simoncelli, "Image quality assessment: from error visibility to structural
similarity", IEEE TIP 2004. For windows around each pixel, with local Gaussian-weighted means ``μ``,
variances ``σ²`` and covariance ``σ_xy``::

    SSIM(x, y) = (2 μ_x μ_y + C1)(2 σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2)),
    C1 = (k1 · L)², C2 = (k2 · L)², L = data_range,

averaged over the positions where the whole window fits inside the image (no padding), then over
channels. The defaults (11×11 window, σ = 1.5, k1 = 0.01, k2 = 0.03) are the paper's; the result equals
``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=L)``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.errors import ConfigError, ShapeError

__all__ = ["gaussian_filter", "gaussian_window", "ssim", "ssim_loss"]


def gaussian_window(size: int, sigma: float, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """Normalised 1-D Gaussian weights ``exp(−t² / 2σ²)`` for ``t = −(size−1)/2 … (size−1)/2``."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ConfigError(f"window_size must be a positive odd int; got {size!r}")
    if sigma <= 0:
        raise ConfigError(f"sigma must be > 0; got {sigma!r}")
    t = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    weights = torch.exp(-(t**2) / (2 * sigma**2))
    return (weights / weights.sum()).to(dtype)


def gaussian_filter(x: Tensor, window: Tensor) -> Tensor:
    """Separable depthwise 'valid' filtering of ``(B, C, H, W)`` with the 1-D ``window``."""
    channels = x.shape[1]
    size = len(window)
    rows = window.reshape(1, 1, size, 1).expand(channels, 1, size, 1)
    cols = window.reshape(1, 1, 1, size).expand(channels, 1, 1, size)
    return F.conv2d(F.conv2d(x, rows, groups=channels), cols, groups=channels)


def ssim(
    x: Tensor,
    y: Tensor,
    data_range: float = 1.0,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
    reduction: Literal["mean", "none"] = "mean",
) -> Tensor:
    """SSIM of image batches (see the module docstring for the formula).

    Args:
        x, y: Images ``(B, C, H, W)`` of the same shape (``(C, H, W)`` or ``(H, W)`` are taken as one image).
        data_range: ``L``, the span of valid values (1 for [0, 1] images, 255 for 8-bit).
        window_size: Odd window side; images smaller than it use the largest odd size that fits
            (the paper's window does not fit 8×8 images).
        sigma: Standard deviation of the Gaussian window, in pixels.
        k1, k2: Stabilising constants.
        reduction: ``mean`` → a scalar; ``none`` → one value per image ``(B,)``.

    Raises:
        ShapeError: ``x`` and ``y`` differ in shape or are not images.
        ConfigError: A parameter is out of range.
    """
    if x.shape != y.shape:
        raise ShapeError(f"x and y must have the same shape; got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.dim() == 2:
        x, y = x[None, None], y[None, None]
    elif x.dim() == 3:
        x, y = x[None], y[None]
    if x.dim() != 4:
        raise ShapeError(f"x must have shape (B, C, H, W); got {tuple(x.shape)}")
    if data_range <= 0:
        raise ConfigError(f"data_range must be > 0; got {data_range!r}")
    if reduction not in ("mean", "none"):
        raise ConfigError(f"reduction must be 'mean' or 'none'; got {reduction!r}")
    smallest = min(x.shape[-2:])
    size = min(window_size, smallest if smallest % 2 else smallest - 1)
    if size < 1:
        raise ShapeError(f"images must be at least 1×1; got {tuple(x.shape[-2:])}")
    window = gaussian_window(size, sigma, dtype=x.dtype).to(x.device)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_x, mu_y = gaussian_filter(x, window), gaussian_filter(y, window)
    var_x = gaussian_filter(x * x, window) - mu_x**2
    var_y = gaussian_filter(y * y, window) - mu_y**2
    cov = gaussian_filter(x * y, window) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    per_image = ssim_map.flatten(1).mean(1)
    return per_image.mean() if reduction == "mean" else per_image


def ssim_loss(x_hat: Tensor, target: Tensor, data_range: float = 1.0, **options: float) -> Tensor:
    """``1 − SSIM(x̂, x)``, a scalar to minimise; ``options`` as in :func:`ssim`."""
    return 1.0 - ssim(x_hat, target, data_range, **options)  # type: ignore[arg-type]

"""Structural similarity (SSIM) and multi-scale SSIM: the one kernel aekit's loss, metrics and codec share.

SSIM: Wang, Bovik, Sheikh, Simoncelli, "Image quality assessment: from error visibility to structural
similarity", IEEE TIP 2004. For windows around each pixel, with local Gaussian-weighted means ``μ``,
variances ``σ²`` and covariance ``σ_xy``::

    l  = (2 μ_x μ_y + C1) / (μ_x² + μ_y² + C1)            (luminance)
    cs = (2 σ_xy + C2) / (σ_x² + σ_y² + C2)                (contrast–structure)
    SSIM = l · cs,   C1 = (k1 · L)², C2 = (k2 · L)², L = data_range,

averaged over the positions where the whole window fits inside the image (no padding), then over
channels. The defaults (11×11 window, σ = 1.5, k1 = 0.01, k2 = 0.03) are the paper's; the result equals
``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=L)`` and ``pytorch_msssim.ssim``.

MS-SSIM: Wang, Simoncelli, Bovik, "Multiscale structural similarity for image quality assessment",
Asilomar 2003. Per channel, with ``cs_j`` the mean contrast–structure term at scale ``j`` (the image
halved ``j − 1`` times by 2×2 averaging, odd sides zero-padded by one pixel) and ``SSIM_M`` the mean
SSIM at the coarsest scale ``M``::

    MS-SSIM = SSIM_M^{w_M} · Π_{j=1..M−1} cs_j^{w_j},   then averaged over channels,

with the paper's weights ``(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``; negative factors are clamped to 0
so the powers stay real. This is the convention of the authors' code and of ``pytorch_msssim.ms_ssim``
(which CompressAI and most codec papers report), and equals it whenever the image's shorter side is at
least 161 pixels. Smaller images cannot be halved four times and keep the window, so only the scales
whose shorter side still holds the window are used (at least one, with the window shrunk to the largest
odd size that fits the image) and their weights are rescaled to the sum of all the weights; with one
scale and weights summing to 1, MS-SSIM is SSIM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.errors import ConfigError, ShapeError

__all__ = [
    "MS_SSIM_WEIGHTS",
    "gaussian_filter",
    "gaussian_window",
    "ms_ssim",
    "ssim",
    "ssim_components",
    "ssim_loss",
]

MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


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


def _fitting_window(height: int, width: int, window_size: int) -> int:
    """The largest odd window side that is at most ``window_size`` and fits a ``height × width`` image."""
    smallest = min(height, width)
    return min(window_size, smallest if smallest % 2 else smallest - 1)


def _as_images(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """``(B, C, H, W)`` views of two same-shaped images (``(C, H, W)`` and ``(H, W)`` are one image)."""
    if x.shape != y.shape:
        raise ShapeError(
            f"image shapes differ: x and y must have the same shape; "
            f"got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    while x.dim() < 4:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    if x.dim() != 4:
        raise ShapeError(f"images must have shape (B, C, H, W), (C, H, W) or (H, W); got {tuple(x.shape)}")
    if min(x.shape[-2:]) < 1:
        raise ShapeError(f"images must be at least 1×1; got {tuple(x.shape[-2:])}")
    return x, y


def ssim_components(
    x: Tensor,
    y: Tensor,
    data_range: float = 1.0,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> tuple[Tensor, Tensor]:
    """Mean SSIM ``l · cs`` and mean contrast–structure ``cs`` of each image and channel, both ``(B, C)``.

    The kernel behind :func:`ssim`, :func:`ms_ssim`, the SSIM loss and the codec's MS-SSIM distortion
    (see the module docstring for the formula). Images smaller than the window use the largest odd
    window that fits.

    Args:
        x, y: Images ``(B, C, H, W)`` of the same shape.
        data_range: ``L``, the span of valid values (1 for [0, 1] images, 255 for 8-bit).
        window_size: Odd window side.
        sigma: Standard deviation of the Gaussian window, in pixels.
        k1, k2: Stabilising constants.
    """
    if data_range <= 0:
        raise ConfigError(f"data_range must be > 0; got {data_range!r}")
    size = _fitting_window(x.shape[-2], x.shape[-1], window_size)
    window = gaussian_window(size, sigma, dtype=x.dtype).to(x.device)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    mu_x, mu_y = gaussian_filter(x, window), gaussian_filter(y, window)
    var_x = gaussian_filter(x * x, window) - mu_x.square()
    var_y = gaussian_filter(y * y, window) - mu_y.square()
    cov = gaussian_filter(x * y, window) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x.square() + mu_y.square() + c1)
    contrast = (2 * cov + c2) / (var_x + var_y + c2)
    return (luminance * contrast).mean(dim=(-2, -1)), contrast.mean(dim=(-2, -1))


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
    if reduction not in ("mean", "none"):
        raise ConfigError(f"reduction must be 'mean' or 'none'; got {reduction!r}")
    x, y = _as_images(x, y)
    similarity, _ = ssim_components(x, y, data_range, window_size=window_size, sigma=sigma, k1=k1, k2=k2)
    per_image = similarity.mean(dim=1)
    return per_image.mean() if reduction == "mean" else per_image


def ms_ssim(
    x: Tensor,
    y: Tensor,
    data_range: float = 1.0,
    *,
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> Tensor:
    """Multi-scale SSIM of each image, ``(B,)`` in the input's dtype (see the module docstring).

    Args:
        x, y: Images ``(B, C, H, W)`` of the same shape (``(C, H, W)`` and ``(H, W)`` are one image).
        data_range: Span of valid values.
        weights: Exponent of each scale, finest first; only the scales that hold the window are used,
            rescaled to the sum of all the weights.
        window_size, sigma: The Gaussian window (shrunk to the image at the first scale if needed).
        k1, k2: Stabilising constants.

    Raises:
        ShapeError: Shapes differ or are not images.
        ConfigError: Empty or negative ``weights``, or ``data_range`` ≤ 0.
    """
    x, y = _as_images(x, y)
    if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ConfigError(f"weights must be non-negative with a positive sum; got {tuple(weights)!r}")
    height, width = x.shape[-2:]
    size = _fitting_window(height, width, window_size)
    n_scales = 1
    while n_scales < len(weights) and min(-(-height // 2**n_scales), -(-width // 2**n_scales)) >= size:
        n_scales += 1
    used = torch.tensor(weights[:n_scales], dtype=x.dtype, device=x.device)
    used = used * (sum(weights) / used.sum())
    factors = []
    for scale in range(n_scales):
        similarity, contrast = ssim_components(x, y, data_range, window_size=size, sigma=sigma, k1=k1, k2=k2)
        if scale == n_scales - 1:
            factors.append(similarity.clamp(min=0))
        else:
            factors.append(contrast.clamp(min=0))
            padding = [x.shape[-2] % 2, x.shape[-1] % 2]
            x, y = F.avg_pool2d(x, 2, padding=padding), F.avg_pool2d(y, 2, padding=padding)
    per_channel = torch.prod(torch.stack(factors) ** used.view(-1, 1, 1), dim=0)  # (B, C)
    return per_channel.mean(dim=1)


def ssim_loss(x_hat: Tensor, target: Tensor, data_range: float = 1.0, **options: float) -> Tensor:
    """``1 − SSIM(x̂, x)``, a scalar to minimise; ``options`` as in :func:`ssim`."""
    return 1.0 - ssim(x_hat, target, data_range, **options)  # type: ignore[arg-type]

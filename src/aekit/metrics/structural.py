"""Structural similarity metrics: SSIM and multi-scale SSIM per image, and an accumulating form.

SSIM: Wang, Bovik, Sheikh, Simoncelli, IEEE TIP 2004, computed by :func:`aekit.losses.ssim.ssim`
(Gaussian window, σ = 1.5, 11×11, no padding; equal to scikit-image's ``structural_similarity`` with
``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``).

MS-SSIM: Wang, Simoncelli, Bovik, "Multiscale structural similarity for image quality assessment",
Asilomar 2003. With ``cs_j`` the mean contrast–structure term at scale ``j`` (the image halved ``j − 1``
times by 2×2 averaging) and ``SSIM_M`` the mean SSIM (luminance × contrast–structure) at the coarsest
scale ``M``, as in the authors' reference code::

    MS-SSIM = SSIM_M^{w_M} · Π_{j=1..M−1} cs_j^{w_j}

with the paper's weights ``(0.0448, 0.2856, 0.3001, 0.2363, 0.1333)``. Small images cannot be halved
four times and keep a window, so only the scales whose shorter side is at least ``window_size`` are
used (at least one) and their weights are rescaled to sum to 1. Negative ``cs`` or ``l`` values
(anti-correlated images) are clamped to 0 before the powers, as in common implementations; with
one scale, MS-SSIM is SSIM.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from aekit.errors import ConfigError, ShapeError
from aekit.losses.ssim import gaussian_filter, gaussian_window
from aekit.losses.ssim import ssim as _ssim

__all__ = ["MS_SSIM_WEIGHTS", "StructuralSimilarity", "ms_ssim", "ssim"]

MS_SSIM_WEIGHTS: tuple[float, ...] = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _as_batch(prediction: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    if prediction.shape != target.shape:
        raise ShapeError(
            f"prediction and target shapes differ: {tuple(prediction.shape)} vs {tuple(target.shape)}"
        )
    while prediction.dim() < 4:
        prediction, target = prediction.unsqueeze(0), target.unsqueeze(0)
    if prediction.dim() != 4:
        raise ShapeError(
            f"images must have shape (B, C, H, W), (C, H, W) or (H, W); got {tuple(prediction.shape)}"
        )
    return prediction.double(), target.double()


def ssim(
    prediction: Tensor,
    target: Tensor,
    data_range: float = 1.0,
    *,
    window_size: int = 11,
    sigma: float = 1.5,
) -> Tensor:
    """SSIM of each image, shape ``(B,)`` (float64); 1 for identical images.

    Args:
        prediction, target: ``(B, C, H, W)`` (``(C, H, W)`` and ``(H, W)`` are one image).
        data_range: Span of valid values: 1 for [0, 1] images, 255 for 8-bit.
        window_size, sigma: The Gaussian window (images smaller than it use the largest odd size that fits).
    """
    prediction, target = _as_batch(prediction, target)
    return _ssim(prediction, target, data_range, window_size=window_size, sigma=sigma, reduction="none")


def _similarity_and_contrast(
    x: Tensor, y: Tensor, window: Tensor, c1: float, c2: float
) -> tuple[Tensor, Tensor]:
    """Per-image means ``(B,)`` of the SSIM map ``l · cs`` and of the contrast–structure term ``cs``."""
    mu_x, mu_y = gaussian_filter(x, window), gaussian_filter(y, window)
    var_x = gaussian_filter(x * x, window) - mu_x.square()
    var_y = gaussian_filter(y * y, window) - mu_y.square()
    cov = gaussian_filter(x * y, window) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x.square() + mu_y.square() + c1)
    contrast = (2 * cov + c2) / (var_x + var_y + c2)
    return (luminance * contrast).flatten(1).mean(1), contrast.flatten(1).mean(1)


def ms_ssim(
    prediction: Tensor,
    target: Tensor,
    data_range: float = 1.0,
    *,
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> Tensor:
    """Multi-scale SSIM of each image, shape ``(B,)`` (float64); see the module docstring.

    Args:
        prediction, target: ``(B, C, H, W)`` (``(C, H, W)`` and ``(H, W)`` are one image).
        data_range: Span of valid values.
        weights: Exponent of each scale, finest first; only the scales that fit are used, rescaled.
        window_size, sigma: The Gaussian window (shrunk to the image at the first scale if needed).
        k1, k2: Stabilising constants.

    Raises:
        ShapeError: Shapes differ or are not images.
        ConfigError: Empty or negative ``weights``, or ``data_range`` ≤ 0.
    """
    prediction, target = _as_batch(prediction, target)
    if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ConfigError(f"weights must be non-negative with a positive sum; got {tuple(weights)!r}")
    if data_range <= 0:
        raise ConfigError(f"data_range must be > 0; got {data_range!r}")
    smallest = min(prediction.shape[-2:])
    size = min(window_size, smallest if smallest % 2 else smallest - 1)
    n_scales = 1
    while n_scales < len(weights) and smallest // 2**n_scales >= size:
        n_scales += 1
    used = torch.tensor(weights[:n_scales], dtype=torch.float64)
    used = used / used.sum()
    window = gaussian_window(size, sigma, dtype=torch.float64).to(prediction.device)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    result = torch.ones(len(prediction), dtype=torch.float64, device=prediction.device)
    x, y = prediction, target
    for scale in range(n_scales):
        similarity, contrast = _similarity_and_contrast(x, y, window, c1, c2)
        if scale == n_scales - 1:
            result = result * similarity.clamp(min=0) ** used[scale]
        else:
            result = result * contrast.clamp(min=0) ** used[scale]
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return result


class StructuralSimilarity:
    """Accumulates SSIM or MS-SSIM over batches: the mean over every image seen (a sum and a count).

    Example: ``meter = StructuralSimilarity("ssim"); meter.update(x_hat, x); meter.compute()``.
    """

    def __init__(self, kind: str = "ssim", data_range: float = 1.0) -> None:
        if kind not in ("ssim", "ms_ssim"):
            raise ConfigError(f"kind must be 'ssim' or 'ms_ssim'; got {kind!r}")
        self.kind = kind
        self.data_range = data_range
        self.total = 0.0
        self.count = 0

    def update(self, prediction: Tensor, target: Tensor) -> Tensor:
        """Add a batch; returns its per-image values ``(B,)``."""
        function = ssim if self.kind == "ssim" else ms_ssim
        values = function(prediction, target, self.data_range)
        self.total += float(values.sum())
        self.count += len(values)
        return values

    def compute(self) -> float:
        """Mean over all images so far.

        Raises:
            ConfigError: No image was added.
        """
        if self.count == 0:
            raise ConfigError("no images were added; call update() first")
        return self.total / self.count

    def reset(self) -> None:
        """Forget every image added."""
        self.total, self.count = 0.0, 0

"""Image-quality metrics for rate–distortion evaluation, on 8-bit ``(H, W[, C])`` arrays.

MS-SSIM is :func:`aekit.metrics.ms_ssim`, the same kernel the codec trains with.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from aekit.errors import ShapeError
from aekit.metrics.structural import ms_ssim

__all__ = ["image_ms_ssim", "image_psnr", "ms_ssim"]


def _pair(reference: np.ndarray, distorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference, distorted = np.asarray(reference), np.asarray(distorted)
    if reference.shape != distorted.shape:
        raise ShapeError(f"images must have the same shape; got {reference.shape} and {distorted.shape}")
    if reference.ndim not in (2, 3):
        raise ShapeError(f"images must be (H, W) or (H, W, C); got {reference.shape}")
    return reference.astype(np.float64), distorted.astype(np.float64)


def image_psnr(reference: np.ndarray, distorted: np.ndarray, data_range: float = 255.0) -> float:
    """PSNR in dB, ``10·log10(range² / MSE)`` with the MSE over all pixels and channels (inf if equal).

    Args:
        reference, distorted: ``(H, W)`` or ``(H, W, C)`` arrays on the same scale.
        data_range: Peak value (255 for 8-bit images).
    """
    reference, distorted = _pair(reference, distorted)
    mse = float(np.mean((reference - distorted) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(data_range**2 / mse)


def image_ms_ssim(reference: np.ndarray, distorted: np.ndarray, data_range: float = 255.0) -> float:
    """MS-SSIM of two ``(H, W)`` or ``(H, W, C)`` images, computed per channel and averaged (float64)."""
    reference, distorted = _pair(reference, distorted)
    if reference.ndim == 2:
        reference, distorted = reference[..., None], distorted[..., None]
    as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None]  # noqa: E731
    return float(ms_ssim(as_tensor(reference), as_tensor(distorted), data_range=data_range)[0])

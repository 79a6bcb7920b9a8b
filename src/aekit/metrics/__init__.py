"""Metrics: functional forms over tensors."""

from __future__ import annotations

from aekit.metrics.image import mse_per_sample, psnr
from aekit.metrics.structural import StructuralSimilarity, ms_ssim, ssim

__all__ = ["StructuralSimilarity", "ms_ssim", "mse_per_sample", "psnr", "ssim"]

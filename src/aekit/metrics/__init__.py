"""Metrics: functional forms over tensors."""

from __future__ import annotations

from aekit.metrics.frechet import feature_statistics, frechet_distance, frechet_feature_distance
from aekit.metrics.image import mse_per_sample, psnr
from aekit.metrics.structural import StructuralSimilarity, ms_ssim, ssim

__all__ = [
    "StructuralSimilarity",
    "feature_statistics",
    "frechet_distance",
    "frechet_feature_distance",
    "ms_ssim",
    "mse_per_sample",
    "psnr",
    "ssim",
]

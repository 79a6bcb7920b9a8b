"""Metrics: functional forms over tensors."""

from __future__ import annotations

from aekit.metrics.image import mse_per_sample, psnr

__all__ = ["mse_per_sample", "psnr"]

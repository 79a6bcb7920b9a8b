"""Structural similarity metrics: SSIM and multi-scale SSIM per image (float64), and an accumulating form.

Both are computed by the one kernel in :mod:`aekit.losses.ssim` (its docstring gives the formulas and the
MS-SSIM convention, that of ``pytorch_msssim`` on images of at least 161 pixels a side); this module
evaluates them in float64 and accumulates them over batches.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from aekit.errors import ConfigError
from aekit.losses import ssim as kernel
from aekit.losses.ssim import MS_SSIM_WEIGHTS

__all__ = ["MS_SSIM_WEIGHTS", "StructuralSimilarity", "ms_ssim", "ssim"]


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
    return kernel.ssim(
        prediction.double(),
        target.double(),
        data_range,
        window_size=window_size,
        sigma=sigma,
        reduction="none",
    )


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
    """Multi-scale SSIM of each image, shape ``(B,)`` (float64); see :func:`aekit.losses.ssim.ms_ssim`.

    Raises:
        ShapeError: Shapes differ or are not images.
        ConfigError: Empty or negative ``weights``, or ``data_range`` ≤ 0.
    """
    return kernel.ms_ssim(
        prediction.double(),
        target.double(),
        data_range,
        weights=weights,
        window_size=window_size,
        sigma=sigma,
        k1=k1,
        k2=k2,
    )


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

"""Bjøntegaard delta rate: the average bitrate difference of two codecs at equal quality.

G. Bjøntegaard, "Calculation of average PSNR differences between RD-curves", VCEG-M33, 2001. Each
curve's log-rate is fitted as a cubic polynomial of quality; the two fits are integrated over the quality
range both curves cover, and the mean log-rate difference is turned into a percentage. Negative means
the test codec needs fewer bits than the anchor for the same quality.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from aekit.errors import DataError

__all__ = ["bd_rate"]


def _curve(rates: Sequence[float], quality: Sequence[float], name: str) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(rates, dtype=np.float64)
    q = np.asarray(quality, dtype=np.float64)
    if r.shape != q.shape or r.ndim != 1:
        raise DataError(f"{name} rates and quality must be 1-D of equal length; got {r.shape} and {q.shape}")
    if len(r) < 4:
        raise DataError(f"{name} needs at least 4 rate–quality points for a cubic fit; got {len(r)}")
    if not (np.isfinite(r).all() and np.isfinite(q).all()) or (r <= 0).any():
        raise DataError(f"{name} rates must be positive and finite and quality finite; got {r} and {q}")
    return np.log(r), q


def bd_rate(
    anchor_rates: Sequence[float],
    anchor_quality: Sequence[float],
    test_rates: Sequence[float],
    test_quality: Sequence[float],
) -> float:
    """Bjøntegaard delta rate of ``test`` against ``anchor`` in percent.

    Args:
        anchor_rates, anchor_quality: The reference codec's points (rate, e.g. bpp; quality, e.g. PSNR).
        test_rates, test_quality: The evaluated codec's points.

    Returns:
        ``100 · (exp(mean Δ log rate) − 1)``; negative = ``test`` saves bits.

    Raises:
        DataError: Fewer than 4 points, non-positive or non-finite values, or curves whose quality
            ranges do not overlap.
    """
    log_anchor, q_anchor = _curve(anchor_rates, anchor_quality, "anchor")
    log_test, q_test = _curve(test_rates, test_quality, "test")
    low = max(q_anchor.min(), q_test.min())
    high = min(q_anchor.max(), q_test.max())
    if not high > low:
        raise DataError(
            f"the quality ranges do not overlap: anchor [{q_anchor.min():.4g}, {q_anchor.max():.4g}], "
            f"test [{q_test.min():.4g}, {q_test.max():.4g}]"
        )
    anchor_fit = np.polyint(np.polyfit(q_anchor, log_anchor, 3))
    test_fit = np.polyint(np.polyfit(q_test, log_test, 3))
    anchor_area = np.polyval(anchor_fit, high) - np.polyval(anchor_fit, low)
    test_area = np.polyval(test_fit, high) - np.polyval(test_fit, low)
    return 100 * (math.exp((test_area - anchor_area) / (high - low)) - 1)

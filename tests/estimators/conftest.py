"""Small tabular data for the estimator tests: normal rows near a 2-D plane in 6-D, and off-plane outliers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

FAST: dict[str, Any] = {
    "hidden_dims": (16,),
    "latent_dim": 2,
    "epochs": 15,
    "batch_size": 32,
    "device": "cpu",
}


def plane_data(n_normal: int, n_outliers: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``(n, 6)`` and labels (1 = outlier): normal rows lie near a fixed 2-D plane."""
    rng = np.random.default_rng(seed)
    basis = np.array([[1.0, 0.5, -0.5, 0.2, 0.0, 1.0], [0.0, 1.0, 0.5, -1.0, 0.8, 0.3]])
    normal = rng.normal(size=(n_normal, 2)) @ basis + 0.05 * rng.normal(size=(n_normal, 6))
    outliers = rng.normal(scale=2.0, size=(n_outliers, 6))
    x = np.vstack([normal, outliers]) * np.array([1, 10, 100, 1, 0.1, 5]) + 3.0
    return x, np.r_[np.zeros(n_normal, int), np.ones(n_outliers, int)]


@pytest.fixture
def fast_options() -> dict[str, Any]:
    """Hyperparameters of a small network that trains in well under a second."""
    return dict(FAST)


@pytest.fixture
def normal_rows() -> np.ndarray:
    """200 normal training rows with very different feature scales."""
    return plane_data(200, 0, seed=0)[0]


@pytest.fixture
def test_rows() -> tuple[np.ndarray, np.ndarray]:
    """100 normal and 20 outlier rows with labels (1 = outlier)."""
    return plane_data(100, 20, seed=1)

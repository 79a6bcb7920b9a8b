"""Models and data for the anomaly tests: a closed-form PCA model (instant) on near-planar rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import aekit
from aekit.data.normalization import Normalizer
from aekit.models.files import ModelBundle
from aekit.models.pca import PCAAutoencoder


def rows(n_normal: int, n_outliers: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 5)`` rows near a 2-D plane plus off-plane outliers; labels 1 = outlier."""
    rng = np.random.default_rng(seed)
    basis = np.array([[1.0, 0.5, -0.5, 0.2, 0.0], [0.0, 1.0, 0.5, -1.0, 0.8]])
    normal = rng.normal(size=(n_normal, 2)) @ basis + 0.05 * rng.normal(size=(n_normal, 5))
    outliers = rng.normal(scale=1.5, size=(n_outliers, 5))
    return np.vstack([normal, outliers]) * 10 + 50, np.r_[np.zeros(n_normal, int), np.ones(n_outliers, int)]


@pytest.fixture
def labelled() -> tuple[np.ndarray, np.ndarray]:
    """90 normal and 10 outlier rows, shuffled, with labels."""
    x, y = rows(90, 10, seed=1)
    order = np.random.default_rng(5).permutation(len(x))
    return x[order], y[order]


@pytest.fixture
def normal() -> np.ndarray:
    """The 300 normal rows the PCA model was fitted on."""
    return rows(300, 0, seed=0)[0]


@pytest.fixture
def pca_bundle(tmp_path: Path) -> ModelBundle:
    """A 2-component PCA model fitted on 300 normal rows, saved with its standardisation and loaded."""
    x, _ = rows(300, 0, seed=0)
    normalizer = Normalizer.fit(torch.from_numpy(x), "standardize")
    model = aekit.create("pca", input_shape=(5,), latent_dim=2)
    assert isinstance(model, PCAAutoencoder)
    model.fit_closed_form(normalizer.transform(torch.from_numpy(x)).float())
    folder = aekit.save_model(
        model, tmp_path / "pca", normalizer=normalizer, metadata={"feature_names": list("abcde")}
    )
    return aekit.load(folder)

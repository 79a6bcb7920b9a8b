"""PCA as a linear autoencoder equals scikit-learn's PCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError
from aekit.models import create
from aekit.training.fit import fit


@pytest.mark.parametrize("latent_dim", [2, 8, 20])
def test_pca_reconstruction_error_equals_sklearn(digits: TensorData, latent_dim: int) -> None:
    model = create("pca", input_shape=(1, 8, 8), latent_dim=latent_dim)
    fit(model, digits.x)
    flat = digits.x.flatten(1).numpy().astype(np.float64)
    reference = PCA(latent_dim).fit(flat)
    ours = ((model.reconstruct(digits.x).flatten(1).double().numpy() - flat) ** 2).mean()
    theirs = ((reference.inverse_transform(reference.transform(flat)) - flat) ** 2).mean()
    assert ours == pytest.approx(theirs, rel=1e-5)
    np.testing.assert_allclose(model.encode(digits.x).numpy(), reference.transform(flat), atol=1e-4)


def test_pca_error_decreases_with_more_components(digits: TensorData) -> None:
    errors = []
    for k in (2, 8, 32):
        model = create("pca", input_shape=(1, 8, 8), latent_dim=k)
        history = fit(model, digits.x)
        errors.append(history["train_recon"][0])
    assert errors[0] > errors[1] > errors[2]


def test_pca_needs_enough_samples() -> None:
    model = create("pca", input_shape=(4,), latent_dim=3)
    with pytest.raises(DataError, match="at least latent_dim=3 samples"):
        model.fit_closed_form(torch.rand(2, 4))


def test_pca_latent_cannot_exceed_features() -> None:
    with pytest.raises(ConfigError, match="latent_dim must be ≤ the number of features 4"):
        create("pca", input_shape=(4,), latent_dim=5)

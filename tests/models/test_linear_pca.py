"""A linear autoencoder trained by gradient descent finds PCA's subspace and error (Baldi & Hornik 1989)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

from aekit.models import create

N_FEATURES, N_COMPONENTS = 10, 3


@pytest.fixture(scope="module")
def low_rank_data() -> torch.Tensor:
    """400 samples near a 3-dimensional subspace of R^10 (variances 9, 4, 2.25 vs noise 0.09), off-centre."""
    generator = torch.Generator().manual_seed(0)
    basis, _ = torch.linalg.qr(torch.randn(N_FEATURES, N_COMPONENTS, generator=generator))
    factors = torch.randn(400, N_COMPONENTS, generator=generator) * torch.tensor([3.0, 2.0, 1.5])
    noise = 0.3 * torch.randn(400, N_FEATURES, generator=generator)
    return factors @ basis.T + noise + 0.5


@pytest.fixture(scope="module")
def linear_autoencoder(low_rank_data: torch.Tensor):
    model = create(
        "mlp",
        input_shape=(N_FEATURES,),
        latent_dim=N_COMPONENTS,
        hidden_dims=(),
        latent_activation="identity",
        output_activation="identity",
        reconstruction="mse",
        seed=0,
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
    for _ in range(500):  # full-batch gradient steps on the model's own loss
        optimizer.zero_grad()
        model.loss(model(low_rank_data), low_rank_data)["loss"].backward()
        optimizer.step()
    return model.eval()


def _mse(model, data: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model.reconstruct(data) - data).square().mean())


def test_the_registered_pca_matches_scikit_learn(low_rank_data: torch.Tensor) -> None:
    reference = PCA(n_components=N_COMPONENTS).fit(low_rank_data.numpy())
    pca = create("pca", input_shape=(N_FEATURES,), latent_dim=N_COMPONENTS).fit_closed_form(low_rank_data)
    assert np.max(subspace_angles(pca.components.T.numpy(), reference.components_.T)) < 1e-4
    restored = reference.inverse_transform(reference.transform(low_rank_data.numpy()))
    assert _mse(pca, low_rank_data) == pytest.approx(
        float(np.mean((restored - low_rank_data.numpy()) ** 2)), rel=1e-5
    )


def test_linear_autoencoder_spans_the_principal_subspace(
    linear_autoencoder, low_rank_data: torch.Tensor
) -> None:
    principal = PCA(n_components=N_COMPONENTS).fit(low_rank_data.numpy()).components_.T
    decoder_columns = linear_autoencoder.decoder[0].weight.detach().numpy()  # (n_features, latent_dim)
    encoder_rows = linear_autoencoder.encoder[0].weight.detach().numpy().T  # (n_features, latent_dim)
    assert np.max(subspace_angles(decoder_columns, principal)) < 0.01
    assert np.max(subspace_angles(encoder_rows, principal)) < 0.01
    # A wrong subspace is far away: the angle to the 4th-10th principal directions is ~π/2.
    minor = PCA().fit(low_rank_data.numpy()).components_[N_COMPONENTS:].T
    assert np.min(subspace_angles(decoder_columns, minor)) > 1.5


def test_linear_autoencoder_matches_pca_reconstruction_error(
    linear_autoencoder, low_rank_data: torch.Tensor
) -> None:
    pca = create("pca", input_shape=(N_FEATURES,), latent_dim=N_COMPONENTS).fit_closed_form(low_rank_data)
    pca_error, autoencoder_error = _mse(pca, low_rank_data), _mse(linear_autoencoder, low_rank_data)
    assert autoencoder_error == pytest.approx(pca_error, rel=1e-3)
    assert autoencoder_error >= pca_error * (1 - 1e-4)  # PCA is the optimum among rank-3 linear maps
    two_components = create("pca", input_shape=(N_FEATURES,), latent_dim=2).fit_closed_form(low_rank_data)
    assert _mse(two_components, low_rank_data) > 2 * pca_error  # the tolerance above is meaningful

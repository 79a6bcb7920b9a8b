"""Tiny trained models shared by the latent-space tests (trained once per session, in seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aekit.data.normalization import Normalizer
from aekit.data.tensors import TensorData
from aekit.models import create
from aekit.models.files import ModelBundle, load, save_model
from aekit.training.fit import fit


def _train_and_save(folder: Path, name: str, data: TensorData, epochs: int, **options) -> ModelBundle:
    model = create(name, input_shape=data.sample_shape, seed=0, **options)
    fit(model, data.x, y=data.y, epochs=epochs, batch_size=128, device="cpu", learning_rate=5e-3)
    save_model(model, folder, normalizer=Normalizer.range(0.0, 16.0))
    return load(folder)


@pytest.fixture(scope="session")
def raw_digits() -> TensorData:
    """The 8×8 digits in their raw 0..16 scale (models normalise with their stored normaliser)."""
    from aekit.data import load_digits

    return load_digits().data


@pytest.fixture(scope="session")
def mlp_bundle(tmp_path_factory: pytest.TempPathFactory, digits: TensorData) -> ModelBundle:
    """An MLP autoencoder (latent 8) trained briefly on all digits, loaded back from its folder."""
    folder = tmp_path_factory.mktemp("mlp_model")
    return _train_and_save(
        folder, "mlp", digits, 10, latent_dim=8, hidden_dims=(64,), output_activation="sigmoid"
    )


@pytest.fixture(scope="session")
def vae_bundle(tmp_path_factory: pytest.TempPathFactory, digits: TensorData) -> ModelBundle:
    """A VAE with a 2-D latent trained briefly on the digits."""
    folder = tmp_path_factory.mktemp("vae_model")
    return _train_and_save(folder, "vae", digits, 8, latent_dim=2, hidden_dims=(64,))


@pytest.fixture(scope="session")
def cvae_bundle(tmp_path_factory: pytest.TempPathFactory, digits: TensorData) -> ModelBundle:
    """A conditional VAE (10 classes, latent 2) trained briefly on the labelled digits."""
    folder = tmp_path_factory.mktemp("cvae_model")
    return _train_and_save(folder, "cvae", digits, 8, latent_dim=2, hidden_dims=(64,), n_classes=10)

"""Shared fixtures: tiny datasets so the whole suite stays fast on 2 cores."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aekit.data.tensors import TensorData

# Fixtures used by tests in several folders live in tests/fixtures/ (the folders mirror src/aekit/).
pytest_plugins = [
    "fixtures.anomaly",
    "fixtures.compression",
    "fixtures.families",
    "fixtures.latent",
    "fixtures.restore",
]

MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def digits() -> TensorData:
    """scikit-learn's 8×8 digits scaled to [0, 1], shape (1797, 1, 8, 8), with labels."""
    from aekit.data import load_digits

    loaded = load_digits()
    return TensorData(loaded.data.x / 16.0, loaded.data.y)


@pytest.fixture
def small_digits(digits: TensorData) -> TensorData:
    """The first 256 digits."""
    return digits.subset(torch.arange(256))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST files when present beside the checkout; tests using it skip otherwise."""
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found in {MNIST_DIR}")
    return MNIST_DIR

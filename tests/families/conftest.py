"""Fixtures of the family property tests: the 8×8 digits in [0, 1] and quick training settings."""

from __future__ import annotations

import pytest

from aekit.data.tensors import TensorData
from aekit.training import TrainConfig


@pytest.fixture(scope="session")
def digits01() -> TensorData:
    """scikit-learn's 1797 8×8 digits scaled to [0, 1], shape (1797, 1, 8, 8), labels 0..9."""
    from aekit.data import load_digits

    loaded = load_digits()
    return TensorData(loaded.data.x / 16.0, loaded.data.y)


@pytest.fixture
def quick() -> TrainConfig:
    """One CPU epoch of small batches, no progress output."""
    return TrainConfig(epochs=1, batch_size=32, device="cpu")

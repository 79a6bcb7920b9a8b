"""Fixtures for the model property tests: small real data and seeded generators."""

from __future__ import annotations

import pytest
import torch

from aekit.data import load_digits


@pytest.fixture(scope="session")
def digit_images() -> torch.Tensor:
    """The first 512 of scikit-learn's 8×8 digits, scaled to [0, 1]: ``(512, 1, 8, 8)``."""
    return load_digits().data.x[:512] / 16.0


@pytest.fixture
def generator() -> torch.Generator:
    """A CPU generator with a fixed seed."""
    return torch.Generator().manual_seed(0)

"""Fixtures of the codec tests: a tiny codec with built tables and a small natural-looking image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aekit.models.compression import Codec, CodecConfig
from aekit.models.registry import create


@pytest.fixture(scope="session")
def tiny_config() -> CodecConfig:
    return CodecConfig(
        input_shape=(3, 16, 16),
        hidden_channels=8,
        latent_channels=6,
        lmbda=(0.005, 0.05),
        n_stages=2,
        kernel_size=3,
    )


@pytest.fixture(scope="session")
def tiny_codec(tiny_config: CodecConfig) -> Codec:
    """An untrained codec (seeded) whose tables are built; good enough to exercise every byte path."""
    torch.set_num_threads(1)
    model = create("codec", seed=0, **tiny_config.to_dict())
    model.eval()
    model.update_tables()
    return model


@pytest.fixture(scope="session")
def smooth_image() -> np.ndarray:
    """A 37×53 RGB uint8 image with smooth gradients and some texture (odd size on purpose)."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:37, 0:53]
    base = np.stack([rows * 5, cols * 4, (rows + cols) * 2], axis=-1).astype(np.float64)
    return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)

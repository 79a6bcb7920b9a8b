"""Fixtures for the data tests: the shared MNIST copy (when present) and seeded generators."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

SHARED_MNIST = Path("/work/shared/data/mnist")


@pytest.fixture
def mnist_dir() -> Path:
    """Folder holding the four real MNIST files; the test is skipped where they are absent."""
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    names += ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    if not all((SHARED_MNIST / name).is_file() for name in names):
        pytest.skip(f"real MNIST files not found in {SHARED_MNIST}")
    return SHARED_MNIST


@pytest.fixture
def generator() -> torch.Generator:
    """A CPU generator with a fixed seed."""
    return torch.Generator().manual_seed(0)

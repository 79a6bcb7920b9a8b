"""aekit: autoencoders of every family, their applications, and honest benchmarks, on PyTorch.

Importing ``aekit`` is cheap; the names below load their modules on first use.

>>> import aekit
>>> model = aekit.create("conv", input_shape=(1, 8, 8), latent_dim=4, seed=0)
>>> model.encode(__import__("torch").rand(2, 1, 8, 8)).shape
torch.Size([2, 4])
"""

from __future__ import annotations

import importlib
from typing import Any

from aekit._version import __version__

__all__ = [
    "History",
    "Normalizer",
    "TensorData",
    "TrainConfig",
    "Trainer",
    "__version__",
    "create",
    "fit",
    "load",
    "load_model",
    "models",
    "save_model",
]

_LAZY = {
    "History": "aekit.training",
    "TrainConfig": "aekit.training",
    "Trainer": "aekit.training",
    "fit": "aekit.training.fit",
    "Normalizer": "aekit.data.normalization",
    "TensorData": "aekit.data.tensors",
    "create": "aekit.models",
    "load": "aekit.models.files",
    "load_model": "aekit.models.files",
    "save_model": "aekit.models.files",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "models":
        return importlib.import_module("aekit.models")
    raise AttributeError(f"module 'aekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

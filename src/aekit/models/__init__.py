"""Autoencoder models: every family behind one interface, found by name in the registry."""

from __future__ import annotations

from aekit.models import ae, pca  # noqa: F401  (importing registers the families)
from aekit.models.ae import ConvAutoencoder, ConvAutoencoderConfig, MLPAutoencoder, MLPAutoencoderConfig
from aekit.models.base import (
    AbstractAutoencoder,
    AbstractGenerativeAutoencoder,
    AEOutput,
    LossTerms,
    ModelConfig,
    Phase,
)
from aekit.models.pca import PCAAutoencoder, PCAConfig
from aekit.models.registry import create, from_config, get, names, register_model, register_preset

__all__ = [
    "AEOutput",
    "AbstractAutoencoder",
    "AbstractGenerativeAutoencoder",
    "ConvAutoencoder",
    "ConvAutoencoderConfig",
    "LossTerms",
    "MLPAutoencoder",
    "MLPAutoencoderConfig",
    "ModelConfig",
    "PCAAutoencoder",
    "PCAConfig",
    "Phase",
    "create",
    "from_config",
    "get",
    "names",
    "register_model",
    "register_preset",
]

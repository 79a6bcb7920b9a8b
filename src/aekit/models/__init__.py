"""Autoencoder models: every family behind one interface, found by name in the registry."""

from __future__ import annotations

from aekit.models import (  # noqa: F401  (importing a module registers its families and presets)
    adversarial,
    adversarial_recon,
    ae,
    classifier,
    compression,
    ensemble,
    hvae,
    hyperprior,
    inpainting,
    multi_decoder,
    pca,
    photo_denoiser,
    photo_inpainter,
    presets,
    segmentation,
    stacked,
    vae,
)
from aekit.models.adversarial import (
    AdversarialAutoencoder,
    AdversarialAutoencoderConfig,
    ConditionalAdversarialAutoencoder,
    ConditionalAdversarialAutoencoderConfig,
)
from aekit.models.adversarial_recon import AdversarialReconstruction, AdversarialReconstructionConfig
from aekit.models.ae import ConvAutoencoder, ConvAutoencoderConfig, MLPAutoencoder, MLPAutoencoderConfig
from aekit.models.base import (
    AbstractAutoencoder,
    AbstractGenerativeAutoencoder,
    AEOutput,
    LossTerms,
    ModelConfig,
    Phase,
)
from aekit.models.hvae import HierarchicalVAE, HierarchicalVAEConfig
from aekit.models.multi_decoder import MultiDecoderAutoencoder, MultiDecoderConfig
from aekit.models.pca import PCAAutoencoder, PCAConfig
from aekit.models.photo_denoiser import PhotoDenoiser, PhotoDenoiserConfig
from aekit.models.photo_inpainter import PhotoInpainter, PhotoInpainterConfig
from aekit.models.registry import create, from_config, get, names, register_model, register_preset
from aekit.models.segmentation import SegmentationAutoencoder, SegmentationConfig
from aekit.models.stacked import StackedAutoencoder, StackedAutoencoderConfig
from aekit.models.vae import CVAE, VAE, CVAEConfig, VAEConfig, VAEOutput

__all__ = [
    "CVAE",
    "VAE",
    "AEOutput",
    "AbstractAutoencoder",
    "AbstractGenerativeAutoencoder",
    "AdversarialAutoencoder",
    "AdversarialAutoencoderConfig",
    "AdversarialReconstruction",
    "AdversarialReconstructionConfig",
    "CVAEConfig",
    "ConditionalAdversarialAutoencoder",
    "ConditionalAdversarialAutoencoderConfig",
    "ConvAutoencoder",
    "ConvAutoencoderConfig",
    "HierarchicalVAE",
    "HierarchicalVAEConfig",
    "LossTerms",
    "MLPAutoencoder",
    "MLPAutoencoderConfig",
    "ModelConfig",
    "MultiDecoderAutoencoder",
    "MultiDecoderConfig",
    "PCAAutoencoder",
    "PCAConfig",
    "Phase",
    "PhotoDenoiser",
    "PhotoDenoiserConfig",
    "PhotoInpainter",
    "PhotoInpainterConfig",
    "SegmentationAutoencoder",
    "SegmentationConfig",
    "StackedAutoencoder",
    "StackedAutoencoderConfig",
    "VAEConfig",
    "VAEOutput",
    "create",
    "from_config",
    "get",
    "names",
    "register_model",
    "register_preset",
]

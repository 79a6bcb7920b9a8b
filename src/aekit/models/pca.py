"""PCA as the linear autoencoder baseline, with a closed-form fit.

A linear autoencoder trained with squared error spans the principal subspace (Baldi & Hornik 1989);
PCA reaches that optimum in one SVD, so every nonlinear model in aekit is measured against it.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
from torch import Tensor

from aekit.config import check_positive
from aekit.errors import ConfigError, DataError
from aekit.losses.functional import mse
from aekit.models.base import AbstractAutoencoder, AEOutput, Fitting, LossTerms, ModelConfig
from aekit.models.registry import register_model

__all__ = ["PCAAutoencoder", "PCAConfig"]


@dataclasses.dataclass(frozen=True)
class PCAConfig(ModelConfig):
    """Config of :class:`PCAAutoencoder`.

    Attributes:
        latent_dim: Number of principal components kept.
    """

    latent_dim: int = 32

    def validate(self) -> None:
        super().validate()
        check_positive("latent_dim", self.latent_dim)
        if self.latent_dim > math.prod(self.input_shape):
            raise ConfigError(
                f"latent_dim must be ≤ the number of features {math.prod(self.input_shape)}; "
                f"got {self.latent_dim}"
            )


@register_model("pca")
class PCAAutoencoder(AbstractAutoencoder[PCAConfig]):
    """Linear autoencoder ``z = W (x − μ)``, ``x̂ = Wᵀ z + μ`` with ``W`` the top principal directions."""

    config_class = PCAConfig
    loss_terms: ClassVar[tuple[str, ...]] = ("loss", "recon")
    fitting: ClassVar[Fitting] = "closed_form"
    mean: Tensor
    components: Tensor
    explained_variance: Tensor

    def __init__(self, config: PCAConfig) -> None:
        super().__init__(config)
        n_features = math.prod(config.input_shape)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("components", torch.eye(config.latent_dim, n_features))
        self.register_buffer("explained_variance", torch.zeros(config.latent_dim))

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def fit_closed_form(self, x: Tensor) -> PCAAutoencoder:
        """Fit mean and components by SVD of the centred data ``x`` ``(N, *input_shape)``.

        Computed in float64 so the result matches scikit-learn's PCA to float precision.

        Raises:
            DataError: If there are fewer samples than components.
        """
        self.check_input(x)
        if len(x) < self.latent_dim:
            raise DataError(f"PCA needs at least latent_dim={self.latent_dim} samples; got {len(x)}")
        flat = x.flatten(1).double()
        mean = flat.mean(0)
        _, singular_values, vh = torch.linalg.svd(flat - mean, full_matrices=False)
        components = vh[: self.latent_dim]
        # Fix the sign as scikit-learn does (largest-magnitude loading positive) for reproducible codes.
        signs = torch.sign(components.gather(1, components.abs().argmax(1, keepdim=True)))
        self.mean.copy_(mean)
        self.components.copy_(components * signs)
        self.explained_variance.copy_(singular_values[: self.latent_dim].square() / max(len(x) - 1, 1))
        return self

    def encode(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        self.check_input(x)
        return (x.flatten(1) - self.mean) @ self.components.T

    def decode(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        return (z @ self.components + self.mean).reshape(-1, *self.input_shape)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> AEOutput:
        z = self.encode(x)
        return AEOutput(x_hat=self.decode(z), z=z)

    def loss(self, output: AEOutput, target: Tensor) -> LossTerms:
        """``loss = recon``: mean squared error over all elements."""
        recon = mse(output.x_hat, target)
        return {"loss": recon, "recon": recon}

"""Fréchet distance between two sets of feature vectors, each summarised by a Gaussian.

``FD = ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2})`` is the squared 2-Wasserstein distance between
``N(μ_a, Σ_a)`` and ``N(μ_b, Σ_b)`` (Dowson & Landau 1982). Heusel et al. ("GANs trained by a two
time-scale update rule converge to a local Nash equilibrium", NeurIPS 2017) apply it to Inception-v3
features of generated and real images (FID). Here the features can come from any network; values are
only comparable between runs that use the same feature network and sample sizes. In particular a distance
in the features of a small MNIST classifier is **not** an Inception FID and must not be compared with
published FIDs.

The matrix square root's trace is computed from the eigenvalues of ``Σ_a^{1/2} Σ_b Σ_a^{1/2}`` (symmetric
positive semi-definite, so no complex parts), in float64.
"""

from __future__ import annotations

import torch
from torch import Tensor

from aekit.errors import ShapeError

__all__ = ["feature_statistics", "frechet_distance", "frechet_feature_distance"]


def feature_statistics(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean ``(d,)`` and unbiased covariance ``(d, d)`` of features ``(N, d)``, in float64.

    Raises:
        ShapeError: ``features`` is not 2-D with at least two rows.
    """
    if features.dim() != 2 or len(features) < 2:
        raise ShapeError(f"features must have shape (N, d) with N ≥ 2; got {tuple(features.shape)}")
    values = features.detach().to(torch.float64)
    return values.mean(0), torch.cov(values.T).reshape(values.shape[1], values.shape[1])


def _psd_sqrt(matrix: Tensor) -> Tensor:
    eigenvalues, eigenvectors = torch.linalg.eigh((matrix + matrix.T) / 2)
    return (eigenvectors * eigenvalues.clamp(min=0).sqrt()) @ eigenvectors.T


def frechet_distance(mean_a: Tensor, cov_a: Tensor, mean_b: Tensor, cov_b: Tensor) -> float:
    """The Fréchet distance between ``N(mean_a, cov_a)`` and ``N(mean_b, cov_b)``.

    Args:
        mean_a, mean_b: Means ``(d,)``.
        cov_a, cov_b: Covariances ``(d, d)`` (symmetric positive semi-definite).

    Raises:
        ShapeError: The shapes do not agree.
    """
    d = mean_a.shape[-1]
    if mean_a.shape != (d,) or mean_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise ShapeError(
            f"means must be (d,) and covariances (d, d) with one d; got {tuple(mean_a.shape)}, "
            f"{tuple(cov_a.shape)}, {tuple(mean_b.shape)}, {tuple(cov_b.shape)}"
        )
    mean_a, mean_b, cov_a, cov_b = (t.detach().to(torch.float64) for t in (mean_a, mean_b, cov_a, cov_b))
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_root = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    distance = (mean_a - mean_b).square().sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * trace_root
    return max(float(distance), 0.0)


def frechet_feature_distance(features_a: Tensor, features_b: Tensor) -> float:
    """The Fréchet distance between the Gaussians fitted to two feature sets ``(N_a, d)`` and ``(N_b, d)``."""
    if features_a.dim() != 2 or features_b.dim() != 2 or features_a.shape[1] != features_b.shape[1]:
        raise ShapeError(
            f"feature sets must be (N, d) with the same d; got {tuple(features_a.shape)} and "
            f"{tuple(features_b.shape)}"
        )
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))

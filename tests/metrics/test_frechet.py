"""Fréchet distance: zero for identical sets, the closed form for Gaussians, symmetric, shape errors."""

from __future__ import annotations

import math

import pytest
import torch

from aekit.errors import ShapeError
from aekit.metrics.frechet import feature_statistics, frechet_distance, frechet_feature_distance


def test_identical_feature_sets_are_at_distance_zero() -> None:
    features = torch.randn(500, 6, generator=torch.Generator().manual_seed(0))
    assert frechet_feature_distance(features, features.clone()) == pytest.approx(0.0, abs=1e-8)


def test_two_isotropic_gaussians_have_the_closed_form_distance() -> None:
    # N(0, I) and N(m, s² I) in d dimensions: ‖m‖² + d (1 − s)²
    d, s = 5, 2.0
    mean = torch.arange(d, dtype=torch.float64)
    value = frechet_distance(torch.zeros(d), torch.eye(d), mean, s**2 * torch.eye(d))
    assert value == pytest.approx(float(mean.square().sum()) + d * (1 - s) ** 2)


def test_the_distance_of_full_covariances_matches_the_matrix_square_root() -> None:
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(4, 4, generator=generator, dtype=torch.float64)
    b = torch.randn(4, 4, generator=generator, dtype=torch.float64)
    cov_a, cov_b = a @ a.T + 0.1 * torch.eye(4), b @ b.T + 0.1 * torch.eye(4)
    mean_a, mean_b = torch.zeros(4), torch.ones(4)
    eigenvalues = torch.linalg.eigvals(cov_a @ cov_b).real.clamp(min=0)  # Tr (Σa Σb)^{1/2}
    expected = 4.0 + float(torch.trace(cov_a) + torch.trace(cov_b) - 2 * eigenvalues.sqrt().sum())
    assert frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(mean_b, cov_b, mean_a, cov_a) == pytest.approx(expected, rel=1e-6)


def test_sample_statistics_approach_the_population_distance() -> None:
    generator = torch.Generator().manual_seed(2)
    a = torch.randn(20_000, 3, generator=generator)
    b = 1.5 * torch.randn(20_000, 3, generator=generator) + 1.0
    expected = 3 * 1.0 + 3 * (1 - 1.5) ** 2
    assert frechet_feature_distance(a, b) == pytest.approx(expected, rel=0.05)
    mean, cov = feature_statistics(a)
    assert mean.dtype == torch.float64 and cov.shape == (3, 3)
    assert math.isclose(float(cov.trace()), 3.0, rel_tol=0.05)


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ShapeError):
        frechet_feature_distance(torch.zeros(10, 3), torch.zeros(10, 4))
    with pytest.raises(ShapeError):
        feature_statistics(torch.zeros(1, 3))

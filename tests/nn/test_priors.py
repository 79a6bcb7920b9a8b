"""Latent priors: mixture densities are normalised and match the per-component sum; sampling follows them."""

from __future__ import annotations

import math

import pytest
import torch

from aekit.losses.functional import standard_normal_log_density
from aekit.nn.priors import (
    GaussianMixturePrior,
    MixtureComponents,
    PseudoInputs,
    mixture_log_density,
    sample_mixture,
    standard_components,
)


def _components() -> MixtureComponents:
    means = torch.tensor([[-2.0, 0.5], [1.0, 1.0], [0.0, -1.5]])
    logvars = torch.tensor([[0.0, -1.0], [-0.5, 0.3], [0.2, 0.2]])
    return MixtureComponents(means, logvars, torch.log(torch.tensor([0.2, 0.5, 0.3])))


def test_the_mixture_density_integrates_to_one() -> None:
    grid = torch.linspace(-9, 9, 601, dtype=torch.float64)
    step = float(grid[1] - grid[0])
    z = torch.cartesian_prod(grid, grid)
    components = _components()
    components = MixtureComponents(
        *(t.double() for t in (components.means, components.logvars, components.log_weights))
    )
    total = float(mixture_log_density(z, components).exp().sum()) * step**2
    assert total == pytest.approx(1.0, abs=1e-4)


def test_the_mixture_density_is_the_weighted_sum_of_its_components() -> None:
    components = _components()
    z = torch.randn(4, 5, 2, generator=torch.Generator().manual_seed(0))
    expected = torch.zeros(4, 5)
    for mean, logvar, log_weight in zip(
        components.means, components.logvars, components.log_weights, strict=True
    ):
        density = -0.5 * ((z - mean) ** 2 / logvar.exp() + logvar + math.log(2 * math.pi)).sum(-1)
        expected += (density + log_weight).exp()
    assert torch.allclose(mixture_log_density(z, components), expected.log(), atol=1e-5)
    standard = standard_components(2)
    assert torch.allclose(mixture_log_density(z, standard), standard_normal_log_density(z), atol=1e-5)


def test_samples_follow_the_mixture_and_the_temperature() -> None:
    components = _components()
    generator = torch.Generator().manual_seed(1)
    codes = sample_mixture(components, 40_000, generator=generator)
    mean = (components.log_weights.exp()[:, None] * components.means).sum(0)
    assert codes.shape == (40_000, 2)
    assert torch.allclose(codes.mean(0), mean, atol=0.05)
    cold = sample_mixture(components, 40_000, temperature=0.01, generator=generator)
    nearest = torch.cdist(cold, components.means).min(1).values
    assert float(nearest.max()) < 0.1  # near a component's mean


def test_prior_modules_hold_their_parameters() -> None:
    torch.manual_seed(0)
    prior = GaussianMixturePrior(latent_dim=3, n_components=4)
    components = prior.components()
    assert components.means.shape == (4, 3) and components.logvars.shape == (4, 3)
    assert float(components.detach().log_weights.exp().sum()) == pytest.approx(1.0)
    assert {name for name, _ in prior.named_parameters()} == {"means", "logvars", "logits"}
    pseudo = PseudoInputs((1, 4, 4), n_components=6)
    assert pseudo().shape == (6, 1, 4, 4)

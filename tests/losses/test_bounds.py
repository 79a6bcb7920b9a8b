"""Importance-weighted bounds: K = 1 is the ELBO, IWAE ≥ ELBO tightening towards log p(x); PIWAE gradients."""

from __future__ import annotations

import math

import pytest
import torch

from aekit.losses.bounds import elbo_bound, iwae_bound, piwae_surrogate


def _toy_log_weights(x: float, k: int, repeats: int, generator: torch.Generator) -> torch.Tensor:
    """Log-weights of p(z) = N(0, 1), p(x | z) = N(z, 1) (so p(x) = N(0, 2)) under q(z | x) = N(x / 3, 1)."""
    z = x / 3 + torch.randn(k, repeats, generator=generator, dtype=torch.float64)
    log_normal = lambda v, mean, var: -0.5 * ((v - mean) ** 2 / var + math.log(2 * math.pi * var))  # noqa: E731
    return log_normal(x, z, 1.0) + log_normal(z, 0.0, 1.0) - log_normal(z, x / 3, 1.0)


def test_one_sample_iwae_is_the_elbo() -> None:
    log_weights = torch.randn(1, 7)
    assert torch.allclose(iwae_bound(log_weights), elbo_bound(log_weights))


def test_iwae_lies_between_the_elbo_and_log_p_x_and_tightens_with_k() -> None:
    generator = torch.Generator().manual_seed(0)
    x = 1.5
    log_px = -0.5 * (x**2 / 2 + math.log(2 * math.pi * 2))
    elbo = float(elbo_bound(_toy_log_weights(x, 1, 20_000, generator)).mean())
    iwae_5 = float(iwae_bound(_toy_log_weights(x, 5, 20_000, generator)).mean())
    iwae_50 = float(iwae_bound(_toy_log_weights(x, 50, 4_000, generator)).mean())
    assert elbo < iwae_5 < iwae_50 <= log_px + 0.01
    assert log_px - iwae_50 < 0.1 * (log_px - elbo)
    # for any values, log-mean-exp ≥ mean (Jensen)
    values = torch.randn(10, 100, generator=generator) * 3
    assert bool((iwae_bound(values) >= elbo_bound(values) - 1e-6).all())


def test_piwae_has_the_iwae_value_and_routes_the_two_gradients() -> None:
    values = torch.tensor([[0.0], [1.0], [-2.0]])  # K = 3 draws of one sample
    decoder_side = values.clone().requires_grad_(True)
    encoder_side = values.clone().requires_grad_(True)
    objective = piwae_surrogate(decoder_side, encoder_side).sum()
    assert float(objective.detach()) == pytest.approx(float(iwae_bound(values).sum()))
    objective.backward()
    assert decoder_side.grad is not None and encoder_side.grad is not None
    assert torch.allclose(decoder_side.grad, torch.softmax(values, dim=0))  # IWAE's normalised weights
    assert torch.allclose(encoder_side.grad, torch.full_like(values, 1 / 3))  # the averaged ELBO's

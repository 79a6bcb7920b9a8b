"""Sparse autoencoders: the penalties follow their formulas and really make codes sparser."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import Bernoulli, kl_divergence

from aekit.errors import ConfigError
from aekit.losses.functional import kl_sparsity, l1_sparsity
from aekit.models import create
from aekit.training.fit import fit

SMALL = {"input_shape": (1, 8, 8), "latent_dim": 16, "hidden_dims": (32,)}


def _train(name: str, digit_images: torch.Tensor, **config):
    model = create(name, seed=0, **SMALL, **config)
    fit(model, digit_images, epochs=15, batch_size=64, learning_rate=3e-3, device="cpu", seed=0)
    return model.eval()


def test_l1_sparsity_is_the_mean_absolute_activation() -> None:
    code = torch.tensor([[1.0, -2.0], [0.0, 3.0]])
    assert l1_sparsity(code).item() == pytest.approx(1.5)


def test_kl_sparsity_sums_bernoulli_kl_of_the_mean_rates(generator: torch.Generator) -> None:
    rates = torch.rand(32, 5, generator=generator)
    expected = kl_divergence(Bernoulli(torch.full((5,), 0.05)), Bernoulli(rates.mean(0))).sum()
    assert kl_sparsity(rates, 0.05).item() == pytest.approx(expected.item(), rel=1e-5)
    assert kl_sparsity(torch.full((4, 3), 0.05), 0.05).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ConfigError, match=r"target must be in \(0, 1\); got 1\.5"):
        kl_sparsity(rates, 1.5)


def test_kl_penalty_uses_sigmoid_of_the_pre_activation(digit_images: torch.Tensor) -> None:
    model = create("mlp", seed=0, sparsity="kl", sparsity_target=0.1, **SMALL).eval()
    batch = digit_images[:32]
    rates = torch.sigmoid(model.encoder(batch.flatten(1)))
    assert model.sparsity_penalty(batch).item() == pytest.approx(kl_sparsity(rates, 0.1).item(), rel=1e-5)
    assert model.loss(model(batch), batch)["sparsity"].item() == pytest.approx(kl_sparsity(rates, 0.1).item())


def test_l1_sparse_codes_are_sparser_than_the_plain_models(digit_images: torch.Tensor) -> None:
    plain = _train("mlp", digit_images, latent_activation="relu")
    # the same ReLU code plus a strong L1 penalty (the preset's 3e-3 suits MNIST, not the 8×8 digits)
    sparse = _train("sparse", digit_images, sparsity_weight=3e-2)
    with torch.no_grad():
        plain_codes, sparse_codes = plain.encode(digit_images), sparse.encode(digit_images)
    assert sparse_codes.abs().mean() < 0.5 * plain_codes.abs().mean()
    assert (sparse_codes == 0).float().mean() > (plain_codes == 0).float().mean() + 0.05


def test_kl_sparse_codes_fire_near_the_target_rate(digit_images: torch.Tensor) -> None:
    plain = _train("mlp", digit_images, latent_activation="sigmoid")
    sparse = _train("sparse_kl", digit_images)  # the same sigmoid code plus the KL penalty toward ρ = 0.05
    with torch.no_grad():
        plain_rate, sparse_rate = plain.encode(digit_images).mean(), sparse.encode(digit_images).mean()
    assert sparse_rate < 0.5 * plain_rate
    assert sparse_rate.item() == pytest.approx(0.05, abs=0.03)


def test_loss_adds_the_weighted_penalty(digit_images: torch.Tensor) -> None:
    model = create("mlp", seed=0, sparsity="l1", sparsity_weight=0.25, **SMALL).eval()
    terms = model.loss(model(digit_images[:16]), digit_images[:16])
    assert terms["loss"].item() == pytest.approx(terms["recon"].item() + 0.25 * terms["sparsity"].item())
    assert terms["contractive"].item() == 0.0
    plain = create("mlp", seed=0, **SMALL).eval()
    assert plain.loss(plain(digit_images[:16]), digit_images[:16])["sparsity"].item() == 0.0

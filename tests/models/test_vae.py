"""Variational autoencoders: exact densities and KL, the β trade-off, and the IWAE bound's order."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

from aekit.errors import ConfigError, DataError, ShapeError
from aekit.losses.functional import (
    bernoulli_log_likelihood,
    diagonal_gaussian_log_density,
    gaussian_kl,
    gaussian_log_likelihood,
    log_mean_exp,
    standard_normal_log_density,
)
from aekit.models import create
from aekit.training.fit import fit

SMALL = {"input_shape": (1, 8, 8), "latent_dim": 4, "hidden_dims": (64,)}


def _trained(digit_images: torch.Tensor, **config):
    model = create("vae", seed=0, **{**SMALL, **config})
    fit(model, digit_images, epochs=15, batch_size=64, learning_rate=3e-3, device="cpu", seed=0)
    return model.eval()


@pytest.fixture(scope="module")
def trained_vae(digit_images: torch.Tensor):
    return _trained(digit_images)


# -- densities and divergences ---------------------------------------------------------------------
def test_gaussian_kl_equals_torch_distributions(generator: torch.Generator) -> None:
    mu, logvar = torch.randn(6, 3, generator=generator), torch.randn(6, 3, generator=generator)
    posterior = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
    prior = Independent(Normal(torch.zeros(3), torch.ones(3)), 1)
    expected = kl_divergence(posterior, prior)
    torch.testing.assert_close(gaussian_kl(mu, logvar, reduction="none"), expected)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected.mean())
    assert gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3)).item() == 0.0


def test_log_densities_equal_torch_distributions(generator: torch.Generator) -> None:
    z, mu, logvar = (torch.randn(5, 3, generator=generator) for _ in range(3))
    expected = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)
    torch.testing.assert_close(diagonal_gaussian_log_density(z, mu, logvar), expected)
    torch.testing.assert_close(standard_normal_log_density(z), Normal(0.0, 1.0).log_prob(z).sum(-1))
    logits, target = torch.randn(4, 1, 2, 3, generator=generator), torch.rand(4, 1, 2, 3, generator=generator)
    binary = (target > 0.5).float()
    torch.testing.assert_close(
        bernoulli_log_likelihood(logits, binary), Bernoulli(logits=logits).log_prob(binary).flatten(1).sum(1)
    )
    log_std = torch.tensor(-0.7)
    torch.testing.assert_close(
        gaussian_log_likelihood(logits, log_std, target),
        Normal(logits, log_std.exp()).log_prob(target).flatten(1).sum(1),
    )


def test_log_mean_exp_is_stable() -> None:
    values = torch.tensor([[1000.0, 1000.0], [-1000.0, -1000.0 + math.log(3.0)]])
    torch.testing.assert_close(log_mean_exp(values), torch.tensor([1000.0, -1000.0 + math.log(2.0)]))


# -- the model ---------------------------------------------------------------------------------------
def test_loss_is_negative_log_likelihood_plus_beta_kl(digit_images: torch.Tensor) -> None:
    model = create("vae", seed=0, beta=3.0, **SMALL).eval()
    batch = digit_images[:8]
    output = model(batch)
    terms = model.loss(output, batch)
    bernoulli = Bernoulli(logits=output.decoder_output, validate_args=False)  # grey levels as soft targets
    log_likelihood = bernoulli.log_prob(batch).flatten(1).sum(1)
    assert terms["recon"].item() == pytest.approx(-log_likelihood.mean().item(), rel=1e-5)
    assert terms["kl"].item() == pytest.approx(gaussian_kl(output.mu, output.logvar).item(), rel=1e-6)
    assert terms["loss"].item() == pytest.approx(terms["recon"].item() + 3.0 * terms["kl"].item(), rel=1e-6)
    torch.testing.assert_close(output.x_hat, torch.sigmoid(output.decoder_output))


def test_encode_is_the_posterior_mean_and_training_samples(digit_images: torch.Tensor) -> None:
    model = create("vae", seed=0, **SMALL)
    batch = digit_images[:8]
    model.eval()
    output = model(batch)
    torch.testing.assert_close(model.encode(batch), output.mu)
    torch.testing.assert_close(output.z, output.mu)
    model.train()
    assert not torch.allclose(model(batch).z, model.encode(batch))


def test_kl_shrinks_toward_the_prior_as_beta_grows(digit_images: torch.Tensor) -> None:
    kls = []
    for beta in (0.5, 2.0, 8.0):
        model = _trained(digit_images, beta=beta)
        with torch.no_grad():
            output = model(digit_images)
        kls.append(gaussian_kl(output.mu, output.logvar).item())
    assert kls[0] > kls[1] > kls[2]
    assert kls[0] > 10 * kls[2]


def test_iwae_bound_is_above_the_elbo_and_tightens_with_k(trained_vae, digit_images: torch.Tensor) -> None:
    batch = digit_images[:64]
    generator = torch.Generator().manual_seed(0)
    negative_elbo = -trained_vae.elbo(batch, n_samples=200, generator=generator).mean().item()
    nll = {k: trained_vae.iwae_nll(batch, k=k, generator=generator).mean().item() for k in (1, 10, 100, 1000)}
    assert nll[1] == pytest.approx(negative_elbo, abs=0.5)  # K = 1 is the ELBO (in expectation)
    assert nll[1] > nll[10] > nll[100]
    assert nll[1000] < nll[10]
    assert nll[10] < negative_elbo and nll[1000] < negative_elbo - 0.1


def test_iwae_is_reproducible_and_independent_of_the_chunk_size(
    trained_vae, digit_images: torch.Tensor
) -> None:
    batch = digit_images[:32]

    def estimate(seed: int, batch_size: int) -> torch.Tensor:
        return trained_vae.iwae_nll(
            batch, k=500, batch_size=batch_size, generator=torch.Generator().manual_seed(seed)
        )

    torch.testing.assert_close(estimate(0, 64), estimate(0, 64))
    assert abs(estimate(0, 7).mean().item() - estimate(1, 500).mean().item()) < 0.1
    assert estimate(0, 64).shape == (32,)
    with pytest.raises(ConfigError, match="k must be a positive integer; got 0"):
        trained_vae.iwae_nll(batch, k=0)


def test_sampling_uses_the_generator(trained_vae) -> None:
    first = trained_vae.sample(5, generator=torch.Generator().manual_seed(1))
    again = trained_vae.sample(5, generator=torch.Generator().manual_seed(1))
    other = trained_vae.sample(5, generator=torch.Generator().manual_seed(2))
    assert first.shape == (5, 1, 8, 8)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert first.min() >= 0 and first.max() <= 1
    with pytest.raises(ConfigError, match="n_samples must be a positive integer; got 0"):
        trained_vae.sample(0)


def test_gaussian_likelihood_learns_or_fixes_its_scale(digit_images: torch.Tensor) -> None:
    learned = create("vae", seed=0, likelihood="gaussian", **SMALL)
    fixed = create("vae", seed=0, likelihood="gaussian", observation_std=0.5, **SMALL).eval()
    assert "log_observation_std" in dict(learned.named_parameters())
    assert "log_observation_std" not in dict(fixed.named_parameters())
    output = fixed(digit_images[:4])
    expected = -Normal(output.x_hat, 0.5).log_prob(digit_images[:4]).flatten(1).sum(1).mean()
    assert fixed.loss(output, digit_images[:4])["recon"].item() == pytest.approx(expected.item(), rel=1e-5)


def test_beta_vae_preset_and_config_errors() -> None:
    assert create("beta_vae", input_shape=(4,)).config.beta == 4.0
    with pytest.raises(ConfigError, match="beta must be ≥ 0; got -1"):
        create("vae", input_shape=(4,), beta=-1.0)
    with pytest.raises(
        ConfigError, match=r"input_shape must be \(C, H, W\) for architecture='conv'; got \(4,\)"
    ):
        create("vae", input_shape=(4,), architecture="conv")
    with pytest.raises(ConfigError, match="likelihood must be one of"):
        create("vae", input_shape=(4,), likelihood="poisson")


# -- the conditional VAE -----------------------------------------------------------------------------
@pytest.fixture
def cvae():
    return create("cvae", seed=0, n_classes=3, **SMALL).eval()


def test_cvae_takes_labels_from_the_batch(cvae, digit_images: torch.Tensor) -> None:
    labels = torch.tensor([0, 1, 2, 1])
    inputs, target, condition = cvae.prepare_batch((digit_images[:4], labels), torch.Generator())
    assert torch.equal(inputs, digit_images[:4])
    assert torch.equal(condition, labels) and torch.equal(target, digit_images[:4])
    with pytest.raises(
        DataError, match=r"cvae needs class labels 0\.\.2 with every batch; the batch has none"
    ):
        cvae.prepare_batch((digit_images[:4], None), torch.Generator())


def test_cvae_condition_reaches_encoder_and_decoder(cvae, digit_images: torch.Tensor) -> None:
    batch, labels = digit_images[:4], torch.tensor([0, 1, 2, 1])
    one_hot = torch.nn.functional.one_hot(labels, 3).float()
    torch.testing.assert_close(cvae(batch, labels).x_hat, cvae(batch, one_hot).x_hat)
    assert not torch.allclose(cvae.encode(batch, labels), cvae.encode(batch, (labels + 1) % 3))
    z = torch.zeros(4, 4)
    assert not torch.allclose(cvae.decode(z, labels), cvae.decode(z, (labels + 1) % 3))
    generator = torch.Generator().manual_seed(0)
    assert cvae.sample(4, condition=labels, generator=generator).shape == (4, 1, 8, 8)


def test_cvae_rejects_missing_or_bad_conditions(cvae, digit_images: torch.Tensor) -> None:
    batch = digit_images[:4]
    with pytest.raises(DataError, match="cvae needs a condition"):
        cvae(batch)
    assert cvae.sample(2).shape == (2, *cvae.input_shape)  # labels drawn uniformly, as for the caae
    with pytest.raises(DataError, match=r"labels must be in 0\.\.2; got values from 0 to 3"):
        cvae(batch, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ShapeError, match=r"condition must have shape \(4,\); got \(3,\)"):
        cvae(batch, torch.tensor([0, 1, 2]))
    with pytest.raises(ShapeError, match=r"condition must be integer labels \(4,\) or floats \(4, 3\)"):
        cvae(batch, torch.zeros(4, 5))
    with pytest.raises(ConfigError, match="n_classes must be an integer ≥ 2; got 1"):
        create("cvae", input_shape=(4,), n_classes=1)

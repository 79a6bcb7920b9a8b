"""The two-layer VAE (``hvae``): its bound, its sampling path, warm-up and options."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError
from aekit.models import HierarchicalVAE, create
from aekit.models.files import load_model, save_model
from aekit.training import TrainConfig, Trainer

SMALL = {"input_shape": (1, 6, 6), "latent_dim": 5, "top_latent_dim": 2, "hidden_dims": (24, 16)}


def _model(**config) -> HierarchicalVAE:
    model = create("hvae", seed=0, **{**SMALL, **config})
    assert isinstance(model, HierarchicalVAE)
    return model


def _binary(n: int = 12) -> torch.Tensor:
    grey = torch.rand(n, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    return grey.bernoulli(generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("prior", ["standard", "vamp", "mixture"])
def test_with_a_decoder_that_ignores_the_code_the_estimate_is_the_exact_likelihood(prior: str) -> None:
    # With constant logits b, p(x) = Π Bernoulli(x; sigmoid(b)) exactly, and the importance weights
    # p(z₁ | z₂) p(z₂) / (q(z₁ | x, z₂) q(z₂ | x)) average to 1 only if every density is evaluated with
    # the parameters its draws came from: a wrong mean, variance or layer shows up as a biased estimate.
    model = _model(prior=prior).eval()
    with torch.no_grad():
        last = model.decoder[-1]
        for layer in model.decoder:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
        last.bias.copy_(torch.linspace(-2, 2, last.bias.numel()))
    x = _binary(3)
    exact = -F.binary_cross_entropy_with_logits(last.bias.expand(3, -1), x.flatten(1), reduction="none").sum(
        1
    )
    estimate = -model.iwae_nll(x, k=40_000, batch_size=4000, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(estimate, exact, atol=0.05, rtol=0)
    # the ELBO is below it by the KL of posterior and prior, which a fresh encoder does not make 0
    elbo = model.elbo(x, n_samples=2000, generator=torch.Generator().manual_seed(3)).detach()
    assert bool((elbo < exact - 0.01).all())


def _patterns(n: int) -> torch.Tensor:
    """Four random binary 6×6 prototypes, each pixel flipped with probability 0.05."""
    generator = torch.Generator().manual_seed(4)
    prototypes = torch.rand(4, 1, 6, 6, generator=generator).round()
    chosen = prototypes[torch.randint(4, (n,), generator=generator)]
    flips = torch.rand(chosen.shape, generator=generator) < 0.05
    return torch.where(flips, 1 - chosen, chosen)


def test_training_tightens_the_bound_and_iwae_is_above_the_elbo() -> None:
    x = _patterns(64)
    model = _model(objective="iwae", importance_samples=4)
    before = float(model.eval().iwae_nll(x, k=64, generator=torch.Generator().manual_seed(0)).mean())
    Trainer(TrainConfig(epochs=40, batch_size=16, learning_rate=3e-3, seed=0)).fit(model, TensorData(x))
    model.eval()
    after = model.iwae_nll(x, k=64, generator=torch.Generator().manual_seed(0))
    assert float(after.mean()) < before - 3.0
    negative_elbo = -model.elbo(x, n_samples=64, generator=torch.Generator().manual_seed(0)).detach()
    assert float(after.mean()) < float(negative_elbo.mean())


def test_prior_codes_draw_the_bottom_layer_from_its_conditional_prior() -> None:
    model = _model().eval()
    codes = model.prior_codes(4, temperature=1e-6, generator=torch.Generator().manual_seed(0))
    bottom, top = codes[:, :3], codes[:, 3:]
    assert float(top.abs().max()) < 1e-4  # N(0, I) at a tiny temperature
    mean, _logvar = model._bottom_prior(torch.zeros(1, 2))
    torch.testing.assert_close(bottom, mean.expand(4, -1), atol=1e-4, rtol=0)
    spread = model.prior_codes(2000, generator=torch.Generator().manual_seed(1))[:, :3]
    assert float(spread.std(0).min()) > 0.2  # T = 1: the conditional prior's own spread, not a point
    assert model.sample(5).shape == (5, 1, 6, 6)


def test_the_code_is_both_layers_means_and_decodes_back() -> None:
    model = _model().eval()
    x = _binary(4)
    code = model.encode(x)
    assert code.shape == (4, 5)
    _features, mu_top, _ = model._top(x)
    torch.testing.assert_close(code[:, 3:], mu_top)
    torch.testing.assert_close(model.decode(code), model(x).x_hat)


def test_warmup_zero_leaves_the_reconstruction_term_only_in_training() -> None:
    model = _model()
    x = _binary()
    model.set_warmup(0.0)
    model.train()
    torch.manual_seed(0)
    terms = model.loss(model(x), x)
    torch.testing.assert_close(terms["loss"], terms["recon"])
    assert float(terms["kl"].detach()) > 0
    model.eval()
    terms = model.loss(model(x), x)
    torch.testing.assert_close(terms["loss"], terms["recon"] + terms["kl"])
    with pytest.raises(ConfigError, match="warm-up"):
        model.set_warmup(1.5)


def test_a_vamp_prior_model_survives_save_and_load(tmp_path: Path) -> None:
    model = _model(prior="vamp", prior_components=3).eval()
    save_model(model, tmp_path / "hvae")
    loaded = load_model(tmp_path / "hvae")
    assert isinstance(loaded, HierarchicalVAE)
    x = _binary(4)
    first = model.iwae_nll(x, k=20, generator=torch.Generator().manual_seed(5))
    again = loaded.eval().iwae_nll(x, k=20, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(first, again)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"latent_dim": 1}, "at least 2"),
        ({"latent_dim": 4, "top_latent_dim": 4}, "top_latent_dim"),
        ({"objective": "piwae"}, "objective"),
        ({"hidden_dims": ()}, "hidden"),
        ({"prior": "flow"}, "prior"),
    ],
)
def test_invalid_options_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create("hvae", **{**SMALL, **options})


def test_the_default_split_is_half_and_half() -> None:
    model = create("hvae", input_shape=(10,), latent_dim=7)
    assert isinstance(model, HierarchicalVAE)
    assert (model.config.bottom_dim, model.config.top_dim) == (4, 3)
    assert math.isclose(model.config.beta, 1.0)


@pytest.mark.parametrize("observation_std", [None, 0.2])
def test_the_gaussian_likelihood_uses_the_fixed_or_learned_scale(observation_std: float | None) -> None:
    model = _model(likelihood="gaussian", observation_std=observation_std).train()
    x = torch.rand(8, 1, 6, 6, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    output = model(x)
    terms = model.loss(output, x)
    terms["loss"].backward()
    log_std = math.log(observation_std) if observation_std is not None else 0.0  # a learned σ starts at 1
    expected = (
        -(
            -0.5 * ((x - output.decoder_outputs) / math.exp(log_std)) ** 2
            - log_std
            - 0.5 * math.log(2 * math.pi)
        )
        .flatten(1)
        .sum(1)
        .mean()
    )
    torch.testing.assert_close(terms["recon"], expected)
    if observation_std is None:
        assert model.log_observation_std.grad is not None

"""The VAE family's objectives (ELBO, IWAE, PIWAE), priors (standard, VampPrior, mixture) and warm-up."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError
from aekit.models import create
from aekit.models.files import load_model, save_model
from aekit.training import TrainConfig, Trainer

SMALL = {"input_shape": (1, 8, 8), "latent_dim": 3, "hidden_dims": (32,)}


def _model(**config):
    return create("vae", seed=0, **{**SMALL, **config})


def _binary(n: int = 16) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0)).bernoulli(
        generator=torch.Generator().manual_seed(1)
    )


def _loss(model, x: torch.Tensor, seed: int = 0) -> dict[str, torch.Tensor]:
    model.train()
    torch.manual_seed(seed)
    return model.loss(model(x), x)


def _value(model, x: torch.Tensor, seed: int = 0) -> float:
    return float(_loss(model, x, seed)["loss"].detach())


def test_one_importance_sample_is_the_elbo() -> None:
    x = _binary()
    # the same draws (same seed) under a mixture prior: every term is estimated from the draws alike
    elbo = _loss(_model(prior="mixture", prior_components=3), x)
    iwae = _loss(_model(prior="mixture", prior_components=3, objective="iwae", importance_samples=1), x)
    assert torch.allclose(elbo["loss"], iwae["loss"], atol=1e-5)
    # under N(0, I) the ELBO uses the exact KL; the one-draw IWAE matches it on average
    plain, one_draw = _model(), _model(objective="iwae")
    estimates = [_value(one_draw, x, seed) for seed in range(200)]
    draws = [_value(plain, x, seed) for seed in range(200)]
    assert sum(estimates) / 200 == pytest.approx(sum(draws) / 200, abs=0.3)


def test_the_iwae_bound_is_above_the_elbo_in_expectation() -> None:
    x = _binary()
    model = _model().eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        elbo = model.elbo(x, n_samples=400, generator=generator)
    iwae = -model.iwae_nll(x, k=50, generator=generator)
    assert bool((iwae >= elbo - 0.3).all()) and float((iwae - elbo).mean()) > 0
    # the training losses: −IWAE_5 ≤ −ELBO on average over draws
    iwae_model, elbo_model = _model(objective="iwae", importance_samples=5), _model()
    iwae_loss = sum(_value(iwae_model, x, seed) for seed in range(20))
    elbo_loss = sum(_value(elbo_model, x, seed) for seed in range(20))
    assert iwae_loss < elbo_loss


def _gradients(model) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def test_piwae_gives_the_decoder_iwae_gradients_and_the_encoder_elbo_gradients() -> None:
    x = _binary(8)
    options = {"prior": "mixture", "prior_components": 2, "importance_samples": 4}
    grads = {}
    for objective in ("elbo", "iwae", "piwae"):
        model = _model(objective=objective, **options)
        terms = _loss(model, x)
        terms["loss"].backward()
        grads[objective] = _gradients(model)
        if objective == "piwae":
            iwae_value = _value(_model(objective="iwae", **options), x)
            assert float(terms["loss"].detach()) == pytest.approx(iwae_value, rel=1e-5)
    for name, value in grads["piwae"].items():
        expected = grads["elbo"][name] if name.startswith(("encoder", "head")) else grads["iwae"][name]
        assert torch.allclose(value, expected, atol=1e-5), name


@pytest.mark.parametrize("prior", ["vamp", "mixture"])
def test_priors_drive_sampling_and_likelihood_and_survive_save_and_load(prior: str, tmp_path: Path) -> None:
    model = _model(prior=prior, prior_components=4, objective="iwae", importance_samples=2).eval()
    x = _binary(6)
    folder = save_model(model, tmp_path / prior)
    loaded = load_model(folder)
    for network in (model, loaded):
        assert network.prior_codes(5, generator=torch.Generator().manual_seed(0)).shape == (5, 3)
    first = model.iwae_nll(x, k=20, generator=torch.Generator().manual_seed(3))
    again = loaded.iwae_nll(x, k=20, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(first, again)
    codes = model.prior_codes(4, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(codes, loaded.prior_codes(4, generator=torch.Generator().manual_seed(1)))
    assert model.negative_log_likelihood(x).shape == (6,)


def test_a_one_component_standard_mixture_prior_gives_the_standard_likelihood() -> None:
    standard = _model().eval()
    mixture = _model(prior="mixture", prior_components=1).eval()
    mixture.load_state_dict(
        {**standard.state_dict(), **{k: v for k, v in mixture.state_dict().items() if "prior" in k}}
    )
    with torch.no_grad():
        mixture.mixture_prior.means.zero_()
        mixture.mixture_prior.logvars.zero_()
    x = _binary(6)
    first = standard.iwae_nll(x, k=30, generator=torch.Generator().manual_seed(0))
    second = mixture.iwae_nll(x, k=30, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(first, second, atol=1e-4)
    cold = mixture.prior_codes(100, temperature=0.5, generator=torch.Generator().manual_seed(0))
    assert 0.3 < float(cold.std()) < 0.7


def test_warmup_scales_the_kl_in_training_only_and_the_trainer_drives_it() -> None:
    x = _binary()
    model = _model()
    model.set_warmup(0.0)
    terms = _loss(model, x)
    assert torch.allclose(terms["loss"], terms["recon"])
    model.eval()
    terms = model.loss(model(x), x)
    assert torch.allclose(terms["loss"], terms["recon"] + terms["kl"])
    with pytest.raises(ConfigError):
        model.set_warmup(2.0)
    config = TrainConfig(epochs=2, batch_size=8, warmup_fraction=0.5, device="cpu")
    history = Trainer(config).fit(_model(objective="iwae", importance_samples=2), TensorData(x))
    assert len(history) == 2


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ConfigError, match="objective"):
        _model(objective="vimco")
    with pytest.raises(ConfigError, match="importance_samples"):
        _model(importance_samples=0)
    with pytest.raises(ConfigError, match="vamp"):
        create("cvae", input_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,), prior="vamp")

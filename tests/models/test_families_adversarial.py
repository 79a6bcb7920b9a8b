"""Adversarial autoencoders: codes really follow the prior, and the phases touch only their parameters."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models import create
from aekit.models.adversarial import AdversarialAutoencoder, ConditionalAdversarialAutoencoder
from aekit.training import TrainConfig, Trainer


def energy_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Energy distance ``2 E|a − b| − E|a − a'| − E|b − b'|`` between two samples (0 iff same law)."""
    return float(2 * torch.cdist(a, b).mean() - torch.cdist(a, a).mean() - torch.cdist(b, b).mean())


def test_aae_codes_match_the_prior_far_better_than_a_plain_autoencoders(digits01: TensorData) -> None:
    # Same encoder/decoder and training for both; only the adversarial phases differ (~230 steps each).
    settings = TrainConfig(epochs=8, batch_size=64, device="cpu", seed=0)
    shape = {"input_shape": (1, 8, 8), "latent_dim": 2, "hidden_dims": (128, 64)}
    aae = create("aae", **shape, discriminator_hidden_dims=(128, 128), seed=0)
    plain = create("mlp", **shape, seed=0)
    Trainer(settings).fit(aae, digits01)
    Trainer(settings).fit(plain, digits01)
    aae.eval()
    plain.eval()
    x = digits01.x[:600]
    prior = aae.prior_sample(600, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        aae_distance = energy_distance(aae.encode(x), prior)
        plain_distance = energy_distance(plain.encode(x), prior)
    assert aae_distance < 0.25 * plain_distance, (aae_distance, plain_distance)
    assert aae_distance < 0.1


def test_caae_mixture_prior_puts_each_class_in_its_own_component(digits01: TensorData) -> None:
    model = create(
        "caae",
        input_shape=(1, 8, 8),
        latent_dim=2,
        hidden_dims=(128, 64),
        discriminator_hidden_dims=(128, 128),
        batch_norm=True,
        prior="mixture",
        n_classes=10,
        prior_components=10,
        seed=0,
    )
    Trainer(TrainConfig(epochs=8, batch_size=64, device="cpu", seed=0)).fit(model, digits01)
    model.eval()
    with torch.no_grad():
        codes = model.encode(digits01.x, digits01.y)
    nearest = torch.cdist(codes, model.prior_means).argmin(1)
    accuracy = (nearest == digits01.y).float().mean().item()
    assert accuracy > 0.7, accuracy  # chance is 0.1


def test_mixture_prior_sits_on_a_circle() -> None:
    model = create(
        "aae", input_shape=(6,), latent_dim=3, prior="mixture", prior_components=4, prior_radius=2.0
    )
    assert isinstance(model, AdversarialAutoencoder)
    means = model.prior_means
    torch.testing.assert_close(means[:, :2].norm(dim=1), torch.full((4,), 2.0))
    assert torch.all(means[:, 2] == 0)
    labels = torch.arange(4).repeat_interleave(2000)
    samples = model.prior_sample(len(labels), labels=labels, generator=torch.Generator().manual_seed(0))
    for component in range(4):
        chosen = samples[labels == component]
        torch.testing.assert_close(chosen.mean(0), means[component], atol=0.03, rtol=0)
        torch.testing.assert_close(chosen.std(0), torch.full((3,), 0.3), atol=0.03, rtol=0)


def test_gaussian_prior_samples_are_standard_normal_and_seeded() -> None:
    model = create("aae", input_shape=(6,), latent_dim=4)
    first = model.prior_sample(5000, generator=torch.Generator().manual_seed(3))
    again = model.prior_sample(5000, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(first, again)
    torch.testing.assert_close(first.mean(0), torch.zeros(4), atol=0.05, rtol=0)
    torch.testing.assert_close(first.std(0), torch.ones(4), atol=0.05, rtol=0)


def test_each_adversarial_term_reaches_only_its_players() -> None:
    model = create("aae", input_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,), seed=0)
    x = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    groups = model.param_groups()
    assert {id(p) for p in groups["encoder"]} < {id(p) for p in groups["autoencoder"]}
    assert not {id(p) for p in groups["discriminator"]} & {id(p) for p in groups["autoencoder"]}

    def gradients_after(key: str) -> tuple[bool, bool, bool]:
        model.zero_grad(set_to_none=True)
        model.loss(model(x), x)[key].backward()
        touched = [
            any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
            for part in (model.encoder, model.decoder, model.discriminator)
        ]
        return touched[0], touched[1], touched[2]

    assert gradients_after("disc") == (False, False, True)  # codes are detached for D's step
    assert gradients_after("gen")[0]  # the encoder learns to fool D
    assert gradients_after("recon")[:2] == (True, True)
    terms = model.loss(model(x), x)
    torch.testing.assert_close(terms["loss"], terms["recon"] + terms["gen"])


def test_caae_decoder_uses_the_label_and_sampling_is_seeded() -> None:
    model = create("caae", input_shape=(1, 8, 8), latent_dim=3, n_classes=4, seed=0)
    assert isinstance(model, ConditionalAdversarialAutoencoder)
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(0))
    as_zero = model.decode(z, torch.zeros(5, dtype=torch.long))
    as_three = model.decode(z, torch.full((5,), 3))
    assert (as_zero - as_three).abs().mean() > 1e-4
    one_hot = torch.nn.functional.one_hot(torch.full((5,), 3), 4).float()
    torch.testing.assert_close(model.decode(z, one_hot), as_three)
    first = model.sample(6, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(first, model.sample(6, generator=torch.Generator().manual_seed(2)))
    assert first.shape == (6, 1, 8, 8)


def test_caae_rejects_batches_without_valid_labels() -> None:
    model = create("caae", input_shape=(1, 8, 8), latent_dim=3, n_classes=4)
    x = torch.rand(3, 1, 8, 8)
    with pytest.raises(DataError, match="caae needs class labels"):
        model.prepare_batch((x, None))
    with pytest.raises(DataError, match=r"must lie in \[0, 4\); got values from 0 to 7"):
        model.prepare_batch((x, torch.tensor([0, 1, 7])))
    with pytest.raises(ShapeError, match=r"must have shape \(3,\)"):
        model.prepare_batch((x, torch.zeros(3, 2, dtype=torch.long)))
    with pytest.raises(ShapeError, match=r"one-hot \(3, 4\)"):
        model(x, torch.zeros(3, 3))
    with pytest.raises(DataError, match="condition"):
        model(x)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"prior": "mixture", "latent_dim": 1}, "needs latent_dim ≥ 2"),
        ({"prior": "uniform"}, "prior must be one of"),
        ({"prior_std": 0.0}, "prior_std must be > 0"),
        ({"architecture": "conv", "input_shape": (64,)}, "needs input_shape"),
    ],
)
def test_aae_config_errors_name_the_field(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create("aae", **{"input_shape": (1, 8, 8), **values})


def test_caae_mixture_needs_one_component_per_class() -> None:
    with pytest.raises(ConfigError, match="prior_components must equal n_classes=3; got 10"):
        create("caae", input_shape=(1, 8, 8), n_classes=3, prior="mixture")


def test_conv_aae_trains_and_samples() -> None:
    model = create("aae", input_shape=(1, 8, 8), latent_dim=2, architecture="conv", channels=(4, 8), seed=0)
    data = TensorData(torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0)))
    history = Trainer(TrainConfig(epochs=1, batch_size=8, device="cpu")).fit(model, data)
    assert all(math.isfinite(history.rows[-1][f"train_{key}"]) for key in model.loss_terms)
    assert model.sample(3, generator=torch.Generator().manual_seed(0)).shape == (3, 1, 8, 8)


def test_the_r1_penalty_is_part_of_disc_and_trains_the_discriminator() -> None:
    x = torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    plain = create(
        "aae", input_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,), discriminator_penalty=0.0, seed=0
    )
    penalised = create(
        "aae", input_shape=(1, 8, 8), latent_dim=3, hidden_dims=(16,), discriminator_penalty=4.0, seed=0
    )
    prior = plain.prior_sample(8, generator=torch.Generator().manual_seed(1))
    output = dataclasses.replace(plain(x), prior_sample=prior, prior_logits=plain.discriminator(prior))
    without = plain.loss(output, x)["disc"]
    with_penalty = penalised.loss(output, x)["disc"]
    inputs = prior.clone().requires_grad_()
    (gradient,) = torch.autograd.grad(plain.discriminator(inputs).sum(), inputs)
    torch.testing.assert_close(with_penalty - without, 2.0 * gradient.square().sum(1).mean())
    with torch.no_grad():  # evaluation reports the same value
        torch.testing.assert_close(penalised.loss(output, x)["disc"], with_penalty.detach())

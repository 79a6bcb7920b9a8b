"""The adversarial reconstruction wrapper: delegation, the λ-weighted term, its discriminator, its files."""

from __future__ import annotations

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError
from aekit.models import create
from aekit.models.adversarial_recon import AdversarialReconstruction
from aekit.models.files import load_model, save_model
from aekit.training import TrainConfig, Trainer


def _x(n: int = 6) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def test_wrapper_delegates_to_the_base_model() -> None:
    model = create(
        "adversarial_recon",
        input_shape=(1, 8, 8),
        latent_dim=4,
        base_model="mlp",
        base_config={"hidden_dims": [16]},
        seed=0,
    )
    assert isinstance(model, AdversarialReconstruction)
    assert model.base.registry_name == "mlp"
    assert model.latent_dim == 4
    x = _x()
    torch.testing.assert_close(model.encode(x), model.base.encode(x))
    torch.testing.assert_close(model(x).x_hat, model.base(x).x_hat)


def test_loss_adds_the_weighted_adversarial_term_to_the_base_loss() -> None:
    model = create("adversarial_recon", input_shape=(1, 8, 8), latent_dim=4, adversarial_weight=0.5, seed=0)
    x = _x()
    output = model(x)
    terms = model.loss(output, x)
    base_terms = model.base.loss(output.base, x)
    torch.testing.assert_close(terms["recon"], base_terms["recon"])
    torch.testing.assert_close(terms["loss"], base_terms["loss"] + 0.5 * terms["adv"])
    logits = model.discriminator(output.x_hat)
    torch.testing.assert_close(terms["adv"], torch.nn.functional.softplus(-logits).mean())


def test_discriminator_term_trains_only_the_discriminator_and_loss_only_the_base() -> None:
    model = create(
        "adversarial_recon",
        input_shape=(1, 8, 8),
        latent_dim=4,
        base_model="conv",
        base_config={"channels": [4, 8]},
        seed=0,
    )
    x = _x()
    model.loss(model(x), x)["disc"].backward()
    assert all(p.grad is None for p in model.base.parameters())
    assert all(p.grad is not None for p in model.discriminator.parameters())
    groups = model.param_groups()
    assert {id(p) for p in groups["autoencoder"]} == {id(p) for p in model.base.parameters()}
    assert {id(p) for p in groups["discriminator"]} == {id(p) for p in model.discriminator.parameters()}


def test_discriminator_learns_to_tell_reconstructions_from_data(digits01: TensorData) -> None:
    # With λ = 0 the base model ignores D, so D faces a fixed task and must learn it.
    model = create(
        "adversarial_recon",
        input_shape=(1, 8, 8),
        latent_dim=2,
        adversarial_weight=0.0,
        base_config={"hidden_dims": [32]},
        discriminator_hidden_dims=(32,),
        seed=0,
    )
    data = digits01.subset(torch.arange(512))
    Trainer(TrainConfig(epochs=4, batch_size=32, device="cpu")).fit(model, data)
    model.eval()
    held_out = digits01.x[1000:1400]
    with torch.no_grad():
        real = model.discriminator(held_out)
        fake = model.discriminator(model.reconstruct(held_out))
        disc = model.loss(model(held_out), held_out)["disc"].item()
    accuracy = ((real > 0).float().mean() + (fake < 0).float().mean()).item() / 2
    assert accuracy > 0.7, accuracy  # chance is 0.5
    assert disc < 0.6, disc  # log 2 ≈ 0.69 at chance


def test_the_base_models_batch_preparation_is_kept() -> None:
    wrapped = create("adversarial_recon", input_shape=(1, 8, 8), latent_dim=3, base_model="multi_decoder")
    x, labels = _x(4), torch.tensor([0, 1, 1, 0])
    inputs, _target, condition = wrapped.prepare_batch((x, labels))
    assert condition is not None and torch.equal(condition, labels)
    assert wrapped(inputs, condition).x_hat.shape == x.shape


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"base_model": "mlpp"}, "did you mean 'mlp'"),
        ({"base_model": "aae"}, "single-phase model with a 'recon' term"),
        ({"base_model": "pca"}, "gradient-trained"),
        ({"base_model": "segmentation"}, "'recon' term"),
        ({"base_model": "adversarial_recon"}, "cannot be 'adversarial_recon' itself"),
        ({"base_config": {"latent_dim": 4}}, "must not set 'latent_dim'"),
        ({"base_config": {"hiden_dims": [4]}}, "did you mean 'hidden_dims'"),
        ({"adversarial_weight": -1.0}, "adversarial_weight must be ≥ 0"),
        ({"discriminator": "conv", "input_shape": (64,)}, "needs input_shape"),
    ],
)
def test_config_errors_name_the_problem(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create("adversarial_recon", **{"input_shape": (1, 8, 8), **values})


def test_saved_wrapper_loads_with_an_equal_config(tmp_path) -> None:
    model = create(
        "adversarial_recon",
        input_shape=(1, 8, 8),
        latent_dim=3,
        base_model="conv",
        base_config={"channels": (4, 8), "batch_norm": False},
        seed=0,
    )
    model.eval()
    save_model(model, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.config == model.config
    x = _x()
    torch.testing.assert_close(loaded.reconstruct(x), model.reconstruct(x))

"""Contractive autoencoders: every method computes the encoder Jacobian's norm, and training shrinks it."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import jacobian

from aekit.errors import ConfigError
from aekit.losses.regularizers import contractive_exact, jacobian_frobenius_sq, jacobian_projection_sq
from aekit.models import create
from aekit.training.fit import fit


def _reference_norm(model, x: torch.Tensor) -> float:
    """``mean_b ‖∂h(x_b) / ∂x_b‖²_F`` with each sample's full Jacobian from torch.autograd.functional."""
    norms = [
        jacobian(lambda sample: model.encode(sample.unsqueeze(0))[0], sample).square().sum() for sample in x
    ]
    return float(torch.stack(norms).mean())


@pytest.fixture
def inputs(generator: torch.Generator) -> torch.Tensor:
    return torch.rand(5, 1, 3, 4, generator=generator, dtype=torch.float64)


def test_exact_closed_form_equals_the_jacobian_norm(inputs: torch.Tensor) -> None:
    model = create(
        "mlp",
        input_shape=(1, 3, 4),
        latent_dim=4,
        hidden_dims=(),
        latent_activation="sigmoid",
        contractive_method="exact",
        contractive_weight=0.5,
        seed=0,
    ).double()
    expected = _reference_norm(model, inputs)
    assert model.contractive_penalty(inputs).item() == pytest.approx(expected, rel=1e-10)
    model.train()
    output = model(inputs)
    assert output.penalties["contractive"].item() == pytest.approx(expected, rel=1e-10)
    terms = model.loss(output, inputs)
    assert terms["loss"].item() == pytest.approx(terms["recon"].item() + 0.5 * expected)


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("mlp", {"hidden_dims": (7,), "activation": "tanh", "latent_activation": "sigmoid"}),
        ("mlp", {"hidden_dims": (6, 5), "activation": "elu"}),
        ("conv", {"channels": (3,), "batch_norm": False, "blocks_per_stage": 0, "activation": "tanh"}),
    ],
)
def test_autograd_method_equals_the_jacobian_norm(name: str, config: dict, inputs: torch.Tensor) -> None:
    model = create(
        name, input_shape=(1, 3, 4), latent_dim=3, contractive_weight=1.0, seed=0, **config
    ).double()
    expected = _reference_norm(model, inputs)
    assert model.contractive_penalty(inputs).item() == pytest.approx(expected, rel=1e-10)
    assert model.train()(inputs).penalties["contractive"].item() == pytest.approx(expected, rel=1e-10)


def test_projection_estimate_is_unbiased(inputs: torch.Tensor) -> None:
    config = {"hidden_dims": (6,), "activation": "tanh", "contractive_weight": 1.0}
    model = create("mlp", input_shape=(1, 3, 4), latent_dim=3, seed=0, **config).double()
    expected = _reference_norm(model, inputs)
    estimator = create(
        "mlp", input_shape=(1, 3, 4), latent_dim=3, seed=0, contractive_method="projection", **config
    ).double()
    draws = torch.stack(
        [
            estimator.contractive_penalty(inputs, generator=torch.Generator().manual_seed(i))
            for i in range(2000)
        ]
    )
    assert draws.mean().item() == pytest.approx(expected, rel=0.05)
    assert draws.std().item() > 0  # an estimate, not the exact value under another name
    seeded = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert estimator.contractive_penalty(inputs, generator=seeded[0]) == estimator.contractive_penalty(
        inputs, generator=seeded[1]
    )


def test_penalty_functions_reject_inputs_without_a_graph() -> None:
    x = torch.rand(2, 3)
    with pytest.raises(ValueError, match="inputs must require grad"):
        jacobian_frobenius_sq(x, x @ torch.ones(3, 2))
    with pytest.raises(ValueError, match="inputs must require grad"):
        jacobian_projection_sq(x, x @ torch.ones(3, 2))
    with pytest.raises(ValueError, match=r"weight must have shape \(latent_dim=2, n_features\)"):
        contractive_exact(torch.rand(4, 2), torch.rand(3, 5))


def test_exact_method_needs_a_single_sigmoid_layer() -> None:
    with pytest.raises(
        ConfigError,
        match=r"needs an encoder that is one sigmoid layer .* got an 'mlp' with hidden_dims=\(8,\)",
    ):
        create(
            "mlp", input_shape=(4,), hidden_dims=(8,), latent_activation="sigmoid", contractive_method="exact"
        )
    with pytest.raises(ConfigError, match="latent_activation='identity'"):
        create("mlp", input_shape=(4,), hidden_dims=(), contractive_method="exact")
    with pytest.raises(ConfigError, match="got a 'conv' encoder"):
        create("conv", input_shape=(1, 8, 8), contractive_method="exact")


def test_penalty_is_zero_in_eval_mode_and_when_switched_off(inputs: torch.Tensor) -> None:
    model = create("mlp", input_shape=(1, 3, 4), latent_dim=3, contractive_weight=1.0, seed=0).double()
    assert model.eval()(inputs).penalties["contractive"].item() == 0.0
    plain = create("mlp", input_shape=(1, 3, 4), latent_dim=3, seed=0).double().train()
    assert plain(inputs).penalties["contractive"].item() == 0.0
    assert plain.contractive_penalty(inputs).item() > 0.0


@pytest.mark.parametrize("method", ["autograd", "projection"])
def test_training_with_the_penalty_lowers_the_jacobian_norm(method: str, digit_images: torch.Tensor) -> None:
    def trained(weight: float):
        model = create(
            "mlp",
            input_shape=(1, 8, 8),
            latent_dim=8,
            hidden_dims=(32,),
            contractive_weight=weight,
            contractive_method=method,
            seed=0,
        )
        fit(model, digit_images, epochs=10, batch_size=64, learning_rate=3e-3, device="cpu", seed=0)
        return model.eval()

    plain, contractive = trained(0.0), trained(1e-2)
    assert (
        contractive.contractive_penalty(digit_images).item()
        < 0.5 * plain.contractive_penalty(digit_images).item()
    )

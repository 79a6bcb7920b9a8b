"""Deterministic autoencoders combine their regularisers freely and keep one interface."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import ConfigError, ShapeError
from aekit.models import create
from aekit.training.fit import fit

KEYS = ("loss", "recon", "sparsity", "contractive", "ssim")


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"sparsity": "l1"},
        {"sparsity": "kl", "latent_activation": "sigmoid"},
        {"contractive_weight": 0.1, "batch_norm": False},
        {"contractive_weight": 0.1, "contractive_method": "projection", "contractive_projections": 3},
        {"corruption": "mask", "sparsity": "l1", "contractive_weight": 0.01, "latent_activation": "tanh"},
        {"ssim_weight": 0.5, "corruption": "gaussian"},
    ],
)
@pytest.mark.parametrize("name", ["mlp", "conv"])
def test_every_combination_trains_with_the_same_keys(
    name: str, config: dict, digit_images: torch.Tensor
) -> None:
    model = create(name, input_shape=(1, 8, 8), latent_dim=4, seed=0, **config)
    assert model.loss_terms == KEYS
    history = fit(model, digit_images[:64], epochs=1, batch_size=32, device="cpu")
    assert {f"train_{key}" for key in KEYS} <= set(history.rows[-1])
    model.eval()
    assert tuple(model.loss(model(digit_images[:4]), digit_images[:4])) == KEYS


def test_denoising_sparse_convolutional_autoencoder_is_one_config(digit_images: torch.Tensor) -> None:
    model = create(
        "conv", input_shape=(1, 8, 8), corruption="mask", sparsity="l1", sparsity_weight=0.1, seed=0
    )
    inputs, target, _ = model.prepare_batch((digit_images[:8], None), torch.Generator().manual_seed(0))
    terms = model.loss(model(inputs), target)
    assert terms["sparsity"].item() > 0 and not torch.equal(inputs, target)


def test_decode_checks_the_code_shape() -> None:
    model = create("mlp", input_shape=(1, 8, 8), latent_dim=4, seed=0)
    assert model.decode(torch.zeros(3, 4)).shape == (3, 1, 8, 8)
    with pytest.raises(ShapeError, match=r"z must have shape \(B, 4\); got \(3, 5\)"):
        model.decode(torch.zeros(3, 5))
    with pytest.raises(TypeError, match=r"z must be a floating-point tensor; got dtype torch\.int64"):
        model.decode(torch.zeros(3, 4, dtype=torch.int64))
    vae = create("vae", input_shape=(1, 8, 8), latent_dim=4, seed=0)
    with pytest.raises(ShapeError, match=r"z must have shape \(B, 4\); got \(4,\)"):
        vae.decode(torch.zeros(4))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sparsity", "l2", "sparsity must be one of 'none', 'l1', 'kl'; got 'l2'"),
        ("sparsity_target", 1.0, r"sparsity_target must be in \(0\.0, 1\.0\); got 1\.0"),
        ("sparsity_weight", -1.0, "sparsity_weight must be ≥ 0; got -1.0"),
        ("contractive_weight", -0.1, "contractive_weight must be ≥ 0; got -0.1"),
        ("contractive_method", "finite", "contractive_method must be one of"),
        ("contractive_projections", 0, "contractive_projections must be a positive integer; got 0"),
        ("latent_activation", "softmax", "latent_activation must be one of"),
        ("corruption_strength", float("nan"), "corruption_strength must be a finite number; got nan"),
        ("ssim_weight", -0.5, "ssim_weight must be ≥ 0; got -0.5"),
        (
            "ssim_weight",
            0.5,
            r"ssim_weight > 0 compares images, so input_shape must be \(C, H, W\); got \(4,\)",
        ),
    ],
)
def test_invalid_regulariser_fields_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create("mlp", input_shape=(4,), **{field: value})


def test_configs_round_trip_through_json() -> None:
    model = create("denoising", input_shape=(1, 8, 8), sparsity="kl", contractive_weight=0.5)
    config = model.config
    assert type(config).from_dict(config.to_dict()) == config


def test_ssim_term_is_one_minus_ssim_and_training_with_it_raises_ssim(digit_images: torch.Tensor) -> None:
    """The ``ssim`` term is ``1 − SSIM(x̂, x)``; with its weight on, the same model and seed train to
    reconstructions of higher SSIM on held-out digits than with the pixel loss alone."""
    from aekit.losses.ssim import ssim

    train, held_out = digit_images[:448], digit_images[448:]
    scores = {}
    for weight in (0.0, 1.0):
        model = create(
            "conv",
            input_shape=(1, 8, 8),
            latent_dim=4,
            ssim_weight=weight,
            output_activation="sigmoid",
            seed=0,
        )
        fit(model, train, epochs=12, batch_size=32, learning_rate=3e-3, device="cpu", seed=0)
        model.eval()
        with torch.no_grad():
            output = model(held_out)
            terms = model.loss(output, held_out)
        expected = 1.0 - ssim(output.x_hat, held_out)
        if weight:
            assert terms["ssim"].item() == pytest.approx(expected.item(), rel=1e-6)
            assert terms["loss"].item() == pytest.approx((terms["recon"] + terms["ssim"]).item(), rel=1e-6)
        else:
            assert terms["ssim"].item() == 0.0
        scores[weight] = 1.0 - expected.item()
    assert scores[1.0] > scores[0.0] + 0.01

"""Sampling with temperature, conditional sampling, interpolation and latent arithmetic."""

from __future__ import annotations

import pytest
import torch

from aekit.apps.generation import (
    apply_attribute,
    attribute_vector,
    interpolate,
    interpolate_codes,
    lerp,
    prior_codes,
    sample,
    slerp,
)
from aekit.errors import ConfigError, DataError
from aekit.models import create


def test_slerp_hits_both_endpoints_and_keeps_the_norm_of_equal_norm_codes() -> None:
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(16, generator=generator)
    end = torch.randn(16, generator=generator)
    end = end / end.norm() * start.norm()
    weights = torch.linspace(0, 1, 9)
    path = slerp(start, end, weights)
    assert torch.allclose(path[0], start, atol=1e-6) and torch.allclose(path[-1], end, atol=1e-6)
    assert torch.allclose(path.norm(dim=1), start.norm().expand(9), rtol=1e-5)
    # the straight line cuts inside the sphere; the angle to start grows evenly along the arc
    straight = lerp(start, end, weights)
    assert straight[4].norm() < 0.95 * start.norm()
    cosines = (path.double() @ start.double()) / (path.double().norm(dim=1) * start.double().norm())
    angles = torch.arccos(cosines.clamp(-1.0, 1.0))
    assert torch.allclose(angles.diff(), angles.diff()[0].expand(8), atol=1e-4)


def test_slerp_of_parallel_codes_falls_back_to_the_line() -> None:
    start = torch.tensor([1.0, 0.0])
    path = slerp(start, 2 * start, torch.linspace(0, 1, 3))
    assert torch.allclose(path, torch.tensor([[1.0, 0.0], [1.5, 0.0], [2.0, 0.0]]))


def test_interpolation_endpoints_are_the_reconstructions(vae_bundle, raw_digits) -> None:
    start, end = raw_digits.x[0], raw_digits.x[1]
    for method in ("linear", "spherical"):
        path = interpolate(vae_bundle, start, end, n_steps=6, method=method)  # type: ignore[arg-type]
        assert path.images.shape == (6, 1, 8, 8) and path.codes.shape == (6, 2)
        model, normalizer = vae_bundle.model, vae_bundle.normalizer
        with torch.no_grad():
            expected = normalizer.inverse_transform(model.reconstruct(normalizer.transform(raw_digits.x[:2])))
        assert torch.allclose(path.images[0], expected[0], atol=1e-5)
        assert torch.allclose(path.images[-1], expected[1], atol=1e-5)
    with pytest.raises(ConfigError, match="n_steps must be an integer"):
        interpolate_codes(torch.zeros(2), torch.ones(2), n_steps=1)


def test_temperature_scales_the_spread_of_prior_codes(vae_bundle) -> None:
    cold = prior_codes(vae_bundle, 4000, temperature=0.5, generator=torch.Generator().manual_seed(0))
    warm = prior_codes(vae_bundle, 4000, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(cold, 0.5 * warm)
    assert warm.std().item() == pytest.approx(1.0, abs=0.05)
    drawn = sample(vae_bundle, 5, temperature=0.7, generator=torch.Generator().manual_seed(1))
    assert drawn.images.shape == (5, 1, 8, 8) and drawn.labels is None
    assert float(drawn.images.min()) >= 0.0 and float(drawn.images.max()) <= 16.0  # data scale (0..16)
    with pytest.raises(ConfigError, match="temperature must be"):
        sample(vae_bundle, 2, temperature=0.0)


def test_conditional_samples_differ_by_label_and_follow_it(cvae_bundle) -> None:
    threes = sample(cvae_bundle, 8, labels=3, generator=torch.Generator().manual_seed(0))
    sevens = sample(cvae_bundle, 8, labels=7, generator=torch.Generator().manual_seed(0))
    assert torch.equal(threes.codes, sevens.codes)  # same codes, only the label changed
    assert threes.labels.tolist() == [3] * 8
    assert (threes.images - sevens.images).abs().mean() > 0.5  # on the 0..16 scale
    mixed = sample(cvae_bundle, 10, generator=torch.Generator().manual_seed(0))
    assert mixed.labels is not None and mixed.labels.shape == (10,)
    with pytest.raises(DataError, match=r"labels must lie in \[0, 10\)"):
        sample(cvae_bundle, 2, labels=[0, 12])


def test_mixture_prior_temperature_pulls_codes_to_their_component_means() -> None:
    model = create(
        "caae", input_shape=(1, 8, 8), latent_dim=2, prior="mixture", n_classes=4, prior_components=4, seed=0
    )
    codes = prior_codes(
        model, 400, temperature=0.1, labels=torch.arange(4).repeat(100), generator=torch.Generator()
    )
    means = model.prior_means[torch.arange(4).repeat(100)]
    assert (codes - means).norm(dim=1).max() < 0.1 * 0.3 * 5  # std shrinks to T·prior_std
    drawn = sample(model, 4, labels=[0, 1, 2, 3], generator=torch.Generator().manual_seed(0))
    assert drawn.images.shape == (4, 1, 8, 8)


def test_models_without_a_prior_cannot_be_sampled(mlp_bundle) -> None:
    with pytest.raises(ConfigError, match="has no prior to sample"):
        sample(mlp_bundle, 2)
    with pytest.raises(ConfigError, match="not conditional"):
        sample(create("vae", input_shape=(4,), latent_dim=2), 2, labels=1)


def test_attribute_vector_is_the_difference_of_group_means(mlp_bundle, raw_digits) -> None:
    codes = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 2.0]])
    labels = torch.tensor([1, 1, 0, 0])
    assert torch.allclose(attribute_vector(codes, labels, positive=1, negative=0), torch.tensor([1.0, -3.0]))
    assert torch.allclose(attribute_vector(codes, labels, positive=0), torch.tensor([-1.0, 3.0]))
    with pytest.raises(DataError, match="no sample has the negative label 5"):
        attribute_vector(codes, labels, positive=1, negative=5)

    from aekit.apps.inference import encode_dataset, reconstruct_dataset

    digit_codes = encode_dataset(mlp_bundle, raw_digits.x[:400])
    vector = attribute_vector(digit_codes, raw_digits.y[:400], positive=1, negative=0)
    zeros = raw_digits.x[:400][raw_digits.y[:400] == 0][:3]
    edit = apply_attribute(mlp_bundle, zeros, vector, strengths=(0.0, 1.0))
    assert edit.images.shape == (3, 2, 1, 8, 8)
    assert torch.allclose(edit.images[:, 0], reconstruct_dataset(mlp_bundle, zeros), atol=1e-5)
    # adding "one minus zero" to zeros moves their codes to the ones' mean code
    ones_mean = digit_codes[raw_digits.y[:400] == 1].mean(0)
    moved = edit.codes[:, 1].mean(0)
    assert (moved - ones_mean).norm() < 0.5 * (
        digit_codes[raw_digits.y[:400] == 0].mean(0) - ones_mean
    ).norm()

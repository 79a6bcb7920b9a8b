"""Discriminator and Gaussian heads: shapes, and errors that name the problem."""

from __future__ import annotations

import pytest
import torch

from aekit.errors import ConfigError, ShapeError
from aekit.losses.adversarial import discriminator_loss, generator_loss
from aekit.nn.heads import ConvDiscriminator, GaussianHead, MLPDiscriminator, make_discriminator


def test_heads_return_one_logit_per_sample() -> None:
    assert MLPDiscriminator(5, (8,))(torch.rand(3, 5)).shape == (3,)
    assert ConvDiscriminator((1, 9, 7), (4, 8))(torch.rand(2, 1, 9, 7)).shape == (2,)
    assert isinstance(make_discriminator((1, 8, 8)), ConvDiscriminator)
    assert isinstance(make_discriminator((1, 8, 8), kind="mlp"), MLPDiscriminator)
    assert isinstance(make_discriminator((10,)), MLPDiscriminator)
    mu, logvar = GaussianHead(6, 2)(torch.rand(4, 6))
    assert mu.shape == logvar.shape == (4, 2)


def test_heads_reject_wrong_inputs() -> None:
    with pytest.raises(ShapeError, match="must have 5 features per sample; got"):
        MLPDiscriminator(5)(torch.rand(3, 4))
    with pytest.raises(ShapeError, match=r"must have shape \(B, 1, 8, 8\)"):
        ConvDiscriminator((1, 8, 8))(torch.rand(3, 1, 8, 9))
    with pytest.raises(ConfigError, match="hidden_dims entries must be positive ints"):
        MLPDiscriminator(5, (0,))
    with pytest.raises(ConfigError, match="kind must be one of"):
        make_discriminator((1, 8, 8), kind="transformer")


def test_gan_losses_at_known_logits() -> None:
    zero = torch.zeros(4)
    torch.testing.assert_close(discriminator_loss(zero, zero), torch.log(torch.tensor(2.0)))
    torch.testing.assert_close(generator_loss(zero), torch.log(torch.tensor(2.0)))
    confident = torch.full((4,), 30.0)
    assert discriminator_loss(confident, -confident).item() < 1e-12
    assert generator_loss(-confident).item() == pytest.approx(30.0)

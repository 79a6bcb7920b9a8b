"""Perceptual loss: zero for equal inputs, growing with distortion, gradients to the input only."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError
from aekit.losses.perceptual import EncoderFeatures, PerceptualLoss, feature_layers
from aekit.models import create
from aekit.training import TrainConfig, Trainer


def _feature_net() -> nn.Module:
    network = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 8, 3, stride=2), nn.ReLU())
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return network


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(1))


def _noisy(x: torch.Tensor, std: float) -> torch.Tensor:
    return x + std * torch.randn(x.shape, generator=torch.Generator().manual_seed(2))


def test_zero_for_identical_inputs_and_larger_for_stronger_distortion(images: torch.Tensor) -> None:
    loss = PerceptualLoss(_feature_net(), layers=("1", "output"), layer_weights=(1.0, 0.5))
    assert loss(images, images).item() == 0.0
    values = [loss(_noisy(images, std), images).item() for std in (0.05, 0.2, 0.5)]
    assert 0 < values[0] < values[1] < values[2]


def test_gradients_reach_the_input_but_not_the_frozen_network(images: torch.Tensor) -> None:
    network = _feature_net()
    loss = PerceptualLoss(network, layers=("3",), distance="l1")
    x_hat = _noisy(images, 0.1).requires_grad_()
    loss(x_hat, images).backward()
    assert x_hat.grad is not None and x_hat.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss.network.parameters())
    assert all(p.requires_grad for p in network.parameters())  # the caller's network is left alone
    loss.train()
    assert not loss.network.training


def test_an_aekit_encoder_serves_as_the_feature_network(digits01: TensorData, images: torch.Tensor) -> None:
    model = create("mlp", input_shape=(1, 8, 8), latent_dim=8, hidden_dims=(32,), seed=0)
    Trainer(TrainConfig(epochs=1, batch_size=64, device="cpu")).fit(model, digits01.subset(torch.arange(512)))
    features = EncoderFeatures(model)
    assert "model.encoder.0" in feature_layers(features)
    loss = PerceptualLoss(features, layers=("model.encoder.1", "output"))
    assert loss(images, images).item() == 0.0
    assert loss(_noisy(images, 0.1), images).item() < loss(_noisy(images, 0.4), images).item()
    with pytest.raises(TypeError, match="encode method"):
        EncoderFeatures(nn.Linear(2, 2))


def test_unknown_layers_are_refused_with_suggestions() -> None:
    with pytest.raises(ConfigError, match="no layer 'outptu'; did you mean 'output'"):
        PerceptualLoss(_feature_net(), layers=("outptu",))
    with pytest.raises(ConfigError, match="one entry per layer"):
        PerceptualLoss(_feature_net(), layers=("1", "3"), layer_weights=(1.0,))

"""Stacked autoencoder: greedy pretraining makes every layer a working shallow autoencoder."""

from __future__ import annotations

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ShapeError
from aekit.models import create
from aekit.models.stacked import StackedAutoencoder
from aekit.training import TrainConfig
from aekit.training.schedules import fine_tune, pretrain_layerwise


def _stack(seed: int) -> StackedAutoencoder:
    model = create("stacked", input_shape=(1, 8, 8), hidden_dims=(48, 24), latent_dim=8, seed=seed)
    assert isinstance(model, StackedAutoencoder)
    return model


def _relative_error(model: StackedAutoencoder, layer: int, inputs: torch.Tensor) -> float:
    """A layer's reconstruction MSE of ``inputs`` divided by their variance (1 = predicting the mean)."""
    with torch.no_grad():
        error = (model.layer_autoencoder(layer)(inputs).x_hat - inputs).square().mean()
    return float(error / (inputs - inputs.mean(0)).square().mean())


def test_pretraining_makes_each_layer_a_working_shallow_autoencoder(digits01: TensorData) -> None:
    model, untrained = _stack(seed=0), _stack(seed=1)
    settings = TrainConfig(epochs=5, batch_size=64, learning_rate=3e-3, device="cpu")
    histories = pretrain_layerwise(model, digits01, settings)
    assert len(histories) == model.n_layers == 3
    model.eval()
    untrained.eval()
    for layer in range(model.n_layers):
        with torch.no_grad():
            inputs = model.encode_to(digits01.x, layer)  # codes of the pretrained layers below
        trained_error = _relative_error(model, layer, inputs)
        untrained_error = _relative_error(untrained, layer, inputs)
        assert trained_error < 0.6, (layer, trained_error)
        assert trained_error < 0.3 * untrained_error, (layer, trained_error, untrained_error)
        assert histories[layer]["train_loss"][-1] < histories[layer]["train_loss"][0]


def test_fine_tuning_improves_the_pretrained_stack(digits01: TensorData) -> None:
    model = _stack(seed=0)
    settings = TrainConfig(epochs=3, batch_size=64, learning_rate=3e-3, device="cpu")
    pretrain_layerwise(model, digits01, settings)
    model.eval()
    with torch.no_grad():
        before = (model.reconstruct(digits01.x) - digits01.x).square().mean().item()
    history = fine_tune(model, digits01, settings)
    model.eval()
    with torch.no_grad():
        after = (model.reconstruct(digits01.x) - digits01.x).square().mean().item()
    assert after < 0.8 * before, (before, after)
    assert len(history) == 3


def test_layer_autoencoders_share_the_stacks_parameters() -> None:
    model = _stack(seed=0)
    shallow = model.layer_autoencoder(1)
    assert shallow.encoder is model.encoder_layers[1]
    assert shallow.decoder is model.decoder_layers[1]
    assert shallow.input_shape == (48,) and shallow.latent_dim == 24
    with pytest.raises(ValueError, match=r"layer must be in \[0, 2\]; got 3"):
        model.layer_autoencoder(3)


def test_denoising_pretraining_masks_the_requested_fraction() -> None:
    model = create("stacked", input_shape=(100,), hidden_dims=(20,), latent_dim=4, pretrain_mask_fraction=0.3)
    shallow = model.layer_autoencoder(0)
    x = torch.ones(50, 100)
    inputs, target, _ = shallow.prepare_batch((x, None), torch.Generator().manual_seed(0))
    assert torch.equal(target, x)
    assert abs((inputs == 0).float().mean().item() - 0.3) < 0.02


def test_pretraining_checks_its_arguments(digits01: TensorData) -> None:
    with pytest.raises(TypeError, match="must be a StackedAutoencoder; got MLPAutoencoder"):
        pretrain_layerwise(create("mlp", input_shape=(1, 8, 8)), digits01)  # type: ignore[arg-type]
    wrong = TensorData(torch.rand(10, 32))
    with pytest.raises(ShapeError, match=r"data samples have shape \(32,\)"):
        pretrain_layerwise(_stack(seed=0), wrong)

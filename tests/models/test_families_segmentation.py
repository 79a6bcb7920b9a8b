"""Segmentation encoder–decoder: a few dozen steps learn a mask task far above chance."""

from __future__ import annotations

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.models import create
from aekit.models.segmentation import SegmentationAutoencoder, dice_loss
from aekit.training import TrainConfig, Trainer


def _masks(x: torch.Tensor) -> torch.Tensor:
    """Foreground = ink brighter than half the range, ``(B, H, W)`` int64."""
    return (x[:, 0] > 0.5).long()


@pytest.mark.parametrize(
    ("skip_connections", "min_accuracy", "min_iou"), [(True, 0.95, 0.85), (False, 0.8, 0.5)]
)
def test_a_few_dozen_steps_beat_chance_clearly(
    digits01: TensorData, skip_connections: bool, min_accuracy: float, min_iou: float
) -> None:
    train = TensorData(digits01.x[:512], _masks(digits01.x[:512]))
    x_test = digits01.x[1000:1400]
    mask_test = _masks(x_test)
    model = create(
        "segmentation", input_shape=(1, 8, 8), latent_dim=16, skip_connections=skip_connections, seed=0
    )
    assert isinstance(model, SegmentationAutoencoder)
    Trainer(TrainConfig(epochs=3, batch_size=32, learning_rate=3e-3, device="cpu")).fit(
        model, train
    )  # 48 steps
    model.eval()
    with torch.no_grad():
        predicted = model.predict(x_test)
    accuracy = (predicted == mask_test).float().mean().item()
    foreground = mask_test.float().mean().item()
    chance = max(foreground, 1 - foreground)  # always predicting the majority class
    iou = ((predicted == 1) & (mask_test == 1)).sum().item() / (
        (predicted == 1) | (mask_test == 1)
    ).sum().item()
    assert accuracy > min_accuracy > chance + 0.05, (accuracy, chance)
    assert iou > min_iou, iou  # all-foreground would score `foreground` ≈ 0.29


def test_outputs_and_code_shapes() -> None:
    model = create("segmentation", input_shape=(3, 13, 11), latent_dim=5, n_classes=4, seed=0)
    x = torch.rand(2, 3, 13, 11)
    output = model(x)
    assert output.x_hat.shape == (2, 4, 13, 11)
    assert output.z.shape == model.encode(x).shape == (2, 5)
    assert model.decode(output.z).shape == (2, 4, 13, 11)
    assert model.predict(x).shape == (2, 13, 11) and model.predict(x).dtype == torch.int64


def test_loss_terms_and_dice() -> None:
    mask = torch.tensor([[[0, 1], [1, 1]]])
    perfect = torch.nn.functional.one_hot(mask, 2).permute(0, 3, 1, 2).float() * 40 - 20
    assert dice_loss(perfect, mask).item() < 1e-6
    uniform = torch.zeros(1, 2, 2, 2)
    # p = ½ everywhere: class 0 → (2·½ + 1)/(2 + 1 + 1) = ½; class 1 → (2·1.5 + 1)/(2 + 3 + 1) = ⅔.
    torch.testing.assert_close(dice_loss(uniform, mask), torch.tensor(1 - (0.5 + 2 / 3) / 2))
    model = create("segmentation", input_shape=(1, 8, 8), latent_dim=4, dice_weight=0.5, seed=0)
    x = torch.rand(3, 1, 8, 8)
    inputs, target, _ = model.prepare_batch((x, _masks(x)))
    terms = model.loss(model(inputs), target)
    assert tuple(terms) == ("loss", "cross_entropy", "dice")
    torch.testing.assert_close(terms["loss"], terms["cross_entropy"] + 0.5 * terms["dice"])


def test_mask_errors_are_clear() -> None:
    model = create("segmentation", input_shape=(1, 8, 8), latent_dim=4)
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(DataError, match=r"needs a mask in the batch \(y of shape \(B, 8, 8\)\)"):
        model.prepare_batch((x, None))
    with pytest.raises(ShapeError, match=r"must have shape \(2, 8, 8\); got \(2, 64\)"):
        model.prepare_batch((x, torch.zeros(2, 64, dtype=torch.long)))
    with pytest.raises(DataError, match="integer class indices"):
        model.prepare_batch((x, torch.zeros(2, 8, 8)))
    with pytest.raises(DataError, match=r"mask values must lie in \[0, 2\); got 0 to 5"):
        model.prepare_batch((x, torch.full((2, 8, 8), 5).index_fill(1, torch.tensor([0]), 0)))
    with pytest.raises(ConfigError, match="n_classes must be ≥ 2"):
        create("segmentation", input_shape=(1, 8, 8), n_classes=1)
    with pytest.raises(ConfigError, match=r"input_shape must be \(C, H, W\)"):
        create("segmentation", input_shape=(64,))

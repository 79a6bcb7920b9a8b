"""The training engine: learning, resume equivalence, non-finite losses, early stopping, checkpoints."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import CheckpointError, ConfigError, ShapeError, TrainingError
from aekit.models import create
from aekit.models.ae import MLPAutoencoder
from aekit.training import TrainConfig, Trainer
from aekit.training.fit import fit


def _mlp(seed: int = 0) -> MLPAutoencoder:
    return create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[32], dropout=0.1, seed=seed)  # type: ignore[return-value]


def test_training_reduces_the_loss(small_digits: TensorData) -> None:
    model = _mlp()
    history = fit(model, small_digits.x, epochs=6, batch_size=32, learning_rate=3e-3)
    assert history["train_loss"][-1] < 0.6 * history["train_loss"][0]
    assert set(history.columns) >= {
        "epoch",
        "train_loss",
        "train_recon",
        "lr",
        "seconds",
        "samples_per_second",
    }


def test_resume_reaches_the_same_weights_as_an_uninterrupted_run(
    small_digits: TensorData, tmp_path: Path
) -> None:
    config = TrainConfig(epochs=4, batch_size=32, seed=3, checkpoint_dir=str(tmp_path / "full"))
    full = _mlp()
    Trainer(config).fit(full, small_digits)

    interrupted = _mlp()
    Trainer(config.replace(epochs=2, checkpoint_dir=str(tmp_path / "cut"))).fit(interrupted, small_digits)
    resumed = _mlp(seed=99)  # different start: everything must come from the checkpoint
    history = Trainer(config.replace(checkpoint_dir=str(tmp_path / "cut"), resume=True)).fit(
        resumed, small_digits
    )

    assert len(history) == 4
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_resuming_with_fewer_epochs_than_trained_is_refused(small_digits: TensorData, tmp_path: Path) -> None:
    config = TrainConfig(epochs=3, batch_size=64, checkpoint_dir=str(tmp_path))
    Trainer(config).fit(_mlp(), small_digits)
    with pytest.raises(
        ConfigError, match=r"epochs=2 is fewer than the 3 epochs checkpoint .* has already trained"
    ):
        Trainer(config.replace(epochs=2, resume=True)).fit(_mlp(), small_digits)
    assert len(Trainer(config.replace(resume=True)).fit(_mlp(), small_digits)) == 3


def test_training_does_not_touch_the_global_rng(small_digits: TensorData) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fit(_mlp(), small_digits.x, epochs=1, batch_size=64)
    torch.testing.assert_close(torch.rand(3), expected)


def test_same_seed_same_result(small_digits: TensorData) -> None:
    first, second = _mlp(), _mlp()
    fit(first, small_digits.x, epochs=2, batch_size=32, seed=5)
    fit(second, small_digits.x, epochs=2, batch_size=32, seed=5)
    for a, b in zip(first.parameters(), second.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def _explode_after(model: MLPAutoencoder, calls: int) -> None:
    """Make the model's loss NaN after ``calls`` calls (a stand-in for a diverging run)."""
    original = model.loss
    count = {"calls": 0}

    def loss(output: object, target: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = original(output, target)  # type: ignore[arg-type]
        count["calls"] += 1
        return {k: v * math.nan for k, v in terms.items()} if count["calls"] > calls else terms

    model.loss = loss  # type: ignore[method-assign]


def test_non_finite_loss_stops_with_a_clear_error_and_keeps_the_checkpoint(
    small_digits: TensorData, tmp_path: Path
) -> None:
    model = _mlp()
    _explode_after(model, 10)
    config = TrainConfig(epochs=3, batch_size=64, checkpoint_dir=str(tmp_path))
    with pytest.raises(
        TrainingError, match=r"'loss' became nan at epoch 3, batch 3; the last good checkpoint"
    ):
        Trainer(config).fit(model, small_digits)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["epoch"] == 2
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    model = _mlp()
    _explode_after(model, 1)  # in the first epoch: no checkpoint exists to point to
    config = TrainConfig(epochs=3, batch_size=64, checkpoint_dir=str(tmp_path / "early"))
    with pytest.raises(TrainingError, match=r"batch 2; no checkpoint was written before it"):
        Trainer(config).fit(model, small_digits)


def test_early_stopping_and_best_weights(small_digits: TensorData) -> None:
    train, val = small_digits.subset(torch.arange(200)), small_digits.subset(torch.arange(200, 256))
    model = _mlp()
    history = Trainer(
        TrainConfig(epochs=50, batch_size=32, learning_rate=0.5, early_stopping_patience=2)
    ).fit(model, train, val)
    assert len(history) < 50
    best = min(history["val_loss"])
    from aekit.training import evaluate_terms

    assert evaluate_terms(model, val)["loss"] == pytest.approx(best, rel=1e-4)


def test_corrupt_and_foreign_checkpoints_are_refused(small_digits: TensorData, tmp_path: Path) -> None:
    config = TrainConfig(epochs=1, batch_size=64, checkpoint_dir=str(tmp_path))
    Trainer(config).fit(_mlp(), small_digits)
    other = create("mlp", input_shape=(1, 8, 8), latent_dim=5, hidden_dims=[32])
    with pytest.raises(CheckpointError, match=r"made for model 'mlp' with latent_dim=4 \(this one has 5\)"):
        Trainer(config.replace(resume=True)).fit(other, small_digits)
    conv = create("conv", input_shape=(1, 8, 8), latent_dim=4)
    with pytest.raises(CheckpointError, match="made for model 'mlp', not 'conv'"):
        Trainer(config.replace(resume=True)).fit(conv, small_digits)
    (tmp_path / "checkpoint.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupt or unreadable"):
        Trainer(config.replace(resume=True)).fit(_mlp(), small_digits)


def test_losses_csv_is_written_every_epoch(small_digits: TensorData, tmp_path: Path) -> None:
    Trainer(TrainConfig(epochs=2, batch_size=64, checkpoint_dir=str(tmp_path))).fit(_mlp(), small_digits)
    lines = (tmp_path / "losses.csv").read_text().splitlines()
    assert lines[0].startswith("epoch,train_loss,train_recon")
    assert len(lines) == 3


def test_data_of_the_wrong_shape_is_refused(small_digits: TensorData) -> None:
    model = create("mlp", input_shape=(1, 7, 7), latent_dim=2)
    with pytest.raises(
        ShapeError, match=r"train samples have shape \(1, 8, 8\) but the model expects \(1, 7, 7\)"
    ):
        Trainer(TrainConfig(epochs=1)).fit(model, small_digits)


def test_nan_training_data_is_refused(small_digits: TensorData) -> None:
    x = small_digits.x.clone()
    x[3, 0, 2, 2] = math.nan
    from aekit.errors import DataError

    with pytest.raises(DataError, match="train data contains NaN"):
        fit(_mlp(), x, epochs=1)


def test_bad_train_config_values_are_named() -> None:
    with pytest.raises(ConfigError, match="batch_size must be > 0; got 0"):
        TrainConfig(batch_size=0)
    with pytest.raises(ConfigError, match="did you mean 'learning_rate'"):
        TrainConfig.from_dict({"learning_rat": 0.1})


def test_gradient_accumulation_matches_a_larger_batch(small_digits: TensorData) -> None:
    data = small_digits.subset(torch.arange(128))
    plain = create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[16], seed=1)
    accumulated = create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[16], seed=1)
    Trainer(TrainConfig(epochs=1, batch_size=64, shuffle=False, optimizer="adam")).fit(plain, data)
    Trainer(TrainConfig(epochs=1, batch_size=32, gradient_accumulation=2, shuffle=False)).fit(
        accumulated, data
    )
    for a, b in zip(plain.parameters(), accumulated.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_an_epoch_shorter_than_the_accumulation_still_steps_on_the_mean_gradient(
    small_digits: TensorData,
) -> None:
    """3 batches with gradient_accumulation=4 make one step on their mean: a batch of all 96 (no step at
    all before, the model never trained)."""
    data = small_digits.subset(torch.arange(96))
    plain = create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[16], seed=1)
    accumulated = create("mlp", input_shape=(1, 8, 8), latent_dim=4, hidden_dims=[16], seed=1)
    Trainer(TrainConfig(epochs=2, batch_size=96, shuffle=False)).fit(plain, data)
    Trainer(TrainConfig(epochs=2, batch_size=32, gradient_accumulation=4, shuffle=False)).fit(
        accumulated, data
    )
    for a, b in zip(plain.parameters(), accumulated.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_augmentation_is_applied_and_seeded(small_digits: TensorData) -> None:
    from aekit.data import Augmentation

    seen: list[torch.Tensor] = []
    augmentation = Augmentation(max_shift=1, horizontal_flip_probability=0.5)

    def recording(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        out = augmentation.apply(x, generator)
        seen.append(out)
        return out

    fit_once = Trainer(TrainConfig(epochs=1, batch_size=256, shuffle=False), augment=recording)
    fit_once.fit(_mlp(), small_digits)
    fit_once.fit(_mlp(), small_digits)
    assert not torch.equal(seen[0], small_digits.x)  # really changed the inputs
    torch.testing.assert_close(seen[0], seen[1])  # and the same seed gives the same change


def test_bf16_mixed_precision_trains_on_cpu(small_digits: TensorData) -> None:
    model = _mlp()
    history = fit(model, small_digits.x, epochs=3, batch_size=32, learning_rate=3e-3, precision="bf16-mixed")
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast, not a cast of the weights


def test_float16_mixed_precision_falls_back_on_cpu_with_a_warning(
    small_digits: TensorData, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="aekit.training.devices"):
        fit(_mlp(), small_digits.x, epochs=1, batch_size=64, precision="16-mixed", device="cpu")
    assert "precision 16-mixed is not supported on cpu; training in full precision" in caplog.text


def test_batch_norm_skips_a_last_batch_of_one_sample(small_digits: TensorData) -> None:
    """65 samples in batches of 64 leave one sample alone, which batch norm cannot train on."""
    from aekit.models import create

    data = TensorData(small_digits.x[:65])
    model = create("mlp", input_shape=tuple(data.x.shape[1:]), latent_dim=4, batch_norm=True, seed=0)
    assert model.uses_batch_statistics and not _mlp().uses_batch_statistics
    Trainer(TrainConfig(epochs=2, batch_size=64)).fit(model, data)
    assert all(torch.isfinite(p).all() for p in model.parameters())

"""``Trainer.fit`` follows each family's declared fitting procedure; resume keeps the schedule monotone;
``verbose`` shows one line per epoch off a terminal."""

from __future__ import annotations

import io
import itertools

import pytest
import torch

import aekit
from aekit.data.tensors import TensorData
from aekit.models import create
from aekit.training.config import TrainConfig
from aekit.training.progress import ProgressReporter, feedback_mode
from aekit.training.trainer import Trainer


@pytest.fixture
def vectors() -> TensorData:
    generator = torch.Generator().manual_seed(0)
    return TensorData(torch.rand(96, 12, generator=generator))


def test_trainer_fits_pca_in_closed_form(vectors: TensorData) -> None:
    model = create("pca", input_shape=(12,), latent_dim=3)
    history = Trainer(TrainConfig(epochs=5)).fit(model, vectors, vectors)  # was autograd's RuntimeError
    reference = create("pca", input_shape=(12,), latent_dim=3).fit_closed_form(vectors.x)
    assert len(history) == 1 and history["val_loss"][0] == pytest.approx(history["train_loss"][0])
    assert torch.allclose(model.components.abs(), reference.components.abs(), atol=1e-5)


def test_trainer_pretrains_a_stack_layer_by_layer_then_fine_tunes(vectors: TensorData, tmp_path) -> None:
    model = create("stacked", input_shape=(12,), hidden_dims=(8,), latent_dim=4, seed=0)
    config = TrainConfig(epochs=2, pretrain_epochs=3, batch_size=32, checkpoint_dir=str(tmp_path))
    history = Trainer(config).fit(model, vectors)
    assert [len(stage) for stage in history.pretraining] == [3, 3]  # one per layer, pretrain_epochs each
    assert len(history) == 2
    assert (tmp_path / "layer_0" / "checkpoint.pt").is_file() and (
        tmp_path / "layer_1" / "checkpoint.pt"
    ).is_file()
    first_layer = history.pretraining[0]["train_loss"]
    assert first_layer[-1] < first_layer[0]


def test_layerwise_fitting_needs_in_memory_data(vectors: TensorData) -> None:
    from aekit.errors import ConfigError

    model = create("stacked", input_shape=(12,), hidden_dims=(8,), latent_dim=4)

    class Stream:
        sample_shape = (12,)

        def batches(self, *args, **kwargs):  # pragma: no cover - never reached
            yield from ()

    with pytest.raises(ConfigError, match="layer-wise pretraining needs in-memory training data"):
        Trainer(TrainConfig(epochs=1)).fit(model, Stream())  # type: ignore[arg-type]


def test_resuming_with_more_epochs_never_raises_the_learning_rate(vectors: TensorData, tmp_path) -> None:
    options = {
        "batch_size": 32,
        "learning_rate": 1e-2,
        "lr_schedule": "cosine",
        "checkpoint_dir": str(tmp_path),
    }
    model = create("mlp", input_shape=(12,), hidden_dims=(8,), latent_dim=3, seed=0)
    first = Trainer(TrainConfig(epochs=4, **options)).fit(model, vectors)
    resumed = Trainer(TrainConfig(epochs=8, resume=True, **options)).fit(model, vectors)
    rates = resumed["lr"]
    assert rates[:4] == first["lr"]
    assert all(later <= earlier for earlier, later in itertools.pairwise(rates))
    assert rates[4] > 0  # epoch 5 used to train with learning rate 0
    # resuming again with the same total continues the extended schedule unchanged
    again = Trainer(TrainConfig(epochs=8, resume=True, **options)).fit(model, vectors)
    assert again["lr"] == rates


def test_epoch_lines_show_train_and_validation_loss_and_time() -> None:
    stream = io.StringIO()
    with ProgressReporter(mode="lines", total_epochs=2, stream=stream) as progress:
        progress.end_epoch({"epoch": 1.0, "train_loss": 0.5, "val_loss": 0.6, "seconds": 1.25})
    assert stream.getvalue() == "epoch 1/2  train_loss 0.5  val_loss 0.6  1.2 s\n"


def test_feedback_mode_follows_keras_verbose() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert feedback_mode(0) == "off"
    assert feedback_mode(1) == "bar" and feedback_mode(2) == "lines"
    assert feedback_mode("auto", stream=io.StringIO()) == "lines"  # piped: every epoch kept
    assert feedback_mode("auto", stream=Terminal()) == "bar"
    assert feedback_mode(0, progress=True, stream=io.StringIO()) == "lines"


def test_aekit_fit_reports_every_epoch_off_a_terminal(vectors: TensorData, capsys) -> None:
    model = create("mlp", input_shape=(12,), hidden_dims=(8,), latent_dim=3)
    aekit.fit(model, vectors.x, epochs=3, batch_size=32, validation_data=vectors.x)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert all("train_loss" in line and "val_loss" in line and " s" in line for line in lines)
    aekit.fit(model, vectors.x, epochs=1, verbose=0)
    assert capsys.readouterr().err == ""


def test_aekit_fit_takes_grey_image_stacks_and_warns_about_8_bit_values() -> None:
    """Keras users hand over ``(N, H, W)`` arrays, often ``uint8``: the stack gains its channel axis for a
    ``(1, H, W)`` model (validation data and paired clean targets too), and 8-bit values warn that they
    are trained on as given (they trained silently at losses in the tens of thousands)."""
    import numpy as np

    images = np.random.default_rng(0).random((24, 8, 8)).astype(np.float32)
    conv = create("conv", input_shape=(1, 8, 8), latent_dim=2, channels=[4], seed=0)
    history = aekit.fit(conv, images, epochs=1, batch_size=8, verbose=0, validation_data=images[:4])
    assert len(history["val_loss"]) == 1
    denoiser = create("photo_denoiser", input_shape=(1, 8, 8), channels=[4, 8], seed=0)
    aekit.fit(denoiser, images + 0.1, y=images, epochs=1, batch_size=8, verbose=0)
    pixels = (images * 255).astype(np.uint8)
    with pytest.warns(UserWarning, match=r"x holds 8-bit integers up to 25\d.*\(x / 255\)"):
        aekit.fit(conv, pixels, epochs=1, batch_size=8, verbose=0)

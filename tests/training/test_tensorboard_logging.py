"""The trainer's per-epoch hook and TensorBoard logging (losses per epoch, reconstruction images)."""

from __future__ import annotations

from pathlib import Path

import pytest

import aekit
from aekit.data.tensors import TensorData
from aekit.errors import ShapeError
from aekit.training import TrainConfig, Trainer
from aekit.training.tensorboard import TensorBoardLogger, scalar_tag

pytest.importorskip("tensorboard", reason="TensorBoard logging is an optional extra (aekit[tensorboard])")


def _events(log_dir: Path):  # type: ignore[no-untyped-def]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def test_on_epoch_end_gets_every_row_in_order(small_digits: TensorData) -> None:
    model = aekit.create("mlp", input_shape=(1, 8, 8), latent_dim=3, hidden_dims=[16], seed=0)
    calls: list[tuple[int, dict[str, float]]] = []
    history = Trainer(
        TrainConfig(epochs=3, batch_size=64, seed=0), on_epoch_end=lambda e, row: calls.append((e, row))
    ).fit(model, small_digits, small_digits)
    assert [epoch for epoch, _ in calls] == [1, 2, 3]
    assert [row for _, row in calls] == history.rows
    calls[0][1]["train_loss"] = -1.0  # the hook gets a copy: changing it leaves the history alone
    assert history.rows[0]["train_loss"] != -1.0


def test_fit_passes_the_hook_through_also_for_closed_form_models(small_digits: TensorData) -> None:
    epochs: list[int] = []
    pca = aekit.create("pca", input_shape=(1, 8, 8), latent_dim=3)
    aekit.fit(pca, small_digits.x, on_epoch_end=lambda epoch, row: epochs.append(epoch))
    assert epochs == [1]


@pytest.mark.parametrize(
    "column,tag",
    [
        ("train_loss", "loss/train"),
        ("val_recon", "recon/val"),
        ("lr", "optimizer/learning_rate"),
        ("samples_per_second", "speed/samples_per_second"),
        ("epoch", None),
    ],
)
def test_history_columns_map_to_grouped_tags(column: str, tag: str | None) -> None:
    assert scalar_tag(column) == tag


def test_logger_writes_losses_per_epoch_and_images(small_digits: TensorData, tmp_path: Path) -> None:
    model = aekit.create("mlp", input_shape=(1, 8, 8), latent_dim=3, hidden_dims=[16], seed=0)
    with TensorBoardLogger(tmp_path / "tb") as board:
        history = Trainer(TrainConfig(epochs=2, batch_size=64), on_epoch_end=board.log_epoch).fit(
            model, small_digits, small_digits
        )
        shown = small_digits.x[:4]
        board.log_reconstructions(shown, model.reconstruct(shown).detach(), step=2)
        with pytest.raises(ShapeError, match=r"must both have shape \(B, C, H, W\)"):
            board.log_reconstructions(shown.flatten(1), shown.flatten(1), step=2)
    events = _events(tmp_path / "tb")
    tags = events.Tags()
    assert {"loss/train", "loss/val", "recon/train", "optimizer/learning_rate"} <= set(tags["scalars"])
    losses = events.Scalars("loss/train")
    assert [event.step for event in losses] == [1, 2]
    assert [event.value for event in losses] == pytest.approx(history["train_loss"], rel=1e-6)
    assert tags["images"] == ["reconstructions"]
    image = events.Images("reconstructions")[0]
    assert image.step == 2 and image.height == 16 and image.width > 8  # input above reconstruction


def test_aekit_train_with_tensorboard_option(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from aekit.cli import app

    result = CliRunner().invoke(
        app,
        [
            "--quiet",
            "train",
            "--epochs",
            "1",
            "--max-samples",
            "200",
            "--latent-dim",
            "3",
            "--set",
            "channels=[4,8]",
            "--no-report",
            "--tensorboard",
            str(tmp_path / "tb"),
            "-o",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    tags = _events(tmp_path / "tb").Tags()
    assert "loss/val" in tags["scalars"] and tags["images"] == ["reconstructions"]
    assert not (tmp_path / "run" / "report.html").exists()


def test_a_tensorboard_path_that_is_a_file_is_one_line_and_leaves_the_run_folder_free(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from aekit.cli import app

    taken = tmp_path / "notes.txt"
    taken.write_text("mine", encoding="utf-8")
    command = ["train", "--epochs", "1", "--max-samples", "60", "--model", "mlp", "--no-report"]
    result = CliRunner().invoke(app, [*command, "--tensorboard", str(taken), "-o", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "notes.txt is a file; TensorBoard logging is written as a folder" in result.output
    assert taken.read_text(encoding="utf-8") == "mine"
    assert not (tmp_path / "run" / "settings.json").exists()  # the same run with a good path is not refused

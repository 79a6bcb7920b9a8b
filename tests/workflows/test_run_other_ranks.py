"""Under ``torchrun`` only rank 0 writes the run folder and TensorBoard events and speaks; Ctrl-C says how to
continue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aekit.training.config import TrainConfig
from aekit.workflows.run import RunSpec, run_training


def test_a_rank_other_than_0_trains_but_writes_no_settings_and_no_tensorboard_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tensorboard")
    data = tmp_path / "rows.npz"
    rng = np.random.default_rng(0)
    np.savez(data, x=rng.random((24, 5)).astype(np.float32), y=rng.integers(0, 2, 24))
    monkeypatch.setenv("RANK", "1")  # what torchrun sets; WORLD_SIZE unset keeps the run single-process
    spec = RunSpec(
        dataset=str(data),
        model="mlp",
        run_dir=str(tmp_path / "run"),
        model_options={"latent_dim": 2, "hidden_dims": [4]},
        train=TrainConfig(epochs=1, batch_size=8),
        tensorboard_dir=str(tmp_path / "board"),
    )
    result = run_training(spec)
    assert len(result.history) == 1
    assert not (tmp_path / "run" / "settings.json").exists()
    assert not (tmp_path / "board").exists() or not any((tmp_path / "board").iterdir())


def test_aekit_train_on_a_rank_other_than_0_prints_no_status_and_no_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from aekit.cli import app

    data = tmp_path / "rows.npy"
    np.save(data, np.random.default_rng(0).random((24, 5)).astype(np.float32))
    monkeypatch.setenv("RANK", "1")
    command = ["train", str(data), "--model", "mlp", "--latent-dim", "2", "--set", "hidden_dims=[4]"]
    result = CliRunner().invoke(app, [*command, "--epochs", "1", "-o", str(tmp_path / "run"), "--no-report"])
    assert result.exit_code == 0, result.output
    # (the epoch lines come from the Trainer, which knows its rank from the process group torchrun opens)
    assert "training 'mlp'" not in result.output and "run folder" not in result.output


def test_ctrl_c_during_aekit_train_says_how_to_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import aekit.workflows.run
    from aekit.cli import app

    def interrupted(spec: RunSpec) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(aekit.workflows.run, "run_training", interrupted)
    result = CliRunner().invoke(app, ["train", "--model", "mlp", "-o", str(tmp_path / "run")])
    assert result.exit_code == 130
    assert "interrupted;" in result.output and "with --resume to continue" in result.output

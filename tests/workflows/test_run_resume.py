"""Resuming a run folder: only with the settings it was trained with, and never over a finished run
whose checkpoint is gone."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from aekit.errors import ConfigError, DataError
from aekit.training.config import TrainConfig
from aekit.workflows.run import RunSpec, run_training


def _spec(tmp_path: Path, **train: object) -> RunSpec:
    data = tmp_path / "rows.npz"
    if not data.exists():
        rng = np.random.default_rng(0)
        np.savez(data, x=rng.random((40, 6)).astype(np.float32), y=rng.integers(0, 2, 40))
    options = {"epochs": 1, "batch_size": 8, **train}
    return RunSpec(
        dataset=str(data),
        model="mlp",
        run_dir=str(tmp_path / "run"),
        model_options={"latent_dim": 2, "hidden_dims": [8]},
        train=TrainConfig(**options),  # type: ignore[arg-type]
    )


def test_resuming_with_another_seed_or_batch_size_is_refused_naming_both_values(tmp_path: Path) -> None:
    run_training(_spec(tmp_path))
    settings = (tmp_path / "run" / "settings.json").read_bytes()
    with pytest.raises(ConfigError, match=r"train\.batch_size was 8, now 4; train\.seed was 0, now 5"):
        run_training(_spec(tmp_path, resume=True, seed=5, batch_size=4))
    assert (tmp_path / "run" / "settings.json").read_bytes() == settings  # refused before any write
    longer = run_training(_spec(tmp_path, resume=True, epochs=2))  # more epochs: the usual resume
    assert len(longer.history) == 2


def test_resuming_a_finished_run_without_its_checkpoint_is_refused(tmp_path: Path) -> None:
    run_training(_spec(tmp_path))
    shutil.rmtree(tmp_path / "run" / "checkpoint")
    weights = (tmp_path / "run" / "model" / "model.safetensors").read_bytes()
    with pytest.raises(DataError, match="finished run without its checkpoint"):
        run_training(_spec(tmp_path, resume=True))
    assert (tmp_path / "run" / "model" / "model.safetensors").read_bytes() == weights


def test_a_closed_form_run_resumes_by_fitting_again_with_the_same_settings(tmp_path: Path) -> None:
    spec = dataclasses.replace(_spec(tmp_path), model="pca", model_options={"latent_dim": 2})
    first = run_training(spec)
    again = run_training(dataclasses.replace(spec, train=spec.train.replace(resume=True)))
    assert again.metrics["test_mse_per_feature"] == first.metrics["test_mse_per_feature"]
    with pytest.raises(ConfigError, match=r"train\.seed was 0, now 1"):
        run_training(dataclasses.replace(spec, train=spec.train.replace(resume=True, seed=1)))


def test_resuming_with_another_model_option_or_with_overwrite_is_refused(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    run_training(spec)
    settings = (tmp_path / "run" / "settings.json").read_bytes()
    other = dataclasses.replace(spec, model_options={"latent_dim": 3, "hidden_dims": [8]})
    with pytest.raises(ConfigError, match=r"model_options\.latent_dim was 2, now 3"):
        run_training(dataclasses.replace(other, train=spec.train.replace(resume=True)))
    assert (tmp_path / "run" / "settings.json").read_bytes() == settings
    with pytest.raises(ConfigError, match="overwrite and resume contradict each other"):
        dataclasses.replace(spec, overwrite=True, train=spec.train.replace(resume=True))

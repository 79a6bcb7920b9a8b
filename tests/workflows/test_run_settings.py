"""Run settings from Python: ``RunSpec.from_toml`` reads what ``aekit train --config`` reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from aekit.errors import ConfigError, DataError
from aekit.workflows.run import RunSpec, read_run_settings


def test_from_toml_reads_the_settings_and_overrides_win(tmp_path: Path) -> None:
    settings = tmp_path / "run.toml"
    settings.write_text(
        'dataset = "digits"\nmodel = "mlp"\nimage_size = 12\n'
        "[train]\nepochs = 3\nbatch_size = 16\n[model_options]\nlatent_dim = 4\n",
        encoding="utf-8",
    )
    spec = RunSpec.from_toml(settings, run_dir=str(tmp_path / "run"), train={"epochs": 1})
    assert (spec.dataset, spec.model, spec.image_size) == ("digits", "mlp", (12, 12))
    assert (spec.train.epochs, spec.train.batch_size) == (1, 16)
    assert spec.model_options == {"latent_dim": 4} and spec.run_dir == str(tmp_path / "run")


def test_bad_settings_name_the_file_and_key(tmp_path: Path) -> None:
    settings = tmp_path / "run.toml"
    settings.write_text('modle = "mlp"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"run\.toml: unknown setting 'modle'; did you mean 'model'\?"):
        read_run_settings(settings)
    settings.write_text("image_size = [100000, 100000]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="too large"):
        read_run_settings(settings)
    with pytest.raises(DataError, match="does not exist"):
        RunSpec.from_toml(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="unknown run field"):
        RunSpec.from_settings({}, epochs=3)


def test_a_checkpoint_folder_outside_the_run_is_refused(tmp_path: Path) -> None:
    """``--train-set checkpoint_dir=X`` was silently replaced by the run folder's ``checkpoint/``."""
    run = tmp_path / "run"
    with pytest.raises(
        ConfigError, match=r"checkpoint_dir '.*elsewhere': a run keeps its checkpoint in its own"
    ):
        RunSpec.from_settings({"run_dir": str(run)}, train={"checkpoint_dir": str(tmp_path / "elsewhere")})
    same = RunSpec.from_settings({"run_dir": str(run)}, train={"checkpoint_dir": str(run / "checkpoint")})
    assert same.train.checkpoint_dir == str(run / "checkpoint")

"""``aekit sweep`` over the model families: the options each family declares, its labels, and refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aekit.cli import app

TINY = ["--latent-dims", "2", "--epochs", "1", "--max-samples", "120", "--device", "cpu"]


@pytest.mark.parametrize("model", ["vae", "cvae"])
def test_families_without_an_output_activation_or_with_labels_sweep(
    runner: CliRunner, tmp_path: Path, model: str
) -> None:
    result = runner.invoke(app, ["--json", "sweep", "digits", "--model", model, *TINY, "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert [(r["model"], r["latent_dim"]) for r in rows] == [(model, 2), ("pca", 2)]
    assert (tmp_path / f"{model}_latent_2" / "config.json").is_file()


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("codec", "model 'codec' has no latent size (latent_dim)"),
        ("segmentation", "model 'segmentation' does not reconstruct its input"),
    ],
)
def test_families_a_sweep_cannot_measure_are_refused_before_loading(
    runner: CliRunner, tmp_path: Path, model: str, problem: str
) -> None:
    result = runner.invoke(app, ["sweep", "digits", "--model", model, *TINY, "-o", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {problem}") and result.stderr.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_a_latent_size_over_the_pca_limit_is_refused_before_any_training(
    runner: CliRunner, tmp_path: Path
) -> None:
    args = ["sweep", "digits", "--latent-dims", "2,100", "--epochs", "1", "--max-samples", "120"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: latent size 100 does not fit the PCA baseline (drop the size or leave PCA out): "
        "latent_dim must be ≤ the number of features 64; got 100\n"
    )
    assert not list((tmp_path / "s").glob("*_latent_*"))
    again = runner.invoke(app, [*args[:2], "--latent-dims", "2", *args[4:], "-o", str(tmp_path / "s")])
    assert again.exit_code == 0, again.output


def test_a_latent_size_over_the_training_samples_is_refused_for_pca(
    runner: CliRunner, tmp_path: Path
) -> None:
    args = ["sweep", "digits", "--latent-dims", "2,60", "--max-samples", "50", "-o", str(tmp_path / "s")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "latent size 60 does not fit the PCA baseline" in result.stderr
    assert "needs at least 60 training samples; got 40" in result.stderr
    assert not list((tmp_path / "s").glob("*_latent_*"))


def test_a_misspelt_option_is_blamed_not_the_latent_size(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["sweep", "digits", *TINY, "--set", "hiden_dims=[8]", "-o", str(tmp_path / "s")]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: model 'mlp': MLPAutoencoderConfig has no field 'hiden_dims'; did you mean 'hidden_dims'"
    )
    assert "latent size" not in result.stderr

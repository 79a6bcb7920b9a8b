"""The latent-size sweep: one model per size beside PCA, files written with the run."""

from __future__ import annotations

import json

import pytest
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError
from aekit.models.files import load
from aekit.training.config import TrainConfig
from aekit.workflows.sweep import load_sweep_data, save_sweep, sweep_latent_dims


def test_reconstruction_error_falls_with_latent_size_on_digits(digits: TensorData, tmp_path) -> None:
    train = digits.subset(torch.arange(1400))
    test = digits.subset(torch.arange(1400, 1797))
    result = sweep_latent_dims(
        train,
        test,
        [2, 16],
        model="mlp",
        model_options={"hidden_dims": [64], "output_activation": "sigmoid"},
        train_config=TrainConfig(epochs=12, batch_size=128, learning_rate=5e-3, device="cpu"),
        output_dir=tmp_path / "sweep",
    )
    assert [(r.model, r.latent_dim) for r in result.rows] == [
        ("mlp", 2),
        ("mlp", 16),
        ("pca", 2),
        ("pca", 16),
    ]
    mlp, pca = result.curve("mlp"), result.curve("pca")
    assert mlp[1].test_mse < 0.8 * mlp[0].test_mse and mlp[1].test_psnr_db > mlp[0].test_psnr_db
    assert pca[1].test_mse < pca[0].test_mse
    # with 2 dimensions the nonlinear code beats the best linear one
    assert mlp[0].test_mse < pca[0].test_mse
    saved = load(tmp_path / "sweep" / "mlp_latent_16")
    assert saved.model.latent_dim == 16 and saved.metadata["sweep"]["latent_dim"] == 16
    paths = save_sweep(result, tmp_path / "sweep")
    assert paths["csv"].read_text().splitlines()[0].startswith("model,latent_dim,test_mse")
    assert len(json.loads(paths["json"].read_text())["rows"]) == 4


def test_sweep_data_and_arguments(tmp_path) -> None:
    data = load_sweep_data("digits", max_samples=500, test_fraction=0.2)
    assert len(data.train) == 400 and len(data.test) == 100
    assert float(data.train.x.max()) <= 1.0 and data.normalizer.kind == "scale"
    with pytest.raises(ConfigError, match="latent_dims must be distinct positive integers"):
        sweep_latent_dims(data.train, data.test, [4, 4])


def test_sweep_folder_is_claimed_before_training(tmp_path) -> None:
    data = load_sweep_data("digits", max_samples=200, test_fraction=0.2)
    config = TrainConfig(epochs=1, batch_size=64, device="cpu")
    folder = tmp_path / "sweep"
    sweep_latent_dims(data.train, data.test, [8], train_config=config, include_pca=False, output_dir=folder)
    trained: list[int] = []
    with pytest.raises(DataError, match="already holds a sweep"):
        sweep_latent_dims(
            data.train,
            data.test,
            [2],
            train_config=config,
            output_dir=folder,
            on_row=lambda r: trained.append(1),
        )
    assert trained == [] and (folder / "mlp_latent_8" / "config.json").is_file()
    sweep_latent_dims(
        data.train, data.test, [2], train_config=config, include_pca=False, output_dir=folder, overwrite=True
    )
    assert sorted(p.name for p in folder.iterdir()) == ["mlp_latent_2"]


@pytest.mark.parametrize("limits", [{"max_test_samples": -3}, {"max_test_samples": 0}, {"max_samples": 0}])
def test_sample_limits_must_be_positive(limits: dict[str, int]) -> None:
    """A negative test limit was an internal error (torch.arange), zero an 'empty dataset'."""
    (name,) = limits
    with pytest.raises(ConfigError, match=rf"{name} must be a positive integer; got {limits[name]}"):
        load_sweep_data("digits", **limits)

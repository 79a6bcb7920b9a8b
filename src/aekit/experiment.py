"""A training run end to end: load data, normalise, split, train, evaluate, save model and pictures.

Used by ``aekit train`` and ``aekit demo``; callable from Python too. The run folder holds::

    model/            config.json + model.safetensors (with the normalisation)
    checkpoint/       checkpoint.pt + losses.csv (resume with resume=True)
    losses.csv        every loss term per epoch
    metrics.json      test per-pixel MSE, PSNR, loss terms, sizes, time
    settings.json     the RunSpec and the effective TrainConfig (written before training starts)
    reconstructions.png, loss_curve.png, latent_map.png

``aekit report RUN_DIR`` turns the folder into one HTML page (see :mod:`aekit.report.html`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import torch

from aekit._version import __version__
from aekit.data.augment import Augmentation
from aekit.data.datasets import LoadedDataset, load_dataset
from aekit.data.normalization import Normalizer
from aekit.data.split import train_val_split
from aekit.data.tensors import TensorData
from aekit.files import atomic_write_text
from aekit.io import save_model
from aekit.metrics.image import mse_per_sample, psnr
from aekit.models.base import AbstractAutoencoder
from aekit.models.registry import create
from aekit.report.plots import (
    latent_map_figure,
    loss_curve_figure,
    reconstruction_grid_figure,
    save_figure,
)
from aekit.training.config import TrainConfig
from aekit.training.fit import fit
from aekit.training.history import History
from aekit.training.tensorboard import TensorBoardLogger
from aekit.training.trainer import evaluate_terms

DATASETS_WITH_TEST_SPLIT = ("mnist", "fashion-mnist")
"""Named datasets with an official test split; other sources get a seeded hold-out."""

__all__ = [
    "RunResult",
    "RunSpec",
    "encode_data",
    "evaluation_metrics",
    "normalizer_for",
    "reconstruct_data",
    "run_settings",
    "run_training",
]


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """What to train and where to write it.

    Attributes:
        dataset: A dataset name (``digits``, ``mnist``, ``fashion-mnist``) or a path.
        model: Registry name of the model.
        run_dir: Folder for the results (created).
        model_options: Model config fields (``latent_dim``, ``hidden_dims`` ...).
        train: Training settings (checkpoint_dir is set to ``run_dir/checkpoint``).
        data_dir: Folder of the MNIST/Fashion-MNIST files.
        image_size: Resize images to ``(H, W)``.
        val_fraction: Share of the training data held out for validation.
        test_fraction: Share held out for testing when the dataset has no test split.
        max_samples: Use at most this many training samples (quick runs).
        augmentation: :class:`~aekit.data.augment.Augmentation` fields for image training data.
        tensorboard_dir: Also log every loss term per epoch and reconstruction images to TensorBoard
            event files in this folder (needs the ``tensorboard`` package).
    """

    dataset: str = "digits"
    model: str = "conv"
    run_dir: str = "runs/latest"
    model_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    data_dir: str | None = None
    image_size: tuple[int, int] | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    max_samples: int | None = None
    augmentation: dict[str, Any] = dataclasses.field(default_factory=dict)
    tensorboard_dir: str | None = None


@dataclasses.dataclass(frozen=True)
class RunResult:
    """Where a run wrote its files and what it measured."""

    run_dir: Path
    model_dir: Path
    metrics: dict[str, float]
    history: History
    files: dict[str, Path]


def normalizer_for(loaded: LoadedDataset, reconstruction: str = "mse") -> Normalizer:
    """Images with a known range go to [0, 1]; tables are standardised (min–max for BCE)."""
    if loaded.value_range is not None:
        return Normalizer.range(*loaded.value_range)
    return Normalizer.fit(loaded.data.x, "minmax" if reconstruction == "bce" else "standardize")


def _split(loaded: LoadedDataset, spec: RunSpec) -> tuple[TensorData, TensorData, TensorData]:
    data = loaded.data
    if spec.max_samples is not None and spec.max_samples < len(data):
        data = data.subset(
            torch.randperm(len(data), generator=torch.Generator().manual_seed(spec.train.seed))[
                : spec.max_samples
            ]
        )
    if spec.dataset in DATASETS_WITH_TEST_SPLIT:
        test = load_dataset(
            spec.dataset, split="test", data_dir=spec.data_dir, image_size=spec.image_size
        ).data
    else:
        data, test = train_val_split(data, spec.test_fraction, seed=spec.train.seed + 1)
    train, val = train_val_split(data, spec.val_fraction, seed=spec.train.seed)
    return train, val, test


def _normalized(data: TensorData, normalizer: Normalizer) -> TensorData:
    return TensorData(normalizer.transform(data.x), data.y)


@torch.no_grad()
def encode_data(model: AbstractAutoencoder, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Codes of ``x`` in eval mode, batched: ``(N, latent_dim)``."""
    model.eval()
    return torch.cat([model.encode(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def reconstruct_data(model: AbstractAutoencoder, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Reconstructions of ``x`` in eval mode, batched, same shape as ``x``."""
    model.eval()
    return torch.cat([model.reconstruct(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def run_training(spec: RunSpec) -> RunResult:
    """Train ``spec.model`` on ``spec.dataset`` and write the run folder (see module docstring)."""
    started = time.perf_counter()
    loaded = load_dataset(spec.dataset, data_dir=spec.data_dir, image_size=spec.image_size)
    options = dict(spec.model_options)
    if loaded.kind == "image":
        options.setdefault("output_activation", "sigmoid")
    normalizer = normalizer_for(loaded, str(options.get("reconstruction", "mse")))
    train, val, test = (_normalized(part, normalizer) for part in _split(loaded, spec))
    augmentation = Augmentation.from_dict(spec.augmentation) if spec.augmentation else None
    model = create(spec.model, input_shape=train.sample_shape, seed=spec.train.seed, **options)
    run_dir = Path(spec.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_config = spec.train.replace(checkpoint_dir=str(run_dir / "checkpoint"))
    settings = run_settings(spec, train_config)
    atomic_write_text(run_dir / "settings.json", json.dumps(settings, indent=2, default=str) + "\n")
    board = TensorBoardLogger(spec.tensorboard_dir) if spec.tensorboard_dir else None
    try:
        history = fit(
            model,
            train.x,
            y=train.y,
            validation_data=val.x,
            validation_labels=val.y,
            on_epoch_end=board.log_epoch if board is not None else None,
            augment=augmentation.apply if augmentation is not None else None,
            **{k: v for k, v in train_config.to_dict().items()},
        )
        if board is not None:
            _log_to_tensorboard(board, model, test, settings, step=len(history))
    finally:
        if board is not None:
            board.close()
    model_dir = save_model(
        model,
        run_dir / "model",
        normalizer=normalizer,
        metadata={"dataset": spec.dataset, "class_names": list(loaded.class_names or [])},
    )
    history.to_csv(run_dir / "losses.csv")
    metrics = {f"test_{k}": v for k, v in evaluation_metrics(model, test).items()}
    metrics["train_seconds"] = time.perf_counter() - started
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    files = _pictures(model, test, history, run_dir)
    files.update({"model": model_dir, "losses": run_dir / "losses.csv", "metrics": run_dir / "metrics.json"})
    return RunResult(run_dir, model_dir, metrics, history, files)


def run_settings(spec: RunSpec, train_config: TrainConfig) -> dict[str, Any]:
    """What ``settings.json`` holds: the run's fields, the effective training config, the aekit version."""
    run = {
        field.name: getattr(spec, field.name) for field in dataclasses.fields(spec) if field.name != "train"
    }
    if run["image_size"] is not None:
        run["image_size"] = list(run["image_size"])
    return {"aekit_version": __version__, "run": run, "train": train_config.to_dict()}


def _log_to_tensorboard(
    board: TensorBoardLogger,
    model: AbstractAutoencoder,
    test: TensorData,
    settings: dict[str, Any],
    step: int,
) -> None:
    """Reconstructions of the first test images (image data only) and the settings as text."""
    shown = test.x[:16]
    if shown.dim() == 4 and shown.shape[1] in (1, 3):
        board.log_reconstructions(shown, reconstruct_data(model, shown), step=step)
    board.log_text("settings", "```\n" + json.dumps(settings, indent=2, default=str) + "\n```", step=step)


def evaluation_metrics(model: AbstractAutoencoder, data: TensorData) -> dict[str, float]:
    """Per-pixel MSE, PSNR (on the [0, 1] scale, capped at 100 dB), every loss term, and sizes.

    ``data`` must already be normalised as the model expects.
    """
    x_hat = reconstruct_data(model, data.x)
    metrics = {
        "mse_per_pixel": float(mse_per_sample(x_hat, data.x).mean()),
        "psnr_db": float(psnr(x_hat.clamp(0, 1), data.x).clamp(max=100).mean()),
        **{f"loss_{k}": v for k, v in evaluate_terms(model, data).items()},
        "n_samples": float(len(data)),
        "parameters": float(sum(p.numel() for p in model.parameters())),
    }
    return {k: (v if math.isfinite(v) else float("nan")) for k, v in metrics.items()}


def _pictures(
    model: AbstractAutoencoder, test: TensorData, history: History, run_dir: Path
) -> dict[str, Path]:
    files = {}
    shown = test.x[:10]
    grid = reconstruction_grid_figure(shown.numpy(), reconstruct_data(model, shown).numpy())
    files["reconstructions"] = run_dir / "reconstructions.png"
    save_figure(grid, files["reconstructions"])
    files["loss_curve"] = run_dir / "loss_curve.png"
    save_figure(loss_curve_figure(history.rows), files["loss_curve"])
    sample = test.subset(torch.arange(min(len(test), 2000)))
    codes = encode_data(model, sample.x).numpy()
    labels = sample.y.numpy() if sample.y is not None and sample.y.dim() == 1 else None
    files["latent_map"] = run_dir / "latent_map.png"
    save_figure(latent_map_figure(codes, labels), files["latent_map"])
    return files

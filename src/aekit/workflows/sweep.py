"""Choosing the latent size: train one model per size and compare test reconstruction error with PCA's.

PCA is the best *linear* code of each size, so its curve is the bar a nonlinear autoencoder has to beat;
where the autoencoder's curve flattens, extra latent dimensions stop paying. Every model is trained by
the ordinary engine (:func:`aekit.training.fit.fit`), PCA by its closed form, on the same split.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from aekit.apps.inference import needs_condition, run_batches
from aekit.data.datasets import load_dataset
from aekit.data.loaded import LoadedDataset
from aekit.data.normalization import Normalizer
from aekit.data.split import train_val_split
from aekit.data.tensors import TensorData
from aekit.errors import ConfigError
from aekit.formats.files import atomic_write_text, claim_folder
from aekit.metrics.image import mse_per_sample, psnr
from aekit.models.base import AbstractAutoencoder
from aekit.models.files import save_model
from aekit.models.registry import create, resolve
from aekit.models.registry import get as get_model_class
from aekit.training.config import TrainConfig
from aekit.training.fit import fit

__all__ = [
    "SweepData",
    "SweepResult",
    "SweepRow",
    "check_sweepable",
    "load_sweep_data",
    "save_sweep",
    "sweep_latent_dims",
]


@dataclasses.dataclass(frozen=True)
class SweepRow:
    """One trained model of the sweep.

    Attributes:
        model: Registry name (``pca`` for the baseline).
        latent_dim: Its code size.
        test_mse: Mean per-element squared error on the test set, normalised scale.
        test_psnr_db: Mean per-sample PSNR on the [0, 1] scale (capped at 100 dB).
        train_mse: The same error on the training set.
        train_seconds: Time to fit.
        parameters: Number of parameters.
    """

    model: str
    latent_dim: int
    test_mse: float
    test_psnr_db: float
    train_mse: float
    train_seconds: float
    parameters: int


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """All rows of a sweep, autoencoder and PCA."""

    rows: tuple[SweepRow, ...]

    def curve(self, model: str) -> list[SweepRow]:
        """The rows of one model, by latent size."""
        return sorted((r for r in self.rows if r.model == model), key=lambda r: r.latent_dim)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {"rows": [dataclasses.asdict(r) for r in self.rows]}

    def to_csv(self) -> str:
        """The rows as CSV text with a header."""
        buffer = io.StringIO()
        fields = [f.name for f in dataclasses.fields(SweepRow)]
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for row in self.rows:
            writer.writerow(dataclasses.asdict(row))
        return buffer.getvalue()


@dataclasses.dataclass(frozen=True)
class SweepData:
    """Normalised train and test data of a sweep, the normaliser to store with each model, and the
    training part with the dataset's facts (class names) for ``workflows.run.options_from_labels``."""

    train: TensorData
    test: TensorData
    normalizer: Normalizer
    training: LoadedDataset


def load_sweep_data(
    dataset: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    max_samples: int | None = None,
    max_test_samples: int | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> SweepData:
    """Load a dataset, scale it to [0, 1] and split it (MNIST and Fashion-MNIST use their test split).

    Images are scaled by their known pixel range, other data per feature (min–max), so PSNR on the
    [0, 1] scale means the same for every source.

    Raises:
        ConfigError: ``max_samples`` or ``max_test_samples`` is not a positive integer.
    """
    for name, value in (("max_samples", max_samples), ("max_test_samples", max_test_samples)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"{name} must be a positive integer; got {value!r}")
    loaded = load_dataset(dataset, data_dir=data_dir)
    normalizer = (
        Normalizer.range(*loaded.value_range)
        if loaded.value_range is not None
        else Normalizer.fit(loaded.data.x, "minmax")
    )
    data = loaded.data
    generator = torch.Generator().manual_seed(seed)
    if max_samples is not None and max_samples < len(data):
        data = data.subset(torch.randperm(len(data), generator=generator)[:max_samples])
    try:
        test = load_dataset(dataset, split="test", data_dir=data_dir).data
    except (ConfigError, ValueError):
        data, test = train_val_split(data, test_fraction, seed=seed)
    if max_test_samples is not None and max_test_samples < len(test):
        test = test.subset(torch.arange(max_test_samples))
    train = TensorData(normalizer.transform(data.x), data.y)
    test = TensorData(normalizer.transform(test.x), test.y)
    return SweepData(train, test, normalizer, dataclasses.replace(loaded, data=train))


def _errors(model: AbstractAutoencoder, data: TensorData, batch_size: int = 512) -> tuple[float, float]:
    """Mean per-sample MSE and PSNR (capped at 100 dB) of the reconstructions of ``data.x`` (given
    their labels when the model takes them)."""
    x = data.x
    condition = data.y if needs_condition(model) else None
    x_hat = run_batches(model, model.reconstruct, x, batch_size=batch_size, condition=condition)
    target = x.to(x_hat.dtype)
    squared = mse_per_sample(x_hat, target)
    peaks = psnr(x_hat.clamp(0, 1), target).clamp(max=100)
    return float(squared.mean()), float(peaks.mean())


SWEEP_FILES = ("sweep.csv", "sweep.json", "sweep.png")
"""What a sweep writes into its folder besides one model folder per size (:func:`model_folder_name`)."""


def model_folder_name(model: str, latent_dim: int) -> str:
    """The folder a sweep saves ``model`` at ``latent_dim`` into: ``<model>_latent_<d>``."""
    return f"{model}_latent_{latent_dim}"


def check_sweepable(model: str) -> None:
    """Refuse a family a latent sweep cannot measure: one without a latent size, or one that does not
    reconstruct its input (its declared ``latent_dim`` field and ``reconstructs`` capability).

    Raises:
        ConfigError: Naming the family and what it lacks.
    """
    cls = get_model_class(model)
    if "latent_dim" not in cls.config_class.field_names():
        raise ConfigError(
            f"model {model!r} has no latent size (latent_dim), so there is no latent size to sweep"
        )
    if not cls.reconstructs:
        raise ConfigError(
            f"model {model!r} does not reconstruct its input, so a sweep of reconstruction error by latent "
            "size does not apply to it"
        )


def _check_latent_size(
    name: str, dim: int, train: TensorData, options: dict[str, Any], *, baseline: bool
) -> None:
    """Refuse, before any training, a latent size that the config of ``name`` (validated without building
    the model) or its closed-form fit on ``train`` cannot take."""
    what = "the PCA baseline (drop the size or leave PCA out)" if baseline else f"model {name!r}"
    try:
        get_model_class(name).config_class.check_field_names(options)  # a misspelt option, whatever the size
    except ConfigError as error:
        raise ConfigError(f"model {name!r}: {error}") from None
    try:
        cls, _ = resolve(name, {**options, "input_shape": train.sample_shape, "latent_dim": dim})
    except ConfigError as error:
        raise ConfigError(f"latent size {dim} does not fit {what}: {error}") from None
    if cls.fitting == "closed_form" and dim > len(train):
        raise ConfigError(
            f"latent size {dim} does not fit {what}: its closed-form fit needs at least {dim} training "
            f"samples; got {len(train)}"
        )


def sweep_latent_dims(
    train: TensorData,
    test: TensorData,
    latent_dims: Sequence[int],
    *,
    model: str = "mlp",
    model_options: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    include_pca: bool = True,
    output_dir: str | os.PathLike[str] | None = None,
    normalizer: Normalizer | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
    overwrite: bool = False,
) -> SweepResult:
    """Train ``model`` once per latent size and measure test reconstruction error beside PCA's.

    Args:
        train, test: Normalised data (values in [0, 1] for PSNR to mean the usual thing).
        latent_dims: Code sizes, e.g. ``(2, 4, 8, 16, 32)``.
        model: Registry name of the autoencoder.
        model_options: Its other config fields.
        train_config: Training settings (the same for every size; ``seed`` fixes each run).
        include_pca: Also fit PCA at every size.
        output_dir: Save each model to ``output_dir/<model>_latent_<d>/`` (with ``normalizer``); a
            folder that already holds a sweep is refused before any training (see ``overwrite``).
        normalizer: Stored with the saved models.
        on_row: Called with each row as soon as it is measured (progress reports).
        overwrite: Replace an earlier sweep in ``output_dir`` (its files and model folders only).

    Raises:
        ConfigError: Bad latent sizes (checked against every model's config and PCA's before any
            training), or a family without a latent size or reconstructions.
        DataError: ``output_dir`` holds a sweep and ``overwrite`` is False.
    """
    dims = [int(d) for d in latent_dims]
    if not dims or any(d < 1 for d in dims) or len(set(dims)) != len(dims):
        raise ConfigError(f"latent_dims must be distinct positive integers; got {list(latent_dims)!r}")
    check_sweepable(model)
    options = dict(model_options or {})
    options.pop("latent_dim", None)
    names = [model, "pca"] if include_pca and model != "pca" else [model]
    for name in names:
        for dim in dims:
            _check_latent_size(name, dim, train, options if name == model else {}, baseline=name != model)
    if output_dir is not None:
        claim_sweep_folder(output_dir, overwrite=overwrite)
    config = train_config or TrainConfig()
    rows = []
    for name in names:
        for dim in sorted(dims):
            extra = options if name == model else {}
            network = create(name, input_shape=train.sample_shape, seed=config.seed, latent_dim=dim, **extra)
            started = time.perf_counter()
            fit(network, train.x, y=train.y, **config.to_dict())
            seconds = time.perf_counter() - started
            test_mse, test_psnr = _errors(network, test)
            train_mse, _ = _errors(network, train.subset(torch.arange(min(len(train), max(len(test), 1)))))
            row = SweepRow(
                name,
                dim,
                test_mse,
                test_psnr if math.isfinite(test_psnr) else float("nan"),
                train_mse,
                seconds,
                sum(p.numel() for p in network.parameters()),
            )
            rows.append(row)
            if output_dir is not None:
                save_model(
                    network,
                    Path(output_dir) / model_folder_name(name, dim),
                    normalizer=normalizer,
                    metadata={"sweep": dataclasses.asdict(row)},
                )
            if on_row is not None:
                on_row(row)
    return SweepResult(tuple(rows))


def claim_sweep_folder(folder: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Make ``folder`` ready for a sweep: refuse one that already holds a sweep, or with ``overwrite``
    remove that sweep's files and model folders (nothing else in the folder).

    Raises:
        DataError: The folder holds a sweep and ``overwrite`` is False.
    """
    target = Path(folder)
    if not target.is_dir():
        return
    previous = [
        path
        for path in target.iterdir()
        if path.name in SWEEP_FILES
        or (path.is_dir() and re.fullmatch(r"\w+_latent_\d+", path.name) and (path / "config.json").exists())
    ]
    claim_folder(target, previous, what="a sweep", overwrite=overwrite)


def save_sweep(result: SweepResult, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``sweep.csv`` and ``sweep.json`` to ``folder``; returns their paths."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    paths = {"csv": target / "sweep.csv", "json": target / "sweep.json"}
    atomic_write_text(paths["csv"], result.to_csv())
    atomic_write_text(paths["json"], json.dumps(result.to_dict(), indent=2) + "\n")
    return paths

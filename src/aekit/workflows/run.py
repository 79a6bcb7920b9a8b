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
import difflib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

from aekit._version import __version__
from aekit.apps.inference import encode_dataset, model_device, run_batches
from aekit.apps.restoration import REFERENCE_KEY, familiarity_reference
from aekit.data.augment import Augmentation
from aekit.data.datasets import LoadedDataset, load_dataset
from aekit.data.masks import load_mask_folder
from aekit.data.normalization import Normalizer
from aekit.data.split import train_val_split
from aekit.data.tables import load_table
from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError
from aekit.formats.files import FolderLock, atomic_write_text, claim_folder, remove_stale_temp_files
from aekit.formats.folders import folder_files
from aekit.formats.limits import MAX_IMAGE_SIDE
from aekit.formats.suffixes import kind_of, suffixes
from aekit.metrics.image import mse_per_sample, psnr
from aekit.models.base import AbstractAutoencoder, AbstractGenerativeAutoencoder
from aekit.models.files import save_model
from aekit.models.registry import create
from aekit.models.registry import get as get_model_class
from aekit.report.latent_plots import mosaic_figure
from aekit.report.plots import (
    latent_map_figure,
    loss_curve_figure,
    reconstruction_grid_figure,
    restoration_figure,
    save_figure,
)
from aekit.training.checkpoint import CHECKPOINT_NAME
from aekit.training.config import TrainConfig
from aekit.training.devices import resolve_device
from aekit.training.distributed import is_main_process
from aekit.training.fit import fit
from aekit.training.history import History
from aekit.training.tensorboard import TensorBoardLogger
from aekit.training.trainer import evaluate_terms

DATASETS_WITH_TEST_SPLIT = ("mnist", "fashion-mnist")
"""Named datasets with an official test split; other sources get a seeded hold-out."""

__all__ = [
    "RUN_SETTINGS",
    "RunResult",
    "RunSpec",
    "evaluation_metrics",
    "normalizer_for",
    "read_run_settings",
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
        label_column: A table's column of class labels or domains (conditional and multi-decoder
            families); images take them from class sub-folders, ``.npz`` files from ``y``.
        masks: Folder of mask PNGs, one per image in file-name order (segmentation); an ``.npz``
            gives them as ``y`` ``(N, H, W)`` instead.
        targets: Folder of clean images named like the (noisy) images of ``dataset``: train on real
            (noisy, clean) pairs (``photo_denoiser``); an ``.npz`` gives them as ``y`` of ``x``'s shape.
        overwrite: Replace the run already in ``run_dir`` (without it, and without ``train.resume``, a
            folder holding a run is refused, so a finished run is never mixed with a new one).
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
    label_column: str | None = None
    masks: str | None = None
    targets: str | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        for name in ("dataset", "model", "run_dir"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigError(f"{name} must be a non-empty string; got {getattr(self, name)!r}")
        samples = self.max_samples
        if samples is not None and (isinstance(samples, bool) or not isinstance(samples, int) or samples < 1):
            raise ConfigError(f"max_samples must be a positive integer; got {self.max_samples!r}")
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
                raise ConfigError(f"{name} must be a number in [0, 1); got {value!r}")
        if isinstance(self.model_options, dict) and "input_shape" in self.model_options:
            raise ConfigError("input_shape comes from the data; remove it from the model options (--set)")
        for name in ("model_options", "augmentation"):
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(f"{name} must be a table of fields and values; got {getattr(self, name)!r}")
        checkpoints = self.train.checkpoint_dir
        if (
            checkpoints is not None
            and Path(checkpoints).resolve() != (Path(self.run_dir) / "checkpoint").resolve()
        ):
            raise ConfigError(
                f"checkpoint_dir {checkpoints!r}: a run keeps its checkpoint in its own folder "
                f"({Path(self.run_dir) / 'checkpoint'}); choose the run folder instead (-o / run_dir)"
            )
        if self.overwrite and self.train.resume:
            raise ConfigError(
                "overwrite and resume contradict each other: overwrite replaces the run in the folder, "
                "resume continues it; give one of them"
            )
        resolve_device(self.train.device)  # refuses unknown devices and ones this machine lacks, early

    @classmethod
    def from_settings(
        cls,
        settings: dict[str, Any],
        *,
        model_options: dict[str, Any] | None = None,
        train: dict[str, Any] | None = None,
        augmentation: dict[str, Any] | None = None,
        **fields: Any,
    ) -> RunSpec:
        """A run from checked settings (see :func:`read_run_settings`) and overrides that win over them.

        Args:
            settings: Top-level settings: ``dataset``, ``model``, ``run_dir``, ``train`` (a table of
                :class:`~aekit.training.config.TrainConfig` fields), ``model_options``, ...
            model_options, train, augmentation: Fields merged over the settings' tables of that name.
            fields: Other :class:`RunSpec` fields; a None value keeps the setting (or the default).

        Raises:
            ConfigError: An unknown field, or a value the configs refuse.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ConfigError(f"unknown run field(s) {unknown}; known: {', '.join(sorted(known))}")
        tables = ("model_options", "train", "augmentation")
        values = {k: v for k, v in settings.items() if k not in tables}
        values.update({k: v for k, v in fields.items() if v is not None})
        if isinstance(values.get("image_size"), list):
            values["image_size"] = tuple(values["image_size"])
        return cls(
            **values,
            model_options={**settings.get("model_options", {}), **(model_options or {})},
            train=TrainConfig.from_dict({**settings.get("train", {}), **(train or {})}),
            augmentation={**settings.get("augmentation", {}), **(augmentation or {})},
        )

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str], **overrides: Any) -> RunSpec:
        """A run from a TOML settings file (what ``aekit train --config`` reads); ``overrides`` are
        :meth:`from_settings` keywords that win over the file, e.g. ``train={"epochs": 3}``.

        Raises:
            ConfigError: Invalid TOML, an unknown or mistyped setting (naming the file and key).
            DataError: The file does not exist.
        """
        return cls.from_settings(read_run_settings(path), **overrides)


RUN_SETTINGS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "dataset": (str, "a dataset name or path"),
    "model": (str, "a registered model name"),
    "run_dir": (str, "a folder path"),
    "data_dir": (str, "a folder path"),
    "image_size": ((int, list), "a size such as 28 or [32, 48]"),
    "max_samples": (int, "a positive integer"),
    "model_options": (dict, "a table of model config fields"),
    "train": (dict, "a table of training config fields"),
    "augmentation": (dict, "a table of augmentation fields"),
    "tensorboard_dir": (str, "a folder path"),
    "label_column": (str, "a column name"),
    "masks": (str, "a folder or file path"),
    "targets": (str, "a folder path"),
}
"""Keys a TOML settings file may hold at its top level, their types and what they mean."""


def read_run_settings(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a TOML settings file and check its top level: known keys (unknown ones get a suggestion) of
    the right types, ``image_size`` as ``(H, W)``; the tables' fields are checked by their configs.

    Raises:
        ConfigError: Not UTF-8 TOML, or naming the file, the key, what was expected and what it holds.
        DataError: The file does not exist.
    """
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    file = Path(path)
    if not file.is_file():
        raise DataError(f"settings file {file} does not exist")
    try:
        settings = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{file} is not valid TOML: {error}") from None
    for key, value in settings.items():
        if key not in RUN_SETTINGS:
            close = difflib.get_close_matches(key, list(RUN_SETTINGS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{file}: unknown setting {key!r}{hint} (known: {', '.join(RUN_SETTINGS)})")
        kind, description = RUN_SETTINGS[key]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(f"{file}: {key} must be {description}; got {value!r}")
    if "image_size" in settings:
        size = settings["image_size"]
        sizes = [size] if isinstance(size, int) else list(size)
        bad = [v for v in sizes if isinstance(v, bool) or not isinstance(v, int) or v < 1]
        if len(sizes) not in (1, 2) or bad:
            raise ConfigError(f"{file}: image_size must be a size such as 28 or [32, 48]; got {size!r}")
        if max(sizes) > MAX_IMAGE_SIDE:
            raise ConfigError(
                f"{file}: image_size {size!r} is too large: each side must be at most {MAX_IMAGE_SIDE}"
            )
        settings["image_size"] = (sizes[0], sizes[-1])
    return settings


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
    """Inputs normalised; targets of the inputs' shape (clean images of noisy/clean pairs) too."""
    y = data.y
    if y is not None and y.shape == data.x.shape:
        y = normalizer.transform(y.float())
    return TensorData(normalizer.transform(data.x), y)


def load_run_data(spec: RunSpec, split: str = "train") -> LoadedDataset:
    """The dataset of ``spec`` with what its family needs beyond inputs: a label column, or masks."""
    if spec.label_column is not None:
        path = Path(spec.dataset)
        if kind_of(path) != "table":
            raise ConfigError(
                f"--label-column applies to tables ({', '.join(suffixes('table'))}); {spec.dataset} is not "
                "one "
                "(image folders take labels from class sub-folders, .npz files from y)"
            )
        return load_table(path, label_column=spec.label_column)
    loaded = load_dataset(spec.dataset, split=split, data_dir=spec.data_dir, image_size=spec.image_size)  # type: ignore[arg-type]
    if spec.masks is not None:
        masks = load_mask_folder(spec.masks, len(loaded.data), spec.image_size)
        loaded = dataclasses.replace(loaded, data=TensorData(loaded.data.x, masks))
    if spec.targets is not None:
        loaded = dataclasses.replace(loaded, data=TensorData(loaded.data.x, _paired_targets(spec, loaded)))
    return loaded


def _paired_targets(spec: RunSpec, loaded: LoadedDataset) -> torch.Tensor:
    """The clean images of ``spec.targets``, checked to pair one to one with the noisy ``dataset``."""
    noisy_folder, clean_folder = Path(spec.dataset), Path(str(spec.targets))
    if not noisy_folder.is_dir() or not clean_folder.is_dir():
        raise ConfigError(
            f"--targets pairs two image folders (noisy, clean); got {spec.dataset} and {spec.targets} "
            "(an .npz gives clean images as y instead)"
        )
    names = [[p.name for p in folder_files(folder, "image")] for folder in (noisy_folder, clean_folder)]
    if names[0] != names[1]:
        unmatched = sorted(set(names[0]) ^ set(names[1]))
        raise DataError(
            f"the noisy folder {noisy_folder} and the clean folder {clean_folder} must hold the same file "
            f"names; {len(unmatched)} differ (e.g. {unmatched[0]})"
        )
    clean = load_dataset(str(clean_folder), image_size=spec.image_size)
    if clean.data.x.shape != loaded.data.x.shape:
        raise DataError(
            f"the clean images have shape {tuple(clean.data.x.shape[1:])} but the noisy ones "
            f"{tuple(loaded.data.x.shape[1:])}; pass --image-size or make them match"
        )
    return clean.data.x


def options_from_labels(cls: type[AbstractAutoencoder], loaded: LoadedDataset) -> dict[str, Any]:
    """Config values the family takes from the data's labels (``n_classes``, ``n_domains``).

    Raises:
        DataError: The family needs labels, domains or masks and the data has none (or the wrong kind).
    """
    role = cls.label_role
    if role is None:
        return {}
    y = loaded.data.y
    name = cls.registry_name or cls.__name__
    if role == "masks":
        if y is None or y.dim() != 3 or y.is_floating_point():
            raise DataError(
                f"{name} needs a mask per image: pass --masks FOLDER (one mask PNG per image) or an .npz "
                "holding y of shape (N, H, W) with integer classes"
            )
        return cls.config_from_labels(int(y.max()) + 1)
    what = "class labels" if role == "classes" else "domain labels (one per sample)"
    if y is None or y.dim() != 1 or y.is_floating_point():
        raise DataError(
            f"{name} needs {what}: use digits/mnist (labelled), an image folder with one sub-folder per "
            f"{'class' if role == 'classes' else 'domain'}, an .npz with y, or a table with --label-column"
        )
    n_labels = len(loaded.class_names) if loaded.class_names else int(y.max()) + 1
    return cls.config_from_labels(n_labels)


def _condition(model: AbstractAutoencoder, y: torch.Tensor | None) -> torch.Tensor | None:
    """The labels a model takes as ``condition``: class labels or domains; None for the others."""
    return y if model.conditional or model.label_role == "domains" else None


def reconstruct_data(
    model: AbstractAutoencoder, x: torch.Tensor, batch_size: int = 512, condition: torch.Tensor | None = None
) -> torch.Tensor:
    """Outputs of ``x`` (normalised), batched on the model's device: reconstructions, or logits for
    segmentation (``condition``: labels or domains)."""
    return run_batches(model, model.reconstruct, x, batch_size=batch_size, condition=condition)


RUN_FILES = (
    "settings.json",
    "metrics.json",
    "losses.csv",
    "reconstructions.png",
    "loss_curve.png",
    "latent_map.png",
    "report.html",
)
RUN_FOLDERS = ("model", "checkpoint")
"""What a training run writes into its folder (``overwrite`` removes these and nothing else)."""


def run_training(spec: RunSpec) -> RunResult:
    """Train ``spec.model`` on ``spec.dataset`` and write the run folder (see module docstring).

    The folder is locked while the run writes it (a second run into it is refused, see
    :class:`~aekit.formats.files.FolderLock`); a folder that already holds a run is refused unless
    ``spec.overwrite`` or ``spec.train.resume`` is set; temp files that a killed run left are removed.

    Raises:
        DataError: Another run holds the folder, or it holds a run and neither overwrite nor resume is set.
    """
    if int(os.environ.get("RANK", "0") or 0) != 0:  # DDP: rank 0 claims the folder for every rank
        return _run_training(spec)
    run_dir = Path(spec.run_dir)
    with FolderLock(run_dir, "training run"):
        _claim_run_folder(run_dir, spec)
        return _run_training(spec)


def _claim_run_folder(run_dir: Path, spec: RunSpec) -> None:
    holds_run = any((run_dir / name).exists() for name in ("settings.json", *RUN_FOLDERS))
    if holds_run and not spec.train.resume:
        previous = [run_dir / name for name in (*RUN_FILES, *RUN_FOLDERS) if (run_dir / name).exists()]
        claim_folder(
            run_dir, previous, what="a run", overwrite=spec.overwrite, keep_hint=", --resume to continue it"
        )
    if holds_run and spec.train.resume:
        check_resumable(run_dir, spec)
    remove_stale_temp_files(run_dir)


RESUMABLE_RUN_FIELDS = frozenset({"run_dir", "data_dir", "tensorboard_dir", "overwrite", "model_options"})
RESUMABLE_TRAIN_FIELDS = frozenset(
    {
        "epochs",
        "time_budget",
        "early_stopping_patience",
        "keep_best",
        "resume",
        "checkpoint_dir",
        "device",
        "precision",
        "compile",
        "flush_denormal",
        "progress",
        "verbose",
    }
)
"""Settings a resumed run may change: how long it trains, where it writes, how it runs and reports.
Every other one (data, split, seed, optimiser, batch size ...) must match the run being resumed, which
would otherwise continue on other data or another course; the model's config is checked by the
checkpoint itself."""


def _same_setting(recorded: Any, value: Any) -> bool:
    """Equal values, or two spellings of one existing path (``photos`` and ``./photos/``)."""
    if recorded == value:
        return True
    if not isinstance(recorded, str) or not isinstance(value, str):
        return False
    return Path(recorded).exists() and Path(recorded).resolve() == Path(value).resolve()


def check_resumable(run_dir: Path, spec: RunSpec) -> None:
    """Refuse to resume the run in ``run_dir`` with settings other than its ``settings.json`` records
    (except :data:`RESUMABLE_RUN_FIELDS` and :data:`RESUMABLE_TRAIN_FIELDS`), or a finished run whose
    checkpoint is gone (resuming it would train afresh over its model).

    Raises:
        ConfigError: Naming every setting that differs, with the recorded and the new value.
        DataError: ``settings.json`` is unreadable, or the run is finished and has no checkpoint.
    """
    checkpoints = run_dir / "checkpoint"
    refits = get_model_class(spec.model).fitting == "closed_form"  # no checkpoint: resuming fits again
    if not refits and not any(checkpoints.rglob(CHECKPOINT_NAME)):
        if (run_dir / "model").exists() or (run_dir / "metrics.json").exists():
            raise DataError(
                f"cannot resume {run_dir}: it holds a finished run without its checkpoint ({checkpoints}); "
                "pass --overwrite to train a new run there, or choose another folder"
            )
        return  # killed before its first checkpoint: nothing was kept, the run starts afresh
    file = run_dir / "settings.json"
    if not file.is_file():
        return
    try:
        recorded = json.loads(file.read_text(encoding="utf-8"))
        recorded_run, recorded_train = dict(recorded["run"]), dict(recorded["train"])
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(
            f"cannot resume {run_dir}: {file} is unreadable ({type(error).__name__}), so the run's settings "
            "are unknown; pass --overwrite to train a new run there"
        ) from None
    current = json.loads(json.dumps(run_settings(spec, spec.train), default=str))
    differences = [
        f"{prefix}{name} was {recorded_values[name]!r}, now {value!r}"
        for prefix, recorded_values, values, free in (
            ("", recorded_run, current["run"], RESUMABLE_RUN_FIELDS),
            ("train.", recorded_train, current["train"], RESUMABLE_TRAIN_FIELDS),
        )
        for name, value in values.items()
        if name not in free and name in recorded_values and not _same_setting(recorded_values[name], value)
    ]
    recorded_options = recorded_run.get("model_options") or {}
    differences += [  # options given both times; one given once may equal its default (the checkpoint checks)
        f"model_options.{name} was {recorded_options[name]!r}, now {value!r}"
        for name, value in current["run"]["model_options"].items()
        if name in recorded_options and recorded_options[name] != value
    ]
    if differences:
        raise ConfigError(
            f"cannot resume {run_dir} with other settings than it was trained with: "
            f"{'; '.join(differences)} (see {file}); give the same settings, or pass --overwrite to "
            "train a new run there"
        )


def _run_training(spec: RunSpec) -> RunResult:
    started = time.perf_counter()
    loaded = load_run_data(spec)
    options = {**options_from_labels(get_model_class(spec.model), loaded), **spec.model_options}
    model = create(spec.model, input_shape=loaded.data.sample_shape, seed=spec.train.seed, **options)
    normalizer = normalizer_for(loaded, model.error_kind)
    train, val, test = (_normalized(part, normalizer) for part in _split(loaded, spec))
    augmentation = Augmentation.from_dict(spec.augmentation) if spec.augmentation else None
    run_dir = Path(spec.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    train_config = spec.train.replace(checkpoint_dir=str(run_dir / "checkpoint"))
    settings = run_settings(spec, train_config)
    main = is_main_process()  # torchrun: rank 0 alone writes the run folder and the TensorBoard events
    board = TensorBoardLogger(spec.tensorboard_dir) if spec.tensorboard_dir and main else None
    try:
        if main:  # after the checks above, so that a refused run leaves no settings.json behind
            atomic_write_text(run_dir / "settings.json", json.dumps(settings, indent=2, default=str) + "\n")
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
    if not main:  # the other ranks only train
        return RunResult(run_dir, run_dir / "model", {}, history, {})
    model_dir = save_model(
        model,
        run_dir / "model",
        normalizer=normalizer,
        metadata={
            "dataset": spec.dataset,
            "class_names": list(loaded.class_names or []),
            **({"feature_names": list(loaded.columns)} if loaded.columns else {}),
            **_familiarity(model, loaded, test),
        },
    )
    history.to_csv(run_dir / "losses.csv")
    if history.pretraining:  # layer-wise families: the greedy pretraining of each layer
        History(history.pretraining_rows()).to_csv(run_dir / "pretraining.csv")
    metrics = {f"test_{k}": v for k, v in evaluation_metrics(model, test).items()}
    restoration = restoration_examples(model, test)
    if restoration is not None:
        metrics.update({f"test_{k}": v for k, v in restoration_metrics(*restoration).items()})
    metrics["train_seconds"] = time.perf_counter() - started
    atomic_write_text(run_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    files = _pictures(model, test, history, run_dir)
    if restoration is not None:
        files["restoration"] = run_dir / "restoration.png"
        corrupted, restored, clean = (images.numpy() for images in restoration)
        save_figure(restoration_figure(corrupted, restored, clean), files["restoration"])
    files.update({"model": model_dir, "losses": run_dir / "losses.csv", "metrics": run_dir / "metrics.json"})
    return RunResult(run_dir, model_dir, metrics, history, files)


def _familiarity(model: AbstractAutoencoder, loaded: LoadedDataset, test: TensorData) -> dict[str, Any]:
    """Statistics of an image model's test data, stored so that restoring unlike images warns."""
    if loaded.kind != "image" or not model.reconstructs:
        return {}
    labels = None if test.y is None else test.y[:1024]
    return {REFERENCE_KEY: familiarity_reference(model, test.x[:1024], labels)}


def run_settings(spec: RunSpec, train_config: TrainConfig) -> dict[str, Any]:
    """What ``settings.json`` holds: the run's fields, the effective training config, the aekit version."""
    run = {
        field.name: getattr(spec, field.name) for field in dataclasses.fields(spec) if field.name != "train"
    }
    if run["image_size"] is not None:
        run["image_size"] = list(run["image_size"])
    return {"aekit_version": __version__, "run": run, "train": train_config.to_dict()}


@torch.no_grad()
def _segmentation_figure(model: AbstractAutoencoder, shown: TensorData) -> Any:
    """Rows: the images (grey), the predicted masks, the true masks."""
    model.eval()
    predicted = reconstruct_data(model, shown.x).argmax(1)
    scale = max(model.n_classes - 1, 1)
    rows = [shown.x.mean(1), predicted.float() / scale, shown.y.float() / scale]  # type: ignore[union-attr]
    images = torch.stack([row.clamp(0, 1) for row in rows])[:, :, None].numpy()
    return mosaic_figure(images, row_labels=["image", "predicted", "true mask"], value_range=(0.0, 1.0))


def code_statistics(codes: Any, threshold: float = 1e-6) -> dict[str, float]:
    """How the code units are used on test data ``(N, latent_dim)``.

    ``dead_unit_share``: share of units whose value stays within ``threshold`` of 0 for every sample
    (units a sparse code never uses); ``active_share``: share of (sample, unit) values beyond it;
    ``mean_activation``: mean absolute value.
    """
    import numpy as np

    values = np.abs(np.asarray(codes, dtype=np.float64))
    active = values > threshold
    return {
        "latent_dim": float(values.shape[1]),
        "dead_unit_share": float((~active.any(axis=0)).mean()),
        "active_share": float(active.mean()),
        "mean_activation": float(values.mean()),
    }


@torch.no_grad()
def _domain_swaps_figure(model: AbstractAutoencoder, shown: TensorData, n_domains: int) -> Any:
    """First row the inputs; row ``k + 1`` their codes decoded by domain ``k``'s decoder (a face swap)."""
    model.eval()
    codes = model.encode(shown.x, shown.y)
    rows = [shown.x]
    for domain in range(n_domains):
        rows.append(model.decode(codes, torch.full((len(codes),), domain, dtype=torch.long)))
    labels = ["input", *(f"domain {k}" for k in range(n_domains))]
    return mosaic_figure(torch.stack(rows).numpy(), row_labels=labels, value_range=(0.0, 1.0))


@torch.no_grad()
def _samples_figure(model: AbstractGenerativeAutoencoder, per_row: int = 8) -> Any:
    """Prior samples: one row per class for conditional models (at most 10), else two rows."""
    model.eval()
    generator = torch.Generator().manual_seed(0)
    n_rows = min(model.n_classes, 10) if model.conditional else 2
    labels = torch.arange(n_rows).repeat_interleave(per_row) if model.conditional else None
    device = model_device(model)
    images = model.sample(
        n_rows * per_row, condition=None if labels is None else labels.to(device), generator=generator
    )
    grid = images.cpu().reshape(n_rows, per_row, *images.shape[1:]).numpy()
    row_labels = [f"class {k}" for k in range(n_rows)] if model.conditional else None
    return mosaic_figure(grid, row_labels=row_labels, title="samples from the prior")


def _log_to_tensorboard(
    board: TensorBoardLogger,
    model: AbstractAutoencoder,
    test: TensorData,
    settings: dict[str, Any],
    step: int,
) -> None:
    """Reconstructions of the first test images (image data only) and the settings as text."""
    shown = test.x[:16]
    if shown.dim() == 4 and shown.shape[1] in (1, 3) and model.reconstructs:
        condition = _condition(model, None if test.y is None else test.y[:16])
        board.log_reconstructions(shown, reconstruct_data(model, shown, condition=condition), step=step)
    board.log_text("settings", "```\n" + json.dumps(settings, indent=2, default=str) + "\n```", step=step)


def evaluation_metrics(model: AbstractAutoencoder, data: TensorData) -> dict[str, float]:
    """What the family's output is measured by, every loss term, and sizes.

    Images: per-pixel MSE and PSNR (on the [0, 1] scale, capped at 100 dB); tables and other vectors:
    per-feature MSE (no PSNR); families whose output is class logits (segmentation, classifiers): the
    accuracy of the arg-max class (per pixel for masks). Conditional and multi-decoder models
    reconstruct with the data's labels; mask-aware inpainters are measured at their task, on images
    with the training step's holes (seeded; a mask-aware model returns a hole-free input unchanged).
    ``data`` must already be normalised as the model expects.
    """
    condition = _condition(model, data.y)
    metrics: dict[str, float] = {}
    if model.reconstructs:
        holes = restoration_examples(model, data, limit=len(data)) if model.takes_mask else None
        x_hat, target = (
            (holes[1], holes[2])
            if holes is not None
            else (reconstruct_data(model, data.x, condition=condition), data.x)
        )
        error = float(mse_per_sample(x_hat, target).mean())
        if data.x.dim() == 4:
            metrics["mse_per_pixel"] = error
            metrics["psnr_db"] = float(psnr(x_hat.clamp(0, 1), target).clamp(max=100).mean())
        else:
            metrics["mse_per_feature"] = error
    elif data.y is not None:
        predicted = reconstruct_data(model, data.x).argmax(1)
        accuracy = float((predicted == data.y.to(predicted.device)).float().mean())
        metrics["pixel_accuracy" if model.label_role == "masks" else "accuracy"] = accuracy
    metrics.update({f"loss_{k}": v for k, v in evaluate_terms(model, data).items()})
    metrics["n_samples"] = float(len(data))
    metrics["parameters"] = float(sum(p.numel() for p in model.parameters()))
    return {k: (v if math.isfinite(v) else float("nan")) for k, v in metrics.items()}


def restoration_examples(
    model: AbstractAutoencoder, data: TensorData, limit: int = 2000
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """``(corrupted, restored, clean)`` images for the first ``limit`` samples of ``data`` when the model
    restores: its training step (``prepare_batch``, seeded here) feeds it inputs other than its target
    (denoising and inpainting corruptions, noisy/clean pairs). None for every other model."""
    if not model.reconstructs or data.x.dim() != 4:
        return None
    part = data.subset(torch.arange(min(len(data), limit)))
    corrupted, clean, condition = model.prepare_batch((part.x, part.y), torch.Generator().manual_seed(0))
    if model.takes_mask and condition is not None and torch.equal(corrupted, clean):
        corrupted = clean * (1 - condition)  # the model blanks its holes itself: show them blank
    if corrupted.shape != clean.shape or torch.equal(corrupted, clean):
        return None
    restored = reconstruct_data(model, corrupted, condition=condition)
    return corrupted.cpu(), restored.cpu(), clean.cpu()


def restoration_metrics(
    corrupted: torch.Tensor, restored: torch.Tensor, clean: torch.Tensor
) -> dict[str, float]:
    """Per-pixel MSE and PSNR (dB, [0, 1] scale, capped at 100) of the corrupted inputs and of the
    restorations, both against the clean images: the input's own score beside the model's."""
    metrics = {}
    for name, images in (("corrupted", corrupted), ("restored", restored)):
        metrics[f"{name}_mse_per_pixel"] = float(mse_per_sample(images, clean).mean())
        metrics[f"{name}_psnr_db"] = float(psnr(images.clamp(0, 1), clean).clamp(max=100).mean())
    return metrics


def _pictures(
    model: AbstractAutoencoder, test: TensorData, history: History, run_dir: Path
) -> dict[str, Path]:
    files = {}
    shown = test.subset(torch.arange(min(len(test), 10)))
    if model.reconstructs:
        x_hat = reconstruct_data(model, shown.x, condition=_condition(model, shown.y))
        files["reconstructions"] = run_dir / "reconstructions.png"
        save_figure(reconstruction_grid_figure(shown.x.numpy(), x_hat.numpy()), files["reconstructions"])
    elif model.label_role == "masks" and shown.y is not None:
        files["segmentation"] = run_dir / "segmentation.png"
        save_figure(_segmentation_figure(model, shown), files["segmentation"])
    if isinstance(model, AbstractGenerativeAutoencoder):
        files["samples"] = run_dir / "samples.png"
        save_figure(_samples_figure(model), files["samples"])
    files["loss_curve"] = run_dir / "loss_curve.png"
    save_figure(loss_curve_figure(history.rows), files["loss_curve"])
    if model.label_role == "domains" and shown.y is not None and test.y is not None:
        files["domain_swaps"] = run_dir / "domain_swaps.png"
        n_domains = min(int(test.y.max()) + 1, 6)
        save_figure(_domain_swaps_figure(model, shown, n_domains), files["domain_swaps"])
    sample = test.subset(torch.arange(min(len(test), 2000)))
    codes = encode_dataset(model, sample.x, batch_size=512, condition=_condition(model, sample.y)).numpy()
    files["code_statistics"] = run_dir / "code_statistics.json"
    atomic_write_text(files["code_statistics"], json.dumps(code_statistics(codes), indent=2) + "\n")
    labels = sample.y.numpy() if sample.y is not None and sample.y.dim() == 1 else None
    files["latent_map"] = run_dir / "latent_map.png"
    save_figure(latent_map_figure(codes, labels), files["latent_map"])
    return files

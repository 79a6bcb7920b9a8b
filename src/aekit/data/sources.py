"""Samples of any data source with a name per item: what the latent-space commands and apps take.

A source is a dataset name (``digits``, ``mnist``, ``fashion-mnist``), an array or table file, a folder of
images, or a folder of sounds (which become log-spectrogram images sized to the model's input).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from aekit.data.audio import load_audio_folder
from aekit.data.datasets import load_dataset
from aekit.data.images import match_channels
from aekit.data.loaded import LoadedDataset
from aekit.data.normalization import Normalizer, rescale_to_model
from aekit.data.tables import load_table
from aekit.errors import ConfigError, DataError
from aekit.formats.folders import labelled_files
from aekit.formats.suffixes import kind_of, suffixes

__all__ = ["NamedSamples", "as_model_inputs", "load_named_samples"]


@dataclasses.dataclass(frozen=True)
class NamedSamples:
    """Raw samples of a source and what describes them.

    Attributes:
        x: Raw samples ``(N, ...)`` sized for the model.
        labels: Integer class labels ``(N,)``, or None when the source has none.
        names: One name per item: a file's path inside its folder, else ``SOURCE:INDEX``.
        class_names: Names of the label values when known.
        columns: Feature column names of a table.
        image_folder: The (resolved) image folder ``names`` are paths in; None for other sources.
    """

    x: Tensor
    labels: Tensor | None
    names: list[str]
    class_names: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None
    image_folder: Path | None = None


def load_named_samples(
    source: str | os.PathLike[str],
    input_shape: tuple[int, ...],
    *,
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    max_samples: int | None = None,
    seed: int = 0,
    label_column: str | None = None,
    columns: Sequence[str] | None = None,
    normalizer: Normalizer | None = None,
) -> NamedSamples:
    """Raw samples of ``source`` sized for a model taking ``input_shape``, with labels and item names.

    Args:
        source: Dataset name, array/table file, image folder or audio folder.
        input_shape: The model's input shape; images and spectrograms are resized to its ``(H, W)``.
        split: ``train`` or ``test`` for MNIST/Fashion-MNIST.
        data_dir: Folder of the MNIST/Fashion-MNIST files.
        max_samples: Keep a seeded random subset of at most this many samples (in source order).
        seed: Seed of that subset.
        label_column: Tables: the column holding labels (left out of the features).
        columns: Tables: the model's feature columns (:attr:`ModelBundle.feature_names`), taken by name
            in this order whatever the table's order; None: every column but the label's, in order.
        normalizer: The model's; images are moved onto the pixel range it was trained in
            (:func:`~aekit.data.normalization.rescale_to_model`: PNGs through a model of the 8×8 digits).

    Raises:
        ConfigError: ``label_column`` for a source that is not a table.
        DataError: Any loader error; a table lacking one of ``columns``; a table or array whose number
            of features is not the model's.
    """
    path = Path(source)
    image_size = tuple(input_shape[1:]) if len(input_shape) == 3 else None
    names: list[str]
    image_folder = None
    if path.is_dir() and labelled_files(path, "audio")[0]:
        loaded = load_audio_folder(path, image_size=image_size)  # type: ignore[arg-type]
        names = [str(p.relative_to(path)) for p in labelled_files(path, "audio")[0]]
    elif path.is_dir():
        loaded = load_dataset(path, image_size=image_size)  # type: ignore[arg-type]
        names = [str(p.relative_to(path)) for p in labelled_files(path, "image")[0]]
        image_folder = path.resolve()
    elif label_column is not None:
        if kind_of(path) != "table":
            tables = ", ".join(suffixes("table"))
            raise ConfigError(f"--label-column applies to tables ({tables}); got {source}")
        loaded = load_table(path, columns=columns, label_column=label_column)
        names = [f"{path.name}:{i}" for i in range(len(loaded.data))]
    else:
        size = image_size if kind_of(path) == "image" else None  # one image file, sized like a folder's
        loaded = load_dataset(str(source), split=split, data_dir=data_dir, image_size=size, columns=columns)  # type: ignore[arg-type]
        prefix = f"{path.name}" if path.exists() else f"{source}-{split}"  # a file, or a dataset name
        names = [f"{prefix}:{i}" for i in range(len(loaded.data))]
    data = loaded.data
    if len(input_shape) == 1 and data.x.dim() == 2 and data.x.shape[1] != input_shape[0]:
        raise DataError(
            f"{source} has {data.x.shape[1]} feature columns; the model takes {input_shape[0]}"
            + ("" if loaded.columns is None else " (drop the others, or name a label with --label-column)")
        )
    if max_samples is not None and max_samples < len(data):
        chosen = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:max_samples]
        chosen = chosen.sort().values
        data = data.subset(chosen)
        names = [names[int(i)] for i in chosen]
    labels = data.y if data.y is not None and data.y.dim() == 1 and not data.y.is_floating_point() else None
    x = data.x if normalizer is None else as_model_inputs(data.x, loaded, input_shape, normalizer)
    return NamedSamples(x, labels, names, loaded.class_names, loaded.columns, image_folder)


def as_model_inputs(
    x: Tensor, loaded: LoadedDataset, input_shape: tuple[int, ...], normalizer: Normalizer
) -> Tensor:
    """Raw samples ``x`` of ``loaded`` as a model of ``input_shape`` trained through ``normalizer`` takes
    them: pixels moved onto its trained range (:func:`~aekit.data.normalization.rescale_to_model`) and,
    for images, their channels matched (:func:`~aekit.data.images.match_channels`: colour through a grey
    model, and the reverse)."""
    x = rescale_to_model(x, loaded.value_range, normalizer)
    return match_channels(x, input_shape[0]) if loaded.kind == "image" and len(input_shape) == 3 else x

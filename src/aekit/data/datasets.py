"""Load datasets by name or path into a :class:`~aekit.data.loaded.LoadedDataset`.

Every loader returns float32 samples in their raw scale (pixels stay 0..255, table columns stay in
their units), int64 labels or None, and the facts the caller needs to build a
:class:`~aekit.data.normalization.Normalizer`: the known pixel range of images, the column names of
tables. Normalising is left to the caller because the fitted normaliser must be stored with the model.

Each loader rejects empty data and NaN/inf with its own message naming the source, and never unpickles
(``allow_pickle=False``), so loading a file cannot run code.
"""

from __future__ import annotations

import difflib
import math
import os
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import torch

from aekit.data.download import ensure_files
from aekit.data.idx import read_idx
from aekit.data.images import load_image_file, load_image_folder
from aekit.data.loaded import LoadedDataset, check_finite, check_size, labels_tensor
from aekit.data.tables import load_table
from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError, ShapeError
from aekit.formats.arrays import check_npz, read_npy_header
from aekit.formats.limits import check_allocation
from aekit.formats.suffixes import format_of, kind_of, suffixes

# LoadedDataset, load_table and the image loaders live in their own modules; re-exported here so that
# this module offers every loader.
__all__ = [
    "DATASET_NAMES",
    "LoadedDataset",
    "load_array",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_image_file",
    "load_image_folder",
    "load_mnist",
    "load_table",
]

Split = Literal["train", "test"]
DataDir = str | os.PathLike[str] | None

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _resize_images(x: torch.Tensor, image_size: tuple[int, int] | None) -> torch.Tensor:
    if image_size is None or tuple(x.shape[-2:]) == tuple(image_size):
        return x
    size = check_size(image_size, "image_size")
    check_allocation(
        4 * x.shape[0] * math.prod(x.shape[1:-2]) * size[0] * size[1],
        f"resizing {x.shape[0]} images to {size[1]}×{size[0]}",
    )
    # Antialiased bilinear weights are non-negative, so values stay inside the input's range.
    return torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)


# ---------------------------------------------------------------------------------------- built-in sets


def load_digits(*, image_size: tuple[int, int] | None = None) -> LoadedDataset:
    """Load scikit-learn's bundled 8×8 handwritten digits (1797 images, no download needed).

    Args:
        image_size: Resize to ``(H, W)`` (bilinear, antialiased) instead of 8×8.

    Returns:
        Images ``(1797, 1, 8, 8)`` with values 0..16, labels 0..9, ``value_range=(0, 16)``.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = torch.from_numpy(bunch.images.astype(np.float32)).unsqueeze(1)
    y = torch.from_numpy(bunch.target.astype(np.int64))
    return LoadedDataset(
        TensorData(_resize_images(x, image_size), y), "image", (0.0, 16.0), None, MNIST_CLASSES
    )


def _load_idx_pair(
    dataset: str,
    split: Split,
    data_dir: str | os.PathLike[str] | None,
    download: bool,
    class_names: tuple[str, ...],
    image_size: tuple[int, int] | None,
) -> LoadedDataset:
    if split not in ("train", "test"):
        raise ConfigError(f"split must be 'train' or 'test'; got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    images_name, labels_name = f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"
    paths = ensure_files(dataset, data_dir, download, files=(images_name, labels_name))
    images, labels = read_idx(paths[images_name]), read_idx(paths[labels_name])
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{paths[images_name]} holds shape {images.shape}; expected (N, 28, 28) images")
    if labels.ndim != 1:
        raise DataError(f"{paths[labels_name]} holds shape {labels.shape}; expected (N,) labels")
    if len(images) != len(labels):
        raise DataError(
            f"{paths[images_name]} has {len(images)} images but {paths[labels_name]} has {len(labels)} labels"
        )
    if len(images) == 0:
        raise DataError(f"{paths[images_name]} is empty (0 images)")
    x = torch.from_numpy(images).unsqueeze(1).float()
    y = torch.from_numpy(labels.astype(np.int64))
    return LoadedDataset(
        TensorData(_resize_images(x, image_size), y), "image", (0.0, 255.0), None, class_names
    )


def load_mnist(
    split: Split = "train",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    *,
    image_size: tuple[int, int] | None = None,
) -> LoadedDataset:
    """Load MNIST handwritten digits, downloading and verifying the files if needed.

    Args:
        split: ``"train"`` (60000 images) or ``"test"`` (10000).
        data_dir: Data folder (see :func:`~aekit.data.download.resolve_data_dir`); files live in its
            ``mnist`` sub-folder.
        download: Fetch missing files; when False they must be present.
        image_size: Resize to ``(H, W)`` instead of 28×28.

    Returns:
        Images ``(N, 1, 28, 28)``, float32 values 0..255, labels 0..9, ``value_range=(0, 255)``.

    Raises:
        DataError: Files missing and not downloadable, failing their checksum, corrupt, or with
            different image and label counts.
    """
    return _load_idx_pair("mnist", split, data_dir, download, MNIST_CLASSES, image_size)


def load_fashion_mnist(
    split: Split = "train",
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    *,
    image_size: tuple[int, int] | None = None,
) -> LoadedDataset:
    """Load Fashion-MNIST (Zalando article images); the same layout and contract as :func:`load_mnist`.

    Files live in the ``fashion-mnist`` sub-folder of the data folder.
    """
    return _load_idx_pair("fashion-mnist", split, data_dir, download, FASHION_MNIST_CLASSES, image_size)


# ---------------------------------------------------------------------------------------------- arrays


def load_array(path: str | os.PathLike[str]) -> LoadedDataset:
    """Load samples from a ``.npy`` file or samples and labels from a ``.npz`` archive.

    An ``.npz`` holds the samples under ``x`` (or ``X``, or as its only array) and optional labels under
    ``y`` (or ``Y``). Nothing is unpickled.

    Args:
        path: The ``.npy`` or ``.npz`` file.

    Returns:
        ``x`` as float32 with its stored shape ``(N, ...)`` (at least 2 dimensions), except that a stack
        of grey images ``(N, H, W)`` gains its channel axis, ``(N, 1, H, W)``, as image models take it
        (and so do real-valued ``y`` of the same shape: the clean images of noisy/clean pairs);
        ``value_range`` is the dtype's range for ``uint8``/``uint16`` arrays (image-like), else None.

    Raises:
        DataError: Missing, unreadable, pickled, empty, non-numeric or non-finite data, or an ``.npz``
            without an identifiable sample array.
        ShapeError: ``x`` has fewer than 2 dimensions.
    """
    path = Path(path)
    y: np.ndarray | None = None
    if not path.is_file():
        raise DataError(f"array file {path} does not exist")
    if format_of(path) == "npy":
        read_npy_header(path)  # shape, dtype and size checked before anything is allocated
    try:
        with open(path, "rb") as handle:  # closed here even when numpy gives up on a damaged archive
            loaded = np.load(handle, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    check_npz(path, loaded)
                    x, y = _npz_arrays(loaded, path)
            else:
                x = loaded
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        if isinstance(error, DataError):
            raise
        detail = (
            str(error).strip().splitlines()[0] if str(error).strip() else "the file is empty or truncated"
        )
        raise DataError(f"cannot read array file {path}: {detail}") from None
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_) or np.iscomplexobj(x):
        raise DataError(f"{path} holds dtype {x.dtype}; expected real numbers")
    if x.ndim < 2:
        raise ShapeError(f"{path} holds shape {x.shape}; expected (N, ...) with at least 2 dimensions")
    if x.size == 0:
        raise DataError(f"{path} is empty (shape {x.shape})")
    check_finite(x, str(path))
    if x.ndim == 3:  # grey images; clean images paired with them (real-valued, same shape) likewise
        if y is not None and y.shape == x.shape and np.issubdtype(y.dtype, np.floating):
            y = y[:, None]
        x = x[:, None]
    value_range = {np.dtype(np.uint8): (0.0, 255.0), np.dtype(np.uint16): (0.0, 65535.0)}.get(x.dtype)
    if y is not None and len(y) != len(x):
        raise DataError(f"{path} has {len(x)} samples in x but {len(y)} labels in y")
    labels = None if y is None else labels_tensor(y, str(path))
    return LoadedDataset(TensorData(torch.from_numpy(x.astype(np.float32)), labels), "array", value_range)


def _npz_arrays(archive: Any, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    keys = list(archive.files)
    x_key = next((k for k in ("x", "X") if k in keys), keys[0] if len(keys) == 1 else None)
    if x_key is None:
        raise DataError(
            f"{path} has arrays {keys}; expected the samples under 'x' (or 'X', or as the only array)"
        )
    y_key = next((k for k in ("y", "Y") if k in keys), None)
    return archive[x_key], None if y_key is None else archive[y_key]


# -------------------------------------------------------------------------------------------- dispatch


def _digits_source(split: Split, data_dir: DataDir, image_size: tuple[int, int] | None) -> LoadedDataset:
    if split != "train":
        raise DataError(
            f"digits has no {split!r} split, only 'train' (all 1797 images); hold data out with "
            "train_val_split"
        )
    return load_digits(image_size=image_size)


def _mnist_source(split: Split, data_dir: DataDir, image_size: tuple[int, int] | None) -> LoadedDataset:
    return load_mnist(split, data_dir, image_size=image_size)


def _fashion_source(split: Split, data_dir: DataDir, image_size: tuple[int, int] | None) -> LoadedDataset:
    return load_fashion_mnist(split, data_dir, image_size=image_size)


_NAMED: Mapping[str, Callable[[Split, DataDir, tuple[int, int] | None], LoadedDataset]] = MappingProxyType(
    {"digits": _digits_source, "mnist": _mnist_source, "fashion-mnist": _fashion_source}
)
DATASET_NAMES: tuple[str, ...] = tuple(_NAMED)
"""Names :func:`load_dataset` accepts besides paths."""

_BY_KIND: Mapping[str, Callable[[Path], LoadedDataset]] = MappingProxyType(
    {"array": load_array, "table": load_table}
)


def load_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    split: Split = "train",
    data_dir: str | os.PathLike[str] | None = None,
    image_size: tuple[int, int] | None = None,
    columns: Sequence[str] | None = None,
) -> LoadedDataset:
    """Load a dataset by name (``"digits"``, ``"mnist"``, ``"fashion-mnist"``) or by path.

    A path is loaded by its kind: a folder as images (:func:`load_image_folder`), an image file as a
    data set of that one image, ``.npy``/``.npz`` as arrays, ``.csv``/``.tsv``/``.parquet`` as tables. A
    known name wins over a same-named file in the working folder; write ``./mnist`` to mean the folder.

    Args:
        name_or_path: Dataset name or file/folder path.
        split: ``"train"`` or ``"test"`` for MNIST and Fashion-MNIST; other sources have only
            ``"train"`` (everything).
        data_dir: Where downloadable datasets live (see :func:`~aekit.data.download.resolve_data_dir`).
        image_size: Resize images to ``(H, W)``; an error for tables and arrays.
        columns: Tables: the feature columns to take by name, in this order (a saved model's
            ``feature_names``); other sources ignore it.

    Raises:
        DataError: Unknown name (with the closest match), a path that does not exist or has an
            unsupported suffix, a split the source lacks, or any loader error.
    """
    if isinstance(name_or_path, str) and name_or_path.lower().replace("_", "-") in _NAMED:
        return _NAMED[name_or_path.lower().replace("_", "-")](split, data_dir, image_size)
    path = Path(name_or_path)
    if not path.exists():
        close = difflib.get_close_matches(str(name_or_path).lower(), DATASET_NAMES, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise DataError(
            f"{str(name_or_path)!r} is neither a dataset name nor an existing path; {hint}"
            f"names: {', '.join(DATASET_NAMES)}; files: {', '.join(suffixes(*_BY_KIND, 'image'))} "
            "or a folder of images"
        )
    if split != "train":
        raise DataError(f"{path} has no {split!r} split, only 'train' (the whole file or folder)")
    if path.is_dir():
        return load_image_folder(path, size=image_size)
    if kind_of(path) == "image":
        return load_image_file(path, size=image_size)
    loader = _BY_KIND.get(kind_of(path) or "")
    if loader is None:
        raise DataError(
            f"cannot load {path}: unsupported file type; expected one of "
            f"{', '.join(suffixes(*_BY_KIND, 'image'))} or a folder of images"
        )
    if image_size is not None:
        raise ConfigError(f"image_size applies to images only; {path} is not an image or image folder")
    return load_table(path, columns=columns) if loader is load_table else loader(path)

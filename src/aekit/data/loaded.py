"""The result type every loader returns, and the checks the loaders share."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from aekit.data.tensors import TensorData
from aekit.errors import ConfigError, DataError

__all__ = ["DatasetKind", "LoadedDataset", "check_finite", "check_size", "labels_tensor"]

DatasetKind = Literal["image", "table", "array"]


@dataclasses.dataclass(frozen=True)
class LoadedDataset:
    """A loaded dataset and the facts needed to normalise and describe it.

    Attributes:
        data: Samples ``x`` (float32; images ``(N, C, H, W)``, tables ``(N, n_features)``) and labels
            ``y`` (int64 class indices, float32 targets, or None).
        kind: ``"image"``, ``"table"`` or ``"array"``.
        value_range: The known range of the raw values, e.g. ``(0, 255)`` for 8-bit images, for
            ``Normalizer.range(*value_range)``; None when only the data can tell (tables, float arrays).
        columns: Feature column names of a table, in the order of ``x``'s columns; else None.
        class_names: Name of each class index in ``y`` when known; else None.
    """

    data: TensorData
    kind: DatasetKind
    value_range: tuple[float, float] | None = None
    columns: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None


def check_finite(x: np.ndarray, source: str, what: str = "values") -> None:
    """Raise :class:`DataError` naming ``source`` and the NaN/inf counts if ``x`` is not all finite."""
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        n_nan, n_inf = int(np.isnan(x).sum()), int(np.isinf(x).sum())
        raise DataError(f"{source} contains non-finite {what} ({n_nan} NaN, {n_inf} inf); clean or drop them")


def labels_tensor(y: np.ndarray, source: str) -> torch.Tensor:
    """Integer labels become int64 class indices; real-valued targets stay float32."""
    if np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_:
        return torch.from_numpy(y.astype(np.int64))
    if np.issubdtype(y.dtype, np.floating):
        check_finite(y, source, "labels")
        return torch.from_numpy(y.astype(np.float32))
    raise DataError(f"{source} has labels of dtype {y.dtype}; expected integers or floats")


def check_size(size: Sequence[int], name: str) -> tuple[int, int]:
    """Return ``size`` as ``(height, width)``; a :class:`ConfigError` naming ``name`` if it is not."""
    if len(size) != 2 or not all(isinstance(s, int | np.integer) and s > 0 for s in size):
        raise ConfigError(f"{name} must be (height, width) with two positive integers; got {size!r}")
    return int(size[0]), int(size[1])

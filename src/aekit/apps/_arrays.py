"""Checked conversion of codes and labels (tensors or arrays) to NumPy for the latent-space apps."""

from __future__ import annotations

import numpy as np
from torch import Tensor

from aekit.errors import DataError, ShapeError

__all__ = ["ArrayLike", "checked_labels", "checked_points"]

ArrayLike = np.ndarray | Tensor


def checked_points(values: ArrayLike, name: str = "codes") -> np.ndarray:
    """``values`` as a finite float64 array ``(N, d)`` with N ≥ 1, or a one-line error naming ``name``."""
    array = values.detach().cpu().numpy() if isinstance(values, Tensor) else np.asarray(values)
    if array.ndim != 2:
        raise ShapeError(f"{name} must have shape (N, dimensions); got {tuple(array.shape)}")
    if len(array) == 0:
        raise DataError(f"{name} is empty (0 rows)")
    if not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{name} must be numeric; got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise DataError(f"{name} contains NaN or infinite values")
    return array


def checked_labels(labels: ArrayLike | None, n_rows: int, name: str = "labels") -> np.ndarray | None:
    """``labels`` as an array ``(n_rows,)``, or None when not given."""
    if labels is None:
        return None
    array = labels.detach().cpu().numpy() if isinstance(labels, Tensor) else np.asarray(labels)
    if array.shape != (n_rows,):
        raise ShapeError(f"{name} must have shape ({n_rows},); got {tuple(array.shape)}")
    return array

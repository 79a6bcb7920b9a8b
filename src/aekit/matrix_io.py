"""Read and write 2-D numeric matrices (codes, scores) as ``.npy``, ``.csv`` or ``.parquet``, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aekit.errors import DataError
from aekit.files import atomic_path

__all__ = ["read_matrix", "write_matrix"]

SUFFIXES = (".npy", ".csv", ".parquet")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")
    return suffix


def write_matrix(path: str | os.PathLike[str], matrix: np.ndarray, *, prefix: str = "c") -> None:
    """Write ``matrix`` ``(N, D)``; table formats get columns ``prefix0 … prefix{D-1}``."""
    target = Path(path)
    suffix = _suffix(target)
    with atomic_path(target) as temp:
        if suffix == ".npy":
            with open(temp, "wb") as handle:
                np.save(handle, matrix)
            return
        import pandas as pd

        frame = pd.DataFrame(matrix.reshape(len(matrix), -1), columns=[f"{prefix}{i}" for i in range(matrix[0].size)])
        if suffix == ".csv":
            frame.to_csv(temp, index=False)
        else:
            frame.to_parquet(temp, index=False)


def read_matrix(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a numeric matrix ``(N, D)`` as float32.

    Raises:
        DataError: Missing file, unsupported type, non-numeric columns, NaN, or no rows.
    """
    source = Path(path)
    suffix = _suffix(source)
    if not source.is_file():
        raise DataError(f"{source} does not exist")
    if suffix == ".npy":
        try:
            matrix = np.load(source, allow_pickle=False)
        except ValueError as error:
            raise DataError(f"{source} is not a readable .npy file: {error}") from None
    else:
        import pandas as pd

        frame = pd.read_csv(source) if suffix == ".csv" else pd.read_parquet(source)
        bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if bad:
            raise DataError(f"{source}: non-numeric columns {', '.join(map(str, bad))}")
        matrix = frame.to_numpy()
    if matrix.size == 0:
        raise DataError(f"{source} is empty")
    if not np.issubdtype(matrix.dtype, np.number):
        raise DataError(f"{source} must hold numbers; got dtype {matrix.dtype}")
    if not np.isfinite(matrix).all():
        raise DataError(f"{source} contains NaN or infinite values")
    return matrix.astype(np.float32).reshape(len(matrix), -1)

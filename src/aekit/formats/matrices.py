"""Read and write 2-D numeric matrices (codes, scores) as ``.npy`` or a table (CSV, TSV, Parquet), atomically.

Reads take ``.npy`` and every table suffix of :mod:`aekit.formats.suffixes` (gzipped CSV/TSV too); writes
take ``.npy``, ``.csv``, ``.tsv``, ``.parquet`` and ``.pq``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from aekit.errors import DataError
from aekit.formats.arrays import load_npy
from aekit.formats.files import atomic_path
from aekit.formats.suffixes import require_format
from aekit.formats.tables import read_frame

__all__ = ["MatrixWriter", "read_matrix", "write_array", "write_matrix"]


def _format(path: Path, *, writing: bool = False) -> str:
    if writing and path.name.lower().endswith(".gz"):
        raise DataError(f"{path}: matrices are written uncompressed (.npy, .csv, .tsv, .parquet)")
    return require_format(path, "npy", "table", what="a matrix file")


def _check_finite(matrix: np.ndarray, target: Path) -> None:
    if np.issubdtype(np.asarray(matrix).dtype, np.floating) and not np.isfinite(matrix).all():
        raise DataError(
            f"refusing to write {target}: the results hold NaN or infinite values (is the model broken, or "
            "are the inputs far outside the training data?)"
        )


def write_array(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` (any shape) as ``.npy`` atomically; another suffix, or NaN/inf values, are refused.

    Raises:
        DataError: The path does not end in ``.npy``, or the array holds NaN or infinite values.
    """
    from aekit.formats.files import check_output_suffix

    target = Path(path)
    check_output_suffix(target, (".npy",), "arrays")
    _check_finite(array, target)
    with atomic_path(target) as temp, open(temp, "wb") as handle:
        np.save(handle, array)


def write_matrix(path: str | os.PathLike[str], matrix: np.ndarray, *, prefix: str = "c") -> None:
    """Write ``matrix`` ``(N, D)``; table formats get columns ``prefix0 … prefix{D-1}``."""
    target = Path(path)
    fmt = _format(target, writing=True)
    _check_finite(matrix, target)
    with atomic_path(target) as temp:
        if fmt == "npy":
            with open(temp, "wb") as handle:
                np.save(handle, matrix)
            return
        import pandas as pd

        frame = pd.DataFrame(
            matrix.reshape(len(matrix), -1), columns=[f"{prefix}{i}" for i in range(matrix[0].size)]
        )
        if fmt in ("csv", "tsv"):
            frame.to_csv(temp, sep="\t" if fmt == "tsv" else ",", index=False)
        else:
            frame.to_parquet(temp, index=False)


def read_matrix(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a numeric matrix ``(N, D)`` as float32.

    Raises:
        DataError: Missing file, unsupported type, non-numeric columns, NaN, or no rows.
    """
    source = Path(path)
    fmt = _format(source)
    if not source.is_file():
        raise DataError(f"{source} does not exist")
    if fmt == "npy":
        matrix = load_npy(source)
    else:
        import pandas as pd

        frame = read_frame(source, what="matrix")
        bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if bad:
            raise DataError(f"{source}: non-numeric columns {', '.join(map(str, bad))}")
        matrix = frame.to_numpy()
    if matrix.size == 0 or matrix.ndim == 0:
        raise DataError(f"{source} is empty (shape {matrix.shape})")
    if not np.issubdtype(matrix.dtype, np.number) or np.iscomplexobj(matrix):
        raise DataError(f"{source} must hold numbers; got dtype {matrix.dtype}")
    if not np.isfinite(matrix).all():
        raise DataError(f"{source} contains NaN or infinite values")
    return matrix.astype(np.float32).reshape(len(matrix), -1)


class MatrixWriter:
    """Write a matrix chunk by chunk (bounded memory), atomically: ``.npy`` (rows known up front), ``.csv``
    or ``.parquet``. Use as a context manager; the file appears only when the block ends without error.
    """

    def __init__(
        self, path: str | os.PathLike[str], n_rows: int, n_columns: int, *, prefix: str = "c"
    ) -> None:
        self.path = Path(path)
        self.format = _format(self.path, writing=True)
        self.n_rows, self.n_columns = n_rows, n_columns
        self.columns = [f"{prefix}{i}" for i in range(n_columns)]
        self.written = 0
        self._sep = "\t" if self.format == "tsv" else ","

    def __enter__(self) -> MatrixWriter:
        self._atomic = atomic_path(self.path)
        self._temp = self._atomic.__enter__()
        self._parquet: Any = None
        self._handle: Any = None
        if self.format == "npy":
            self._handle = open(self._temp, "wb")
            header = {
                "descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                "fortran_order": False,
                "shape": (self.n_rows, self.n_columns),
            }
            np.lib.format.write_array_header_2_0(self._handle, header)
        elif self.format in ("csv", "tsv"):
            self._handle = open(self._temp, "w", encoding="utf-8")
            self._handle.write(self._sep.join(self.columns) + "\n")
        return self

    def write(self, chunk: np.ndarray) -> None:
        """Append rows ``(n, n_columns)``."""
        rows = np.ascontiguousarray(chunk, dtype=np.float32).reshape(len(chunk), -1)
        _check_finite(rows, self.path)
        if rows.shape[1] != self.n_columns:
            raise DataError(f"chunk has {rows.shape[1]} columns; the file has {self.n_columns}")
        self.written += len(rows)
        if self.format == "npy":
            rows.tofile(self._handle)
        elif self.format in ("csv", "tsv"):
            np.savetxt(self._handle, rows, delimiter=self._sep, fmt="%.9g")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.table({name: rows[:, i] for i, name in enumerate(self.columns)})
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._temp, table.schema)
            self._parquet.write_table(table)

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()
        if error is None and self.format == "npy" and self.written != self.n_rows:
            error = DataError(f"wrote {self.written} rows to {self.path}; the header promised {self.n_rows}")
            self._atomic.__exit__(DataError, error, None)
            raise error
        self._atomic.__exit__(kind, error, trace)  # type: ignore[arg-type]

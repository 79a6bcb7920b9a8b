"""Datasets from CSV/TSV and Parquet tables of numeric features (read by :mod:`aekit.formats.tables`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from aekit.data.loaded import LoadedDataset, labels_tensor
from aekit.data.tensors import TensorData
from aekit.errors import DataError
from aekit.formats.tables import read_frame

__all__ = ["load_table"]


def load_table(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    label_column: str | None = None,
) -> LoadedDataset:
    """Load a CSV/TSV (optionally gzipped) or Parquet table of numeric features.

    Args:
        path: The table file; the format follows the suffix.
        columns: Feature columns to use, in this order (default: every column but ``label_column``).
        label_column: Column holding labels: integers become class indices as they are, text becomes
            indices into the sorted distinct values (kept as ``class_names``), real numbers stay float
            targets.

    Returns:
        ``x`` of shape ``(N, n_features)`` float32, labels or None, and the feature ``columns``.

    Raises:
        DataError: Missing or unreadable file, unknown column names, a non-numeric feature column, NaN
            or inf in any used column (each naming the columns), or no rows.
        ImportError: pandas (or pyarrow, for Parquet) is not installed.
    """
    path = Path(path)
    frame = read_frame(path)
    import pandas as pd

    frame.columns = [str(c) for c in frame.columns]
    available = list(frame.columns)
    requested = ([label_column] if label_column is not None else []) + list(columns or [])
    unknown = [c for c in requested if c not in available]
    if unknown:
        raise DataError(f"{path} has no column(s) {unknown}; its columns are {available}")
    features = list(columns) if columns is not None else [c for c in available if c != label_column]
    if label_column is not None and label_column in features:
        raise DataError(
            f"label_column {label_column!r} is also listed in columns; a label cannot be a feature"
        )
    if not features:
        raise DataError(f"{path} has no feature columns left to use (columns: {available})")
    if len(frame) == 0:
        raise DataError(f"table {path} is empty (0 rows)")
    non_numeric = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        examples = ", ".join(f"{c!r} (e.g. {_first_non_number(frame[c])!r})" for c in non_numeric[:5])
        raise DataError(
            f"{path} has non-numeric feature column(s) {examples}; encode them as numbers, drop them from "
            "the table, or use one as the label column"
        )
    values = frame[features].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        counts = bad.sum(axis=0)
        named = ", ".join(f"{c!r} ({int(n)} rows)" for c, n in zip(features, counts, strict=True) if n)
        raise DataError(f"{path} has NaN or inf values in column(s) {named}; clean or drop those rows")
    labels, class_names = (None, None) if label_column is None else _table_labels(frame[label_column], path)
    x = torch.from_numpy(values.astype(np.float32))
    return LoadedDataset(TensorData(x, labels), "table", None, tuple(features), class_names)


def _first_non_number(column: Any) -> Any:
    """The first value of ``column`` that is not a number (what made pandas read it as text)."""
    import pandas as pd

    bad = pd.to_numeric(column, errors="coerce").isna() & column.notna()
    return column[bad].iloc[0] if bad.any() else column.iloc[0]


def _table_labels(series: Any, path: Path) -> tuple[torch.Tensor, tuple[str, ...] | None]:
    import pandas as pd

    if series.isna().any():
        raise DataError(f"{path} has {int(series.isna().sum())} missing labels in column {series.name!r}")
    if pd.api.types.is_numeric_dtype(series):
        return labels_tensor(series.to_numpy(), f"{path} column {series.name!r}"), None
    names = sorted(series.astype(str).unique())
    codes = pd.Categorical(series.astype(str), categories=names).codes
    return torch.from_numpy(codes.astype(np.int64)), tuple(names)
